package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/google/uuid"
)

// Unsubscribe tokens let a mail client turn off a family's email in one click (RFC 8058
// List-Unsubscribe-Post) without a session. A token is the user's UUID and an HMAC of it under the
// platform's secret key. Unlike Lookit's 48-hour token it does not expire: the link sits in
// mailboxes for months, RFC 8058 expects it to keep working, and all it can do is turn email off.
// Rotating SECRET_KEY invalidates every token.

const unsubscribeLabel = "lookit unsubscribe v1\x00"

// UnsubscribeToken returns the token for the user with the given UUID.
func UnsubscribeToken(key []byte, userUUID uuid.UUID) string {
	b := make([]byte, 0, 32)
	b = append(b, userUUID[:]...)
	b = append(b, unsubscribeMAC(key, userUUID)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadUnsubscribeToken is returned for a token that was not made with the key.
var ErrBadUnsubscribeToken = errors.New("accounts: invalid unsubscribe token")

// ParseUnsubscribeToken checks a token in constant time and returns the user's UUID.
func ParseUnsubscribeToken(key []byte, token string) (uuid.UUID, error) {
	if len(token) != 43 {
		return uuid.Nil, ErrBadUnsubscribeToken
	}
	// Strict: the unused low bits of the last character must be zero, so one token has one spelling.
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != 32 {
		return uuid.Nil, ErrBadUnsubscribeToken
	}
	id, _ := uuid.FromBytes(b[:16])
	if !hmac.Equal(b[16:], unsubscribeMAC(key, id)) {
		return uuid.Nil, ErrBadUnsubscribeToken
	}
	return id, nil
}

func unsubscribeMAC(key []byte, id uuid.UUID) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(unsubscribeLabel))
	m.Write(id[:])
	return m.Sum(nil)[:16]
}
