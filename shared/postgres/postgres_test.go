package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestMigrationsAreCurrentAndReapplyingIsANoOp(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	cur, latest, err := postgres.MigrationStatus(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest || latest < 3 {
		t.Fatalf("schema version %d, latest %d", cur, latest)
	}
}

func TestFirstDeliveryCommitsWithTheEffect(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	id := uuid.NewString()
	// A handler that fails after recording the receipt rolls both back: the redelivery is new.
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		first, err := postgres.FirstDelivery(ctx, tx, "h", id)
		if err != nil || !first {
			t.Fatalf("FirstDelivery = %v, %v", first, err)
		}
		return errors.New("handler failed")
	})
	if err == nil {
		t.Fatal("InTx swallowed the handler's error")
	}
	for i, want := range []bool{true, false} {
		err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
			first, err := postgres.FirstDelivery(ctx, tx, "h", id)
			if err == nil && first != want {
				t.Errorf("delivery %d: FirstDelivery = %v, want %v", i+1, first, want)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Receipts are per handler: another handler sees the same message as new.
	_ = postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if first, _ := postgres.FirstDelivery(ctx, tx, "other", id); !first {
			t.Error("a receipt of handler h blocked handler other")
		}
		return nil
	})
}

type sender struct {
	mu   sync.Mutex
	sent []mail.Outgoing
	fail error
}

func (s *sender) Send(_ context.Context, m mail.Outgoing) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return "", s.fail
	}
	s.sent = append(s.sent, m)
	return fmt.Sprintf("provider-%d", len(s.sent)), nil
}

func (s *sender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

func request() mail.Request {
	return mail.Request{ID: uuid.NewString(), Kind: "test", To: []string{"a@example.org", "b@example.org"}, Subject: "Subject", Text: "Body"}
}

func TestMailerSendsARequestOnce(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &sender{}
	m := &postgres.Mailer{Pool: pool, Sender: s, From: "Lookit <bot@example.org>"}
	r := request()
	if out, err := m.Deliver(ctx, r); err != nil || out != postgres.Sent {
		t.Fatalf("first Deliver = %v, %v", out, err)
	}
	// A redelivery, even one whose body changed, sends nothing: the stored request is the truth.
	r2 := r
	r2.Subject = "Changed"
	if out, err := m.Deliver(ctx, r2); err != nil || out != postgres.AlreadySent {
		t.Fatalf("second Deliver = %v, %v", out, err)
	}
	if s.count() != 1 || s.sent[0].Subject != "Subject" || s.sent[0].From != "Lookit <bot@example.org>" || len(s.sent[0].To) != 2 {
		t.Fatalf("sent %+v", s.sent)
	}
	var provider string
	if err := pool.QueryRow(ctx, `SELECT provider_message_id FROM email_messages WHERE id = $1`, r.ID).Scan(&provider); err != nil || provider != "provider-1" {
		t.Fatalf("provider id %q, %v", provider, err)
	}
}

func TestMailerConcurrentDeliveriesSendOnce(t *testing.T) {
	pool := pgtest.Pool(t)
	s := &sender{}
	m := &postgres.Mailer{Pool: pool, Sender: s, From: "bot@example.org"}
	r := request()
	var wg sync.WaitGroup
	var sent atomic.Int32
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := m.Deliver(context.Background(), r)
			if err != nil {
				t.Error(err)
			}
			if out == postgres.Sent {
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	if s.count() != 1 || sent.Load() != 1 {
		t.Fatalf("4 concurrent deliveries sent %d emails (%d reported sent), want 1", s.count(), sent.Load())
	}
}

func TestMailerRefusalIsFinalAndTransientFailureRetries(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()

	refused := request()
	s := &sender{fail: fmt.Errorf("status 400: %w", mail.ErrRejected)}
	m := &postgres.Mailer{Pool: pool, Sender: s, From: "bot@example.org"}
	out, err := m.Deliver(ctx, refused)
	if out != postgres.Refused || !errors.Is(err, mail.ErrRejected) {
		t.Fatalf("refused Deliver = %v, %v", out, err)
	}
	s.fail = nil
	if out, err := m.Deliver(ctx, refused); out != postgres.Refused || err != nil || s.count() != 0 {
		t.Fatalf("redelivered refused email: %v, %v, %d sent", out, err, s.count())
	}

	flaky := request()
	s.fail = errors.New("connection reset")
	if _, err := m.Deliver(ctx, flaky); err == nil || errors.Is(err, mail.ErrRejected) {
		t.Fatalf("transient failure returned %v, want a retryable error", err)
	}
	var status string
	var attempts int
	_ = pool.QueryRow(ctx, `SELECT status, attempts FROM email_messages WHERE id = $1`, flaky.ID).Scan(&status, &attempts)
	if status != "pending" || attempts != 1 {
		t.Fatalf("after a transient failure: status %s attempts %d", status, attempts)
	}
	s.fail = nil
	if out, err := m.Deliver(ctx, flaky); out != postgres.Sent || err != nil {
		t.Fatalf("retry: %v, %v", out, err)
	}
}

func TestJobsRunOncePerFiring(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	var runs atomic.Int32
	j := postgres.NewJobs(pool, nil)
	j.Funcs["count"] = func(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
		runs.Add(1)
		return map[string]any{"n": runs.Load()}, nil
	}
	j.Funcs["fail"] = func(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
		return nil, errors.New("boom")
	}
	for i, want := range []bool{true, false} {
		ran, err := j.Run(ctx, "firing-1", jobs.Request{Job: "count"})
		if err != nil || ran != want {
			t.Fatalf("run %d = %v, %v; want %v", i+1, ran, err, want)
		}
	}
	if ran, err := j.Run(ctx, "firing-2", jobs.Request{Job: "count"}); !ran || err != nil {
		t.Fatalf("a new firing did not run: %v", err)
	}
	if runs.Load() != 2 {
		t.Fatalf("job ran %d times for 2 firings", runs.Load())
	}
	if _, err := j.Run(ctx, "firing-3", jobs.Request{Job: "nope"}); !errors.Is(err, postgres.ErrUnknownJob) {
		t.Fatalf("unknown job: %v", err)
	}
	// A failed run leaves no trace, so the redelivery runs it again.
	if _, err := j.Run(ctx, "firing-4", jobs.Request{Job: "fail"}); err == nil {
		t.Fatal("failing job reported success")
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE message_id = 'firing-4'`).Scan(&n)
	if n != 0 {
		t.Fatal("a failed run was recorded as done")
	}
}

func TestPruneEventReceiptsKeepsRecentOnes(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO event_receipts (handler, message_id, processed_at) VALUES
		('prune-test', 'old', now() - interval '9 days'), ('prune-test', 'new', now() - interval '1 day')`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewJobs(pool, nil).Run(ctx, "prune-1", jobs.Request{Job: jobs.PruneEventReceipts}); err != nil {
		t.Fatal(err)
	}
	var left []string
	rows, _ := pool.Query(ctx, `SELECT message_id FROM event_receipts WHERE handler = 'prune-test'`)
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(left) != 1 || left[0] != "new" {
		t.Fatalf("receipts left %v, %v; want [new]", left, err)
	}
}

type builder struct{ calls atomic.Int32 }

func (b *builder) Start(_ context.Context, r builds.Request) (builds.Started, error) {
	n := b.calls.Add(1)
	return builds.Started{ID: fmt.Sprintf("build-%s-%d", r.RequestID[:8], n), LogURL: "https://logs/" + r.RequestID}, nil
}

func TestBuildsStartOnceAndStatusOnlyAdvances(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	b := &builder{}
	svc := &postgres.Builds{Pool: pool, Builder: b}
	r := builds.Request{RequestID: uuid.NewString(), Subject: "study:abc"}
	id1, err := svc.Start(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := svc.Start(ctx, r)
	if err != nil || id2 != id1 || b.calls.Load() != 1 {
		t.Fatalf("redelivered request: id %q vs %q, builder called %d times", id2, id1, b.calls.Load())
	}
	steps := []struct {
		status  string
		applied bool
	}{
		{builds.StatusWorking, true},
		{builds.StatusQueued, false}, // stale
		{builds.StatusSuccess, true},
		{builds.StatusSuccess, false}, // repeated
		{builds.StatusFailure, false}, // a finished build never changes
		{"NOT_A_STATUS", false},
	}
	for _, s := range steps {
		applied, _, err := svc.RecordStatus(ctx, postgres.Status{BuildID: id1, Status: s.status})
		if err != nil || applied != s.applied {
			t.Fatalf("RecordStatus(%s) = %v, %v; want %v", s.status, applied, err, s.applied)
		}
	}
	var status string
	var finished bool
	_ = pool.QueryRow(ctx, `SELECT status, finished_at IS NOT NULL FROM builds WHERE build_id = $1`, id1).Scan(&status, &finished)
	if status != builds.StatusSuccess || !finished {
		t.Fatalf("build ended %s (finished %v)", status, finished)
	}
	if applied, _, err := svc.RecordStatus(ctx, postgres.Status{BuildID: "someone-elses-build", Status: builds.StatusSuccess}); applied || err != nil {
		t.Fatalf("status of an unknown build: %v, %v", applied, err)
	}
}
