package passwords_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"lookit.dev/platform/shared/passwords"
)

// refPBKDF2SHA256 is a deliberately plain PBKDF2-HMAC-SHA256 (RFC 8018 §5.2), written here so the
// Django vectors are checked against something other than the code under test.
func refPBKDF2SHA256(password, salt []byte, iterations, keyLen int) []byte {
	prf := hmac.New(sha256.New, password)
	var out []byte
	for block := uint32(1); len(out) < keyLen; block++ {
		prf.Reset()
		prf.Write(salt)
		var idx [4]byte
		binary.BigEndian.PutUint32(idx[:], block)
		prf.Write(idx[:])
		u := prf.Sum(nil)
		t := append([]byte(nil), u...)
		for i := 1; i < iterations; i++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

func djangoEncode(iterations int, salt string, key []byte) string {
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, salt, base64.StdEncoding.EncodeToString(key))
}

func refDjango(password string, iterations int, salt string) string {
	return djangoEncode(iterations, salt, refPBKDF2SHA256([]byte(password), []byte(salt), iterations, 32))
}

func verifyDjango(t *testing.T, pw, encoded string) bool {
	t.Helper()
	ok, err := passwords.VerifyDjango(pw, encoded)
	if err != nil {
		t.Fatalf("VerifyDjango(%q): %v", encoded, err)
	}
	return ok
}

// The reference implementation reproduces RFC 7914 §11's PBKDF2-HMAC-SHA256 vectors.
func TestReferencePBKDF2(t *testing.T) {
	for _, v := range []struct {
		pw, salt string
		iter     int
		hex      string
	}{
		{"passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc" +
			"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
		{"Password", "NaCl", 80000, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56" +
			"a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"},
	} {
		if got := hex.EncodeToString(refPBKDF2SHA256([]byte(v.pw), []byte(v.salt), v.iter, 64)); got != v.hex {
			t.Errorf("ref PBKDF2(%q, %q, %d) = %s, want %s", v.pw, v.salt, v.iter, got, v.hex)
		}
	}
}

// literalVectors were computed outside Go, with Python's hashlib.pbkdf2_hmac (which Django's
// make_password uses), and formatted the way Django stores them.
var literalVectors = []struct{ pw, encoded string }{
	// RFC 7914 §11 vectors, truncated to Django's 32 bytes.
	{"passwd", "pbkdf2_sha256$1$salt$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw="},
	{"Password", "pbkdf2_sha256$80000$NaCl$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0q1Y="},
	// An old-style 12-character salt and a current-style 22-character one.
	{"correct horse", "pbkdf2_sha256$1000$abcdefghijkl$0zdgqPwvrX5uWgeujZ5fdcMXA2ja2gN9VYtiAbPFU+8="},
	{"pässwörd ✓", "pbkdf2_sha256$1200$Zx9uQv2LmN4pRt7sWy1aBc$8M1t9CsNNn/P/HwAjN1EQQq/YgpCb0FjD4Si2N0427Y="},
}

func TestDjangoLiteralVectors(t *testing.T) {
	for _, v := range literalVectors {
		parts := strings.Split(v.encoded, "$")
		iter, _ := strconv.Atoi(parts[1])
		if ref := refDjango(v.pw, iter, parts[2]); ref != v.encoded {
			t.Errorf("reference gives %s, literal is %s", ref, v.encoded)
		}
		if !passwords.IsDjango(v.encoded) {
			t.Errorf("IsDjango(%q) = false", v.encoded)
		}
		if !verifyDjango(t, v.pw, v.encoded) {
			t.Errorf("VerifyDjango(%q, %q) = false", v.pw, v.encoded)
		}
		// (Not v.pw+"\x00": HMAC zero-pads short keys, so PBKDF2-HMAC — Django's included — treats
		// a password and the same password plus trailing NUL bytes alike.)
		wrongs := []string{"", v.pw + "x", v.pw[1:], strings.ToUpper(v.pw), " " + v.pw, "\x00" + v.pw}
		if iter > 10000 {
			wrongs = wrongs[:2] // keep the test fast
		}
		for _, wrong := range wrongs {
			if verifyDjango(t, wrong, v.encoded) {
				t.Errorf("VerifyDjango accepted %q for %q", wrong, v.encoded)
			}
		}
	}
}

// A hash as Django 5.0 would write it (870,000 iterations, its default), checked three ways: the
// reference implementation computed here, a literal from Python's hashlib, and VerifyDjango.
func TestDjangoDefaultIterationsVector(t *testing.T) {
	const (
		pw      = "lookit-demo-password"
		salt    = "seasalt1234567890"
		iter    = 870000
		literal = "pbkdf2_sha256$870000$seasalt1234567890$xtqlmK82T85qGJ+OSHN9gwzEi/Ji/lF4ig/tc9nz57U="
	)
	encoded := refDjango(pw, iter, salt)
	if encoded != literal {
		t.Fatalf("reference gives %s, hashlib gave %s", encoded, literal)
	}
	ok, rehash, err := passwords.Check(pw, encoded)
	if !ok || !rehash || err != nil {
		t.Errorf("Check(right password) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestDjangoRoundTripWithReference(t *testing.T) {
	for i, pw := range []string{"", "a", "hunter2", "pässwörd ✓", strings.Repeat("long ", 100), "with$dollar", "new\nline"} {
		salt := fmt.Sprintf("salt%dXyZ", i)
		encoded := refDjango(pw, 10+i, salt)
		if !verifyDjango(t, pw, encoded) {
			t.Errorf("VerifyDjango(%q, %q) = false", pw, encoded)
		}
		if verifyDjango(t, pw+"!", encoded) {
			t.Errorf("VerifyDjango accepted %q+!", pw)
		}
		// The key derived with another iteration count or salt does not verify under these.
		otherIter := strings.Split(refDjango(pw, 11+i, salt), "$")[3]
		otherSalt := strings.Split(refDjango(pw, 10+i, salt+"z"), "$")[3]
		for _, key := range []string{otherIter, otherSalt} {
			if forged := fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", 10+i, salt, key); verifyDjango(t, pw, forged) {
				t.Errorf("key for other parameters accepted: %s", forged)
			}
		}
	}
}

func TestDjangoMalformed(t *testing.T) {
	good := refDjango("pw", 3, "abcdefghijkl")
	if !verifyDjango(t, "pw", good) {
		t.Fatalf("good hash %q does not verify", good)
	}
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	cases := map[string]string{
		"empty":                 "",
		"plain text":            "pw",
		"algorithm only":        "pbkdf2_sha256",
		"algorithm and dollar":  "pbkdf2_sha256$",
		"missing hash":          strings.Join(parts[:3], "$"),
		"missing salt and hash": strings.Join(parts[:2], "$"),
		"empty hash":            with(3, ""),
		"extra field":           good + "$x",
		"extra dollar":          good + "$",
		"leading dollar":        "$" + good,
		"dollar in salt":        with(2, "abc$def"),
		"pbkdf2_sha1":           with(0, "pbkdf2_sha1"),
		"upper-case algorithm":  with(0, "PBKDF2_SHA256"),
		"argon2 algorithm":      with(0, "argon2"),
		"bcrypt_sha256":         with(0, "bcrypt_sha256"),
		"algorithm with space":  with(0, "pbkdf2_sha256 "),
		"iterations empty":      with(1, ""),
		"iterations word":       with(1, "three"),
		"iterations hex":        with(1, "0x3"),
		"iterations float":      with(1, "3.0"),
		"iterations negative":   with(1, "-3"),
		"iterations plus":       with(1, "+3"),
		"iterations space":      with(1, " 3"),
		"iterations zero":       with(1, "0"),
		"iterations leading 0":  with(1, "03"),
		"iterations over cap":   with(1, strconv.Itoa(passwords.MaxDjangoIterations+1)),
		"iterations huge":       with(1, "99999999999999999999999"),
		"iterations int64 max":  with(1, "9223372036854775807"),
		"iterations unicode":    with(1, "３"),
		"salt empty":            with(2, ""),
		"salt too long":         with(2, strings.Repeat("s", 129)),
		"salt absurd":           with(2, strings.Repeat("s", 1<<20)),
		"salt with space":       with(2, "abc def"),
		"salt with NUL":         with(2, "abc\x00def"),
		"salt non-ASCII":        with(2, "sälz"),
		"hash bad base64":       with(3, "!!!!"+parts[3][4:]),
		"hash unpadded":         with(3, strings.TrimRight(parts[3], "=")),
		"hash URL alphabet":     with(3, base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 30: 0})),
		"hash extra padding":    with(3, parts[3]+"="),
		"hash with newline":     with(3, parts[3][:20]+"\n"+parts[3][20:]),
		"hash trailing space":   with(3, parts[3]+" "),
		"hash too short":        with(3, b64(31)),
		"hash too long":         with(3, b64(33)),
		"hash 64 bytes":         with(3, b64(64)),
		"hash absurd":           with(3, b64(1<<20)),
		"hash stray bits":       with(3, parts[3][:42]+string(flipLowBit(parts[3][42]))+"="),
		"argon2 string":         "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"bcrypt string":         "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"django sha1":           "sha1$abcdefghijkl$3c5a2c2a6e0f4b3a7b9e0d3c1f2e4a5b6c7d8e9f",
		"django unusable":       "!Xq2iZ3dPqv1k9tW5rLx0aYb7cDe8fGh9iJk0lMn1",
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			if passwords.IsDjango(h) {
				t.Errorf("IsDjango(%q) = true", h)
			}
			ok, err := passwords.VerifyDjango("pw", h)
			if ok || !errors.Is(err, passwords.ErrMalformed) {
				t.Errorf("VerifyDjango(%q) = %v, %v; want false, ErrMalformed", h, ok, err)
			}
			if strings.HasPrefix(h, "$argon2id$") {
				return // well-formed for Check, which hands it to Verify
			}
			ok, rehash, err := passwords.Check("pw", h)
			if ok || rehash || !errors.Is(err, passwords.ErrMalformed) {
				t.Errorf("Check(%q) = %v, %v, %v; want false, false, ErrMalformed", h, ok, rehash, err)
			}
		})
	}
}

// flipLowBit turns a base64 character into one differing only in its lowest bit, which for the
// last data character of a 32-byte value lands in the discarded padding bits.
func flipLowBit(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

func TestDjangoLimits(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	at := func(iter int, salt string) string { return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iter, salt, key) }
	// The largest accepted values parse; one past them does not (and is refused without hashing).
	for _, h := range []string{at(1, "s"), at(passwords.MaxDjangoIterations, "s"), at(1, strings.Repeat("s", 128))} {
		if !passwords.IsDjango(h) {
			t.Errorf("IsDjango(%.60q…) = false", h)
		}
	}
	for _, h := range []string{at(passwords.MaxDjangoIterations+1, "s"), at(1, strings.Repeat("s", 129))} {
		if passwords.IsDjango(h) {
			t.Errorf("IsDjango(%.60q…) = true", h)
		}
		if _, err := passwords.VerifyDjango("pw", h); !errors.Is(err, passwords.ErrMalformed) {
			t.Errorf("VerifyDjango(%.60q…): err = %v, want ErrMalformed", h, err)
		}
	}
	// Every printable ASCII character but '$' is a valid salt character; a long salt still verifies.
	var salt strings.Builder
	for c := byte('!'); c <= '~'; c++ {
		if c != '$' {
			salt.WriteByte(c)
		}
	}
	h := refDjango("pw", 2, salt.String())
	if !verifyDjango(t, "pw", h) || verifyDjango(t, "pv", h) {
		t.Errorf("hash with every salt character: round trip failed for %s", h)
	}
	h = refDjango("pw", 2, strings.Repeat("z", 128))
	if !verifyDjango(t, "pw", h) {
		t.Errorf("hash with a 128-character salt does not verify")
	}
}

// withDefault runs the rest of the test with passwords.Default set to p, so Check's comparison
// against Default can be exercised without paying the real Default's cost for every hash.
func withDefault(t *testing.T, p passwords.Params) {
	t.Helper()
	saved := passwords.Default
	passwords.Default = p
	t.Cleanup(func() { passwords.Default = saved })
}

func TestCheckArgon2NeedsRehash(t *testing.T) {
	base := passwords.Params{Memory: 256, Time: 2, Threads: 2, KeyLen: 32, SaltLen: 16}
	withDefault(t, base)

	cases := map[string]struct {
		change func(*passwords.Params)
		rehash bool
	}{
		"equal":            {func(*passwords.Params) {}, false},
		"more memory":      {func(p *passwords.Params) { p.Memory *= 2 }, false},
		"more time":        {func(p *passwords.Params) { p.Time++ }, false},
		"more threads":     {func(p *passwords.Params) { p.Threads++ }, false},
		"longer salt":      {func(p *passwords.Params) { p.SaltLen = 32 }, false},
		"longer key":       {func(p *passwords.Params) { p.KeyLen = 64 }, false},
		"less memory":      {func(p *passwords.Params) { p.Memory /= 2 }, true},
		"less time":        {func(p *passwords.Params) { p.Time = 1 }, true},
		"fewer threads":    {func(p *passwords.Params) { p.Threads = 1 }, true},
		"shorter salt":     {func(p *passwords.Params) { p.SaltLen = 8 }, true},
		"shorter key":      {func(p *passwords.Params) { p.KeyLen = 16 }, true},
		"stronger, weaker": {func(p *passwords.Params) { p.Memory *= 4; p.Time = 1 }, true},
		"cheap":            {func(p *passwords.Params) { *p = cheap }, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := base
			c.change(&p)
			h := hash(t, "hunter2", p)
			if ok, rehash, err := passwords.Check("hunter2", h); !ok || rehash != c.rehash || err != nil {
				t.Errorf("Check(%+v) = %v, %v, %v; want true, %v, nil", p, ok, rehash, err, c.rehash)
			}
			// A wrong password never asks for a rehash.
			if ok, rehash, err := passwords.Check("Hunter2", h); ok || rehash || err != nil {
				t.Errorf("Check(wrong password, %+v) = %v, %v, %v; want false, false, nil", p, ok, rehash, err)
			}
		})
	}

	// Malformed argon2 strings are ErrMalformed through Check too.
	parts := strings.Split(hash(t, "pw", cheap), "$")
	parts[3] = "m=999999999,t=1,p=1"
	if ok, rehash, err := passwords.Check("pw", strings.Join(parts, "$")); ok || rehash || !errors.Is(err, passwords.ErrMalformed) {
		t.Errorf("Check(absurd argon2) = %v, %v, %v; want ErrMalformed", ok, rehash, err)
	}
}

// The log-in flow with the real Default: a Django hash verifies and asks for a rehash; the
// argon2id hash that replaces it verifies and does not.
func TestCheckRehashFlow(t *testing.T) {
	const pw = "lookit-demo-password"
	stored := refDjango(pw, 50, "Zx9uQv2LmN4pRt7sWy1aBc")
	ok, rehash, err := passwords.Check(pw, stored)
	if !ok || !rehash || err != nil {
		t.Fatalf("Check(django) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	stored = hash(t, pw, passwords.Default)
	if ok, rehash, err := passwords.Check(pw, stored); !ok || rehash || err != nil {
		t.Errorf("Check(Default hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestCheckDjango(t *testing.T) {
	for _, v := range literalVectors {
		if ok, rehash, err := passwords.Check(v.pw, v.encoded); !ok || !rehash || err != nil {
			t.Errorf("Check(%q) = %v, %v, %v; want true, true, nil", v.encoded, ok, rehash, err)
		}
		if ok, rehash, err := passwords.Check(v.pw+"?", v.encoded); ok || rehash || err != nil {
			t.Errorf("Check(wrong, %q) = %v, %v, %v; want false, false, nil", v.encoded, ok, rehash, err)
		}
	}
}

func TestCheckOtherFormats(t *testing.T) {
	for _, h := range []string{
		"",
		"hunter2",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // Django's argon2 hasher
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"bcrypt_sha256$$2b$12$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"pbkdf2_sha1$260000$abcdefghijkl$" + base64.StdEncoding.EncodeToString(make([]byte, 20)),
		"scrypt$16384$abcdefghijkl$8$1$" + base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"md5$abcdefghijkl$0123456789abcdef0123456789abcdef",
		"!unusable",
	} {
		if ok, rehash, err := passwords.Check("hunter2", h); ok || rehash || !errors.Is(err, passwords.ErrMalformed) {
			t.Errorf("Check(%q) = %v, %v, %v; want false, false, ErrMalformed", h, ok, rehash, err)
		}
	}
}

// expensive reports whether stored names costs too high for a fuzzing loop (millions of PBKDF2
// iterations or hundreds of MiB of argon2 memory). Those inputs are still parsed, not run.
func expensive(stored string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) == 4 {
		n, err := strconv.Atoi(parts[1])
		return err != nil || n > 20000
	}
	if len(parts) == 6 {
		var m, tm, p uint64
		if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &tm, &p); err == nil {
			return m*tm > 4096
		}
	}
	return false
}

// FuzzCheck checks that Check, VerifyDjango and IsDjango never panic and agree with each other.
func FuzzCheck(f *testing.F) {
	for _, v := range literalVectors {
		f.Add(v.pw, v.encoded) // the 80,000-iteration one is only parsed; see expensive
	}
	f.Add("pw", refDjango("pw", 3, "abcdefghijkl"))
	f.Add("pw", "pbkdf2_sha256$3$abc$!!!!")
	f.Add("pw", "pbkdf2_sha1$3$abc$"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Add("", "")
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	h, err := passwords.Hash("pw", cheap)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("pw", h)
	f.Fuzz(func(t *testing.T, password, stored string) {
		isDjango := passwords.IsDjango(stored)
		if expensive(stored) {
			return
		}
		ok, rehash, err := passwords.Check(password, stored)
		if err != nil && (ok || rehash) {
			t.Fatalf("Check = %v, %v, %v", ok, rehash, err)
		}
		if rehash && !ok {
			t.Fatalf("needsRehash without ok")
		}
		dok, derr := passwords.VerifyDjango(password, stored)
		if isDjango != (derr == nil) {
			t.Fatalf("IsDjango = %v but VerifyDjango err = %v", isDjango, derr)
		}
		if dok && !isDjango {
			t.Fatalf("VerifyDjango accepted a string IsDjango rejects")
		}
		if isDjango {
			if err != nil || ok != dok || ok != rehash {
				t.Fatalf("Django hash: Check = %v, %v, %v; VerifyDjango = %v", ok, rehash, err, dok)
			}
		}
		if ok && !isDjango {
			if aok, aerr := passwords.Verify(password, stored); !aok || aerr != nil {
				t.Fatalf("Check accepted a non-Django hash Verify rejects: %v", aerr)
			}
		}
	})
}
