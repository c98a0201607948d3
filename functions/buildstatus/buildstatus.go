// Package buildstatus is the BuildStatus function: it records the status Cloud Build publishes
// on the cloud-builds topic for builds this platform started.
package buildstatus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/cloudbuild"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres"
)

// Name is the function's entry point.
const Name = events.FunctionBuildStatus

// New returns the CloudEvent function for in.
func New(in *instance.Instance) func(context.Context, event.Event) error {
	return in.Receiver(Name, func(ctx context.Context, m events.Message) error {
		b, err := cloudbuild.DecodeStatus(m.Data)
		if err != nil {
			return events.Permanent(err)
		}
		pool, err := in.DB(ctx)
		if err != nil {
			return fmt.Errorf("database: %w", err)
		}
		s := postgres.Status{BuildID: b.GetId(), Status: b.GetStatus().String(), Detail: b.GetStatusDetail(), LogURL: b.GetLogUrl()}
		if b.GetFinishTime() != nil {
			s.FinishedAt = b.GetFinishTime().AsTime()
		}
		applied, mails, err := (&postgres.Builds{Pool: pool, From: in.Config.EmailFrom}).RecordStatus(ctx, s)
		if err != nil {
			return err
		}
		// The emails are stored with the status; a lost publication is sent by retry-unsent-emails.
		if len(mails) > 0 {
			if pub, err := in.Publisher(ctx); err != nil {
				in.Log.WarnContext(ctx, "build emails not published; the retry job will send them", slog.String("error", err.Error()))
			} else {
				for _, m := range mails {
					if _, err := events.PublishJSON(ctx, pub, events.TopicEmail, m, nil); err != nil {
						in.Log.WarnContext(ctx, "build email not published; the retry job will send it", slog.String("error", err.Error()))
					}
				}
			}
		}
		in.Log.InfoContext(ctx, "build status", slog.String("build_id", s.BuildID), slog.String("status", s.Status), slog.Bool("applied", applied))
		return nil
	}).Receive
}

var receive = sync.OnceValue(func() func(context.Context, event.Event) error { return New(instance.FromEnv(Name)) })

// Receive is the CloudEvent function registered as BuildStatus.
func Receive(ctx context.Context, e event.Event) error { return receive()(ctx, e) }
