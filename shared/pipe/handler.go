package pipe

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/web"
)

// MaxBody caps the webhook's form body; Pipe's payloads are well under 4 KiB.
const MaxBody = 64 << 10

// Handler serves POST /exp/renamevideo/. It authenticates the call, checks the event and keeps
// it in pipe_webhook_events, answering 202; the video itself is filed by video ingestion. Keeping
// the event first means a failure later never loses a recording Pipe reported.
type Handler struct {
	Key        string // PIPE_WEBHOOK_KEY
	WebhookURL string // the URL configured in Pipe
	DB         func(ctx context.Context) (*pgxpool.Pool, error)
	Log        *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.serve(w, r); err != nil {
		web.Error(w, r, h.Log, err)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return apperr.New(apperr.Unsupported, "only POST is allowed")
	}
	if h.Key == "" {
		// Deny by default: without a key nothing can be authenticated.
		return apperr.New(apperr.Unavailable, "the Pipe webhook is not configured")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "request body exceeds %d bytes", MaxBody)
		}
		return apperr.New(apperr.Invalid, "request body must be a urlencoded form")
	}
	sig := r.Header.Get("X-Pipe-Signature")
	if sig == "" {
		return apperr.Field("X-Pipe-Signature", "missing expected header: X-Pipe-Signature")
	}
	payload := r.PostForm.Get("payload")
	if payload == "" {
		return apperr.Field("payload", "missing expected field: payload")
	}
	if !Verify(h.Key, h.WebhookURL, payload, sig) {
		return apperr.New(apperr.Forbidden, "signature does not match")
	}
	ev, name, err := ParseEvent(payload)
	if errors.Is(err, ErrUnsuccessful) {
		return apperr.New(apperr.Forbidden, "upload did not succeed")
	}
	if err != nil {
		return apperr.Field("payload", "%s", err.Error())
	}
	pool, err := h.DB(r.Context())
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	sum := sha256.Sum256([]byte(payload))
	n, err := db.New(pool).KeepPipeWebhookEvent(r.Context(), db.KeepPipeWebhookEventParams{
		PayloadHash: sum[:], Payload: []byte(payload), VideoName: ev.Data.VideoName,
		StudyUuid: name.StudyID, ResponseUuid: name.ResponseID, FrameID: name.FrameID, IsConsent: name.Consent,
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		// A data exception: valid JSON that jsonb cannot hold (\u0000, a lone surrogate). Retrying
		// cannot help, so it is the payload's fault, not an internal error.
		return apperr.Field("payload", "payload cannot be stored: %s", pgErr.Message)
	}
	if err != nil {
		return fmt.Errorf("pipe: keep event: %w", err)
	}
	h.Log.InfoContext(r.Context(), "pipe webhook accepted", slog.String("video_name", ev.Data.VideoName),
		slog.Bool("duplicate", n == 0), slog.String("request_id", logging.RequestID(r.Context())))
	web.JSON(w, http.StatusAccepted, "", map[string]string{"status": "accepted", "video": ev.Data.VideoName})
	return nil
}
