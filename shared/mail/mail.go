// Package mail defines the emails the platform sends: the request other code publishes on the
// email topic, its validation, and the Sender interface the SendGrid adapter implements.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Request asks the mailer to send one email. ID is the idempotency key: publishing the same
// request twice sends one email.
type Request struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"` // what the email is for, e.g. "lab_role_changed"
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html,omitempty"`
	// ReplyTo is where answers go, e.g. the lab's contact address for family-facing mail.
	ReplyTo string `json:"reply_to,omitempty"`
}

// Limits keep a request within what SendGrid accepts and what the database stores.
const (
	MaxRecipients = 1000
	MaxSubject    = 255
	MaxBody       = 512 << 10
)

// Validate reports the first problem with r, naming the field.
func (r *Request) Validate() error {
	if !isUUID(r.ID) {
		return errors.New("id must be a UUID")
	}
	if r.Kind == "" || len(r.Kind) > 64 {
		return errors.New("kind must be 1 to 64 characters")
	}
	if len(r.To) == 0 || len(r.To) > MaxRecipients {
		return fmt.Errorf("to must list 1 to %d addresses", MaxRecipients)
	}
	seen := make(map[string]bool, len(r.To))
	for i, a := range r.To {
		addr, err := mail.ParseAddress(a)
		if err != nil || addr.Name != "" || addr.Address != a {
			return fmt.Errorf("to[%d] is not a bare email address", i)
		}
		k := strings.ToLower(a)
		if seen[k] {
			return fmt.Errorf("to[%d] repeats an address", i)
		}
		seen[k] = true
	}
	if err := r.ValidReplyTo(); err != nil {
		return err
	}
	if strings.TrimSpace(r.Subject) == "" || utf8.RuneCountInString(r.Subject) > MaxSubject || strings.ContainsAny(r.Subject, "\r\n") {
		return fmt.Errorf("subject must be one line of 1 to %d characters", MaxSubject)
	}
	if strings.TrimSpace(r.Text) == "" || len(r.Text) > MaxBody {
		return fmt.Errorf("text must be 1 byte to %d KiB", MaxBody>>10)
	}
	if len(r.HTML) > MaxBody {
		return fmt.Errorf("html must be at most %d KiB", MaxBody>>10)
	}
	return nil
}

// ValidReplyTo reports whether ReplyTo is empty or a bare email address.
func (r *Request) ValidReplyTo() error {
	if r.ReplyTo != "" {
		if addr, err := mail.ParseAddress(r.ReplyTo); err != nil || addr.Name != "" || addr.Address != r.ReplyTo {
			return errors.New("reply_to is not a bare email address")
		}
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// Outgoing is an email ready to hand to the provider; every recipient gets their own copy so no
// family sees another's address.
type Outgoing struct {
	ID      string
	Kind    string
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	ReplyTo string
}

// Sender hands an email to the mail provider and returns the provider's message id.
type Sender interface {
	Send(ctx context.Context, m Outgoing) (string, error)
}

// ErrRejected wraps a provider's refusal of a message (bad address, bad request): retrying the
// same message cannot succeed.
var ErrRejected = errors.New("mail provider rejected the message")
