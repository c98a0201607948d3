// Package auth holds the credentials the platform hands out — session keys, CSRF tokens, API
// keys — and how they travel (cookies, headers). Only hashes of credentials are ever stored.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
)

// NewSecret returns 32 random bytes, base64url without padding (43 characters).
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Hash is what the database keeps of a secret.
func Hash(secret string) []byte {
	s := sha256.Sum256([]byte(secret))
	return s[:]
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// API keys look like lk_<8-character prefix>_<secret>: the prefix lets a user recognise a key in
// lists and lets secret scanners find leaked keys.
const keyPrefix = "lk_"

// NewAPIKey returns a new key and its displayable prefix.
func NewAPIKey() (key, prefix string, err error) {
	secret, err := NewSecret()
	if err != nil {
		return "", "", err
	}
	var p [6]byte
	if _, err := rand.Read(p[:]); err != nil {
		return "", "", err
	}
	prefix = keyPrefix + base64.RawURLEncoding.EncodeToString(p[:])
	return prefix + "_" + secret, prefix, nil
}

// ErrMalformedKey is returned for a credential that is not one of ours.
var ErrMalformedKey = errors.New("auth: malformed API key")

// ParseAPIKey checks a key's shape before any database lookup.
func ParseAPIKey(key string) error {
	if !strings.HasPrefix(key, keyPrefix) || len(key) != len(keyPrefix)+8+1+43 || key[len(keyPrefix)+8] != '_' {
		return ErrMalformedKey
	}
	for _, c := range key[len(keyPrefix):] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return ErrMalformedKey
		}
	}
	return nil
}
