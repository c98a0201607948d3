package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/auth"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/passwords"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/totp"
)

// Session lengths, as Lookit: one day, stretched to four while a family takes part in a study.
const (
	SessionTTL       = 24 * time.Hour
	ParticipationTTL = 4 * 24 * time.Hour
)

// Throttling: counters live in PostgreSQL so that they hold across function instances.
const (
	throttleWindow      = 15 * time.Minute
	throttleLock        = 15 * time.Minute
	maxAccountFailures  = 10  // per email address per window
	maxAddressFailures  = 100 // per client address per window
	maxTwoFactorFailure = 5   // per user per window
)

// errBadLogin is the one message every failed log-in gets, so that it never reveals whether an
// address has an account or which part was wrong.
var errBadLogin = apperr.New(apperr.Unauthenticated, "email or password is incorrect")

var errThrottled = apperr.New(apperr.RateLimited, "too many failed attempts; try again in 15 minutes")

// Auth logs people in and keeps their sessions and API tokens.
type Auth struct {
	Pool *pgxpool.Pool
}

// Login is a successful password log-in.
type Login struct {
	UserID     int64
	SessionKey string // the sessionid cookie
	CSRFToken  string // the csrftoken cookie
	Expires    time.Time
	// Researchers must complete TOTP before any researcher action; NeedsTOTPSetup says they
	// have no activated device yet.
	NeedsTwoFactor bool
	NeedsTOTPSetup bool
}

// dummyHash is verified against when no account exists, so a failed log-in takes as long for an
// unknown address as for a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := passwords.Hash("not a real password", passwords.Default)
	return h
})

func throttleKeys(email, clientAddr string) (account, address string) {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "account:" + hex.EncodeToString(sum[:]), "ip:" + clientAddr
}

func interval(d time.Duration) pgtype.Interval {
	return pgtype.Interval{Microseconds: d.Microseconds(), Valid: true}
}

// locked reports whether key is locked now.
func locked(ctx context.Context, q *db.Queries, key string) (bool, error) {
	st, err := q.ThrottleState(ctx, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.LockedUntil.Valid && st.LockedUntil.Time.After(time.Now()), nil
}

// fail counts a failure against key and locks it at limit.
func fail(ctx context.Context, q *db.Queries, key string, limit int32) error {
	n, err := q.RecordLoginFailure(ctx, db.RecordLoginFailureParams{Key: key, Period: interval(throttleWindow)})
	if err != nil {
		return err
	}
	if n >= limit {
		return q.LockThrottle(ctx, db.LockThrottleParams{Key: key, LockFor: interval(throttleLock)})
	}
	return nil
}

// Login checks email and password and opens a session. clientAddr is the client's address as
// the load balancer reports it; userAgent is kept (truncated) so people can recognise sessions.
func (a *Auth) Login(ctx context.Context, email, password, clientAddr, userAgent string) (Login, error) {
	q := db.New(a.Pool)
	accountKey, addressKey := throttleKeys(email, clientAddr)
	for _, k := range []string{accountKey, addressKey} {
		l, err := locked(ctx, q, k)
		if err != nil {
			return Login{}, fmt.Errorf("postgres: throttle: %w", err)
		}
		if l {
			return Login{}, errThrottled
		}
	}
	u, err := q.FindUserForLogin(ctx, strings.TrimSpace(email))
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Login{}, fmt.Errorf("postgres: find user: %w", err)
	}
	stored := dummyHash()
	if found && u.PasswordHash != "" {
		stored = u.PasswordHash
	}
	ok, rehash, err := passwords.Check(password, stored)
	if err != nil && !errors.Is(err, passwords.ErrMalformed) {
		return Login{}, fmt.Errorf("postgres: check password: %w", err)
	}
	if !found || !ok || !u.IsActive {
		if err := fail(ctx, q, accountKey, maxAccountFailures); err != nil {
			return Login{}, fmt.Errorf("postgres: throttle: %w", err)
		}
		if err := fail(ctx, q, addressKey, maxAddressFailures); err != nil {
			return Login{}, fmt.Errorf("postgres: throttle: %w", err)
		}
		return Login{}, errBadLogin
	}
	out := Login{UserID: u.ID, NeedsTwoFactor: u.IsResearcher, NeedsTOTPSetup: u.IsResearcher && !u.TotpActive}
	err = InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.ClearThrottle(ctx, accountKey); err != nil {
			return err
		}
		if rehash {
			h, err := passwords.Hash(password, passwords.Default)
			if err != nil {
				return err
			}
			if err := q.SetPasswordHash(ctx, db.SetPasswordHashParams{ID: u.ID, PasswordHash: h}); err != nil {
				return err
			}
		}
		if err := q.RecordLogin(ctx, u.ID); err != nil {
			return err
		}
		var err error
		out.SessionKey, out.CSRFToken, out.Expires, err = createSession(ctx, q, u.ID, userAgent)
		return err
	})
	if err != nil {
		return Login{}, fmt.Errorf("postgres: log in: %w", err)
	}
	return out, nil
}

func createSession(ctx context.Context, q *db.Queries, userID int64, userAgent string) (key, csrf string, expires time.Time, err error) {
	if key, err = auth.NewSecret(); err != nil {
		return "", "", time.Time{}, err
	}
	if csrf, err = auth.NewSecret(); err != nil {
		return "", "", time.Time{}, err
	}
	expires = time.Now().Add(SessionTTL)
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	err = q.CreateSession(ctx, db.CreateSessionParams{
		IDHash: auth.Hash(key), UserID: userID, CsrfToken: csrf,
		ExpiresAt: pgtype.Timestamptz{Time: expires, Valid: true}, UserAgent: strings.ToValidUTF8(userAgent, ""),
	})
	return key, csrf, expires, err
}

// Session is a live session and its user.
type Session struct {
	UserID       int64
	UserUUID     string
	CSRFToken    string
	TwoFactor    bool
	Expires      time.Time
	Researcher   bool
	SiteAdmin    bool
	hash         []byte
	lastSeenTime time.Time
}

// FindSession returns the live session for a sessionid cookie, or ok=false.
func (a *Auth) FindSession(ctx context.Context, key string) (s Session, ok bool, err error) {
	h := auth.Hash(key)
	row, err := db.New(a.Pool).FindSession(ctx, h)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, fmt.Errorf("postgres: find session: %w", err)
	}
	if !row.IsActive {
		return Session{}, false, nil
	}
	return Session{
		UserID: row.UserID, UserUUID: row.UserUuid, CSRFToken: row.CsrfToken, TwoFactor: row.TwoFactorAt.Valid,
		Expires: row.ExpiresAt.Time, Researcher: row.IsResearcher, SiteAdmin: row.IsSiteAdmin,
		hash: h, lastSeenTime: row.LastSeenAt.Time,
	}, true, nil
}

// Extend keeps a session alive for at least ttl from now (ParticipationTTL while a family takes
// part in a study). It writes at most every five minutes per session.
func (a *Auth) Extend(ctx context.Context, s Session, ttl time.Duration) error {
	until := time.Now().Add(ttl)
	if time.Since(s.lastSeenTime) < 5*time.Minute && !until.After(s.Expires.Add(5*time.Minute)) {
		return nil
	}
	return db.New(a.Pool).TouchSession(ctx, db.TouchSessionParams{IDHash: s.hash, ExpiresAt: pgtype.Timestamptz{Time: until, Valid: true}})
}

// Logout ends the session of key.
func (a *Auth) Logout(ctx context.Context, key string) error {
	if err := db.New(a.Pool).DeleteSession(ctx, auth.Hash(key)); err != nil {
		return fmt.Errorf("postgres: log out: %w", err)
	}
	return nil
}

// VerifyTwoFactor completes a researcher's log-in with a TOTP code or an unused recovery code.
func (a *Auth) VerifyTwoFactor(ctx context.Context, s Session, code string) error {
	key := fmt.Sprintf("2fa:%d", s.UserID)
	q := db.New(a.Pool)
	if l, err := locked(ctx, q, key); err != nil {
		return fmt.Errorf("postgres: throttle: %w", err)
	} else if l {
		return errThrottled
	}
	verified := false
	err := InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		dev, err := q.FindTOTP(ctx, s.UserID)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !dev.ActivatedAt.Valid {
			return apperr.New(apperr.Conflict, "set up an authenticator app first")
		}
		if err != nil {
			return err
		}
		if step, ok := totp.Verify(dev.Secret, code, time.Now(), dev.LastUsedStep); ok {
			if err := q.UseTOTPStep(ctx, db.UseTOTPStepParams{UserID: s.UserID, LastUsedStep: step}); err != nil {
				return err
			}
			verified = true
		} else if n, err := q.UseRecoveryCode(ctx, db.UseRecoveryCodeParams{UserID: s.UserID, CodeHash: totp.HashRecoveryCode(code)}); err != nil {
			return err
		} else {
			verified = n == 1
		}
		if !verified {
			return nil
		}
		if err := q.ClearThrottle(ctx, key); err != nil {
			return err
		}
		return q.MarkSessionTwoFactor(ctx, s.hash)
	})
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return err
		}
		return fmt.Errorf("postgres: two-factor: %w", err)
	}
	if !verified {
		if err := fail(ctx, q, key, maxTwoFactorFailure); err != nil {
			return fmt.Errorf("postgres: throttle: %w", err)
		}
		return apperr.New(apperr.Unauthenticated, "the code is not valid")
	}
	return nil
}

// Subject builds the authorization subject of a user: their flags and lab roles. (Study
// groups join when studies land.)
func (a *Auth) Subject(ctx context.Context, userID int64, researcher, siteAdmin, twoFactor bool, scope authz.Scope) (authz.Subject, error) {
	s := authz.Subject{UserID: userID, Researcher: researcher, SiteAdmin: siteAdmin, SecondFactor: twoFactor, Scope: scope}
	if !researcher {
		return s, nil
	}
	rows, err := db.New(a.Pool).UserMemberships(ctx, userID)
	if err != nil {
		return authz.Subject{}, fmt.Errorf("postgres: memberships: %w", err)
	}
	s.Labs = make(map[int64]authz.LabRole, len(rows))
	for _, r := range rows {
		s.Labs[r.LabID] = authz.LabRole(r.Role)
	}
	groups, err := db.New(a.Pool).UserStudyGroups(ctx, userID)
	if err != nil {
		return authz.Subject{}, fmt.Errorf("postgres: study groups: %w", err)
	}
	s.Studies = make(map[int64]authz.StudyGroup, len(groups))
	for _, g := range groups {
		s.Studies[g.StudyID] = authz.StudyGroup(g.Grp)
	}
	return s, nil
}

// Token is an API token found by its key.
type Token struct {
	UserID     int64
	Scope      authz.Scope
	Researcher bool
	SiteAdmin  bool
}

// FindToken returns the live token of key, or ok=false.
func (a *Auth) FindToken(ctx context.Context, key string) (Token, bool, error) {
	if auth.ParseAPIKey(key) != nil {
		return Token{}, false, nil
	}
	q := db.New(a.Pool)
	row, err := q.FindAPIToken(ctx, auth.Hash(key))
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, false, nil
	}
	if err != nil {
		return Token{}, false, fmt.Errorf("postgres: find token: %w", err)
	}
	if !row.IsActive {
		return Token{}, false, nil
	}
	if err := q.TouchAPIToken(ctx, row.ID); err != nil {
		return Token{}, false, fmt.Errorf("postgres: touch token: %w", err)
	}
	return Token{UserID: row.UserID, Scope: authz.Scope(row.Scope), Researcher: row.IsResearcher, SiteAdmin: row.IsSiteAdmin}, true, nil
}

// CreateToken makes an API token and returns its key, shown to the user once.
func (a *Auth) CreateToken(ctx context.Context, userID int64, name string, scope authz.Scope, ttl time.Duration) (key, uuid string, err error) {
	if scope != authz.ScopeRead && scope != authz.ScopeReadWrite {
		return "", "", apperr.Field("/scope", "scope must be read or read-write")
	}
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return "", "", apperr.Field("/name", "name must be 1 to 100 characters")
	}
	if ttl <= 0 || ttl > 366*24*time.Hour {
		return "", "", apperr.Field("/expires_in_days", "tokens last from 1 to 366 days")
	}
	key, prefix, err := auth.NewAPIKey()
	if err != nil {
		return "", "", err
	}
	row, err := db.New(a.Pool).CreateAPIToken(ctx, db.CreateAPITokenParams{
		UserID: userID, Name: name, Prefix: prefix, KeyHash: auth.Hash(key), Scope: string(scope),
		ExpiresAt: pgtype.Timestamptz{Time: time.Now().Add(ttl), Valid: true},
	})
	if isUniqueViolation(err) {
		return "", "", apperr.Field("/name", "you already have a token with this name")
	}
	if err != nil {
		return "", "", fmt.Errorf("postgres: create token: %w", err)
	}
	return key, row.Uuid, nil
}

// Enrolment is a new, not yet activated TOTP device.
type Enrolment struct {
	Secret string
	URI    string // otpauth:// URI for authenticator apps (the SPA draws its QR code)
}

// StartTOTP creates (or replaces a pending) TOTP secret. An activated device can only be
// replaced from a two-factor session (replaceActive).
func (a *Auth) StartTOTP(ctx context.Context, userID int64, issuer, account string, replaceActive bool) (Enrolment, error) {
	secret, err := totp.GenerateSecret()
	if err != nil {
		return Enrolment{}, err
	}
	n, err := db.New(a.Pool).StartTOTPEnrolment(ctx, db.StartTOTPEnrolmentParams{UserID: userID, Secret: secret, ReplaceActive: replaceActive})
	if err != nil {
		return Enrolment{}, fmt.Errorf("postgres: start totp: %w", err)
	}
	if n == 0 {
		return Enrolment{}, apperr.New(apperr.Conflict, "an authenticator is already set up; complete two-factor authentication to replace it")
	}
	return Enrolment{Secret: secret, URI: totp.URI(issuer, account, secret)}, nil
}

// ActivateTOTP confirms enrolment with a code from the new device, marks the session as
// two-factor, and returns ten new single-use recovery codes (replacing any old ones).
func (a *Auth) ActivateTOTP(ctx context.Context, s Session, code string) ([]string, error) {
	key := fmt.Sprintf("2fa:%d", s.UserID)
	q := db.New(a.Pool)
	if l, err := locked(ctx, q, key); err != nil {
		return nil, fmt.Errorf("postgres: throttle: %w", err)
	} else if l {
		return nil, errThrottled
	}
	codes, err := totp.NewRecoveryCodes(10)
	if err != nil {
		return nil, err
	}
	verified := false
	err = InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		dev, err := q.FindTOTP(ctx, s.UserID)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Conflict, "start setting up an authenticator first")
		}
		if err != nil {
			return err
		}
		if dev.ActivatedAt.Valid {
			return apperr.New(apperr.Conflict, "the authenticator is already active")
		}
		step, ok := totp.Verify(dev.Secret, code, time.Now(), dev.LastUsedStep)
		if !ok {
			return nil
		}
		verified = true
		if err := q.ActivateTOTP(ctx, db.ActivateTOTPParams{UserID: s.UserID, LastUsedStep: step}); err != nil {
			return err
		}
		if err := q.DeleteRecoveryCodes(ctx, s.UserID); err != nil {
			return err
		}
		for _, c := range codes {
			if err := q.AddRecoveryCode(ctx, db.AddRecoveryCodeParams{UserID: s.UserID, CodeHash: totp.HashRecoveryCode(c)}); err != nil {
				return err
			}
		}
		return q.MarkSessionTwoFactor(ctx, s.hash)
	})
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: activate totp: %w", err)
	}
	if !verified {
		if err := fail(ctx, q, key, maxTwoFactorFailure); err != nil {
			return nil, fmt.Errorf("postgres: throttle: %w", err)
		}
		return nil, apperr.Field("/code", "the code is not valid")
	}
	return codes, nil
}

// Hash returns the stored hash of the session (to keep it when ending the others).
func (s Session) Hash() []byte { return s.hash }
