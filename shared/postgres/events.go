package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/events"
)

// FirstDelivery records that handler processed messageID, inside tx. It returns false when the
// receipt already exists: the message was redelivered after its effect committed, and the caller
// must do nothing. Because the receipt commits with the effect, a crash between them leaves
// neither, and the redelivery does the work once.
func FirstDelivery(ctx context.Context, tx pgx.Tx, handler, messageID string) (bool, error) {
	tag, err := tx.Exec(ctx,
		`INSERT INTO event_receipts (handler, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		handler, messageID)
	if err != nil {
		return false, fmt.Errorf("postgres: record receipt: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Rejects keeps rejected messages in rejected_events.
type Rejects struct {
	DB func(ctx context.Context) (*pgxpool.Pool, error)
}

var _ events.Rejecter = Rejects{}

// Reject stores m; a redelivered rejection is stored once.
func (r Rejects) Reject(ctx context.Context, handler string, m events.Message, reason string) error {
	attrs, err := json.Marshal(m.Attributes)
	if err != nil {
		return fmt.Errorf("postgres: encode attributes: %w", err)
	}
	if m.Data == nil {
		m.Data = []byte{}
	}
	pool, err := r.DB(ctx)
	if err != nil {
		return fmt.Errorf("postgres: keep rejected message: %w", err)
	}
	_, err = pool.Exec(ctx, `
		INSERT INTO rejected_events (handler, message_id, topic, attributes, data, reason)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (handler, message_id) DO NOTHING`,
		handler, m.ID, m.Topic, attrs, m.Data, reason)
	if err != nil {
		return fmt.Errorf("postgres: keep rejected message: %w", err)
	}
	return nil
}
