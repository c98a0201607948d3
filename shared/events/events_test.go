package events_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestCloudEventRoundTripKeepsTheMessage(t *testing.T) {
	in := events.Message{ID: "42", Topic: events.TopicEmail, Attributes: map[string]string{"a": "b"}, Data: []byte(`{"x":1}`), PublishTime: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	e, err := events.ToCloudEvent("proj", "sub", in)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type() != events.CloudEventType || e.Source() != "//pubsub.googleapis.com/projects/proj/topics/email-send" {
		t.Fatalf("envelope type %q source %q", e.Type(), e.Source())
	}
	out, err := events.FromCloudEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != in.ID || out.Topic != in.Topic || string(out.Data) != string(in.Data) || out.Attributes["a"] != "b" || !out.PublishTime.Equal(in.PublishTime) {
		t.Fatalf("round trip: %+v", out)
	}
}

func TestFromCloudEventRejectsOtherEvents(t *testing.T) {
	e := event.New()
	e.SetID("1")
	e.SetType("google.cloud.storage.object.v1.finalized")
	e.SetSource("//storage.googleapis.com/")
	if _, err := events.FromCloudEvent(e); !events.IsPermanent(err) {
		t.Fatalf("wrong type: %v, want a permanent error", err)
	}
	e.SetType(events.CloudEventType)
	_ = e.SetData(event.ApplicationJSON, []byte(`not json`))
	if _, err := events.FromCloudEvent(e); !events.IsPermanent(err) {
		t.Fatalf("bad data: %v, want a permanent error", err)
	}
}

func TestDecodeJSONIsStrict(t *testing.T) {
	var v struct {
		Job string `json:"job"`
	}
	for _, data := range []string{"", `{"job":"x","extra":1}`, `{"job":1}`, `{"job":"x"}{"job":"y"}`, `[`} {
		if err := events.DecodeJSON([]byte(data), &v); !events.IsPermanent(err) {
			t.Errorf("DecodeJSON(%q) = %v, want a permanent error", data, err)
		}
	}
	if err := events.DecodeJSON([]byte(`{"job":"x"}`), &v); err != nil || v.Job != "x" {
		t.Fatalf("valid payload: %v %+v", err, v)
	}
}

func receiver(t *testing.T, h events.Handler) (*events.Receiver, *pgxpool.Pool) {
	pool := pgtest.Pool(t)
	db := func(context.Context) (*pgxpool.Pool, error) { return pool, nil }
	return &events.Receiver{Name: t.Name(), Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Rejecter: postgres.Rejects{DB: db}, Handle: h}, pool
}

func cloudEvent(t *testing.T, id string, data string) event.Event {
	e, err := events.ToCloudEvent("p", "s", events.Message{ID: id, Topic: events.TopicJobs, Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReceiverKeepsPermanentFailuresAndAcknowledgesThem(t *testing.T) {
	r, pool := receiver(t, func(ctx context.Context, m events.Message) error {
		return events.Permanentf("cannot ever work")
	})
	for i := 0; i < 2; i++ { // a redelivered rejection is kept once
		if err := r.Receive(context.Background(), cloudEvent(t, "m-1", `{"job":"x"}`)); err != nil {
			t.Fatalf("permanent failure returned %v; the message would be retried forever", err)
		}
	}
	var n int
	var data, reason string
	if err := pool.QueryRow(context.Background(), `SELECT count(*), max(convert_from(data, 'UTF8')), max(reason) FROM rejected_events WHERE handler = $1`, t.Name()).Scan(&n, &data, &reason); err != nil {
		t.Fatal(err)
	}
	if n != 1 || data != `{"job":"x"}` || reason != "cannot ever work" {
		t.Fatalf("kept %d rows, data %q reason %q", n, data, reason)
	}
}

func TestReceiverReturnsTransientFailuresForRedelivery(t *testing.T) {
	boom := errors.New("database briefly down")
	r, pool := receiver(t, func(ctx context.Context, m events.Message) error { return boom })
	if err := r.Receive(context.Background(), cloudEvent(t, "m-2", `{}`)); !errors.Is(err, boom) {
		t.Fatalf("Receive = %v, want the handler's error", err)
	}
	var n int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM rejected_events WHERE handler = $1`, t.Name()).Scan(&n)
	if n != 0 {
		t.Fatal("a transient failure was kept as rejected")
	}
}

func TestReceiverDoesNotAcknowledgeWhatItCannotKeep(t *testing.T) {
	r := &events.Receiver{Name: "x", Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Rejecter: postgres.Rejects{DB: func(context.Context) (*pgxpool.Pool, error) { return nil, errors.New("no database") }},
		Handle:   func(context.Context, events.Message) error { return events.Permanentf("bad") }}
	if err := r.Receive(context.Background(), cloudEvent(t, "m-3", `{}`)); err == nil {
		t.Fatal("a rejected message that could not be kept was acknowledged (lost)")
	}
}

func FuzzFromCloudEvent(f *testing.F) {
	f.Add([]byte(`{"message":{"data":"e30=","messageId":"1","publishTime":"2026-11-23T10:00:00Z"}}`), "//pubsub.googleapis.com/projects/p/topics/t")
	f.Add([]byte(`{"message":{}}`), "")
	f.Add([]byte(`null`), "x")
	f.Fuzz(func(t *testing.T, data []byte, source string) {
		e := event.New()
		e.SetID("id")
		e.SetType(events.CloudEventType)
		e.SetSource("s" + source)
		e.DataEncoded = data
		e.SetDataContentType(event.ApplicationJSON)
		m, err := events.FromCloudEvent(e)
		if err != nil && !events.IsPermanent(err) {
			t.Fatalf("non-permanent error %v: a malformed message would be retried forever", err)
		}
		if err == nil && m.ID == "" {
			t.Fatal("accepted a message without id")
		}
	})
}
