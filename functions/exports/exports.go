// Package exports is the RunExport function for the exports topic: it makes the downloads and
// video archives researchers asked for in the background (shared/postgres.Exports).
package exports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/exports"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
)

// Name is the function's entry point.
const Name = events.FunctionRunExport

// Service returns the export service of an instance, built from its lazily made clients.
func Service(ctx context.Context, in *instance.Instance) (*postgres.Exports, error) {
	pool, err := in.DB(ctx)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return &postgres.Exports{Pool: pool, Private: in.Private, From: in.Config.EmailFrom, BaseURL: in.Config.BaseURL.String(), Log: in.Log,
		Videos: func(ctx context.Context, bucket string) (objects.Store, error) {
			b, err := in.Videos(ctx)
			if err != nil {
				return nil, err
			}
			if st := b.Named(bucket); st != nil {
				return st, nil
			}
			return nil, fmt.Errorf("no video bucket %q", bucket)
		}}, nil
}

// Registry returns the export kinds the instance makes. configure, if not nil, adjusts the
// service (tests shorten its lease).
func Registry(in *instance.Instance, configure func(*postgres.Exports)) exports.Registry {
	run := func(ctx context.Context, r exports.Request) error {
		x, err := Service(ctx, in)
		if err != nil {
			return err
		}
		if configure != nil {
			configure(x)
		}
		mails, err := x.Run(ctx, r.ExportID)
		if err != nil {
			return err
		}
		pub, err := in.Publisher(ctx)
		for _, m := range mails {
			if err == nil {
				_, err = events.PublishJSON(ctx, pub, events.TopicEmail, m, nil)
			}
		}
		if err != nil {
			// The email is stored; the retry-unsent-emails job publishes it.
			in.Log.WarnContext(ctx, "export email not published", slog.String("export", r.ExportID), slog.Any("error", err))
		}
		return nil
	}
	return exports.Registry{postgres.ExportDownload: run, postgres.ExportVideoArchive: run}
}

// New returns the CloudEvent function for in, producing the kinds in reg.
func New(in *instance.Instance, reg exports.Registry) func(context.Context, event.Event) error {
	return in.Receiver(Name, func(ctx context.Context, m events.Message) error {
		var req exports.Request
		if err := events.DecodeJSON(m.Data, &req); err != nil {
			return err
		}
		err := reg.Run(ctx, req)
		if errors.Is(err, exports.ErrUnknownKind) {
			return events.Permanent(err)
		}
		return err
	}).Receive
}

var receive = sync.OnceValue(func() func(context.Context, event.Event) error {
	in := instance.FromEnv(Name)
	return New(in, Registry(in, nil))
})

// Receive is the CloudEvent function registered as RunExport.
func Receive(ctx context.Context, e event.Event) error { return receive()(ctx, e) }
