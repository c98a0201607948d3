// Package sendgrid sends mail.Outgoing through SendGrid's v3 mail-send API. The host is
// injectable so the local mail sink (or a test server) can stand in for SendGrid.
package sendgrid

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
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

// Send posts m as one personalization per recipient and returns SendGrid's X-Message-Id.
// SendGrid reports refusals as non-2xx responses with a nil error; 4xx other than 429 are
// permanent (mail.ErrRejected), everything else may be retried.
func (c *Client) Send(ctx context.Context, m pmail.Outgoing) (string, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return "", fmt.Errorf("sendgrid: from address: %w", err)
	}
	v3 := sgmail.NewV3Mail()
	v3.SetFrom(sgmail.NewEmail(from.Name, from.Address))
	v3.Subject = m.Subject
	if m.ReplyTo != "" {
		v3.SetReplyTo(sgmail.NewEmail("", m.ReplyTo))
	}
	for _, to := range m.To {
		p := sgmail.NewPersonalization()
		p.AddTos(sgmail.NewEmail("", to))
		p.SetCustomArg("email_id", m.ID)
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
