package postgres_test

import (
	"context"
	"strings"
	"sync"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/jobs"
)

type eventsPublisher = events.Publisher

type recordingPublisher struct {
	mu       sync.Mutex
	messages []string
}

func (p *recordingPublisher) Publish(_ context.Context, topic string, data []byte, _ map[string]string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.messages = append(p.messages, topic+" "+string(data))
	return "id", nil
}

func jobsRequest(name string) jobs.Request { return jobs.Request{Job: name} }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
