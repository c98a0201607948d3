package postgres_test

import (
	"context"
	"sync"
	"testing"

	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// 50 responses racing for the last 5 places of a capped study: exactly 5 count, the study ends
// paused, and one email is queued.
func TestFiftyResponsesRaceForTheLastFivePlaces(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := &postgres.Studies{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	owner := researcher(t, pool, "cap-owner", false)
	var labID, studyID, childID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Cap Lab ' || $1, true) RETURNING id`, run).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, max_responses, tallied_responses)
		VALUES ('Capped study', $1, 2, 'active', 10, 5) RETURNING id`, labID).Scan(&studyID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'admin')`, studyID, owner.id); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'Kid', '2023-01-01', 'f') RETURNING id`, owner.id).Scan(&childID); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, 50)
	for i := range ids {
		if err := pool.QueryRow(ctx, `INSERT INTO responses (study_id, child_id, study_type_id, eligibility, recording_method)
			VALUES ($1, $2, 2, '{Eligible}', NULL) RETURNING id`, studyID, childID).Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Tally(ctx, id); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var tallied, counted, mails int
	var state string
	if err := pool.QueryRow(ctx, `SELECT tallied_responses, state FROM studies WHERE id = $1`, studyID).Scan(&tallied, &state); err != nil {
		t.Fatal(err)
	}
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM responses WHERE study_id = $1 AND tallied`, studyID).Scan(&counted)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM email_messages WHERE kind = 'study_cap_reached' AND $1 = ANY(to_addresses)`, owner.email).Scan(&mails)
	if tallied != 10 || counted != 5 || state != "paused" || mails != 1 {
		t.Errorf("tallied %d (want 10), newly counted %d (want 5), state %s (want paused), %d emails (want 1)", tallied, counted, state, mails)
	}
	var pauses int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM study_logs WHERE study_id = $1 AND action = 'paused'`, studyID).Scan(&pauses)
	if pauses != 1 {
		t.Errorf("%d pause log entries", pauses)
	}
	// Tallying again changes nothing; a response that stops being valid frees its place.
	for _, id := range ids {
		if _, err := s.Tally(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	var first int64
	_ = pool.QueryRow(ctx, `SELECT id FROM responses WHERE study_id = $1 AND tallied ORDER BY id LIMIT 1`, studyID).Scan(&first)
	if _, err := pool.Exec(ctx, `UPDATE responses SET is_preview = true WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tally(ctx, first); err != nil {
		t.Fatal(err)
	}
	_ = pool.QueryRow(ctx, `SELECT tallied_responses FROM studies WHERE id = $1`, studyID).Scan(&tallied)
	if tallied != 9 {
		t.Errorf("after a response stopped counting: %d, want 9", tallied)
	}
}
