package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/web"
)

var allCodes = map[apperr.Code]int{
	apperr.Invalid:         400,
	apperr.Unauthenticated: 401,
	apperr.Forbidden:       403,
	apperr.NotFound:        404,
	apperr.Conflict:        409,
	apperr.TooLarge:        413,
	apperr.RateLimited:     429,
	apperr.Unsupported:     415,
	apperr.Unavailable:     503,
	apperr.Internal:        500,
}

func TestStatusForEveryCode(t *testing.T) {
	for code, want := range allCodes {
		if got := web.Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
	if got := web.Status("no_such_code"); got != 500 {
		t.Errorf("Status(unknown) = %d, want 500", got)
	}
}

// errorBody is the exact wire shape; decoding with DisallowUnknownFields catches stray keys.
type errorBody struct {
	Errors []struct {
		Status string `json:"status"`
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Source *struct {
			Pointer string `json:"pointer"`
		} `json:"source"`
		ID string `json:"id"`
	} `json:"errors"`
}

func decodeErrorBody(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("no nosniff header")
	}
	var b errorBody
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	if len(b.Errors) != 1 {
		t.Fatalf("errors = %d objects, want 1: %s", len(b.Errors), rec.Body.String())
	}
	return b
}

// serveError runs web.Error behind logging.Middleware so the request has an id.
func serveError(t *testing.T, err error) (*httptest.ResponseRecorder, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log := logging.New(&logs, slog.LevelDebug, "P", "svc")
	h := logging.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Error(w, r, log, err)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/studies", nil))
	return rec, &logs
}

func TestErrorBodyForEveryCode(t *testing.T) {
	for code, status := range allCodes {
		t.Run(string(code), func(t *testing.T) {
			rec, logs := serveError(t, fmt.Errorf("context: %w", &apperr.Error{Code: code, Message: "the detail", Field: "/data/attributes/name"}))
			if rec.Code != status {
				t.Errorf("status = %d, want %d", rec.Code, status)
			}
			b := decodeErrorBody(t, rec).Errors[0]
			if b.Status != strconv.Itoa(status) || b.Code != string(code) || b.Title != http.StatusText(status) || b.Detail != "the detail" {
				t.Errorf("body = %+v", b)
			}
			if b.Source == nil || b.Source.Pointer != "/data/attributes/name" {
				t.Errorf("source = %+v", b.Source)
			}
			if id := rec.Header().Get("X-Request-Id"); b.ID == "" || b.ID != id {
				t.Errorf("id = %q, request id %q", b.ID, id)
			}
			// Only server errors are logged (with the Error Reporting shape).
			logged := strings.Contains(logs.String(), "ReportedErrorEvent")
			if logged != (status >= 500) {
				t.Errorf("status %d logged = %v: %s", status, logged, logs.String())
			}
		})
	}
}

func TestErrorOmitsSourceAndIDWhenAbsent(t *testing.T) {
	rec := httptest.NewRecorder()
	web.Error(rec, httptest.NewRequest(http.MethodGet, "/", nil), slog.New(slog.DiscardHandler), apperr.New(apperr.NotFound, "no such study"))
	var raw struct {
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || len(raw.Errors) != 1 {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	for _, k := range []string{"source", "id"} {
		if _, ok := raw.Errors[0][k]; ok {
			t.Errorf("%s present: %v", k, raw.Errors[0])
		}
	}
	if raw.Errors[0]["detail"] != "no such study" {
		t.Errorf("detail = %v", raw.Errors[0]["detail"])
	}
}

func TestInternalErrorTextNeverReachesTheClient(t *testing.T) {
	secret := errors.New("secret db detail")
	for name, err := range map[string]error{
		"plain":            secret,
		"wrapped":          fmt.Errorf("loading study: %w", secret),
		"app error, cause": apperr.Wrap(secret, apperr.NotFound, "No such study."),
		"unavailable":      apperr.Wrap(secret, apperr.Unavailable, "Try again later."),
	} {
		t.Run(name, func(t *testing.T) {
			rec, logs := serveError(t, err)
			if strings.Contains(rec.Body.String(), "secret") {
				t.Fatalf("body leaks the cause: %s", rec.Body.String())
			}
			b := decodeErrorBody(t, rec).Errors[0]
			if name == "plain" || name == "wrapped" {
				if rec.Code != 500 || b.Code != "internal" || b.Detail != "Internal error." {
					t.Errorf("status %d body %+v", rec.Code, b)
				}
			}
			if rec.Code >= 500 {
				// The cause is kept for the operators, with the request's method and path.
				var line map[string]any
				if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
					t.Fatalf("log %q: %v", logs.String(), err)
				}
				if !strings.Contains(line["message"].(string), "secret db detail") || line["method"] != "POST" || line["path"] != "/api/studies" {
					t.Errorf("log line = %v", line)
				}
				if line["request_id"] != b.ID {
					t.Errorf("log request_id %v, body id %q", line["request_id"], b.ID)
				}
			}
		})
	}
}

func TestJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	web.JSON(rec, http.StatusCreated, "", map[string]int{"n": 1})
	if rec.Code != 201 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("status %d headers %v", rec.Code, rec.Header())
	}
	if strings.TrimSpace(rec.Body.String()) != `{"n":1}` {
		t.Errorf("body = %q", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	web.JSON(rec, http.StatusOK, "application/vnd.api+json", []int{})
	if rec.Header().Get("Content-Type") != "application/vnd.api+json" || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("headers %v body %q", rec.Header(), rec.Body.String())
	}
}

type inner struct {
	N int `json:"n"`
}

type payload struct {
	Name  string  `json:"name"`
	Age   int     `json:"age"`
	Inner inner   `json:"inner"`
	List  []inner `json:"list"`
	Slash int     `json:"a/b~c"`
}

func decode(body, contentType string, limit int64, strict bool, types ...string) (payload, error) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var p payload
	err := web.DecodeJSON(httptest.NewRecorder(), r, limit, &p, strict, types...)
	return p, err
}

func TestDecodeJSONAccepts(t *testing.T) {
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
		p, err := decode(` {"name":"Ada","age":3,"inner":{"n":2}} `+"\n", ct, web.DefaultBodyLimit, true)
		if err != nil || p.Name != "Ada" || p.Age != 3 || p.Inner.N != 2 {
			t.Errorf("Content-Type %q: %+v, %v", ct, p, err)
		}
	}
	// Unknown fields are ignored when not strict.
	if p, err := decode(`{"name":"Ada","extra":1}`, "application/json", 100, false); err != nil || p.Name != "Ada" {
		t.Errorf("non-strict: %+v, %v", p, err)
	}
	// A body of exactly the limit fits.
	body := `{"name":"` + strings.Repeat("x", 20) + `"}`
	if _, err := decode(body, "application/json", int64(len(body)), true); err != nil {
		t.Errorf("body of exactly the limit: %v", err)
	}
	// Other media types when the route names them.
	if _, err := decode(`{}`, "application/vnd.api+json", 100, true, "application/vnd.api+json"); err != nil {
		t.Errorf("custom media type: %v", err)
	}
}

func TestDecodeJSONRejects(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", 200) + `"}`
	cases := []struct {
		name        string
		body, ct    string
		limit       int64
		strict      bool
		types       []string
		code        apperr.Code
		field       string
		msgContains string
	}{
		{"no content type", `{}`, "", 100, true, nil, apperr.Unsupported, "", "application/json"},
		{"text/plain", `{}`, "text/plain", 100, true, nil, apperr.Unsupported, "", "application/json"},
		{"form", `name=x`, "application/x-www-form-urlencoded", 100, true, nil, apperr.Unsupported, "", ""},
		{"bad media type syntax", `{}`, "application/json; =", 100, true, nil, apperr.Unsupported, "", ""},
		{"json when only vnd.api", `{}`, "application/json", 100, true, []string{"application/vnd.api+json"}, apperr.Unsupported, "", "application/vnd.api+json"},
		{"too large", big, "application/json", 64, true, nil, apperr.TooLarge, "", "64 bytes"},
		{"trailing space over limit", `{"name":"x"}` + strings.Repeat(" ", 100), "application/json", 20, true, nil, apperr.TooLarge, "", "20 bytes"},
		{"empty", ``, "application/json", 100, true, nil, apperr.Invalid, "", "empty"},
		{"only whitespace", " \n\t", "application/json", 100, true, nil, apperr.Invalid, "", "empty"},
		{"truncated", `{"name":"Ada",`, "application/json", 100, true, nil, apperr.Invalid, "", "truncated"},
		{"syntax", `{"name" "Ada"}`, "application/json", 100, true, nil, apperr.Invalid, "", "malformed JSON at byte"},
		{"wrong type", `{"age":"three"}`, "application/json", 100, true, nil, apperr.Invalid, "/age", "/age must be int, not string"},
		{"wrong nested type", `{"inner":{"n":true}}`, "application/json", 100, true, nil, apperr.Invalid, "/inner/n", "/inner/n must be int"},
		{"number overflow", `{"age":1e400}`, "application/json", 100, true, nil, apperr.Invalid, "/age", "/age must be int"},
		{"field name escaped", `{"a/b~c":"x"}`, "application/json", 100, true, nil, apperr.Invalid, "/a~1b~0c", ""},
		{"wrong root type", `["x"]`, "application/json", 100, true, nil, apperr.Invalid, "", "request body must be"},
		{"unknown field", `{"name":"Ada","admin":true}`, "application/json", 100, true, nil, apperr.Invalid, "/admin", `unknown field "admin"`},
		{"unknown field with slash", `{"x/y":1}`, "application/json", 100, true, nil, apperr.Invalid, "/x~1y", `unknown field "x/y"`},
		{"unknown field with quote", `{"x\"y":1}`, "application/json", 100, true, nil, apperr.Invalid, `/x"y`, `unknown field "x\"y"`},
		{"two values", `{"name":"a"} {"name":"b"}`, "application/json", 100, true, nil, apperr.Invalid, "", "exactly one JSON value"},
		{"trailing garbage", `{"name":"a"}x`, "application/json", 100, true, nil, apperr.Invalid, "", "exactly one JSON value"},
		{"trailing bracket", `{"name":"a"}}`, "application/json", 100, true, nil, apperr.Invalid, "", "exactly one JSON value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.body, tc.ct, tc.limit, tc.strict, tc.types...)
			var e *apperr.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *apperr.Error", err, err)
			}
			if e.Code != tc.code || e.Field != tc.field {
				t.Errorf("code %q field %q, want %q %q (%v)", e.Code, e.Field, tc.code, tc.field, e)
			}
			if !strings.Contains(e.Message, tc.msgContains) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msgContains)
			}
			if s := web.Status(e.Code); s < 400 || s > 499 {
				t.Errorf("status %d is not a client error", s)
			}
		})
	}
}

// A decoding failure goes through web.Error as a 4xx with the field pointer.
func TestDecodeErrorResponse(t *testing.T) {
	var logs bytes.Buffer
	log := logging.New(&logs, slog.LevelDebug, "", "svc")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p payload
		if err := web.DecodeJSON(w, r, 1024, &p, true); err != nil {
			web.Error(w, r, log, err)
		}
	})
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"age":"x"}`))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 400 {
		t.Fatalf("status %d", rec.Code)
	}
	b := decodeErrorBody(t, rec).Errors[0]
	if b.Code != "invalid" || b.Source == nil || b.Source.Pointer != "/age" {
		t.Errorf("body %+v", b)
	}
	if logs.Len() != 0 {
		t.Errorf("a client error was logged: %s", logs.String())
	}
}

func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	log := logging.New(&logs, slog.LevelDebug, "", "svc")
	h := logging.Middleware(web.Recover(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom: secret internals")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("body leaks the panic: %s", rec.Body.String())
	}
	b := decodeErrorBody(t, rec).Errors[0]
	if b.Code != "internal" || b.Status != "500" || b.ID != rec.Header().Get("X-Request-Id") {
		t.Errorf("body %+v", b)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line["severity"] != "ERROR" || !strings.Contains(line["message"].(string), "panic: boom: secret internals") ||
		!strings.Contains(line["stack_trace"].(string), "goroutine") {
		t.Errorf("log line = %v", line)
	}
}

func TestRecoverPassesThroughAndRepanicsAbort(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ok := web.Recover(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	rec := httptest.NewRecorder()
	ok.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("status %d body %q", rec.Code, rec.Body.String())
	}

	abort := web.Recover(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler to propagate", v)
		}
	}()
	abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	t.Errorf("ErrAbortHandler was swallowed")
}

func FuzzDecodeJSON(f *testing.F) {
	seeds := []string{
		``, `{}`, `{"name":"Ada","age":3}`, `{"age":"x"}`, `{"inner":{"n":1.5}}`, `{"list":[{"n":1},{"n":"x"}]}`,
		`{"x":1}`, `{} {}`, `{`, `[`, `"`, `nul`, `null`, `1e999`, `{"age":1e999}`, "\xff", `{"a/b~c":1}`,
		strings.Repeat("[", 20000), `{"name":"\ud800"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), "application/json", true, int64(64))
		f.Add([]byte(s), "application/json; charset=utf-8", false, int64(1<<20))
	}
	f.Add([]byte(`{}`), "text/plain", true, int64(10))
	f.Add([]byte(`{}`), "", false, int64(0))
	f.Fuzz(func(t *testing.T, body []byte, contentType string, strict bool, limit int64) {
		if limit < 0 {
			limit = -limit
		}
		limit %= 1 << 21
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var p payload
		err := web.DecodeJSON(httptest.NewRecorder(), r, limit, &p, strict)
		if err == nil {
			return
		}
		var e *apperr.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not an *apperr.Error", err, err)
		}
		if s := web.Status(e.Code); s < 400 || s > 499 {
			t.Fatalf("error %v has status %d, want 4xx", err, s)
		}
		if e.Message == "" {
			t.Fatalf("error %v has no message", err)
		}
	})
}
