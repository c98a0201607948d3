package eligibility_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/eligibility"
)

func conditions(t testing.TB, codes ...string) accounts.Conditions {
	t.Helper()
	c, err := accounts.ParseConditions(codes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func languages(t testing.TB, codes ...string) accounts.Languages {
	t.Helper()
	l, err := accounts.ParseLanguages(codes)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// sampleChildren are four children that tell the test expressions apart; the columns of the
// want strings below are these children in order.
func sampleChildren(t testing.TB) []eligibility.Child {
	return []eligibility.Child{
		// A: young, no gestational answer, English only.
		{AgeDays: 200, Gender: "f", Languages: languages(t, "en")},
		// B: born under 24 weeks (stored 0), deaf, English and Spanish.
		{AgeDays: 400, Gender: "m", GestationalAge: ptr[int16](0), Conditions: conditions(t, "deaf"), Languages: languages(t, "en", "es")},
		// C: born at 40 or more weeks (stored 17), a twin with dyslexia, no languages.
		{AgeDays: 900, Gender: "o", GestationalAge: ptr[int16](17), Conditions: conditions(t, "multiple_birth", "dyslexia")},
		// D: born at 33 weeks (stored 10), hearing impaired, three languages.
		{AgeDays: 1500, Gender: "na", GestationalAge: ptr[int16](10), Conditions: conditions(t, "hearing_impairment"), Languages: languages(t, "fr", "de", "ja")},
	}
}

func TestParseAndEval(t *testing.T) {
	children := sampleChildren(t)
	tests := []struct {
		src  string
		want string // T or F for children A, B, C, D
	}{
		{"", "TTTT"},
		{" \n\t\r ", "TTTT"},
		{"deaf", "FTFF"},
		{"DEAF", "FTFF"},
		{"speaks_en", "TTFF"},
		{"Speaks_EN", "TTFF"},
		{"NOT speaks_en", "FFTT"},
		{"not not deaf", "FTFF"},
		{"autism_spectrum_disorder", "FFFF"},
		{"speaks_yue OR speaks_fr", "FFFT"},
		{"gender = male", "FTFF"},
		{"gender=m", "FTFF"},
		{"Gender = MALE", "FTFF"},
		{"gender != female", "FTTT"},
		{"gender != F", "FTTT"},
		{"gender = other", "FFTF"},
		{"gender = o", "FFTF"},
		{"gender = na", "FFFT"},
		{"gender = n/a", "FFFT"},
		{"gender = N/A", "FFFT"},
		{"gender != n/a", "TTTF"},
		// The Lookit bug fix: B (stored 0) is 23 weeks, not "no answer".
		{"gestational_age_in_weeks = na", "TFFF"},
		{"gestational_age_in_weeks = NA", "TFFF"},
		{"gestational_age_in_weeks != na", "FTTT"},
		{"gestational_age_in_weeks < 24", "FTFF"},
		{"gestational_age_in_weeks = 24", "FFFF"},
		{"gestational_age_in_weeks >= 40", "FFTF"},
		{"gestational_age_in_weeks = 40", "FFTF"},
		{"gestational_age_in_weeks <= 33", "FTFT"},
		{"gestational_age_in_weeks > 24", "FFTT"},
		// No answer: every numeric comparison is false, != included; NOT still negates.
		{"gestational_age_in_weeks != 33", "FTTF"},
		{"NOT gestational_age_in_weeks = 33", "TTTF"},
		{"NOT gestational_age_in_weeks != 33", "TFFT"},
		{"age_in_days >= 400", "FTTT"},
		{"age_in_days < 400", "TFFF"},
		{"age_in_days = 900", "FFTF"},
		{"age_in_days = 000000200", "TFFF"},
		{"age_in_days <= 900 and age_in_days > 200", "FTTF"},
		{"n_languages = 0", "FFTF"},
		{"num_languages >= 2", "FTFT"},
		{"N_LANGUAGES > 2", "FFFT"},
		{"n_languages != 1", "FTTT"},
		{"deaf OR hearing_impairment", "FTFT"},
		// AND binds tighter than OR.
		{"deaf or hearing_impairment and speaks_ja", "FTFT"},
		{"deaf or hearing_impairment and speaks_en", "FTFF"},
		{"(deaf or hearing_impairment) and speaks_en", "FTFF"},
		{"speaks_en and deaf or multiple_birth", "FTTF"},
		{"speaks_en and (deaf or multiple_birth)", "FTFF"},
		{"NOT (deaf OR multiple_birth)", "TFFT"},
		{"NOT deaf OR multiple_birth", "TFTT"},
		{"((((speaks_es))))", "FTFF"},
		{"multiple_birth AND dyslexia AND gender = o", "FFTF"},
		{"age_in_days>=0 AND(deaf)", "FTFF"},
		{"deaf\nOR\r\nspeaks_de", "FTFT"},
		{"deaf OR deaf OR deaf OR speaks_ja", "FTFT"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := eligibility.Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got strings.Builder
			for _, c := range children {
				got.WriteString(map[bool]string{true: "T", false: "F"}[e.Eval(c)])
			}
			if got.String() != tt.want {
				t.Errorf("Eval on A, B, C, D = %s, want %s", got.String(), tt.want)
			}
		})
	}
}

func TestNilExprIsTrue(t *testing.T) {
	var e *eligibility.Expr
	if !e.Eval(eligibility.Child{}) {
		t.Error("nil Expr is false")
	}
	if e.String() != "" {
		t.Errorf("nil Expr prints %q", e.String())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		msg       string // a part of the message
	}{
		{"deaf AND", 1, 9, "expected a condition, found end of expression"},
		{"deaf OR", 1, 8, "expected a condition, found end of expression"},
		{"NOT", 1, 4, "expected a condition, found end of expression"},
		{"AND deaf", 1, 1, `expected a condition, found "AND"`},
		{"or", 1, 1, `expected a condition, found "or"`},
		{"deaf AND OR speaks_en", 1, 10, `expected a condition, found "OR"`},
		{"()", 1, 2, `expected a condition, found ")"`},
		{"= 3", 1, 1, `expected a condition, found "="`},
		{"42", 1, 1, `expected a condition, found "42"`},
		{"foo", 1, 1, `unknown name "foo"`},
		{"deaf OR blind", 1, 9, `unknown name "blind"`},
		{"speaks_xx", 1, 1, `unknown language code "xx" in "speaks_xx"`},
		{"speaks_", 1, 1, `unknown language code ""`},
		{"deaf  dyslexia", 1, 7, `expected AND, OR or the end of the expression, found "dyslexia"`},
		{"age_in_days >= 5 5", 1, 18, `expected AND, OR or the end of the expression, found "5"`},
		{"gender = male female", 1, 15, `found "female"`},
		{"deaf)", 1, 5, `")" has no matching "("`},
		{"(deaf", 1, 6, `expected ")" to close the "(" at line 1, column 1, found end of expression`},
		{"((deaf)", 1, 8, `expected ")" to close the "(" at line 1, column 1`},
		{"deaf AND (dyslexia speaks_en)", 1, 20, `expected ")" to close the "(" at line 1, column 10, found "speaks_en"`},
		{"gender < male", 1, 8, `gender can only be compared with = or !=, not "<"`},
		{"gender >= f", 1, 8, `gender can only be compared with = or !=`},
		{"gender = x", 1, 10, `unknown gender "x"`},
		{"gender = 1", 1, 10, `unknown gender "1"`},
		{"gender = n/ab", 1, 11, `unexpected character '/'`},
		{"gender", 1, 7, `expected a comparison operator (=, !=, <, <=, >, >=) after "gender", found end of expression`},
		{"gender male", 1, 8, `after "gender", found "male"`},
		{"gender =", 1, 9, `expected a value after "=", found end of expression`},
		{"gender = )", 1, 10, `expected a value after "=", found ")"`},
		{"n_languages == 2", 1, 14, `expected a value after "=", found "="`},
		{"gestational_age_in_weeks = 23", 1, 28, `from 24 to 40 or with na, not "23"`},
		{"gestational_age_in_weeks = 41", 1, 28, `not "41"`},
		{"gestational_age_in_weeks >= na", 1, 26, `can only be compared with na by = or !=, not ">="`},
		{"gestational_age_in_weeks < NA", 1, 26, `not "<"`},
		{"gestational_age_in_weeks = n/a", 1, 28, `not "n/a"`},
		{"gestational_age_in_weeks = male", 1, 28, `not "male"`},
		{"age_in_days > na", 1, 15, `age_in_days must be compared with a whole number, not "na"`},
		{"num_languages > two", 1, 17, `num_languages must be compared with a whole number, not "two"`},
		{"age_in_days > -1", 1, 15, `unexpected character '-'`},
		{"age_in_days > 1234567890", 1, 15, "number 1234567890 has more than 9 digits"},
		{"age_in_days > 12abc", 1, 15, `malformed number "12abc"`},
		{"age_in_days>=0AND deaf", 1, 14, `malformed number "0AND"`},
		{"deaf = 1", 1, 6, `"deaf" is a condition that is true or false and cannot be compared`},
		{"deaf & speaks_en", 1, 6, `unexpected character '&'`},
		{"deaf ! speaks_en", 1, 6, `unexpected character '!'`},
		{"deaf || speaks_en", 1, 6, `unexpected character '|'`},
		{"deaf AND\n  foo", 2, 3, `unknown name "foo"`},
		{"deaf\r\nOR\n\n    (dyslexia", 4, 14, `expected ")" to close the "(" at line 4, column 5`},
		{"deaf AND ünknown", 1, 10, `unexpected character 'ü'`},
		{"deaf AND \xff", 1, 10, "invalid UTF-8 byte 0xff"},
		{"deaf AND /a", 1, 10, `unexpected character '/'`},
		// Parse meets the first error in the text, whether the lexer or the parser finds it.
		{"deaf AND AND $", 1, 10, `expected a condition, found "AND"`},
		{strings.Repeat("(", 101) + "deaf" + strings.Repeat(")", 101), 1, 101, "nested more than 100 levels deep"},
		{strings.Repeat("NOT ", 101) + "deaf", 1, 401, "nested more than 100 levels deep"},
		{strings.Repeat("NOT (", 51) + "deaf" + strings.Repeat(")", 51), 1, 251, "nested more than 100 levels deep"},
		// The limit is on bytes; the column counts characters (é is two bytes).
		{strings.Repeat("é", 5001), 1, 5001, "expression is longer than 10000 bytes"},
		{"deaf OR " + strings.Repeat(" ", 10000), 1, 10001, "expression is longer than 10000 bytes"},
	}
	for _, tt := range tests {
		name := tt.src
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		t.Run(name, func(t *testing.T) {
			e, err := eligibility.Parse(tt.src)
			if err == nil {
				t.Fatalf("Parse = %v, want an error", e)
			}
			var pe *eligibility.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, want *ParseError", err, err)
			}
			if pe.Line != tt.line || pe.Column != tt.col {
				t.Errorf("at line %d, column %d, want line %d, column %d (%v)", pe.Line, pe.Column, tt.line, tt.col, err)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", pe.Msg, tt.msg)
			}
			want := fmt.Sprintf("criteria expression: line %d, column %d: %s", pe.Line, pe.Column, pe.Msg)
			if err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
			if e != nil {
				t.Errorf("Parse returned %v with the error", e)
			}
		})
	}
}

func TestParseErrorOffset(t *testing.T) {
	src := "deaf\nAND ü AND"
	_, err := eligibility.Parse(src)
	var pe *eligibility.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse: %v", err)
	}
	if pe.Offset != strings.Index(src, "ü") || pe.Line != 2 || pe.Column != 5 {
		t.Errorf("got offset %d, line %d, column %d; want %d, 2, 5", pe.Offset, pe.Line, pe.Column, strings.Index(src, "ü"))
	}
}

func TestParseLimits(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("(", 100) + "deaf" + strings.Repeat(")", 100),
		strings.Repeat("NOT ", 100) + "deaf",
		strings.Repeat("NOT (", 50) + "deaf" + strings.Repeat(")", 50),
		// Exactly MaxSourceBytes, as one long chain: a wide tree, not a deep one.
		strings.Repeat("deaf OR ", 1249) + "deaf    ",
	} {
		if _, err := eligibility.Parse(src); err != nil {
			t.Errorf("Parse(%.30q… %d bytes): %v", src, len(src), err)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", ""},
		{"deaf or hearing_impairment and speaks_ja", "deaf OR hearing_impairment AND speaks_ja"},
		{"(deaf or hearing_impairment) and speaks_EN", "(deaf OR hearing_impairment) AND speaks_en"},
		{"deaf and (dyslexia and speaks_en)", "deaf AND (dyslexia AND speaks_en)"},
		{"deaf or (dyslexia or speaks_en)", "deaf OR (dyslexia OR speaks_en)"},
		{"deaf or (dyslexia and speaks_en)", "deaf OR dyslexia AND speaks_en"},
		{"NOT (deaf)", "NOT deaf"},
		{"not (deaf and dyslexia)", "NOT (deaf AND dyslexia)"},
		{"not not (deaf or dyslexia)", "NOT NOT (deaf OR dyslexia)"},
		{"gender = M", "gender = male"},
		{"gender != n/a", "gender != na"},
		{"gender=o", "gender = other"},
		{"num_languages>=2", "n_languages >= 2"},
		{"Gestational_Age_In_Weeks = NA", "gestational_age_in_weeks = na"},
		{"gestational_age_in_weeks<=037", "gestational_age_in_weeks <= 37"},
		{"age_in_days = 007", "age_in_days = 7"},
	}
	for _, tt := range tests {
		e, err := eligibility.Parse(tt.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		if got := e.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestJSON(t *testing.T) {
	e, err := eligibility.Parse("(deaf OR speaks_en) AND NOT gestational_age_in_weeks = na AND gender != f AND " +
		"age_in_days >= 300 AND num_languages < 3 AND gestational_age_in_weeks != NA")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"and","args":[{"op":"or","args":[{"op":"condition","bit":1},{"op":"language","bit":0}]},` +
		`{"op":"not","arg":{"op":"gest_na","negate":false}},{"op":"gender","negate":true,"value":"f"},` +
		`{"op":"cmp","field":"age_in_days","cmp":">=","value":300},{"op":"cmp","field":"n_languages","cmp":"<","value":3},` +
		`{"op":"gest_na","negate":true}]}`
	if string(got) != want {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", got, want)
	}
	// json.Marshal escapes < and > as \u003c and \u003e, as in every string; the value is the same.
	var viaMarshal, viaMethod any
	marshalled, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(marshalled, &viaMarshal)
	_ = json.Unmarshal(got, &viaMethod)
	if !reflect.DeepEqual(viaMarshal, viaMethod) {
		t.Errorf("json.Marshal gives %s", marshalled)
	}
	var back eligibility.Expr
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.String() != e.String() {
		t.Errorf("round trip prints %q, want %q", back.String(), e.String())
	}
	again, _ := back.MarshalJSON()
	if string(again) != want {
		t.Errorf("re-marshalled %s", again)
	}
}

func TestJSONEmpty(t *testing.T) {
	e, err := eligibility.Parse("   ")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(e)
	if err != nil || string(b) != "null" {
		t.Fatalf("json.Marshal(empty) = %s, %v; want null", b, err)
	}
	// As a field: null restores a nil *Expr, which is true.
	var s struct{ Criteria *eligibility.Expr }
	if err := json.Unmarshal([]byte(`{"Criteria":null}`), &s); err != nil || s.Criteria != nil || !s.Criteria.Eval(eligibility.Child{}) {
		t.Errorf("null field: %v, %v", s.Criteria, err)
	}
	// Directly into an Expr: null empties it.
	full, _ := eligibility.Parse("deaf")
	if err := json.Unmarshal([]byte("null"), full); err != nil || full.String() != "" || !full.Eval(eligibility.Child{}) {
		t.Errorf("null into Expr: %q, %v", full.String(), err)
	}
}

func TestJSONRejects(t *testing.T) {
	nested := func(n int, inner string) string {
		return strings.Repeat(`{"op":"not","arg":`, n) + inner + strings.Repeat("}", n)
	}
	tests := []string{
		`{}`,
		`{"op":"xor","args":[{"op":"condition","bit":0},{"op":"condition","bit":1}]}`,
		`{"op":"and","args":[{"op":"condition","bit":0}]}`,
		`{"op":"or","args":[]}`,
		`{"op":"and","args":[{"op":"condition","bit":0},null]}`,
		`{"op":"not"}`,
		`{"op":"not","arg":null}`,
		`{"op":"cmp","field":"height","cmp":"=","value":3}`,
		`{"op":"cmp","field":"age_in_days","cmp":"==","value":3}`,
		`{"op":"cmp","field":"age_in_days","cmp":"=","value":"3"}`,
		`{"op":"cmp","field":"age_in_days","cmp":"=","value":null}`,
		`{"op":"cmp","field":"age_in_days","cmp":"="}`,
		`{"op":"cmp","field":"age_in_days","cmp":"=","value":1.5}`,
		`{"op":"cmp","field":"age_in_days","cmp":"=","value":-1}`,
		`{"op":"cmp","field":"age_in_days","cmp":"=","value":1000000000}`,
		`{"op":"cmp","field":"gestational_age_in_weeks","cmp":"<","value":23}`,
		`{"op":"cmp","field":"gestational_age_in_weeks","cmp":"<","value":41}`,
		`{"op":"gender","negate":false,"value":"x"}`,
		`{"op":"gender","negate":false,"value":"male"}`,
		`{"op":"gender","negate":false,"value":1}`,
		`{"op":"gender","negate":false}`,
		`{"op":"condition","bit":5}`,
		`{"op":"condition","bit":-1}`,
		`{"op":"condition"}`,
		`{"op":"language","bit":60}`,
		`{"op":"language","bit":"en"}`,
		nested(101, `{"op":"condition","bit":0}`),
		nested(50, `{"op":"and","args":[{"op":"condition","bit":0},`+nested(50, `{"op":"condition","bit":0}`)+`]}`),
		`[]`,
		`{"op":"condition","bit":0`,
	}
	for _, src := range tests {
		var e eligibility.Expr
		err := json.Unmarshal([]byte(src), &e)
		if err == nil {
			t.Errorf("Unmarshal(%.80s) = %q, want an error", src, e.String())
			continue
		}
		var syntax *json.SyntaxError
		if !errors.Is(err, eligibility.ErrBadAST) && !errors.As(err, &syntax) && !strings.Contains(err.Error(), "eligibility: decode") {
			t.Errorf("Unmarshal(%.80s): %v does not wrap ErrBadAST", src, err)
		}
	}
	// The deepest trees accepted are exactly those whose String parses.
	for _, src := range []string{
		nested(100, `{"op":"condition","bit":0}`),
		nested(49, `{"op":"and","args":[{"op":"condition","bit":0},`+nested(50, `{"op":"condition","bit":0}`)+`]}`),
	} {
		var e eligibility.Expr
		if err := json.Unmarshal([]byte(src), &e); err != nil {
			t.Errorf("Unmarshal(%.80s…): %v", src, err)
			continue
		}
		if _, err := eligibility.Parse(e.String()); err != nil {
			t.Errorf("String of a decoded tree does not parse: %v", err)
		}
	}
}
