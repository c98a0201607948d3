package eligibility_test

import (
	"testing"
	"time"

	"lookit.dev/platform/shared/eligibility"
)

func TestBoundDays(t *testing.T) {
	tests := []struct{ y, m, d, want int }{
		{0, 0, 0, 0},
		{1, 0, 0, 365},
		{0, 1, 0, 30},
		{0, 0, 1, 1},
		{2, 6, 15, 2*365 + 6*30 + 15},
		{0, 18, 0, 540}, // months are not normalised into years
	}
	for _, tt := range tests {
		if got := eligibility.BoundDays(tt.y, tt.m, tt.d); got != tt.want {
			t.Errorf("BoundDays(%d, %d, %d) = %d, want %d", tt.y, tt.m, tt.d, got, tt.want)
		}
	}
}

func TestAgeDays(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name            string
		birthday, today time.Time
		want            int
	}{
		{"same day", date(2024, 5, 1), date(2024, 5, 1), 0},
		{"next day", date(2024, 5, 1), date(2024, 5, 2), 1},
		{"leap year", date(2024, 1, 1), date(2025, 1, 1), 366},
		{"ordinary year", date(2025, 1, 1), date(2026, 1, 1), 365},
		{"over 29 February", date(2024, 2, 28), date(2024, 3, 1), 2},
		{"born tomorrow", date(2024, 5, 2), date(2024, 5, 1), -1},
		{"time of day ignored", date(2024, 5, 1), time.Date(2024, 5, 2, 23, 59, 59, 0, time.UTC), 1},
		{"born late in the day", time.Date(2024, 5, 1, 23, 0, 0, 0, time.UTC), time.Date(2024, 5, 2, 1, 0, 0, 0, time.UTC), 1},
		// 10 March 2024 has 23 hours in New York; the dates still differ by one day.
		{"across daylight saving", time.Date(2024, 3, 10, 0, 0, 0, 0, newYork), time.Date(2024, 3, 11, 0, 0, 0, 0, newYork), 1},
		// Each time's own calendar date counts: 20:00 in New York on 1 May is 00:00 UTC on 2 May.
		{"own location", time.Date(2024, 5, 1, 20, 0, 0, 0, newYork), date(2024, 5, 1), 0},
		{"centuries", date(1900, 3, 1), date(2100, 3, 1), 73049},
	}
	for _, tt := range tests {
		if got := eligibility.AgeDays(tt.birthday, tt.today); got != tt.want {
			t.Errorf("%s: AgeDays(%v, %v) = %d, want %d", tt.name, tt.birthday, tt.today, got, tt.want)
		}
	}
}

func TestAgeCheck(t *testing.T) {
	tests := []struct{ age, lo, hi, want int }{
		{100, 100, 200, 0},
		{200, 100, 200, 0},
		{150, 100, 200, 0},
		{99, 100, 200, -1},
		{0, 100, 200, -100},
		{201, 100, 200, 1},
		{365, 100, 200, 165},
		{100, 100, 100, 0},
		{150, 200, 100, -50}, // inverted limits: nobody is in range
	}
	for _, tt := range tests {
		if got := eligibility.AgeCheck(tt.age, tt.lo, tt.hi); got != tt.want {
			t.Errorf("AgeCheck(%d, %d, %d) = %d, want %d", tt.age, tt.lo, tt.hi, got, tt.want)
		}
	}
}
