package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/studies"
)

func TestEditingAnApprovedStudyTakesItOfflineAndSaysSo(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &postgres.Studies{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	owner := researcher(t, pool, "edit-owner", false)
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Edit Lab ' || $1, true) RETURNING id`, run).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	in := studies.Input{Name: "Looking study", Structure: json.RawMessage(`{"frames":{"a":{"kind":"exp-lookit-text"}},"sequence":["a"],"exact_text":"v1"}`),
		Metadata:    json.RawMessage(`{"player_repo_url":"https://github.com/lookit/ember-lookit-frameplayer","last_known_player_sha":"0123456789abcdef0123456789abcdef01234567"}`),
		MaxAgeYears: 2, DisplayFullScreen: true}
	id, err := s.Create(ctx, owner.id, labID, studies.Frameplayer, in)
	if err != nil {
		t.Fatal(err)
	}
	studyID, _, _ := s.ID(ctx, id)
	setState := func(state string, built bool) {
		if _, err := pool.Exec(ctx, `UPDATE studies SET state = $2, built = $3 WHERE id = $1`, studyID, state, built); err != nil {
			t.Fatal(err)
		}
	}
	get := func() (string, bool) {
		r, err := s.Find(ctx, studyID)
		if err != nil {
			t.Fatal(err)
		}
		return r.State, r.Built
	}

	// Only the editor's raw text changed: the protocol is the same, the study stays live.
	setState("active", true)
	edit := in
	edit.Structure = json.RawMessage(`{"sequence":["a"],"frames":{"a":{"kind":"exp-lookit-text"}},"exact_text":"v2"}`)
	if mails, err := s.Update(ctx, owner.id, studyID, edit); err != nil || len(mails) != 0 {
		t.Fatalf("exact_text edit: %v %v", mails, err)
	}
	if state, built := get(); state != "active" || !built {
		t.Errorf("after an exact_text edit: %s built=%v", state, built)
	}
	// A fields families do not see (priority) changes nothing either.
	edit.Priority = 5
	if mails, err := s.Update(ctx, owner.id, studyID, edit); err != nil || len(mails) != 0 {
		t.Fatalf("priority edit: %v %v", mails, err)
	}

	// Renaming an active study takes it offline, logs why and emails its researchers.
	edit.Name = "Looking study, renamed"
	mails, err := s.Update(ctx, owner.id, studyID, edit)
	if err != nil || len(mails) != 1 || mails[0].Kind != "study_modified" || mails[0].To[0] != owner.email {
		t.Fatalf("rename: %+v %v", mails, err)
	}
	if state, _ := get(); state != "rejected" {
		t.Errorf("after renaming an active study: %s", state)
	}
	var reason string
	_ = pool.QueryRow(ctx, `SELECT extra->>'modified_fields' FROM study_logs WHERE study_id = $1 AND action = 'rejected'`, studyID).Scan(&reason)
	if reason != `["name"]` {
		t.Errorf("logged fields %q", reason)
	}

	// A new experiment runner commit needs a new build; in a draft it is not monitored.
	setState("created", true)
	edit.Metadata = json.RawMessage(`{"player_repo_url":"https://github.com/lookit/ember-lookit-frameplayer","last_known_player_sha":"fedcba9876543210fedcba9876543210fedcba98"}`)
	if mails, err := s.Update(ctx, owner.id, studyID, edit); err != nil || len(mails) != 0 {
		t.Fatalf("metadata edit of a draft: %v %v", mails, err)
	}
	if state, built := get(); state != "created" || built {
		t.Errorf("after a runner change: %s built=%v", state, built)
	}

	// Bad input names the field.
	bad := edit
	bad.CriteriaExpression = "age_in_days >= "
	if _, err := s.Update(ctx, owner.id, studyID, bad); code(err) != "invalid" {
		t.Errorf("bad criteria: %v", err)
	}
	bad = edit
	bad.Structure = json.RawMessage(`{"frames":{},"sequence":["missing"]}`)
	if _, err := s.Update(ctx, owner.id, studyID, bad); code(err) != "invalid" {
		t.Errorf("bad sequence: %v", err)
	}
}

func TestCloneAndStudyResearchers(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &postgres.Studies{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	owner := researcher(t, pool, "clone-owner", false)
	colleague := researcher(t, pool, "clone-colleague", false)
	outsider := researcher(t, pool, "clone-outsider", false)
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test, contact_email) VALUES ('Clone Lab ' || $1, true, 'clone-' || $1 || '@lab.example.org') RETURNING id`, run).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []person{owner, colleague} {
		if _, err := pool.Exec(ctx, `INSERT INTO lab_members (lab_id, user_id, role) VALUES ($1, $2, 'member')`, labID, p.id); err != nil {
			t.Fatal(err)
		}
	}
	prior, err := s.Create(ctx, owner.id, labID, studies.External, studies.Input{Name: "Earlier study", MaxAgeYears: 3})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Create(ctx, owner.id, labID, studies.External, studies.Input{Name: "Original", MaxAgeYears: 3, Public: true,
		MustNot: []string{prior}, Metadata: json.RawMessage(`{"url":"https://example.org/s"}`)})
	if err != nil {
		t.Fatal(err)
	}
	studyID, _, _ := s.ID(ctx, id)
	if _, err := pool.Exec(ctx, `UPDATE studies SET state = 'active' WHERE id = $1`, studyID); err != nil {
		t.Fatal(err)
	}

	copyUUID, err := s.Clone(ctx, colleague.id, studyID, labID)
	if err != nil {
		t.Fatal(err)
	}
	copyID, _, _ := s.ID(ctx, copyUUID)
	orig, _ := s.Find(ctx, studyID)
	cp, _ := s.Find(ctx, copyID)
	if cp.Name != "Copy of Original" || cp.State != "created" || cp.Public || cp.Salt == orig.Salt || cp.Uuid == orig.Uuid ||
		string(cp.Metadata) != string(orig.Metadata) {
		t.Errorf("clone: %+v", cp)
	}
	if must, mustNot, _ := s.ParticipationRules(ctx, copyID); len(must)+len(mustNot) != 0 {
		t.Errorf("clone copied participation rules: %v %v", must, mustNot)
	}
	if rs, _ := s.Researchers(ctx, copyID); len(rs) != 1 || rs[0].Email != colleague.email || rs[0].Grp != "admin" {
		t.Errorf("clone researchers: %+v", rs)
	}

	// Researchers: lab members only; the last admin stays; the researcher is told.
	if _, err := s.SetResearcher(ctx, owner.id, studyID, outsider.uuid, "analysis"); code(err) != "conflict" {
		t.Errorf("outsider: %v", err)
	}
	mails, err := s.SetResearcher(ctx, owner.id, studyID, colleague.uuid, "analysis")
	if err != nil || len(mails) != 1 || mails[0].To[0] != colleague.email || mails[0].ReplyTo != "clone-"+run+"@lab.example.org" {
		t.Fatalf("add colleague: %+v %v", mails, err)
	}
	if _, err := s.SetResearcher(ctx, owner.id, studyID, owner.uuid, "researcher"); code(err) != "conflict" {
		t.Errorf("demoting the last study admin: %v", err)
	}
	if err := s.RemoveResearcher(ctx, owner.id, studyID, owner.uuid); code(err) != "conflict" {
		t.Errorf("removing the last study admin: %v", err)
	}
	if _, err := s.SetResearcher(ctx, owner.id, studyID, colleague.uuid, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveResearcher(ctx, owner.id, studyID, owner.uuid); err != nil {
		t.Errorf("removing one of two admins: %v", err)
	}
	// Leaving the lab ends access to its studies, but not while one is a study's last admin.
	l := &postgres.Labs{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	if _, err := pool.Exec(ctx, `UPDATE lab_members SET role = 'admin' WHERE lab_id = $1 AND user_id = $2`, labID, owner.id); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Remove(ctx, owner.id, labID, colleague.uuid); code(err) != "conflict" || !strings.Contains(err.Error(), "last admin of") {
		t.Fatalf("removing the last admin of studies from the lab: %v", err)
	}
	if _, err := s.SetResearcher(ctx, colleague.id, studyID, owner.uuid, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetResearcher(ctx, colleague.id, copyID, owner.uuid, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Remove(ctx, owner.id, labID, colleague.uuid); err != nil {
		t.Fatal(err)
	}
	var left int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM study_researchers WHERE user_id = $1`, colleague.id).Scan(&left)
	if left != 0 {
		t.Errorf("%d study memberships after leaving the lab", left)
	}
	// The list counts responses.
	rows, err := s.List(ctx, authz.Subject{UserID: owner.id, Labs: map[int64]authz.LabRole{labID: authz.LabAdmin}}, false)
	if err != nil || len(rows) < 3 {
		t.Fatalf("list: %d %v", len(rows), err)
	}
}

// Two studies naming each other in prior-participation rules, saved at the same moment, must
// both succeed (a FOR UPDATE study lock deadlocked here against the rules' foreign-key checks).
func TestStudiesNamingEachOtherSaveConcurrently(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &postgres.Studies{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	owner := researcher(t, pool, "mutual-owner", false)
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name) VALUES ('Mutual Lab ' || $1) RETURNING id`, run).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	for round := range 15 {
		a, err := s.Create(ctx, owner.id, labID, studies.External, studies.Input{Name: "A", MaxAgeYears: 2})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Create(ctx, owner.id, labID, studies.External, studies.Input{Name: "B", MaxAgeYears: 2})
		if err != nil {
			t.Fatal(err)
		}
		aID, _, _ := s.ID(ctx, a)
		bID, _, _ := s.ID(ctx, b)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]any{{aID, b}, {bID, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Update(ctx, owner.id, pair[0].(int64), studies.Input{Name: "X", MaxAgeYears: 2, MustNot: []string{pair[1].(string)}})
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v / %v", round, errs[0], errs[1])
		}
	}
}

// Lowering the cap of an active study to what it already counts pauses it at once.
func TestLoweringTheCapPausesAnActiveStudy(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &postgres.Studies{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	owner := researcher(t, pool, "lower-owner", false)
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Lower Lab ' || $1, true) RETURNING id`, run).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	in := studies.Input{Name: "Capped", MaxAgeYears: 2, Metadata: json.RawMessage(`{"url":"https://example.org/x"}`)}
	id, err := s.Create(ctx, owner.id, labID, studies.External, in)
	if err != nil {
		t.Fatal(err)
	}
	studyID, _, _ := s.ID(ctx, id)
	if _, err := pool.Exec(ctx, `UPDATE studies SET state = 'active', tallied_responses = 3 WHERE id = $1`, studyID); err != nil {
		t.Fatal(err)
	}
	two := 2
	in.MaxResponses = &two
	mails, err := s.Update(ctx, owner.id, studyID, in)
	if err != nil || len(mails) != 1 || mails[0].Kind != "study_cap_reached" {
		t.Fatalf("lowering the cap: %+v %v", mails, err)
	}
	if r, _ := s.Find(ctx, studyID); r.State != "paused" {
		t.Errorf("state %s, want paused", r.State)
	}
}
