package accounts_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"lookit.dev/platform/shared/accounts"
)

// lookitLanguages is LANGUAGES from lookit-api (develop @ 961dd93) as listed in
// shared/reference/lookit-api.md §1.1, written out independently of the package's table. Its order
// is the bit order of every languages_spoken value ever stored.
const lookitLanguages = `en am bn bho my ceb hne nl egy fr gan de gu hak ha he hi ig id pes it ja jv cjy kn
km ko mag mai ms ml cmn mr nan mor pbu uzn or pl pt ro ru skr sd so es su tl ta te th tr uk ur vi lah
wuu hsn yo yue`

func TestLanguageBitOrderMatchesLookit(t *testing.T) {
	want := strings.Fields(lookitLanguages)
	if len(want) != 60 || accounts.NumLanguages != 60 {
		t.Fatalf("want 60 languages, reference has %d, package has %d", len(want), accounts.NumLanguages)
	}
	all := accounts.AllLanguages()
	for i, code := range want {
		if all[i].Code != code {
			t.Errorf("bit %d = %q, Lookit has %q", i, all[i].Code, code)
		}
		if all[i].Name == "" {
			t.Errorf("%q has no name", code)
		}
		if bit, ok := accounts.LanguageBit(code); !ok || bit != i {
			t.Errorf("LanguageBit(%q) = %d, %v; want %d", code, bit, ok, i)
		}
	}
}

func TestLanguageBitsPinned(t *testing.T) {
	cases := []struct {
		code string
		bit  int
		name string
	}{
		{"en", 0, "English"},
		{"am", 1, "Amharic"},
		{"fr", 9, "French"},
		{"he", 15, "Hebrew"},
		{"hi", 16, "Hindi"},
		{"cmn", 31, "Mandarin"},
		{"es", 45, "Spanish"},
		{"uk", 52, "Ukrainian"},
		{"lah", 55, "Western Punjabi"},
		{"yue", 59, "Yue"},
	}
	for _, tc := range cases {
		got, err := accounts.ParseLanguages([]string{tc.code})
		if err != nil {
			t.Fatalf("ParseLanguages(%q): %v", tc.code, err)
		}
		if uint64(got) != 1<<tc.bit {
			t.Errorf("ParseLanguages(%q) = %#x, want bit %d", tc.code, uint64(got), tc.bit)
		}
		if name, ok := accounts.LanguageName(tc.code); !ok || name != tc.name {
			t.Errorf("LanguageName(%q) = %q, %v", tc.code, name, ok)
		}
	}
	// The integers a bigint column holds.
	l, _ := accounts.ParseLanguages([]string{"fr", "en"})
	if int64(l) != 513 {
		t.Errorf("en+fr = %d, want 513", int64(l))
	}
	l, _ = accounts.ParseLanguages([]string{"yue"})
	if int64(l) != 576460752303423488 {
		t.Errorf("yue = %d, want 2^59", int64(l))
	}
}

func TestLanguagesRoundTrip(t *testing.T) {
	in := []string{"yue", "en", "uk", "en", "he"} // any order, duplicates allowed
	l, err := accounts.ParseLanguages(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"en", "he", "uk", "yue"} // bit order, once each
	if got := l.Codes(); !slices.Equal(got, want) {
		t.Errorf("Codes = %v, want %v", got, want)
	}
	if got := l.String(); got != "en he uk yue" {
		t.Errorf("String = %q", got)
	}
	if l.Count() != 4 || !l.Valid() {
		t.Errorf("Count = %d, Valid = %v", l.Count(), l.Valid())
	}
	for _, c := range want {
		if !l.Has(c) {
			t.Errorf("Has(%q) = false", c)
		}
	}
	if l.Has("fr") || l.Has("xx") || l.Has("") {
		t.Error("Has reports a language not in the set")
	}
	back, err := accounts.ParseLanguages(l.Codes())
	if err != nil || back != l {
		t.Errorf("round trip = %#x, %v; want %#x", uint64(back), err, uint64(l))
	}
	// Through the bigint column.
	if accounts.Languages(int64(l)) != l {
		t.Error("int64 round trip changed the set")
	}

	every := make([]string, 0, accounts.NumLanguages)
	for _, lang := range accounts.AllLanguages() {
		every = append(every, lang.Code)
	}
	all, err := accounts.ParseLanguages(every)
	if err != nil || uint64(all) != 1<<60-1 || all.Count() != 60 || all.String() != strings.Join(strings.Fields(lookitLanguages), " ") {
		t.Errorf("all languages = %#x, %v", uint64(all), err)
	}

	var none accounts.Languages
	if none.String() != "" || len(none.Codes()) != 0 || none.Count() != 0 {
		t.Errorf("empty set = %q %v", none.String(), none.Codes())
	}
}

func TestLanguagesUndefinedBits(t *testing.T) {
	l := accounts.Languages(1<<60 | 1<<63 | 1) // bits Lookit never defines
	if l.Valid() {
		t.Error("Valid accepted undefined bits")
	}
	if l.String() != "en" || l.Count() != 1 {
		t.Errorf("undefined bits leak: %q, %d", l.String(), l.Count())
	}
}

func TestParseLanguagesUnknown(t *testing.T) {
	for _, tc := range []struct {
		codes []string
		index int
		code  string
	}{
		{[]string{"en", "xx"}, 1, "xx"},
		{[]string{"EN"}, 0, "EN"}, // codes are case-sensitive, as in Lookit
		{[]string{"en", "fr", ""}, 2, ""},
		{[]string{"zh"}, 0, "zh"}, // Lookit has cmn and yue, not zh
	} {
		_, err := accounts.ParseLanguages(tc.codes)
		var u *accounts.UnknownCodeError
		if !errors.As(err, &u) || u.Index != tc.index || u.Code != tc.code || u.Kind != "language" {
			t.Errorf("ParseLanguages(%q) = %v", tc.codes, err)
			continue
		}
		if !strings.Contains(err.Error(), `"`+tc.code+`"`) {
			t.Errorf("error %q does not name the code", err)
		}
	}
	if _, ok := accounts.LanguageName("xx"); ok {
		t.Error("LanguageName(xx) ok")
	}
	if _, ok := accounts.LanguageBit("xx"); ok {
		t.Error("LanguageBit(xx) ok")
	}
}

func TestAllLanguagesIsACopy(t *testing.T) {
	a := accounts.AllLanguages()
	a[0].Code = "zz"
	if accounts.AllLanguages()[0].Code != "en" {
		t.Error("AllLanguages exposes the table")
	}
}
