package mail

import "fmt"

// Message kinds sent by accounts. Templates are plain text: links, no tracking, no personal data
// beyond what the recipient already knows.
const (
	KindVerifyEmail     = "verify_email"
	KindSignUpExisting  = "sign_up_existing"
	KindResetPassword   = "reset_password"
	KindChangeEmail     = "change_email"
	KindEmailChanged    = "email_changed"
	KindPasswordChanged = "password_changed"
)

// Content is the subject and body of one email.
type Content struct {
	Kind    string
	Subject string
	Text    string
}

// VerifyEmail asks a new user to confirm their address.
func VerifyEmail(link string) Content {
	return Content{KindVerifyEmail, "Confirm your email address", fmt.Sprintf(
		"Welcome to Lookit!\n\nPlease confirm your email address by opening this link within 48 hours:\n\n%s\n\nIf you did not sign up, you can ignore this email.\n", link)}
}

// SignUpExisting tells the owner of an address that someone tried to sign up with it, without
// revealing to the person signing up that the address has an account.
func SignUpExisting(loginLink, resetLink string) Content {
	return Content{KindSignUpExisting, "You already have a Lookit account", fmt.Sprintf(
		"Someone (hopefully you) tried to create a Lookit account with this email address, which already has one.\n\nLog in: %s\nForgot your password? %s\n\nIf it was not you, you can ignore this email.\n", loginLink, resetLink)}
}

// ResetPassword sends a single-use link to choose a new password.
func ResetPassword(link string) Content {
	return Content{KindResetPassword, "Reset your Lookit password", fmt.Sprintf(
		"To choose a new password, open this link within one hour:\n\n%s\n\nIf you did not ask to reset your password, you can ignore this email; your password has not changed.\n", link)}
}

// ChangeEmail asks the new address to confirm an email change.
func ChangeEmail(link string) Content {
	return Content{KindChangeEmail, "Confirm your new email address", fmt.Sprintf(
		"To use this address for your Lookit account, open this link within 48 hours:\n\n%s\n\nIf you did not ask for this, you can ignore this email.\n", link)}
}

// EmailChanged tells the old address that the account's email changed.
func EmailChanged() Content {
	return Content{KindEmailChanged, "Your Lookit email address was changed", "The email address of your Lookit account was just changed and this address will no longer receive email from Lookit.\n\nIf you did not do this, reply to this email right away.\n"}
}

// PasswordChanged tells a user their password changed.
func PasswordChanged() Content {
	return Content{KindPasswordChanged, "Your Lookit password was changed", "The password of your Lookit account was just changed, and every other session was logged out.\n\nIf you did not do this, reset your password right away.\n"}
}
