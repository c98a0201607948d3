// Package mailer is the SendEmail function: it sends each email request published on the
// email-send topic once, through SendGrid.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres"
)

// Name is the function's entry point.
const Name = events.FunctionSendEmail

// New returns the CloudEvent function for in.
func New(in *instance.Instance) func(context.Context, event.Event) error {
	return in.Receiver(Name, func(ctx context.Context, m events.Message) error {
		var req mail.Request
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
		sender, err := in.Mail(ctx)
		if err != nil {
			return fmt.Errorf("mail sender: %w", err)
		}
		mailer := &postgres.Mailer{Pool: pool, Sender: sender, From: in.Config.EmailFrom, Log: in.Log}
		out, err := mailer.Deliver(ctx, req)
		if errors.Is(err, mail.ErrRejected) {
			return events.Permanent(err)
		}
		if err != nil {
			return err
		}
		in.Log.InfoContext(ctx, "email delivered", slog.String("email_id", req.ID), slog.String("kind", req.Kind),
			slog.String("outcome", string(out)), slog.Int("recipients", len(req.To)))
		return nil
	}).Receive
}

var receive = sync.OnceValue(func() func(context.Context, event.Event) error { return New(instance.FromEnv(Name)) })

// Receive is the CloudEvent function registered as SendEmail.
func Receive(ctx context.Context, e event.Event) error { return receive()(ctx, e) }
