package postgres_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

var tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

func tokenIn(t *testing.T, reqs []mail.Request, kind string) string {
	t.Helper()
	for _, r := range reqs {
		if r.Kind == kind {
			if m := tokenRE.FindStringSubmatch(r.Text); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no %s email with a token in %+v", kind, reqs)
	return ""
}

// Every email is in the outbox (email_messages, pending) when the change commits.
func inOutbox(t *testing.T, a *postgres.Accounts, reqs []mail.Request) {
	t.Helper()
	for _, r := range reqs {
		var status string
		if err := a.Pool.QueryRow(context.Background(), `SELECT status FROM email_messages WHERE id = $1`, r.ID).Scan(&status); err != nil || status != "pending" {
			t.Fatalf("email %s (%s) not in the outbox: %q %v", r.ID, r.Kind, status, err)
		}
	}
}

func TestSignUpVerifyAndNoEnumeration(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	a := &postgres.Accounts{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	email := "new-" + uuid.NewString()[:8] + "@example.org"
	reqs, err := a.SignUp(ctx, email, "a long enough password", "Pat", false)
	if err != nil {
		t.Fatal(err)
	}
	inOutbox(t, a, reqs)
	tok := tokenIn(t, reqs, mail.KindVerifyEmail)
	if reqs[0].To[0] != email {
		t.Fatalf("verification sent to %v", reqs[0].To)
	}
	// Signing up again with the same address (any case) answers the same, creates nothing and
	// tells the owner instead.
	again, err := a.SignUp(ctx, "NEW"+email[3:], "another long password", "", false)
	if err != nil || len(again) != 1 || again[0].Kind != mail.KindSignUpExisting {
		t.Fatalf("second sign-up: %+v %v", again, err)
	}
	if _, err := a.VerifyEmail(ctx, tok); err != nil {
		t.Fatalf("verify: %v", err)
	}
	var verified bool
	_ = pool.QueryRow(ctx, `SELECT email_verified_at IS NOT NULL FROM users WHERE email = $1`, email).Scan(&verified)
	if !verified {
		t.Fatal("email not verified")
	}
	if _, err := a.VerifyEmail(ctx, tok); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a verification token worked twice: %v", err)
	}
	for _, c := range []struct{ email, password, field string }{
		{"not an address", "a long enough password", "/email"},
		{"Pat <x@example.org>", "a long enough password", "/email"},
		{"short@example.org", "short", "/password"},
		{"same@example.org", "same@example.org", "/password"},
	} {
		_, err := a.SignUp(ctx, c.email, c.password, "", false)
		if e := apperr.As(err); e.Code != apperr.Invalid || e.Field != c.field {
			t.Errorf("SignUp(%q, %q) = %v, want invalid %s", c.email, c.password, err, c.field)
		}
	}
	// Researchers need 16 characters.
	if _, err := a.SignUp(ctx, "r-"+email, "fifteen chars!!", "", true); apperr.As(err).Field != "/password" {
		t.Fatalf("researcher with a 15-character password: %v", err)
	}
}

func TestPasswordResetIsSingleUseAndEndsSessions(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	a := &postgres.Accounts{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	email := "reset-" + uuid.NewString()[:8] + "@example.org"
	if _, err := a.SignUp(ctx, email, "the first password", "", false); err != nil {
		t.Fatal(err)
	}
	auth := &postgres.Auth{Pool: pool}
	l, err := auth.Login(ctx, email, "the first password", "192.0.2.50", "")
	if err != nil {
		t.Fatal(err)
	}
	if reqs, err := a.RequestPasswordReset(ctx, "nobody-"+email); err != nil || len(reqs) != 0 {
		t.Fatalf("reset for an unknown address: %v %v (must send nothing, say nothing)", reqs, err)
	}
	first, err := a.RequestPasswordReset(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := a.RequestPasswordReset(ctx, email)
	old, tok := tokenIn(t, first, mail.KindResetPassword), tokenIn(t, second, mail.KindResetPassword)
	if _, err := a.ResetPassword(ctx, old, "the second password"); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("an older reset link still works: %v", err)
	}
	if _, err := a.ResetPassword(ctx, tok, "short"); apperr.As(err).Field != "/password" {
		t.Fatalf("weak password: %v", err)
	}
	// A rejected password does not use the token up: its transaction rolled back.
	reqs, err := a.ResetPassword(ctx, tok, "the second password")
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
	inOutbox(t, a, reqs)
	if _, ok, _ := auth.FindSession(ctx, l.SessionKey); ok {
		t.Fatal("a session survived a password reset")
	}
	if _, err := auth.Login(ctx, email, "the second password", "192.0.2.50", ""); err != nil {
		t.Fatalf("log-in with the new password: %v", err)
	}
	if _, err := a.ResetPassword(ctx, tok, "the third password!"); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a reset token worked twice: %v", err)
	}
}

func TestChangeEmailNeedsTheNewAddressAndPassword(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	a := &postgres.Accounts{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	email := "change-" + uuid.NewString()[:8] + "@example.org"
	_, _ = a.SignUp(ctx, email, "the password here", "", false)
	var id int64
	_ = pool.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&id)
	if _, err := a.RequestEmailChange(ctx, id, "wrong password", "new-"+email); apperr.As(err).Field != "/current_password" {
		t.Fatalf("wrong password: %v", err)
	}
	reqs, err := a.RequestEmailChange(ctx, id, "the password here", "new-"+email)
	if err != nil || reqs[0].To[0] != "new-"+email {
		t.Fatalf("change request: %+v %v", reqs, err)
	}
	var still string
	_ = pool.QueryRow(ctx, `SELECT email FROM users WHERE id = $1`, id).Scan(&still)
	if still != email {
		t.Fatal("the address changed before the new address confirmed")
	}
	done, err := a.VerifyEmail(ctx, tokenIn(t, reqs, mail.KindChangeEmail))
	if err != nil || len(done) != 1 || done[0].To[0] != email || done[0].Kind != mail.KindEmailChanged {
		t.Fatalf("confirm: %+v %v (the old address must be told)", done, err)
	}
	_ = pool.QueryRow(ctx, `SELECT email FROM users WHERE id = $1`, id).Scan(&still)
	if still != "new-"+email {
		t.Fatalf("address is %s after confirmation", still)
	}
}

func TestChangePasswordKeepsOnlyTheCurrentSession(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	a := &postgres.Accounts{Pool: pool, From: "bot@example.org", BaseURL: "https://x"}
	email := "pw-" + uuid.NewString()[:8] + "@example.org"
	_, _ = a.SignUp(ctx, email, "the old password", "", false)
	auth := &postgres.Auth{Pool: pool}
	here, _ := auth.Login(ctx, email, "the old password", "192.0.2.60", "")
	there, _ := auth.Login(ctx, email, "the old password", "192.0.2.61", "")
	s, _, _ := auth.FindSession(ctx, here.SessionKey)
	if _, err := a.ChangePassword(ctx, s.UserID, s.Hash(), "the old password", "the new password"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := auth.FindSession(ctx, here.SessionKey); !ok {
		t.Fatal("the current session ended")
	}
	if _, ok, _ := auth.FindSession(ctx, there.SessionKey); ok {
		t.Fatal("another session survived the password change")
	}
}

func TestRetryUnsentEmailsRepublishesTheOutbox(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	id := uuid.NewString()
	if _, err := pool.Exec(ctx, `INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text, created_at)
		VALUES ($1, 'test', 'bot@example.org', '{a@example.org}', 's', 't', now() - interval '20 minutes')`, id); err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	j := postgres.NewJobs(pool, func(context.Context) (eventsPublisher, error) { return pub, nil })
	if _, err := j.Run(ctx, "retry-1", jobsRequest("retry-unsent-emails")); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range pub.messages {
		found = found || contains(m, id)
	}
	if !found {
		t.Fatalf("the stored email %s was not republished: %v", id, pub.messages)
	}
}
