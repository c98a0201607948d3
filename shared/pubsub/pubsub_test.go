package pubsub_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	ps "cloud.google.com/go/pubsub/v2"
	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/functions/mailer"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/mailsink"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/pubsub"
	"lookit.dev/platform/shared/sendgrid"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// emulator returns a client on Google's Pub/Sub emulator in a project of its own, with the
// production topology created.
func emulator(t *testing.T) *ps.Client {
	t.Helper()
	host := os.Getenv("PUBSUB_EMULATOR_HOST")
	if host == "" {
		t.Fatal("PUBSUB_EMULATOR_HOST is not set: run the tests with `make test`, which starts the emulator")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	ctx := context.Background()
	c, err := ps.NewClient(ctx, "test-"+hex.EncodeToString(b[:]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := pubsub.EnsureTopology(ctx, c, events.Topics); err != nil {
		t.Fatalf("EnsureTopology: %v", err)
	}
	// Creating it twice must be harmless: every start of the local stack does it.
	if err := pubsub.EnsureTopology(ctx, c, events.Topics); err != nil {
		t.Fatalf("EnsureTopology again: %v", err)
	}
	t.Logf("Pub/Sub emulator at %s, project %s", host, c.Project())
	return c
}

func testInstance(t *testing.T, sink *mailsink.Sink) *instance.Instance {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"ENVIRONMENT": "local", "DATABASE_URL": pgtest.URL(t)}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	in := instance.New(cfg, "test")
	in.Log = logging.New(os.Stderr, cfg.LogLevel, "", "test")
	in.DB = instance.Value(pgtest.Pool(t))
	srv := httptest.NewServer(sink.SendHandler())
	t.Cleanup(srv.Close)
	in.Mail = instance.Value[mail.Sender](&sendgrid.Client{APIKey: "SG.test", Host: srv.URL})
	return in
}

// An email request published through the emulator reaches the SendEmail function in Eventarc's
// envelope, is stored and sent; publishing the same request again sends nothing more.
func TestEmailThroughEmulator(t *testing.T) {
	c := emulator(t)
	sink := &mailsink.Sink{}
	in := testInstance(t, sink)
	var calls atomic.Int32
	fn := mailer.New(in)
	d := &pubsub.Dispatcher{
		Client: c, Topics: []events.Topic{mustTopic(t, events.TopicEmail)},
		Functions: map[string]pubsub.CloudEventFunc{mailer.Name: func(ctx context.Context, e event.Event) error {
			defer calls.Add(1)
			return fn(ctx, e)
		}},
		Log: in.Log, BackoffScale: 0.01,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	pub := pubsub.NewPublisher(c)
	defer pub.Stop()
	req := mail.Request{ID: "0b7d2c9e-8a55-4c57-9f39-6b8f1d0e4a21", Kind: "test", To: []string{"family@example.org"}, Subject: "Welcome", Text: "Thanks for joining."}
	for i := 0; i < 2; i++ {
		if _, err := events.PublishJSON(ctx, pub, events.TopicEmail, req, nil); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	for calls.Load() < 2 {
		if ctx.Err() != nil {
			t.Fatalf("only %d of 2 deliveries arrived", calls.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var status string
	var attempts int
	if err := pgtest.Pool(t).QueryRow(ctx, `SELECT status, attempts FROM email_messages WHERE id = $1`, req.ID).Scan(&status, &attempts); err != nil {
		t.Fatalf("email row: %v", err)
	}
	if status != "sent" || attempts != 1 {
		t.Fatalf("email row status=%s attempts=%d, want sent after 1 attempt", status, attempts)
	}
	t.Logf("published twice through the emulator: email_messages row %s after %d attempt(s)", status, attempts)
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("mail sink received %d messages, want exactly 1 for a request published twice", len(msgs))
	}
	if msgs[0].Subject != "Welcome" || msgs[0].To[0] != "family@example.org" {
		t.Fatalf("sent %+v", msgs[0])
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("dispatcher: %v", err)
	}
}

// A message its function keeps failing is retried MaxDeliveryAttempts times, then lands on the
// dead-letter topic where an operator can find it: nothing is lost.
func TestFailingMessageIsDeadLettered(t *testing.T) {
	c := emulator(t)
	// Production timing (10 s to 600 s between attempts) would make this test take minutes; the
	// same policy with short backoffs exercises the same path.
	topic := mustTopic(t, events.TopicJobs)
	topic.MinBackoff, topic.MaxBackoff = 100*time.Millisecond, 500*time.Millisecond
	topic.Subscription += "-fast"
	if err := pubsub.EnsureTopology(context.Background(), c, []events.Topic{topic}); err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Int32
	d := &pubsub.Dispatcher{
		Client: c, Topics: []events.Topic{topic},
		Functions: map[string]pubsub.CloudEventFunc{topic.Function: func(ctx context.Context, e event.Event) error {
			attempts.Add(1)
			return errors.New("always failing")
		}},
		Log: logging.New(os.Stderr, nil, "", "test"), BackoffScale: 0.0005,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	go func() { _ = d.Run(ctx) }()
	pub := pubsub.NewPublisher(c)
	defer pub.Stop()
	id, err := pub.Publish(ctx, topic.Name, []byte(`{"job":"prune-event-receipts"}`), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *ps.Message, 1)
	rctx, rcancel := context.WithCancel(ctx)
	go func() {
		_ = c.Subscriber(topic.DeadLetterHold).Receive(rctx, func(_ context.Context, m *ps.Message) {
			m.Ack()
			select {
			case got <- m:
			default:
			}
			rcancel()
		})
	}()
	select {
	case m := <-got:
		if string(m.Data) != `{"job":"prune-event-receipts"}` || m.Attributes["k"] != "v" {
			t.Fatalf("dead letter %q %v is not the published message %s", m.Data, m.Attributes, id)
		}
		if n := attempts.Load(); n < topic.MaxDeliveryAttempts {
			t.Fatalf("dead-lettered after %d attempts, want %d", n, topic.MaxDeliveryAttempts)
		}
	case <-ctx.Done():
		t.Fatalf("no dead letter after %d attempts", attempts.Load())
	}
}

func mustTopic(t *testing.T, name string) events.Topic {
	t.Helper()
	tp, ok := events.TopicByName(name)
	if !ok {
		t.Fatalf("no topic %s", name)
	}
	return tp
}
