// Package mail defines the emails the platform sends: the request other code publishes on the
// email topic, its validation, and the Sender interface the SendGrid adapter implements.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
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
	// ListUnsubscribe is set on family-facing mail only: parallel to To, each recipient's one-click
	// unsubscribe URL (UnsubscribeURL), sent as their List-Unsubscribe header with
	// List-Unsubscribe-Post (RFC 8058). Empty for account and researcher mail.
	ListUnsubscribe []string `json:"list_unsubscribe,omitempty"`
}

// Limits keep a request within what SendGrid accepts and what the database stores. SendGrid takes
// at most MaxBatch personalizations (here, recipients) per request, so a request to more
// recipients goes out in several batches.
const (
	MaxRecipients = 10000
	MaxBatch      = 1000
	MaxSubject    = 255
	MaxBody       = 512 << 10
	MaxURL        = 2000
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
	if len(r.ListUnsubscribe) != 0 && len(r.ListUnsubscribe) != len(r.To) {
		return errors.New("list_unsubscribe must be empty or give one URL per address in to")
	}
	for i, u := range r.ListUnsubscribe {
		if !validUnsubscribeURL(u) {
			return fmt.Errorf("list_unsubscribe[%d] is not an http(s) URL of at most %d characters", i, MaxURL)
		}
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

// validUnsubscribeURL accepts an absolute http(s) URL that can sit between the angle brackets of a
// List-Unsubscribe header: no spaces, controls, brackets or commas.
func validUnsubscribeURL(s string) bool {
	if s == "" || len(s) > MaxURL {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("<>,\"", c) {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// UnsubscribeURL is the one-click unsubscribe link of the user with the given UUID: the app API's
// POST /api/unsubscribe/{token} with accounts.UnsubscribeToken under key.
func UnsubscribeURL(baseURL string, key []byte, userUUID uuid.UUID) string {
	return strings.TrimRight(baseURL, "/") + "/api/unsubscribe/" + accounts.UnsubscribeToken(key, userUUID)
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
	// ListUnsubscribe is empty or, parallel to To, each recipient's one-click unsubscribe URL.
	ListUnsubscribe []string
}

// Sender hands an email to the mail provider and returns the provider's message id. A Sender
// given more than MaxBatch recipients sends them in batches of MaxBatch, in order; when a batch
// fails after earlier ones were accepted, the error is a *PartialError saying how many were.
type Sender interface {
	Send(ctx context.Context, m Outgoing) (string, error)
}

// ErrRejected wraps a provider's refusal of a message (bad address, bad request): retrying the
// same message cannot succeed.
var ErrRejected = errors.New("mail provider rejected the message")

// PartialError reports a send that failed after the provider accepted its first Sent recipients
// (whole batches): sending the message again would send those twice.
type PartialError struct {
	Sent        int      // recipients accepted, a multiple of MaxBatch
	ProviderIDs []string // the accepted batches' message ids
	Err         error    // why the next batch failed
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("after %d recipients were accepted: %v", e.Sent, e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }
