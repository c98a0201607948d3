package videos

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/jsonapi"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/web"
)

// HookSignatureHeader carries the S3 upload hook's signature.
const HookSignatureHeader = "X-AWS-Lambda-HMAC-Sig"

// MaxHookBody caps the hook's body; a notice is a few hundred bytes.
const MaxHookBody = 64 << 10

// SignHook is the upload hook's signature of a body's data.attributes: hex(HMAC-SHA256(secret,
// the attributes' compact JSON in the order sent)), as the Lambda computes it with Python's
// json.dumps(attributes, separators=(",", ":")).
func SignHook(secret string, attributes []byte) (string, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, attributes); err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(compact.Bytes())
	return hex.EncodeToString(m.Sum(nil)), nil
}

// verifyHook checks signature against the raw attribute bytes, in constant time: re-marshalling a
// decoded map would reorder the keys and change the bytes.
func verifyHook(secret string, attributes []byte, signature string) bool {
	want, err := SignHook(secret, attributes)
	if err != nil {
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return false
	}
	w, _ := hex.DecodeString(want)
	return hmac.Equal(w, got)
}

// UploadHook serves POST /api/v1/video/ (and v2): the notice, signed with VIDEO_HOOK_SECRET, that
// the runner (or jsPsych) uploaded a recording to S3. It files the video idempotently on its
// full name: 201 the first time, 200 with the same video after that.
type UploadHook struct {
	Secret string
	DB     func(ctx context.Context) (*pgxpool.Pool, error)
	Log    *slog.Logger
}

func (h *UploadHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.serve(w, r); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code != apperr.Unavailable {
			h.Log.WarnContext(r.Context(), "video upload notice refused", slog.String("error", err.Error()))
		}
		web.Error(w, r, h.Log, err)
	}
}

type hookBody struct {
	Data struct {
		Type          string                          `json:"type"`
		Attributes    json.RawMessage                 `json:"attributes"`
		Relationships map[string]jsonapi.Relationship `json:"relationships"`
	} `json:"data"`
}

// hookAttributes are the notice's attributes; pipe_numeric_id comes as a string, a number or null.
type hookAttributes struct {
	PipeName         *string         `json:"pipe_name"`
	PipeNumericID    json.RawMessage `json:"pipe_numeric_id"`
	FrameID          string          `json:"frame_id"`
	FullName         string          `json:"full_name"`
	S3Timestamp      string          `json:"s3_timestamp"`
	IsConsentFootage bool            `json:"is_consent_footage"`
}

func (h *UploadHook) serve(w http.ResponseWriter, r *http.Request) error {
	if h.Secret == "" {
		// Deny by default: without a secret nothing can be authenticated.
		return apperr.New(apperr.Unavailable, "the video upload hook is not configured")
	}
	sig := r.Header.Get(HookSignatureHeader)
	if sig == "" {
		return apperr.New(apperr.Unauthenticated, "missing %s", HookSignatureHeader)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxHookBody)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "request body exceeds %d bytes", MaxHookBody)
		}
		return apperr.New(apperr.Invalid, "could not read the request body")
	}
	var body hookBody
	if !utf8.Valid(buf.Bytes()) || json.Unmarshal(buf.Bytes(), &body) != nil {
		return apperr.Field("/data", "the body must be a JSON:API document")
	}
	if len(body.Data.Attributes) == 0 || body.Data.Attributes[0] != '{' {
		return apperr.Field("/data/attributes", "attributes must be an object")
	}
	if !verifyHook(h.Secret, body.Data.Attributes, sig) {
		return apperr.New(apperr.Unauthenticated, "%s does not match the attributes", HookSignatureHeader)
	}
	if body.Data.Type != "videos" {
		return apperr.Field("/data/type", "type must be videos")
	}
	n, err := hookVideo(body)
	if err != nil {
		return err
	}
	pool, err := h.DB(r.Context())
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	v := &postgres.Videos{Pool: pool}
	target, err := v.Target(r.Context(), n.study, n.response)
	if errors.Is(err, postgres.ErrNoVideoTarget) {
		return apperr.Field("/data/relationships/response", "no such response in that study")
	}
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	n.video.Target = target
	n.video.Bucket = BucketRecorder
	if target.JSPsych {
		n.video.Bucket = BucketJSPsych
	}
	filed, err := v.File(r.Context(), n.video)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	h.Log.InfoContext(r.Context(), "video upload filed", slog.String("full_name", n.video.FullName),
		slog.String("study", n.study), slog.String("response", n.response), slog.Bool("created", filed.Created),
		slog.Bool("consent", filed.Consent), slog.Bool("withdrawn", filed.Withdrawn))
	w.Header().Set("Content-Type", jsonapi.MediaType)
	if filed.Withdrawn {
		// Not kept: the family withdrew before the upload was reported; the object goes in 7 days.
		w.WriteHeader(http.StatusOK)
		return json.NewEncoder(w).Encode(map[string]any{"data": nil, "meta": map[string]bool{"withdrawn": true}})
	}
	status := http.StatusOK
	if filed.Created {
		status = http.StatusCreated
	}
	doc := map[string]any{"data": map[string]any{
		"type": "videos", "id": filed.UUID,
		"attributes": map[string]any{"full_name": n.video.FullName, "frame_id": n.video.FrameID,
			"pipe_name": n.video.PipeName, "pipe_numeric_id": n.video.PipeNumericID,
			"s3_timestamp": n.video.Timestamp.Format(time.RFC3339Nano), "is_consent_footage": filed.Consent, "pk": filed.ID},
		"relationships": map[string]any{
			"response": map[string]any{"data": map[string]string{"type": "responses", "id": n.response}},
			"study":    map[string]any{"data": map[string]string{"type": "studies", "id": n.study}},
		},
	}}
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(doc)
}

type hookNotice struct {
	study, response string
	video           postgres.NewVideo
}

// hookVideo checks a verified notice and reads the video it reports.
func hookVideo(body hookBody) (hookNotice, error) {
	var out hookNotice
	for _, rel := range []struct {
		name, typ string
		dst       *string
	}{{"response", "responses", &out.response}, {"study", "studies", &out.study}} {
		r, ok := body.Data.Relationships[rel.name]
		if !ok || r.Data == nil || r.Data.ID == "" {
			return out, apperr.Field("/data/relationships/"+rel.name, "the %s relationship is required", rel.name)
		}
		if r.Data.Type != rel.typ {
			return out, apperr.Field("/data/relationships/"+rel.name+"/data/type", "type must be %s", rel.typ)
		}
		*rel.dst = strings.ToLower(r.Data.ID)
	}
	var a hookAttributes
	if err := json.Unmarshal(body.Data.Attributes, &a); err != nil {
		return out, apperr.Field("/data/attributes", "attributes do not have the expected types: %v", err)
	}
	if err := checkObjectName(a.FullName); err != nil {
		return out, apperr.Field("/data/attributes/full_name", "%v", err)
	}
	if a.FrameID == "" || len(a.FrameID) > 200 {
		return out, apperr.Field("/data/attributes/frame_id", "frame_id must be 1 to 200 characters")
	}
	ts, err := parseS3Timestamp(a.S3Timestamp)
	if err != nil {
		return out, apperr.Field("/data/attributes/s3_timestamp", "%v", err)
	}
	if a.PipeName != nil && (*a.PipeName == "" || len(*a.PipeName) > 255) {
		a.PipeName = nil
	}
	id, err := numericID(a.PipeNumericID)
	if err != nil {
		return out, apperr.Field("/data/attributes/pipe_numeric_id", "%v", err)
	}
	out.video = postgres.NewVideo{FullName: a.FullName, FrameID: a.FrameID, Timestamp: ts, PipeName: a.PipeName,
		PipeNumericID: id, Consent: a.IsConsentFootage || strings.HasPrefix(a.FullName, "consent-")}
	return out, nil
}

// checkObjectName accepts an object key as the recorders name them: no path separators or
// control characters, at most 255 bytes.
func checkObjectName(s string) error {
	if s == "" || len(s) > 255 {
		return errors.New("full_name must be 1 to 255 bytes")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '/' || r == '\\' }) {
		return errors.New("full_name holds a control character or a slash")
	}
	return nil
}

// parseS3Timestamp reads Python's str(datetime) as the Lambda sends it ("2025-01-01
// 12:00:00.000000", UTC), or RFC 3339.
func parseS3Timestamp(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05.999999Z07:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("s3_timestamp must be a time such as 2025-01-01 12:00:00.000000")
}

func numericID(raw json.RawMessage) (*int64, error) {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if s == "" || s == "null" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, errors.New("pipe_numeric_id must be an integer or null")
	}
	return &n, nil
}
