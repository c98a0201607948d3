package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

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
