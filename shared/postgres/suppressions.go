package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/postgres/db"
)

// Suppressions keeps the addresses the mailer must leave out (email_suppressions), fed by
// SendGrid's Event Webhook.
type Suppressions struct {
	Pool *pgxpool.Pool
}

// SuppressionEvent is one provider event that suppresses an address.
type SuppressionEvent struct {
	ID     string    // the provider's event id; a repeated id is counted once
	Email  string    // the address, matched without regard to case
	Reason string    // bounce, spamreport or invalid
	At     time.Time // when it happened; zero for now
}

// Record stores a batch of events in one transaction and returns how many were new. Recording
// the same batch again changes nothing: an event whose id was seen before is skipped.
func (s *Suppressions) Record(ctx context.Context, events []SuppressionEvent) (int, error) {
	n := 0
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		n = 0
		q := db.New(tx)
		for _, e := range events {
			if e.ID != "" {
				fresh, err := q.RecordSuppressionEventID(ctx, e.ID)
				if err != nil {
					return err
				}
				if fresh == 0 {
					continue
				}
			}
			at := e.At
			if at.IsZero() {
				at = time.Now()
			}
			if err := q.UpsertSuppression(ctx, db.UpsertSuppressionParams{
				Email: e.Email, Reason: e.Reason, EventAt: pgtype.Timestamptz{Time: at, Valid: true},
			}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: record suppressions: %w", err)
	}
	return n, nil
}

// Suppressed returns the addresses among addrs that are suppressed, as spelled in addrs.
func (s *Suppressions) Suppressed(ctx context.Context, addrs []string) ([]string, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	out, err := db.New(s.Pool).SuppressedAmong(ctx, addrs)
	if err != nil {
		return nil, fmt.Errorf("postgres: suppressed addresses: %w", err)
	}
	return out, nil
}
