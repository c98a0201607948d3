// Package exports is the RunExport function for the exports topic.
package exports

import (
	"context"
	"errors"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/exports"
	"lookit.dev/platform/shared/instance"
)

// Name is the function's entry point.
const Name = events.FunctionRunExport

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
	return New(instance.FromEnv(Name), exports.Registry{})
})

// Receive is the CloudEvent function registered as RunExport.
func Receive(ctx context.Context, e event.Event) error { return receive()(ctx, e) }
