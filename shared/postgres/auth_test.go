package postgres_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/passwords"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/totp"
)

var cheap = passwords.Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func newUser(t *testing.T, pool *pgxpool.Pool, hash string, researcher bool) (int64, string) {
	t.Helper()
	email := "User-" + uuid.NewString()[:8] + "@Example.org"
	var id int64
	if err := pool.QueryRow(context.Background(), `INSERT INTO users (email, password_hash, is_researcher) VALUES ($1, $2, $3) RETURNING id`,
		email, hash, researcher).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id, email
}

func TestLoginSucceedsCaseInsensitivelyAndOpensASession(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h, _ := passwords.Hash("correct horse battery", cheap)
	id, email := newUser(t, pool, h, false)
	a := &postgres.Auth{Pool: pool}
	l, err := a.Login(ctx, strings.ToUpper(email), "correct horse battery", "192.0.2.1", "test-agent")
	if err != nil {
		t.Fatal(err)
	}
	if l.UserID != id || l.SessionKey == "" || l.CSRFToken == "" || l.NeedsTwoFactor {
		t.Fatalf("login %+v", l)
	}
	if d := time.Until(l.Expires); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("session lasts %s, want a day", d)
	}
	s, ok, err := a.FindSession(ctx, l.SessionKey)
	if err != nil || !ok || s.UserID != id || s.CSRFToken != l.CSRFToken {
		t.Fatalf("FindSession: %+v %v %v", s, ok, err)
	}
	// The database holds a hash, never the key.
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id_hash = convert_to($1, 'UTF8')`, l.SessionKey).Scan(&n)
	if n != 0 {
		t.Fatal("session key stored in the clear")
	}
	if err := a.Logout(ctx, l.SessionKey); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.FindSession(ctx, l.SessionKey); ok {
		t.Fatal("session alive after log-out")
	}
	// Weaker argon2 parameters are upgraded on log-in.
	var stored string
	_ = pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&stored)
	if !strings.Contains(stored, fmt.Sprintf("m=%d,", passwords.Default.Memory)) {
		t.Fatalf("hash with weak parameters not upgraded: %s", stored)
	}
}

func TestLoginFailuresAreGenericAndThrottled(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h, _ := passwords.Hash("right password", cheap)
	_, email := newUser(t, pool, h, false)
	a := &postgres.Auth{Pool: pool}
	_, errWrong := a.Login(ctx, email, "wrong password", "192.0.2.2", "")
	_, errUnknown := a.Login(ctx, "nobody-"+uuid.NewString()+"@example.org", "whatever", "192.0.2.2", "")
	if apperr.CodeOf(errWrong) != apperr.Unauthenticated || errWrong.Error() != errUnknown.Error() {
		t.Fatalf("wrong password %q vs unknown address %q: the messages must be the same", errWrong, errUnknown)
	}
	for i := 0; i < 8; i++ {
		_, _ = a.Login(ctx, email, "wrong password", fmt.Sprintf("192.0.2.%d", 10+i), "")
	}
	// Ten failures lock the account, from any address, even with the right password.
	_, err := a.Login(ctx, email, "wrong password", "198.51.100.1", "")
	if apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("10th failure: %v", err)
	}
	if _, err := a.Login(ctx, email, "right password", "198.51.100.2", ""); apperr.CodeOf(err) != apperr.RateLimited {
		t.Fatalf("locked account accepted a log-in: %v", err)
	}
}

// A hash made by Django's PBKDF2-SHA256 (computed here independently) logs in and is replaced
// by an argon2id hash.
func TestDjangoHashLogsInAndIsRehashed(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	salt, iter := "lookitsalt01234567", 1000
	key, err := pbkdf2.Key(sha256.New, "imported-password", []byte(salt), iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	django := fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iter, salt, base64.StdEncoding.EncodeToString(key))
	id, email := newUser(t, pool, django, false)
	a := &postgres.Auth{Pool: pool}
	if _, err := a.Login(ctx, email, "imported-password", "192.0.2.3", ""); err != nil {
		t.Fatalf("Django hash: %v", err)
	}
	var stored string
	_ = pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&stored)
	if !strings.HasPrefix(stored, "$argon2id$") {
		t.Fatalf("not rehashed: %s", stored)
	}
	if _, err := a.Login(ctx, email, "imported-password", "192.0.2.3", ""); err != nil {
		t.Fatalf("log-in after rehash: %v", err)
	}
}

func TestResearcherTwoFactor(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h, _ := passwords.Hash("researcher password", cheap)
	id, email := newUser(t, pool, h, true)
	a := &postgres.Auth{Pool: pool}
	l, err := a.Login(ctx, email, "researcher password", "192.0.2.4", "")
	if err != nil || !l.NeedsTwoFactor || !l.NeedsTOTPSetup {
		t.Fatalf("researcher without TOTP: %+v %v", l, err)
	}
	s, _, _ := a.FindSession(ctx, l.SessionKey)
	if err := a.VerifyTwoFactor(ctx, s, "123456"); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("2FA without a device: %v", err)
	}
	secret, _ := totp.GenerateSecret()
	codes, _ := totp.NewRecoveryCodes(10)
	if _, err := pool.Exec(ctx, `INSERT INTO totp_devices (user_id, secret, activated_at) VALUES ($1, $2, now())`, id, secret); err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if _, err := pool.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)`, id, totp.HashRecoveryCode(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.VerifyTwoFactor(ctx, s, "000000x"); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("bad code: %v", err)
	}
	code, _ := totp.Code(secret, time.Now())
	if err := a.VerifyTwoFactor(ctx, s, code); err != nil {
		t.Fatalf("valid code: %v", err)
	}
	if s2, _, _ := a.FindSession(ctx, l.SessionKey); !s2.TwoFactor {
		t.Fatal("session not marked as two-factor")
	}
	// The same code cannot be used twice, even in another session.
	l2, _ := a.Login(ctx, email, "researcher password", "192.0.2.4", "")
	s2, _, _ := a.FindSession(ctx, l2.SessionKey)
	if err := a.VerifyTwoFactor(ctx, s2, code); err == nil {
		t.Fatal("a TOTP code was accepted twice")
	}
	// A recovery code works once.
	if err := a.VerifyTwoFactor(ctx, s2, strings.ToUpper(codes[3])); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	l3, _ := a.Login(ctx, email, "researcher password", "192.0.2.4", "")
	s3, _, _ := a.FindSession(ctx, l3.SessionKey)
	if err := a.VerifyTwoFactor(ctx, s3, codes[3]); err == nil {
		t.Fatal("a recovery code was accepted twice")
	}
	sub, err := a.Subject(ctx, id, true, false, true, authz.ScopeSession)
	if err != nil || !sub.SecondFactor || !sub.Researcher {
		t.Fatalf("subject %+v %v", sub, err)
	}
}

func TestTwoFactorAttemptsAreLimited(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h, _ := passwords.Hash("pw", cheap)
	id, email := newUser(t, pool, h, true)
	secret, _ := totp.GenerateSecret()
	_, _ = pool.Exec(ctx, `INSERT INTO totp_devices (user_id, secret, activated_at) VALUES ($1, $2, now())`, id, secret)
	a := &postgres.Auth{Pool: pool}
	l, _ := a.Login(ctx, email, "pw", "192.0.2.5", "")
	s, _, _ := a.FindSession(ctx, l.SessionKey)
	for i := 0; i < 5; i++ {
		_ = a.VerifyTwoFactor(ctx, s, "999999")
	}
	code, _ := totp.Code(secret, time.Now())
	if err := a.VerifyTwoFactor(ctx, s, code); apperr.CodeOf(err) != apperr.RateLimited {
		t.Fatalf("after 5 failures a valid code gave %v, want rate limited", err)
	}
}

func TestAPITokens(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	id, _ := newUser(t, pool, "", true)
	a := &postgres.Auth{Pool: pool}
	key, _, err := a.CreateToken(ctx, id, "analysis script", authz.ScopeRead, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok, err := a.FindToken(ctx, key)
	if err != nil || !ok || tok.UserID != id || tok.Scope != authz.ScopeRead || !tok.Researcher {
		t.Fatalf("FindToken: %+v %v %v", tok, ok, err)
	}
	if _, ok, _ := a.FindToken(ctx, key+"x"); ok {
		t.Fatal("a changed key was accepted")
	}
	if _, _, err := a.CreateToken(ctx, id, "analysis script", authz.ScopeRead, time.Hour); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("duplicate name: %v", err)
	}
	for _, c := range []struct {
		name  string
		scope authz.Scope
		ttl   time.Duration
	}{{"", authz.ScopeRead, time.Hour}, {"x", "admin", time.Hour}, {"y", authz.ScopeRead, 400 * 24 * time.Hour}} {
		if _, _, err := a.CreateToken(ctx, id, c.name, c.scope, c.ttl); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("CreateToken(%q, %q, %s) = %v, want invalid", c.name, c.scope, c.ttl, err)
		}
	}
}
