package pipe

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/videos"
	"lookit.dev/platform/shared/web"
)

// MaxBody caps the webhook's form body; Pipe's payloads are well under 4 KiB.
const MaxBody = 64 << 10

// Handler serves POST /exp/renamevideo/. It authenticates the call, keeps it in
// pipe_webhook_events (so a recording Pipe reported is on record whatever happens next), then
// renames the recording in the Pipe bucket and files it (videos.PipeFiler). A repeated call
// answers 200 again with one row; a failure of storage or the database answers 5xx so that Pipe
// retries, and a call no retry can help answers 4xx.
type Handler struct {
	Key        string // PIPE_WEBHOOK_KEY
	WebhookURL string // the URL configured in Pipe (PIPE_WEBHOOK_URL)
	DB         func(ctx context.Context) (*pgxpool.Pool, error)
	Bucket     func(ctx context.Context) (videos.Store, error) // the Pipe bucket
	Log        *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.serve(w, r); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code != apperr.Unavailable {
			// A refused call: say what it named, so that operators can find a recording Pipe
			// reported and we refused (the names identify recordings, not people).
			h.Log.WarnContext(r.Context(), "pipe webhook refused", refusedAttrs(r, err)...)
		}
		web.Error(w, r, h.Log, err)
	}
}

// refusedAttrs are a refused call's identifiers, as far as its payload (perhaps unsigned or
// malformed) gives them.
func refusedAttrs(r *http.Request, err error) []any {
	attrs := []any{slog.String("error", err.Error())}
	var e struct {
		Data struct {
			VideoName string `json:"videoName"`
			Payload   string `json:"payload"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(r.PostForm.Get("payload")), &e) == nil {
		attrs = append(attrs, slog.String("video_name", truncate(e.Data.VideoName)), slog.String("name", truncate(e.Data.Payload)))
	}
	return attrs
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
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
	sum := sha256.Sum256([]byte(payload))
	var numericID *int64
	if id, err := ev.Data.ID.Int64(); err == nil {
		numericID = &id
	}
	rec := videos.PipeRecording{VideoName: ev.Data.VideoName, Ext: strings.ToLower(ev.Data.Type), NumericID: numericID,
		Name: name.Base, Consent: name.Consent, StudyID: name.StudyID, ResponseID: name.ResponseID, FrameID: name.FrameID,
		Timestamp: time.UnixMilli(name.TimestampMS).UTC(), Payload: []byte(payload), Event: sum[:]}
	// The payload's identifiers only: they name a recording, not a person.
	attrs := []any{slog.String("video_name", ev.Data.VideoName), slog.String("full_name", rec.FullName()),
		slog.String("study", name.StudyID), slog.String("response", name.ResponseID), slog.String("frame", name.FrameID)}
	filed, err := (&videos.PipeFiler{Bucket: h.Bucket, DB: h.DB}).File(r.Context(), rec)
	attrs = append(attrs, slog.Bool("repeated_call", filed.Repeated))
	if err != nil {
		h.Log.WarnContext(r.Context(), "pipe recording not filed", append(attrs, slog.String("error", err.Error()))...)
		return err
	}
	h.Log.InfoContext(r.Context(), "pipe recording filed", append(attrs, slog.Bool("created", filed.Created),
		slog.Bool("consent", filed.Consent), slog.Bool("withdrawn", filed.Withdrawn))...)
	web.JSON(w, http.StatusOK, "", map[string]any{"status": "filed", "video": ev.Data.VideoName, "full_name": rec.FullName(),
		"created": filed.Created, "consent": filed.Consent})
	return nil
}
