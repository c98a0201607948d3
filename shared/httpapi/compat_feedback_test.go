package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// Feedback: who writes it, who reads it, and what a bad request is told.
func TestCompatFeedback(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID, studyID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ($1, true) RETURNING id`, "Feedback Lab "+uuid.NewString()).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, max_age_years)
		VALUES ('Feedback study', $1, 1, 'active', true, 5) RETURNING id`, labID).Scan(&studyID); err != nil {
		t.Fatal(err)
	}
	who := map[string]role{
		"family":       {name: "family"},
		"other-family": {name: "other-family"},
		"researcher":   {name: "study-researcher", researcher: true, twoFactor: true, study: "researcher"},
		"analyst":      {name: "study-analysis", researcher: true, twoFactor: true, study: "analysis"},
		"outsider":     {name: "researcher", researcher: true, twoFactor: true},
	}
	ids, creds := map[string]int64{}, map[string]func(*http.Request){}
	for k, r := range who {
		ids[k] = newUser(t, pool, labID, r)
		if r.study != "" {
			if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`, studyID, ids[k], r.study); err != nil {
				t.Fatal(err)
			}
		}
		creds[k] = credential(t, pool, ids[k], r)
	}
	response := func(consented bool) string {
		var rid int64
		var u string
		if err := pool.QueryRow(ctx, `WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender)
			VALUES ($1, 'Kid', current_date - 300, 'm') RETURNING id)
			INSERT INTO responses (study_id, child_id, study_type_id, eligibility, completed_consent_frame)
			SELECT $2, id, 1, '{Eligible}', $3 FROM c RETURNING id, uuid::text`, ids["family"], studyID, consented).Scan(&rid, &u); err != nil {
			t.Fatal(err)
		}
		if consented {
			if _, err := pool.Exec(ctx, `INSERT INTO consent_rulings (response_id, action) VALUES ($1, 'accepted')`, rid); err != nil {
				t.Fatal(err)
			}
		}
		return u
	}
	consented, unconsented := response(true), response(false)
	call := func(user, method, path, body string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/vnd.api+json")
		creds[user](req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var doc map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &doc)
		if rec.Code >= 500 {
			t.Errorf("%s %s by %s: %d %s", method, path, user, rec.Code, rec.Body.String())
		}
		return rec.Code, doc
	}
	create := func(resp, comment string) string {
		c, _ := json.Marshal(comment)
		return `{"data":{"type":"feedback","attributes":{"comment":` + string(c) + `},"relationships":{"response":{"data":{"type":"responses","id":"` + resp + `"}}}}}`
	}
	pointer := func(doc map[string]any) string {
		errs, _ := doc["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		src, _ := errs[0].(map[string]any)["source"].(map[string]any)
		p, _ := src["pointer"].(string)
		return p
	}

	code, doc := call("researcher", "POST", "/api/v1/feedback/", create(consented, "Thank you, Sam was great!"))
	if code != http.StatusCreated {
		t.Fatalf("researcher with the feedback permission: %d %v", code, doc)
	}
	data := doc["data"].(map[string]any)
	fid := data["id"].(string)
	rels := data["relationships"].(map[string]any)
	if data["type"] != "feedback" || data["attributes"].(map[string]any)["comment"] != "Thank you, Sam was great!" ||
		rels["response"].(map[string]any)["data"].(map[string]any)["id"] != consented || rels["researcher"] == nil {
		t.Errorf("created feedback: %v", data)
	}

	for _, c := range []struct {
		user, body string
		status     int
		pointer    string
	}{
		{"analyst", create(consented, "Hi"), 403, ""}, // reads the data, no feedback permission
		{"family", create(consented, "Hi"), 403, ""},  // families do not write feedback
		{"outsider", create(consented, "Hi"), 400, "/data/relationships/response"},
		{"researcher", create(unconsented, "Hi"), 400, "/data/relationships/response"}, // not consented: not theirs to see
		{"researcher", create(uuid.NewString(), "Hi"), 400, "/data/relationships/response"},
		{"researcher", create(consented, "   "), 400, "/data/attributes/comment"},
		{"researcher", create(consented, strings.Repeat("x", 10001)), 400, "/data/attributes/comment"},
		{"researcher", `{"data":{"type":"feedback","attributes":{"comment":5},"relationships":{"response":{"data":{"type":"responses","id":"` + consented + `"}}}}}`, 400, "/data/attributes/comment"},
		{"researcher", `{"data":{"type":"feedback","attributes":{"comment":"Hi"}}}`, 400, "/data/relationships/response"},
		{"researcher", `{"data":{"type":"responses","attributes":{"comment":"Hi"}}}`, 409, "/data/type"},
	} {
		if code, doc := call(c.user, "POST", "/api/v1/feedback/", c.body); code != c.status || pointer(doc) != c.pointer {
			t.Errorf("POST by %s %.80s: %d %s; want %d %s", c.user, c.body, code, pointer(doc), c.status, c.pointer)
		}
	}

	for user, want := range map[string]int{"family": 1, "researcher": 1, "analyst": 1, "outsider": 0, "other-family": 0} {
		code, doc := call(user, "GET", "/api/v2/feedback/", "")
		list, _ := doc["data"].([]any)
		if code != 200 || len(list) != want {
			t.Errorf("%s lists %d feedback (%d); want %d", user, len(list), code, want)
		}
		code, _ = call(user, "GET", "/api/v1/feedback/"+fid+"/", "")
		if (want == 1) != (code == 200) || (want == 0 && code != 404) {
			t.Errorf("%s reads the feedback: %d", user, code)
		}
	}

	patch := func(comment string, extra string) string {
		return `{"data":{"type":"feedback","id":"` + fid + `","attributes":{"comment":"` + comment + `"}` + extra + `}}`
	}
	if code, _ := call("family", "PATCH", "/api/v1/feedback/"+fid+"/", patch("I wrote this", "")); code != 403 {
		t.Errorf("a family edits feedback left on its response (Lookit's gap): %d", code)
	}
	if code, _ := call("analyst", "PATCH", "/api/v1/feedback/"+fid+"/", patch("Edited", "")); code != 403 {
		t.Errorf("an analyst edits feedback: %d", code)
	}
	if code, _ := call("outsider", "PATCH", "/api/v1/feedback/"+fid+"/", patch("Edited", "")); code != 404 {
		t.Errorf("an outsider edits feedback: %d", code)
	}
	if code, doc := call("researcher", "PATCH", "/api/v1/feedback/"+fid+"/", patch("Edited", `,"relationships":{"response":{"data":{"type":"responses","id":"`+unconsented+`"}}}`)); code != 400 || pointer(doc) != "/data/relationships/response" {
		t.Errorf("feedback moved to another response: %d %v", code, doc)
	}
	if code, _ := call("researcher", "PATCH", "/api/v1/feedback/"+fid+"/", `{"data":{"type":"feedback","id":"`+uuid.NewString()+`","attributes":{"comment":"x"}}}`); code != 409 {
		t.Errorf("data.id differs from the URL: %d", code)
	}
	if code, doc := call("researcher", "PUT", "/api/v1/feedback/"+fid+"/", `{"data":{"type":"feedback","id":"`+fid+`","attributes":{}}}`); code != 400 || pointer(doc) != "/data/attributes/comment" {
		t.Errorf("PUT without a comment: %d %v", code, doc)
	}
	if code, doc := call("researcher", "PATCH", "/api/v1/feedback/"+fid+"/", patch("Edited", "")); code != 200 ||
		doc["data"].(map[string]any)["attributes"].(map[string]any)["comment"] != "Edited" {
		t.Errorf("researcher edits: %d %v", code, doc)
	}
	var stored string
	_ = pool.QueryRow(ctx, `SELECT comment FROM feedback WHERE uuid = $1`, fid).Scan(&stored)
	if stored != "Edited" {
		t.Errorf("stored comment %q", stored)
	}
}
