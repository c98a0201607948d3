package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/mailsink"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/sendgrid"
)

// uniq returns n addresses no other test in the package uses.
func uniq(n int) []string {
	tag := uuid.NewString()[:8]
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("s%04d-%s@example.org", i, tag)
	}
	return out
}

func suppress(t *testing.T, pool *pgxpool.Pool, reason string, addrs ...string) {
	t.Helper()
	evs := make([]postgres.SuppressionEvent, len(addrs))
	for i, a := range addrs {
		evs[i] = postgres.SuppressionEvent{ID: uuid.NewString(), Email: a, Reason: reason}
	}
	if n, err := (&postgres.Suppressions{Pool: pool}).Record(context.Background(), evs); err != nil || n != len(addrs) {
		t.Fatalf("Record = %d, %v", n, err)
	}
}

type suppressionRow struct {
	Reason      string
	First, Last time.Time
	Count       int
	Updated     time.Time
}

func suppressionOf(t *testing.T, pool *pgxpool.Pool, email string) (suppressionRow, bool) {
	t.Helper()
	var r suppressionRow
	err := pool.QueryRow(context.Background(), `SELECT reason, first_event_at, last_event_at, event_count, updated_at
		FROM email_suppressions WHERE email = $1`, email).Scan(&r.Reason, &r.First, &r.Last, &r.Count, &r.Updated)
	if err != nil {
		return r, false
	}
	return r, true
}

func TestSuppressionsRecordIsIdempotent(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &postgres.Suppressions{Pool: pool}
	addrs := uniq(3)
	a, b := addrs[0], addrs[1]
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	batch := []postgres.SuppressionEvent{
		{ID: "ev-1-" + a, Email: strings.ToUpper(a), Reason: "bounce", At: t1},
		{ID: "ev-2-" + a, Email: b, Reason: "spamreport", At: t1.Add(time.Minute)},
		{ID: "ev-3-" + a, Email: a, Reason: "spamreport", At: t1.Add(time.Hour)},
	}
	if n, err := s.Record(ctx, batch); err != nil || n != 3 {
		t.Fatalf("Record = %d, %v", n, err)
	}
	ra, ok := suppressionOf(t, pool, a)
	if !ok || ra.Reason != "spamreport" || !ra.First.Equal(t1) || !ra.Last.Equal(t1.Add(time.Hour)) || ra.Count != 2 {
		t.Fatalf("suppression of a (two events, any case) = %+v %v", ra, ok)
	}
	rb, _ := suppressionOf(t, pool, b)

	// SendGrid delivers the batch again: nothing changes, not even updated_at.
	if n, err := s.Record(ctx, batch); err != nil || n != 0 {
		t.Fatalf("replay: Record = %d, %v", n, err)
	}
	if again, _ := suppressionOf(t, pool, a); again != ra {
		t.Errorf("replay changed a: %+v, was %+v", again, ra)
	}
	if again, _ := suppressionOf(t, pool, b); again != rb {
		t.Errorf("replay changed b: %+v, was %+v", again, rb)
	}

	// A late-arriving older event widens the window and counts, but the reason stays the latest's.
	if n, err := s.Record(ctx, []postgres.SuppressionEvent{{ID: "ev-0-" + a, Email: a, Reason: "bounce", At: t1.Add(-time.Hour)}}); err != nil || n != 1 {
		t.Fatalf("older event: %d, %v", n, err)
	}
	if r, _ := suppressionOf(t, pool, a); r.Reason != "spamreport" || !r.First.Equal(t1.Add(-time.Hour)) || r.Count != 3 {
		t.Errorf("after an older event: %+v", r)
	}

	got, err := s.Suppressed(ctx, []string{strings.ToUpper(b), addrs[2], a})
	if err != nil || len(got) != 2 || got[0] != strings.ToUpper(b) || got[1] != a {
		t.Errorf("Suppressed = %q, %v; want [%s %s] as spelled", got, err, strings.ToUpper(b), a)
	}
}

// sinkSendGrid serves the mail sink as SendGrid and also keeps each request's personalization
// headers, which the sink does not list.
func sinkSendGrid(t *testing.T) (*sendgrid.Client, *mailsink.Sink, func() map[string]string) {
	t.Helper()
	var (
		sink mailsink.Sink
		mu   sync.Mutex
		unsu = map[string]string{} // recipient → List-Unsubscribe
	)
	send := sink.SendHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b struct {
			Personalizations []struct {
				To      []struct{ Email string }
				Headers map[string]string
			}
		}
		_ = json.Unmarshal(raw, &b)
		mu.Lock()
		for _, p := range b.Personalizations {
			if h, ok := p.Headers["List-Unsubscribe"]; ok && len(p.To) == 1 {
				unsu[p.To[0].Email] = h
			}
		}
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(raw))
		send.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &sendgrid.Client{APIKey: "k", Host: srv.URL}, &sink, func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]string{}
		for k, v := range unsu {
			out[k] = v
		}
		return out
	}
}

type emailRow struct {
	Status     string
	Attempts   int
	Batches    int
	Suppressed int
	Providers  []string
}

func emailOf(t *testing.T, pool *pgxpool.Pool, id string) emailRow {
	t.Helper()
	var r emailRow
	if err := pool.QueryRow(context.Background(), `SELECT status, attempts, sent_batches, suppressed_count, provider_message_ids
		FROM email_messages WHERE id = $1`, id).Scan(&r.Status, &r.Attempts, &r.Batches, &r.Suppressed, &r.Providers); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMailerLeavesOutSuppressedRecipients(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	client, sink, unsubscribes := sinkSendGrid(t)
	m := &postgres.Mailer{Pool: pool, Sender: client, From: "Lookit <bot@example.org>"}
	to := uniq(3)
	suppress(t, pool, "bounce", strings.ToUpper(to[1])) // matched without regard to case

	r := mail.Request{ID: uuid.NewString(), Kind: "study_announcement", To: to, Subject: "A study", Text: "Hello",
		ListUnsubscribe: []string{"https://lookit.example/api/unsubscribe/T0", "https://lookit.example/api/unsubscribe/T1", "https://lookit.example/api/unsubscribe/T2"}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if out, err := m.Deliver(ctx, r); out != postgres.Sent || err != nil {
		t.Fatalf("Deliver = %v, %v", out, err)
	}
	msgs := sink.Messages()
	if len(msgs) != 2 || msgs[0].To[0] != to[0] || msgs[1].To[0] != to[2] {
		t.Fatalf("sink got %+v; want %s and %s only", msgs, to[0], to[2])
	}
	// Each family keeps its own link once the suppressed one is left out.
	if u := unsubscribes(); u[to[0]] != "<https://lookit.example/api/unsubscribe/T0>" || u[to[2]] != "<https://lookit.example/api/unsubscribe/T2>" || len(u) != 2 {
		t.Errorf("List-Unsubscribe by recipient: %v", u)
	}
	if row := emailOf(t, pool, r.ID); row.Status != "sent" || row.Suppressed != 1 || row.Batches != 1 || len(row.Providers) != 1 {
		t.Errorf("email row %+v", row)
	}
}

func TestMailerWithEveryRecipientSuppressedSendsNothing(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	client, sink, _ := sinkSendGrid(t)
	m := &postgres.Mailer{Pool: pool, Sender: client, From: "bot@example.org"}
	to := uniq(2)
	suppress(t, pool, "spamreport", to...)
	r := mail.Request{ID: uuid.NewString(), Kind: "test", To: to, Subject: "S", Text: "B"}
	for i := 0; i < 2; i++ {
		// Acknowledged (no error, so no redelivery), and a redelivery sends nothing either.
		if out, err := m.Deliver(ctx, r); out != postgres.Suppressed || err != nil {
			t.Fatalf("Deliver %d = %v, %v; want suppressed", i+1, out, err)
		}
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages sent to suppressed addresses", n)
	}
	if row := emailOf(t, pool, r.ID); row.Status != "suppressed" || row.Suppressed != 2 || len(row.Providers) != 0 {
		t.Errorf("email row %+v", row)
	}
}

// fakeSendGrid counts requests and the recipients of the accepted ones; status, when set, answers
// request n (from 1) with a status instead of 202.
type fakeSendGrid struct {
	mu       sync.Mutex
	requests int
	got      map[string]int // recipient → copies accepted
	status   func(n int) int
}

func (f *fakeSendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Personalizations []struct{ To []struct{ Email string } }
	}
	_ = json.NewDecoder(r.Body).Decode(&b)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if len(b.Personalizations) > mail.MaxBatch {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if f.status != nil {
		if s := f.status(f.requests); s != 0 {
			w.WriteHeader(s)
			return
		}
	}
	for _, p := range b.Personalizations {
		for _, to := range p.To {
			f.got[to.Email]++
		}
	}
	w.Header().Set("X-Message-Id", "msg-"+strconv.Itoa(f.requests))
	w.WriteHeader(http.StatusAccepted)
}

func (f *fakeSendGrid) counts() (int, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := make(map[string]int, len(f.got))
	for k, v := range f.got {
		got[k] = v
	}
	return f.requests, got
}

func TestMailerResumesAfterAFailedBatch(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	// The second request fails once, as SendGrid does when it is briefly down.
	f := &fakeSendGrid{got: map[string]int{}, status: func(n int) int {
		if n == 2 {
			return http.StatusServiceUnavailable
		}
		return 0
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	m := &postgres.Mailer{Pool: pool, Sender: &sendgrid.Client{APIKey: "k", Host: srv.URL}, From: "bot@example.org"}

	to := uniq(2100) // batches of 1000, 1000 and 100
	suppress(t, pool, "bounce", to[5])
	suppress(t, pool, "bounce", to[2000:]...) // the whole third batch
	r := mail.Request{ID: uuid.NewString(), Kind: "custom_email", To: to, Subject: "S", Text: "B"}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}

	out, err := m.Deliver(ctx, r)
	if err == nil || errors.Is(err, mail.ErrRejected) || out != "" {
		t.Fatalf("first Deliver = %q, %v; want a retryable error", out, err)
	}
	if row := emailOf(t, pool, r.ID); row.Status != "pending" || row.Batches != 1 || row.Attempts != 1 || row.Suppressed != 1 {
		t.Fatalf("after the failed batch: %+v", row)
	}

	// The redelivery resumes with the second batch and never resends the first.
	if out, err := m.Deliver(ctx, r); out != postgres.Sent || err != nil {
		t.Fatalf("retry = %v, %v", out, err)
	}
	if out, err := m.Deliver(ctx, r); out != postgres.AlreadySent || err != nil {
		t.Fatalf("third delivery = %v, %v", out, err)
	}
	requests, got := f.counts()
	// 1st batch, 2nd batch failing, 2nd batch; the suppressed 3rd batch needs no request.
	if requests != 3 {
		t.Errorf("%d requests to SendGrid, want 3", requests)
	}
	for i, a := range to {
		want := 1
		if i == 5 || i >= 2000 {
			want = 0
		}
		if got[a] != want {
			t.Fatalf("recipient %d got %d copies, want %d", i, got[a], want)
		}
	}
	if len(got) != 2100-101 {
		t.Errorf("%d recipients got mail, want %d", len(got), 2100-101)
	}
	row := emailOf(t, pool, r.ID)
	if row.Status != "sent" || row.Batches != 3 || row.Suppressed != 101 || strings.Join(row.Providers, ",") != "msg-1,msg-3" {
		t.Errorf("email row %+v", row)
	}
}

func TestMailerRefusalPartWayIsFinal(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	f := &fakeSendGrid{got: map[string]int{}, status: func(n int) int {
		if n == 2 {
			return http.StatusBadRequest
		}
		return 0
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	m := &postgres.Mailer{Pool: pool, Sender: &sendgrid.Client{APIKey: "k", Host: srv.URL}, From: "bot@example.org"}
	r := mail.Request{ID: uuid.NewString(), Kind: "custom_email", To: uniq(1500), Subject: "S", Text: "B"}
	if out, err := m.Deliver(ctx, r); out != postgres.Refused || !errors.Is(err, mail.ErrRejected) {
		t.Fatalf("Deliver = %v, %v", out, err)
	}
	if out, err := m.Deliver(ctx, r); out != postgres.Refused || err != nil {
		t.Fatalf("redelivery = %v, %v", out, err)
	}
	if requests, got := f.counts(); requests != 2 || len(got) != 1000 {
		t.Errorf("%d requests, %d recipients; want 2 and the first batch's 1000", requests, len(got))
	}
	if row := emailOf(t, pool, r.ID); row.Status != "failed" || row.Batches != 1 {
		t.Errorf("email row %+v", row)
	}
}
