package accounts_test

import (
	"errors"
	"slices"
	"testing"

	"lookit.dev/platform/shared/accounts"
)

func TestConditionBitOrderMatchesLookit(t *testing.T) {
	want := []struct {
		code  string
		label string
	}{
		{"autism_spectrum_disorder", "Autism Spectrum Disorder"},
		{"deaf", "Deaf"},
		{"hearing_impairment", "Hearing Impairment"},
		{"dyslexia", "Dyslexia"},
		{"multiple_birth", "Multiple Birth (twin, triplet, or higher order)"},
	}
	all := accounts.AllConditions()
	if len(all) != len(want) || accounts.NumConditions != 5 {
		t.Fatalf("%d conditions, want 5", len(all))
	}
	for i, w := range want {
		if all[i].Code != w.code || all[i].Label != w.label {
			t.Errorf("bit %d = %+v, want %+v", i, all[i], w)
		}
		c, err := accounts.ParseConditions([]string{w.code})
		if err != nil || uint64(c) != 1<<i {
			t.Errorf("ParseConditions(%q) = %#x, %v; want bit %d", w.code, uint64(c), err, i)
		}
		if bit, ok := accounts.ConditionBit(w.code); !ok || bit != i {
			t.Errorf("ConditionBit(%q) = %d, %v", w.code, bit, ok)
		}
		if label, ok := accounts.ConditionLabel(w.code); !ok || label != w.label {
			t.Errorf("ConditionLabel(%q) = %q", w.code, label)
		}
	}
}

func TestConditionsRoundTrip(t *testing.T) {
	c, err := accounts.ParseConditions([]string{"multiple_birth", "deaf", "deaf"})
	if err != nil {
		t.Fatal(err)
	}
	if int64(c) != 1<<1|1<<4 {
		t.Errorf("value = %d, want 18", int64(c))
	}
	if got := c.Codes(); !slices.Equal(got, []string{"deaf", "multiple_birth"}) {
		t.Errorf("Codes = %v", got)
	}
	if c.String() != "deaf multiple_birth" || c.Count() != 2 || !c.Valid() {
		t.Errorf("String = %q, Count = %d", c.String(), c.Count())
	}
	if !c.Has("deaf") || c.Has("dyslexia") || c.Has("nope") {
		t.Error("Has is wrong")
	}
	if back, _ := accounts.ParseConditions(c.Codes()); back != c {
		t.Error("round trip changed the set")
	}
	if accounts.Conditions(1 << 5).Valid() {
		t.Error("bit 5 is not a condition")
	}
	var none accounts.Conditions
	if none.String() != "" || len(none.Codes()) != 0 {
		t.Error("empty set is not empty")
	}
}

func TestParseConditionsUnknown(t *testing.T) {
	_, err := accounts.ParseConditions([]string{"deaf", "blind"}) // commented out in Lookit
	var u *accounts.UnknownCodeError
	if !errors.As(err, &u) || u.Index != 1 || u.Code != "blind" || u.Kind != "condition" {
		t.Errorf("err = %v", err)
	}
}
