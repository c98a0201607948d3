package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/postgres/db"
)

// FirstDelivery records that handler processed messageID, inside tx. It returns false when the
// receipt already exists: the message was redelivered after its effect committed, and the caller
// must do nothing. Because the receipt commits with the effect, a crash between them leaves
// neither, and the redelivery does the work once.
func FirstDelivery(ctx context.Context, tx pgx.Tx, handler, messageID string) (bool, error) {
	n, err := db.New(tx).RecordReceipt(ctx, db.RecordReceiptParams{Handler: handler, MessageID: messageID})
	if err != nil {
		return false, fmt.Errorf("postgres: record receipt: %w", err)
	}
	return n == 1, nil
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
	err = db.New(pool).KeepRejectedEvent(ctx, db.KeepRejectedEventParams{
		Handler: handler, MessageID: m.ID, Topic: m.Topic, Attributes: attrs, Data: m.Data, Reason: reason,
	})
	if err != nil {
		return fmt.Errorf("postgres: keep rejected message: %w", err)
	}
	return nil
}
