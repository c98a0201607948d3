// Package pubsub adapts Google Cloud Pub/Sub (the v2 client) to the platform: a Publisher for
// events.Publisher, creation of the topology in events.Topics (topics, subscriptions, retry
// policy, dead-letter topics), and a Dispatcher that delivers pulled messages to the CloudEvent
// functions in Eventarc's envelope, for the local stack and integration tests.
package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	ps "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"lookit.dev/platform/shared/events"
)

// Publisher is an events.Publisher that keeps one *pubsub.Publisher per topic for the life of the
// instance and waits for each message to be stored before returning, because a function's CPU
// may be throttled once its response is written.
type Publisher struct {
	Client *ps.Client

	mu         sync.Mutex
	publishers map[string]*ps.Publisher
}

var _ events.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher on c.
func NewPublisher(c *ps.Client) *Publisher {
	return &Publisher{Client: c, publishers: map[string]*ps.Publisher{}}
}

// Publish stores one message and returns its id.
func (p *Publisher) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	p.mu.Lock()
	pub, ok := p.publishers[topic]
	if !ok {
		pub = p.Client.Publisher(topic)
		pub.PublishSettings.CountThreshold = 1 // one message per request: do not wait to batch
		p.publishers[topic] = pub
	}
	p.mu.Unlock()
	id, err := pub.Publish(ctx, &ps.Message{Data: data, Attributes: attrs}).Get(ctx)
	if err != nil {
		return "", fmt.Errorf("pubsub: publish to %s: %w", topic, err)
	}
	return id, nil
}

// Stop flushes and stops every publisher.
func (p *Publisher) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pub := range p.publishers {
		pub.Stop()
	}
	p.publishers = map[string]*ps.Publisher{}
}

// EnsureTopology creates every topic, dead-letter topic and subscription of topics that does not
// exist yet. Existing ones are left as they are (infra/ owns production).
func EnsureTopology(ctx context.Context, c *ps.Client, topics []events.Topic) error {
	project := c.Project()
	topicName := func(id string) string { return "projects/" + project + "/topics/" + id }
	subName := func(id string) string { return "projects/" + project + "/subscriptions/" + id }
	for _, t := range topics {
		for _, id := range []string{t.Name, t.DeadLetter} {
			if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName(id)}); err != nil && !exists(err) {
				return fmt.Errorf("pubsub: create topic %s: %w", id, err)
			}
		}
		subs := []*pubsubpb.Subscription{
			{
				Name:               subName(t.Subscription),
				Topic:              topicName(t.Name),
				AckDeadlineSeconds: 60,
				RetryPolicy: &pubsubpb.RetryPolicy{
					MinimumBackoff: durationpb.New(t.MinBackoff),
					MaximumBackoff: durationpb.New(t.MaxBackoff),
				},
				DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{
					DeadLetterTopic:     topicName(t.DeadLetter),
					MaxDeliveryAttempts: t.MaxDeliveryAttempts,
				},
			},
			// Dead letters wait here for an operator; a topic without a subscription drops them.
			{Name: subName(t.DeadLetterHold), Topic: topicName(t.DeadLetter), AckDeadlineSeconds: 60},
		}
		for _, s := range subs {
			if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, s); err != nil && !exists(err) {
				return fmt.Errorf("pubsub: create subscription %s: %w", s.Name, err)
			}
		}
	}
	return nil
}

func exists(err error) bool {
	return status.Code(err) == codes.AlreadyExists
}

// ErrNoFunction is returned when a topic's function is not registered with the dispatcher.
var ErrNoFunction = errors.New("pubsub: no function for topic")
