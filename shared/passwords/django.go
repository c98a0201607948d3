package passwords

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Django's default hasher stores "pbkdf2_sha256$<iterations>$<salt>$<base64 hash>": PBKDF2 with
// HMAC-SHA256, a 32-byte derived key, standard base64 with padding. Accounts migrated from the
// original (Django) Lookit carry such hashes until their next log-in, when Check asks for a rehash.
const (
	djangoAlgorithm = "pbkdf2_sha256"
	djangoKeyLen    = sha256.Size
	// MaxDjangoIterations caps the iteration count VerifyDjango will run, so a forged row cannot
	// make a log-in burn CPU. Django 5.x uses 870,000–1,200,000; 5,000,000 leaves room to spare.
	MaxDjangoIterations = 5_000_000
	// maxDjangoSalt bounds the salt's length. Django's salts are 12 (old) or 22 (current)
	// alphanumeric characters.
	maxDjangoSalt = 128
)

type djangoHash struct {
	iterations int
	salt       string
	key        []byte
}

// parseDjango parses encoded strictly: exactly four '$'-separated fields, the algorithm
// pbkdf2_sha256, a canonical decimal iteration count in [1, MaxDjangoIterations], a salt of 1 to
// maxDjangoSalt printable ASCII characters, and the standard padded base64 of exactly 32 bytes.
// (Django itself compares the re-encoded string, so it too would reject any other spelling.)
func parseDjango(encoded string) (djangoHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != djangoAlgorithm {
		return djangoHash{}, ErrMalformed
	}
	iter := parts[1]
	if iter == "" || len(iter) > 10 || iter[0] == '0' {
		return djangoHash{}, ErrMalformed
	}
	for i := 0; i < len(iter); i++ {
		if iter[i] < '0' || iter[i] > '9' {
			return djangoHash{}, ErrMalformed
		}
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 || n > MaxDjangoIterations {
		return djangoHash{}, ErrMalformed
	}
	salt := parts[2]
	if salt == "" || len(salt) > maxDjangoSalt {
		return djangoHash{}, ErrMalformed
	}
	for i := 0; i < len(salt); i++ {
		if salt[i] <= ' ' || salt[i] > '~' {
			return djangoHash{}, ErrMalformed
		}
	}
	enc := base64.StdEncoding.Strict()
	if len(parts[3]) != enc.EncodedLen(djangoKeyLen) {
		return djangoHash{}, ErrMalformed
	}
	key, err := enc.DecodeString(parts[3])
	if err != nil || len(key) != djangoKeyLen {
		return djangoHash{}, ErrMalformed
	}
	return djangoHash{iterations: n, salt: salt, key: key}, nil
}

// IsDjango reports whether encoded is a well-formed Django pbkdf2_sha256 hash that VerifyDjango
// would check (rather than refuse with ErrMalformed).
func IsDjango(encoded string) bool {
	_, err := parseDjango(encoded)
	return err == nil
}

// VerifyDjango reports whether password matches the Django pbkdf2_sha256 hash encoded, comparing
// in constant time. Anything not in that exact format — including iteration counts outside
// [1, MaxDjangoIterations] and over-long salts — returns ErrMalformed without hashing.
func VerifyDjango(password, encoded string) (bool, error) {
	h, err := parseDjango(encoded)
	if err != nil {
		return false, err
	}
	got, err := pbkdf2.Key(sha256.New, password, []byte(h.salt), h.iterations, djangoKeyLen)
	if err != nil {
		// Only possible under FIPS 140-only mode, which refuses short salts.
		return false, fmt.Errorf("passwords: pbkdf2: %w", err)
	}
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// argon2Params reads the cost parameters and salt and key lengths of a PHC string that Verify
// has already accepted.
func argon2Params(hash string) (Params, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return Params{}, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, ErrMalformed
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return Params{}, ErrMalformed
	}
	key, err := enc.DecodeString(parts[5])
	if err != nil {
		return Params{}, ErrMalformed
	}
	p.SaltLen = len(salt)
	p.KeyLen = uint32(len(key))
	return p, nil
}

// weaker reports whether p falls short of want in any cost or size: memory, time, parallelism,
// salt length or key length.
func weaker(p, want Params) bool {
	return p.Memory < want.Memory || p.Time < want.Time || p.Threads < want.Threads ||
		p.SaltLen < want.SaltLen || p.KeyLen < want.KeyLen
}

// Check verifies password against a stored hash of either supported kind — what log-in calls:
//
//   - an argon2id PHC string (see Verify): needsRehash is true when its parameters are weaker than
//     Default in any respect;
//   - a Django pbkdf2_sha256 string (see VerifyDjango): needsRehash is always true on success.
//
// Anything else, or a malformed hash of either kind, returns ErrMalformed. needsRehash is only
// ever true together with ok; the caller should then store Hash(password, Default) in place of
// stored.
func Check(password, stored string) (ok bool, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(stored, "$argon2id$"):
		ok, err := Verify(password, stored)
		if err != nil || !ok {
			return false, false, err
		}
		p, err := argon2Params(stored)
		if err != nil {
			return false, false, err
		}
		return true, weaker(p, Default), nil
	case strings.HasPrefix(stored, djangoAlgorithm+"$"):
		ok, err := VerifyDjango(password, stored)
		if err != nil || !ok {
			return false, false, err
		}
		return true, true, nil
	default:
		return false, false, ErrMalformed
	}
}
