package sendgrid_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/sendgrid"
)

func newKey(t *testing.T, curve elliptic.Curve) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, base64.StdEncoding.EncodeToString(der)
}

// sign signs timestamp||body as SendGrid does: base64 of an ASN.1 ECDSA signature of the SHA-256.
func sign(t *testing.T, k *ecdsa.PrivateKey, ts string, body []byte) string {
	t.Helper()
	h := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestParsePublicKey(t *testing.T) {
	_, good := newKey(t, elliptic.P256())
	if _, err := sendgrid.ParsePublicKey(good); err != nil {
		t.Fatalf("P-256 key: %v", err)
	}
	if _, err := sendgrid.ParsePublicKey(" " + good + "\n"); err != nil {
		t.Errorf("P-256 key with surrounding space: %v", err)
	}
	_, p384 := newKey(t, elliptic.P384())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	for name, bad := range map[string]string{
		"P-384":      p384,
		"RSA":        base64.StdEncoding.EncodeToString(der),
		"not base64": "not base64!",
		"not DER":    base64.StdEncoding.EncodeToString([]byte("hello")),
		"empty":      "",
	} {
		if _, err := sendgrid.ParsePublicKey(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestVerifyWebhook(t *testing.T) {
	k, pubB64 := newKey(t, elliptic.P256())
	pub, err := sendgrid.ParsePublicKey(pubB64)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newKey(t, elliptic.P256())
	now := time.Unix(1_750_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`[{"email":"a@example.org","event":"bounce","type":"bounce","timestamp":1750000000}]`)
	sig := sign(t, k, ts, body)

	if err := sendgrid.VerifyWebhook(pub, sig, ts, body, now); err != nil {
		t.Fatalf("valid call: %v", err)
	}
	// Within the window: nine minutes late, a minute early.
	for _, at := range []time.Time{now.Add(-9 * time.Minute), now.Add(time.Minute)} {
		ts := strconv.FormatInt(at.Unix(), 10)
		if err := sendgrid.VerifyWebhook(pub, sign(t, k, ts, body), ts, body, now); err != nil {
			t.Errorf("timestamp %v from now: %v", at.Sub(now), err)
		}
	}
	tsAt := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	cases := []struct {
		name          string
		sig, ts, body string
		want          error
	}{
		{"no signature", "", ts, string(body), sendgrid.ErrNoSignature},
		{"no timestamp", sig, "", string(body), sendgrid.ErrNoSignature},
		{"body changed", sig, ts, string(body) + " ", sendgrid.ErrBadSignature},
		{"timestamp changed", sig, tsAt(time.Second), string(body), sendgrid.ErrBadSignature},
		{"other key", sign(t, other, ts, body), ts, string(body), sendgrid.ErrBadSignature},
		{"signature not base64", "***", ts, string(body), sendgrid.ErrBadSignature},
		{"signature garbage", base64.StdEncoding.EncodeToString([]byte("garbage")), ts, string(body), sendgrid.ErrBadSignature},
		{"stale", sign(t, k, tsAt(-11*time.Minute), body), tsAt(-11 * time.Minute), string(body), sendgrid.ErrStale},
		{"from the future", sign(t, k, tsAt(3*time.Minute), body), tsAt(3 * time.Minute), string(body), sendgrid.ErrStale},
		{"timestamp not a number", sign(t, k, "soon", body), "soon", string(body), sendgrid.ErrStale},
	}
	for _, tc := range cases {
		if err := sendgrid.VerifyWebhook(pub, tc.sig, tc.ts, []byte(tc.body), now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestEventsThatSuppress(t *testing.T) {
	body := `[
		{"email":"a@example.org","event":"bounce","type":"bounce","sg_event_id":"e1","timestamp":1},
		{"email":"b@example.org","event":"bounce","sg_event_id":"e2","timestamp":2},
		{"email":"c@example.org","event":"bounce","type":"blocked","sg_event_id":"e3","timestamp":3},
		{"email":"d@example.org","event":"spamreport","sg_event_id":"e4","timestamp":4},
		{"email":"e@example.org","event":"dropped","reason":"Bounced Address","sg_event_id":"e5","timestamp":5},
		{"email":"f@example.org","event":"dropped","reason":"Spam Reporting Address","sg_event_id":"e6","timestamp":6},
		{"email":"g@example.org","event":"dropped","reason":"Invalid","sg_event_id":"e7","timestamp":7},
		{"email":"h@example.org","event":"dropped","reason":"Unsubscribed Address","sg_event_id":"e8","timestamp":8},
		{"email":"i@example.org","event":"delivered","sg_event_id":"e9","timestamp":9},
		{"email":"j@example.org","event":"open","sg_event_id":"e10","timestamp":10,"useragent":"x","category":["a","b"]},
		{"email":"k@example.org","event":"deferred","sg_event_id":"e11","timestamp":11},
		{"email":"l@example.org","event":"processed","sg_event_id":"e12","timestamp":12,"email_id":"m-1"}
	]`
	evs, err := sendgrid.ParseEvents([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "bounce", "b": "bounce", "c": "blocked", "d": "spamreport", "e": "bounce", "f": "spamreport", "g": "invalid"}
	for _, e := range evs {
		reason, ok := e.Suppression()
		local := strings.TrimSuffix(e.Email, "@example.org")
		if w, suppress := want[local]; ok != suppress || reason != w {
			t.Errorf("%s (%s %s%s): %q %v, want %q %v", e.Email, e.Event, e.Type, e.Reason, reason, ok, w, suppress)
		}
	}
	if evs[11].EmailID != "m-1" || evs[11].Key() != "e12" || !evs[11].Time().Equal(time.Unix(12, 0)) {
		t.Errorf("event = %+v", evs[11])
	}
	for _, bad := range []string{``, `{}`, `null`, `[{"email":1}]`, `[{"timestamp":"x"}]`, `[`} {
		if _, err := sendgrid.ParseEvents([]byte(bad)); err == nil {
			t.Errorf("ParseEvents(%q) accepted", bad)
		}
	}
	if evs, err := sendgrid.ParseEvents([]byte(`[]`)); err != nil || len(evs) != 0 {
		t.Errorf("empty array: %v %v", evs, err)
	}
}

func TestEventKeyWithoutAnID(t *testing.T) {
	e := sendgrid.Event{Email: "Person@Example.org", Event: "dropped", Reason: "Bounced Address", Timestamp: 5}
	k := e.Key()
	if !strings.HasPrefix(k, "sha256:") || strings.Contains(strings.ToLower(k), "example") {
		t.Fatalf("Key = %q", k)
	}
	same := e
	same.Email = "person@example.org"
	if same.Key() != k {
		t.Errorf("the key depends on the address's case")
	}
	later := e
	later.Timestamp = 6
	if later.Key() == k {
		t.Errorf("two events at different times share a key")
	}
	weird := e
	weird.ID = "has space"
	if weird.Key() == weird.ID {
		t.Errorf("an id that cannot be stored as it is was used as the key")
	}
}
