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

// The generated request decoders and our checks never answer 5xx or panic, whatever the body.
func FuzzAppAPIRequests(f *testing.F) {
	f.Add("/api/auth/login", `{"email":"a@example.org","password":"x"}`)
	f.Add("/api/auth/2fa", `{"code":"123456"}`)
	f.Add("/api/me/tokens", `{"name":"n","scope":"read","expires_in_days":3}`)
	f.Add("/api/me/tokens", `{"name":"n","scope":"write","expires_in_days":-1}`)
	f.Add("/api/auth/login", "\x00\xff")
	pool := pgtest.Pool(f)
	h := httpapi.New(newInstance(f, instance.Value(pool)))
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/api/") {
			path = "/api/auth/login"
		}
		req := httptest.NewRequest("POST", "/", bytes.NewBufferString(body))
		req.URL.Path = path
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %q %q: %d %s", path, body, rec.Code, rec.Body)
		}
	})
}
