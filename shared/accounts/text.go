package accounts

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"lookit.dev/platform/shared/apperr"
)

// Input caps. Text lengths count Unicode code points (runes) after trimming surrounding white space.
const (
	MaxNameRunes   = 255      // a child's given name (Lookit's max_length=255)
	MaxTextRunes   = 10_000   // every free-text field (Lookit's unbounded TextFields)
	MaxListEntries = 100      // entries in any list field of an input
	MaxExtraBytes  = 16 << 10 // bytes of the demographic extra JSON object as received
)

// Lookit's Django forms strip surrounding white space from every text field; so do we.
func clean(s string) string { return strings.TrimSpace(s) }

// CheckText validates one free-text field already trimmed: valid UTF-8 (PostgreSQL text rejects
// anything else), at most max runes, and no control characters except tab, line feed and carriage
// return when multiline (PostgreSQL text cannot hold NUL at all).
func CheckText(pointer, name, s string, max int, multiline bool) *apperr.Error {
	if !utf8.ValidString(s) {
		return apperr.Field(pointer, "%s must be valid UTF-8 text", name)
	}
	// A rune is at most 4 bytes, so this bounds the count before counting a huge string.
	if len(s) > 4*max || utf8.RuneCountInString(s) > max {
		return apperr.Field(pointer, "%s must be at most %d characters", name, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return apperr.Field(pointer, "%s must not contain control characters", name)
		}
	}
	return nil
}

// checkCodes reports a too-long list or an unknown code in a bit-field list at pointer/<index>.
func checkCodes(pointer, name string, codes []string, parse func([]string) error) *apperr.Error {
	if len(codes) > MaxListEntries {
		return apperr.Field(pointer, "%s must have at most %d entries", name, MaxListEntries)
	}
	if err := parse(codes); err != nil {
		var u *UnknownCodeError
		if errors.As(err, &u) {
			return apperr.Field(fmt.Sprintf("%s/%d", pointer, u.Index), "unknown %s code %q", u.Kind, truncate(u.Code))
		}
		return apperr.Field(pointer, "%s is invalid", name)
	}
	return nil
}

// truncate shortens an echoed value so an error message never carries a megabyte of input.
func truncate(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// oneOf reports whether v is "" (no answer) or one of the allowed values.
func oneOf(v string, allowed []Choice) bool {
	if v == "" {
		return true
	}
	for _, c := range allowed {
		if c.Value == v {
			return true
		}
	}
	return false
}

// Choice is one allowed value of a single- or multiple-choice field and its English label.
type Choice struct {
	Value string
	Label string
}

// NormalizeEmail checks an address and returns it trimmed; field names it in errors.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || len(s) > 254 {
		return "", apperr.Field(field, "enter a valid email address")
	}
	return s, nil
}
