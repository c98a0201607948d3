// Package sendgrid sends mail.Outgoing through SendGrid's v3 mail-send API. The host is
// injectable so the local mail sink (or a test server) can stand in for SendGrid.
package sendgrid

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/sendgrid/rest"
	sg "github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	pmail "lookit.dev/platform/shared/mail"
)

// Client is a mail.Sender on SendGrid.
type Client struct {
	APIKey string
	Host   string // "" for https://api.sendgrid.com
	HTTP   *rest.Client
}

var _ pmail.Sender = (*Client)(nil)

// Send posts m with one personalization per recipient, in requests of at most mail.MaxBatch
// recipients (SendGrid's limit), and returns SendGrid's X-Message-Id (comma-separated when there
// were several requests). SendGrid reports refusals as non-2xx responses with a nil error; 4xx
// other than 429 are permanent (mail.ErrRejected), everything else may be retried. A failure after
// an earlier batch was accepted comes as a *mail.PartialError.
func (c *Client) Send(ctx context.Context, m pmail.Outgoing) (string, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return "", fmt.Errorf("sendgrid: from address: %w", err)
	}
	if len(m.ListUnsubscribe) != 0 && len(m.ListUnsubscribe) != len(m.To) {
		return "", fmt.Errorf("sendgrid: %d unsubscribe URLs for %d recipients: %w", len(m.ListUnsubscribe), len(m.To), pmail.ErrRejected)
	}
	var ids []string
	for start := 0; start == 0 || start < len(m.To); start += pmail.MaxBatch {
		end := min(start+pmail.MaxBatch, len(m.To))
		batch := m
		batch.To = m.To[start:end]
		if len(m.ListUnsubscribe) != 0 {
			batch.ListUnsubscribe = m.ListUnsubscribe[start:end]
		}
		id, err := c.send(ctx, from, batch)
		if err != nil {
			if start > 0 {
				return "", &pmail.PartialError{Sent: start, ProviderIDs: ids, Err: err}
			}
			return "", err
		}
		ids = append(ids, id)
	}
	return strings.Join(ids, ","), nil
}

// send posts one request of at most mail.MaxBatch recipients.
func (c *Client) send(ctx context.Context, from *mail.Address, m pmail.Outgoing) (string, error) {
	v3 := sgmail.NewV3Mail()
	v3.SetFrom(sgmail.NewEmail(from.Name, from.Address))
	v3.Subject = m.Subject
	if m.ReplyTo != "" {
		v3.SetReplyTo(sgmail.NewEmail("", m.ReplyTo))
	}
	for i, to := range m.To {
		p := sgmail.NewPersonalization()
		p.AddTos(sgmail.NewEmail("", to))
		p.SetCustomArg("email_id", m.ID)
		if len(m.ListUnsubscribe) != 0 {
			// One-click unsubscribe (RFC 8058): mail clients POST List-Unsubscribe=One-Click to the
			// recipient's own link.
			p.SetHeader("List-Unsubscribe", "<"+m.ListUnsubscribe[i]+">")
			p.SetHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		}
		v3.AddPersonalizations(p)
	}
	v3.AddContent(sgmail.NewContent("text/plain", m.Text))
	if m.HTML != "" {
		v3.AddContent(sgmail.NewContent("text/html", m.HTML))
	}
	v3.AddCategories(m.Kind)
	req := sg.GetRequest(c.APIKey, "/v3/mail/send", c.Host)
	req.Method = rest.Post
	req.Body = sgmail.GetRequestBody(v3)
	client := c.HTTP
	if client == nil {
		client = defaultClient
	}
	resp, err := client.SendWithContext(ctx, req)
	if err != nil {
		return "", fmt.Errorf("sendgrid: send: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK:
		return first(resp.Headers["X-Message-Id"]), nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return "", fmt.Errorf("sendgrid: status %d: %w", resp.StatusCode, pmail.ErrRejected)
	default:
		return "", fmt.Errorf("sendgrid: status %d", resp.StatusCode)
	}
}

// defaultClient bounds each call: the mailer holds the email's row lock while SendGrid answers.
var defaultClient = &rest.Client{HTTPClient: &http.Client{Timeout: 30 * time.Second}}

func first(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}
