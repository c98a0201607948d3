package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/auth"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/passwords"
	"lookit.dev/platform/shared/postgres/db"
)

// Token lifetimes.
const (
	VerifyEmailTTL   = 48 * time.Hour
	ResetPasswordTTL = time.Hour
)

// Accounts signs people up and manages their email address and password. Every method that sends
// email stores it in the same transaction as its change (the outbox) and returns it for the
// caller to publish after commit; the retry-unsent-emails job publishes what was not.
type Accounts struct {
	Pool    *pgxpool.Pool
	From    string // EMAIL_FROM
	BaseURL string // links in emails
}

func (a *Accounts) queue(ctx context.Context, q *db.Queries, to string, c pmail.Content) (pmail.Request, error) {
	return queueEmail(ctx, q, a.From, c, "", to)
}

func (a *Accounts) link(path, token string) string {
	return strings.TrimRight(a.BaseURL, "/") + path + "?token=" + token
}

func (a *Accounts) newToken(ctx context.Context, q *db.Queries, userID int64, purpose string, newEmail *string, ttl time.Duration) (string, error) {
	tok, err := auth.NewSecret()
	if err != nil {
		return "", err
	}
	err = q.CreateEmailToken(ctx, db.CreateEmailTokenParams{TokenHash: auth.Hash(tok), UserID: userID, Purpose: purpose,
		NewEmail: newEmail, ExpiresAt: pgtype.Timestamptz{Time: time.Now().Add(ttl), Valid: true}})
	return tok, err
}

// SignUp creates an account and sends the verification email. The answer is the same whether or
// not the address already has an account; its owner gets a note instead.
func (a *Accounts) SignUp(ctx context.Context, email, password, nickname string, researcher bool) ([]pmail.Request, error) {
	email, err := accounts.NormalizeEmail("/email", email)
	if err != nil {
		return nil, err
	}
	if err := passwords.Validate("/password", password, email, researcher); err != nil {
		return nil, err
	}
	nickname = strings.TrimSpace(nickname)
	if len([]rune(nickname)) > 255 {
		return nil, apperr.Field("/nickname", "nickname must be at most 255 characters")
	}
	hash, err := passwords.Hash(password, passwords.Default)
	if err != nil {
		return nil, err
	}
	var out []pmail.Request
	err = InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		id, err := q.CreateUser(ctx, db.CreateUserParams{Email: email, PasswordHash: hash, Nickname: nickname, IsResearcher: researcher})
		if errors.Is(err, pgx.ErrNoRows) {
			r, err := a.queue(ctx, q, email, pmail.SignUpExisting(strings.TrimRight(a.BaseURL, "/")+"/login", strings.TrimRight(a.BaseURL, "/")+"/reset-password"))
			out = append(out, r)
			return err
		}
		if err != nil {
			return err
		}
		if researcher {
			if err := autoJoin(ctx, q, id); err != nil {
				return err
			}
		}
		tok, err := a.newToken(ctx, q, id, "verify_email", nil, VerifyEmailTTL)
		if err != nil {
			return err
		}
		r, err := a.queue(ctx, q, email, pmail.VerifyEmail(a.link("/verify-email", tok)))
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: sign up: %w", err)
	}
	return out, nil
}

var errBadToken = apperr.Field("/token", "this link is invalid or has expired")

// VerifyEmail consumes a verification or email-change token.
func (a *Accounts) VerifyEmail(ctx context.Context, token string) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if row, err := q.UseEmailToken(ctx, db.UseEmailTokenParams{TokenHash: auth.Hash(token), Purpose: "verify_email"}); err == nil {
			return q.MarkEmailVerified(ctx, row.UserID)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		row, err := q.UseEmailToken(ctx, db.UseEmailTokenParams{TokenHash: auth.Hash(token), Purpose: "change_email"})
		if errors.Is(err, pgx.ErrNoRows) {
			return errBadToken
		}
		if err != nil {
			return err
		}
		old, err := q.PasswordHashOf(ctx, row.UserID)
		if err != nil {
			return err
		}
		if err := q.ChangeUserEmail(ctx, db.ChangeUserEmailParams{Email: row.NewEmail, ID: row.UserID}); err != nil {
			if isUniqueViolation(err) {
				return apperr.Field("/token", "another account now uses this address")
			}
			return err
		}
		r, err := a.queue(ctx, q, old.Email, pmail.EmailChanged())
		out = append(out, r)
		return err
	})
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: verify email: %w", err)
	}
	return out, nil
}

// RequestPasswordReset emails a reset link if the address has an active account, and says
// nothing either way.
func (a *Accounts) RequestPasswordReset(ctx context.Context, email string) ([]pmail.Request, error) {
	email, err := accounts.NormalizeEmail("/email", email)
	if err != nil {
		return nil, err
	}
	var out []pmail.Request
	err = InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := q.FindUserIDByEmail(ctx, email)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !u.IsActive {
			return nil
		}
		if err != nil {
			return err
		}
		// Only the newest link works.
		if err := q.InvalidateEmailTokens(ctx, db.InvalidateEmailTokensParams{UserID: u.ID, Purpose: "reset_password"}); err != nil {
			return err
		}
		tok, err := a.newToken(ctx, q, u.ID, "reset_password", nil, ResetPasswordTTL)
		if err != nil {
			return err
		}
		r, err := a.queue(ctx, q, u.Email, pmail.ResetPassword(a.link("/reset-password", tok)))
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: password reset: %w", err)
	}
	return out, nil
}

// ResetPassword sets a new password with a reset token and ends every session of the account.
func (a *Accounts) ResetPassword(ctx context.Context, token, password string) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.UseEmailToken(ctx, db.UseEmailTokenParams{TokenHash: auth.Hash(token), Purpose: "reset_password"})
		if errors.Is(err, pgx.ErrNoRows) {
			return errBadToken
		}
		if err != nil {
			return err
		}
		u, err := q.PasswordHashOf(ctx, row.UserID)
		if err != nil {
			return err
		}
		if err := passwords.Validate("/password", password, u.Email, u.IsResearcher); err != nil {
			return err
		}
		hash, err := passwords.Hash(password, passwords.Default)
		if err != nil {
			return err
		}
		if err := q.SetPasswordHash(ctx, db.SetPasswordHashParams{ID: row.UserID, PasswordHash: hash}); err != nil {
			return err
		}
		// Following the emailed link proves the address.
		if err := q.MarkEmailVerified(ctx, row.UserID); err != nil {
			return err
		}
		if err := q.DeleteUserSessions(ctx, row.UserID); err != nil {
			return err
		}
		r, err := a.queue(ctx, q, u.Email, pmail.PasswordChanged())
		out = append(out, r)
		return err
	})
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: reset password: %w", err)
	}
	return out, nil
}

func (a *Accounts) checkPassword(ctx context.Context, q *db.Queries, userID int64, password string) (db.PasswordHashOfRow, error) {
	u, err := q.PasswordHashOf(ctx, userID)
	if err != nil {
		return u, err
	}
	ok, _, err := passwords.Check(password, u.PasswordHash)
	if err != nil && !errors.Is(err, passwords.ErrMalformed) {
		return u, err
	}
	if !ok {
		return u, apperr.Field("/current_password", "the current password is not correct")
	}
	return u, nil
}

// ChangePassword sets a new password after checking the current one, and ends every other
// session (keepSession is the current session's hash).
func (a *Accounts) ChangePassword(ctx context.Context, userID int64, keepSession []byte, current, next string) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := a.checkPassword(ctx, q, userID, current)
		if err != nil {
			return err
		}
		if err := passwords.Validate("/new_password", next, u.Email, u.IsResearcher); err != nil {
			return err
		}
		hash, err := passwords.Hash(next, passwords.Default)
		if err != nil {
			return err
		}
		if err := q.SetPasswordHash(ctx, db.SetPasswordHashParams{ID: userID, PasswordHash: hash}); err != nil {
			return err
		}
		if err := q.DeleteOtherSessions(ctx, db.DeleteOtherSessionsParams{UserID: userID, IDHash: keepSession}); err != nil {
			return err
		}
		r, err := a.queue(ctx, q, u.Email, pmail.PasswordChanged())
		out = append(out, r)
		return err
	})
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: change password: %w", err)
	}
	return out, nil
}

// RequestEmailChange sends a confirmation link to the new address; the address changes (and is
// verified) when the link is followed.
func (a *Accounts) RequestEmailChange(ctx context.Context, userID int64, password, newEmail string) ([]pmail.Request, error) {
	newEmail, err := accounts.NormalizeEmail("/new_email", newEmail)
	if err != nil {
		return nil, err
	}
	var out []pmail.Request
	err = InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := a.checkPassword(ctx, q, userID, password)
		if err != nil {
			return err
		}
		if strings.EqualFold(u.Email, newEmail) {
			return apperr.Field("/new_email", "this is already your address")
		}
		if err := q.InvalidateEmailTokens(ctx, db.InvalidateEmailTokensParams{UserID: userID, Purpose: "change_email"}); err != nil {
			return err
		}
		tok, err := a.newToken(ctx, q, userID, "change_email", &newEmail, VerifyEmailTTL)
		if err != nil {
			return err
		}
		r, err := a.queue(ctx, q, newEmail, pmail.ChangeEmail(a.link("/verify-email", tok)))
		out = append(out, r)
		return err
	})
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: change email: %w", err)
	}
	return out, nil
}
