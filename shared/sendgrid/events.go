package sendgrid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SendGrid's signed Event Webhook: each POST carries a JSON array of events, signed with ECDSA
// P-256 over SHA-256(timestamp || raw body); the signature (base64 ASN.1) and the timestamp (Unix
// seconds) come in these headers.
const (
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// Webhook limits: how old a signed call may be (a replayed capture is refused after that), how
// far ahead of our clock its timestamp may be, and how large its body.
const (
	MaxEventAge  = 10 * time.Minute
	MaxClockSkew = 2 * time.Minute
	MaxEventBody = 1 << 20
)

// ParsePublicKey reads the verification key SendGrid shows for a signed Event Webhook: base64 of
// a DER (PKIX) ECDSA P-256 public key.
func ParsePublicKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("sendgrid: webhook public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid: webhook public key: %w", err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("sendgrid: webhook public key is not an ECDSA P-256 key")
	}
	return pub, nil
}

// Webhook verification failures; the handler answers 401 to each.
var (
	ErrNoSignature  = errors.New("sendgrid: the event webhook call is not signed")
	ErrBadSignature = errors.New("sendgrid: the event webhook signature does not match")
	ErrStale        = errors.New("sendgrid: the event webhook timestamp is outside the accepted window")
)

// VerifyWebhook checks a webhook call: the signature over timestamp and the raw body bytes under
// key, and a timestamp no older than MaxEventAge and no more than MaxClockSkew ahead of now.
func VerifyWebhook(key *ecdsa.PublicKey, signature, timestamp string, body []byte, now time.Time) error {
	if signature == "" || timestamp == "" {
		return ErrNoSignature
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return ErrBadSignature
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	if !ecdsa.VerifyASN1(key, h.Sum(nil), sig) {
		return ErrBadSignature
	}
	// Checked after the signature, which covers the timestamp: an unsigned caller learns nothing.
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	at := time.Unix(secs, 0)
	if at.Before(now.Add(-MaxEventAge)) || at.After(now.Add(MaxClockSkew)) {
		return ErrStale
	}
	return nil
}

// Event is the part of an Event Webhook event the platform reads. Other fields (custom args,
// categories, the SMTP response) are ignored.
type Event struct {
	Email     string `json:"email"`
	Event     string `json:"event"`  // processed, delivered, bounce, dropped, spamreport, open, ...
	Type      string `json:"type"`   // for bounce: "bounce" (permanent) or "blocked" (temporary)
	Reason    string `json:"reason"` // for dropped: why SendGrid did not send, e.g. "Bounced Address"
	Timestamp int64  `json:"timestamp"`
	ID        string `json:"sg_event_id"`
	EmailID   string `json:"email_id"` // our message id, echoed from the custom args
}

// ParseEvents decodes a webhook body: a JSON array of event objects.
func ParseEvents(body []byte) ([]Event, error) {
	var evs []Event
	if err := json.Unmarshal(body, &evs); err != nil {
		return nil, fmt.Errorf("sendgrid: event webhook body: %w", err)
	}
	if evs == nil {
		return nil, errors.New("sendgrid: event webhook body: not a JSON array")
	}
	return evs, nil
}

// Suppression reasons, as the email_suppressions table stores them.
const (
	ReasonBounce     = "bounce"
	ReasonSpamReport = "spamreport"
	ReasonInvalid    = "invalid"
	ReasonBlocked    = "blocked"
)

// Suppression says whether e means its address must not be mailed again, and why. Hard bounces,
// blocks and spam reports do (issue 7's rule: a family whose mail server blocks us is not mailed
// again until an operator lifts it, although SendGrid itself does not suppress blocks), and so do
// SendGrid's drops for an address on its own bounce, spam-report or invalid lists. Delivery and
// engagement events (processed, delivered, deferred, open, click) never do.
func (e Event) Suppression() (reason string, ok bool) {
	switch strings.ToLower(e.Event) {
	case "bounce":
		switch strings.ToLower(e.Type) {
		case "", "bounce":
			return ReasonBounce, true
		case "blocked":
			return ReasonBlocked, true
		}
	case "spamreport":
		return ReasonSpamReport, true
	case "dropped":
		switch strings.ToLower(strings.TrimSpace(e.Reason)) {
		case "bounced address":
			return ReasonBounce, true
		case "spam reporting address":
			return ReasonSpamReport, true
		case "invalid":
			return ReasonInvalid, true
		}
	}
	return "", false
}

// Key identifies e for deduplication: SendGrid's sg_event_id, or, for an event without one, a
// digest of its fields (so the key never spells out the address).
func (e Event) Key() string {
	if printable(e.ID) {
		return e.ID
	}
	h := sha256.Sum256([]byte(strings.Join([]string{strings.ToLower(e.Email), e.Event, e.Type, e.Reason, strconv.FormatInt(e.Timestamp, 10)}, "\x00")))
	return "sha256:" + hex.EncodeToString(h[:])
}

// printable reports whether an event id can be stored as it is: 1 to 128 printable ASCII bytes.
func printable(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Time is when the event happened, or zero when SendGrid did not say.
func (e Event) Time() time.Time {
	if e.Timestamp <= 0 {
		return time.Time{}
	}
	return time.Unix(e.Timestamp, 0).UTC()
}
