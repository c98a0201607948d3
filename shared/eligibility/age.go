package eligibility

import (
	"time"

	"lookit.dev/platform/shared/accounts"
)

// Lookit states a study's minimum and maximum ages in years, months and days and converts them
// with fixed lengths, not calendar arithmetic, so a "1 year" limit is always 365 days.
const (
	daysPerYear  = 365
	daysPerMonth = 30
)

// BoundDays converts an age limit of years, months and days to days as Lookit does:
// years*365 + months*30 + days.
func BoundDays(years, months, days int) int {
	return years*daysPerYear + months*daysPerMonth + days
}

// AgeDays returns the number of whole days from birthday to today (negative when birthday is
// later). Only the calendar dates count, each read in its own time.Time's location; the
// difference is taken between UTC midnights so that daylight-saving changes cannot shorten a day.
// Pass today as time.Now().UTC() to use the server's date as Lookit does.
func AgeDays(birthday, today time.Time) int {
	return accounts.DateOf(today).DaysSince(accounts.DateOf(birthday))
}

// AgeCheck compares an age with a study's limits, both inclusive. It returns 0 when
// minDays <= ageDays <= maxDays, ageDays-minDays (negative) when the child is too young and
// ageDays-maxDays (positive) when too old, so a caller can say how many days are missing.
func AgeCheck(ageDays, minDays, maxDays int) int {
	switch {
	case ageDays < minDays:
		return ageDays - minDays
	case ageDays > maxDays:
		return ageDays - maxDays
	}
	return 0
}
