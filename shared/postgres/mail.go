package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// Mailer delivers email requests exactly once per request id, as far as the provider allows:
// the request is stored, then sent in batches of at most mail.MaxBatch recipients (SendGrid's
// limit), each under the row's lock and counted in the same transaction, so a sent batch is never
// sent again and a retry after a failure part-way resumes with the first unsent batch. (A crash
// after the provider accepted a batch and before its commit can still send that batch twice; no
// mail API offers more.) Suppressed recipients (email_suppressions) are left out when their batch
// goes out and counted on the row; an email left with nobody to send to ends "suppressed".
type Mailer struct {
	Pool   *pgxpool.Pool
	Sender mail.Sender
	From   string
	Log    *slog.Logger // optional; never given addresses
}

// Outcome says what Deliver did.
type Outcome string

const (
	Sent        Outcome = "sent"
	AlreadySent Outcome = "already_sent"
	Refused     Outcome = "refused"    // the provider refused the message; it will not be retried
	Suppressed  Outcome = "suppressed" // every recipient is suppressed; nothing was sent
)

// Deliver stores r (first delivery) and sends what is left of it unless it was already sent. A
// provider refusal is recorded on the row and returned wrapped in mail.ErrRejected; other
// failures are returned for redelivery, which resumes where this one stopped.
func (s *Mailer) Deliver(ctx context.Context, r mail.Request) (Outcome, error) {
	unsubscribe := r.ListUnsubscribe
	if unsubscribe == nil {
		unsubscribe = []string{}
	}
	// The stored row is the truth: a redelivered request sends what was first stored.
	if err := db.New(s.Pool).StoreEmailForDelivery(ctx, db.StoreEmailForDeliveryParams{
		ID: r.ID, Kind: r.Kind, FromAddress: s.From, ToAddresses: r.To,
		Subject: r.Subject, BodyText: r.Text, BodyHtml: r.HTML, ReplyTo: r.ReplyTo, ListUnsubscribe: unsubscribe,
	}); err != nil {
		return "", fmt.Errorf("postgres: deliver email: store: %w", err)
	}
	sentAny := false
	for {
		step, err := s.deliverBatch(ctx, r.ID)
		if err != nil {
			return "", fmt.Errorf("postgres: deliver email: %w", err)
		}
		if step.sent {
			sentAny = true
		}
		if step.suppressed > 0 && s.Log != nil {
			s.Log.InfoContext(ctx, "suppressed recipients left out", slog.String("email_id", r.ID),
				slog.Int("batch", step.batch), slog.Int("suppressed", step.suppressed))
		}
		if step.sendErr != nil && step.out == "" {
			msg := step.sendErr.Error()
			if err := db.New(s.Pool).RecordEmailAttempt(ctx, db.RecordEmailAttemptParams{ID: r.ID, LastError: &msg}); err != nil {
				return "", errors.Join(step.sendErr, err)
			}
			return "", step.sendErr
		}
		switch {
		case step.out == "":
			continue // the next batch
		case step.out == AlreadySent && sentAny:
			// Another delivery finished the email after this one sent some of it.
			return Sent, nil
		default:
			return step.out, step.sendErr
		}
	}
}

// batchStep is what one transaction of Deliver did.
type batchStep struct {
	out        Outcome // "" while batches remain
	batch      int     // the batch it handled
	sent       bool    // a batch went to the provider
	suppressed int     // recipients of the batch left out
	sendErr    error
}

// deliverBatch locks the email and handles its next unsent batch; the batch is counted in the same
// transaction, which also finishes the email after its last batch.
func (s *Mailer) deliverBatch(ctx context.Context, id string) (batchStep, error) {
	var step batchStep
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		step = batchStep{}
		q := db.New(tx)
		row, err := q.LockEmailForDelivery(ctx, id)
		if err != nil {
			return fmt.Errorf("lock email: %w", err)
		}
		switch row.Status {
		case "sent":
			step.out = AlreadySent
			return nil
		case "failed":
			step.out = Refused
			return nil
		case "suppressed":
			step.out = Suppressed
			return nil
		}
		batches := (len(row.ToAddresses) + mail.MaxBatch - 1) / mail.MaxBatch
		b := int(row.SentBatches)
		step.batch = b
		if b >= batches {
			return finish(ctx, q, id, &step)
		}
		lo, hi := b*mail.MaxBatch, min((b+1)*mail.MaxBatch, len(row.ToAddresses))
		to := row.ToAddresses[lo:hi]
		var unsubscribe []string
		if len(row.ListUnsubscribe) == len(row.ToAddresses) {
			unsubscribe = row.ListUnsubscribe[lo:hi]
		}
		suppressed, err := q.SuppressedAmong(ctx, to)
		if err != nil {
			return fmt.Errorf("suppressed addresses: %w", err)
		}
		if len(suppressed) > 0 {
			to, unsubscribe = without(to, unsubscribe, suppressed)
			step.suppressed = len(suppressed)
		}
		providerID := ""
		if len(to) > 0 {
			providerID, err = s.Sender.Send(ctx, mail.Outgoing{
				ID: row.ID, Kind: row.Kind, From: row.FromAddress, To: to,
				Subject: row.Subject, Text: row.BodyText, HTML: row.BodyHtml, ReplyTo: row.ReplyTo,
				ListUnsubscribe: unsubscribe,
			})
			switch {
			case err == nil:
				step.sent = true
			case errors.Is(err, mail.ErrRejected):
				step.out, step.sendErr = Refused, err
				msg := err.Error()
				return q.MarkEmailRefused(ctx, db.MarkEmailRefusedParams{ID: id, LastError: &msg})
			default:
				// The row stays pending at this batch for the redelivery; the attempt is counted
				// after this transaction.
				step.sendErr = err
				return nil
			}
		}
		n, err := q.MarkEmailBatchSent(ctx, db.MarkEmailBatchSentParams{
			ID: id, Batch: int32(b), Suppressed: int32(step.suppressed), ProviderMessageID: providerID,
		})
		if err != nil {
			return fmt.Errorf("count batch: %w", err)
		}
		if n != 1 {
			// Cannot happen under the row lock; stop rather than risk sending a batch twice.
			return fmt.Errorf("count batch %d: the email's progress moved under its lock", b)
		}
		if b+1 == batches {
			return finish(ctx, q, id, &step)
		}
		return nil
	})
	return step, err
}

func finish(ctx context.Context, q *db.Queries, id string, step *batchStep) error {
	status, err := q.FinishEmail(ctx, id)
	if err != nil {
		return fmt.Errorf("finish email: %w", err)
	}
	step.out = Sent
	if status == "suppressed" {
		step.out = Suppressed
	}
	return nil
}

// without drops the suppressed addresses (compared without regard to case) from to and the
// parallel unsubscribe URLs.
func without(to, unsubscribe, suppressed []string) ([]string, []string) {
	drop := make(map[string]bool, len(suppressed))
	for _, a := range suppressed {
		drop[strings.ToLower(a)] = true
	}
	var keepTo, keepUnsub []string
	for i, a := range to {
		if drop[strings.ToLower(a)] {
			continue
		}
		keepTo = append(keepTo, a)
		if unsubscribe != nil {
			keepUnsub = append(keepUnsub, unsubscribe[i])
		}
	}
	return keepTo, keepUnsub
}
