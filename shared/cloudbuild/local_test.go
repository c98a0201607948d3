package cloudbuild_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/cloudbuild/apiv1/v2/cloudbuildpb"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/cloudbuild"
	"lookit.dev/platform/shared/events"
)

// recorder is an events.Publisher that keeps what is published, failing from call failAt on
// (1-based; 0 never fails).
type recorder struct {
	failAt int

	mu   sync.Mutex
	msgs []published
}

type published struct {
	topic string
	data  []byte
	attrs map[string]string
}

func (r *recorder) Publish(_ context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failAt > 0 && len(r.msgs)+1 >= r.failAt {
		return "", errors.New("pubsub unavailable")
	}
	r.msgs = append(r.msgs, published{topic, slices.Clone(data), attrs})
	return "m" + string(rune('0'+len(r.msgs))), nil
}

var uuidV4RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLocalStartPublishesQueuedThenFailure(t *testing.T) {
	p := &recorder{}
	l := &cloudbuild.Local{Publisher: p}
	r := request()
	started, err := l.Start(context.Background(), r)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !uuidV4RE.MatchString(started.ID) {
		t.Errorf("build id %q is not a lower-case v4 UUID", started.ID)
	}
	if len(p.msgs) != 2 {
		t.Fatalf("%d messages published, want 2", len(p.msgs))
	}
	want := []cloudbuildpb.Build_Status{cloudbuildpb.Build_QUEUED, cloudbuildpb.Build_FAILURE}
	for i, m := range p.msgs {
		if m.topic != events.TopicCloudBuilds || events.TopicCloudBuilds != "cloud-builds" {
			t.Errorf("message %d on topic %q, want cloud-builds", i, m.topic)
		}
		// Decoded exactly as the BuildStatus function decodes Cloud Build's own messages.
		b, err := cloudbuild.DecodeStatus(m.data)
		if err != nil {
			t.Fatalf("message %d: DecodeStatus(%s): %v", i, m.data, err)
		}
		if b.GetId() != started.ID || b.GetStatus() != want[i] {
			t.Errorf("message %d = id %q status %v, want id %q status %v", i, b.GetId(), b.GetStatus(), started.ID, want[i])
		}
		if !slices.Contains(b.GetTags(), "request-"+r.RequestID) {
			t.Errorf("message %d tags = %q, want request-%s", i, b.GetTags(), r.RequestID)
		}
		if m.attrs["buildId"] != started.ID || m.attrs["status"] != want[i].String() || len(m.attrs) != 2 {
			t.Errorf("message %d attributes = %v, want buildId %s and status %s", i, m.attrs, started.ID, want[i])
		}
		if want[i] == cloudbuildpb.Build_FAILURE {
			if b.GetStatusDetail() == "" || b.GetFinishTime() == nil {
				t.Errorf("final status lacks a detail or finish time: %v", b)
			}
		} else if b.GetFinishTime() != nil {
			t.Errorf("QUEUED status has a finish time: %v", b)
		}
	}
	// The final status is terminal in the order that keeps redelivered statuses harmless.
	if !builds.Terminal(want[1].String()) {
		t.Errorf("%v is not terminal", want[1])
	}
}

func TestLocalStartNewIDEachBuild(t *testing.T) {
	p := &recorder{}
	l := &cloudbuild.Local{Publisher: p}
	a, err := l.Start(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Start(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Fatalf("two builds share the id %s", a.ID)
	}
}

func TestLocalStartPublishFailure(t *testing.T) {
	for _, failAt := range []int{1, 2} {
		p := &recorder{failAt: failAt}
		l := &cloudbuild.Local{Publisher: p}
		got, err := l.Start(context.Background(), request())
		if err == nil {
			t.Fatalf("failAt %d: Start = %+v, want an error", failAt, got)
		}
		if got != (builds.Started{}) {
			t.Errorf("failAt %d: Start returned %+v with the error", failAt, got)
		}
		if len(p.msgs) != failAt-1 {
			t.Errorf("failAt %d: %d messages published, want %d", failAt, len(p.msgs), failAt-1)
		}
	}
}
