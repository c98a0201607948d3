package eligibility_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"lookit.dev/platform/shared/eligibility"
)

// FuzzParse checks that Parse never panics, that every error is a *ParseError at a position
// inside the source, and that every expression it accepts survives JSON and String round trips
// with the same answers on a set of children.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "deaf", "NOT (deaf OR speaks_en) AND gender != n/a",
		"gestational_age_in_weeks = na OR gestational_age_in_weeks < 24",
		"num_languages >= 2 AND age_in_days <= 999999999", "((multiple_birth))",
		"gender = male female", "deaf AND\n  foo", "age_in_days>=0AND deaf", "(deaf", "deaf)",
		"gestational_age_in_weeks >= na", "speaks_xx", "\xff", "é", strings.Repeat("(", 120),
	} {
		f.Add(s)
	}
	gen := exprGen{r: rand.New(rand.NewPCG(7, 7)), maxDepth: 4}
	for range 20 {
		f.Add(gen.expr())
	}
	children := fuzzChildren()
	f.Fuzz(func(t *testing.T, src string) {
		e, err := eligibility.Parse(src)
		if err != nil {
			var pe *eligibility.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, not a *ParseError", err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(src) {
				t.Fatalf("offset %d outside 0…%d", pe.Offset, len(src))
			}
			before := src[:pe.Offset]
			line := strings.Count(before, "\n") + 1
			col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
			if pe.Line != line || pe.Column != col {
				t.Fatalf("line %d, column %d for offset %d, want %d, %d", pe.Line, pe.Column, pe.Offset, line, col)
			}
			return
		}
		j, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var fromJSON *eligibility.Expr
		if err := json.Unmarshal(j, &fromJSON); err != nil {
			t.Fatalf("Unmarshal(%s): %v", j, err)
		}
		if j2, _ := json.Marshal(fromJSON); string(j2) != string(j) {
			t.Fatalf("JSON changed in a round trip:\n%s\n%s", j, j2)
		}
		text := e.String()
		fromText, err := eligibility.Parse(text)
		if err != nil {
			t.Fatalf("String() = %q does not parse: %v", text, err)
		}
		if fromText.String() != text {
			t.Fatalf("String not canonical: %q then %q", text, fromText.String())
		}
		if j3, _ := json.Marshal(fromText); string(j3) != string(j) {
			t.Fatalf("String round trip changed the tree:\n%s\n%s", j, j3)
		}
		for i, c := range children {
			want := e.Eval(c)
			if fromJSON.Eval(c) != want || fromText.Eval(c) != want {
				t.Fatalf("child %d: Eval differs after a round trip (%q)", i, text)
			}
		}
	})
}

// fuzzChildren are fixed children spread over what expressions can test.
func fuzzChildren() []eligibility.Child {
	r := rand.New(rand.NewPCG(3, 4))
	cs := make([]eligibility.Child, 40)
	for i := range cs {
		cs[i] = randomChild(r)
	}
	return cs
}
