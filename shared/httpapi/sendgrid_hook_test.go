package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/sendgrid"
	"lookit.dev/platform/shared/web"
)

// webhookKey is a SendGrid-like signing key and the handler configured with its public half.
func webhookKey(t *testing.T, pool *pgxpool.Pool) (*ecdsa.PrivateKey, http.Handler) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, instance.Value(pool))
	in.Config.SendGridWebhookPublicKey = base64.StdEncoding.EncodeToString(der)
	return k, httpapi.New(in)
}

// postEvents posts body as SendGrid does, signed with k at time at (nil k: unsigned); more adds
// headers or cookies.
func postEvents(t *testing.T, h http.Handler, k *ecdsa.PrivateKey, at time.Time, body string, more ...func(*http.Request)) (int, web.ErrorBody) {
	t.Helper()
	req := httptest.NewRequest("POST", httpapi.SendGridEventsPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if k != nil {
		ts := strconv.FormatInt(at.Unix(), 10)
		sum := sha256.Sum256(append([]byte(ts), body...))
		sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(sendgrid.SignatureHeader, base64.StdEncoding.EncodeToString(sig))
		req.Header.Set(sendgrid.TimestampHeader, ts)
	}
	for _, f := range more {
		f(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out web.ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

type suppressionState struct {
	Reason  string
	Count   int
	Last    time.Time
	Updated time.Time
}

func suppressions(t *testing.T, pool *pgxpool.Pool, emails ...string) map[string]suppressionState {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT email::text, reason, event_count, last_event_at, updated_at
		FROM email_suppressions WHERE email = ANY($1::citext[])`, emails)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]suppressionState{}
	for rows.Next() {
		var e string
		var s suppressionState
		if err := rows.Scan(&e, &s.Reason, &s.Count, &s.Last, &s.Updated); err != nil {
			t.Fatal(err)
		}
		out[strings.ToLower(e)] = s
	}
	return out
}

func hookAddresses(names ...string) map[string]string {
	tag := uuid.NewString()[:8]
	out := map[string]string{}
	for _, n := range names {
		out[n] = n + "-" + tag + "@example.org"
	}
	return out
}

func TestSendGridWebhookRecordsSuppressionsOnce(t *testing.T) {
	pool := pgtest.Pool(t)
	k, h := webhookKey(t, pool)
	a := hookAddresses("bounced", "blocked", "spam", "dropped", "delivered", "opened", "dropped-unsub")
	now := time.Now()
	ts := now.Add(-time.Hour).Unix()
	id := uuid.NewString()[:8]
	body := fmt.Sprintf(`[
		{"email":%[1]q,"event":"bounce","type":"bounce","sg_event_id":"b-%[8]s","timestamp":%[9]d,"reason":"550 5.1.1 unknown user","email_id":"x"},
		{"email":%[2]q,"event":"bounce","type":"blocked","sg_event_id":"k-%[8]s","timestamp":%[9]d},
		{"email":%[3]q,"event":"spamreport","sg_event_id":"s-%[8]s","timestamp":%[9]d},
		{"email":%[4]q,"event":"dropped","reason":"Bounced Address","sg_event_id":"d-%[8]s","timestamp":%[9]d},
		{"email":%[5]q,"event":"delivered","sg_event_id":"v-%[8]s","timestamp":%[9]d,"response":"250 OK"},
		{"email":%[6]q,"event":"open","sg_event_id":"o-%[8]s","timestamp":%[9]d,"useragent":"Mozilla","ip":"192.0.2.1"},
		{"email":%[7]q,"event":"dropped","reason":"Unsubscribed Address","sg_event_id":"u-%[8]s","timestamp":%[9]d}
	]`, a["bounced"], a["blocked"], a["spam"], a["dropped"], a["delivered"], a["opened"], a["dropped-unsub"], id, ts)
	all := make([]string, 0, len(a))
	for _, e := range a {
		all = append(all, e)
	}

	if code, out := postEvents(t, h, k, now, body); code != http.StatusNoContent {
		t.Fatalf("signed batch: %d %+v", code, out)
	}
	got := suppressions(t, pool, all...)
	want := map[string]string{a["bounced"]: "bounce", a["blocked"]: "blocked", a["spam"]: "spamreport", a["dropped"]: "bounce"}
	if len(got) != len(want) {
		t.Errorf("suppressed %v, want exactly %v (delivered, open and unsubscribe drops are not suppressions)", got, want)
	}
	for e, reason := range want {
		if s, ok := got[e]; !ok || s.Reason != reason || s.Count != 1 || s.Last.Unix() != ts {
			t.Errorf("%s: %+v %v, want %s once at %d", e, s, ok, reason, ts)
		}
	}

	// SendGrid retries the same batch (new signature, same events): nothing changes at all.
	if code, out := postEvents(t, h, k, time.Now(), body); code != http.StatusNoContent {
		t.Fatalf("replayed batch: %d %+v", code, out)
	}
	if again := suppressions(t, pool, all...); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("replay changed the suppressions:\n%v\nwas\n%v", again, got)
	}

	// A later bounce of the same address (any case) counts.
	later := fmt.Sprintf(`[{"email":%q,"event":"bounce","sg_event_id":"b2-%s","timestamp":%d}]`, strings.ToUpper(a["bounced"]), id, ts+60)
	if code, _ := postEvents(t, h, k, time.Now(), later); code != http.StatusNoContent {
		t.Fatalf("later bounce: %d", code)
	}
	if s := suppressions(t, pool, a["bounced"])[a["bounced"]]; s.Count != 2 || s.Last.Unix() != ts+60 {
		t.Errorf("after a second bounce: %+v", s)
	}

	// Events with no suppressing meaning, or addresses the table cannot hold, are answered 204.
	if code, _ := postEvents(t, h, k, time.Now(), `[]`); code != http.StatusNoContent {
		t.Errorf("empty batch: %d", code)
	}
	if code, _ := postEvents(t, h, k, time.Now(), `[{"email":"not an address","event":"dropped","reason":"Invalid","timestamp":1},{"event":"bounce"}]`); code != http.StatusNoContent {
		t.Errorf("unusable addresses: %d", code)
	}
}

func TestSendGridWebhookRefusesWhatIsNotSignedFreshAndWellFormed(t *testing.T) {
	pool := pgtest.Pool(t)
	k, h := webhookKey(t, pool)
	other, _ := webhookKey(t, pool)
	a := hookAddresses("victim")
	body := fmt.Sprintf(`[{"email":%q,"event":"bounce","sg_event_id":"r-%s","timestamp":1}]`, a["victim"], uuid.NewString())
	now := time.Now()

	cases := []struct {
		name string
		code int
		errc string
		send func() (int, web.ErrorBody)
	}{
		{"unsigned", 401, "unauthenticated", func() (int, web.ErrorBody) { return postEvents(t, h, nil, now, body) }},
		{"other key", 401, "unauthenticated", func() (int, web.ErrorBody) { return postEvents(t, h, other, now, body) }},
		{"stale", 401, "unauthenticated", func() (int, web.ErrorBody) { return postEvents(t, h, k, now.Add(-11*time.Minute), body) }},
		{"from the future", 401, "unauthenticated", func() (int, web.ErrorBody) { return postEvents(t, h, k, now.Add(5*time.Minute), body) }},
		{"body changed after signing", 401, "unauthenticated", func() (int, web.ErrorBody) {
			return postEvents(t, h, k, now, body, func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(strings.Replace(body, "bounce", "spamreport", 1)))
			})
		}},
		{"timestamp changed after signing", 401, "unauthenticated", func() (int, web.ErrorBody) {
			return postEvents(t, h, k, now, body, func(r *http.Request) {
				r.Header.Set(sendgrid.TimestampHeader, strconv.FormatInt(now.Unix()+1, 10))
			})
		}},
		{"signature only", 401, "unauthenticated", func() (int, web.ErrorBody) {
			return postEvents(t, h, k, now, body, func(r *http.Request) { r.Header.Del(sendgrid.TimestampHeader) })
		}},
		{"malformed JSON", 400, "invalid", func() (int, web.ErrorBody) { return postEvents(t, h, k, now, `[{"email":`) }},
		{"not an array", 400, "invalid", func() (int, web.ErrorBody) { return postEvents(t, h, k, now, `{"email":"x@example.org"}`) }},
		{"over 1 MiB", 413, "too_large", func() (int, web.ErrorBody) {
			return postEvents(t, h, k, now, "["+strings.Repeat(" ", sendgrid.MaxEventBody)+"]")
		}},
	}
	for _, tc := range cases {
		code, out := tc.send()
		if code != tc.code || len(out.Errors) != 1 || out.Errors[0].Code != tc.errc {
			t.Errorf("%s: %d %+v; want %d %s", tc.name, code, out, tc.code, tc.errc)
		}
	}
	if got := suppressions(t, pool, a["victim"]); len(got) != 0 {
		t.Errorf("a refused call recorded %v", got)
	}

	// Without a configured key nothing can be verified: 503, even for a well-signed call.
	in := newInstance(t, instance.Value(pool))
	in.Config.SendGridWebhookPublicKey = ""
	if code, out := postEvents(t, httpapi.New(in), k, now, body); code != 503 || len(out.Errors) != 1 || out.Errors[0].Code != "unavailable" {
		t.Errorf("unconfigured: %d %+v", code, out)
	}
	in = newInstance(t, instance.Value(pool))
	in.Config.SendGridWebhookPublicKey = "not a key"
	if code, _ := postEvents(t, httpapi.New(in), k, now, body); code != 503 {
		t.Errorf("bad key configured: %d", code)
	}
	// Only POST is routed.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", httpapi.SendGridEventsPath, nil))
	if rec.Code != 404 {
		t.Errorf("GET: %d", rec.Code)
	}
	if got := suppressions(t, pool, a["victim"]); len(got) != 0 {
		t.Errorf("recorded %v", got)
	}
}

// The webhook is outside the app API and the compatibility API, so the route matrices do not
// cover it: no session, site admin's included, and no API token stands in for SendGrid's signature.
func TestSendGridWebhookIgnoresSessionsAndTokens(t *testing.T) {
	pool := pgtest.Pool(t)
	k, h := webhookKey(t, pool)
	a := hookAddresses("target")
	body := fmt.Sprintf(`[{"email":%q,"event":"spamreport","sg_event_id":"c-%s","timestamp":1}]`, a["target"], uuid.NewString())
	for _, r := range []role{
		{name: "family"},
		{name: "site-admin", researcher: true, siteAdmin: true, twoFactor: true},
		{name: "token-read-write", researcher: true, token: authz.ScopeReadWrite},
	} {
		cred := credential(t, pool, newUser(t, pool, 0, r), r)
		code, out := postEvents(t, h, nil, time.Now(), body, cred)
		if code != http.StatusUnauthorized || len(out.Errors) != 1 || out.Errors[0].Code != "unauthenticated" {
			t.Errorf("%s without a signature: %d %+v; want 401", r.name, code, out)
		}
		// A credential does not excuse a bad signature either.
		code, _ = postEvents(t, h, k, time.Now(), body, cred, func(req *http.Request) {
			req.Header.Set(sendgrid.SignatureHeader, base64.StdEncoding.EncodeToString([]byte("forged")))
		})
		if code != http.StatusUnauthorized {
			t.Errorf("%s with a forged signature: %d; want 401", r.name, code)
		}
	}
	if got := suppressions(t, pool, a["target"]); len(got) != 0 {
		t.Fatalf("a credential without a signature recorded %v", got)
	}
	// The signature alone is enough, and no CSRF token is asked for.
	if code, out := postEvents(t, h, k, time.Now(), body); code != http.StatusNoContent {
		t.Fatalf("signed, anonymous: %d %+v", code, out)
	}
	if got := suppressions(t, pool, a["target"]); len(got) != 1 {
		t.Errorf("signed call recorded %v", got)
	}
}
