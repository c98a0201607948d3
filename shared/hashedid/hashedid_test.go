package hashedid_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/hashedid"
)

// The vectors were computed apart from this code, with Python's uuid, hashlib and base64 modules
// following the algorithm's description (reference §9.3).
func TestVectors(t *testing.T) {
	for _, v := range []struct {
		id, study, salt string
		digits          int
		want            string
	}{
		{"22222222-2222-4222-8222-222222222222", "11111111-1111-4111-8111-111111111111", "33333333-3333-4333-8333-333333333333", 6, "SMMJBK"},
		{"6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3", "11111111-1111-4111-8111-111111111111", "0f8c3b1e-5d2a-4c7b-9e61-2a3b4c5d6e7f", 6, "E7TcPM"},
		{"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000", 52, "G5DQR77XdGd5LF46ZB25K3GSFBXW2PHX5QYXUdZFMMVKWKHMG65Q"},
		{"9b2c1d0e-8f7a-4b6c-a5d4-e3f2a1b0c9d8", "c4b3a291-7e6f-4d5c-8b4a-392817161514", "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", 10, "ZZ676DMSEH"},
	} {
		got := hashedid.Of(uuid.MustParse(v.id), uuid.MustParse(v.study), uuid.MustParse(v.salt), v.digits)
		if got != v.want {
			t.Errorf("Of(%s, %s, %s, %d) = %s, want %s", v.id, v.study, v.salt, v.digits, got, v.want)
		}
	}
}

func FuzzOf(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef"), 6)
	f.Fuzz(func(t *testing.T, b []byte, digits int) {
		if len(b) < 48 {
			return
		}
		var id, study, salt uuid.UUID
		copy(id[:], b[:16])
		copy(study[:], b[16:32])
		copy(salt[:], b[32:48])
		got := hashedid.Of(id, study, salt, digits)
		want := min(max(digits, 1), hashedid.MaxDigits)
		if len(got) != want || strings.ContainsAny(got, "01IO=") {
			t.Fatalf("Of(…, %d) = %q", digits, got)
		}
		// The XOR makes the three inputs interchangeable: Lookit's hash has this property too.
		if hashedid.Of(salt, id, study, digits) != got {
			t.Fatal("not symmetric in its inputs")
		}
	})
}
