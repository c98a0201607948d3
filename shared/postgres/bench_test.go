package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// Each benchmark has an "ours" case and a "ceiling" case: the same statements sent straight
// through pgx in the same run, so the table shows what the service layer costs on top.

func BenchmarkFirstDelivery(b *testing.B) {
	pool := pgtest.Pool(b)
	ctx := context.Background()
	b.Run("ours", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
				_, err := postgres.FirstDelivery(ctx, tx, "bench-ours", fmt.Sprint(i))
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ceiling", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			tx, err := pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO event_receipts (handler, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, "bench-raw", fmt.Sprint(i)); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type nopSender struct{}

func (nopSender) Send(context.Context, mail.Outgoing) (string, error) { return "id", nil }

func BenchmarkDeliverEmail(b *testing.B) {
	pool := pgtest.Pool(b)
	ctx := context.Background()
	m := &postgres.Mailer{Pool: pool, Sender: nopSender{}, From: "bot@example.org"}
	to := []string{"family@example.org"}
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			r := mail.Request{ID: uuid.NewString(), Kind: "bench", To: to, Subject: "s", Text: "t"}
			if _, err := m.Deliver(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ceiling", func(b *testing.B) {
		for b.Loop() {
			id := uuid.NewString()
			tx, err := pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text) VALUES ($1, 'bench', 'bot@example.org', $2, 's', 't') ON CONFLICT DO NOTHING`, id, to); err != nil {
				b.Fatal(err)
			}
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM email_messages WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `UPDATE email_messages SET status = 'sent', sent_at = now() WHERE id = $1`, id); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
