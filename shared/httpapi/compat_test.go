package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

const (
	fixtureStudy    = "11111111-1111-4111-8111-111111111111"
	fixtureChild    = "22222222-2222-4222-8222-222222222222"
	fixtureResponse = "6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3"
	fixtureSalt     = "0f8c3b1e-5d2a-4c7b-9e61-2a3b4c5d6e7f"
)

type captured struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// The real experiment runner's session (testdata/frameplayer-session.jsonl, captured from
// ember-lookit-frameplayer v3.2.0) replayed against a seeded study and child: every API request
// succeeds with what the runner needs, and the data ends up complete.
func TestTheRunnersSessionReplays(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	protocol, err := os.ReadFile("../demo/frameplayer-protocol.json")
	if err != nil {
		t.Fatal(err)
	}
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Replay Lab', true) RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO studies (uuid, salt, name, lab_id, study_type_id, state, public, built, structure, exit_url, max_age_years)
		VALUES ($1, $2, 'Replay study', $3, 1, 'active', true, true, $4, 'http://127.0.0.1:8000/exit/', 5)`, fixtureStudy, fixtureSalt, labID, protocol); err != nil {
		t.Fatal(err)
	}
	fam := role{name: "replay-family"}
	familyID := newUser(t, pool, 0, fam)
	if _, err := pool.Exec(ctx, `INSERT INTO children (uuid, user_id, given_name, birthday, gender) VALUES ($1, $2, 'Kid', current_date - 400, 'f')`, fixtureChild, familyID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US')`, familyID); err != nil {
		t.Fatal(err)
	}
	auth := credential(t, pool, familyID, fam)

	f, err := os.Open("testdata/frameplayer-session.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var reqs []captured
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c captured
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c.URL, "/api/") {
			reqs = append(reqs, c)
		}
	}
	responseID := fixtureResponse
	send := func(c captured) (int, map[string]any) {
		url := strings.ReplaceAll(c.URL, fixtureResponse, responseID)
		body := bytes.ReplaceAll(c.Body, []byte(fixtureResponse), []byte(responseID))
		req := httptest.NewRequest(c.Method, url, bytes.NewReader(body))
		for k, v := range c.Headers {
			if k != "cookie" && k != "x-csrftoken" {
				req.Header.Set(k, v)
			}
		}
		auth(req) // our session's cookies and X-CSRFToken in place of the captured stub
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if ct := rec.Header().Get("Content-Type"); rec.Code < 300 && ct != "application/vnd.api+json" {
			t.Errorf("%s %s: Content-Type %q", c.Method, url, ct)
		}
		return rec.Code, out
	}
	var hash string
	for i := 0; i < len(reqs); i++ {
		c := reqs[i]
		// The runner's last two saves are identical and overlap: send them together.
		if i+1 < len(reqs) && c.Method == "PATCH" && reqs[i+1].Method == "PATCH" && bytes.Equal(c.Body, reqs[i+1].Body) {
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for j := range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); codes[j], _ = send(reqs[i+j]) }()
			}
			wg.Wait()
			if codes[0] != 200 || codes[1] != 200 {
				t.Fatalf("overlapping saves: %v", codes)
			}
			i++
			continue
		}
		code, out := send(c)
		data, _ := out["data"].(map[string]any)
		switch {
		case c.Method == "POST":
			if code != http.StatusCreated || data["id"] == nil {
				t.Fatalf("create response: %d %v", code, out)
			}
			responseID = data["id"].(string)
		case strings.Contains(c.URL, "/responses/?"):
			links, _ := out["links"].(map[string]any)
			meta, _ := links["meta"].(map[string]any)
			list, _ := out["data"].([]any)
			if code != 200 || meta["count"] != 1.0 || len(list) != 1 {
				t.Fatalf("past sessions: %d %v", code, out)
			}
			hash, _ = list[0].(map[string]any)["attributes"].(map[string]any)["hash_child_id"].(string)
		case strings.HasPrefix(c.URL, "/api/v1/studies/"):
			rel, _ := data["relationships"].(map[string]any)
			related, _ := rel["responses"].(map[string]any)["links"].(map[string]any)["related"].(string)
			if code != 200 || !strings.HasSuffix(related, "/api/v1/studies/"+fixtureStudy+"/responses/") {
				t.Fatalf("study: %d %v", code, out)
			}
		default:
			if code != 200 {
				t.Fatalf("%s %s: %d %v", c.Method, c.URL, code, out)
			}
		}
	}
	want := hashedid.Of(uuid.MustParse(fixtureChild), uuid.MustParse(fixtureStudy), uuid.MustParse(fixtureSalt), 6)
	if hash != want {
		t.Errorf("hash_child_id %q, want %q", hash, want)
	}
	var completed, consent, survey bool
	var seq []string
	var method string
	var elig []string
	if err := pool.QueryRow(ctx, `SELECT completed, completed_consent_frame, survey_consent, sequence, recording_method, eligibility
		FROM responses WHERE uuid = $1`, responseID).Scan(&completed, &consent, &survey, &seq, &method, &elig); err != nil {
		t.Fatal(err)
	}
	if !completed || !consent || !survey || len(seq) != 3 || method != "recordrtc" || len(elig) != 1 || elig[0] != "Eligible" {
		t.Errorf("stored response: completed %v consent %v survey %v sequence %v method %s eligibility %v", completed, consent, survey, seq, method, elig)
	}
}

// Whatever a client sends to the compatibility API, the answer is never a 5xx.
func FuzzCompatRequests(f *testing.F) {
	pool := pgtest.Pool(f)
	ctx := context.Background()
	h := httpapi.New(newInstance(f, instance.Value(pool)))
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Compat Fuzz Lab', true)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`).Scan(&labID); err != nil {
		f.Fatal(err)
	}
	fam := role{name: "compat-fuzz-family"}
	familyID := newUser(f, pool, 0, fam)
	auth := credential(f, pool, familyID, fam)
	var study, jsStudy, child, response, jsResponse string
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('F', $1, 1, 'active', 9) RETURNING uuid::text`, labID).Scan(&study)
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('J', $1, 3, 'active', 9) RETURNING uuid::text`, labID).Scan(&jsStudy)
	_ = pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 100, 'f') RETURNING uuid::text`, familyID).Scan(&child)
	_, _ = pool.Exec(ctx, `INSERT INTO demographic_data (user_id) VALUES ($1)`, familyID)
	_ = pool.QueryRow(ctx, `INSERT INTO responses (study_id, child_id, study_type_id) SELECT s.id, c.id, 1 FROM studies s, children c
		WHERE s.uuid = $1 AND c.uuid = $2 RETURNING uuid::text`, study, child).Scan(&response)
	_ = pool.QueryRow(ctx, `INSERT INTO responses (study_id, child_id, study_type_id, exp_data) SELECT s.id, c.id, 3, '[]' FROM studies s, children c
		WHERE s.uuid = $1 AND c.uuid = $2 RETURNING uuid::text`, jsStudy, child).Scan(&jsResponse)
	f.Add("POST", "responses/", `{"data":{"type":"responses","attributes":{"isPreview":true},"relationships":{"child":{"data":{"type":"children","id":"CHILD"}},"study":{"data":{"type":"studies","id":"STUDY"}}}}}`)
	f.Add("PATCH", "responses/RESPONSE/", `{"data":{"type":"responses","id":"RESPONSE","attributes":{"exp_data":{"0-a":{"frameType":"EXIT","withdrawal":true}},"sequence":["0-a"]}}}`)
	f.Add("PATCH", "responses/JSRESPONSE/", `{"data":{"type":"responses","attributes":{"exp_data":[{"trial_index":0,"trial_type":"html"}]}}}`)
	f.Add("GET", "studies/STUDY/responses/?child=CHILD&page=2&page_size=1", ``)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if method != "GET" && method != "PATCH" && method != "PUT" {
			method = "POST"
		}
		r := strings.NewReplacer("JSRESPONSE", jsResponse, "RESPONSE", response, "STUDY", study, "CHILD", child)
		req := httptest.NewRequest(method, "/", strings.NewReader(r.Replace(body)))
		req.URL.Path = "/api/v1/" + r.Replace(path)
		if i := strings.IndexByte(req.URL.Path, '?'); i >= 0 {
			req.URL.RawQuery, req.URL.Path = req.URL.Path[i+1:], req.URL.Path[:i]
		}
		req.Header.Set("Content-Type", "application/vnd.api+json")
		auth(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, req.URL, body, rec.Code, rec.Body)
		}
	})
}

func TestCompatBadSavesNameTheField(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Compat Bad Lab', true) RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	fam := role{name: "compat-bad-family"}
	familyID := newUser(t, pool, 0, fam)
	auth := credential(t, pool, familyID, fam)
	var study, child, response, jsResponse string
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('B', $1, 1, 'active', 9) RETURNING uuid::text`, labID).Scan(&study)
	_ = pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 100, 'f') RETURNING uuid::text`, familyID).Scan(&child)
	_ = pool.QueryRow(ctx, `INSERT INTO responses (study_id, child_id, study_type_id) SELECT s.id, c.id, 1 FROM studies s, children c
		WHERE s.uuid = $1 AND c.uuid = $2 RETURNING uuid::text`, study, child).Scan(&response)
	_ = pool.QueryRow(ctx, `INSERT INTO responses (study_id, child_id, study_type_id, exp_data) SELECT s.id, c.id, 3, '[{"trial_index":0,"trial_type":"a"},{"trial_index":1,"trial_type":"b"}]'
		FROM studies s, children c WHERE s.uuid = $1 AND c.uuid = $2 RETURNING uuid::text`, study, child).Scan(&jsResponse)
	call := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/vnd.api+json")
		auth(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	patch := func(id, attrs string) string {
		return `{"data":{"type":"responses","id":"` + id + `","attributes":` + attrs + `}}`
	}
	for name, c := range map[string]struct {
		id, body string
		code     int
		pointer  string
	}{
		"NUL in exp_data":      {response, patch(response, `{"exp_data":{"a":"\u0000"}}`), 400, "/data/attributes/exp_data"},
		"exp_data a list":      {response, patch(response, `{"exp_data":[1]}`), 400, "/data/attributes/exp_data"},
		"sequence of numbers":  {response, patch(response, `{"sequence":[1,2]}`), 400, "/data/attributes/sequence"},
		"conditions a string":  {response, patch(response, `{"conditions":"x"}`), 400, "/data/attributes/conditions"},
		"wrong type":           {response, `{"data":{"type":"studies","attributes":{}}}`, 409, "/data/type"},
		"another id":           {response, patch(jsResponse, `{}`), 409, "/data/id"},
		"no data":              {response, `{}`, 400, "/data"},
		"jsPsych shrinks":      {jsResponse, patch(jsResponse, `{"exp_data":[{"trial_index":0,"trial_type":"a"}]}`), 400, "/data/attributes/exp_data"},
		"jsPsych not a list":   {jsResponse, patch(jsResponse, `{"exp_data":{"a":1}}`), 400, "/data/attributes/exp_data"},
		"no child on creation": {"", `{"data":{"type":"responses","relationships":{"study":{"data":{"type":"studies","id":"` + study + `"}}}}}`, 400, "/data/relationships/child"},
		// Whole-record saves, which the one-statement save would take, keep the full path's errors.
		"another child": {response, `{"data":{"type":"responses","id":"` + response + `","attributes":{"exp_data":{"0-a":{}},"sequence":["0-a"]},` +
			`"relationships":{"child":{"data":{"type":"children","id":"` + study + `"}}}}}`, 400, "/data/relationships/child"},
		"another study": {response, `{"data":{"type":"responses","attributes":{"exp_data":{"0-a":{}},"sequence":["0-a"]},` +
			`"relationships":{"study":{"data":{"type":"studies","id":"` + child + `"}}}}}`, 400, "/data/relationships/study"},
		"id in upper case": {strings.ToUpper(response), patch(strings.ToUpper(response), `{"exp_data":{"0-a":{}},"sequence":["0-a"]}`), 409, "/data/id"},
	} {
		method, path := "PATCH", "/api/v1/responses/"+c.id+"/"
		if c.id == "" {
			method, path = "POST", "/api/v1/responses/"
		}
		code, out := call(method, path, c.body)
		if code != c.code || errorPointer(out) != c.pointer {
			t.Errorf("%s: %d %v, want %d at %s", name, code, out, c.code, c.pointer)
		}
	}
	// A jsPsych save that grows keeps the list and derives the sequence on the server.
	code, out := call("PATCH", "/api/v2/responses/"+jsResponse+"/", patch(jsResponse,
		`{"exp_data":[{"trial_index":0,"trial_type":"a"},{"trial_index":1,"trial_type":"b"},{"trial_index":2,"trial_type":"c"}],"sequence":["ignored"]}`))
	attrs, _ := out["data"].(map[string]any)["attributes"].(map[string]any)
	if code != 200 || toJSON(attrs["sequence"]) != `["0-a","1-b","2-c"]` {
		t.Errorf("jsPsych save: %d %v", code, out)
	}
	// A family without demographics is told so, with a 400 (Lookit answered 500).
	other := role{name: "compat-no-demographics"}
	otherID := newUser(t, pool, 0, other)
	var otherChild string
	_ = pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 100, 'f') RETURNING uuid::text`, otherID).Scan(&otherChild)
	req := httptest.NewRequest("POST", "/api/v1/responses/", strings.NewReader(`{"data":{"type":"responses","relationships":{"child":{"data":{"type":"children","id":"`+
		otherChild+`"}},"study":{"data":{"type":"studies","id":"`+study+`"}}}}}`))
	credential(t, pool, otherID, other)(req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("a body without a JSON media type: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("POST", "/api/v1/responses/", strings.NewReader(`{"data":{"type":"responses","relationships":{"child":{"data":{"type":"children","id":"`+
		otherChild+`"}},"study":{"data":{"type":"studies","id":"`+study+`"}}}}}`))
	req.Header.Set("Content-Type", "application/vnd.api+json")
	credential(t, pool, otherID, other)(req)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "demographic") {
		t.Errorf("no demographics: %d %s", rec.Code, rec.Body)
	}
}

// The runner's saves run Lookit's last-frame rules: a consent frame's videos become consent
// footage; a withdrawal on the exit survey deletes the other videos (rows now, objects in 7 days).
func TestLastFrameRulesOnSave(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID, studyID, responseID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Video Rules Lab', true) RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	fam := role{name: "video-rules-family"}
	familyID := newUser(t, pool, 0, fam)
	auth := credential(t, pool, familyID, fam)
	var response string
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('V', $1, 1, 'active', 9) RETURNING id`, labID).Scan(&studyID)
	if err := pool.QueryRow(ctx, `WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 100, 'f') RETURNING id)
		INSERT INTO responses (study_id, child_id, study_type_id, recording_method) SELECT $2, c.id, 1, 'recordrtc' FROM c RETURNING id, uuid::text`,
		familyID, studyID).Scan(&responseID, &response); err != nil {
		t.Fatal(err)
	}
	for i, frame := range []string{"1-video-consent", "2-video", "2-video", "3-exit"} {
		if _, err := pool.Exec(ctx, `INSERT INTO videos (s3_timestamp, frame_id, full_name, bucket, study_id, response_id)
			VALUES (now(), $1, $2, 'recorder', $3, $4)`, frame, fmt.Sprintf("videoStream_%d_%s_%s.webm", i, frame, response), studyID, responseID); err != nil {
			t.Fatal(err)
		}
	}
	save := func(expData, sequence string) {
		t.Helper()
		req := httptest.NewRequest("PATCH", "/api/v1/responses/"+response+"/", strings.NewReader(
			`{"data":{"type":"responses","id":"`+response+`","attributes":{"exp_data":`+expData+`,"sequence":`+sequence+`}}}`))
		req.Header.Set("Content-Type", "application/vnd.api+json")
		auth(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("save: %d %s", rec.Code, rec.Body)
		}
	}
	count := func(where string) int {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM videos WHERE response_id = $1 AND `+where, responseID).Scan(&n)
		return n
	}
	save(`{"1-video-consent":{"frameType":"CONSENT"}}`, `["1-video-consent"]`)
	if count("is_consent_footage") != 1 {
		t.Fatalf("consent footage after the consent frame: %d", count("is_consent_footage"))
	}
	save(`{"1-video-consent":{"frameType":"CONSENT"},"2-video":{"frameType":"DEFAULT"},"3-exit":{"frameType":"EXIT","withdrawal":false}}`, `["1-video-consent","2-video","3-exit"]`)
	if count("true") != 4 {
		t.Fatalf("videos after an exit without withdrawal: %d", count("true"))
	}
	save(`{"1-video-consent":{"frameType":"CONSENT"},"2-video":{"frameType":"DEFAULT"},"3-exit":{"frameType":"EXIT","withdrawal":true}}`, `["1-video-consent","2-video","3-exit"]`)
	if count("true") != 1 || count("is_consent_footage") != 1 {
		t.Errorf("after withdrawal: %d videos, %d consent", count("true"), count("is_consent_footage"))
	}
	var scheduled int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM video_deletions WHERE reason = 'withdrawn' AND object_key LIKE '%' || $1 || '%'
		AND delete_after > now() + interval '6 days'`, response).Scan(&scheduled)
	if scheduled != 3 {
		t.Errorf("%d objects scheduled for deletion, want 3", scheduled)
	}
}

// Visibility: a family sees only its own children and responses; a researcher sees consented
// responses (and their children) of studies they may read, previews only with preview permission.
func TestCompatVisibility(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID, studyID, otherStudyID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Visibility Lab', true) RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('Seen', $1, 1, 'active', 9) RETURNING id`, labID).Scan(&studyID)
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('Unseen', $1, 1, 'active', 9) RETURNING id`, labID).Scan(&otherStudyID)
	famA, famB := role{name: "vis-family-a"}, role{name: "vis-family-b"}
	a, b := newUser(t, pool, 0, famA), newUser(t, pool, 0, famB)
	analyst := role{name: "vis-analyst", researcher: true, twoFactor: true, study: authz.GroupAnalysis}
	previewer := role{name: "vis-previewer", researcher: true, twoFactor: true, study: authz.GroupPreview}
	analystID, previewerID := newUser(t, pool, 0, analyst), newUser(t, pool, 0, previewer)
	for id, g := range map[int64]string{analystID: "analysis", previewerID: "preview"} {
		if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`, studyID, id, g); err != nil {
			t.Fatal(err)
		}
	}
	type resp struct{ child, response string }
	newResp := func(family, study int64, consent, ruling string, preview bool) resp {
		var x resp
		if err := pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 90, 'm') RETURNING uuid::text`, family).Scan(&x.child); err != nil {
			t.Fatal(err)
		}
		var rid int64
		if err := pool.QueryRow(ctx, `INSERT INTO responses (study_id, child_id, study_type_id, completed_consent_frame, is_preview)
			SELECT $1, id, 1, $3, $4 FROM children WHERE uuid = $2 RETURNING id, uuid::text`, study, x.child, consent == "yes", preview).Scan(&rid, &x.response); err != nil {
			t.Fatal(err)
		}
		if ruling != "" {
			if _, err := pool.Exec(ctx, `INSERT INTO consent_rulings (response_id, action) VALUES ($1, $2)`, rid, ruling); err != nil {
				t.Fatal(err)
			}
		}
		return x
	}
	accepted := newResp(a, studyID, "yes", "accepted", false)
	rejected := newResp(a, studyID, "yes", "rejected", false)
	pending := newResp(b, studyID, "yes", "", false)
	preview := newResp(b, studyID, "yes", "accepted", true)
	elsewhere := newResp(b, otherStudyID, "yes", "accepted", false)

	get := func(r role, id int64, path string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		credential(t, pool, id, r)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	listed := func(r role, id int64) map[string]bool {
		code, body := get(r, id, "/api/v1/responses/?page_size=100")
		if code != 200 {
			t.Fatalf("list as %s: %d %s", r.name, code, body)
		}
		var doc struct {
			Data []struct{ ID string } `json:"data"`
		}
		_ = json.Unmarshal([]byte(body), &doc)
		out := map[string]bool{}
		for _, d := range doc.Data {
			out[d.ID] = true
		}
		return out
	}
	all := []resp{accepted, rejected, pending, preview, elsewhere}
	for _, c := range []struct {
		r    role
		id   int64
		sees []resp
	}{
		{famA, a, []resp{accepted, rejected}},
		{famB, b, []resp{pending, preview, elsewhere}},
		{analyst, analystID, []resp{accepted, preview}}, // RR and RP (analysis): consented, this study only
		{previewer, previewerID, []resp{preview}},       // preview data only
	} {
		got := listed(c.r, c.id)
		for _, x := range all {
			want := false
			for _, s := range c.sees {
				want = want || s == x
			}
			if got[x.response] != want {
				t.Errorf("%s lists %s: %v, want %v", c.r.name, x.response, got[x.response], want)
			}
			code, _ := get(c.r, c.id, "/api/v1/responses/"+x.response+"/")
			if (code == 200) != want {
				t.Errorf("%s GET response %s: %d, want visible=%v", c.r.name, x.response, code, want)
			}
			code, _ = get(c.r, c.id, "/api/v1/children/"+x.child+"/")
			if (code == 200) != want {
				t.Errorf("%s GET child of %s: %d, want visible=%v", c.r.name, x.response, code, want)
			}
		}
	}
}

// The study list shows families active public studies; researchers also shared-preview studies
// and those they may read. Labs are listed when approved to test; children when visible.
func TestCompatStudyAndLabLists(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID int64
	var labUUID, hiddenLab string
	_ = pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('List Lab', true) RETURNING id, uuid::text`).Scan(&labID, &labUUID)
	_ = pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Pending List Lab', false) RETURNING uuid::text`).Scan(&hiddenLab)
	study := func(name, state string, public, shared bool) (int64, string) {
		var id int64
		var u string
		if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, shared_preview) VALUES ($1, $2, 2, $3, $4, $5)
			RETURNING id, uuid::text`, name, labID, state, public, shared).Scan(&id, &u); err != nil {
			t.Fatal(err)
		}
		return id, u
	}
	_, live := study("Live", "active", true, false)
	_, private := study("Private", "active", false, false)
	draftID, draft := study("Draft", "created", false, false)
	_, shared := study("Shared", "created", false, true)
	fam := role{name: "list-family"}
	designer := role{name: "list-designer", researcher: true, twoFactor: true}
	stranger := role{name: "list-stranger", researcher: true, twoFactor: true}
	famID, designerID, strangerID := newUser(t, pool, 0, fam), newUser(t, pool, 0, designer), newUser(t, pool, 0, stranger)
	if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'design')`, draftID, designerID); err != nil {
		t.Fatal(err)
	}
	ids := func(r role, id int64, path string) map[string]bool {
		req := httptest.NewRequest("GET", path, nil)
		credential(t, pool, id, r)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var doc struct {
			Data []struct{ ID string } `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); rec.Code != 200 || err != nil {
			t.Fatalf("GET %s as %s: %d %s", path, r.name, rec.Code, rec.Body)
		}
		out := map[string]bool{}
		for _, d := range doc.Data {
			out[d.ID] = true
		}
		return out
	}
	for _, c := range []struct {
		r    role
		id   int64
		sees map[string]bool
	}{
		{fam, famID, map[string]bool{live: true}},
		{stranger, strangerID, map[string]bool{live: true, shared: true}},
		{designer, designerID, map[string]bool{live: true, shared: true, draft: true}},
	} {
		got := ids(c.r, c.id, "/api/v1/studies/?page_size=100")
		for _, s := range []string{live, private, draft, shared} {
			if got[s] != c.sees[s] {
				t.Errorf("%s lists study %s: %v, want %v", c.r.name, s, got[s], c.sees[s])
			}
		}
	}
	if labs := ids(fam, famID, "/api/v2/labs/?page_size=100"); !labs[labUUID] || labs[hiddenLab] {
		t.Errorf("labs listed %v", labs)
	}
	var child string
	_ = pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 90, 'm') RETURNING uuid::text`, famID).Scan(&child)
	if kids := ids(fam, famID, "/api/v1/children/"); len(kids) != 1 || !kids[child] {
		t.Errorf("family's children %v", kids)
	}
	if kids := ids(stranger, strangerID, "/api/v1/children/"); kids[child] {
		t.Error("a researcher without a consented response lists the family's child")
	}
}

// A preview response is a researcher's, on a study they may preview, with their own child; a
// family cannot mark its session as a preview, and nobody previews with someone else's child.
func TestPreviewResponsesNeedPreviewPermission(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID, studyID int64
	var study string
	_ = pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Preview Lab', true) RETURNING id`).Scan(&labID)
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('Draft', $1, 1, 'created', 9) RETURNING id, uuid::text`, labID).Scan(&studyID, &study)
	post := func(r role, id int64, child string) int {
		req := httptest.NewRequest("POST", "/api/v1/responses/", strings.NewReader(`{"data":{"type":"responses","attributes":{"is_preview":true},
			"relationships":{"child":{"data":{"type":"children","id":"`+child+`"}},"study":{"data":{"type":"studies","id":"`+study+`"}}}}}`))
		req.Header.Set("Content-Type", "application/vnd.api+json")
		credential(t, pool, id, r)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	kid := func(owner int64) string {
		var c string
		_ = pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 90, 'm') RETURNING uuid::text`, owner).Scan(&c)
		if _, err := pool.Exec(ctx, `INSERT INTO demographic_data (user_id) VALUES ($1)`, owner); err != nil {
			t.Fatal(err)
		}
		return c
	}
	fam := role{name: "preview-family"}
	famID := newUser(t, pool, 0, fam)
	designer := role{name: "preview-designer", researcher: true, twoFactor: true}
	designerID := newUser(t, pool, 0, designer)
	if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'design')`, studyID, designerID); err != nil {
		t.Fatal(err)
	}
	famChild, ownChild := kid(famID), kid(designerID)
	if code := post(fam, famID, famChild); code != http.StatusForbidden && code != http.StatusNotFound {
		t.Errorf("family previewing a draft: %d", code)
	}
	if code := post(designer, designerID, famChild); code != http.StatusForbidden {
		t.Errorf("researcher previewing with a family's child: %d", code)
	}
	if code := post(designer, designerID, ownChild); code != http.StatusCreated {
		t.Errorf("researcher previewing with their own child: %d", code)
	}
	var previews int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM responses WHERE study_id = $1 AND is_preview`, studyID).Scan(&previews)
	if previews != 1 {
		t.Errorf("%d preview responses, want 1", previews)
	}
}

// Users and demographics: a family sees itself and its own survey versions; a researcher with
// real-data access sees the parent and the demographic snapshot of a consented response, and
// nothing of families without one.
func TestCompatUsersAndDemographics(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID, studyID int64
	_ = pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('People Lab', true) RETURNING id`).Scan(&labID)
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('P', $1, 1, 'active', 9) RETURNING id`, labID).Scan(&studyID)
	famA, famB := role{name: "people-a"}, role{name: "people-b"}
	a, b := newUser(t, pool, 0, famA), newUser(t, pool, 0, famB)
	analyst := role{name: "people-analyst", researcher: true, twoFactor: true}
	analystID := newUser(t, pool, 0, analyst)
	_, _ = pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'analysis')`, studyID, analystID)
	var aUUID, bUUID, aDemo, bDemo string
	_ = pool.QueryRow(ctx, `SELECT uuid::text FROM users WHERE id = $1`, a).Scan(&aUUID)
	_ = pool.QueryRow(ctx, `SELECT uuid::text FROM users WHERE id = $1`, b).Scan(&bUUID)
	_ = pool.QueryRow(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US') RETURNING uuid::text`, a).Scan(&aDemo)
	_ = pool.QueryRow(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'CA') RETURNING uuid::text`, b).Scan(&bDemo)
	// A's child has a consented response to the analyst's study, with A's snapshot.
	var rid int64
	if err := pool.QueryRow(ctx, `WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 90, 'f') RETURNING id)
		INSERT INTO responses (study_id, child_id, study_type_id, completed_consent_frame, demographic_snapshot_id)
		SELECT $2, c.id, 1, true, (SELECT id FROM demographic_data WHERE uuid = $3) FROM c RETURNING id`, a, studyID, aDemo).Scan(&rid); err != nil {
		t.Fatal(err)
	}
	_, _ = pool.Exec(ctx, `INSERT INTO consent_rulings (response_id, action) VALUES ($1, 'accepted')`, rid)
	get := func(r role, id int64, path string) int {
		req := httptest.NewRequest("GET", path, nil)
		credential(t, pool, id, r)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), "@example.org") {
			t.Errorf("%s %s shows an email address: %s", r.name, path, rec.Body)
		}
		return rec.Code
	}
	for _, c := range []struct {
		r       role
		id      int64
		visible map[string]bool
	}{
		{famA, a, map[string]bool{"users/" + aUUID: true, "demographics/" + aDemo: true}},
		{famB, b, map[string]bool{"users/" + bUUID: true, "demographics/" + bDemo: true}},
		{analyst, analystID, map[string]bool{"users/" + aUUID: true, "demographics/" + aDemo: true}},
	} {
		for _, path := range []string{"users/" + aUUID, "users/" + bUUID, "demographics/" + aDemo, "demographics/" + bDemo} {
			if code := get(c.r, c.id, "/api/v1/"+path+"/"); (code == 200) != c.visible[path] {
				t.Errorf("%s GET %s: %d, want visible=%v", c.r.name, path, code, c.visible[path])
			}
		}
	}
	// The nested lists the user resource links to: one parent's rows, as far as the caller may
	// see them; an unknown or malformed parent is an empty list.
	list := func(r role, id int64, path string) []string {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		credential(t, pool, id, r)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var doc struct {
			Data []struct {
				Type, ID string
			}
			Links struct{ Meta struct{ Count int } }
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
			t.Fatalf("%s GET %s: %d %s", r.name, path, rec.Code, rec.Body)
		}
		if doc.Links.Meta.Count != len(doc.Data) {
			t.Errorf("%s GET %s: count %d for %d rows", r.name, path, doc.Links.Meta.Count, len(doc.Data))
		}
		var ids []string
		for _, d := range doc.Data {
			ids = append(ids, d.Type+"/"+d.ID)
		}
		return ids
	}
	var aChild string
	_ = pool.QueryRow(ctx, `SELECT uuid::text FROM children WHERE user_id = $1`, a).Scan(&aChild)
	for _, c := range []struct {
		r     role
		id    int64
		owner string
		want  []string
	}{
		{famA, a, aUUID, []string{"children/" + aChild, "demographics/" + aDemo}},
		{famB, b, aUUID, nil},
		{famB, b, bUUID, []string{"demographics/" + bDemo}},
		{analyst, analystID, aUUID, []string{"children/" + aChild, "demographics/" + aDemo}},
		{analyst, analystID, bUUID, nil},
		{analyst, analystID, "not-a-uuid", nil},
		{famA, a, "00000000-0000-0000-0000-000000000000", nil},
	} {
		got := append(list(c.r, c.id, "/api/v1/users/"+c.owner+"/children/"), list(c.r, c.id, "/api/v2/users/"+c.owner+"/demographics/")...)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: users/%s/children/ and demographics/ = %v, want %v", c.r.name, c.owner, got, c.want)
		}
	}
}
