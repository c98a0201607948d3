package videos_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/videos"
)

const hookSecret = "hook-test-secret"

// hookFixture serves an UploadHook on the test database, with a frameplayer and a jsPsych
// response of one study.
type hookFixture struct {
	srv                  *httptest.Server
	pool                 *pgxpool.Pool
	study, frame, jspsyc string
}

func newHookFixture(t *testing.T, secret string) *hookFixture {
	t.Helper()
	f := &hookFixture{pool: pgtest.Pool(t)}
	ctx := context.Background()
	if err := f.pool.QueryRow(ctx, `
		WITH l AS (INSERT INTO labs (name, approved_to_test) VALUES ('Hook Lab '||gen_random_uuid(), true) RETURNING id),
		     s AS (INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years)
		           SELECT 'Hook study', l.id, 1, 'active', 9 FROM l RETURNING id, uuid),
		     u AS (INSERT INTO users (email) VALUES ('hook-'||gen_random_uuid()||'@example.org') RETURNING id),
		     c AS (INSERT INTO children (user_id, given_name, birthday, gender)
		           SELECT u.id, 'K', current_date - 300, 'f' FROM u RETURNING id),
		     r1 AS (INSERT INTO responses (study_id, child_id, study_type_id, recording_method)
		           SELECT s.id, c.id, 1, 'recordrtc' FROM s, c RETURNING uuid),
		     r2 AS (INSERT INTO responses (study_id, child_id, study_type_id, recording_method, exp_data)
		           SELECT s.id, c.id, 3, 'jspsych', '[]' FROM s, c RETURNING uuid)
		SELECT s.uuid::text, r1.uuid::text, r2.uuid::text FROM s, r1, r2`).Scan(&f.study, &f.frame, &f.jspsyc); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(&videos.UploadHook{Secret: secret,
		DB:  func(context.Context) (*pgxpool.Pool, error) { return f.pool, nil },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(f.srv.Close)
	return f
}

// notice is a body as the Lambda sends it: Python's json.dumps with its default ", " and ": "
// separators, attributes in the Lambda's order.
func notice(attributes, study, response string) string {
	return `{"data": {"type": "videos", "attributes": ` + attributes + `, "relationships": {"response": {"data": {"type": "responses", "id": "` +
		response + `"}}, "study": {"data": {"type": "studies", "id": "` + study + `"}}}}}`
}

func attributes(fullName, frame string, consent bool) string {
	c := "false"
	if consent {
		c = "true"
	}
	return `{"pipe_name": null, "pipe_numeric_id": null, "frame_id": "` + frame + `", "full_name": "` + fullName +
		`", "s3_timestamp": "2026-11-23 12:00:00.250000", "is_consent_footage": ` + c + `, "pk": null}`
}

func sign(t *testing.T, attrs string) string {
	t.Helper()
	s, err := videos.SignHook(hookSecret, []byte(attrs))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *hookFixture) post(t *testing.T, body, sig string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/video/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.api+json")
	if sig != "" {
		req.Header.Set(videos.HookSignatureHeader, sig)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	return resp.StatusCode, doc
}

func (f *hookFixture) row(t *testing.T, fullName string) (n int, bucket string, consent bool) {
	t.Helper()
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*), coalesce(max(bucket), ''), coalesce(bool_or(is_consent_footage), false)
		FROM videos WHERE full_name = $1`, fullName).Scan(&n, &bucket, &consent); err != nil {
		t.Fatal(err)
	}
	return n, bucket, consent
}

func TestUploadHookFilesOnce(t *testing.T) {
	f := newHookFixture(t, hookSecret)
	name := "consent-videoStream_" + f.study + "_0-video-consent_" + f.frame + "_1795425978688_289.webm"
	attrs := attributes(name, "0-video-consent", true)
	code, doc := f.post(t, notice(attrs, f.study, f.frame), sign(t, attrs))
	if code != http.StatusCreated {
		t.Fatalf("status %d, want 201: %v", code, doc)
	}
	data, _ := doc["data"].(map[string]any)
	id, _ := data["id"].(string)
	if data["type"] != "videos" || len(id) != 36 {
		t.Errorf("answer %v", doc)
	}
	if n, bucket, consent := f.row(t, name); n != 1 || bucket != "recorder" || !consent {
		t.Errorf("%d rows in %q consent %v; want 1 in recorder, consent", n, bucket, consent)
	}
	// The same notice again (a Lambda retry): 200 with the same video, still one row.
	code, doc = f.post(t, notice(attrs, f.study, f.frame), sign(t, attrs))
	again, _ := doc["data"].(map[string]any)
	if code != http.StatusOK || again["id"] != id {
		t.Errorf("repeat: %d %v, want 200 with video %s", code, doc, id)
	}
	if n, _, _ := f.row(t, name); n != 1 {
		t.Errorf("%d rows after the repeat, want 1", n)
	}
}

func TestUploadHookConcurrentNoticesFileOnce(t *testing.T) {
	f := newHookFixture(t, hookSecret)
	name := "videoStream_" + f.study + "_1-trial_" + f.frame + "_1795425978688_1.webm"
	attrs := attributes(name, "1-trial", false)
	var wg sync.WaitGroup
	codes := make(chan int, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := f.post(t, notice(attrs, f.study, f.frame), sign(t, attrs))
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	created := 0
	for c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("a notice answered %d", c)
		}
	}
	if n, _, _ := f.row(t, name); n != 1 || created != 1 {
		t.Errorf("%d rows, %d answers 201; want 1 and 1", n, created)
	}
}

// A notice for a family that has already withdrawn keeps no row; the object is scheduled for
// deletion like the family's other session video.
func TestUploadHookAfterWithdrawal(t *testing.T) {
	f := newHookFixture(t, hookSecret)
	if _, err := f.pool.Exec(context.Background(), `UPDATE responses SET exp_data = '{"0-a":{"frameType":"DEFAULT"},"1-exit":{"frameType":"EXIT","withdrawal":true}}',
		sequence = '{0-a,1-exit}' WHERE uuid = $1`, f.frame); err != nil {
		t.Fatal(err)
	}
	name := "videoStream_" + f.study + "_0-a_" + f.frame + "_1795425978688_9.webm"
	attrs := attributes(name, "0-a", false)
	code, doc := f.post(t, notice(attrs, f.study, f.frame), sign(t, attrs))
	if code != http.StatusOK || doc["data"] != nil {
		t.Fatalf("status %d %v, want 200 with no video", code, doc)
	}
	if n, _, _ := f.row(t, name); n != 0 {
		t.Errorf("%d rows for a withdrawn family's video", n)
	}
	var scheduled int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM video_deletions WHERE bucket = 'recorder' AND object_key = $1`, name).Scan(&scheduled); err != nil || scheduled != 1 {
		t.Errorf("deletion scheduled %d times (%v), want 1", scheduled, err)
	}
}

func TestUploadHookJSPsychBucket(t *testing.T) {
	f := newHookFixture(t, hookSecret)
	name := "videoStream_" + f.study + "_2-record_" + f.jspsyc + "_1795425978688_7.webm"
	attrs := attributes(name, "2-record", false)
	if code, doc := f.post(t, notice(attrs, f.study, f.jspsyc), sign(t, attrs)); code != http.StatusCreated {
		t.Fatalf("status %d: %v", code, doc)
	}
	if _, bucket, _ := f.row(t, name); bucket != "jspsych" {
		t.Errorf("bucket %q, want jspsych", bucket)
	}
}

// The signature covers the attributes' bytes as sent, compacted: not a re-encoding of them.
func TestUploadHookSignature(t *testing.T) {
	f := newHookFixture(t, hookSecret)
	name := "videoStream_" + f.study + "_3-trial_" + f.frame + "_1795425978688_3.webm"
	attrs := attributes(name, "3-trial", false)
	reordered := `{"full_name": "` + name + `", "frame_id": "3-trial", "pipe_name": null, "pipe_numeric_id": null, "s3_timestamp": "2026-11-23 12:00:00.250000", "is_consent_footage": false, "pk": null}`
	for label, sig := range map[string]string{
		"missing":                "",
		"other secret":           func() string { s, _ := videos.SignHook("other", []byte(attrs)); return s }(),
		"over reordered keys":    sign(t, reordered),
		"not hex":                "zz" + sign(t, attrs)[2:],
		"over the whole body":    sign(t, notice(attrs, f.study, f.frame)),
		"truncated":              sign(t, attrs)[:40],
		"of a changed attribute": sign(t, strings.Replace(attrs, "false", "true", 1)),
	} {
		if code, doc := f.post(t, notice(attrs, f.study, f.frame), sig); code != http.StatusUnauthorized {
			t.Errorf("signature %s: %d %v, want 401", label, code, doc)
		}
	}
	if n, _, _ := f.row(t, name); n != 0 {
		t.Fatalf("%d rows from unsigned notices", n)
	}
	// Upper-case hex and compact or spaced attributes are the same signature.
	if code, doc := f.post(t, notice(attrs, f.study, f.frame), strings.ToUpper(sign(t, attrs))); code != http.StatusCreated {
		t.Errorf("upper-case hex: %d %v", code, doc)
	}
}

func TestUploadHookRejects(t *testing.T) {
	f := newHookFixture(t, hookSecret)
	name := "videoStream_" + f.study + "_4-trial_" + f.frame + "_1795425978688_4.webm"
	good := attributes(name, "4-trial", false)
	cases := []struct {
		label, body, attrs string
		code               int
		pointer            string
	}{
		{"no relationships", `{"data": {"type": "videos", "attributes": ` + good + `}}`, good, 400, "/data/relationships/response"},
		{"no study", `{"data": {"type": "videos", "attributes": ` + good + `, "relationships": {"response": {"data": {"type": "responses", "id": "` + f.frame + `"}}}}}`, good, 400, "/data/relationships/study"},
		{"unknown response", notice(good, f.study, "11111111-2222-4333-8444-555555555555"), good, 400, "/data/relationships/response"},
		{"response of another study", notice(good, "11111111-2222-4333-8444-555555555555", f.frame), good, 400, "/data/relationships/response"},
		{"slash in name", notice(attributes("a/"+name, "4-trial", false), f.study, f.frame), attributes("a/"+name, "4-trial", false), 400, "/data/attributes/full_name"},
		{"bad timestamp", notice(strings.Replace(good, "2026-11-23 12:00:00.250000", "yesterday", 1), f.study, f.frame),
			strings.Replace(good, "2026-11-23 12:00:00.250000", "yesterday", 1), 400, "/data/attributes/s3_timestamp"},
		{"wrong type", strings.Replace(notice(good, f.study, f.frame), `"type": "videos"`, `"type": "responses"`, 1), good, 400, "/data/type"},
		{"attributes not an object", `{"data": {"type": "videos", "attributes": []}}`, `[]`, 400, "/data/attributes"},
		{"truncated body", notice(good, f.study, f.frame)[:80], good, 400, "/data"},
	}
	for _, c := range cases {
		code, doc := f.post(t, c.body, sign(t, c.attrs))
		if code != c.code {
			t.Errorf("%s: %d %v, want %d", c.label, code, doc, c.code)
			continue
		}
		errs, _ := doc["errors"].([]any)
		if len(errs) != 1 {
			t.Errorf("%s: errors %v", c.label, doc)
			continue
		}
		src, _ := errs[0].(map[string]any)["source"].(map[string]any)
		if src["pointer"] != c.pointer {
			t.Errorf("%s: pointer %v, want %s", c.label, src["pointer"], c.pointer)
		}
	}
	if code, _ := f.post(t, notice(good, f.study, f.frame)+strings.Repeat(" ", videos.MaxHookBody), sign(t, good)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", code)
	}
	if n, _, _ := f.row(t, name); n != 0 {
		t.Fatalf("%d rows from refused notices", n)
	}
}

func TestUploadHookWithoutSecretIsUnavailable(t *testing.T) {
	f := newHookFixture(t, "")
	attrs := attributes("videoStream_x.webm", "0-a", false)
	for _, sig := range []string{sign(t, attrs), "00"} {
		if code, _ := f.post(t, notice(attrs, f.study, f.frame), sig); code != http.StatusServiceUnavailable {
			t.Errorf("unconfigured hook answered %d, want 503", code)
		}
	}
}

func FuzzUploadHookBody(f *testing.F) {
	f.Add(notice(attributes("videoStream_a_0-b_c_1_2.webm", "0-b", true), "11111111-2222-4333-8444-555555555555", "11111111-2222-4333-8444-555555555556"))
	f.Add(`{"data": {"type": "videos", "attributes": {"pipe_numeric_id": "12", "s3_timestamp": "2026-01-01T00:00:00Z"}}}`)
	f.Add(`{"data": null}`)
	f.Add(`[`)
	// Refused before the database: a body that parses and verifies but names nothing reaches
	// only the relationship checks, so no database is needed for the target.
	f.Fuzz(func(t *testing.T, body string) {
		h := &videos.UploadHook{Secret: hookSecret, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			DB: func(context.Context) (*pgxpool.Pool, error) { return nil, context.Canceled }}
		var doc struct {
			Data struct {
				Attributes json.RawMessage `json:"attributes"`
			} `json:"data"`
		}
		sig := "00"
		if json.Unmarshal([]byte(body), &doc) == nil && len(doc.Data.Attributes) > 0 {
			if s, err := videos.SignHook(hookSecret, doc.Data.Attributes); err == nil {
				sig = s
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/video/", strings.NewReader(body))
		req.Header.Set(videos.HookSignatureHeader, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("body %q: %d %s", body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusCreated || rec.Code == http.StatusOK {
			t.Fatalf("body %q filed without a database: %d", body, rec.Code)
		}
	})
}
