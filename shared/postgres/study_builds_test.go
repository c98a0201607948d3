package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// fakeBuilder is Cloud Build: it accepts each build and counts them.
type fakeBuilder struct {
	mu      sync.Mutex
	started []builds.Request
}

func (f *fakeBuilder) Start(_ context.Context, r builds.Request) (builds.Started, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, r)
	return builds.Started{ID: "cb-" + r.RequestID, LogURL: "https://console.cloud.google.com/cloud-build/builds/cb-" + r.RequestID}, nil
}

type fixedResolver map[string]string

func (f fixedResolver) ResolveRef(_ context.Context, repo, ref string) (string, error) {
	if sha, ok := f[ref]; ok {
		return sha, nil
	}
	return "", apperr.Field("/metadata/last_known_player_sha", "no such branch")
}

// buildStudy makes a frameplayer study pinning ref of the default runner, with an admin who has
// the given email address; it returns the study id.
func buildStudy(t *testing.T, pool *pgxpool.Pool, ref, admin string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := pool.QueryRow(ctx, `WITH l AS (INSERT INTO labs (name) VALUES ('Build Lab ' || gen_random_uuid()) RETURNING id)
		INSERT INTO studies (name, lab_id, study_type_id, max_age_years, metadata)
		SELECT 'Build study ' || $1, l.id, 1, 9, jsonb_build_object('player_repo_url', $2::text, 'last_known_player_sha', $1::text) FROM l
		RETURNING id`, ref, postgres.DefaultPlayerRepo).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if admin != "" {
		if _, err := pool.Exec(ctx, `WITH u AS (INSERT INTO users (email, is_researcher) VALUES ($2, true) RETURNING id)
			INSERT INTO study_researchers (study_id, user_id, grp) SELECT $1, u.id, 'admin' FROM u`, id, admin); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func studyBuildState(t *testing.T, pool *pgxpool.Pool, id int64) (built, building bool, sha string) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `SELECT built, is_building, metadata->>'last_known_player_sha' FROM studies WHERE id = $1`,
		id).Scan(&built, &building, &sha); err != nil {
		t.Fatal(err)
	}
	return built, building, sha
}

func randomSHA() string { return strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "")[:40] }

func TestStudyBuildEndToEnd(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	st := &postgres.Studies{Pool: pool}
	sha := randomSHA()
	a := buildStudy(t, pool, sha, "build-admin-a-"+sha[:8]+"@example.org")
	b := buildStudy(t, pool, sha, "build-admin-b-"+sha[:8]+"@example.org")

	got, err := st.RequestStudyBuild(ctx, a, 0, "lookit-experiments", nil)
	if err != nil || got.State != "building" || got.Request == nil || got.SHA != sha {
		t.Fatalf("first request: %+v %v", got, err)
	}
	if env := got.Request.Env; env["REPO_URL"] != postgres.DefaultPlayerRepo || env["SHA"] != sha || env["BUCKET"] != "lookit-experiments" ||
		got.Request.Subject != "frameplayer:"+sha {
		t.Errorf("build request %+v", got.Request)
	}
	// One build at a time per study.
	if _, err := st.RequestStudyBuild(ctx, a, 0, "lookit-experiments", nil); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("second request while building: %v, want conflict", err)
	}
	// Another study of the same commit waits for the same build.
	if other, err := st.RequestStudyBuild(ctx, b, 0, "lookit-experiments", nil); err != nil || other.State != "building" || other.Request != nil {
		t.Errorf("same commit from another study: %+v %v, want to wait without a new build", other, err)
	}

	// The Builds function takes the request (twice: Pub/Sub redelivers), once.
	fb := &fakeBuilder{}
	svc := &postgres.Builds{Pool: pool, Builder: fb, From: "Lookit <lookit-bot@example.org>"}
	for range 2 {
		if _, err := svc.Start(ctx, *got.Request); err != nil {
			t.Fatal(err)
		}
	}
	if len(fb.started) != 1 {
		t.Fatalf("%d Cloud Build builds for one request, want 1", len(fb.started))
	}
	buildID := "cb-" + got.Request.RequestID
	if _, mails, err := svc.RecordStatus(ctx, postgres.Status{BuildID: buildID, Status: builds.StatusWorking}); err != nil || len(mails) != 0 {
		t.Fatalf("WORKING: %v %v", mails, err)
	}
	applied, mails, err := svc.RecordStatus(ctx, postgres.Status{BuildID: buildID, Status: builds.StatusSuccess})
	if err != nil || !applied || len(mails) != 2 {
		t.Fatalf("SUCCESS: applied %v, %d emails, %v; want applied and one email per study", applied, len(mails), err)
	}
	for _, m := range mails {
		if m.Kind != "runner_built" || len(m.To) != 1 || !strings.Contains(m.Subject, "Build study") {
			t.Errorf("email %+v", m)
		}
	}
	for _, id := range []int64{a, b} {
		if built, building, _ := studyBuildState(t, pool, id); !built || building {
			t.Errorf("study %d after SUCCESS: built %v building %v", id, built, building)
		}
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM study_logs WHERE study_id = $1 AND action = 'deployed'`, id).Scan(&n)
		if n != 1 {
			t.Errorf("study %d: %d 'deployed' log entries, want 1", id, n)
		}
	}
	// The same status again (redelivered) changes nothing and emails nobody.
	if applied, mails, err := svc.RecordStatus(ctx, postgres.Status{BuildID: buildID, Status: builds.StatusSuccess}); applied || len(mails) != 0 || err != nil {
		t.Errorf("redelivered SUCCESS: applied %v, %d emails, %v", applied, len(mails), err)
	}
	// A third study of that commit is built at once, with no build.
	c := buildStudy(t, pool, sha, "")
	if got, err := st.RequestStudyBuild(ctx, c, 0, "lookit-experiments", nil); err != nil || got.State != "built" || got.Request != nil {
		t.Errorf("a built commit: %+v %v", got, err)
	}
	if built, building, _ := studyBuildState(t, pool, c); !built || building {
		t.Errorf("study of a built commit: built %v building %v", built, building)
	}
}

func TestStudyBuildFailureAndRetry(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	st := &postgres.Studies{Pool: pool}
	sha := randomSHA()
	admin := "build-admin-f-" + sha[:8] + "@example.org"
	id := buildStudy(t, pool, sha, admin)
	got, err := st.RequestStudyBuild(ctx, id, 0, "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := &postgres.Builds{Pool: pool, Builder: &fakeBuilder{}, From: "Lookit <lookit-bot@example.org>"}
	if _, err := svc.Start(ctx, *got.Request); err != nil {
		t.Fatal(err)
	}
	const logURL = "https://console.cloud.google.com/cloud-build/builds/x"
	_, mails, err := svc.RecordStatus(ctx, postgres.Status{BuildID: "cb-" + got.Request.RequestID, Status: builds.StatusFailure, LogURL: logURL})
	if err != nil || len(mails) != 1 || mails[0].Kind != "runner_build_failed" || !strings.Contains(mails[0].Text, logURL) || mails[0].To[0] != admin {
		t.Fatalf("FAILURE: %+v %v; want one email to the admin with the log", mails, err)
	}
	// Both parts: the HTML one links the log.
	if !strings.Contains(mails[0].HTML, `<a href="`+logURL+`"`) {
		t.Errorf("HTML part %q does not link the log", mails[0].HTML)
	}
	if built, building, _ := studyBuildState(t, pool, id); built || building {
		t.Errorf("after FAILURE: built %v building %v", built, building)
	}
	var state, storedLog string
	if err := pool.QueryRow(ctx, `SELECT state, log_url FROM player_builds WHERE sha = $1`, sha).Scan(&state, &storedLog); err != nil || state != "failed" || storedLog != logURL {
		t.Errorf("player build %s %s %v", state, storedLog, err)
	}
	// Asking again builds again.
	if again, err := st.RequestStudyBuild(ctx, id, 0, "b", nil); err != nil || again.Request == nil || again.Request.RequestID == got.Request.RequestID {
		t.Errorf("after a failure: %+v %v, want a new build", again, err)
	}
}

func TestStudyBuildResolvesABranchOnce(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	st := &postgres.Studies{Pool: pool}
	sha := randomSHA()
	id := buildStudy(t, pool, "main", "")
	got, err := st.RequestStudyBuild(ctx, id, 0, "b", fixedResolver{"main": sha})
	if err != nil || got.SHA != sha || got.Request.Env["SHA"] != sha {
		t.Fatalf("branch build: %+v %v", got, err)
	}
	if _, _, stored := studyBuildState(t, pool, id); stored != sha {
		t.Errorf("the study pins %q after resolving, want %s", stored, sha)
	}
	// A branch GitHub does not know is the study's problem, not a server error.
	other := buildStudy(t, pool, "no-such-branch", "")
	if _, err := st.RequestStudyBuild(ctx, other, 0, "b", fixedResolver{}); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("unknown branch: %v, want invalid", err)
	}
	// Only frameplayer studies are built.
	var ext int64
	if err := pool.QueryRow(ctx, `UPDATE studies SET study_type_id = 2 WHERE id = $1 RETURNING id`, other).Scan(&ext); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RequestStudyBuild(ctx, ext, 0, "b", fixedResolver{}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("external study: %v, want conflict", err)
	}
}

func TestStaleBuildsJob(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	st := &postgres.Studies{Pool: pool}
	// A request whose publication was lost, and a build whose end never arrived.
	lost := buildStudy(t, pool, randomSHA(), "")
	lostReq, err := st.RequestStudyBuild(ctx, lost, 0, "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	stuckSHA := randomSHA()
	stuck := buildStudy(t, pool, stuckSHA, "build-admin-s-"+stuckSHA[:8]+"@example.org")
	stuckReq, err := st.RequestStudyBuild(ctx, stuck, 0, "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&postgres.Builds{Pool: pool, Builder: &fakeBuilder{}}).Start(ctx, *stuckReq.Request); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE builds SET created_at = now() - interval '10 minutes' WHERE request_id = $1`, lostReq.Request.RequestID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE builds SET updated_at = now() - interval '3 hours' WHERE request_id = $1`, stuckReq.Request.RequestID); err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	j := postgres.NewJobs(pool, nil).WithBuilds(func(context.Context) (eventsPublisher, error) { return pub, nil }, "Lookit <lookit-bot@example.org>")
	if _, err := j.Run(ctx, "stale-"+lostReq.Request.RequestID, jobs.Request{Job: jobs.StaleBuilds}); err != nil {
		t.Fatal(err)
	}
	var republished bool
	for _, m := range pub.messages {
		topic, data, _ := strings.Cut(m, " ")
		var r builds.Request
		if topic == "study-builds" && json.Unmarshal([]byte(data), &r) == nil && r.RequestID == lostReq.Request.RequestID && r.Env["SHA"] == lostReq.SHA {
			republished = true
		}
	}
	if !republished {
		t.Errorf("the lost request was not sent again: %v", pub.messages)
	}
	if built, building, _ := studyBuildState(t, pool, stuck); built || building {
		t.Errorf("the stuck build's study: built %v building %v, want freed", built, building)
	}
	var queued int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM email_messages WHERE kind = 'runner_build_failed' AND $1 = ANY(to_addresses)`,
		"build-admin-s-"+stuckSHA[:8]+"@example.org").Scan(&queued); err != nil || queued != 1 {
		t.Errorf("%d failure emails queued for the stuck build's admin (%v), want 1", queued, err)
	}
}

// Pub/Sub delivers at least once: the build request and the final status each arrive twice at
// the same moment; there is one Cloud Build build, one state change and one email per study.
func TestBuildMessagesDeliveredTwiceConcurrently(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	sha := randomSHA()
	admin := "build-admin-c-" + sha[:8] + "@example.org"
	id := buildStudy(t, pool, sha, admin)
	got, err := (&postgres.Studies{Pool: pool}).RequestStudyBuild(ctx, id, 0, "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBuilder{}
	svc := &postgres.Builds{Pool: pool, Builder: fb, From: "Lookit <lookit-bot@example.org>"}
	twice := func(f func() error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			wg.Go(func() { errs <- f() })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	twice(func() error { _, err := svc.Start(ctx, *got.Request); return err })
	if len(fb.started) != 1 {
		t.Fatalf("%d builds for one request delivered twice", len(fb.started))
	}
	var mu sync.Mutex
	emails := 0
	twice(func() error {
		_, mails, err := svc.RecordStatus(ctx, postgres.Status{BuildID: "cb-" + got.Request.RequestID, Status: builds.StatusSuccess})
		mu.Lock()
		emails += len(mails)
		mu.Unlock()
		return err
	})
	var logs, queued int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM study_logs WHERE study_id = $1 AND action = 'deployed'`, id).Scan(&logs)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM email_messages WHERE kind = 'runner_built' AND $1 = ANY(to_addresses)`, admin).Scan(&queued)
	if emails != 1 || logs != 1 || queued != 1 {
		t.Errorf("a SUCCESS delivered twice: %d emails returned, %d log entries, %d emails queued; want 1 of each", emails, logs, queued)
	}
}

type editingResolver struct {
	pool *pgxpool.Pool
	id   int64
	sha  string
}

func (e editingResolver) ResolveRef(ctx context.Context, _, _ string) (string, error) {
	// A researcher repins the study while GitHub answers.
	_, err := e.pool.Exec(ctx, `UPDATE studies SET metadata = jsonb_set(metadata, '{last_known_player_sha}', '"other-branch"') WHERE id = $1`, e.id)
	return e.sha, err
}

func TestStudyBuildKeepsAnEditMadeWhileResolving(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	id := buildStudy(t, pool, "main", "")
	_, err := (&postgres.Studies{Pool: pool}).RequestStudyBuild(ctx, id, 0, "b", editingResolver{pool, id, randomSHA()})
	if apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("build across an edit: %v, want conflict", err)
	}
	if built, building, ref := studyBuildState(t, pool, id); built || building || ref != "other-branch" {
		t.Errorf("after the refused build: built %v building %v pin %q; want the edit kept", built, building, ref)
	}
}
