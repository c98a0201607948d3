// Package totp implements time-based one-time passwords (RFC 6238) with the parameters Google
// Authenticator and compatible apps use — HMAC-SHA1, 6 digits, a 30-second period — plus the
// one-use recovery codes that stand in for a lost authenticator.
//
// The package does no I/O apart from reading crypto/rand. Storing the secret, the last accepted
// time step and the recovery-code hashes is the caller's job.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

const (
	// Digits is the length of a code.
	Digits = 6
	// Period is the length of one time step.
	Period = 30 * time.Second
	// SecretBytes is the size of a generated secret (160 bits, the HMAC-SHA1 output size, as RFC
	// 4226 recommends).
	SecretBytes = 20
	// Skew is how many steps either side of the current one Verify also accepts.
	Skew = 1

	periodSeconds = int64(Period / time.Second)
	modulus       = 1_000_000 // 10^Digits
)

// ErrMalformedSecret is returned for a secret that is not base32.
var ErrMalformedSecret = errors.New("totp: malformed secret")

// ErrTimeBeforeEpoch is returned for a time before 1970, which has no time step.
var ErrTimeBeforeEpoch = errors.New("totp: time before the Unix epoch")

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateSecret returns a new random secret of SecretBytes bytes, base32-encoded (RFC 4648
// alphabet, upper case, no padding): 32 characters.
func GenerateSecret() (string, error) {
	key := make([]byte, SecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("totp: secret: %w", err)
	}
	return b32.EncodeToString(key), nil
}

// normalizeSecret upper-cases s and drops white space and trailing padding, the forms in which
// people copy secrets around.
func normalizeSecret(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
	return strings.TrimRight(s, "=")
}

// decodeSecret decodes a base32 secret, accepting lower case, spaces and padding.
func decodeSecret(secret string) ([]byte, error) {
	s := normalizeSecret(secret)
	if s == "" {
		return nil, ErrMalformedSecret
	}
	key, err := b32.DecodeString(s)
	// The decoder tolerates impossible lengths (1, 3 or 6 mod 8) and stray low bits in the last
	// character; only the canonical encoding of some byte string is a secret.
	if err != nil || len(key) == 0 || b32.EncodeToString(key) != s {
		return nil, ErrMalformedSecret
	}
	return key, nil
}

// timeStep returns the RFC 6238 time step T of t (T0 = 0, X = Period).
func timeStep(t time.Time) int64 {
	u := t.Unix()
	s := u / periodSeconds
	if u < 0 && u%periodSeconds != 0 {
		s-- // floor, not truncation
	}
	return s
}

// hotp returns the RFC 4226 code for key and counter, zero-padded to Digits.
func hotp(key []byte, counter uint64) string {
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	// Dynamic truncation (RFC 4226 §5.3).
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", Digits, bin%modulus)
}

// Code returns the code for secret at time t. The secret is base32, case-insensitive, with or
// without padding and spaces; a malformed or empty secret returns ErrMalformedSecret.
func Code(secret string, t time.Time) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	s := timeStep(t)
	if s < 0 {
		return "", ErrTimeBeforeEpoch
	}
	return hotp(key, uint64(s)), nil
}

// validCode reports whether code is exactly Digits ASCII digits.
func validCode(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// Verify reports whether code is the code for secret at time t or at one step either side of it
// (to allow for clock skew between server and phone), and returns the time step it matched.
//
// Replay protection: a step less than or equal to lastUsedStep is never accepted. On success the
// caller MUST store the returned step and pass it as lastUsedStep next time, so that each code —
// and any code of an earlier step — can be used at most once. Pass a negative lastUsedStep (e.g.
// -1) for an account that has never used a code.
//
// A code that is not exactly Digits ASCII digits, or a malformed secret, is rejected. Each
// candidate step is compared in constant time, and all candidates are computed even after a
// match. If several candidates match (a one-in-a-million coincidence) the latest step is
// returned, which only widens what later calls refuse. On failure step is 0.
func Verify(secret, code string, t time.Time, lastUsedStep int64) (step int64, ok bool) {
	if !validCode(code) {
		return 0, false
	}
	key, err := decodeSecret(secret)
	if err != nil {
		return 0, false
	}
	now := timeStep(t)
	matched := int64(0)
	found := 0
	for cand := now - Skew; cand <= now+Skew; cand++ {
		if cand < 0 || cand <= lastUsedStep {
			continue
		}
		eq := subtle.ConstantTimeCompare([]byte(hotp(key, uint64(cand))), []byte(code))
		if eq == 1 {
			matched = cand // candidates ascend, so the last match is the latest step
		}
		found |= eq
	}
	if found != 1 {
		return 0, false
	}
	return matched, true
}

// URI returns the otpauth:// key URI that authenticator apps import (usually from a QR code):
//
//	otpauth://totp/<issuer>:<account>?algorithm=SHA1&digits=6&issuer=<issuer>&period=30&secret=<secret>
//
// The label parts are path-escaped (spaces as %20) and the query is built with url.Values, with
// spaces written as %20 rather than "+" because some authenticator apps show a literal "+". The
// key URI format forbids colons inside the issuer and account; any there are escaped as %3A so
// that the label still splits unambiguously, but callers should avoid them. With an empty
// issuer the label is the account alone and the issuer parameter is omitted. The secret is
// normalised (upper case, no spaces or padding) but not otherwise checked.
func URI(issuer, account, secret string) string {
	esc := func(s string) string { return strings.ReplaceAll(url.PathEscape(s), ":", "%3A") }
	label := esc(account)
	q := url.Values{}
	q.Set("secret", normalizeSecret(secret))
	if issuer != "" {
		label = esc(issuer) + ":" + label
		q.Set("issuer", issuer)
	}
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(Digits))
	q.Set("period", fmt.Sprint(periodSeconds))
	// url.Values escapes a literal "+" as %2B, so every "+" left stands for a space.
	query := strings.ReplaceAll(q.Encode(), "+", "%20")
	return "otpauth://totp/" + label + "?" + query
}

// Recovery codes.

const (
	// recoveryAlphabet is lower-case letters and digits without the easily confused 0, o, 1, l
	// and i: 31 symbols, about 4.95 bits each.
	recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	// RecoveryGroups groups of RecoveryGroupLen symbols make a code: 16 symbols, about 79 bits.
	// (Three groups of four would give only 59.4 bits from this alphabet.)
	RecoveryGroups   = 4
	RecoveryGroupLen = 4
	// MaxRecoveryCodes bounds NewRecoveryCodes' n.
	MaxRecoveryCodes = 100
)

// NewRecoveryCodes returns n distinct random recovery codes of the form "abcd-efgh-jkmn-pqrs",
// drawn uniformly from an alphabet without 0, o, 1, l or i. Show them to the user once and store
// only HashRecoveryCode of each. n must be between 1 and MaxRecoveryCodes.
func NewRecoveryCodes(n int) (codes []string, err error) {
	if n < 1 || n > MaxRecoveryCodes {
		return nil, fmt.Errorf("totp: %d recovery codes requested, want 1 to %d", n, MaxRecoveryCodes)
	}
	seen := make(map[string]bool, n)
	codes = make([]string, 0, n)
	for len(codes) < n {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, err
		}
		if seen[c] {
			continue // astronomically unlikely, but the codes are promised distinct
		}
		seen[c] = true
		codes = append(codes, c)
	}
	return codes, nil
}

func newRecoveryCode() (string, error) {
	const symbols = RecoveryGroups * RecoveryGroupLen
	var b strings.Builder
	b.Grow(symbols + RecoveryGroups - 1)
	buf := make([]byte, 2*symbols)
	written := 0
	for written < symbols {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("totp: recovery code: %w", err)
		}
		for _, x := range buf {
			// Rejection sampling: the low five bits are uniform over 0..31; dropping 31 leaves a
			// uniform choice among the 31 symbols.
			v := x & 0x1f
			if int(v) >= len(recoveryAlphabet) {
				continue
			}
			if written > 0 && written%RecoveryGroupLen == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[v])
			written++
			if written == symbols {
				break
			}
		}
	}
	return b.String(), nil
}

// NormalizeRecoveryCode returns code lower-cased with dashes and white space removed, so that
// "ABCD-EFGH-JKMN-PQRS", "abcd efgh jkmn pqrs" and "abcdefghjkmnpqrs" are the same code.
func NormalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, code)
}

// HashRecoveryCode returns the hex SHA-256 of the normalised code: the form to store, and to look
// up a code the user types. Recovery codes carry about 79 bits of entropy, so an unsalted fast
// hash is enough (they cannot be guessed offline the way passwords can).
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(NormalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}
