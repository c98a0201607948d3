package sendgrid_test

import (
	"context"
	"encoding/json"
	"errors"
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
