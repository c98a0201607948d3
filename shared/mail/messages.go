package mail

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Message kinds sent by accounts. Templates are plain text: links, no tracking, no personal data
// beyond what the recipient already knows.
const (
	KindVerifyEmail     = "verify_email"
	KindSignUpExisting  = "sign_up_existing"
	KindResetPassword   = "reset_password"
	KindChangeEmail     = "change_email"
	KindEmailChanged    = "email_changed"
	KindPasswordChanged = "password_changed"

	KindLabSubmitted    = "lab_submitted"     // to site admins
	KindLabApproved     = "lab_approved"      // to the lab's admins
	KindLabJoinRequest  = "lab_join_request"  // to the lab's admins
	KindLabRoleChanged  = "lab_role_changed"  // to the researcher
	KindLabRemoved      = "lab_removed"       // to the researcher
	KindLabJoinDeclined = "lab_join_declined" // to the researcher
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

// subjectLine fits a subject around a name a user chose: one line, within MaxSubject.
func subjectLine(format, name string) string {
	name = strings.Join(strings.Fields(name), " ")
	room := MaxSubject - utf8.RuneCountInString(format) + 2
	if r := []rune(name); len(r) > room {
		name = string(r[:room-1]) + "…"
	}
	return fmt.Sprintf(format, name)
}

// LabSubmitted tells site admins that a lab waits for approval.
func LabSubmitted(lab, institution, creator, link string) Content {
	return Content{KindLabSubmitted, subjectLine("Lab Submission Notification: %s", lab), fmt.Sprintf(
		"%s created the lab %q (%s) and it is waiting for approval to test.\n\nReview it: %s\n", creator, lab, institution, link)}
}

// LabApproved tells a lab's admins that the lab may now run studies.
func LabApproved(lab, link string) Content {
	return Content{KindLabApproved, subjectLine("Lab Approval Notification: %s", lab), fmt.Sprintf(
		"Your lab %q has been approved to test: its studies can now be submitted for review and, once approved, go live.\n\n%s\n", lab, link)}
}

// LabJoinRequest tells a lab's admins that a researcher asks to join.
func LabJoinRequest(lab, researcher, link string) Content {
	return Content{KindLabJoinRequest, subjectLine("Researcher "+strings.ReplaceAll(researcher, "%", "%%")+" has requested access to %s", lab), fmt.Sprintf(
		"%s has asked to join %q. Lab admins can accept the request (and choose a role) or decline it on the lab's members page:\n\n%s\n", researcher, lab, link)}
}

// roleNames are Lookit's labels for the lab roles.
var roleNames = map[string]string{"guest": "a guest", "readonly": "a view-only member", "member": "a member", "admin": "an admin"}

// LabRoleChanged tells a researcher their role in a lab: joined (from "" or "requested"),
// made an admin, or changed.
func LabRoleChanged(lab, from, to, link string) Content {
	var subject string
	switch {
	case from == "" || from == "requested":
		subject = "You are now part of the %s lab"
	case to == "admin":
		subject = "You are now an admin of the %s lab"
	default:
		subject = "Your lab member permissions for %s have changed"
	}
	return Content{KindLabRoleChanged, subjectLine(subject, lab), fmt.Sprintf(
		"You are now %s of the lab %q on Lookit.\n\n%s\n", roleNames[to], lab, link)}
}

// LabRemoved tells a researcher they are no longer in a lab.
func LabRemoved(lab string) Content {
	return Content{KindLabRemoved, subjectLine("You have been removed from the %s lab", lab), fmt.Sprintf(
		"You are no longer a member of the lab %q on Lookit, and no longer have access to its studies.\n\nIf you think this is a mistake, reply to this email to reach the lab.\n", lab)}
}

// LabJoinDeclined tells a researcher their request to join was declined.
func LabJoinDeclined(lab string) Content {
	return Content{KindLabJoinDeclined, subjectLine("Your request to join %s", lab), fmt.Sprintf(
		"Your request to join the lab %q on Lookit was declined. Reply to this email to reach the lab.\n", lab)}
}

// Study notification kinds.
const (
	KindStudyModified   = "study_modified"    // an approved study was edited and went back to rejected
	KindStudyAccess     = "study_access"      // a researcher's group on a study changed
	KindStudyCapReached = "study_cap_reached" // max_responses reached; the study paused
)

// StudyNotice is the email of a study transition: subjectFormat has one %s for the study name.
func StudyNotice(kind, subjectFormat, study, state, actor, comments, link string) Content {
	text := fmt.Sprintf("The study %q is now %s.\n", study, state)
	if actor != "" {
		text += fmt.Sprintf("Changed by: %s\n", actor)
	}
	if strings.TrimSpace(comments) != "" {
		text += "\nComments:\n" + comments + "\n"
	}
	return Content{kind, subjectLine(subjectFormat, study), text + "\n" + link + "\n"}
}

// StudyModified tells a study's researchers that an edit took their approved study offline.
func StudyModified(study string, fields []string, link string) Content {
	return Content{KindStudyModified, subjectLine("%s was modified after approval and must be resubmitted", study), fmt.Sprintf(
		"The study %q was edited after it was approved (changed: %s), so it is no longer approved and is not open to families. Review the changes and resubmit it for approval:\n\n%s\n",
		study, strings.Join(fields, ", "), link)}
}

// StudyAccess tells a researcher their access to a study.
func StudyAccess(study, group, link string) Content {
	return Content{KindStudyAccess, subjectLine("New access granted for study %s", study), fmt.Sprintf(
		"You are now in the %s group of the study %q.\n\n%s\n", group, study, link)}
}

// StudyCapReached tells a study's researchers the study paused at its response cap.
func StudyCapReached(study string, max int, link string) Content {
	return Content{KindStudyCapReached, subjectLine("%s reached its maximum number of responses and was paused", study), fmt.Sprintf(
		"The study %q now has %d valid responses, its maximum, so it was paused and no longer accepts new participants. To collect more, raise the maximum and activate the study again:\n\n%s\n",
		study, max, link)}
}
