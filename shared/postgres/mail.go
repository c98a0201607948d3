package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/mail"
)

// Mailer delivers email requests exactly once per request id, as far as the provider allows:
// the request is stored, the row is locked while the provider is called, and a sent row is never
// sent again. (A crash after the provider accepted and before the commit can still send twice;
// no mail API offers more.)
type Mailer struct {
	Pool   *pgxpool.Pool
	Sender mail.Sender
	From   string
}

// Outcome says what Deliver did.
type Outcome string

const (
	Sent        Outcome = "sent"
	AlreadySent Outcome = "already_sent"
	Refused     Outcome = "refused" // the provider refused the message; it will not be retried
)

// Deliver stores r (first delivery) and sends it unless it was already sent. A provider refusal
// is recorded on the row and returned wrapped in mail.ErrRejected; other failures are returned
// for redelivery.
func (s *Mailer) Deliver(ctx context.Context, r mail.Request) (Outcome, error) {
	var out Outcome
	var sendErr error
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text, body_html)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO NOTHING`,
			r.ID, r.Kind, s.From, r.To, r.Subject, r.Text, r.HTML); err != nil {
			return fmt.Errorf("store email: %w", err)
		}
		// The stored row is the truth: a redelivered request sends what was first stored.
		var o mail.Outgoing
		var status string
		if err := tx.QueryRow(ctx, `
			SELECT id::text, kind, from_address, to_addresses, subject, body_text, body_html, status
			FROM email_messages WHERE id = $1 FOR UPDATE`, r.ID).
			Scan(&o.ID, &o.Kind, &o.From, &o.To, &o.Subject, &o.Text, &o.HTML, &status); err != nil {
			return fmt.Errorf("lock email: %w", err)
		}
		if status != "pending" {
			out = AlreadySent
			if status == "failed" {
				out = Refused
			}
			return nil
		}
		providerID, err := s.Sender.Send(ctx, o)
		switch {
		case err == nil:
			out = Sent
			_, err = tx.Exec(ctx, `
				UPDATE email_messages SET status = 'sent', attempts = attempts + 1, sent_at = now(),
				       provider_message_id = NULLIF($2, ''), last_error = NULL
				WHERE id = $1`, r.ID, providerID)
			return err
		case errors.Is(err, mail.ErrRejected):
			out, sendErr = Refused, err
			_, err = tx.Exec(ctx, `
				UPDATE email_messages SET status = 'failed', attempts = attempts + 1, last_error = $2
				WHERE id = $1`, r.ID, err.Error())
			return err
		default:
			// Roll back nothing but the attempt count: the row stays pending for the redelivery.
			sendErr = err
			return nil
		}
	})
	if err != nil {
		return "", fmt.Errorf("postgres: deliver email: %w", err)
	}
	if sendErr != nil {
		if out == "" {
			if _, err := s.Pool.Exec(ctx, `UPDATE email_messages SET attempts = attempts + 1, last_error = $2 WHERE id = $1 AND status = 'pending'`, r.ID, sendErr.Error()); err != nil {
				return "", errors.Join(sendErr, err)
			}
		}
		return out, sendErr
	}
	return out, nil
}
