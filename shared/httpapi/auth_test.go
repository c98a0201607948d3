package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/demo"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/totp"
)

const demoSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// client keeps cookies like a browser and sends X-CSRFToken like the experiment runner.
type client struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]string
}

func (c *client) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	if v, ok := c.cookies[httpapi.CSRFCookie]; ok && method != http.MethodGet {
		req.Header.Set(httpapi.CSRFHeader, v)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestDemoUsersLogInAndTheResearcherCompletesTwoFactor(t *testing.T) {
	pool := pgtest.Pool(t)
	if err := demo.Seed(context.Background(), pool, "demo password 123", demoSecret); err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(newInstance(t, instance.Value(pool)))

	parent := &client{t: t, h: h, cookies: map[string]string{}}
	if code, body := parent.do("POST", "/api/auth/login", `{"email":"PARENT@example.org","password":"demo password 123"}`); code != 200 || body["two_factor_required"] != false {
		t.Fatalf("parent log-in: %d %v", code, body)
	}
	if code, body := parent.do("GET", "/api/me", ""); code != 200 || body["email"] != demo.ParentEmail {
		t.Fatalf("parent /api/me: %d %v", code, body)
	}

	r := &client{t: t, h: h, cookies: map[string]string{}}
	code, body := r.do("POST", "/api/auth/login", `{"email":"researcher@example.org","password":"demo password 123"}`)
	if code != 200 || body["two_factor_required"] != true || body["totp_setup_required"] != false {
		t.Fatalf("researcher log-in: %d %v", code, body)
	}
	if r.cookies[httpapi.SessionCookie] == "" || r.cookies[httpapi.CSRFCookie] == "" {
		t.Fatalf("cookies %v", r.cookies)
	}
	if code, _ := r.do("POST", "/api/auth/2fa", `{"code":"000000"}`); code != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", code)
	}
	totpCode, _ := totp.Code(demoSecret, time.Now())
	if code, body := r.do("POST", "/api/auth/2fa", `{"code":"`+totpCode+`"}`); code != http.StatusNoContent {
		t.Fatalf("2FA with a code from DEMO_TOTP_SECRET: %d %v", code, body)
	}
	if code, body := r.do("GET", "/api/me", ""); code != 200 || body["two_factor"] != true {
		t.Fatalf("after 2FA /api/me: %d %v", code, body)
	}
	// Without the CSRF header a cookie-authenticated unsafe request is refused.
	req := httptest.NewRequest("POST", "/api/auth/logout", nil)
	req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: r.cookies[httpapi.SessionCookie]})
	req.AddCookie(&http.Cookie{Name: httpapi.CSRFCookie, Value: r.cookies[httpapi.CSRFCookie]})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "CSRF") {
		t.Fatalf("log-out without X-CSRFToken: %d %s", rec.Code, rec.Body)
	}
	if code, _ := r.do("POST", "/api/auth/logout", ""); code != http.StatusNoContent {
		t.Fatalf("log-out: %d", code)
	}
	if code, _ := r.do("GET", "/api/me", ""); code != http.StatusUnauthorized {
		t.Fatalf("/api/me after log-out: %d", code)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	pool := pgtest.Pool(t)
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	c := &client{t: t, h: h, cookies: map[string]string{}}
	cases := []struct {
		body    string
		status  int
		pointer string
	}{
		{`{"password":"x"}`, 400, "/email"},
		{`{"email":"a@example.org"}`, 400, "/password"},
		{`{"email":5,"password":"x"}`, 400, "/email"},
		{`{"email":"` + strings.Repeat("a", 300) + `@example.org","password":"x"}`, 400, "/email"},
		{`{"email":"a@example.org","password":"` + strings.Repeat("p", 70<<10) + `"}`, 413, ""},
		{`{`, 400, ""},
	}
	for _, tc := range cases {
		code, body := c.do("POST", "/api/auth/login", tc.body)
		if code != tc.status {
			t.Errorf("%.60s: %d %v, want %d", tc.body, code, body, tc.status)
			continue
		}
		if tc.pointer != "" {
			errs, _ := body["errors"].([]any)
			if len(errs) != 1 || !strings.Contains(toJSON(errs[0]), `"pointer":"`+tc.pointer+`"`) {
				t.Errorf("%.60s: error %v does not name %s", tc.body, body, tc.pointer)
			}
		}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The generated request decoders and our checks never answer 5xx or panic, whatever the body,
// for an anonymous caller, a family and a researcher with two factors.
func FuzzAppAPIRequests(f *testing.F) {
	f.Add(uint8(0), "POST", "/api/auth/login", `{"email":"a@example.org","password":"x"}`)
	f.Add(uint8(0), "POST", "/api/auth/2fa", `{"code":"123456"}`)
	f.Add(uint8(2), "POST", "/api/me/tokens", `{"name":"n","scope":"read","expires_in_days":3}`)
	f.Add(uint8(2), "POST", "/api/me/tokens", `{"name":"n","scope":"write","expires_in_days":-1}`)
	f.Add(uint8(0), "POST", "/api/auth/login", "\x00\xff")
	f.Add(uint8(1), "POST", "/api/children", `{"given_name":"A","birthday":"2024-02-30","gender":"f","languages_spoken":["en","zz"]}`)
	f.Add(uint8(1), "PUT", "/api/children/00000000-0000-0000-0000-000000000000", `{"given_name":"A","gestational_age_at_birth":-1}`)
	f.Add(uint8(1), "POST", "/api/demographics", `{"child_birthdays":["2020-01-01"],"extra":{"a":[1,2]},"country":"US","state":"XX"}`)
	f.Add(uint8(1), "PUT", "/api/me/email-preferences", `{"email_next_session":"yes"}`)
	f.Add(uint8(2), "POST", "/api/labs", `{"name":"L","institution":"U","principal_investigator_name":"P","contact_email":"l@x.org","contact_phone":"1234","description":"d","irb_contact_info":"i","slug":"-a-"}`)
	f.Add(uint8(2), "PUT", "/api/labs/00000000-0000-0000-0000-000000000000/members/x", `{"role":"admin"}`)
	f.Add(uint8(0), "POST", "/api/unsubscribe/AAAA", "List-Unsubscribe=One-Click")
	pool := pgtest.Pool(f)
	h := httpapi.New(newInstance(f, instance.Value(pool)))
	// The researcher administers a lab, so study bodies reach validation.
	var labID int64
	var labUUID string
	if err := pool.QueryRow(context.Background(), `INSERT INTO labs (name, approved_to_test) VALUES ('Fuzz Lab', true)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, uuid::text`).Scan(&labID, &labUUID); err != nil {
		f.Fatal(err)
	}
	for _, body := range []string{`{"study_type":"frameplayer","name":"S","structure":{"frames":{"a":{"kind":"exp-lookit-text"}},"sequence":["a"]},"criteria_expression":"deaf OR (age_in_days > 30 AND NOT speaks_en)"}`,
		`{"study_type":"external","name":"S","metadata":{"url":"https://x.org","scheduled":true},"max_responses":3,"min_age_years":1}`,
		`{"study_type":"jspsych","name":"S","metadata":{"experiment":"jsPsych.run([])"},"must_not_have_participated":["x"]}`} {
		f.Add(uint8(2), "POST", "/api/labs/"+labUUID+"/studies", body)
	}
	family := role{name: "fuzz-family"}
	researcher := role{name: "fuzz-researcher", researcher: true, twoFactor: true, lab: authz.LabAdmin}
	creds := []func(*http.Request){func(*http.Request) {}}
	for _, r := range []role{family, researcher} {
		creds = append(creds, credential(f, pool, newUser(f, pool, labID, r), r))
	}
	f.Fuzz(func(t *testing.T, who uint8, method, path, body string) {
		if !strings.HasPrefix(path, "/api/") {
			path = "/api/auth/login"
		}
		if method != "PUT" && method != "DELETE" && method != "GET" {
			method = "POST"
		}
		req := httptest.NewRequest(method, "/", bytes.NewBufferString(body))
		req.URL.Path = path
		req.Header.Set("Content-Type", "application/json")
		creds[int(who)%len(creds)](req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q %q as %d: %d %s", method, path, body, who, rec.Code, rec.Body)
		}
	})
}

func TestResearcherEnrolsAnAuthenticatorAndRecoveryCodesWorkOnce(t *testing.T) {
	pool := pgtest.Pool(t)
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	hash, _ := passwordHash(t)
	if _, err := pool.Exec(context.Background(), `INSERT INTO users (email, password_hash, is_researcher) VALUES ('enrol@example.org', $1, true)`, hash); err != nil {
		t.Fatal(err)
	}
	login := `{"email":"enrol@example.org","password":"login target password"}`
	r := &client{t: t, h: h, cookies: map[string]string{}}
	if code, body := r.do("POST", "/api/auth/login", login); code != 200 || body["totp_setup_required"] != true {
		t.Fatalf("log-in: %d %v", code, body)
	}
	// Researcher actions wait for the second factor.
	if code, _ := r.do("POST", "/api/labs", `{}`); code != http.StatusForbidden {
		t.Errorf("lab creation before 2FA: %d", code)
	}
	code, enrol := r.do("POST", "/api/me/totp", "")
	if code != 200 || !strings.HasPrefix(enrol["otpauth_uri"].(string), "otpauth://totp/") ||
		!strings.HasPrefix(enrol["qr_code"].(string), "data:image/png;base64,") {
		t.Fatalf("enrol: %d %v", code, enrol)
	}
	now, _ := totp.Code(enrol["secret"].(string), time.Now())
	code, act := r.do("POST", "/api/me/totp/activate", `{"code":"`+now+`"}`)
	codes, _ := act["recovery_codes"].([]any)
	if code != 200 || len(codes) != 10 {
		t.Fatalf("activate: %d %v", code, act)
	}
	if _, me := r.do("GET", "/api/me", ""); me["two_factor"] != true {
		t.Errorf("session after activation: %v", me)
	}
	// A new browser logs in with a recovery code, which is then spent.
	for i, want := range []int{http.StatusNoContent, http.StatusUnauthorized} {
		b := &client{t: t, h: h, cookies: map[string]string{}}
		if code, body := b.do("POST", "/api/auth/login", login); code != 200 || body["two_factor_required"] != true {
			t.Fatalf("log-in %d: %d %v", i, code, body)
		}
		if code, body := b.do("POST", "/api/auth/2fa", `{"code":"`+codes[0].(string)+`"}`); code != want {
			t.Errorf("recovery code use %d: %d %v, want %d", i+1, code, body, want)
		}
	}
}
