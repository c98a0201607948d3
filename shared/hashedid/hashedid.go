// Package hashedid computes Lookit's per-study hashed ids (accounts/utils.py hash_id, reference
// §9.3): the child, participant and demographic ids researchers see in data, that external
// studies receive as ?child= and the experiment runner as hash_child_id. They must match
// Lookit's bit for bit, so that data from the two platforms joins.
//
// The algorithm: XOR the 16 bytes of the id's UUID, the study's UUID and the study's salt;
// SHA-256 the result; encode the digest in base32 (RFC 4648, upper case); translate 1→a, 0→b,
// I→c, O→d (so the id cannot be misread); keep the first hash_digits characters.
package hashedid

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/google/uuid"
)

// MaxDigits is the length of the whole encoded digest: 32 bytes are 52 base32 characters.
const MaxDigits = 52

var readable = strings.NewReplacer("1", "a", "0", "b", "I", "c", "O", "d")

// Of returns the hashed id of id within a study, digits characters long (clamped to 1..52).
func Of(id, study, salt uuid.UUID, digits int) string {
	var x [16]byte
	for i := range x {
		x[i] = id[i] ^ study[i] ^ salt[i]
	}
	sum := sha256.Sum256(x[:])
	s := readable.Replace(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
	digits = min(max(digits, 1), MaxDigits)
	return s[:digits]
}
