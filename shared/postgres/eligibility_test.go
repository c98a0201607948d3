package postgres_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/eligibility"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/studies"
)

// studies.Decide and the SQL study_eligibility agree on every pair of thousands of generated
// children and studies, prior participation included.
func TestDecideAndSQLAgree(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	today := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	owner := researcher(t, pool, "elig-owner", false)
	var labID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name) VALUES ('Eligibility Lab ' || $1) RETURNING id`, run).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	sources := []string{"", "deaf", "NOT deaf AND speaks_en", "gender = f OR gender = na", "gestational_age_in_weeks < 37",
		"gestational_age_in_weeks = na", "gestational_age_in_weeks != na AND gestational_age_in_weeks >= 24",
		"n_languages >= 2", "age_in_days > 300 AND (multiple_birth OR speaks_fr)", "NOT (gender != m)",
		"gestational_age_in_weeks <= 24 OR dyslexia", "num_languages = 0", "speaks_es AND NOT speaks_en"}

	type study struct {
		id    int64
		typ   studies.Type
		rules studies.Rules
	}
	var ss []study
	for i := 0; i < 40; i++ {
		minY, maxY := rng.IntN(3), 0
		maxY = minY + rng.IntN(3)
		in := studies.Rules{MinDays: eligibility.BoundDays(minY, rng.IntN(12), rng.IntN(32)),
			MaxDays: eligibility.BoundDays(maxY, 11, rng.IntN(32))}
		if in.MinDays > in.MaxDays {
			in.MinDays = in.MaxDays
		}
		src := sources[rng.IntN(len(sources))]
		expr, err := eligibility.Parse(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		in.Criteria = expr
		var ast []byte
		if expr != nil {
			ast, _ = json.Marshal(expr)
		}
		typ := []studies.Type{studies.Frameplayer, studies.External, studies.JSPsych}[rng.IntN(3)]
		var id int64
		// Bounds in days only, so the stored columns give exactly the generated bounds.
		if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, min_age_years, min_age_days, max_age_years, max_age_days, criteria_ast)
			VALUES ('E', $1, $2, $3, $4, $5, $6, $7) RETURNING id`, labID, studies.TypeID(typ),
			in.MinDays/365, 0, in.MaxDays/365, 0, ast).Scan(&id); err != nil {
			t.Fatal(err)
		}
		in.MinDays, in.MaxDays = (in.MinDays/365)*365, (in.MaxDays/365)*365
		ss = append(ss, study{id: id, typ: typ, rules: in})
	}
	// Prior-participation rules between the studies.
	for i := range ss {
		for range rng.IntN(3) {
			other := ss[rng.IntN(len(ss))]
			if other.id == ss[i].id || slices.Contains(ss[i].rules.MustHave, other.id) || slices.Contains(ss[i].rules.MustNot, other.id) {
				continue
			}
			must := rng.IntN(2) == 0
			if must {
				ss[i].rules.MustHave = append(ss[i].rules.MustHave, other.id)
			} else {
				ss[i].rules.MustNot = append(ss[i].rules.MustNot, other.id)
			}
			if _, err := pool.Exec(ctx, `INSERT INTO study_participation_rules (study_id, other_study_id, must_have) VALUES ($1, $2, $3)`, ss[i].id, other.id, must); err != nil {
				t.Fatal(err)
			}
		}
	}

	type child struct {
		id           int64
		c            eligibility.Child
		participated map[int64]bool
	}
	var cs []child
	langs := accounts.AllLanguages()
	for i := 0; i < 300; i++ {
		birthday := today.AddDate(0, 0, -rng.IntN(5*365))
		var ga *int16
		if rng.IntN(4) > 0 {
			v := int16(rng.IntN(18))
			ga = &v
		}
		var conds accounts.Conditions
		for b := range accounts.NumConditions {
			if rng.IntN(4) == 0 {
				conds |= 1 << b
			}
		}
		var ls accounts.Languages
		for range rng.IntN(4) {
			ls |= 1 << rng.IntN(len(langs))
		}
		gender := []string{"m", "f", "o", "na"}[rng.IntN(4)]
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender, gestational_age_at_birth, existing_conditions, languages_spoken)
			VALUES ($1, 'C', $2, $3, $4, $5, $6) RETURNING id`, owner.id, birthday, gender, ga, int64(conds), int64(ls)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ch := child{id: id, c: eligibility.Child{AgeDays: eligibility.AgeDays(birthday, today), Gender: gender, GestationalAge: ga,
			Conditions: conds, Languages: ls}, participated: map[int64]bool{}}
		// Some responses, some of which count as participation.
		for range rng.IntN(4) {
			s := ss[rng.IntN(len(ss))]
			seq := []string{}
			if rng.IntN(2) == 0 {
				seq = []string{"intro"}
			}
			if _, err := pool.Exec(ctx, `INSERT INTO responses (study_id, child_id, study_type_id, sequence, is_preview) VALUES ($1, $2, $3, $4, $5)`,
				s.id, id, studies.TypeID(s.typ), seq, rng.IntN(3) == 0); err != nil {
				t.Fatal(err)
			}
			if studies.Participated(s.typ, len(seq)) {
				ch.participated[s.id] = true
			}
		}
		cs = append(cs, ch)
	}

	studyIDs := make([]int64, len(ss))
	byStudy := map[int64]study{}
	for i, s := range ss {
		studyIDs[i] = s.id
		byStudy[s.id] = s
	}
	childIDs := make([]int64, len(cs))
	byChild := map[int64]child{}
	for i, c := range cs {
		childIDs[i] = c.id
		byChild[c.id] = c
	}
	rows, err := pool.Query(ctx, `SELECT s.id, c.id, study_eligibility(s.id, c.id, $3)
		FROM studies s, children c WHERE s.id = ANY($1) AND c.id = ANY($2)`, studyIDs, childIDs, today)
	if err != nil {
		t.Fatal(err)
	}
	pairs, eligible, mismatches := 0, 0, 0
	for rows.Next() {
		var sid, cid int64
		var got []string
		if err := rows.Scan(&sid, &cid, &got); err != nil {
			t.Fatal(err)
		}
		c := byChild[cid]
		want := studies.Decide(byStudy[sid].rules, c.c, func(id int64) bool { return c.participated[id] })
		pairs++
		if want[0] == studies.Eligible {
			eligible++
		}
		if !slices.Equal(got, want) {
			mismatches++
			if mismatches <= 5 {
				t.Errorf("study %d child %+v: SQL %v, Go %v", sid, c.c, got, want)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if pairs != len(ss)*len(cs) || mismatches > 0 {
		t.Fatalf("%d pairs of %d, %d mismatches", pairs, len(ss)*len(cs), mismatches)
	}
	// The generated data must exercise both outcomes, or the agreement proves little.
	if eligible == 0 || eligible == pairs {
		t.Errorf("%d of %d pairs eligible: the generator is degenerate", eligible, pairs)
	}
	t.Logf("%d pairs agree, %d eligible", pairs, eligible)
}
