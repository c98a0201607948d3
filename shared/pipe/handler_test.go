package pipe_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/web"
)

const handlerKey = "handler-test-key"

// server serves a Handler on the package's test database.
func server(t *testing.T, key string) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.Pool(t)
	h := &pipe.Handler{
		Key:        key,
		WebhookURL: webhookURL,
		DB:         func(context.Context) (*pgxpool.Pool, error) { return pool, nil },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, pool
}

// post sends a form like Pipe's, with the signature header unless sig is empty.
func post(t *testing.T, srv *httptest.Server, form url.Values, sig string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/exp/renamevideo/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set("X-Pipe-Signature", sig)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// uniqueEvent returns a successful event whose video name is unique to the test, so that rows
// of other tests never count.
func uniqueEvent(t *testing.T, frame string) (payload, videoName string) {
	t.Helper()
	videoName = "vs_" + strings.NewReplacer("/", "-", " ", "-", "(", "", ")", "").Replace(t.Name())
	if len(videoName) > 100 {
		videoName = videoName[:100]
	}
	return eventJSON(t, "upload success", videoName, "WEBM", "consent-"+recordingName(frame)), videoName
}

func rowsFor(t *testing.T, pool *pgxpool.Pool, videoName string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pipe_webhook_events WHERE video_name = $1`, videoName).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantError checks an error response: status, JSON content type and one error object with the
// code, optionally pointing at field.
func wantError(t *testing.T, resp *http.Response, status int, code apperr.Code, field string) web.ErrorObject {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var eb web.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if len(eb.Errors) != 1 {
		t.Fatalf("error body %s: want exactly one error", body)
	}
	e := eb.Errors[0]
	if e.Status != strconv.Itoa(status) || e.Code != string(code) || e.Title != http.StatusText(status) || e.Detail == "" {
		t.Fatalf("error = %+v, want status %d code %s", e, status, code)
	}
	switch {
	case field == "" && e.Source != nil:
		t.Fatalf("error points at %q, want no field", e.Source.Pointer)
	case field != "" && (e.Source == nil || e.Source.Pointer != field):
		t.Fatalf("error source = %+v, want pointer %q", e.Source, field)
	}
	return e
}

func TestHandlerAcceptsSignedEvent(t *testing.T) {
	srv, pool := server(t, handlerKey)
	payload, video := uniqueEvent(t, "1-video-consent")

	resp := post(t, srv, url.Values{"payload": {payload}}, pipe.Sign(handlerKey, webhookURL, payload))
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status = %d, want 202; body %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body["status"] != "accepted" || body["video"] != video {
		t.Errorf("body = %v", body)
	}

	var (
		hash                  []byte
		stored, study, respID string
		frame                 string
		consent, unprocessed  bool
	)
	err := pool.QueryRow(context.Background(), `
		SELECT payload_hash, payload::text, study_uuid::text, response_uuid::text, frame_id, is_consent, processed_at IS NULL
		FROM pipe_webhook_events WHERE video_name = $1`, video).
		Scan(&hash, &stored, &study, &respID, &frame, &consent, &unprocessed)
	if err != nil {
		t.Fatalf("stored event: %v", err)
	}
	sum := sha256.Sum256([]byte(payload))
	if !bytes.Equal(hash, sum[:]) {
		t.Errorf("payload_hash = %x, want sha256 of the payload %x", hash, sum)
	}
	if study != studyUUID || respID != responseUUID || frame != "1-video-consent" || !consent || !unprocessed {
		t.Errorf("row = study %s response %s frame %q consent %v unprocessed %v", study, respID, frame, consent, unprocessed)
	}
	var got, want any
	_ = json.Unmarshal([]byte(stored), &got)
	_ = json.Unmarshal([]byte(payload), &want)
	if gb, _ := json.Marshal(got); string(gb) != mustJSON(want) {
		t.Errorf("stored payload %s, want %s", stored, payload)
	}
	if n := rowsFor(t, pool, video); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestHandlerRepeatedCallIsStoredOnce(t *testing.T) {
	srv, pool := server(t, handlerKey)
	payload, video := uniqueEvent(t, "2-video")
	sig := pipe.Sign(handlerKey, webhookURL, payload)
	for i := 1; i <= 2; i++ {
		resp := post(t, srv, url.Values{"payload": {payload}}, sig)
		if resp.StatusCode != http.StatusAccepted {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("call %d: status = %d, want 202; body %s", i, resp.StatusCode, b)
		}
		if n := rowsFor(t, pool, video); n != 1 {
			t.Fatalf("after call %d: %d rows, want 1", i, n)
		}
	}

	// Another recording of the same video name is a different event and is kept too.
	other := eventJSON(t, "upload success", video, "WEBM", recordingName("3-video"))
	resp := post(t, srv, url.Values{"payload": {other}}, pipe.Sign(handlerKey, webhookURL, other))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("other event: status = %d", resp.StatusCode)
	}
	if n := rowsFor(t, pool, video); n != 2 {
		t.Fatalf("after another event: %d rows, want 2", n)
	}
}

func TestHandlerOnlyPOST(t *testing.T) {
	srv, _ := server(t, handlerKey)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, srv.URL+"/exp/renamevideo/", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, resp, http.StatusUnsupportedMediaType, apperr.Unsupported, "")
		resp.Body.Close()
		if a := resp.Header.Get("Allow"); a != http.MethodPost {
			t.Errorf("%s: Allow = %q, want POST", m, a)
		}
	}
}

func TestHandlerRejects(t *testing.T) {
	srv, pool := server(t, handlerKey)
	payload, video := uniqueEvent(t, "4-video")
	good := pipe.Sign(handlerKey, webhookURL, payload)

	t.Run("MissingSignature", func(t *testing.T) {
		e := wantError(t, post(t, srv, url.Values{"payload": {payload}}, ""), http.StatusBadRequest, apperr.Invalid, "X-Pipe-Signature")
		if !strings.Contains(e.Detail, "X-Pipe-Signature") {
			t.Errorf("detail %q does not name the header", e.Detail)
		}
	})
	t.Run("MissingPayload", func(t *testing.T) {
		e := wantError(t, post(t, srv, url.Values{"other": {payload}}, good), http.StatusBadRequest, apperr.Invalid, "payload")
		if !strings.Contains(e.Detail, "payload") {
			t.Errorf("detail %q does not name the field", e.Detail)
		}
	})
	t.Run("PayloadOnlyInQuery", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/exp/renamevideo/?"+url.Values{"payload": {payload}}.Encode(), strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Pipe-Signature", good)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantError(t, resp, http.StatusBadRequest, apperr.Invalid, "payload")
	})
	t.Run("WrongSignature", func(t *testing.T) {
		wantError(t, post(t, srv, url.Values{"payload": {payload}}, pipe.Sign("other key", webhookURL, payload)), http.StatusForbidden, apperr.Forbidden, "")
	})
	t.Run("SignatureOfOtherURL", func(t *testing.T) {
		wantError(t, post(t, srv, url.Values{"payload": {payload}}, pipe.Sign(handlerKey, srv.URL+"/exp/renamevideo/", payload)), http.StatusForbidden, apperr.Forbidden, "")
	})
	t.Run("TamperedPayload", func(t *testing.T) {
		tampered := strings.Replace(payload, "4-video", "5-video", 1)
		wantError(t, post(t, srv, url.Values{"payload": {tampered}}, good), http.StatusForbidden, apperr.Forbidden, "")
	})
	t.Run("UnsuccessfulUpload", func(t *testing.T) {
		p := eventJSON(t, "upload failed", video, "WEBM", recordingName("4-video"))
		wantError(t, post(t, srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), http.StatusForbidden, apperr.Forbidden, "")
	})
	t.Run("MalformedRecordingName", func(t *testing.T) {
		p := eventJSON(t, "upload success", video, "WEBM", "videoStream_"+studyUUID+"_4-video_not-a-uuid_1700000000123_r")
		e := wantError(t, post(t, srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), http.StatusBadRequest, apperr.Invalid, "payload")
		if !strings.Contains(e.Detail, "UUID") {
			t.Errorf("detail %q does not say what is wrong", e.Detail)
		}
	})
	t.Run("PayloadNotJSON", func(t *testing.T) {
		p := "video=" + video
		wantError(t, post(t, srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), http.StatusBadRequest, apperr.Invalid, "payload")
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		big := url.Values{"payload": {payload}, "padding": {strings.Repeat("x", pipe.MaxBody)}}
		wantError(t, post(t, srv, big, good), http.StatusRequestEntityTooLarge, apperr.TooLarge, "")
	})
	t.Run("BodyNotAForm", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/exp/renamevideo/", strings.NewReader("payload=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Pipe-Signature", good)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantError(t, resp, http.StatusBadRequest, apperr.Invalid, "")
	})

	if n := rowsFor(t, pool, video); n != 0 {
		t.Fatalf("%d rows stored for rejected calls, want 0", n)
	}
}

func TestHandlerBodyAtLimitIsRead(t *testing.T) {
	// The cap is on the body: a form just under it is parsed and accepted.
	srv, pool := server(t, handlerKey)
	payload, video := uniqueEvent(t, "6-video")
	form := url.Values{"payload": {payload}}
	pad := pipe.MaxBody - len(form.Encode()) - len("&padding=")
	form.Set("padding", strings.Repeat("x", pad))
	if l := len(form.Encode()); l != pipe.MaxBody {
		t.Fatalf("test body is %d bytes, want %d", l, pipe.MaxBody)
	}
	resp := post(t, srv, form, pipe.Sign(handlerKey, webhookURL, payload))
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status = %d, want 202; body %s", resp.StatusCode, b)
	}
	if n := rowsFor(t, pool, video); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func TestHandlerWithoutKeyIsUnavailable(t *testing.T) {
	srv, pool := server(t, "")
	payload, video := uniqueEvent(t, "7-video")
	// Whatever the caller signs with, an unconfigured webhook accepts nothing.
	for _, sig := range []string{pipe.Sign("", webhookURL, payload), pipe.Sign(handlerKey, webhookURL, payload)} {
		wantError(t, post(t, srv, url.Values{"payload": {payload}}, sig), http.StatusServiceUnavailable, apperr.Unavailable, "")
	}
	if n := rowsFor(t, pool, video); n != 0 {
		t.Fatalf("%d rows stored without a key, want 0", n)
	}
}

func TestHandlerDatabaseUnavailable(t *testing.T) {
	h := &pipe.Handler{
		Key:        handlerKey,
		WebhookURL: webhookURL,
		DB:         func(context.Context) (*pgxpool.Pool, error) { return nil, errors.New("connection refused") },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	payload, _ := uniqueEvent(t, "8-video")
	e := wantError(t, post(t, srv, url.Values{"payload": {payload}}, pipe.Sign(handlerKey, webhookURL, payload)), http.StatusServiceUnavailable, apperr.Unavailable, "")
	if strings.Contains(e.Detail, "connection refused") {
		t.Errorf("detail %q leaks the cause", e.Detail)
	}
}

func TestHandlerRejectsPayloadsTheDatabaseCannotKeep(t *testing.T) {
	// A correctly signed payload that passes the checks must also be storable as jsonb; otherwise
	// the call fails with a 500 that Pipe retries in vain and the event is never kept.
	srv, pool := server(t, handlerKey)
	payload, video := uniqueEvent(t, "9-video")
	cases := map[string]string{
		"TrailingData":     payload + `{"more":1}`,
		"TrailingGarbage":  payload + " x",
		"InvalidUTF8":      strings.Replace(payload, `"version":"1.0"`, "\"version\":\"1.0\xff\"", 1),
		"NULEscape":        strings.Replace(payload, `"version":"1.0"`, `"version":"1.0\u0000"`, 1),
		"NULEscapeUnknown": strings.Replace(payload, `"version":"1.0"`, `"version":"1.0","note":"\u0000"`, 1),
		"LoneSurrogate":    strings.Replace(payload, `"version":"1.0"`, `"version":"1.0\ud800"`, 1),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			if p == payload {
				t.Fatal("test payload unchanged")
			}
			wantError(t, post(t, srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), http.StatusBadRequest, apperr.Invalid, "payload")
		})
	}
	if n := rowsFor(t, pool, video); n != 0 {
		t.Fatalf("%d rows stored, want 0", n)
	}
}

func TestHandlerStoreFailureIsInternal(t *testing.T) {
	// A failure to keep the event is an internal error: 500 (so Pipe retries) with a generic
	// message that does not leak the cause.
	closed, err := pgxpool.New(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	h := &pipe.Handler{
		Key:        handlerKey,
		WebhookURL: webhookURL,
		DB:         func(context.Context) (*pgxpool.Pool, error) { return closed, nil },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	payload, video := uniqueEvent(t, "10-video")
	e := wantError(t, post(t, srv, url.Values{"payload": {payload}}, pipe.Sign(handlerKey, webhookURL, payload)), http.StatusInternalServerError, apperr.Internal, "")
	if e.Detail != "Internal error." {
		t.Errorf("detail = %q, want the generic message", e.Detail)
	}
	if n := rowsFor(t, pgtest.Pool(t), video); n != 0 {
		t.Fatalf("%d rows, want 0", n)
	}
}
