package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// dataStudy is a frameplayer study with a researcher of each group given, and responses.
type dataStudy struct {
	t       *testing.T
	pool    *pgxpool.Pool
	h       http.Handler
	id      int64
	uuid    string
	salt    string
	family  int64
	callers map[string]func(*http.Request)
}

func newDataStudy(t *testing.T, groups ...authz.StudyGroup) *dataStudy {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	d := &dataStudy{t: t, pool: pool, h: httpapi.New(newInstance(t, instance.Value(pool))), callers: map[string]func(*http.Request){}}
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name) VALUES ('Data Lab ' || gen_random_uuid()) RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, max_age_years) VALUES ('Data study', $1, 1, 9)
		RETURNING id, uuid::text, salt::text`, labID).Scan(&d.id, &d.uuid, &d.salt); err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		r := role{name: "data-" + string(g), researcher: true, twoFactor: true, study: g}
		id := newUser(t, pool, 0, r)
		if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`, d.id, id, g); err != nil {
			t.Fatal(err)
		}
		d.callers[string(g)] = credential(t, pool, id, r)
	}
	d.family = newUser(t, pool, 0, role{name: "data-family"})
	return d
}

// response adds a response of a new child: consent frame completed or not, the newest ruling
// ("" for none), ruled daysAgo days ago, preview or real. It returns the response and child uuids.
func (d *dataStudy) response(consentFrame bool, ruling string, rulingDaysAgo int, preview, completed bool) (string, string) {
	d.t.Helper()
	var resp, child string
	if err := d.pool.QueryRow(context.Background(), `
		WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'Kid', current_date - 400, 'f') RETURNING id, uuid),
		     r AS (INSERT INTO responses (study_id, child_id, study_type_id, completed_consent_frame, is_preview, completed, created_at)
		           SELECT $2, c.id, 1, $3, $4, $5, clock_timestamp() FROM c RETURNING id, uuid),
		     cr AS (INSERT INTO consent_rulings (response_id, action, created_at)
		            SELECT r.id, $6, now() - make_interval(days => $7) FROM r WHERE $6 <> '')
		SELECT r.uuid::text, c.uuid::text FROM r, c`, d.family, d.id, consentFrame, preview, completed, ruling, rulingDaysAgo).Scan(&resp, &child); err != nil {
		d.t.Fatal(err)
	}
	return resp, child
}

// call makes a request as who, decodes a successful answer into out, and returns the status.
func (d *dataStudy) call(who, method, path string, body any, out any) int {
	d.t.Helper()
	rec := d.raw(who, method, path, body)
	if out != nil && rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			d.t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body.String())
		}
	}
	return rec.Code
}

func ids(items []appapi.ResponseSummary) []string {
	out := make([]string, len(items))
	for i, r := range items {
		out[i] = r.Id.String()
	}
	return out
}

func TestResearcherResponseViews(t *testing.T) {
	d := newDataStudy(t, authz.GroupResearcher, authz.GroupPreview, authz.GroupDesign)
	older, olderChild := d.response(true, "accepted", 30, false, false)
	pending, _ := d.response(true, "", 0, false, true)
	rejected, _ := d.response(true, "rejected", 1, false, true)
	noConsentFrame, _ := d.response(false, "", 0, false, true)
	preview, _ := d.response(true, "accepted", 0, true, true)
	newest, _ := d.response(true, "accepted", 0, false, true)
	base := "/api/studies/" + d.uuid

	// Real data: consented responses only, newest first, one page at a time.
	var page appapi.ResponsePage
	if c := d.call("researcher", "GET", base+"/responses?limit=1", nil, &page); c != 200 || !slices.Equal(ids(page.Items), []string{newest}) || page.NextCursor == nil {
		t.Fatalf("first page: %d %v", c, ids(page.Items))
	}
	var page2 appapi.ResponsePage
	d.call("researcher", "GET", base+"/responses?limit=1&cursor="+url.QueryEscape(*page.NextCursor), nil, &page2)
	if !slices.Equal(ids(page2.Items), []string{older}) || page2.NextCursor != nil {
		t.Fatalf("second page: %v %v", ids(page2.Items), page2.NextCursor)
	}
	d.call("researcher", "GET", base+"/responses?sort=created_at", nil, &page)
	if !slices.Equal(ids(page.Items), []string{older, newest}) {
		t.Errorf("oldest first: %v", ids(page.Items))
	}
	for _, hidden := range []string{pending, rejected, noConsentFrame, preview} {
		if slices.Contains(ids(page.Items), hidden) {
			t.Errorf("response %s shown in real data", hidden)
		}
	}
	// Filters: completed, and the child's hashed id as researchers see it in their data.
	d.call("researcher", "GET", base+"/responses?completed=false", nil, &page)
	if !slices.Equal(ids(page.Items), []string{older}) {
		t.Errorf("completed=false: %v", ids(page.Items))
	}
	hash := hashedid.Of(uuid.MustParse(olderChild), uuid.MustParse(d.uuid), uuid.MustParse(d.salt), 6)
	d.call("researcher", "GET", base+"/responses?child="+hash, nil, &page)
	if !slices.Equal(ids(page.Items), []string{older}) || page.Items[0].ChildHashedId != hash {
		t.Errorf("child=%s: %+v", hash, page.Items)
	}
	d.call("researcher", "GET", base+"/responses?child=nosuch", nil, &page)
	if len(page.Items) != 0 {
		t.Errorf("an unknown child hash matched %v", ids(page.Items))
	}
	if c := d.call("researcher", "GET", base+"/responses?payment_status=bribed", nil, nil); c != 400 {
		t.Errorf("bad payment status: %d", c)
	}
	if c := d.call("researcher", "GET", base+"/responses?cursor=garbage", nil, nil); c != 400 {
		t.Errorf("bad cursor: %d", c)
	}

	// Preview data with the preview permission; real data without the analysis permission is
	// refused; the design group has preview permission too.
	if c := d.call("preview", "GET", base+"/responses?preview=true", nil, &page); c != 200 || !slices.Equal(ids(page.Items), []string{preview}) {
		t.Errorf("preview list: %d %v", c, ids(page.Items))
	}
	if c := d.call("preview", "GET", base+"/responses", nil, nil); c != 403 {
		t.Errorf("real data for the preview group: %d", c)
	}
	if c := d.call("preview", "GET", "/api/responses/"+newest, nil, nil); c != 403 {
		t.Errorf("a real response for the preview group: %d", c)
	}

	// Detail: consented responses only; others are not found.
	var detail appapi.ResponseDetail
	if c := d.call("researcher", "GET", "/api/responses/"+older, nil, &detail); c != 200 || len(detail.Rulings) != 1 || detail.Rulings[0].Action != "accepted" {
		t.Errorf("detail: %d %+v", c, detail)
	}
	for _, r := range []string{pending, rejected, noConsentFrame, "not-a-uuid", uuid.NewString()} {
		if c := d.call("researcher", "GET", "/api/responses/"+r, nil, nil); c != 404 {
			t.Errorf("detail of %s: %d, want 404", r, c)
		}
	}

	// Researcher fields: the feedback permission; bad values name the field.
	var fields appapi.ResearcherFields
	if c := d.call("researcher", "PATCH", "/api/responses/"+older, map[string]any{"star": true, "payment_status": "to_pay"}, &fields); c != 200 || fields.Star == nil || !*fields.Star || *fields.PaymentStatus != "to_pay" {
		t.Errorf("set fields: %d %+v", c, fields)
	}
	d.call("researcher", "GET", base+"/responses?star=true&payment_status=to_pay", nil, &page)
	if !slices.Equal(ids(page.Items), []string{older}) {
		t.Errorf("star filter: %v", ids(page.Items))
	}
	if c := d.call("researcher", "PATCH", "/api/responses/"+older, map[string]any{"session_status": "partying"}, nil); c != 400 {
		t.Errorf("bad session status: %d", c)
	}
	if c := d.call("design", "PATCH", "/api/responses/"+older, map[string]any{"star": false}, nil); c != 403 {
		t.Errorf("design group set fields: %d", c)
	}
}

func TestConsentManager(t *testing.T) {
	d := newDataStudy(t, authz.GroupResearcher, authz.GroupPreview, authz.GroupAnalysis)
	oldAccepted, _ := d.response(true, "accepted", 30, false, true)
	pending, _ := d.response(true, "", 0, false, true)
	rejected, _ := d.response(true, "rejected", 1, false, true)
	d.response(false, "", 0, false, true) // no consent frame: nothing to rule on
	preview, _ := d.response(true, "", 0, true, true)
	base := "/api/studies/" + d.uuid

	entries := func(who, query string) []string {
		t.Helper()
		var page appapi.ConsentPage
		if c := d.call(who, "GET", base+"/consent"+query, nil, &page); c != 200 {
			t.Fatalf("consent%s as %s: %d", query, who, c)
		}
		var out []string
		for _, e := range page.Items {
			out = append(out, e.ResponseId.String()+"="+string(e.Ruling))
		}
		return out
	}
	if got := entries("researcher", ""); !slices.Equal(got, []string{rejected + "=rejected", pending + "=pending", oldAccepted + "=accepted"}) {
		t.Errorf("consent manager: %v", got)
	}
	// Lookit's three-week rule is a filter: the old acceptance is hidden, not lost.
	if got := entries("researcher", "?hide_accepted_older_than_days=21"); slices.Contains(got, oldAccepted+"=accepted") || len(got) != 2 {
		t.Errorf("hiding old acceptances: %v", got)
	}
	if got := entries("researcher", "?ruling=pending"); !slices.Equal(got, []string{pending + "=pending"}) {
		t.Errorf("pending only: %v", got)
	}
	// Consent rulings on previews with the preview-consent permission; analysts have no CC.
	if got := entries("preview", "?preview=true"); !slices.Equal(got, []string{preview + "=pending"}) {
		t.Errorf("preview consent: %v", got)
	}
	if c := d.call("analysis", "GET", base+"/consent", nil, nil); c != 403 {
		t.Errorf("analyst read the consent manager: %d", c)
	}

	// Rule: accept the pending one, comment on the rejected one (its ruling stands), and try the
	// preview response as real data (skipped).
	var rec appapi.ConsentRulingsRecorded
	body := map[string]any{"rulings": []map[string]any{
		{"response_id": pending, "action": "accepted", "comment": "Clear consent."},
		{"response_id": rejected, "action": "", "comment": "Parent not visible."},
		{"response_id": preview, "action": "accepted"},
	}}
	if c := d.call("researcher", "POST", base+"/consent", body, &rec); c != 200 || rec.Recorded != 2 {
		t.Fatalf("rule: %d %+v", c, rec)
	}
	if got := entries("researcher", ""); !slices.Equal(got, []string{rejected + "=rejected", pending + "=accepted", oldAccepted + "=accepted"}) {
		t.Errorf("after ruling: %v", got)
	}
	// The newly accepted response reaches the data views.
	var page appapi.ResponsePage
	d.call("researcher", "GET", base+"/responses", nil, &page)
	if !slices.Contains(ids(page.Items), pending) {
		t.Errorf("accepted response not in the data: %v", ids(page.Items))
	}
	var detail appapi.ResponseDetail
	d.call("researcher", "GET", "/api/responses/"+pending, nil, &detail)
	if len(detail.Rulings) != 1 || detail.Rulings[0].Comments != "Clear consent." || detail.Rulings[0].Arbiter == "" {
		t.Errorf("ruling history: %+v", detail.Rulings)
	}
	// Bad input names the field; the preview group cannot rule on real data.
	for _, b := range []map[string]any{
		{"rulings": []map[string]any{{"response_id": pending, "action": "maybe"}}},
		{"rulings": []map[string]any{{"response_id": pending, "action": ""}}},
		{"rulings": []map[string]any{}},
	} {
		if c := d.call("researcher", "POST", base+"/consent", b, nil); c != 400 {
			t.Errorf("%v: %d, want 400", b, c)
		}
	}
	if c := d.call("preview", "POST", base+"/consent", body, nil); c != 403 {
		t.Errorf("preview group ruled on real data: %d", c)
	}
}

// An external study's responses are all listed (there is no consent frame to rule on) and say so.
func TestExternalStudyResponses(t *testing.T) {
	d := newDataStudy(t, authz.GroupResearcher)
	ctx := context.Background()
	if _, err := d.pool.Exec(ctx, `UPDATE studies SET study_type_id = 2 WHERE id = $1`, d.id); err != nil {
		t.Fatal(err)
	}
	var resp string
	if err := d.pool.QueryRow(ctx, `
		WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'Kid', current_date - 400, 'f') RETURNING id)
		INSERT INTO responses (study_id, child_id, study_type_id, completed) SELECT $2, c.id, 2, true FROM c RETURNING uuid::text`,
		d.family, d.id).Scan(&resp); err != nil {
		t.Fatal(err)
	}
	var page appapi.ResponsePage
	if c := d.call("researcher", "GET", "/api/studies/"+d.uuid+"/responses", nil, &page); c != 200 || len(page.Items) != 1 ||
		page.Items[0].Id.String() != resp || page.Items[0].ConsentRuling != "not_applicable" {
		t.Fatalf("external responses: %d %+v", c, page.Items)
	}
	var detail appapi.ResponseDetail
	if c := d.call("researcher", "GET", "/api/responses/"+resp, nil, &detail); c != 200 || detail.ConsentRuling != "not_applicable" {
		t.Errorf("external response: %d %q", c, detail.ConsentRuling)
	}
}
