package sendgrid_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sendgrid/rest"

	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/mailsink"
	"lookit.dev/platform/shared/sendgrid"
)

func outgoing() mail.Outgoing {
	return mail.Outgoing{
		ID:      "0b7e9c2a-5d3f-4e1a-9b8c-1d2e3f4a5b6c",
		Kind:    "lab_role_changed",
		From:    "Lookit <lookit-bot@example.org>",
		To:      []string{"parent@example.org", "researcher@lab.example.edu", "third@example.org"},
		Subject: "Your role changed",
		Text:    "Hello in text.",
		HTML:    "<p>Hello in HTML.</p>",
	}
}

// sinkServer serves the mail sink the way the devserver does and records each request's
// Authorization header.
func sinkServer(t *testing.T) (*httptest.Server, *mailsink.Sink, func() []string) {
	t.Helper()
	var sink mailsink.Sink
	var (
		mu    sync.Mutex
		auths []string
	)
	mux := http.NewServeMux()
	send := sink.SendHandler()
	mux.Handle("/v3/mail/send", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		send.ServeHTTP(w, r)
	}))
	mux.Handle("/_dev/mail", sink.ListHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &sink, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), auths...)
	}
}

func listed(t *testing.T, srv *httptest.Server) []mailsink.Message {
	t.Helper()
	resp, err := http.Get(srv.URL + "/_dev/mail")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []mailsink.Message
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatalf("list: %v", err)
	}
	return msgs
}

func TestSendThroughTheSink(t *testing.T) {
	srv, _, auths := sinkServer(t)
	if got := listed(t, srv); len(got) != 0 {
		t.Fatalf("sink starts with %d messages", len(got))
	}
	c := &sendgrid.Client{APIKey: "test-key", Host: srv.URL}
	m := outgoing()
	id, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id == "" {
		t.Errorf("no provider message id")
	}
	if a := auths(); len(a) != 1 || a[0] != "Bearer test-key" {
		t.Errorf("Authorization headers = %q", a)
	}

	msgs := listed(t, srv)
	if len(msgs) != len(m.To) {
		t.Fatalf("sink lists %d messages, want one per recipient (%d): %+v", len(msgs), len(m.To), msgs)
	}
	for i, got := range msgs {
		// Each recipient gets a copy addressed to them alone.
		if len(got.To) != 1 || got.To[0] != m.To[i] {
			t.Errorf("message %d to %q, want [%s]", i, got.To, m.To[i])
		}
		if got.ID != id+"."+strconv.Itoa(i) {
			t.Errorf("message %d id %q, provider id %q", i, got.ID, id)
		}
		if got.From != m.From || got.Subject != m.Subject || got.Text != m.Text || got.HTML != m.HTML {
			t.Errorf("message %d = %+v", i, got)
		}
		if len(got.Categories) != 1 || got.Categories[0] != m.Kind {
			t.Errorf("message %d categories %q, want [%s]", i, got.Categories, m.Kind)
		}
		if len(got.CustomArgs) != 1 || got.CustomArgs["email_id"] != m.ID {
			t.Errorf("message %d custom_args %v, want email_id=%s", i, got.CustomArgs, m.ID)
		}
	}
}

func TestSendTextOnlyAndBareFrom(t *testing.T) {
	srv, sink, _ := sinkServer(t)
	m := outgoing()
	m.HTML = ""
	m.From = "bot@example.org"
	m.To = m.To[:1]
	if _, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 || msgs[0].HTML != "" || msgs[0].Text != m.Text || msgs[0].From != "bot@example.org" {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestMissingKeyIsRejected(t *testing.T) {
	srv, sink, _ := sinkServer(t)
	_, err := (&sendgrid.Client{Host: srv.URL}).Send(context.Background(), outgoing())
	if !errors.Is(err, mail.ErrRejected) {
		t.Fatalf("Send without a key = %v, want an error wrapping mail.ErrRejected", err)
	}
	if !strings.Contains(err.Error(), "401") {
		t.Errorf("error %q does not give the status", err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages stored without authorization", n)
	}
}

func TestSinkRefusalIsRejected(t *testing.T) {
	// No recipients means no personalizations, which SendGrid (and the sink) refuse with a 400.
	srv, sink, _ := sinkServer(t)
	m := outgoing()
	m.To = nil
	_, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), m)
	if !errors.Is(err, mail.ErrRejected) || !strings.Contains(err.Error(), "400") {
		t.Fatalf("Send = %v, want a 400 wrapping mail.ErrRejected", err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages stored", n)
	}
}

func TestStatusClassification(t *testing.T) {
	cases := []struct {
		status   int
		ok       bool
		rejected bool
	}{
		{http.StatusAccepted, true, false},
		{http.StatusOK, true, false},
		{http.StatusBadRequest, false, true},
		{http.StatusUnauthorized, false, true},
		{http.StatusForbidden, false, true},
		{http.StatusRequestEntityTooLarge, false, true},
		{http.StatusTooManyRequests, false, false},
		{http.StatusInternalServerError, false, false},
		{http.StatusBadGateway, false, false},
		{http.StatusServiceUnavailable, false, false},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("X-Message-Id", "msg-1")
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			id, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), outgoing())
			if calls.Load() != 1 {
				t.Errorf("%d requests, want 1", calls.Load())
			}
			if tc.ok {
				if err != nil || id != "msg-1" {
					t.Errorf("Send = %q, %v; want msg-1", id, err)
				}
				return
			}
			if err == nil || id != "" {
				t.Fatalf("Send = %q, %v; want an error", id, err)
			}
			if errors.Is(err, mail.ErrRejected) != tc.rejected {
				t.Errorf("status %d: errors.Is(ErrRejected) = %v, want %v (%v)", tc.status, !tc.rejected, tc.rejected, err)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tc.status)) {
				t.Errorf("error %q does not give the status", err)
			}
		})
	}
}

func TestTransportFailuresAreRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := (&sendgrid.Client{APIKey: "k", Host: url}).Send(context.Background(), outgoing())
	if err == nil || errors.Is(err, mail.ErrRejected) {
		t.Errorf("Send to a closed server = %v, want a retryable error", err)
	}

	srv2, sink, _ := sinkServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&sendgrid.Client{APIKey: "k", Host: srv2.URL}).Send(ctx, outgoing())
	if !errors.Is(err, context.Canceled) || errors.Is(err, mail.ErrRejected) {
		t.Errorf("Send with a cancelled context = %v", err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages sent with a cancelled context", n)
	}
}

func TestBadFromFailsBeforeSending(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	m := outgoing()
	m.From = "not an address"
	if _, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), m); err == nil {
		t.Errorf("Send with a bad From succeeded")
	}
	if calls.Load() != 0 {
		t.Errorf("the provider was called %d times", calls.Load())
	}
}

func TestInjectedHTTPClientIsUsed(t *testing.T) {
	var sink mailsink.Sink
	srv := httptest.NewUnstartedServer(sink.SendHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure below is expected
	srv.StartTLS()
	defer srv.Close()
	// The default client does not trust the test certificate, so success proves c.HTTP was used.
	c := &sendgrid.Client{APIKey: "k", Host: srv.URL, HTTP: &rest.Client{HTTPClient: srv.Client()}}
	if _, err := c.Send(context.Background(), outgoing()); err != nil {
		t.Fatalf("Send with injected client: %v", err)
	}
	if n := len(sink.Messages()); n != 3 {
		t.Errorf("%d messages", n)
	}
	if _, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), outgoing()); err == nil || errors.Is(err, mail.ErrRejected) {
		t.Errorf("default client against a self-signed server = %v, want a retryable error", err)
	}
}

// v3Body is the part of a mail-send request body the batching and header tests read.
type v3Body struct {
	Personalizations []struct {
		To         []struct{ Email string }
		Headers    map[string]string `json:"headers"`
		CustomArgs map[string]string `json:"custom_args"`
	} `json:"personalizations"`
	Headers map[string]string `json:"headers"`
}

// countingServer is a fake SendGrid that records each request's body; fail, when set, answers a
// request (counted from 1) with a status instead of 202.
func countingServer(t *testing.T, fail func(n int) int) (*httptest.Server, func() []v3Body) {
	t.Helper()
	var (
		mu     sync.Mutex
		bodies []v3Body
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b v3Body
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("request body: %v", err)
		}
		mu.Lock()
		bodies = append(bodies, b)
		n := len(bodies)
		mu.Unlock()
		if fail != nil {
			if status := fail(n); status != 0 {
				w.WriteHeader(status)
				return
			}
		}
		w.Header().Set("X-Message-Id", "batch-"+strconv.Itoa(n))
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []v3Body {
		mu.Lock()
		defer mu.Unlock()
		return append([]v3Body(nil), bodies...)
	}
}

func manyRecipients(n int) []string {
	to := make([]string, n)
	for i := range to {
		to[i] = fmt.Sprintf("r%04d@example.org", i)
	}
	return to
}

func TestSendSplitsIntoRequestsOfAtMost1000(t *testing.T) {
	srv, bodies := countingServer(t, nil)
	m := outgoing()
	m.To = manyRecipients(2500)
	id, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != "batch-1,batch-2,batch-3" {
		t.Errorf("provider id %q", id)
	}
	got := bodies()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	next := 0
	for i, b := range got {
		if want := []int{1000, 1000, 500}[i]; len(b.Personalizations) != want {
			t.Errorf("request %d has %d personalizations, want %d", i, len(b.Personalizations), want)
		}
		for _, p := range b.Personalizations {
			if len(p.To) != 1 || p.To[0].Email != m.To[next] || p.CustomArgs["email_id"] != m.ID {
				t.Fatalf("request %d: personalization %+v, want recipient %d", i, p, next)
			}
			next++
		}
	}
	if next != len(m.To) {
		t.Errorf("%d recipients sent, want %d", next, len(m.To))
	}

	// Exactly 1,000 is one request.
	srv2, bodies2 := countingServer(t, nil)
	m.To = manyRecipients(1000)
	if _, err := (&sendgrid.Client{APIKey: "k", Host: srv2.URL}).Send(context.Background(), m); err != nil || len(bodies2()) != 1 {
		t.Errorf("1000 recipients: %d requests, %v", len(bodies2()), err)
	}
}

func TestSendFailingPartWaySaysWhatWasSent(t *testing.T) {
	for _, tc := range []struct {
		status   int
		rejected bool
	}{{http.StatusInternalServerError, false}, {http.StatusBadRequest, true}} {
		srv, bodies := countingServer(t, func(n int) int {
			if n == 2 {
				return tc.status
			}
			return 0
		})
		m := outgoing()
		m.To = manyRecipients(2500)
		_, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), m)
		var pe *mail.PartialError
		if !errors.As(err, &pe) || pe.Sent != 1000 || len(pe.ProviderIDs) != 1 || pe.ProviderIDs[0] != "batch-1" {
			t.Fatalf("status %d: Send = %v, want a PartialError after 1000", tc.status, err)
		}
		if errors.Is(err, mail.ErrRejected) != tc.rejected {
			t.Errorf("status %d: errors.Is(ErrRejected) = %v", tc.status, !tc.rejected)
		}
		if n := len(bodies()); n != 2 {
			t.Errorf("status %d: %d requests, want 2 (nothing after the failure)", tc.status, n)
		}
	}
	// A failure of the first request is not partial.
	srv, _ := countingServer(t, func(int) int { return http.StatusBadGateway })
	m := outgoing()
	m.To = manyRecipients(1500)
	_, err := (&sendgrid.Client{APIKey: "k", Host: srv.URL}).Send(context.Background(), m)
	var pe *mail.PartialError
	if err == nil || errors.As(err, &pe) {
		t.Errorf("first request failing: %v", err)
	}
}

func TestListUnsubscribeHeadersPerRecipient(t *testing.T) {
	srv, bodies := countingServer(t, nil)
	c := &sendgrid.Client{APIKey: "k", Host: srv.URL}
	m := outgoing()
	m.ListUnsubscribe = []string{"https://lookit.example/api/unsubscribe/AAA", "https://lookit.example/api/unsubscribe/BBB", "https://lookit.example/api/unsubscribe/CCC"}
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.ListUnsubscribe = nil
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := bodies()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	for i, p := range got[0].Personalizations {
		want := "<https://lookit.example/api/unsubscribe/" + []string{"AAA", "BBB", "CCC"}[i] + ">"
		if p.Headers["List-Unsubscribe"] != want || p.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Errorf("personalization %d headers %v, want List-Unsubscribe %s with one-click", i, p.Headers, want)
		}
	}
	if len(got[0].Headers) != 0 {
		t.Errorf("message-wide headers %v: each family must get its own link", got[0].Headers)
	}
	for i, p := range got[1].Personalizations {
		if len(p.Headers) != 0 {
			t.Errorf("mail without unsubscribe URLs: personalization %d headers %v", i, p.Headers)
		}
	}

	m.ListUnsubscribe = []string{"https://lookit.example/api/unsubscribe/AAA"}
	if _, err := c.Send(context.Background(), m); !errors.Is(err, mail.ErrRejected) || len(bodies()) != 2 {
		t.Errorf("URLs not parallel to recipients: %v, %d requests", err, len(bodies()))
	}
}
