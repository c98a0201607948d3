package httpapi

import (
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/sendgrid"
	"lookit.dev/platform/shared/web"
)

// SendGridEventsPath is where SendGrid's signed Event Webhook posts bounces, spam reports and the
// other delivery events.
const SendGridEventsPath = "/api/hooks/sendgrid/events"

// sendGridEvents serves POST SendGridEventsPath. No session or API token gets in: only a call
// signed with the key in SENDGRID_WEBHOOK_PUBLIC_KEY (without it, 503), no older than ten
// minutes. Events that suppress an address (hard bounce, block, spam report, drop for either) are
// recorded idempotently; the rest are ignored. It answers 204 once the batch is stored, so
// SendGrid retries a batch the database could not take.
func sendGridEvents(in *instance.Instance) http.Handler {
	key := sync.OnceValues(func() (*ecdsa.PublicKey, error) {
		return sendgrid.ParsePublicKey(in.Config.SendGridWebhookPublicKey)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := serveSendGridEvents(in, key, w, r); err != nil {
			if apperr.CodeOf(err) == apperr.Unauthenticated {
				in.Log.WarnContext(r.Context(), "sendgrid event webhook refused", slog.String("error", err.Error()))
			}
			web.Error(w, r, in.Log, err)
		}
	})
}

func serveSendGridEvents(in *instance.Instance, key func() (*ecdsa.PublicKey, error), w http.ResponseWriter, r *http.Request) error {
	if in.Config.SendGridWebhookPublicKey == "" {
		return apperr.New(apperr.Unavailable, "the SendGrid event webhook is not configured")
	}
	pub, err := key()
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "the SendGrid event webhook is not configured")
	}
	sig, ts := r.Header.Get(sendgrid.SignatureHeader), r.Header.Get(sendgrid.TimestampHeader)
	if sig == "" || ts == "" {
		return apperr.New(apperr.Unauthenticated, "missing %s or %s", sendgrid.SignatureHeader, sendgrid.TimestampHeader)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sendgrid.MaxEventBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "request body exceeds %d bytes", sendgrid.MaxEventBody)
		}
		return apperr.New(apperr.Invalid, "could not read the request body")
	}
	switch err := sendgrid.VerifyWebhook(pub, sig, ts, body, time.Now()); {
	case errors.Is(err, sendgrid.ErrStale):
		return apperr.New(apperr.Unauthenticated, "%s is outside the accepted window", sendgrid.TimestampHeader)
	case err != nil:
		return apperr.New(apperr.Unauthenticated, "%s does not match the body", sendgrid.SignatureHeader)
	}
	evs, err := sendgrid.ParseEvents(body)
	if err != nil {
		return apperr.Wrap(err, apperr.Invalid, "the body must be a JSON array of events")
	}
	var sup []postgres.SuppressionEvent
	for _, e := range evs {
		reason, ok := e.Suppression()
		if !ok || !plausibleAddress(e.Email) {
			continue
		}
		sup = append(sup, postgres.SuppressionEvent{ID: e.Key(), Email: e.Email, Reason: reason, At: e.Time()})
	}
	recorded := 0
	if len(sup) > 0 {
		pool, err := in.DB(r.Context())
		if err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "database unavailable")
		}
		if recorded, err = (&postgres.Suppressions{Pool: pool}).Record(r.Context(), sup); err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "database unavailable")
		}
	}
	// Counts only: the events' addresses are personal data and stay out of the logs.
	in.Log.InfoContext(r.Context(), "sendgrid events received", slog.Int("events", len(evs)),
		slog.Int("suppressing", len(sup)), slog.Int("recorded", recorded))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// plausibleAddress admits what email_suppressions can hold; anything else (SendGrid reports drops
// of malformed addresses too) could never be mailed by the platform anyway.
func plausibleAddress(a string) bool {
	if n := utf8.RuneCountInString(a); n < 3 || n > 254 || strings.Index(a, "@") < 1 {
		return false
	}
	for _, c := range a {
		if c <= ' ' || c == 0x7f || c == utf8.RuneError {
			return false
		}
	}
	return true
}
