// Package builds is the StartBuild function: it hands each build request on the study-builds
// topic to Cloud Build once.
package builds

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres"
)

// Name is the function's entry point.
const Name = events.FunctionStartBuild

// New returns the CloudEvent function for in.
func New(in *instance.Instance) func(context.Context, event.Event) error {
	return in.Receiver(Name, func(ctx context.Context, m events.Message) error {
		var req builds.Request
		if err := events.DecodeJSON(m.Data, &req); err != nil {
			return err
		}
		if err := req.Validate(); err != nil {
			return events.Permanent(err)
		}
		pool, err := in.DB(ctx)
		if err != nil {
			return fmt.Errorf("database: %w", err)
		}
		builder, err := in.Builder(ctx)
		if err != nil {
			return fmt.Errorf("builder: %w", err)
		}
		id, err := (&postgres.Builds{Pool: pool, Builder: builder}).Start(ctx, req)
		if err != nil {
			return err
		}
		in.Log.InfoContext(ctx, "build started", slog.String("request_id", req.RequestID), slog.String("build_id", id))
		return nil
	}).Receive
}

var receive = sync.OnceValue(func() func(context.Context, event.Event) error { return New(instance.FromEnv(Name)) })

// Receive is the CloudEvent function registered as StartBuild.
func Receive(ctx context.Context, e event.Event) error { return receive()(ctx, e) }
