package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/logging"
)

// FromCloudEvent reads the Pub/Sub message out of an Eventarc CloudEvent.
func FromCloudEvent(e event.Event) (Message, error) {
	if e.Type() != CloudEventType {
		return Message{}, Permanentf("unexpected CloudEvent type %q", e.Type())
	}
	var d MessagePublishedData
	if err := e.DataAs(&d); err != nil {
		return Message{}, Permanentf("CloudEvent data is not a Pub/Sub message: %v", err)
	}
	id := d.Message.MessageID
	if id == "" {
		id = e.ID()
	}
	if id == "" {
		return Message{}, Permanentf("Pub/Sub message has no id")
	}
	return Message{
		ID:          id,
		Topic:       topicFromSource(e.Source()),
		Attributes:  d.Message.Attributes,
		Data:        d.Message.Data,
		PublishTime: d.Message.PublishTime,
	}, nil
}

// topicFromSource returns T from //pubsub.googleapis.com/projects/P/topics/T.
func topicFromSource(src string) string {
	if i := strings.LastIndex(src, "/topics/"); i >= 0 {
		return src[i+len("/topics/"):]
	}
	return ""
}

// ToCloudEvent builds the CloudEvent Eventarc delivers for m, so local delivery and tests use
// exactly the production envelope.
func ToCloudEvent(project, subscription string, m Message) (event.Event, error) {
	e := event.New()
	e.SetID(m.ID)
	e.SetSource("//pubsub.googleapis.com/projects/" + project + "/topics/" + m.Topic)
	e.SetType(CloudEventType)
	t := m.PublishTime
	if t.IsZero() {
		t = time.Now()
	}
	e.SetTime(t)
	data := MessagePublishedData{
		Message: PubsubMessage{
			Data:        m.Data,
			Attributes:  m.Attributes,
			MessageID:   m.ID,
			PublishTime: t.UTC(),
		},
		Subscription: "projects/" + project + "/subscriptions/" + subscription,
	}
	if err := e.SetData(event.ApplicationJSON, data); err != nil {
		return event.Event{}, fmt.Errorf("events: encode CloudEvent: %w", err)
	}
	return e, nil
}

// Rejecter keeps messages that were acknowledged without effect.
type Rejecter interface {
	Reject(ctx context.Context, handler string, m Message, reason string) error
}

// Handler does the work of one message. It returns nil when the work is done (or was already
// done: handlers are idempotent), a Permanent error when the message can never succeed, and any
// other error to have Pub/Sub redeliver it later.
type Handler func(ctx context.Context, m Message) error

// Receiver turns a Handler into a CloudEvent function with the platform's delivery rules.
type Receiver struct {
	Name     string
	Log      *slog.Logger
	Rejecter Rejecter
	Handle   Handler
}

// Receive is the CloudEvent function. A returned error makes the framework answer 500, so
// Pub/Sub retries with backoff and finally dead-letters.
func (r *Receiver) Receive(ctx context.Context, e event.Event) error {
	log := r.Log.With(slog.String("function", r.Name), slog.String("message_id", e.ID()))
	ctx = logging.WithRequestID(ctx, e.ID())
	m, err := FromCloudEvent(e)
	if err == nil {
		log = log.With(slog.String("topic", m.Topic))
		err = r.Handle(ctx, m)
	} else {
		m = Message{ID: e.ID(), Topic: topicFromSource(e.Source()), Data: e.Data()}
	}
	switch {
	case err == nil:
		return nil
	case IsPermanent(err):
		if rerr := r.Rejecter.Reject(ctx, r.Name, m, err.Error()); rerr != nil {
			// Keeping the message failed: let Pub/Sub redeliver rather than lose it.
			logging.Error(ctx, log, "could not keep rejected message", rerr)
			return fmt.Errorf("%s: keep rejected message: %w", r.Name, rerr)
		}
		log.WarnContext(ctx, "message rejected", slog.String("reason", err.Error()))
		return nil
	default:
		logging.Error(ctx, log, "message failed; Pub/Sub will redeliver", err)
		return fmt.Errorf("%s: %w", r.Name, err)
	}
}
