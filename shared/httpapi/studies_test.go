package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// lookitEdges is the state machine of reference §2.1, written out independently of
// shared/studies: trigger → from → to.
var lookitEdges = map[string]map[string]string{
	"submit":     {"created": "submitted"},
	"resubmit":   {"rejected": "submitted", "retracted": "submitted"},
	"approve":    {"submitted": "approved"},
	"reject":     {"submitted": "rejected", "approved": "rejected", "active": "rejected", "paused": "rejected", "deactivated": "rejected"},
	"retract":    {"submitted": "retracted"},
	"activate":   {"approved": "active", "paused": "active"},
	"pause":      {"active": "paused"},
	"deactivate": {"active": "deactivated", "paused": "deactivated"},
	"archive": {"created": "archived", "submitted": "archived", "rejected": "archived", "retracted": "archived",
		"approved": "archived", "active": "archived", "paused": "archived", "deactivated": "archived"},
}

var allStates = []string{"created", "submitted", "rejected", "retracted", "approved", "active", "paused", "deactivated", "archived"}

const readyProtocol = `{"frames":{"intro":{"kind":"exp-lookit-text","blocks":[{"text":"Hello"}]}},"sequence":["intro"]}`
const readyMetadata = `{"player_repo_url":"https://github.com/lookit/ember-lookit-frameplayer","last_known_player_sha":"0123456789abcdef0123456789abcdef01234567"}`

// Every (state, trigger, role): allowed transitions move the study, log it and queue the notice;
// the rest answer 403 (who) or 409 (when) with a reason.
func TestEveryStateTriggerAndRole(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Lifecycle Lab', true) RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	type actor struct {
		role  role
		id    int64
		auth  func(*http.Request)
		canCS bool // CHANGE_STUDY_STATUS on the study
		canAP bool // approve and reject
	}
	var actors []*actor
	for _, a := range []struct {
		r            role
		canCS, canAP bool
	}{
		{role{name: "lc-study-admin", researcher: true, twoFactor: true, study: authz.GroupAdmin}, true, false},
		{role{name: "lc-study-researcher", researcher: true, twoFactor: true, study: authz.GroupResearcher}, true, false},
		{role{name: "lc-study-design", researcher: true, twoFactor: true, study: authz.GroupDesign}, false, false},
		{role{name: "lc-lab-admin", researcher: true, twoFactor: true, lab: authz.LabAdmin}, true, false},
		{role{name: "lc-lab-member", researcher: true, twoFactor: true, lab: authz.LabMember}, false, false},
		{role{name: "lc-site-admin", researcher: true, twoFactor: true, siteAdmin: true}, true, true},
		{role{name: "lc-family"}, false, false},
	} {
		id := newUser(t, pool, labID, a.r)
		actors = append(actors, &actor{role: a.r, id: id, auth: credential(t, pool, id, a.r), canCS: a.canCS, canAP: a.canAP})
	}
	emails := func() int {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM email_messages WHERE kind LIKE 'study_%'`).Scan(&n)
		return n
	}
	for _, from := range allStates {
		for trigger, edges := range lookitEdges {
			for _, a := range actors {
				var studyID int64
				var studyUUID string
				if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, built, structure, metadata)
					VALUES ($1, $2, 1, $3, true, $4, $5) RETURNING id, uuid::text`,
					fmt.Sprintf("%s %s %s", from, trigger, a.role.name), labID, from, readyProtocol, readyMetadata).Scan(&studyID, &studyUUID); err != nil {
					t.Fatal(err)
				}
				for _, b := range actors {
					if b.role.study != "" {
						if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`, studyID, b.id, b.role.study); err != nil {
							t.Fatal(err)
						}
					}
				}
				before := emails()
				req := httptest.NewRequest("POST", "/api/studies/"+studyUUID+"/transitions",
					strings.NewReader(`{"trigger":"`+trigger+`","comments":"table test","declarations":{"issue_consent":true}}`))
				req.Header.Set("Content-Type", "application/json")
				a.auth(req)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				var body map[string]any
				_ = json.Unmarshal(rec.Body.Bytes(), &body)
				name := fmt.Sprintf("%s by %s from %s", trigger, a.role.name, from)

				allowed := a.canCS
				if trigger == "approve" || trigger == "reject" {
					allowed = a.canAP
				}
				to, edge := edges[from]
				switch {
				case !allowed:
					if rec.Code != http.StatusForbidden && rec.Code != http.StatusUnauthorized {
						t.Errorf("%s: %d %v, want 403", name, rec.Code, body)
					}
				case !edge:
					if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "cannot be") {
						t.Errorf("%s: %d %v, want 409 with a reason", name, rec.Code, body)
					}
				default:
					if rec.Code != http.StatusOK || body["state"] != to {
						t.Errorf("%s: %d %v, want 200 and state %s", name, rec.Code, body, to)
						continue
					}
					var logged int
					_ = pool.QueryRow(ctx, `SELECT count(*) FROM study_logs WHERE study_id = $1 AND action = $2 AND user_id = $3
						AND extra->>'comments' = 'table test' AND extra->'declarations'->>'issue_consent' = 'true'`, studyID, to, a.id).Scan(&logged)
					if logged != 1 {
						t.Errorf("%s: %d log entries", name, logged)
					}
					if want := map[bool]int{true: 0, false: 1}[trigger == "archive"]; emails()-before != want {
						t.Errorf("%s: %d emails queued, want %d", name, emails()-before, want)
					}
				}
				if rec.Code != http.StatusOK {
					var state string
					_ = pool.QueryRow(ctx, `SELECT state FROM studies WHERE id = $1`, studyID).Scan(&state)
					if state != from {
						t.Errorf("%s: refused but the state moved to %s", name, state)
					}
				}
			}
		}
	}
}

// The conditions Lookit left to the page: lab approval, the build, the response cap, the protocol.
func TestTransitionConditionsAreEnforcedByTheServer(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	admin := role{name: "cond-site-admin", researcher: true, twoFactor: true, siteAdmin: true}
	auth := credential(t, pool, newUser(t, pool, 0, admin), admin)
	study := func(labApproved bool, state string, built bool, maxResponses any, tallied int, structure string) string {
		var labID int64
		if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Cond Lab ' || gen_random_uuid(), $1) RETURNING id`, labApproved).Scan(&labID); err != nil {
			t.Fatal(err)
		}
		var id string
		if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, built, max_responses, tallied_responses, structure, metadata)
			VALUES ('Cond', $1, 1, $2, $3, $4, $5, $6, $7) RETURNING uuid::text`, labID, state, built, maxResponses, tallied, structure, readyMetadata).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	cases := []struct {
		name, study, trigger, reason string
	}{
		{"submit, lab not approved", study(false, "created", true, nil, 0, readyProtocol), "submit", "lab is not yet approved"},
		{"approve, lab not approved", study(false, "submitted", true, nil, 0, readyProtocol), "approve", "lab is not yet approved"},
		{"activate, lab not approved", study(false, "approved", true, nil, 0, readyProtocol), "activate", "lab is not yet approved"},
		{"activate, not built", study(true, "approved", false, nil, 0, readyProtocol), "activate", "build the experiment runner"},
		{"activate, at the cap", study(true, "paused", true, 5, 5, readyProtocol), "activate", "maximum number of responses"},
		{"submit, empty protocol", study(true, "created", true, nil, 0, `{"frames":{},"sequence":[]}`), "submit", "protocol"},
	}
	for _, c := range cases {
		req := httptest.NewRequest("POST", "/api/studies/"+c.study+"/transitions", strings.NewReader(`{"trigger":"`+c.trigger+`"}`))
		req.Header.Set("Content-Type", "application/json")
		auth(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), c.reason) {
			t.Errorf("%s: %d %s, want 409 mentioning %q", c.name, rec.Code, rec.Body, c.reason)
		}
	}
	// Lookit's auto-generated to_<state> triggers do not exist.
	req := httptest.NewRequest("POST", "/api/studies/"+study(true, "created", true, nil, 0, readyProtocol)+"/transitions", strings.NewReader(`{"trigger":"to_active"}`))
	req.Header.Set("Content-Type", "application/json")
	auth(req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "/trigger") {
		t.Errorf("to_active: %d %s", rec.Code, rec.Body)
	}
}

func TestStudyRoutesAnswerBadInputWithTheField(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID int64
	var labUUID string
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Bad Input Lab', true) RETURNING id, uuid::text`).Scan(&labID, &labUUID); err != nil {
		t.Fatal(err)
	}
	r := role{name: "bad-input-admin", researcher: true, twoFactor: true, lab: authz.LabAdmin}
	auth := credential(t, pool, newUser(t, pool, labID, r), r)
	call := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		auth(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	code, study := call("POST", "/api/labs/"+labUUID+"/studies", `{"study_type":"frameplayer","name":"Bad input study"}`)
	if code != http.StatusCreated || study["state"] != "created" || study["display_full_screen"] != true {
		t.Fatalf("create: %d %v", code, study)
	}
	id := study["id"].(string)
	for body, pointer := range map[string]string{
		`{"study_type":"frameplayer"}`:                                                              "/name",
		`{"study_type":"quiz","name":"x"}`:                                                          "/study_type",
		`{"study_type":"external","name":"x","min_age_years":3,"max_age_years":1}`:                  "/min_age_years",
		`{"study_type":"external","name":"x","max_age_months":12}`:                                  "/max_age_months",
		`{"study_type":"external","name":"x","priority":100}`:                                       "/priority",
		`{"study_type":"external","name":"x","exit_url":"javascript:alert(1)"}`:                     "/exit_url",
		`{"study_type":"external","name":"x","metadata":{"url":"ftp://x"}}`:                         "/metadata/url",
		`{"study_type":"external","name":"x","max_responses":0}`:                                    "/max_responses",
		`{"study_type":"external","name":"x","criteria_expression":"deaf AND"}`:                     "/criteria_expression",
		`{"study_type":"frameplayer","name":"x","structure":{"frames":{},"sequence":["nope"]}}`:     "/structure/sequence/0",
		`{"study_type":"external","name":"x","must_have_participated":["` + id + `","not-a-uuid"]}`: "/must_have_participated/1",
		`{"study_type":"external","name":"` + strings.Repeat("n", 256) + `"}`:                       "/name",
		`{"study_type":"external","name":5}`:                                                        "/name",
	} {
		code, out := call("POST", "/api/labs/"+labUUID+"/studies", body)
		if code != http.StatusBadRequest || errorPointer(out) != pointer {
			t.Errorf("%.80s: %d %v, want 400 at %s", body, code, out, pointer)
		}
	}
	if code, out := call("POST", "/api/studies/"+id+"/transitions", `{"trigger":"submit","declarations":{"issue_unknown":true}}`); code != 400 || errorPointer(out) != "/declarations/issue_unknown" {
		t.Errorf("unknown declaration: %d %v", code, out)
	}
	if code, out := call("PUT", "/api/studies/"+id+"/researchers/"+id, `{"group":"owners"}`); code != 400 || errorPointer(out) != "/group" {
		t.Errorf("unknown group: %d %v", code, out)
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM studies WHERE lab_id = $1`, labID).Scan(&n)
	if n != 1 {
		t.Errorf("%d studies after bad input, want 1", n)
	}
	// Real protocols are large: 300 KiB of frames is accepted (the app API's 64 KiB cap does not
	// apply to studies), 3 MiB is refused as too large.
	big := `{"name":"Big protocol","structure":{"frames":{"a":{"kind":"exp-lookit-text","blocks":[{"text":"` +
		strings.Repeat("x", 300<<10) + `"}]}},"sequence":["a"]}}`
	if code, out := call("PUT", "/api/studies/"+id, big); code != 200 {
		t.Errorf("300 KiB protocol: %d %v", code, out)
	}
	if code, _ := call("PUT", "/api/studies/"+id, strings.Replace(big, "x", strings.Repeat("x", 11), -1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("3 MiB protocol: %d", code)
	}
}

// "Participate" in an external study records the response and sends the family to the study's
// site with Lookit's parameters.
func TestParticipatingInAnExternalStudy(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID int64
	var study, internal, salt string
	_ = pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('External Lab', true) RETURNING id`).Scan(&labID)
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years, metadata)
		VALUES ('Elsewhere', $1, 2, 'active', 9, '{"url":"https://lab.example.org/run?lang=en"}') RETURNING uuid::text, salt::text`, labID).Scan(&study, &salt)
	_ = pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_age_years) VALUES ('Here', $1, 1, 'active', 9) RETURNING uuid::text`, labID).Scan(&internal)
	fam := role{name: "external-family"}
	famID := newUser(t, pool, 0, fam)
	var child string
	_ = pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 90, 'f') RETURNING uuid::text`, famID).Scan(&child)
	_, _ = pool.Exec(ctx, `INSERT INTO demographic_data (user_id) VALUES ($1)`, famID)
	post := func(studyID, body string) (int, map[string]any) {
		req := httptest.NewRequest("POST", "/api/public/studies/"+studyID+"/participate", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		credential(t, pool, famID, fam)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	code, out := post(study, `{"child":"`+child+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("participate: %d %v", code, out)
	}
	hash := hashedid.Of(uuid.MustParse(child), uuid.MustParse(study), uuid.MustParse(salt), 6)
	want := "https://lab.example.org/run?child=" + hash + "&lang=en&response=" + out["response_id"].(string)
	if out["redirect_url"] != want {
		t.Errorf("redirect %v, want %s", out["redirect_url"], want)
	}
	var method *string
	var elig []string
	if err := pool.QueryRow(ctx, `SELECT recording_method, eligibility FROM responses WHERE uuid = $1`, out["response_id"]).Scan(&method, &elig); err != nil || method != nil || elig[0] != "Eligible" {
		t.Errorf("stored: %v %v %v", method, elig, err)
	}
	if code, out := post(internal, `{"child":"`+child+`"}`); code != http.StatusConflict {
		t.Errorf("an internal study: %d %v", code, out)
	}
	if code, out := post(study, `{"child":"not-a-child"}`); code != http.StatusBadRequest || errorPointer(out) != "/child" {
		t.Errorf("unknown child: %d %v", code, out)
	}
}
