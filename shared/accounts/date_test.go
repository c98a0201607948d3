package accounts_test

import (
	"encoding/json"
	"testing"
	"time"

	"lookit.dev/platform/shared/accounts"
)

func TestParseDate(t *testing.T) {
	good := map[string]accounts.Date{
		"2024-02-29": {Year: 2024, Month: time.February, Day: 29},
		"2000-02-29": {Year: 2000, Month: time.February, Day: 29},
		"0001-01-01": {Year: 1, Month: time.January, Day: 1},
		"9999-12-31": {Year: 9999, Month: time.December, Day: 31},
		"2025-04-30": {Year: 2025, Month: time.April, Day: 30},
	}
	for s, want := range good {
		got, err := accounts.ParseDate(s)
		if err != nil || got != want {
			t.Errorf("ParseDate(%q) = %v, %v", s, got, err)
		}
		if got.String() != s {
			t.Errorf("String() = %q, want %q", got.String(), s)
		}
	}
	bad := []string{
		"", "2025-02-30", "2023-02-29", "1900-02-29", "2025-04-31", "2025-13-01", "2025-00-10",
		"2025-01-00", "0000-01-01", "2025-1-01", "25-01-01", "2025/01/01", "2025-01-01T00:00:00Z",
		" 2025-01-01", "2025-01-01 ", "+202-01-01", "２０２５-01-01", "2025-0a-01", "20250-1-01",
	}
	for _, s := range bad {
		if d, err := accounts.ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) = %v, want error", s, d)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	a := accounts.NewDate(2024, time.February, 28)
	b := accounts.NewDate(2024, time.March, 1)
	if !a.Before(b) || !b.After(a) || a.Compare(a) != 0 || a.Compare(b) != -1 || b.Compare(a) != 1 {
		t.Error("ordering is wrong")
	}
	if n := b.DaysSince(a); n != 2 {
		t.Errorf("DaysSince across a leap day = %d, want 2", n)
	}
	if n := a.DaysSince(b); n != -2 {
		t.Errorf("negative DaysSince = %d", n)
	}
	far := accounts.NewDate(9999, time.December, 31).DaysSince(accounts.NewDate(1, time.January, 1))
	if far != 3652058 {
		t.Errorf("DaysSince over the whole range = %d", far)
	}
	if got := accounts.DateOf(time.Date(2025, 6, 1, 23, 30, 0, 0, time.FixedZone("x", -5*3600))); got != accounts.NewDate(2025, time.June, 1) {
		t.Errorf("DateOf uses the time's own zone: %v", got)
	}
	if tm := a.Time(); tm.Location() != time.UTC || tm.Hour() != 0 || accounts.DateOf(tm) != a {
		t.Errorf("Time = %v", tm)
	}
	if !(accounts.Date{}).IsZero() || (accounts.Date{}).Valid() {
		t.Error("zero Date")
	}
}

func TestDateJSON(t *testing.T) {
	type wrap struct {
		D accounts.Date `json:"d"`
	}
	b, err := json.Marshal(wrap{accounts.NewDate(2021, time.July, 4)})
	if err != nil || string(b) != `{"d":"2021-07-04"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var w wrap
	if err := json.Unmarshal(b, &w); err != nil || w.D != accounts.NewDate(2021, time.July, 4) {
		t.Errorf("Unmarshal = %v, %v", w.D, err)
	}
	if err := json.Unmarshal([]byte(`{"d":"2021-02-30"}`), &w); err == nil {
		t.Error("Unmarshal accepted 2021-02-30")
	}
	if _, err := json.Marshal(wrap{}); err == nil {
		t.Error("Marshal accepted the zero Date")
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2025-02-30", "0000-00-00", "9999-12-31", "1-1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := accounts.ParseDate(s)
		if err != nil {
			return
		}
		if !d.Valid() || d.String() != s {
			t.Fatalf("ParseDate(%q) = %v (valid %v)", s, d, d.Valid())
		}
		if accounts.DateOf(d.Time()) != d {
			t.Fatalf("Time round trip of %v", d)
		}
	})
}
