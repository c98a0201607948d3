package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/gcs"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/runner"
)

const playerRepo = "https://github.com/lookit/ember-lookit-frameplayer"

// runnerSite is a handler whose experiments bucket holds one runner build, and that build's
// commit.
type runnerSite struct {
	h     http.Handler
	pool  *pgxpool.Pool
	store objects.Store
	sha   string
	labID int64
}

func newRunnerSite(t *testing.T) runnerSite {
	t.Helper()
	pool := pgtest.Pool(t)
	srv := fakestorage.NewServer(nil)
	t.Cleanup(srv.Stop)
	in := newInstance(t, instance.Value(pool))
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: in.Config.ExperimentsBucket})
	store := &gcs.Bucket{Client: srv.Client(), Name: in.Config.ExperimentsBucket}
	in.Experiments = instance.Value[objects.Store](store)
	sha := strings.ReplaceAll(uuid.NewString(), "-", "") + "01234567"
	index, err := os.ReadFile("../runner/testdata/index.html")
	if err != nil {
		t.Fatal(err)
	}
	index = []byte(strings.ReplaceAll(string(index), "9e8b47f6d1c2a3b4c5d6e7f8091a2b3c4d5e6f70", sha))
	dist := fstest.MapFS{"index.html": {Data: index}, "assets/vendor-0123456789abcdef.js": {Data: []byte("var v;")}}
	if _, err := runner.Upload(context.Background(), store, dist, sha); err != nil {
		t.Fatal(err)
	}
	if err := postgres.RegisterPlayerBuild(context.Background(), pool, playerRepo, sha, 0); err != nil {
		t.Fatal(err)
	}
	var labID int64
	if err := pool.QueryRow(context.Background(), `INSERT INTO labs (name, approved_to_test) VALUES ($1, true) RETURNING id`,
		"Runner Lab "+uuid.NewString()).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	return runnerSite{h: httpapi.New(in), pool: pool, store: store, sha: sha, labID: labID}
}

// study makes a study of the site's lab; sha "" pins the site's build.
func (s runnerSite) study(t *testing.T, typ int, state, sha string, shared bool) (int64, string) {
	t.Helper()
	if sha == "" {
		sha = s.sha
	}
	meta, _ := json.Marshal(map[string]string{"player_repo_url": playerRepo, "last_known_player_sha": sha})
	var id int64
	var u string
	if err := s.pool.QueryRow(context.Background(), `INSERT INTO studies (name, lab_id, study_type_id, state, public, built,
		shared_preview, metadata) VALUES ('Runner study', $1, $2, $3, true, true, $4, $5) RETURNING id, uuid::text`,
		s.labID, typ, state, shared, meta).Scan(&id, &u); err != nil {
		t.Fatal(err)
	}
	return id, u
}

func (s runnerSite) child(t *testing.T, userID int64) string {
	t.Helper()
	var c string
	if err := s.pool.QueryRow(context.Background(), `INSERT INTO children (user_id, given_name, birthday, gender)
		VALUES ($1, 'Kid', current_date - 400, 'f') RETURNING uuid::text`, userID).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (s runnerSite) get(t *testing.T, path string, cred func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	cred(req)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func TestParticipatePageServesTheConfiguredRunner(t *testing.T) {
	site := newRunnerSite(t)
	familyRole := role{name: "family"}
	family := newUser(t, site.pool, site.labID, familyRole)
	cred := credential(t, site.pool, family, familyRole)
	child := site.child(t, family)
	_, study := site.study(t, 1, "active", "", false)

	rec := site.get(t, "/studies/"+study+"/"+child+"/", cred)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("participate: %d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	page := rec.Body.Bytes()
	cfg, err := runner.Config(page)
	if err != nil {
		t.Fatal(err)
	}
	var rec3 runner.Recording
	_ = json.Unmarshal(cfg["awsRecording"], &rec3)
	if rec3.Bucket != "lookit-videos" || rec3.AccessKeyID != "local" || rec3.Region != "us-east-1" {
		t.Errorf("awsRecording = %+v: want the deployment's recording settings", rec3)
	}
	if strings.Contains(string(cfg["APP"]), "apiKey") || strings.Contains(string(cfg["APP"]), "localhost:8000") {
		t.Errorf("APP = %s: the development host and key must not reach families", cfg["APP"])
	}
	if !strings.Contains(string(page), `src="/frameplayer/`+site.sha+`/assets/vendor-0123456789abcdef.js"`) {
		t.Errorf("page does not load the build's assets")
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Referrer-Policy") != "same-origin" {
		t.Errorf("headers: %v", rec.Header())
	}
	var csrf *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == httpapi.CSRFCookie {
			csrf = c
		}
	}
	if csrf == nil || csrf.HttpOnly || csrf.Value == "" || csrf.Path != "/" {
		t.Errorf("csrftoken cookie = %+v: the runner reads it from document.cookie", csrf)
	}

	// The runner's own URL has no trailing slash; the page answers it too.
	rec = site.get(t, "/studies/"+study+"/"+child, cred)
	if loc := rec.Header().Get("Location"); rec.Code/100 != 3 || loc != "/studies/"+study+"/"+child+"/" {
		t.Errorf("without the trailing slash: %d to %q; want a redirect to the page", rec.Code, loc)
	}
	// Paths below it get the page; the runner's router shows its own not-found screen.
	if rec := site.get(t, "/studies/"+study+"/"+child+"/extra/", cred); rec.Code != http.StatusOK {
		t.Errorf("sub-path: %d", rec.Code)
	}

	// Another visit reads the cached page, still configured.
	if rec := site.get(t, "/studies/"+study+"/"+child+"/", cred); rec.Code != http.StatusOK || rec.Body.String() != string(page) {
		t.Errorf("second visit: %d", rec.Code)
	}
}

func TestParticipatePageRefusals(t *testing.T) {
	site := newRunnerSite(t)
	familyRole := role{name: "family"}
	family := newUser(t, site.pool, site.labID, familyRole)
	cred := credential(t, site.pool, family, familyRole)
	child := site.child(t, family)
	other := newUser(t, site.pool, site.labID, familyRole)
	otherChild := site.child(t, other)
	_, active := site.study(t, 1, "active", "", false)
	_, paused := site.study(t, 1, "paused", "", false)
	_, unbuilt := site.study(t, 1, "active", strings.Repeat("c", 40), false)
	_, jspsych := site.study(t, 3, "active", "", false)
	_, external := site.study(t, 2, "active", "", false)

	anon := site.get(t, "/studies/"+active+"/"+child+"/", func(*http.Request) {})
	if anon.Code != http.StatusFound || anon.Header().Get("Location") != "/login?next=%2Fstudies%2F"+active+"%2F"+child+"%2F" {
		t.Errorf("anonymous: %d %s; want a redirect to log in and come back", anon.Code, anon.Header().Get("Location"))
	}
	for _, c := range []struct {
		name, path string
		status     int
		says       string
	}{
		{"another family's child", "/studies/" + active + "/" + otherChild + "/", 403, "another family"},
		{"no such child", "/studies/" + active + "/" + uuid.NewString() + "/", 404, ""},
		{"not a uuid", "/studies/" + active + "/nope/", 404, ""},
		{"no such study", "/studies/" + uuid.NewString() + "/" + child + "/", 404, ""},
		{"paused study", "/studies/" + paused + "/" + child + "/", 409, "not accepting participants"},
		{"runner not built", "/studies/" + unbuilt + "/" + child + "/", 503, "not built yet"},
		{"external study", "/studies/" + external + "/" + child + "/", 404, "does not run"},
		{"preview without permission", "/exp/studies/" + paused + "/" + child + "/preview/", 403, ""},
	} {
		rec := site.get(t, c.path, cred)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.says) || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s %q; want %d saying %q", c.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), c.status, c.says)
		}
	}

	// A jsPsych study's link on the runner's route leads to its own page.
	if rec := site.get(t, "/studies/"+jspsych+"/"+child+"/", cred); rec.Code != http.StatusFound ||
		rec.Header().Get("Location") != "/studies/j/"+jspsych+"/"+child+"/" {
		t.Errorf("jsPsych study on the runner's route: %d %s", rec.Code, rec.Header().Get("Location"))
	}

	// A build registered but gone from the bucket: 503, not a broken page.
	if err := site.store.Delete(context.Background(), runner.IndexObject(site.sha)); err != nil {
		t.Fatal(err)
	}
	fresh := newRunnerSite(t) // a new instance: nothing cached
	if err := fresh.store.Delete(context.Background(), runner.IndexObject(fresh.sha)); err != nil {
		t.Fatal(err)
	}
	_, gone := fresh.study(t, 1, "active", "", false)
	if rec := fresh.get(t, "/studies/"+gone+"/"+child+"/", cred); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("index.html missing: %d %s", rec.Code, rec.Body.String())
	}
}

func TestPreviewPage(t *testing.T) {
	site := newRunnerSite(t)
	reader := role{name: "study-design", researcher: true, twoFactor: true, study: "design"}
	outsider := role{name: "researcher", researcher: true, twoFactor: true}
	studyID, study := site.study(t, 1, "created", "", false)
	_, shared := site.study(t, 1, "created", "", true)
	r := newUser(t, site.pool, site.labID, reader)
	if _, err := site.pool.Exec(context.Background(), `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'design')`, studyID, r); err != nil {
		t.Fatal(err)
	}
	o := newUser(t, site.pool, site.labID, outsider)
	readerCred, outsiderCred := credential(t, site.pool, r, reader), credential(t, site.pool, o, outsider)
	readerChild, outsiderChild := site.child(t, r), site.child(t, o)

	if rec := site.get(t, "/exp/studies/"+study+"/"+readerChild+"/preview/", readerCred); rec.Code != http.StatusOK {
		t.Errorf("a study's designer previews a study not yet submitted: %d %s", rec.Code, rec.Body.String())
	}
	if rec := site.get(t, "/studies/"+study+"/"+readerChild+"/", readerCred); rec.Code != http.StatusConflict {
		t.Errorf("the participate page of a study not active: %d", rec.Code)
	}
	if rec := site.get(t, "/exp/studies/"+study+"/"+outsiderChild+"/preview/", outsiderCred); rec.Code != http.StatusForbidden {
		t.Errorf("a researcher outside the study: %d", rec.Code)
	}
	if rec := site.get(t, "/exp/studies/"+shared+"/"+outsiderChild+"/preview/", outsiderCred); rec.Code != http.StatusOK {
		t.Errorf("any researcher previews a study shared for preview: %d %s", rec.Code, rec.Body.String())
	}
	if rec := site.get(t, "/exp/studies/"+study+"/"+outsiderChild+"/preview/", readerCred); rec.Code != http.StatusForbidden {
		t.Errorf("preview with someone else's child: %d", rec.Code)
	}
}

// pageAllowed lists who gets each study page: the participate page with the family's child on an
// active study, the preview page with the caller's own child on a study in design.
var pageAllowed = map[string][]string{
	"Participate":        {"family"},
	"Preview":            readers,
	"ParticipateJsPsych": {"family"},
	"PreviewJsPsych":     readers,
}

// Every study page against every role.
func TestPageRouteMatrix(t *testing.T) {
	site := newRunnerSite(t)
	ctx := context.Background()
	_, active := site.study(t, 1, "active", "", false)
	studyID, inDesign := site.study(t, 1, "created", "", false)
	_, activeJ := site.study(t, 3, "active", "", false)
	studyJ, inDesignJ := site.study(t, 3, "created", "", false)
	users := map[string]int64{}
	for _, r := range roles {
		if r.anonymous {
			continue
		}
		users[r.name] = newUser(t, site.pool, site.labID, r)
		// Everyone can take part: the jsPsych pages create a response, which needs demographics.
		if _, err := site.pool.Exec(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US')`, users[r.name]); err != nil {
			t.Fatal(err)
		}
		if r.study != "" {
			for _, id := range []int64{studyID, studyJ} {
				if _, err := site.pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`,
					id, users[r.name], r.study); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	familyChild := site.child(t, users["family"])
	seen := map[string]bool{}
	for _, rt := range httpapi.PageRoutes() {
		seen[rt.Name] = true
		if pageAllowed[rt.Name] == nil {
			t.Errorf("%s %s (%s) has no row in the page matrix", rt.Method, rt.Path, rt.Name)
			continue
		}
		for _, r := range roles {
			own := familyChild
			if !r.anonymous {
				own = site.child(t, users[r.name])
			}
			path := map[string]string{
				"Participate":        "/studies/" + active + "/" + familyChild + "/",
				"Preview":            "/exp/studies/" + inDesign + "/" + own + "/preview/",
				"ParticipateJsPsych": "/studies/j/" + activeJ + "/" + familyChild + "/",
				"PreviewJsPsych":     "/exp/studies/j/" + inDesignJ + "/" + own + "/preview/",
			}[rt.Name]
			cred := func(*http.Request) {}
			if !r.anonymous {
				cred = credential(t, site.pool, users[r.name], r)
			}
			rec := site.get(t, path, cred)
			denied := rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized ||
				(rec.Code == http.StatusFound && strings.HasPrefix(rec.Header().Get("Location"), "/login?"))
			if want := contains(pageAllowed[rt.Name], r.name); denied == want {
				t.Errorf("%s by %s: %d; want allowed=%v", rt.Name, r.name, rec.Code, want)
			}
			if rec.Code >= 500 {
				t.Errorf("%s by %s: %d %s", rt.Name, r.name, rec.Code, rec.Body.String())
			}
		}
	}
	for name := range pageAllowed {
		if !seen[name] {
			t.Errorf("matrix row %s names no route", name)
		}
	}
}

func TestJsPsychPageCreatesTheVisitsResponse(t *testing.T) {
	site := newRunnerSite(t)
	ctx := context.Background()
	familyRole := role{name: "family"}
	family := newUser(t, site.pool, site.labID, familyRole)
	cred := credential(t, site.pool, family, familyRole)
	child := site.child(t, family)
	studyID, study := site.study(t, 3, "active", "", false)
	code := `const jsPsych = initJsPsych();
const trial = {type: jsPsychHtmlKeyboardResponse, stimulus: "</script><script>alert(1)</script> <!-- x"};
jsPsych.run([trial]);`
	meta, _ := json.Marshal(map[string]string{"experiment": code})
	var salt string
	if err := site.pool.QueryRow(ctx, `UPDATE studies SET metadata = $2, exit_url = 'https://lab.example.org/thanks?from=lookit'
		WHERE id = $1 RETURNING salt::text`, studyID, meta).Scan(&salt); err != nil {
		t.Fatal(err)
	}
	path := "/studies/j/" + study + "/" + child + "/"

	// Without demographics the family is told what to do first; no response is made.
	if rec := site.get(t, path, cred); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "demographic survey") {
		t.Errorf("without demographics: %d %s", rec.Code, rec.Body.String())
	}
	if _, err := site.pool.Exec(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US')`, family); err != nil {
		t.Fatal(err)
	}

	rec := site.get(t, path, cred)
	if rec.Code != http.StatusOK {
		t.Fatalf("jsPsych page: %d %s", rec.Code, rec.Body.String())
	}
	page := rec.Body.String()
	for _, want := range []string{`<script src="/static/jspsych/jspsych.js"></script>`, `<script src="/static/jspsych/lookit-data.js"></script>`,
		`<link rel="stylesheet" href="/static/jspsych/jspsych.css">`, `const jsPsych = initJsPsych();`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	body := page[strings.Index(page, "<body>"):]
	if strings.Count(body, "</script>") != 1 || strings.Contains(body, "<!--") {
		t.Errorf("the study's code can end its script element early:\n%s", body)
	}
	cfgJSON := page[strings.Index(page, `type="application/json">`)+len(`type="application/json">`):]
	cfgJSON = cfgJSON[:strings.Index(cfgJSON, "</script>")]
	var cfg struct {
		Response, Study, Child, API, ExitURL string
		Preview                              bool
	}
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		t.Fatalf("lookit-config: %v: %s", err, cfgJSON)
	}
	if cfg.Study != study || cfg.Child != child || cfg.API != "/api/v2/" || cfg.Preview {
		t.Errorf("lookit-config = %+v", cfg)
	}
	var method, expData string
	var preview bool
	if err := site.pool.QueryRow(ctx, `SELECT recording_method, exp_data::text, is_preview FROM responses r
		JOIN children c ON c.id = r.child_id WHERE r.uuid = $1 AND r.study_id = $2 AND c.uuid = $3`,
		cfg.Response, studyID, child).Scan(&method, &expData, &preview); err != nil {
		t.Fatalf("the visit's response: %v", err)
	}
	if method != "jspsych" || expData != "[]" || preview {
		t.Errorf("response: method %s, exp_data %s, preview %v", method, expData, preview)
	}
	wantHash := hashedid.Of(uuid.MustParse(child), uuid.MustParse(study), uuid.MustParse(salt), 6)
	if cfg.ExitURL != "https://lab.example.org/thanks?child="+wantHash+"&from=lookit&response="+cfg.Response {
		t.Errorf("exit URL %s; want the study's with child=%s and the response", cfg.ExitURL, wantHash)
	}

	// The data client's save: the whole list of trials, through /api/v2/ with the page's cookies.
	save := httptest.NewRequest(http.MethodPatch, "/api/v2/responses/"+cfg.Response+"/", strings.NewReader(
		`{"data":{"type":"responses","id":"`+cfg.Response+`","attributes":{"exp_data":[{"trial_index":0,"trial_type":"html-keyboard-response","rt":512}],"completed":true}}}`))
	save.Header.Set("Content-Type", "application/vnd.api+json")
	cred(save)
	srec := httptest.NewRecorder()
	site.h.ServeHTTP(srec, save)
	if srec.Code != http.StatusOK {
		t.Fatalf("save: %d %s", srec.Code, srec.Body.String())
	}
	var seq []string
	var completed bool
	if err := site.pool.QueryRow(ctx, `SELECT sequence, completed FROM responses WHERE uuid = $1`, cfg.Response).Scan(&seq, &completed); err != nil {
		t.Fatal(err)
	}
	if len(seq) != 1 || seq[0] != "0-html-keyboard-response" || !completed {
		t.Errorf("after the save: sequence %v, completed %v", seq, completed)
	}

	// A reload is a new visit with a new response.
	site.get(t, path, cred)
	var n int
	_ = site.pool.QueryRow(ctx, `SELECT count(*) FROM responses WHERE study_id = $1`, studyID).Scan(&n)
	if n != 2 {
		t.Errorf("%d responses after two visits", n)
	}

	// Not accepting participants: the page says so and makes no response.
	if _, err := site.pool.Exec(ctx, `UPDATE studies SET state = 'paused' WHERE id = $1`, studyID); err != nil {
		t.Fatal(err)
	}
	if rec := site.get(t, path, cred); rec.Code != http.StatusConflict {
		t.Errorf("paused: %d", rec.Code)
	}
	_ = site.pool.QueryRow(ctx, `SELECT count(*) FROM responses WHERE study_id = $1`, studyID).Scan(&n)
	if n != 2 {
		t.Errorf("a paused study's page made a response")
	}

	// A frameplayer study's link on the jsPsych route leads to the runner's page.
	_, fp := site.study(t, 1, "active", "", false)
	if rec := site.get(t, "/studies/j/"+fp+"/"+child+"/", cred); rec.Code != http.StatusFound || rec.Header().Get("Location") != "/studies/"+fp+"/"+child+"/" {
		t.Errorf("frameplayer study on the jsPsych route: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

func TestJsPsychPreviewMakesAPreviewResponse(t *testing.T) {
	site := newRunnerSite(t)
	ctx := context.Background()
	reader := role{name: "study-design", researcher: true, twoFactor: true, study: "design"}
	studyID, study := site.study(t, 3, "created", "", false)
	r := newUser(t, site.pool, site.labID, reader)
	if _, err := site.pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'design')`, studyID, r); err != nil {
		t.Fatal(err)
	}
	if _, err := site.pool.Exec(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US')`, r); err != nil {
		t.Fatal(err)
	}
	rec := site.get(t, "/exp/studies/j/"+study+"/"+site.child(t, r)+"/preview/", credential(t, site.pool, r, reader))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"preview":true`) {
		t.Fatalf("preview: %d %s", rec.Code, rec.Body.String())
	}
	var preview bool
	if err := site.pool.QueryRow(ctx, `SELECT is_preview FROM responses WHERE study_id = $1`, studyID).Scan(&preview); err != nil || !preview {
		t.Errorf("preview response: %v %v", preview, err)
	}
}
