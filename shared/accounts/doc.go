// Package accounts is the pure domain model of a family's account data as Lookit keeps it: children
// (with Lookit's condition and language bit fields), versioned demographic data, and the four email
// preference flags. It does no I/O; storage code maps these types 1:1 onto the children,
// demographic_data and users tables of migrations/00002_accounts.sql.
//
// Validation of what a family submits (ChildInput, DemographicsInput) returns an *apperr.Error with
// code apperr.Invalid whose Field is the JSON pointer of the first offending input field, in the
// order the fields are declared; an element of a list is named by its index
// ("/languages_spoken/2", "/child_birthdays/0").
//
// Calendar dates (a child's birthday, the demographic child_birthdays) are the Date type of this
// package: a year, month and day with no time of day and no time zone, matching PostgreSQL's date
// and Django's DateField. "Today" is always passed in by the caller, who decides the time zone.
package accounts
