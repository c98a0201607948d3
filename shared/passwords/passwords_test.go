package passwords_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"lookit.dev/platform/shared/passwords"
)

// cheap keeps the tests fast; only TestDefaultParams pays for the real cost.
var cheap = passwords.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func hash(t *testing.T, pw string, p passwords.Params) string {
	t.Helper()
	h, err := passwords.Hash(pw, p)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return h
}

func verify(t *testing.T, pw, h string) bool {
	t.Helper()
	ok, err := passwords.Verify(pw, h)
	if err != nil {
		t.Fatalf("Verify(%q): %v", h, err)
	}
	return ok
}

func TestRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "", "pässwörd ✓", strings.Repeat("x", 1000)} {
		h := hash(t, pw, cheap)
		if !verify(t, pw, h) {
			t.Errorf("Verify(%q) of its own hash = false", pw)
		}
		if verify(t, pw+"x", h) {
			t.Errorf("Verify accepted %q+x", pw)
		}
	}
	h := hash(t, "Secret", cheap)
	for _, wrong := range []string{"secret", "Secret ", " Secret", "Secre", ""} {
		if verify(t, wrong, h) {
			t.Errorf("Verify accepted wrong password %q", wrong)
		}
	}
}

func TestHashFormatCarriesParams(t *testing.T) {
	p := passwords.Params{Memory: 128, Time: 3, Threads: 2, KeyLen: 24, SaltLen: 12}
	h := hash(t, "pw", p)
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=128,t=3,p=2" {
		t.Fatalf("hash = %q", h)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) != 12 {
		t.Errorf("salt %q: %d bytes, %v", parts[4], len(salt), err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) != 24 {
		t.Errorf("key %q: %d bytes, %v", parts[5], len(key), err)
	}
	// The stored parameters, not the current defaults, are used to verify.
	if !verify(t, "pw", h) {
		t.Errorf("hash with non-default params does not verify")
	}
}

func TestEachHashIsSaltedDifferently(t *testing.T) {
	seen := map[string]bool{}
	salts := map[string]bool{}
	for range 20 {
		h := hash(t, "same password", cheap)
		if seen[h] {
			t.Fatalf("hash repeated: %s", h)
		}
		seen[h] = true
		salts[strings.Split(h, "$")[4]] = true
		if !verify(t, "same password", h) {
			t.Fatalf("hash does not verify")
		}
	}
	if len(salts) != 20 {
		t.Errorf("%d distinct salts in 20 hashes", len(salts))
	}
}

func TestDefaultParams(t *testing.T) {
	h := hash(t, "hunter2", passwords.Default)
	if !strings.HasPrefix(h, fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", passwords.Default.Memory, passwords.Default.Time, passwords.Default.Threads)) {
		t.Errorf("hash = %q", h)
	}
	if passwords.Default.Memory < 19*1024 || passwords.Default.Time < 2 {
		t.Errorf("Default %+v is below OWASP's argon2id floor", passwords.Default)
	}
	if !verify(t, "hunter2", h) || verify(t, "hunter3", h) {
		t.Errorf("Default round trip failed")
	}
}

func TestMalformedHashes(t *testing.T) {
	good := hash(t, "pw", cheap)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	b64 := func(n int) string { return base64.RawStdEncoding.EncodeToString(make([]byte, n)) }
	cases := map[string]string{
		"empty":              "",
		"plain text":         "pw",
		"too few parts":      strings.Join(parts[:5], "$"),
		"too many parts":     good + "$x",
		"argon2i":            with(1, "argon2i"),
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"version 16":         with(2, "v=16"),
		"version missing":    with(2, "x=19"),
		"params garbage":     with(3, "m=a,t=1,p=1"),
		"params reordered":   with(3, "t=1,m=64,p=1"),
		"memory absurd":      with(3, "m=999999999,t=1,p=1"),
		"memory over 1GiB":   with(3, fmt.Sprintf("m=%d,t=1,p=1", 1<<20+1)),
		"memory overflow":    with(3, "m=99999999999,t=1,p=1"),
		"memory zero":        with(3, "m=0,t=1,p=1"),
		"memory negative":    with(3, "m=-64,t=1,p=1"),
		"time zero":          with(3, "m=64,t=0,p=1"),
		"time absurd":        with(3, "m=64,t=1000000,p=1"),
		"threads zero":       with(3, "m=64,t=1,p=0"),
		"threads overflow":   with(3, "m=64,t=1,p=256"),
		"salt bad base64":    with(4, "!!!!"),
		"salt padded":        with(4, base64.StdEncoding.EncodeToString(make([]byte, 16))),
		"salt too short":     with(4, b64(7)),
		"key bad base64":     with(5, "***"),
		"key too short":      with(5, b64(15)),
		"key too long":       with(5, b64(65)),
		"key missing":        with(5, ""),
		"alg upper case":     with(1, "ARGON2ID"),
		"params missing p":   with(3, "m=64,t=1"),
		"params empty field": with(3, ""),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ok, err := passwords.Verify("pw", h)
			if ok || !errors.Is(err, passwords.ErrMalformed) {
				t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformed", h, ok, err)
			}
		})
	}
}

// A forged row with absurd parameters must be refused before argon2 allocates its memory.
func TestAbsurdParamsDoNotAllocate(t *testing.T) {
	parts := strings.Split(hash(t, "pw", cheap), "$")
	for _, params := range []string{"m=999999999,t=1,p=1", "m=4294967295,t=4294967295,p=255", "m=65536,t=999,p=1"} {
		parts[3] = params
		forged := strings.Join(parts, "$")
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ok, err := passwords.Verify("pw", forged)
		runtime.ReadMemStats(&after)
		if ok || !errors.Is(err, passwords.ErrMalformed) {
			t.Errorf("%s: Verify = %v, %v; want ErrMalformed", params, ok, err)
		}
		// A real attempt at m=999999999 would allocate about 1 TB; a refusal allocates a few bytes.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: Verify allocated %d bytes before refusing", params, grew)
		}
	}
}

func TestLargestAcceptedParamsStillVerify(t *testing.T) {
	// Hashes at the edges of what Verify accepts (short salt, short and long keys) still verify.
	for _, p := range []passwords.Params{
		{Memory: 8, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 8},
		{Memory: 64, Time: 10, Threads: 4, KeyLen: 64, SaltLen: 32},
	} {
		h := hash(t, "pw", p)
		if !verify(t, "pw", h) || verify(t, "pv", h) {
			t.Errorf("params %+v: round trip failed for %s", p, h)
		}
	}
}
