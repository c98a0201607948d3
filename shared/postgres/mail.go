package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
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
		q := db.New(tx)
		if err := q.StoreEmail(ctx, db.StoreEmailParams{
			ID: r.ID, Kind: r.Kind, FromAddress: s.From, ToAddresses: r.To,
			Subject: r.Subject, BodyText: r.Text, BodyHtml: r.HTML, ReplyTo: r.ReplyTo,
		}); err != nil {
			return fmt.Errorf("store email: %w", err)
		}
		// The stored row is the truth: a redelivered request sends what was first stored.
		row, err := q.LockEmail(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("lock email: %w", err)
		}
		switch row.Status {
		case "sent":
			out = AlreadySent
			return nil
		case "failed":
			out = Refused
			return nil
		}
		providerID, err := s.Sender.Send(ctx, mail.Outgoing{
			ID: row.ID, Kind: row.Kind, From: row.FromAddress, To: row.ToAddresses,
			Subject: row.Subject, Text: row.BodyText, HTML: row.BodyHtml, ReplyTo: row.ReplyTo,
		})
		switch {
		case err == nil:
			out = Sent
			return q.MarkEmailSent(ctx, db.MarkEmailSentParams{ID: r.ID, ProviderMessageID: providerID})
		case errors.Is(err, mail.ErrRejected):
			out, sendErr = Refused, err
			msg := err.Error()
			return q.MarkEmailRefused(ctx, db.MarkEmailRefusedParams{ID: r.ID, LastError: &msg})
		default:
			// The row stays pending for the redelivery; the attempt is counted below.
			sendErr = err
			return nil
		}
	})
	if err != nil {
		return "", fmt.Errorf("postgres: deliver email: %w", err)
	}
	if sendErr != nil && out == "" {
		msg := sendErr.Error()
		if err := db.New(s.Pool).RecordEmailAttempt(ctx, db.RecordEmailAttemptParams{ID: r.ID, LastError: &msg}); err != nil {
			return "", errors.Join(sendErr, err)
		}
	}
	return out, sendErr
}
