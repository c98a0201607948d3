// Package jobs is the RunJob function: Cloud Scheduler publishes a job name on the
// scheduled-jobs topic and this function runs that job once per firing.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/postgres"
)

// Name is the function's entry point.
const Name = events.FunctionRunJob

// New returns the CloudEvent function for in.
func New(in *instance.Instance) func(context.Context, event.Event) error {
	return in.Receiver(Name, func(ctx context.Context, m events.Message) error {
		var req jobs.Request
		if err := events.DecodeJSON(m.Data, &req); err != nil {
			return err
		}
		pool, err := in.DB(ctx)
		if err != nil {
			return fmt.Errorf("database: %w", err)
		}
		videoStorage := func(ctx context.Context) (postgres.VideoStorage, error) { return in.Videos(ctx) }
		j := postgres.NewJobs(pool, postgres.PublisherFunc(in.Publisher))
		j.Log = in.Log
		ran, err := j.WithVideos(videoStorage).
			WithBuilds(postgres.PublisherFunc(in.Publisher), in.Config.EmailFrom).
			WithExports(postgres.PublisherFunc(in.Publisher), 0).
			WithAnnouncements(in.Config.AnnouncementsPerStudy, in.Config.BaseURL.String(), in.Config.EmailFrom, []byte(in.Config.SecretKey)).
			Run(ctx, m.ID, req)
		if errors.Is(err, postgres.ErrUnknownJob) {
			return events.Permanent(err)
		}
		if err != nil {
			return err
		}
		in.Log.InfoContext(ctx, "job finished", slog.String("job", req.Job), slog.Bool("ran", ran))
		return nil
	}).Receive
}

var receive = sync.OnceValue(func() func(context.Context, event.Event) error { return New(instance.FromEnv(Name)) })

// Receive is the CloudEvent function registered as RunJob.
func Receive(ctx context.Context, e event.Event) error { return receive()(ctx, e) }
