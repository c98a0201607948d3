package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/eligibility"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

const (
	benchFamilies = 100_000
	benchStudies  = 30
)

// BenchmarkAnnouncements times one run of the announcements job over 100,000 families (1 or 2
// children each, aged 0 to 10 years, some opted out, deleted or with past responses, most with
// an earlier announcement) and 30 active public studies of varied age ranges, criteria and
// participation rules, at the default cap of 50 families per study. "ours" is the whole job
// (lock, choice, recording, emails built in Go and copied into the outbox, in one transaction);
// "ceiling" is counting the eligible (child, study) pairs alone, which no implementation avoids.
// Each email is one SendGrid request (one family, its own text), so emails is also requests.
func BenchmarkAnnouncements(b *testing.B) {
	pool := pgtest.Pool(b)
	ctx := context.Background()
	tag := uuid.NewString()[:8]
	start := time.Now()
	studyIDs := seedAnnouncements(b, ctx, pool, tag)
	b.Logf("seeded %d families and %d studies in %s", benchFamilies, benchStudies, time.Since(start).Round(time.Millisecond))
	b.Cleanup(func() {
		// Nothing of this stays announceable for later benchmarks or tests in the process.
		_, _ = pool.Exec(ctx, `UPDATE studies SET state = 'archived' WHERE id = ANY($1)`, studyIDs)
		_, _ = pool.Exec(ctx, `UPDATE users SET email_new_studies = false WHERE email LIKE 'bench-' || $1 || '-%'`, tag)
	})

	b.Run("ours", func(b *testing.B) {
		a := &postgres.Announcements{PerStudy: 50, BaseURL: "https://lookit.example.org", From: "bot@example.org"}
		var emails, families, children int
		var took time.Duration
		for b.Loop() {
			b.StopTimer()
			forgetBenchAnnouncements(b, ctx, pool, studyIDs)
			b.StartTimer()
			t0 := time.Now()
			var out map[string]any
			err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
				var err error
				out, err = a.Run(ctx, tx)
				return err
			})
			took = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			emails, families, children = num(out, "emails"), num(out, "families"), num(out, "children")
			if emails == 0 || out["skipped"] != nil {
				b.Fatalf("the run announced nothing: %v", out)
			}
		}
		b.ReportMetric(benchFamilies, "families")
		b.ReportMetric(float64(families), "families-emailed")
		b.ReportMetric(float64(children), "children-announced")
		b.ReportMetric(float64(emails), "emails")
		b.ReportMetric(took.Seconds(), "s/run")
	})
	b.Run("ceiling", func(b *testing.B) {
		var pairs int
		for b.Loop() {
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM studies s JOIN children c
				ON c.birthday BETWEEN current_date - (s.max_age_years * 365 + s.max_age_months * 30 + s.max_age_days)
				                  AND current_date - (s.min_age_years * 365 + s.min_age_months * 30 + s.min_age_days)
				WHERE s.id = ANY($1) AND NOT c.deleted
				  AND (s.criteria_ast IS NULL OR criteria_matches(s.criteria_ast, current_date - c.birthday, c.gender,
				       c.gestational_age_at_birth, c.existing_conditions, c.languages_spoken))`, studyIDs).Scan(&pairs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(pairs), "eligible-pairs")
	})
}

// forgetBenchAnnouncements undoes the timed runs (not the seeded history), so that every timed
// run starts from the same state.
func forgetBenchAnnouncements(b *testing.B, ctx context.Context, pool *pgxpool.Pool, studyIDs []int64) {
	b.Helper()
	if _, err := pool.Exec(ctx, `WITH gone AS (DELETE FROM study_announcements
			WHERE study_id = ANY($1) AND created_at > now() - interval '1 day' RETURNING email_id)
		DELETE FROM email_messages WHERE id IN (SELECT email_id FROM gone)`, studyIDs); err != nil {
		b.Fatal(err)
	}
}

// seedAnnouncements makes the benchmark's families, children, studies and responses, set-based,
// and returns the studies' ids.
func seedAnnouncements(b *testing.B, ctx context.Context, pool *pgxpool.Pool, tag string) []int64 {
	b.Helper()
	criteria := []string{"", "", "speaks_en", "NOT deaf", "gestational_age_in_weeks >= 37 OR gestational_age_in_weeks = na",
		"n_languages >= 2", "gender = f OR gender = m", "age_in_days > 200 AND NOT multiple_birth"}
	var ids []int64
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		var lab int64
		if err := tx.QueryRow(ctx, `INSERT INTO labs (name, contact_email, approved_to_test) VALUES ('Bench Lab ' || $1, 'bench-' || $1 || '@lab.example.org', true) RETURNING id`,
			tag).Scan(&lab); err != nil {
			return err
		}
		for i := range benchStudies {
			// Ranges from a few months to several years wide, starting anywhere in 0 to 7 years.
			minY, minM := (i*5)%8, (i*7)%12
			maxY, maxM := min(minY+1+i%4, 18), (i*11)%12
			var ast []byte
			if src := criteria[i%len(criteria)]; src != "" {
				expr, err := eligibility.Parse(src)
				if err != nil {
					return err
				}
				ast, _ = json.Marshal(expr)
			}
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, short_description, criteria_ast,
					min_age_years, min_age_months, max_age_years, max_age_months)
				VALUES ($1, $2, $3, 'active', true, 'A study of how children learn.', $4, $5, $6, $7, $8) RETURNING id`,
				fmt.Sprintf("Bench study %d %s", i, tag), lab, 1+i%3, ast, minY, minM, maxY, maxM).Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		// A few studies want children who have not taken part in the one before.
		for i := 1; i < benchStudies; i += 6 {
			if _, err := tx.Exec(ctx, `INSERT INTO study_participation_rules (study_id, other_study_id, must_have) VALUES ($1, $2, false)`, ids[i], ids[i-1]); err != nil {
				return err
			}
		}
		// Reproducible randomness for this transaction's session.
		if _, err := tx.Exec(ctx, `SELECT setseed(0.42)`); err != nil {
			return err
		}
		// One family in ten opted out, one in a hundred is inactive.
		if _, err := tx.Exec(ctx, `INSERT INTO users (email, nickname, email_verified_at, email_new_studies, is_active)
			SELECT 'bench-' || $1 || '-' || g || '@example.org', 'Parent', now(), g % 10 <> 0, g % 100 <> 7
			FROM generate_series(1, $2::integer) g`, tag, benchFamilies); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO children (user_id, given_name, birthday, gender, gestational_age_at_birth,
				existing_conditions, languages_spoken, deleted)
			SELECT u.id, 'Kid' || k, current_date - (random() * 3650)::integer, (ARRAY['m','f','o','na'])[1 + (random() * 3)::integer],
			       CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 17)::smallint END,
			       CASE WHEN random() < 0.1 THEN (random() * 31)::bigint ELSE 0 END,
			       CASE WHEN random() < 0.7 THEN 1 ELSE (random() * 63)::bigint END,
			       random() < 0.01
			FROM users u, generate_series(1, 1 + (u.id % 2)::integer) k
			WHERE u.email LIKE 'bench-' || $1 || '-%'`, tag); err != nil {
			return err
		}
		// One child in twenty took part in some study.
		if _, err := tx.Exec(ctx, `INSERT INTO responses (study_id, child_id, study_type_id, sequence)
			SELECT s.id, c.id, s.study_type_id, ARRAY['intro']
			FROM (SELECT c.id, ($2::bigint[])[1 + (random() * ($3 - 1))::integer] AS study_id FROM children c
			      JOIN users u ON u.id = c.user_id WHERE u.email LIKE 'bench-' || $1 || '-%' AND random() < 0.05) c
			JOIN studies s ON s.id = c.study_id`, tag, ids, benchStudies); err != nil {
			return err
		}
		// A history of earlier runs: a pair announced for most children, a month ago.
		if _, err := tx.Exec(ctx, `INSERT INTO study_announcements (child_id, study_id, user_id, email_id, created_at)
			SELECT c.id, ($2::bigint[])[1 + (random() * ($3 - 1))::integer], c.user_id, gen_random_uuid(), now() - interval '30 days'
			FROM children c JOIN users u ON u.id = c.user_id WHERE u.email LIKE 'bench-' || $1 || '-%' AND random() < 0.8
			ON CONFLICT DO NOTHING`, tag, ids, benchStudies); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE users; ANALYZE children; ANALYZE studies; ANALYZE responses; ANALYZE study_announcements`); err != nil {
		b.Fatal(err)
	}
	return ids
}
