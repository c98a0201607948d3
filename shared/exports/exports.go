// Package exports names the long-running data exports that run on the exports topic instead of
// inside a request (video archives, frame-data dictionaries, response downloads).
package exports

import (
	"context"
	"errors"
	"fmt"
)

// Request asks for one export. ExportID is the idempotency key.
type Request struct {
	ExportID string `json:"export_id"`
	Kind     string `json:"kind"`
}

// Func produces one export.
type Func func(ctx context.Context, r Request) error

// Registry maps export kinds to their functions (functions/exports registers the download and
// video archive kinds). A request of any other kind is rejected for good.
type Registry map[string]Func

// ErrUnknownKind is returned for a kind nothing produces.
var ErrUnknownKind = errors.New("unknown export kind")

// Run produces r with its kind's function.
func (reg Registry) Run(ctx context.Context, r Request) error {
	fn, ok := reg[r.Kind]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKind, r.Kind)
	}
	return fn(ctx, r)
}
