package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// queueEmail stores an email in the outbox inside the caller's transaction, so that it exists if
// and only if the change that causes it commits. The caller publishes the returned request after
// commit; the retry-unsent-emails job publishes any whose publication was lost.
func queueEmail(ctx context.Context, q *db.Queries, from string, c pmail.Content, replyTo string, to ...string) (pmail.Request, error) {
	m, err := c.Render()
	if err != nil {
		return pmail.Request{}, fmt.Errorf("postgres: email: %w", err)
	}
	r := pmail.Request{ID: uuid.NewString(), Kind: m.Kind, To: to, Subject: m.Subject, Text: m.Text, HTML: m.HTML, ReplyTo: replyTo}
	if err := r.Validate(); err != nil {
		return pmail.Request{}, fmt.Errorf("postgres: email %s: %w", c.Kind, err)
	}
	err = q.QueueEmail(ctx, db.QueueEmailParams{ID: r.ID, Kind: r.Kind, FromAddress: from, ToAddresses: r.To,
		Subject: r.Subject, BodyText: r.Text, BodyHtml: r.HTML, ReplyTo: r.ReplyTo})
	if err != nil {
		return pmail.Request{}, fmt.Errorf("postgres: queue email %s: %w", c.Kind, err)
	}
	return r, nil
}
