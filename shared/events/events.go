// Package events is how the platform's Pub/Sub-triggered functions receive work: the topics and
// their subscriptions, the Eventarc CloudEvent envelope, and the rules that make every handler
// safe under at-least-once delivery (receipts for idempotency, rejected messages kept, retryable
// errors returned so Pub/Sub redelivers with backoff).
package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Topic is one Pub/Sub topic with the subscription that delivers it to its function and the
// dead-letter topic that receives what could not be delivered after MaxDeliveryAttempts.
type Topic struct {
	Name                string // topic id
	Function            string // entry point of the function that consumes it
	Subscription        string // subscription id delivering to Function
	DeadLetter          string // dead-letter topic id
	DeadLetterHold      string // subscription on DeadLetter that retains dead letters for operators
	MaxDeliveryAttempts int32
	MinBackoff          time.Duration
	MaxBackoff          time.Duration
}

// Topic names. cloud-builds is fixed by Cloud Build, which publishes build status there.
const (
	TopicEmail       = "email-send"
	TopicJobs        = "scheduled-jobs"
	TopicBuilds      = "study-builds"
	TopicCloudBuilds = "cloud-builds"
	TopicExports     = "exports"
)

// Function entry points triggered by the topics.
const (
	FunctionSendEmail   = "SendEmail"
	FunctionRunJob      = "RunJob"
	FunctionStartBuild  = "StartBuild"
	FunctionBuildStatus = "BuildStatus"
	FunctionRunExport   = "RunExport"
)

func topic(name, function string, attempts int32) Topic {
	return Topic{
		Name:                name,
		Function:            function,
		Subscription:        name + "-" + function,
		DeadLetter:          name + "-dead",
		DeadLetterHold:      name + "-dead-hold",
		MaxDeliveryAttempts: attempts,
		MinBackoff:          10 * time.Second,
		MaxBackoff:          600 * time.Second,
	}
}

// Topics is the production topology; infra/ and the local stack create exactly these.
var Topics = []Topic{
	topic(TopicEmail, FunctionSendEmail, 10),
	topic(TopicJobs, FunctionRunJob, 5),
	topic(TopicBuilds, FunctionStartBuild, 5),
	topic(TopicCloudBuilds, FunctionBuildStatus, 10),
	topic(TopicExports, FunctionRunExport, 5),
}

// TopicByName returns the topology entry for a topic id.
func TopicByName(name string) (Topic, bool) {
	for _, t := range Topics {
		if t.Name == name {
			return t, true
		}
	}
	return Topic{}, false
}

// MessagePublishedData is the data of the CloudEvent Eventarc delivers for a Pub/Sub message
// (type google.cloud.pubsub.topic.v1.messagePublished).
type MessagePublishedData struct {
	Message      PubsubMessage `json:"message"`
	Subscription string        `json:"subscription,omitempty"`
}

// PubsubMessage is a Pub/Sub message as Eventarc encodes it; Data is base64 in JSON.
type PubsubMessage struct {
	Data        []byte            `json:"data,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	MessageID   string            `json:"messageId"`
	PublishTime time.Time         `json:"publishTime"`
	OrderingKey string            `json:"orderingKey,omitempty"`
}

// CloudEventType is the CloudEvent type of a published Pub/Sub message.
const CloudEventType = "google.cloud.pubsub.topic.v1.messagePublished"

// Message is a received Pub/Sub message, whatever delivered it.
type Message struct {
	ID          string
	Topic       string
	Attributes  map[string]string
	Data        []byte
	PublishTime time.Time
}

// Publisher publishes to a topic and returns the message id once the message is stored.
type Publisher interface {
	Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error)
}

// PublishJSON marshals v and publishes it.
func PublishJSON(ctx context.Context, p Publisher, topic string, v any, attrs map[string]string) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("events: encode %s message: %w", topic, err)
	}
	return p.Publish(ctx, topic, data, attrs)
}

// permanent marks an error that no retry can fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that redelivery cannot fix (a malformed payload, an unknown kind):
// the message is acknowledged and kept in rejected_events instead of being retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Permanentf is Permanent(fmt.Errorf(...)).
func Permanentf(format string, args ...any) error { return Permanent(fmt.Errorf(format, args...)) }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// DecodeJSON decodes a message payload strictly; any failure is permanent.
func DecodeJSON(data []byte, v any) error {
	if len(data) == 0 {
		return Permanentf("empty message data")
	}
	if len(data) > 1<<20 {
		return Permanentf("message data exceeds 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Permanentf("malformed message data: %v", err)
	}
	if dec.More() {
		return Permanentf("malformed message data: more than one JSON value")
	}
	return nil
}
