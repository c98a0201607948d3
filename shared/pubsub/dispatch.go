package pubsub

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	ps "cloud.google.com/go/pubsub/v2"
	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/logging"
)

// CloudEventFunc is a CloudEvent function as registered with the functions framework.
type CloudEventFunc func(context.Context, event.Event) error

// Dispatcher plays Eventarc's part where there is none: it pulls each topic's subscription and
// hands every message to the topic's function in the CloudEvent envelope Eventarc uses. A nil
// result acknowledges the message; an error negatively acknowledges it after the subscription's
// backoff (scaled by BackoffScale for local use), so retries and dead-lettering behave as in
// production.
type Dispatcher struct {
	Client       *ps.Client
	Topics       []events.Topic
	Functions    map[string]CloudEventFunc // by function entry point
	Log          *slog.Logger
	BackoffScale float64 // 1 is production timing; make run uses less
	// AckExtension, if set, caps each extension of a message's acknowledgement deadline while
	// its function runs (10 s to 600 s): a process that dies mid-delivery then has its message
	// redelivered within about that long.
	AckExtension time.Duration
}

// Run delivers until ctx ends; it returns once every in-flight delivery finished.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(d.Topics))
	for _, t := range d.Topics {
		fn, ok := d.Functions[t.Function]
		if !ok {
			return fmt.Errorf("%w %s (function %s)", ErrNoFunction, t.Name, t.Function)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub := d.Client.Subscriber(t.Subscription)
			sub.ReceiveSettings.MaxOutstandingMessages = 4
			sub.ReceiveSettings.NumGoroutines = 1
			if d.AckExtension > 0 {
				sub.ReceiveSettings.MaxDurationPerAckExtension = d.AckExtension
			}
			err := sub.Receive(ctx, func(ctx context.Context, m *ps.Message) {
				d.deliver(ctx, t, fn, m)
			})
			if err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("pubsub: receive %s: %w", t.Subscription, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (d *Dispatcher) deliver(ctx context.Context, t events.Topic, fn CloudEventFunc, m *ps.Message) {
	e, err := events.ToCloudEvent(d.Client.Project(), t.Subscription, events.Message{
		ID: m.ID, Topic: t.Name, Attributes: m.Attributes, Data: m.Data, PublishTime: m.PublishTime,
	})
	if err == nil {
		err = call(ctx, fn, e)
	}
	if err == nil {
		m.Ack()
		return
	}
	attempt := 1
	if m.DeliveryAttempt != nil {
		attempt = *m.DeliveryAttempt
	}
	wait := d.backoff(t, attempt)
	d.Log.WarnContext(ctx, "delivery failed; will redeliver", slog.String("function", t.Function),
		slog.String("message_id", m.ID), slog.Int("attempt", attempt), slog.Duration("backoff", wait))
	select {
	case <-time.After(wait):
	case <-ctx.Done():
	}
	m.Nack()
}

// call runs fn, turning a panic into an error as the functions framework does.
func call(ctx context.Context, fn CloudEventFunc, e event.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return fn(logging.WithRequestID(ctx, e.ID()), e)
}

// backoff is Pub/Sub's exponential retry policy: MinBackoff doubled per attempt, capped.
func (d *Dispatcher) backoff(t events.Topic, attempt int) time.Duration {
	b := t.MinBackoff
	for i := 1; i < attempt && b < t.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, t.MaxBackoff)
	scale := d.BackoffScale
	if scale <= 0 {
		scale = 1
	}
	return time.Duration(float64(b) * scale)
}
