package totp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"image/png"
	"math"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the RFC 6238 Appendix B SHA1 key, the ASCII string "12345678901234567890".
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

func at(unix int64) time.Time { return time.Unix(unix, 0) }

func mustCode(t *testing.T, secret string, tm time.Time) string {
	t.Helper()
	c, err := Code(secret, tm)
	if err != nil {
		t.Fatalf("Code(%q, %v): %v", secret, tm, err)
	}
	return c
}

func TestRFC6238Vectors(t *testing.T) {
	if rfcSecret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("rfcSecret = %q", rfcSecret)
	}
	// RFC 6238 Appendix B, SHA1 column; the published values are 8 digits, we use the last 6.
	vectors := []struct {
		unix  int64
		eight string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, v := range vectors {
		want := v.eight[2:]
		if got := mustCode(t, rfcSecret, at(v.unix)); got != want {
			t.Errorf("Code(t=%d) = %q, want %q", v.unix, got, want)
		}
		// The same code verifies, and returns the RFC's step T.
		step, ok := Verify(rfcSecret, want, at(v.unix), -1)
		if !ok || step != v.unix/30 {
			t.Errorf("Verify(t=%d) = %d, %v; want %d, true", v.unix, step, ok, v.unix/30)
		}
	}
}

func TestCodeIsZeroPaddedAndStableWithinAStep(t *testing.T) {
	// 1111111109 gives 081804: the leading zero must survive.
	if got := mustCode(t, rfcSecret, at(1111111109)); got != "081804" {
		t.Errorf("got %q, want 081804", got)
	}
	base := at(1111111110) // a step boundary (1111111110 = 30 * 37037037)
	c := mustCode(t, rfcSecret, base)
	for _, d := range []time.Duration{0, time.Second, 29 * time.Second, 29*time.Second + 999*time.Millisecond} {
		if got := mustCode(t, rfcSecret, base.Add(d)); got != c {
			t.Errorf("code changed %v into the step: %q != %q", d, got, c)
		}
	}
	if got := mustCode(t, rfcSecret, base.Add(-time.Nanosecond)); got == c {
		t.Errorf("code did not change across the step boundary (possible, but not for this vector)")
	}
}

func TestGenerateSecret(t *testing.T) {
	re := regexp.MustCompile(`^[A-Z2-7]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		s, err := GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(s) {
			t.Fatalf("secret %q is not 32 upper-case unpadded base32 characters", s)
		}
		key, err := base32.StdEncoding.DecodeString(s)
		if err != nil || len(key) != 20 {
			t.Fatalf("secret %q decodes to %d bytes, %v", s, len(key), err)
		}
		if seen[s] {
			t.Fatalf("secret repeated: %s", s)
		}
		seen[s] = true
		if _, err := Code(s, time.Now()); err != nil {
			t.Fatalf("Code(generated secret): %v", err)
		}
	}
}

func TestSecretForms(t *testing.T) {
	tm := at(1234567890)
	want := mustCode(t, rfcSecret, tm)
	for _, s := range []string{
		strings.ToLower(rfcSecret),
		"gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
		" GEZDGNBVGY3TQOJQ\tGEZDGNBVGY3TQOJQ\n",
		"GeZdGnBvGy3tQoJqGeZdGnBvGy3tQoJq",
		rfcSecret + "=", // stray padding after a full block is tolerated too
	} {
		if got := mustCode(t, s, tm); got != want {
			t.Errorf("Code(%q) = %q, want %q", s, got, want)
		}
		if _, ok := Verify(s, want, tm, -1); !ok {
			t.Errorf("Verify(%q) rejected the right code", s)
		}
	}

	// A key whose encoding needs padding: with and without it, any case.
	key := []byte("eleven byte")
	padded := base32.StdEncoding.EncodeToString(key)
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("test key should need padding: %q", padded)
	}
	want = mustCode(t, padded, tm)
	for _, s := range []string{strings.TrimRight(padded, "="), strings.ToLower(padded), strings.ToLower(strings.TrimRight(padded, "="))} {
		if got := mustCode(t, s, tm); got != want {
			t.Errorf("Code(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestMalformedSecrets(t *testing.T) {
	for _, s := range []string{
		"",
		"   ",
		"========",
		"GEZDGNB1",           // 1 is not in the base32 alphabet
		"GEZDGNB0",           // nor is 0
		"GEZD=GNB",           // padding in the middle
		"A",                  // impossible length
		"GEZDGNBVG",          // impossible length (9 mod 8 = 1)
		"GEZDGNBVGY3",        // impossible length (11 mod 8 = 3)
		"GEZDGNBVGY3TQOJQ-A", // stray punctuation
		"GEZDGNBVGY3TQOJQGF", // last character has bits set beyond the data ("GE" is canonical)
		"ÄÖÜÄÖÜÄÖ",
		"GEZDGNBV\x00",
	} {
		if c, err := Code(s, at(59)); err == nil {
			t.Errorf("Code(%q) = %q, nil; want an error", s, c)
		}
		if _, ok := Verify(s, "123456", at(59), -1); ok {
			t.Errorf("Verify accepted malformed secret %q", s)
		}
	}
}

func TestCodeBeforeEpoch(t *testing.T) {
	if _, err := Code(rfcSecret, at(-1)); err == nil {
		t.Errorf("Code before the epoch: want an error")
	}
	if got := mustCode(t, rfcSecret, at(0)); len(got) != 6 {
		t.Errorf("Code at the epoch = %q", got)
	}
}

func TestVerifySkewWindow(t *testing.T) {
	now := at(1_700_000_015) // mid-step
	s := now.Unix() / 30
	for d := int64(-3); d <= 3; d++ {
		code := mustCode(t, rfcSecret, at((s+d)*30))
		step, ok := Verify(rfcSecret, code, now, -1)
		inWindow := d >= -1 && d <= 1
		if ok != inWindow {
			t.Errorf("offset %d steps: ok = %v, want %v", d, ok, inWindow)
		}
		if ok && step != s+d {
			t.Errorf("offset %d steps: step = %d, want %d", d, step, s+d)
		}
		if !ok && step != 0 {
			t.Errorf("offset %d steps: rejected with step %d, want 0", d, step)
		}
	}
	// ±29 s around a step start stays within the window; 61 s does not.
	code := mustCode(t, rfcSecret, at(s*30))
	for _, d := range []int64{-30, -1, 0, 29, 59} {
		if _, ok := Verify(rfcSecret, code, at(s*30+d), -1); !ok {
			t.Errorf("code rejected %d s after its step began", d)
		}
	}
	for _, d := range []int64{-31, 60, 90} {
		if _, ok := Verify(rfcSecret, code, at(s*30+d), -1); ok {
			t.Errorf("code accepted %d s after its step began", d)
		}
	}
}

func TestVerifyAtEpoch(t *testing.T) {
	code := mustCode(t, rfcSecret, at(0))
	if step, ok := Verify(rfcSecret, code, at(0), -1); !ok || step != 0 {
		t.Errorf("Verify at epoch = %d, %v; want 0, true", step, ok)
	}
	// Step 0 is still replay-protected.
	if _, ok := Verify(rfcSecret, code, at(0), 0); ok {
		t.Errorf("Verify at epoch accepted a replay")
	}
	if _, ok := Verify(rfcSecret, code, at(-5), -1); !ok {
		t.Errorf("Verify 5 s before the epoch should accept step 0 as skew")
	}
}

func TestVerifyRejectsReplay(t *testing.T) {
	now := at(1_700_000_015)
	s := now.Unix() / 30
	code := mustCode(t, rfcSecret, now)

	step, ok := Verify(rfcSecret, code, now, -1)
	if !ok || step != s {
		t.Fatalf("first use = %d, %v; want %d, true", step, ok, s)
	}
	// The same code again, at once or a little later while still in the window.
	for _, later := range []time.Duration{0, 5 * time.Second, 35 * time.Second} {
		if _, ok := Verify(rfcSecret, code, now.Add(later), step); ok {
			t.Errorf("replay %v later accepted", later)
		}
	}
	// An older code (previous step, still inside the skew window) is refused too.
	prev := mustCode(t, rfcSecret, at((s-1)*30))
	if _, ok := Verify(rfcSecret, prev, now, step); ok {
		t.Errorf("code of an earlier step accepted after a later one was used")
	}
	// A far larger lastUsedStep refuses everything.
	if _, ok := Verify(rfcSecret, code, now, math.MaxInt64); ok {
		t.Errorf("accepted with lastUsedStep = MaxInt64")
	}
	// The next step's code is fine.
	next := mustCode(t, rfcSecret, at((s+1)*30))
	step2, ok := Verify(rfcSecret, next, at((s+1)*30), step)
	if !ok || step2 != s+1 {
		t.Errorf("next step = %d, %v; want %d, true", step2, ok, s+1)
	}
	// A code from a phone running fast (step s+1) used now blocks the current step's code after.
	if st, ok := Verify(rfcSecret, next, now, s-1); !ok || st != s+1 {
		t.Fatalf("skewed-ahead code = %d, %v; want %d, true", st, ok, s+1)
	}
	if _, ok := Verify(rfcSecret, code, now, s+1); ok {
		t.Errorf("current step's code accepted after a later step was used")
	}
	// lastUsedStep one below the current step leaves the current step usable.
	if st, ok := Verify(rfcSecret, code, now, s-1); !ok || st != s {
		t.Errorf("with lastUsedStep = s-1: %d, %v", st, ok)
	}
}

func TestVerifyRejectsMalformedCodes(t *testing.T) {
	now := at(1234567890)
	code := mustCode(t, rfcSecret, now) // 005924
	if _, ok := Verify(rfcSecret, code, now, -1); !ok {
		t.Fatalf("good code rejected")
	}
	fullWidth := strings.Map(func(r rune) rune { return r - '0' + '０' }, code)
	arabic := strings.Map(func(r rune) rune { return r - '0' + '٠' }, code)
	for _, bad := range []string{
		"",
		code[1:],       // 5 digits
		"0" + code,     // 7 digits, numerically equal
		code + "0",     // 7 digits
		" " + code[1:], // 6 characters, not all digits
		code[:3] + " " + code[3:],
		code + " ",
		code + "\n",
		"+" + code[1:],
		"-" + code[1:],
		code[:5] + "a",
		"0x" + code[2:],
		fullWidth,
		arabic,
		code[:5] + "\x00",
		"5924", // the number without its zero padding
		"00005924",
		"９" + code[1:],
	} {
		if _, ok := Verify(rfcSecret, bad, now, -1); ok {
			t.Errorf("Verify accepted %q", bad)
		}
	}
}

func TestURI(t *testing.T) {
	secret := "jbsw y3dp ehpk 3pxp"
	cases := []struct{ issuer, account string }{
		{"Lookit", "alice@example.com"},
		{"Children Helping Science", "Bob O'Neil"},
		{"Acme & Co/Lab?", "a b+c/d?e&f#g%h=i"},
		{"Tricky:Issuer", "tricky:account"},
		{"Ünïcødé", "名前@example.org"},
	}
	for _, c := range cases {
		raw := URI(c.issuer, c.account, secret)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("URI %q does not parse: %v", raw, err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" {
			t.Errorf("%q: scheme %q host %q", raw, u.Scheme, u.Host)
		}
		if u.Fragment != "" || u.User != nil {
			t.Errorf("%q: stray fragment or user info", raw)
		}
		if strings.Contains(u.RawQuery, "+") {
			t.Errorf("%q: query contains '+'", raw)
		}
		escaped := strings.TrimPrefix(u.EscapedPath(), "/")
		if strings.Count(escaped, ":") != 1 || strings.Contains(escaped, "/") {
			t.Errorf("%q: label %q must have exactly one raw ':' and no '/'", raw, escaped)
		}
		iss, acct, _ := strings.Cut(escaped, ":")
		if got, err := url.PathUnescape(iss); err != nil || got != c.issuer {
			t.Errorf("%q: label issuer %q (%v), want %q", raw, got, err, c.issuer)
		}
		if got, err := url.PathUnescape(acct); err != nil || got != c.account {
			t.Errorf("%q: label account %q (%v), want %q", raw, got, err, c.account)
		}
		q := u.Query()
		want := url.Values{
			"secret":    {"JBSWY3DPEHPK3PXP"},
			"issuer":    {c.issuer},
			"algorithm": {"SHA1"},
			"digits":    {"6"},
			"period":    {"30"},
		}
		if len(q) != len(want) {
			t.Errorf("%q: query %v, want %v", raw, q, want)
		}
		for k, v := range want {
			if len(q[k]) != 1 || q[k][0] != v[0] {
				t.Errorf("%q: %s = %q, want %q", raw, k, q[k], v)
			}
		}
		// The secret in the URI produces the same codes.
		if a, b := mustCode(t, q.Get("secret"), at(59)), mustCode(t, secret, at(59)); a != b {
			t.Errorf("secret in URI gives %s, want %s", a, b)
		}
	}

	// The documented shape, for the common case.
	if got, want := URI("Lookit", "alice@example.com", rfcSecret),
		"otpauth://totp/Lookit:alice@example.com?algorithm=SHA1&digits=6&issuer=Lookit&period=30&secret="+rfcSecret; got != want {
		t.Errorf("URI = %q\nwant  %q", got, want)
	}
	// Spaces are %20 in both the label and the query.
	if got := URI("Children Helping Science", "a b", rfcSecret); !strings.HasPrefix(got, "otpauth://totp/Children%20Helping%20Science:a%20b?") ||
		!strings.Contains(got, "issuer=Children%20Helping%20Science") {
		t.Errorf("URI with spaces = %q", got)
	}
	// No issuer: the label is the account alone and there is no issuer parameter.
	u, err := url.Parse(URI("", "carol", rfcSecret))
	if err != nil || u.Path != "/carol" || u.Query().Has("issuer") || u.Query().Get("secret") != rfcSecret {
		t.Errorf("URI without issuer = %v (%v)", u, err)
	}
}

var recoveryRE = regexp.MustCompile(`^[23456789abcdefghjkmnpqrstuvwxyz]{4}(-[23456789abcdefghjkmnpqrstuvwxyz]{4}){3}$`)

func TestRecoveryCodeAlphabetAndEntropy(t *testing.T) {
	if strings.ContainsAny(recoveryAlphabet, "0o1liOIL") {
		t.Errorf("alphabet %q contains an ambiguous character", recoveryAlphabet)
	}
	seen := map[rune]bool{}
	for _, r := range recoveryAlphabet {
		if seen[r] {
			t.Errorf("alphabet repeats %q", r)
		}
		seen[r] = true
	}
	if len(recoveryAlphabet) != 31 {
		t.Errorf("alphabet has %d symbols", len(recoveryAlphabet))
	}
	bits := float64(RecoveryGroups*RecoveryGroupLen) * math.Log2(float64(len(recoveryAlphabet)))
	if bits < 60 {
		t.Errorf("recovery codes carry %.1f bits, want at least 60", bits)
	}
}

func TestNewRecoveryCodes(t *testing.T) {
	all := map[string]bool{}
	counts := map[rune]int{}
	for range 10 {
		codes, err := NewRecoveryCodes(10)
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != 10 {
			t.Fatalf("got %d codes", len(codes))
		}
		for _, c := range codes {
			if !recoveryRE.MatchString(c) {
				t.Errorf("code %q has the wrong format", c)
			}
			if all[c] {
				t.Errorf("code %q repeated", c)
			}
			all[c] = true
			for _, r := range strings.ReplaceAll(c, "-", "") {
				counts[r]++
			}
		}
	}
	// 1600 symbols, about 52 of each: every symbol should turn up, none should dominate.
	if len(counts) != len(recoveryAlphabet) {
		t.Errorf("only %d of %d symbols seen: %v", len(counts), len(recoveryAlphabet), counts)
	}
	for r, n := range counts {
		if n > 120 {
			t.Errorf("symbol %q appeared %d times in 1600", r, n)
		}
	}

	codes, err := NewRecoveryCodes(MaxRecoveryCodes)
	if err != nil || len(codes) != MaxRecoveryCodes {
		t.Errorf("NewRecoveryCodes(max) = %d codes, %v", len(codes), err)
	}
	for _, n := range []int{0, -1, MaxRecoveryCodes + 1, math.MaxInt} {
		if codes, err := NewRecoveryCodes(n); err == nil || codes != nil {
			t.Errorf("NewRecoveryCodes(%d) = %v, %v; want nil, error", n, codes, err)
		}
	}
}

func TestNormalizeAndHashRecoveryCode(t *testing.T) {
	const canonical = "abcdefghjkmnpqrs"
	forms := []string{
		"abcd-efgh-jkmn-pqrs",
		"ABCD-EFGH-JKMN-PQRS",
		"abcd efgh jkmn pqrs",
		" abcdefghjkmnpqrs\n",
		"Abcd-Efgh jkmn\tPQRS",
		"ab-cd--ef-gh-jk-mn-pq-rs",
	}
	// SHA-256("abcdefghjkmnpqrs"), computed outside Go (Python's hashlib).
	const want = "54a4c55a9009eae9f27d09ce2693cecaa2f44fd29978f881c314b3c88d7307bb"
	if sum := sha256.Sum256([]byte(canonical)); hex.EncodeToString(sum[:]) != want {
		t.Fatalf("test literal is wrong")
	}
	for _, f := range forms {
		if got := NormalizeRecoveryCode(f); got != canonical {
			t.Errorf("NormalizeRecoveryCode(%q) = %q", f, got)
		}
		if got := HashRecoveryCode(f); got != want {
			t.Errorf("HashRecoveryCode(%q) = %s, want %s", f, got, want)
		}
	}
	if h := HashRecoveryCode("abcd-efgh-jkmn-pqrt"); h == want || len(h) != 64 {
		t.Errorf("different code hashed to %s", h)
	}
	if h := HashRecoveryCode(""); h != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("hash of empty code = %s", h)
	}
	codes, err := NewRecoveryCodes(20)
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]bool{}
	for _, c := range codes {
		h := HashRecoveryCode(c)
		if len(h) != 64 || strings.ToLower(h) != h || strings.Contains(h, c) {
			t.Errorf("hash %q of %q", h, c)
		}
		hashes[h] = true
		if HashRecoveryCode(strings.ToUpper(strings.ReplaceAll(c, "-", " "))) != h {
			t.Errorf("re-typed %q hashes differently", c)
		}
	}
	if len(hashes) != len(codes) {
		t.Errorf("%d distinct hashes for %d codes", len(hashes), len(codes))
	}
}

// FuzzVerify checks that Verify never panics, never accepts a code that is not exactly six ASCII
// digits, never accepts a replayed step or one outside the skew window, and does accept the
// genuine current code.
func FuzzVerify(f *testing.F) {
	f.Add(rfcSecret, "287082", int64(59), int64(-1))
	f.Add(rfcSecret, "081804", int64(1111111109), int64(37037036))
	f.Add(rfcSecret, "081804", int64(1111111109), int64(37037037))
	f.Add("jbswy3dpehpk3pxp", "000000", int64(0), int64(0))
	f.Add("", "", int64(-1), int64(math.MinInt64))
	f.Add("GEZD=GNB", "12345", int64(math.MaxInt64), int64(math.MaxInt64))
	f.Add("  gezd gnbv ====", "１２３４５６", int64(math.MinInt64), int64(-5))
	f.Fuzz(func(t *testing.T, secret, code string, unix, last int64) {
		tm := time.Unix(unix, 0)
		step, ok := Verify(secret, code, tm, last)
		if ok {
			if !validCode(code) {
				t.Fatalf("accepted non-6-digit code %q", code)
			}
			if step <= last {
				t.Fatalf("accepted step %d <= lastUsedStep %d", step, last)
			}
			now := unix / 30
			if unix < 0 && unix%30 != 0 {
				now--
			}
			if step < now-1 || step > now+1 || step < 0 {
				t.Fatalf("accepted step %d outside the window around %d", step, now)
			}
			if c, err := Code(secret, time.Unix(step*30, 0)); err != nil || c != code {
				t.Fatalf("accepted %q for step %d whose code is %q (%v)", code, step, c, err)
			}
		} else if step != 0 {
			t.Fatalf("rejection returned step %d", step)
		}

		// The genuine code for this moment verifies unless its step was already used.
		c, err := Code(secret, tm)
		if err != nil {
			return
		}
		if len(c) != 6 || !validCode(c) {
			t.Fatalf("Code = %q", c)
		}
		now := unix / 30
		got, ok := Verify(secret, c, tm, last)
		if last < now && (!ok || got < now) {
			t.Fatalf("genuine code %q at step %d rejected (lastUsedStep %d): %d, %v", c, now, last, got, ok)
		}
		if last >= now+1 && ok {
			t.Fatalf("genuine code accepted although lastUsedStep %d covers the window", last)
		}
	})
}

func TestQRCodeIsAPNGDataURI(t *testing.T) {
	uri := URI("Lookit", "researcher@example.org", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	got, err := QRCode(uri)
	if err != nil {
		t.Fatal(err)
	}
	b64, ok := strings.CutPrefix(got, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URI: %.40s", got)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	// A URI of this length needs a version 5+ code (37+ modules): at scale 6 with the quiet zone
	// the image is well over 200 pixels wide and square.
	if b := img.Bounds(); b.Dx() < 200 || b.Dx() != b.Dy() {
		t.Errorf("image %v", b)
	}
}
