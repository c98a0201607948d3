package eligibility_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/eligibility"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	agreeChildren    = 3000
	agreeExpressions = 300
)

// TestGoAndSQLAgree evaluates random expressions on random children in Go and with the SQL
// function criteria_matches, set-based: the children and the stored trees go into temporary
// tables and one query evaluates every pair, returning per expression the answers in child order.
func TestGoAndSQLAgree(t *testing.T) {
	pool := pgtest.Pool(t)
	r := rand.New(rand.NewPCG(20261123, 8))
	start := time.Now()

	children := make([]eligibility.Child, agreeChildren)
	for i := range children {
		children[i] = randomChild(r)
	}
	gen := exprGen{r: r, maxDepth: 5}
	var exprs []*eligibility.Expr
	var sources []string
	for len(exprs) < agreeExpressions {
		src := gen.expr()
		e, err := eligibility.Parse(src)
		if err != nil {
			t.Fatalf("generated expression %q does not parse: %v", src, err)
		}
		exprs, sources = append(exprs, e), append(sources, src)
	}
	// The empty expression, stored both as jsonb null (what json.Marshal gives) and as SQL NULL.
	empty, _ := eligibility.Parse("")
	exprs, sources = append(exprs, empty, nil), append(sources, "", "(SQL NULL)")
	coverage(t, exprs)

	childRows := make([][]any, len(children))
	for i, c := range children {
		childRows[i] = []any{i, c.AgeDays, c.Gender, c.GestationalAge, int64(c.Conditions), int64(c.Languages)}
	}
	exprRows := make([][]any, len(exprs))
	for i, e := range exprs {
		var ast any // nil: SQL NULL
		if e != nil {
			j, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			ast = string(j)
		}
		exprRows[i] = []any{i, ast}
	}
	prepared := time.Since(start)

	queryStart := time.Now()
	results, err := evalInSQL(t.Context(), pool, childRows, exprRows, min(runtime.GOMAXPROCS(0), 4))
	if err != nil {
		t.Fatal(err)
	}
	queried := time.Since(queryStart)

	var pairs, trues, mismatches, jsonNulls int
	for id, res := range results {
		// jsonb keeps object keys in its own order: what PostgreSQL gives back must still decode
		// to the same expression.
		var back *eligibility.Expr
		if res.ast != nil {
			if string(res.ast) == "null" {
				jsonNulls++
			}
			if err := json.Unmarshal(res.ast, &back); err != nil {
				t.Fatalf("stored tree %s: %v", res.ast, err)
			}
		}
		if back.String() != exprs[id].String() {
			t.Errorf("stored tree %d decodes to %q, want %q", id, back.String(), exprs[id].String())
		}
		if len(res.answers) != len(children) {
			t.Fatalf("expression %d: %d answers for %d children", id, len(res.answers), len(children))
		}
		for i, got := range res.answers {
			pairs++
			if got == nil {
				t.Fatalf("criteria_matches is NULL for %q on child %s", sources[id], describe(children[i]))
			}
			want := exprs[id].Eval(children[i])
			if want {
				trues++
			}
			if *got != want {
				mismatches++
				if mismatches <= 10 {
					t.Errorf("%q (%s) on %s: Go %v, SQL %v", sources[id], exprs[id], describe(children[i]), want, *got)
				}
			}
		}
	}
	if jsonNulls != 1 {
		t.Errorf("%d trees stored as jsonb null, want 1", jsonNulls)
	}
	if want := len(exprs) * len(children); pairs != want {
		t.Fatalf("compared %d pairs, want %d", pairs, want)
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d pairs disagree", mismatches, pairs)
	}
	// The random expressions are only useful if they split the children.
	if frac := float64(trues) / float64(pairs); frac < 0.1 || frac > 0.9 {
		t.Errorf("%.0f%% of pairs are true: the generator no longer tells Go and SQL apart", 100*frac)
	}
	t.Logf("%d children × %d expressions = %d pairs agree (%.0f%% true); generate %v, SQL %v",
		len(children), len(exprs), pairs, 100*float64(trues)/float64(pairs), prepared.Round(time.Millisecond), queried.Round(time.Millisecond))
}

// sqlResult is what PostgreSQL says about one expression: the tree as it stored it and
// criteria_matches for every child, in child order.
type sqlResult struct {
	ast     []byte
	answers []*bool
}

// evalInSQL evaluates every expression on every child with criteria_matches. The expressions are
// shared out among workers, each on its own connection with its own temporary tables (which
// exist in that session only) and one query, so that more than one server process evaluates.
func evalInSQL(ctx context.Context, pool *pgxpool.Pool, childRows, exprRows [][]any, workers int) ([]sqlResult, error) {
	results := make([]sqlResult, len(exprRows))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		var share [][]any
		for i := w; i < len(exprRows); i += workers {
			share = append(share, exprRows[i])
		}
		wg.Go(func() { errs[w] = evalShare(ctx, pool, childRows, share, results) })
	}
	wg.Wait()
	return results, errors.Join(errs...)
}

// evalShare fills results for its share of the expressions; no two shares hold the same id.
func evalShare(ctx context.Context, pool *pgxpool.Pool, childRows, exprRows [][]any, results []sqlResult) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, sql := range []string{
		`CREATE TEMP TABLE agree_children (id int PRIMARY KEY, age_days int NOT NULL, gender text NOT NULL,
			gestational_age smallint, conditions bigint NOT NULL, languages bigint NOT NULL)`,
		`CREATE TEMP TABLE agree_exprs (id int PRIMARY KEY, ast jsonb)`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create temporary table: %w", err)
		}
	}
	// Dropping the tables hands a clean session back to the pool.
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `DROP TABLE agree_children, agree_exprs`) }()
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"agree_children"},
		[]string{"id", "age_days", "gender", "gestational_age", "conditions", "languages"}, pgx.CopyFromRows(childRows)); err != nil {
		return fmt.Errorf("copy children: %w", err)
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"agree_exprs"}, []string{"id", "ast"}, pgx.CopyFromRows(exprRows)); err != nil {
		return fmt.Errorf("copy expressions: %w", err)
	}
	rows, err := conn.Query(ctx, `
		SELECT e.id, e.ast,
		       array_agg(criteria_matches(e.ast, c.age_days, c.gender, c.gestational_age, c.conditions, c.languages) ORDER BY c.id)
		FROM agree_exprs e CROSS JOIN agree_children c
		GROUP BY e.id`)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	var id int
	var res sqlResult
	_, err = pgx.ForEachRow(rows, []any{&id, &res.ast, &res.answers}, func() error {
		results[id] = res
		res = sqlResult{} // the next row must not share these slices
		return nil
	})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return nil
}

func describe(c eligibility.Child) string {
	ga := "nil"
	if c.GestationalAge != nil {
		ga = accounts.AgeLabel(c.GestationalAge)
	}
	b, _ := json.Marshal(struct {
		Age        int
		Gender     string
		Gest       string
		Conditions string
		Languages  string
	}{c.AgeDays, c.Gender, ga, c.Conditions.String(), c.Languages.String()})
	return string(b)
}

func coverage(t *testing.T, exprs []*eligibility.Expr) {
	t.Helper()
	seen := map[string]int{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			op, _ := v["op"].(string)
			seen["op "+op]++
			switch op {
			case "cmp":
				seen["field "+v["field"].(string)]++
				seen["cmp "+v["cmp"].(string)]++
			case "gest_na", "gender":
				if v["negate"].(bool) {
					seen[op+" negated"]++
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, e := range exprs {
		j, _ := json.Marshal(e)
		var v any
		_ = json.Unmarshal(j, &v)
		walk(v)
	}
	want := []string{
		"op and", "op or", "op not", "op cmp", "op gest_na", "op gender", "op condition", "op language",
		"field age_in_days", "field gestational_age_in_weeks", "field n_languages",
		"cmp =", "cmp !=", "cmp <", "cmp <=", "cmp >", "cmp >=", "gest_na negated", "gender negated",
	}
	for _, w := range want {
		if seen[w] == 0 {
			t.Errorf("no %s in the random expressions", w)
		}
	}
	t.Logf("node kinds: %v", seen)
}

// TestAgeRuleAgrees checks age_in_range against AgeCheck and PostgreSQL's date subtraction
// against AgeDays, on random values crowded around the limits.
func TestAgeRuleAgrees(t *testing.T) {
	pool := pgtest.Pool(t)
	r := rand.New(rand.NewPCG(5, 6))
	const n = 5000
	ages, mins, maxes := make([]int32, n), make([]int32, n), make([]int32, n)
	for i := range n {
		lo := int32(r.IntN(2000))
		hi := lo + int32(r.IntN(1000)) - 50 // now and then below lo: nobody is in range
		a := pick(r, lo, hi) + int32(r.IntN(5)) - 2
		if r.IntN(4) == 0 {
			a = int32(r.IntN(3000))
		}
		ages[i], mins[i], maxes[i] = a, lo, hi
	}
	rows, err := pool.Query(t.Context(), `
		SELECT age_in_range(a, lo, hi) FROM unnest($1::int[], $2::int[], $3::int[]) WITH ORDINALITY AS t(a, lo, hi, n)
		ORDER BY n`, ages, mins, maxes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		t.Fatal(err)
	}
	var in int
	for i, g := range got {
		want := eligibility.AgeCheck(int(ages[i]), int(mins[i]), int(maxes[i])) == 0
		if want {
			in++
		}
		if g != want {
			t.Errorf("age %d in [%d, %d]: SQL %v, Go %v", ages[i], mins[i], maxes[i], g, want)
		}
	}
	if len(got) != n || in == 0 || in == n {
		t.Fatalf("%d answers, %d in range", len(got), in)
	}

	births, todays := make([]time.Time, n), make([]time.Time, n)
	day := func() time.Time {
		return time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(200*366))
	}
	for i := range n {
		births[i], todays[i] = day(), day()
	}
	rows, err = pool.Query(t.Context(), `
		SELECT today - birthday FROM unnest($1::date[], $2::date[]) WITH ORDINALITY AS t(birthday, today, n)
		ORDER BY n`, births, todays)
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range diffs {
		if want := eligibility.AgeDays(births[i], todays[i]); d != want {
			t.Errorf("%s − %s: SQL %d days, Go %d", todays[i].Format(time.DateOnly), births[i].Format(time.DateOnly), d, want)
		}
	}
	t.Logf("%d age checks (%d in range) and %d date differences agree", n, in, len(diffs))
}

// TestCriteriaOnChildrenTable runs criteria_matches on the real children table's columns, as an
// eligibility query would, so the function's argument types stay in step with the schema.
func TestCriteriaOnChildrenTable(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := t.Context()
	var userID int64
	if err := pool.QueryRow(ctx, `INSERT INTO users (email) VALUES ('eligibility@example.com') RETURNING id`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 5, 10, 15, 30, 0, 0, time.UTC)
	children := sampleChildren(t)
	for i, c := range children {
		birthday := today.AddDate(0, 0, -c.AgeDays)
		if _, err := pool.Exec(ctx, `
			INSERT INTO children (user_id, given_name, birthday, gender, gestational_age_at_birth, existing_conditions, languages_spoken)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			userID, string(rune('A'+i)), birthday, c.Gender, c.GestationalAge, int64(c.Conditions), int64(c.Languages)); err != nil {
			t.Fatal(err)
		}
	}
	minDays, maxDays := eligibility.BoundDays(0, 6, 0), eligibility.BoundDays(3, 0, 0)
	e, err := eligibility.Parse("gestational_age_in_weeks < 37 OR gestational_age_in_weeks = na OR n_languages >= 3")
	if err != nil {
		t.Fatal(err)
	}
	ast, _ := json.Marshal(e)
	rows, err := pool.Query(ctx, `
		SELECT given_name FROM children
		WHERE user_id = $1
		  AND age_in_range($2::date - birthday, $3, $4)
		  AND criteria_matches($5, $2::date - birthday, gender, gestational_age_at_birth, existing_conditions, languages_spoken)
		ORDER BY given_name`, userID, today, minDays, maxDays, string(ast))
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, c := range children {
		birthday := today.AddDate(0, 0, -c.AgeDays)
		age := eligibility.AgeDays(birthday, today)
		c.AgeDays = age
		if eligibility.AgeCheck(age, minDays, maxDays) == 0 && e.Eval(c) {
			want = append(want, string(rune('A'+i)))
		}
	}
	// A (200 days, no answer) and B (400 days, under 24 weeks); C was born at term and speaks no
	// language; D is too old.
	if !slices.Equal(got, want) || !slices.Equal(want, []string{"A", "B"}) {
		t.Errorf("eligible children: SQL %v, Go %v, want [A B]", got, want)
	}
}
