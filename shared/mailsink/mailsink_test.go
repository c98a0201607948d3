package mailsink_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/mailsink"
)

func post(t *testing.T, h http.Handler, auth, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v3/mail/send", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func list(t *testing.T, s *mailsink.Sink) (string, []mailsink.Message) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ListHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("list: status %d headers %v", rec.Code, rec.Header())
	}
	var msgs []mailsink.Message
	if err := json.Unmarshal(rec.Body.Bytes(), &msgs); err != nil {
		t.Fatalf("list body %q: %v", rec.Body.String(), err)
	}
	return strings.TrimSpace(rec.Body.String()), msgs
}

func TestListIsAnEmptyArrayAtFirst(t *testing.T) {
	var s mailsink.Sink
	if body, _ := list(t, &s); body != "[]" {
		t.Errorf("empty list = %q, want []", body)
	}
	if m := s.Messages(); len(m) != 0 {
		t.Errorf("Messages = %v", m)
	}
}

const twoPersonalizations = `{
	"from": {"email": "bot@example.org", "name": "Lookit"},
	"subject": "Default subject",
	"personalizations": [
		{"to": [{"email": "a@example.org"}], "custom_args": {"email_id": "e1"}, "headers": {"List-Unsubscribe": "<https://x.example/u/a>"}},
		{"to": [{"email": "b@example.org", "name": "B"}], "subject": "Own subject"}
	],
	"content": [{"type": "text/plain", "value": "Hi"}, {"type": "text/html", "value": "<p>Hi</p>"}],
	"categories": ["welcome"],
	"headers": {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
}`

func TestSendStoresOneMessagePerPersonalization(t *testing.T) {
	var s mailsink.Sink
	before := time.Now().UTC().Add(-time.Second)
	rec := post(t, s.SendHandler(), "Bearer k", twoPersonalizations)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	id := rec.Header().Get("X-Message-Id")
	if id == "" {
		t.Fatal("no X-Message-Id")
	}
	_, msgs := list(t, &s)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2: %+v", len(msgs), msgs)
	}
	a, b := msgs[0], msgs[1]
	if a.ID != id+".0" || b.ID != id+".1" {
		t.Errorf("ids %q %q, X-Message-Id %q", a.ID, b.ID, id)
	}
	if a.From != "Lookit <bot@example.org>" || len(a.To) != 1 || a.To[0] != "a@example.org" || a.Subject != "Default subject" {
		t.Errorf("first = %+v", a)
	}
	if len(b.To) != 1 || b.To[0] != "b@example.org" || b.Subject != "Own subject" {
		t.Errorf("second = %+v", b)
	}
	for _, m := range msgs {
		if m.Text != "Hi" || m.HTML != "<p>Hi</p>" || len(m.Categories) != 1 || m.Categories[0] != "welcome" {
			t.Errorf("content/categories = %+v", m)
		}
		if m.ReceivedAt.Before(before) {
			t.Errorf("ReceivedAt = %v", m.ReceivedAt)
		}
	}
	if a.CustomArgs["email_id"] != "e1" || b.CustomArgs != nil {
		t.Errorf("custom args %v %v", a.CustomArgs, b.CustomArgs)
	}
	// Each family's unsubscribe link shows on its own copy, beside the message's headers.
	if a.Headers["List-Unsubscribe"] != "<https://x.example/u/a>" || b.Headers["List-Unsubscribe"] != "" ||
		a.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" || b.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Errorf("headers %v %v", a.Headers, b.Headers)
	}

	// A second send appends; Messages returns a copy the caller cannot corrupt.
	post(t, s.SendHandler(), "Bearer k", twoPersonalizations)
	got := s.Messages()
	if len(got) != 4 {
		t.Fatalf("%d messages after two sends", len(got))
	}
	got[0].Subject = "changed"
	if s.Messages()[0].Subject != "Default subject" {
		t.Errorf("Messages shares storage with the sink")
	}
}

func TestSendRefusesLikeSendGrid(t *testing.T) {
	cases := []struct {
		name, auth, body string
		status           int
		field            string
	}{
		{"no authorization", "", twoPersonalizations, 401, ""},
		{"empty bearer", "Bearer ", twoPersonalizations, 401, ""},
		{"basic auth", "Basic a2V5Og==", twoPersonalizations, 401, ""},
		{"not json", "Bearer k", "{", 400, ""},
		{"no from", "Bearer k", `{"personalizations":[{"to":[{"email":"a@x.org"}]}],"content":[{"type":"text/plain","value":"x"}]}`, 400, "from"},
		{"from without email", "Bearer k", `{"from":{"name":"n"},"personalizations":[{"to":[{"email":"a@x.org"}]}],"content":[{"type":"text/plain","value":"x"}]}`, 400, "from"},
		{"no personalizations", "Bearer k", `{"from":{"email":"f@x.org"},"content":[{"type":"text/plain","value":"x"}]}`, 400, "personalizations"},
		{"no content", "Bearer k", `{"from":{"email":"f@x.org"},"personalizations":[{"to":[{"email":"a@x.org"}]}]}`, 400, "content"},
		{"personalization without to", "Bearer k", `{"from":{"email":"f@x.org"},"personalizations":[{"to":[{"email":"a@x.org"}]},{"to":[]}],"content":[{"type":"text/plain","value":"x"}]}`, 400, "personalizations.to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s mailsink.Sink
			rec := post(t, s.SendHandler(), tc.auth, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			var body struct {
				Errors []struct {
					Message string `json:"message"`
					Field   string `json:"field"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Message == "" {
				t.Fatalf("error body %q: %v", rec.Body.String(), err)
			}
			if body.Errors[0].Field != tc.field {
				t.Errorf("field = %q, want %q", body.Errors[0].Field, tc.field)
			}
			// A refused request stores nothing, not even the personalizations before a bad one.
			if n := len(s.Messages()); n != 0 {
				t.Errorf("%d messages stored after a refusal", n)
			}
		})
	}
}

func TestSendOnlyAcceptsPost(t *testing.T) {
	var s mailsink.Sink
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/v3/mail/send", nil)
	r.Header.Set("Authorization", "Bearer k")
	s.SendHandler().ServeHTTP(rec, r)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
		t.Errorf("status %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}
