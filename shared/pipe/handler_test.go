package pipe_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/s3/s3test"
	"lookit.dev/platform/shared/videos"
	"lookit.dev/platform/shared/web"
)

const handlerKey = "handler-test-key"

// fixture is a handler on the package's test database and a Pipe bucket in an in-process S3 fake.
type fixture struct {
	srv    *httptest.Server
	pool   *pgxpool.Pool
	bucket *flaky
	// db is the pool the handler gets; a test may swap it (database down, then back).
	db atomic.Pointer[pgxpool.Pool]
}

// flaky is the Pipe bucket with failures a test can switch on.
type flaky struct {
	videos.Store
	failCopy, failDelete atomic.Bool
	afterCopy            func() // runs once after the next successful copy
	mu                   sync.Mutex
}

var errS3Down = errors.New("s3: 503 SlowDown")

func (f *flaky) Copy(ctx context.Context, src, dst string) error {
	if f.failCopy.Load() {
		return errS3Down
	}
	err := f.Store.Copy(ctx, src, dst)
	f.mu.Lock()
	after := f.afterCopy
	if err == nil {
		f.afterCopy = nil
	}
	f.mu.Unlock()
	if err == nil && after != nil {
		after()
	}
	return err
}

func (f *flaky) Delete(ctx context.Context, key string) error {
	if f.failDelete.Load() {
		return errS3Down
	}
	return f.Store.Delete(ctx, key)
}

func (f *flaky) DeleteAll(ctx context.Context, keys ...string) error {
	if f.failDelete.Load() {
		return errS3Down
	}
	return f.Store.DeleteAll(ctx, keys...)
}

// ensureStudy makes sure the study and response of recordingName exist.
func ensureStudy(tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	if _, err := pool.Exec(context.Background(), `
		WITH l AS (INSERT INTO labs (name, approved_to_test) VALUES ('Pipe Lab', true)
		           ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id),
		     s AS (INSERT INTO studies (uuid, name, lab_id, study_type_id, state, max_age_years)
		           SELECT $1::uuid, 'Pipe study', l.id, 1, 'active', 9 FROM l
		           ON CONFLICT (uuid) DO UPDATE SET name = excluded.name RETURNING id),
		     u AS (INSERT INTO users (email) VALUES ('pipe-family@example.org')
		           ON CONFLICT (email) DO UPDATE SET email = excluded.email RETURNING id),
		     c AS (INSERT INTO children (user_id, given_name, birthday, gender)
		           SELECT u.id, 'K', current_date - 300, 'f' FROM u RETURNING id)
		INSERT INTO responses (uuid, study_id, child_id, study_type_id)
		SELECT $2::uuid, s.id, c.id, 1 FROM s, c ON CONFLICT (uuid) DO NOTHING`, studyUUID, responseUUID); err != nil {
		tb.Fatal(err)
	}
}

// newFixture serves a Handler with key; the study and response of recordingName exist.
func newFixture(t *testing.T, key string) *fixture {
	t.Helper()
	f := &fixture{pool: pgtest.Pool(t)}
	f.db.Store(f.pool)
	ensureStudy(t, f.pool)
	f.bucket = &flaky{Store: s3test.New(t, "pipe").Bucket("pipe")}
	h := &pipe.Handler{
		Key:        key,
		WebhookURL: webhookURL,
		DB:         func(context.Context) (*pgxpool.Pool, error) { return f.db.Load(), nil },
		Bucket:     func(context.Context) (videos.Store, error) { return f.bucket, nil },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// server is newFixture for tests that need only the server and the database.
func server(t *testing.T, key string) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	f := newFixture(t, key)
	return f.srv, f.pool
}

// putRecording puts Pipe's copy of a recording and its snapshot in the Pipe bucket.
func (f *fixture) putRecording(t *testing.T, videoName, ext string) {
	t.Helper()
	for _, key := range []string{videoName + "." + ext, videoName + ".jpg"} {
		if err := f.bucket.Store.Put(context.Background(), key, strings.NewReader("bytes of "+key), "application/octet-stream"); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) exists(t *testing.T, key string) bool {
	t.Helper()
	ok, err := f.bucket.Store.Exists(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// videoRows counts the video rows filed under fullName, and says whether they are consent footage.
func videoRows(t *testing.T, pool *pgxpool.Pool, fullName string) (n int, consent bool) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `SELECT count(*), coalesce(bool_or(is_consent_footage), false) FROM videos WHERE full_name = $1`,
		fullName).Scan(&n, &consent); err != nil {
		t.Fatal(err)
	}
	return n, consent
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

// filed checks a 200 answer and the filed recording: renamed in the bucket, Pipe's original and
// snapshot gone, one row.
func (f *fixture) filed(t *testing.T, resp *http.Response, videoName, fullName string, wantConsent bool) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, b)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["status"] != "filed" || raw["video"] != videoName || raw["full_name"] != fullName || raw["consent"] != wantConsent {
		t.Errorf("body = %s", b)
	}
	if !f.exists(t, fullName) {
		t.Errorf("%s is not in the bucket", fullName)
	}
	for _, gone := range []string{videoName + ".webm", videoName + ".jpg"} {
		if f.exists(t, gone) {
			t.Errorf("Pipe's %s is still in the bucket", gone)
		}
	}
	if n, consent := videoRows(t, f.pool, fullName); n != 1 || consent != wantConsent {
		t.Errorf("%d rows with consent %v, want 1 with consent %v", n, consent, wantConsent)
	}
}

func TestHandlerRenamesAndFiles(t *testing.T) {
	f := newFixture(t, handlerKey)
	payload, video := uniqueEvent(t, "1-video-consent")
	f.putRecording(t, video, "webm")
	resp := post(t, f.srv, url.Values{"payload": {payload}}, pipe.Sign(handlerKey, webhookURL, payload))
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	fullName := recordingName("1-video-consent") + ".webm"
	f.filed(t, resp, video, fullName, true)

	var (
		pipeName, frame, bucket, study, response string
		numericID                                int64
		ts                                       time.Time
	)
	if err := f.pool.QueryRow(context.Background(), `SELECT v.pipe_name, v.pipe_numeric_id, v.frame_id, v.bucket, v.s3_timestamp,
		s.uuid::text, r.uuid::text FROM videos v JOIN studies s ON s.id = v.study_id JOIN responses r ON r.id = v.response_id
		WHERE v.full_name = $1`, fullName).Scan(&pipeName, &numericID, &frame, &bucket, &ts, &study, &response); err != nil {
		t.Fatal(err)
	}
	if pipeName != video+".webm" || numericID != 123456 || frame != "1-video-consent" || bucket != "pipe" ||
		!ts.Equal(time.UnixMilli(1700000000123)) || study != studyUUID || response != responseUUID {
		t.Errorf("row = %s %d %s %s %v %s %s", pipeName, numericID, frame, bucket, ts, study, response)
	}

	// The call is on record, with its payload, and marked processed.
	var (
		hash      []byte
		stored    string
		processed bool
	)
	if err := f.pool.QueryRow(context.Background(), `SELECT payload_hash, payload::text, processed_at IS NOT NULL
		FROM pipe_webhook_events WHERE video_name = $1`, video).Scan(&hash, &stored, &processed); err != nil {
		t.Fatalf("stored event: %v", err)
	}
	sum := sha256.Sum256([]byte(payload))
	if !bytes.Equal(hash, sum[:]) || !processed {
		t.Errorf("event hash %x processed %v, want sha256 of the payload %x, processed", hash, processed, sum)
	}
	var got, want any
	_ = json.Unmarshal([]byte(stored), &got)
	_ = json.Unmarshal([]byte(payload), &want)
	if mustJSON(got) != mustJSON(want) {
		t.Errorf("stored payload %s, want %s", stored, payload)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestHandlerRepeatedCallFilesOnce(t *testing.T) {
	f := newFixture(t, handlerKey)
	payload, video := uniqueEvent(t, "2-video")
	f.putRecording(t, video, "webm")
	sig := pipe.Sign(handlerKey, webhookURL, payload)
	fullName := recordingName("2-video") + ".webm"
	// The second call finds the original gone and the copy in place: it still answers 200.
	for i := 1; i <= 3; i++ {
		f.filed(t, post(t, f.srv, url.Values{"payload": {payload}}, sig), video, fullName, true)
		if n := rowsFor(t, f.pool, video); n != 1 {
			t.Fatalf("after call %d: %d kept calls, want 1", i, n)
		}
	}
}

func TestHandlerConcurrentCopiesFileOnce(t *testing.T) {
	f := newFixture(t, handlerKey)
	payload, video := uniqueEvent(t, "3-video")
	f.putRecording(t, video, "webm")
	sig := pipe.Sign(handlerKey, webhookURL, payload)
	codes := make(chan int, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/exp/renamevideo/", strings.NewReader(url.Values{"payload": {payload}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Pipe-Signature", sig)
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a concurrent copy answered %d, want 200", c)
		}
	}
	fullName := recordingName("3-video") + ".webm"
	if n, _ := videoRows(t, f.pool, fullName); n != 1 {
		t.Fatalf("%d rows after 16 concurrent calls, want 1", n)
	}
	if !f.exists(t, fullName) || f.exists(t, video+".webm") || f.exists(t, video+".jpg") {
		t.Error("the recording is not renamed, or Pipe's original is left")
	}
}

// newResponse adds a response to the fixture's study and returns its uuid.
func newResponse(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(context.Background(), `INSERT INTO responses (study_id, child_id, study_type_id)
		SELECT r.study_id, r.child_id, 1 FROM responses r WHERE r.uuid = $1 RETURNING uuid::text`, responseUUID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// nameIn is a recording name of frame in response.
func nameIn(response, frame string) string {
	return "videoStream_" + studyUUID + "_" + frame + "_" + response + "_1700000000123_abc123"
}

// save applies a runner's save of exp_data (whose last frame is last) to response.
func save(t *testing.T, pool *pgxpool.Pool, response, expData string, sequence []string) {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT id FROM responses WHERE uuid = $1`, response).Scan(&id); err != nil {
		t.Fatal(err)
	}
	st := &postgres.Studies{Pool: pool}
	if _, _, err := st.SaveResponse(context.Background(), id, postgres.ResponsePatch{ExpData: json.RawMessage(expData), Sequence: sequence}); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerConsentByFrameTypeInBothOrders(t *testing.T) {
	f := newFixture(t, handlerKey)
	consentFrame := `{"0-video-consent":{"frameType":"CONSENT","eventTimings":[]}}`
	t.Run("FrameSavedFirst", func(t *testing.T) {
		response := newResponse(t, f.pool)
		save(t, f.pool, response, consentFrame, []string{"0-video-consent"})
		video := "vs_frame_first"
		f.putRecording(t, video, "webm")
		p := eventJSON(t, "upload success", video, "WEBM", nameIn(response, "0-video-consent")) // no consent- prefix
		f.filed(t, post(t, f.srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), video,
			nameIn(response, "0-video-consent")+".webm", true)
	})
	t.Run("VideoFiledFirst", func(t *testing.T) {
		response := newResponse(t, f.pool)
		video := "vs_video_first"
		f.putRecording(t, video, "webm")
		p := eventJSON(t, "upload success", video, "WEBM", nameIn(response, "0-video-consent"))
		fullName := nameIn(response, "0-video-consent") + ".webm"
		f.filed(t, post(t, f.srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), video, fullName, false)
		save(t, f.pool, response, consentFrame, []string{"0-video-consent"})
		if n, consent := videoRows(t, f.pool, fullName); n != 1 || !consent {
			t.Errorf("after the consent frame's save: %d rows, consent %v; want 1, consent", n, consent)
		}
	})
	t.Run("FrameSavedWhileFiling", func(t *testing.T) {
		// The consent frame's save lands between the webhook's read of the response and its
		// filing: the filing sees the response changed and decides again under the lock.
		response := newResponse(t, f.pool)
		video := "vs_frame_during"
		f.putRecording(t, video, "webm")
		f.bucket.afterCopy = func() { save(t, f.pool, response, consentFrame, []string{"0-video-consent"}) }
		p := eventJSON(t, "upload success", video, "WEBM", nameIn(response, "0-video-consent"))
		f.filed(t, post(t, f.srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), video,
			nameIn(response, "0-video-consent")+".webm", true)
	})
	t.Run("OtherFrameIsNotConsent", func(t *testing.T) {
		response := newResponse(t, f.pool)
		save(t, f.pool, response, consentFrame, []string{"0-video-consent"})
		video := "vs_other_frame"
		f.putRecording(t, video, "webm")
		p := eventJSON(t, "upload success", video, "WEBM", nameIn(response, "1-video-trial"))
		f.filed(t, post(t, f.srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), video,
			nameIn(response, "1-video-trial")+".webm", false)
	})
}

func TestHandlerVideoAfterWithdrawalIsNotKept(t *testing.T) {
	f := newFixture(t, handlerKey)
	response := newResponse(t, f.pool)
	save(t, f.pool, response, `{"0-trial":{"frameType":"DEFAULT"},"1-exit":{"frameType":"EXIT","withdrawal":true}}`, []string{"0-trial", "1-exit"})
	video := "vs_after_withdrawal"
	f.putRecording(t, video, "webm")
	p := eventJSON(t, "upload success", video, "WEBM", nameIn(response, "0-trial"))
	resp := post(t, f.srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	fullName := nameIn(response, "0-trial") + ".webm"
	if n, _ := videoRows(t, f.pool, fullName); n != 0 {
		t.Errorf("%d rows for a withdrawn family's video, want 0", n)
	}
	var due time.Time
	if err := f.pool.QueryRow(context.Background(), `SELECT delete_after FROM video_deletions WHERE bucket = 'pipe' AND object_key = $1`,
		fullName).Scan(&due); err != nil {
		t.Fatalf("deletion not scheduled: %v", err)
	}
	if d := time.Until(due); d < 6*24*time.Hour || d > 8*24*time.Hour {
		t.Errorf("deletion due in %v, want 7 days", d)
	}
}

func TestHandlerDeleteFailsThenRetryFinishes(t *testing.T) {
	f := newFixture(t, handlerKey)
	payload, video := uniqueEvent(t, "4-video")
	f.putRecording(t, video, "webm")
	sig := pipe.Sign(handlerKey, webhookURL, payload)
	f.bucket.failDelete.Store(true)
	wantError(t, post(t, f.srv, url.Values{"payload": {payload}}, sig), http.StatusServiceUnavailable, apperr.Unavailable, "")
	if !f.exists(t, video+".webm") {
		t.Fatal("the original is gone although its deletion failed")
	}
	f.bucket.failDelete.Store(false)
	f.filed(t, post(t, f.srv, url.Values{"payload": {payload}}, sig), video, recordingName("4-video")+".webm", true)
}

func TestHandlerS3DownFilesNothing(t *testing.T) {
	f := newFixture(t, handlerKey)
	payload, video := uniqueEvent(t, "5-video")
	f.putRecording(t, video, "webm")
	sig := pipe.Sign(handlerKey, webhookURL, payload)
	f.bucket.failCopy.Store(true)
	e := wantError(t, post(t, f.srv, url.Values{"payload": {payload}}, sig), http.StatusServiceUnavailable, apperr.Unavailable, "")
	if strings.Contains(e.Detail, "SlowDown") {
		t.Errorf("detail %q leaks the cause", e.Detail)
	}
	fullName := recordingName("5-video") + ".webm"
	if n, _ := videoRows(t, f.pool, fullName); n != 0 {
		t.Fatalf("%d rows while S3 is down, want 0", n)
	}
	// The call is kept, unprocessed, for operators; Pipe's retry files it.
	var processed bool
	if err := f.pool.QueryRow(context.Background(), `SELECT processed_at IS NOT NULL FROM pipe_webhook_events WHERE video_name = $1`,
		video).Scan(&processed); err != nil || processed {
		t.Fatalf("kept call: processed %v, %v; want kept, unprocessed", processed, err)
	}
	f.bucket.failCopy.Store(false)
	f.filed(t, post(t, f.srv, url.Values{"payload": {payload}}, sig), video, fullName, true)
}

func TestHandlerDatabaseDownAfterCopyThenRetryFinishes(t *testing.T) {
	f := newFixture(t, handlerKey)
	payload, video := uniqueEvent(t, "6-video")
	f.putRecording(t, video, "webm")
	sig := pipe.Sign(handlerKey, webhookURL, payload)
	// The handler's own pool, which goes away once the copy is made.
	own, err := pgxpool.New(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	f.db.Store(own)
	f.bucket.afterCopy = own.Close
	wantError(t, post(t, f.srv, url.Values{"payload": {payload}}, sig), http.StatusServiceUnavailable, apperr.Unavailable, "")
	fullName := recordingName("6-video") + ".webm"
	if n, _ := videoRows(t, f.pool, fullName); n != 0 {
		t.Fatalf("%d rows, want 0", n)
	}
	if !f.exists(t, fullName) || !f.exists(t, video+".webm") {
		t.Fatal("want the copy made and Pipe's original kept")
	}
	f.db.Store(f.pool)
	f.filed(t, post(t, f.srv, url.Values{"payload": {payload}}, sig), video, fullName, true)
}

func TestHandlerUnknownTargetsAndMissingRecordings(t *testing.T) {
	f := newFixture(t, handlerKey)
	const otherUUID = "11111111-2222-4333-8444-555555555555"
	for name, c := range map[string]struct{ recording string }{
		"UnknownResponse":      {"videoStream_" + studyUUID + "_7-video_" + otherUUID + "_1700000000123_abc"},
		"UnknownStudy":         {"videoStream_" + otherUUID + "_7-video_" + responseUUID + "_1700000000123_abc"},
		"RecordingNotInBucket": {recordingName("7-video-missing")},
	} {
		t.Run(name, func(t *testing.T) {
			video := "vs_" + name
			if name != "RecordingNotInBucket" {
				f.putRecording(t, video, "webm")
			}
			p := eventJSON(t, "upload success", video, "WEBM", c.recording)
			wantError(t, post(t, f.srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), http.StatusNotFound, apperr.NotFound, "")
			if n, _ := videoRows(t, f.pool, c.recording+".webm"); n != 0 {
				t.Errorf("%d rows, want 0", n)
			}
			if name != "RecordingNotInBucket" && !f.exists(t, video+".webm") {
				t.Error("Pipe's original was touched for a call that names no response")
			}
		})
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
	t.Run("TruncatedPayload", func(t *testing.T) {
		p := payload[:len(payload)/2]
		wantError(t, post(t, srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), http.StatusBadRequest, apperr.Invalid, "payload")
	})
	for parts, name := range map[int]string{5: "videoStream_" + studyUUID + "_4-video_" + responseUUID + "_1700000000123",
		7: "videoStream_" + studyUUID + "_4_video_" + responseUUID + "_1700000000123_abc"} {
		t.Run(fmt.Sprintf("NameWith%dParts", parts), func(t *testing.T) {
			p := eventJSON(t, "upload success", video, "WEBM", name)
			wantError(t, post(t, srv, url.Values{"payload": {p}}, pipe.Sign(handlerKey, webhookURL, p)), http.StatusBadRequest, apperr.Invalid, "payload")
		})
	}
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
	f := newFixture(t, handlerKey)
	payload, video := uniqueEvent(t, "8-video-limit")
	f.putRecording(t, video, "webm")
	form := url.Values{"payload": {payload}}
	pad := pipe.MaxBody - len(form.Encode()) - len("&padding=")
	form.Set("padding", strings.Repeat("x", pad))
	if l := len(form.Encode()); l != pipe.MaxBody {
		t.Fatalf("test body is %d bytes, want %d", l, pipe.MaxBody)
	}
	f.filed(t, post(t, f.srv, form, pipe.Sign(handlerKey, webhookURL, payload)), video, recordingName("8-video-limit")+".webm", true)
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
		Bucket:     func(context.Context) (videos.Store, error) { return nil, errors.New("not reached") },
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

func TestHandlerStoreFailureIsUnavailable(t *testing.T) {
	// A failure to keep the event is the database's: 503 (so Pipe retries) with a message that
	// does not leak the cause.
	closed, err := pgxpool.New(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	h := &pipe.Handler{
		Key:        handlerKey,
		WebhookURL: webhookURL,
		DB:         func(context.Context) (*pgxpool.Pool, error) { return closed, nil },
		Bucket:     func(context.Context) (videos.Store, error) { return nil, errors.New("not reached") },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	payload, video := uniqueEvent(t, "10-video")
	e := wantError(t, post(t, srv, url.Values{"payload": {payload}}, pipe.Sign(handlerKey, webhookURL, payload)), http.StatusServiceUnavailable, apperr.Unavailable, "")
	if strings.Contains(e.Detail, "closed") {
		t.Errorf("detail = %q leaks the cause", e.Detail)
	}
	if n := rowsFor(t, pgtest.Pool(t), video); n != 0 {
		t.Fatalf("%d rows, want 0", n)
	}
}
