package accounts_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
)

var today = accounts.NewDate(2026, time.May, 10)

func ptr[T any](v T) *T { return &v }

func validChild() accounts.ChildInput {
	return accounts.ChildInput{
		GivenName:             "Ada",
		Birthday:              "2024-02-29",
		Gender:                "f",
		GestationalAgeAtBirth: ptr(2),
		AdditionalInformation: "Likes trains.\nNaps at noon.",
		ExistingConditions:    []string{"multiple_birth"},
		LanguagesSpoken:       []string{"en", "es"},
	}
}

// wantField asserts that err is an Invalid *apperr.Error about field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *apperr.Error for %s", err, err, field)
	}
	if e.Code != apperr.Invalid || e.Field != field || e.Message == "" {
		t.Fatalf("err = %+v, want Invalid at %s", e, field)
	}
	if len(e.Message) > 300 {
		t.Fatalf("message of %d bytes echoes the input", len(e.Message))
	}
}

func TestChildInputValid(t *testing.T) {
	if err := validChild().Validate(today); err != nil {
		t.Fatalf("valid input rejected: %v", err)
	}
	c, err := validChild().Child(today)
	if err != nil {
		t.Fatal(err)
	}
	if c.GivenName != "Ada" || c.Birthday != accounts.NewDate(2024, time.February, 29) || c.Gender != "f" ||
		c.GestationalAge == nil || *c.GestationalAge != 2 || c.UUID != "" || c.Deleted {
		t.Errorf("Child = %+v", c)
	}
	if c.LanguageList() != "en es" || c.ConditionList() != "multiple_birth" || c.AgeAtBirth() != "25 weeks" {
		t.Errorf("lists = %q %q %q", c.LanguageList(), c.ConditionList(), c.AgeAtBirth())
	}
	if int64(c.Languages) != 1|1<<45 || int64(c.Conditions) != 1<<4 {
		t.Errorf("bits = %d %d", int64(c.Languages), int64(c.Conditions))
	}
	if n := c.AgeInDays(today); n != 801 {
		t.Errorf("AgeInDays = %d, want 801", n)
	}
}

func TestChildInputAcceptsEdgeValues(t *testing.T) {
	cases := map[string]func(*accounts.ChildInput){
		"born today":              func(in *accounts.ChildInput) { in.Birthday = today.String() },
		"exactly 120 years old":   func(in *accounts.ChildInput) { in.Birthday = "1906-05-10" },
		"255-rune name":           func(in *accounts.ChildInput) { in.GivenName = strings.Repeat("é", 255) },
		"name with spaces":        func(in *accounts.ChildInput) { in.GivenName = "  Mary Ann  " },
		"non-Latin name":          func(in *accounts.ChildInput) { in.GivenName = "明 アキラ" },
		"gender m":                func(in *accounts.ChildInput) { in.Gender = "m" },
		"gender o":                func(in *accounts.ChildInput) { in.Gender = "o"; in.GenderSelfDescribe = "nonbinary" },
		"gender na":               func(in *accounts.ChildInput) { in.Gender = "na" },
		"no gestational answer":   func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = nil },
		"under 24 weeks":          func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(0) },
		"40 or more weeks":        func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(17) },
		"10000-rune information":  func(in *accounts.ChildInput) { in.AdditionalInformation = strings.Repeat("x", 10000) },
		"tabs and CRLF in text":   func(in *accounts.ChildInput) { in.AdditionalInformation = "a\tb\r\nc" },
		"no conditions":           func(in *accounts.ChildInput) { in.ExistingConditions = nil },
		"no languages":            func(in *accounts.ChildInput) { in.LanguagesSpoken = []string{} },
		"duplicate languages":     func(in *accounts.ChildInput) { in.LanguagesSpoken = []string{"en", "en", "yue"} },
		"every condition":         func(in *accounts.ChildInput) { in.ExistingConditions = codes(accounts.AllConditions()) },
		"100 language entries":    func(in *accounts.ChildInput) { in.LanguagesSpoken = repeat("en", 100) },
		"leap day birthday":       func(in *accounts.ChildInput) { in.Birthday = "2020-02-29" },
		"emoji in self-describe":  func(in *accounts.ChildInput) { in.GenderSelfDescribe = "🌈" },
		"empty self-description":  func(in *accounts.ChildInput) { in.GenderSelfDescribe = "" },
		"whitespace-only details": func(in *accounts.ChildInput) { in.AdditionalInformation = "   " },
	}
	for name, mutate := range cases {
		in := validChild()
		mutate(&in)
		if err := in.Validate(today); err != nil {
			t.Errorf("%s: rejected: %v", name, err)
		}
		if _, err := in.Child(today); err != nil {
			t.Errorf("%s: Child: %v", name, err)
		}
	}
}

func codes(cs []accounts.Condition) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Code)
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestChildInputRejections(t *testing.T) {
	megabyte := strings.Repeat("a", 1<<20)
	cases := []struct {
		name   string
		mutate func(*accounts.ChildInput)
		field  string
	}{
		{"missing name", func(in *accounts.ChildInput) { in.GivenName = "" }, "/given_name"},
		{"blank name", func(in *accounts.ChildInput) { in.GivenName = " \t " }, "/given_name"},
		{"1 MB name", func(in *accounts.ChildInput) { in.GivenName = megabyte }, "/given_name"},
		{"256-rune name", func(in *accounts.ChildInput) { in.GivenName = strings.Repeat("é", 256) }, "/given_name"},
		{"NUL in name", func(in *accounts.ChildInput) { in.GivenName = "A\x00da" }, "/given_name"},
		{"newline in name", func(in *accounts.ChildInput) { in.GivenName = "Ada\nLovelace" }, "/given_name"},
		{"DEL in name", func(in *accounts.ChildInput) { in.GivenName = "Ada\x7f" }, "/given_name"},
		{"C1 control in name", func(in *accounts.ChildInput) { in.GivenName = "A\u0085da" }, "/given_name"},
		{"invalid UTF-8 name", func(in *accounts.ChildInput) { in.GivenName = "Ad\xffa" }, "/given_name"},
		{"missing birthday", func(in *accounts.ChildInput) { in.Birthday = "" }, "/birthday"},
		{"2025-02-30", func(in *accounts.ChildInput) { in.Birthday = "2025-02-30" }, "/birthday"},
		{"2023-02-29", func(in *accounts.ChildInput) { in.Birthday = "2023-02-29" }, "/birthday"},
		{"month 13", func(in *accounts.ChildInput) { in.Birthday = "2025-13-01" }, "/birthday"},
		{"US format", func(in *accounts.ChildInput) { in.Birthday = "02/03/2025" }, "/birthday"},
		{"timestamp", func(in *accounts.ChildInput) { in.Birthday = "2025-01-01T00:00:00Z" }, "/birthday"},
		{"tomorrow", func(in *accounts.ChildInput) { in.Birthday = "2026-05-11" }, "/birthday"},
		{"next year", func(in *accounts.ChildInput) { in.Birthday = "2027-01-01" }, "/birthday"},
		{"120 years and a day", func(in *accounts.ChildInput) { in.Birthday = "1906-05-09" }, "/birthday"},
		{"year 1", func(in *accounts.ChildInput) { in.Birthday = "0001-01-01" }, "/birthday"},
		{"missing gender", func(in *accounts.ChildInput) { in.Gender = "" }, "/gender"},
		{"gender x", func(in *accounts.ChildInput) { in.Gender = "x" }, "/gender"},
		{"gender M", func(in *accounts.ChildInput) { in.Gender = "M" }, "/gender"},
		{"gender male", func(in *accounts.ChildInput) { in.Gender = "male" }, "/gender"},
		{"gender n/a", func(in *accounts.ChildInput) { in.Gender = "n/a" }, "/gender"},
		{"1 MB self-description", func(in *accounts.ChildInput) { in.GenderSelfDescribe = megabyte }, "/gender_self_describe"},
		{"BEL in self-description", func(in *accounts.ChildInput) { in.GenderSelfDescribe = "a\x07" }, "/gender_self_describe"},
		{"gestational -1", func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(-1) }, "/gestational_age_at_birth"},
		{"gestational 18", func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(18) }, "/gestational_age_at_birth"},
		{"gestational 23", func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(23) }, "/gestational_age_at_birth"},
		{"gestational 24 as weeks", func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(24) }, "/gestational_age_at_birth"},
		{"gestational 40 as weeks", func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(40) }, "/gestational_age_at_birth"},
		{"gestational huge", func(in *accounts.ChildInput) { in.GestationalAgeAtBirth = ptr(1 << 40) }, "/gestational_age_at_birth"},
		{"10001-rune information", func(in *accounts.ChildInput) { in.AdditionalInformation = strings.Repeat("x", 10001) }, "/additional_information"},
		{"1 MB information", func(in *accounts.ChildInput) { in.AdditionalInformation = megabyte }, "/additional_information"},
		{"NUL in information", func(in *accounts.ChildInput) { in.AdditionalInformation = "a\x00b" }, "/additional_information"},
		{"unknown condition", func(in *accounts.ChildInput) { in.ExistingConditions = []string{"deaf", "blind"} }, "/existing_conditions/1"},
		{"empty condition", func(in *accounts.ChildInput) { in.ExistingConditions = []string{""} }, "/existing_conditions/0"},
		{"condition label", func(in *accounts.ChildInput) { in.ExistingConditions = []string{"Deaf"} }, "/existing_conditions/0"},
		{"unknown language xx", func(in *accounts.ChildInput) { in.LanguagesSpoken = []string{"en", "es", "xx"} }, "/languages_spoken/2"},
		{"upper-case language", func(in *accounts.ChildInput) { in.LanguagesSpoken = []string{"EN"} }, "/languages_spoken/0"},
		{"1 MB language code", func(in *accounts.ChildInput) { in.LanguagesSpoken = []string{megabyte} }, "/languages_spoken/0"},
		{"101 language entries", func(in *accounts.ChildInput) { in.LanguagesSpoken = repeat("en", 101) }, "/languages_spoken"},
		{"101 condition entries", func(in *accounts.ChildInput) { in.ExistingConditions = repeat("deaf", 101) }, "/existing_conditions"},
		// Several bad fields: the first in declaration order is named.
		{"first bad field wins", func(in *accounts.ChildInput) {
			in.Gender = "x"
			in.Birthday = "nope"
			in.LanguagesSpoken = []string{"xx"}
		}, "/birthday"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validChild()
			tc.mutate(&in)
			wantField(t, in.Validate(today), tc.field)
			_, err := in.Child(today)
			wantField(t, err, tc.field)
		})
	}
}

func TestChildInputValidateReturnsUntypedNil(t *testing.T) {
	err := validChild().Validate(today)
	if err != nil {
		t.Fatalf("err = %#v", err)
	}
	var e *apperr.Error
	if errors.As(err, &e) {
		t.Fatal("nil error carries an *apperr.Error")
	}
}

func TestChildInputJSON(t *testing.T) {
	body := `{"given_name":" Bo ","birthday":"2025-12-01","gender":"o","gender_self_describe":"boy-ish",
		"gestational_age_at_birth":null,"additional_information":"","existing_conditions":["deaf"],
		"languages_spoken":["uk","en"],"unknown_field":1}`
	var in accounts.ChildInput
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	c, err := in.Child(today)
	if err != nil {
		t.Fatal(err)
	}
	if c.GivenName != "Bo" || c.GestationalAge != nil || c.AgeAtBirth() != "Not sure or prefer not to answer" ||
		c.LanguageList() != "en uk" || c.ConditionList() != "deaf" || c.GenderSelfDescribe != "boy-ish" {
		t.Errorf("Child = %+v", c)
	}
}

func TestChildUpdateKeepsBirthday(t *testing.T) {
	orig, err := validChild().Child(today)
	if err != nil {
		t.Fatal(err)
	}
	orig.UUID = "0d9f4c53-6c1e-4a55-9d3a-1c2b9e8f7a60"

	in := validChild()
	in.GivenName = "Adelaide"
	in.Birthday = "" // not sent: kept
	in.LanguagesSpoken = []string{"fr"}
	next, err := orig.Update(in, today)
	if err != nil {
		t.Fatal(err)
	}
	if next.UUID != orig.UUID || next.Birthday != orig.Birthday || next.GivenName != "Adelaide" || next.LanguageList() != "fr" {
		t.Errorf("updated = %+v", next)
	}

	in.Birthday = orig.Birthday.String() // sent unchanged: fine
	if _, err := orig.Update(in, today); err != nil {
		t.Errorf("unchanged birthday rejected: %v", err)
	}

	in.Birthday = "2024-03-01"
	_, err = orig.Update(in, today)
	wantField(t, err, "/birthday")

	in = validChild()
	in.Gender = "q"
	_, err = orig.Update(in, today)
	wantField(t, err, "/gender")
}

func TestGestationalAge(t *testing.T) {
	labels := map[int16]string{
		0: "Under 24 weeks", 1: "24 weeks", 2: "25 weeks", 9: "32 weeks", 16: "39 weeks", 17: "40 or more weeks",
	}
	for v, want := range labels {
		if got := accounts.AgeLabel(&v); got != want {
			t.Errorf("AgeLabel(%d) = %q, want %q", v, got, want)
		}
	}
	if got := accounts.AgeLabel(nil); got != "Not sure or prefer not to answer" {
		t.Errorf("AgeLabel(nil) = %q", got)
	}
	for _, v := range []int16{-1, 18, 24, 40} {
		if accounts.AgeLabel(&v) != "" || accounts.ValidGestationalAge(&v) {
			t.Errorf("%d accepted", v)
		}
	}

	for v := int16(0); v <= 17; v++ {
		w, ok := accounts.GestationalWeeks(&v)
		if !ok || w != int(v)+23 {
			t.Errorf("GestationalWeeks(%d) = %d, %v", v, w, ok)
		}
		if back := accounts.GestationalAgeForWeeks(w); back != v {
			t.Errorf("GestationalAgeForWeeks(%d) = %d, want %d", w, back, v)
		}
	}
	// Unlike Lookit, "under 24 weeks" is a real answer (23), not "no answer".
	zero := int16(0)
	if w, ok := accounts.GestationalWeeks(&zero); !ok || w != 23 {
		t.Errorf("GestationalWeeks(0) = %d, %v", w, ok)
	}
	if _, ok := accounts.GestationalWeeks(nil); ok {
		t.Error("no answer has weeks")
	}
	bad := int16(30)
	if _, ok := accounts.GestationalWeeks(&bad); ok {
		t.Error("30 has weeks")
	}
	if accounts.GestationalAgeForWeeks(20) != 0 || accounts.GestationalAgeForWeeks(42) != 17 {
		t.Error("GestationalAgeForWeeks does not clamp")
	}
}
