package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestFamiliesSeeStudiesTheirChildIsEligibleForAndEligibilityIsStored(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &postgres.Studies{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	parent := researcher(t, pool, "elig-parent", false) // any user can be a parent
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, slug, approved_to_test) VALUES ('Public Lab ' || $1, 'public-' || $1, true) RETURNING id`, run).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()
	child := func(name string, ageDays int, ga any) string {
		var id string
		if err := pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender, gestational_age_at_birth)
			VALUES ($1, $2, $3, 'f', $4) RETURNING uuid::text`, parent.id, name, today.AddDate(0, 0, -ageDays), ga).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	baby := child("Baby", 200, 0) // born under 24 weeks: Lookit's gap read this as "no answer"
	toddler := child("Toddler", 800, nil)
	study := func(name, state string, public bool, maxYears int, ast string, typ int) (int64, string) {
		var id int64
		var u string
		var a any
		if ast != "" {
			a = ast
		}
		if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, max_age_years, criteria_ast)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, uuid::text`, name, labID, typ, state, public, maxYears, a).Scan(&id, &u); err != nil {
			t.Fatal(err)
		}
		return id, u
	}
	infantID, infant := study("Infants", "active", true, 1, "", 2)
	_, preterm := study("Preterm", "active", true, 5, `{"op":"cmp","field":"gestational_age_in_weeks","cmp":"<","value":28}`, 2)
	_, private := study("Private", "active", false, 5, "", 2)
	_, paused := study("Paused", "paused", true, 5, "", 2)
	names := func(childUUID string) []string {
		rows, err := s.PublicStudies(ctx, parent.id, childUUID, "public-"+run)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Uuid)
		}
		return out
	}
	if got := names(""); !slices.Contains(got, infant) || !slices.Contains(got, preterm) || slices.Contains(got, private) || slices.Contains(got, paused) {
		t.Errorf("public list %v", got)
	}
	if got := names(baby); len(got) != 2 {
		t.Errorf("baby (200 days, under 24 weeks): %v, want infants and preterm", got)
	}
	if got := names(toddler); len(got) != 0 {
		t.Errorf("toddler (800 days, no gestational answer): %v, want none", got)
	}
	other := researcher(t, pool, "elig-stranger", false)
	if _, err := s.PublicStudies(ctx, other.id, baby, ""); code(err) != "not_found" {
		t.Errorf("another family's child: %v", err)
	}

	// Without demographics a response is refused with a reason; with them eligibility is stored.
	if _, _, err := s.CreateResponse(ctx, postgres.NewResponse{FamilyID: parent.id, StudyID: infantID, ChildUUID: toddler}); code(err) != "invalid" {
		t.Fatalf("no demographics: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US')`, parent.id); err != nil {
		t.Fatal(err)
	}
	r, _, err := s.CreateResponse(ctx, postgres.NewResponse{FamilyID: parent.id, StudyID: infantID, ChildUUID: toddler})
	if err != nil || !slices.Equal(r.Eligibility, []string{"Ineligible_TooOld"}) {
		t.Fatalf("toddler response: %+v %v", r, err)
	}
	r, _, err = s.CreateResponse(ctx, postgres.NewResponse{FamilyID: parent.id, StudyID: infantID, ChildUUID: baby})
	if err != nil || !slices.Equal(r.Eligibility, []string{"Eligible"}) {
		t.Fatalf("baby response: %+v %v", r, err)
	}
	// An eligible response to an external study counts at once (its creation redone under the
	// study's exclusive lock); the ineligible one does not.
	var tallied bool
	var studyTally, rows int
	_ = pool.QueryRow(ctx, `SELECT r.tallied, s.tallied_responses, (SELECT count(*) FROM responses WHERE study_id = s.id)
		FROM responses r JOIN studies s ON s.id = r.study_id WHERE r.id = $1`, r.ID).Scan(&tallied, &studyTally, &rows)
	if !tallied || studyTally != 1 || rows != 2 {
		t.Errorf("tallied %v, study tally %d, %d responses; want true, 1, 2", tallied, studyTally, rows)
	}
	var snapshot *int64
	var method *string
	_ = pool.QueryRow(ctx, `SELECT demographic_snapshot_id, recording_method FROM responses WHERE id = $1`, r.ID).Scan(&snapshot, &method)
	if snapshot == nil || method != nil {
		t.Errorf("snapshot %v, recording method %v (external studies record none)", snapshot, method)
	}
	if _, _, err := s.CreateResponse(ctx, postgres.NewResponse{FamilyID: other.id, StudyID: infantID, ChildUUID: baby}); code(err) != "invalid" {
		t.Errorf("someone else's child: %v", err)
	}
	pausedID, _, _ := s.ID(ctx, paused)
	if _, _, err := s.CreateResponse(ctx, postgres.NewResponse{FamilyID: parent.id, StudyID: pausedID, ChildUUID: baby}); code(err) != "conflict" {
		t.Errorf("a paused study: %v", err)
	}
}
