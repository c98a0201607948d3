package passwords

import (
	"strings"
	"unicode/utf8"

	"lookit.dev/platform/shared/apperr"
)

// Minimum lengths, as Lookit: 10 characters for everyone, 16 for researchers.
const (
	MinLength           = 10
	MinResearcherLength = 16
	MaxLength           = 1024
)

// Validate checks a new password; field is the JSON pointer to name in the error.
func Validate(field, password, email string, researcher bool) error {
	n := utf8.RuneCountInString(password)
	min := MinLength
	if researcher {
		min = MinResearcherLength
	}
	switch {
	case !utf8.ValidString(password) || strings.ContainsRune(password, 0):
		return apperr.Field(field, "password contains characters that cannot be used")
	case n < min:
		return apperr.Field(field, "password must be at least %d characters", min)
	case len(password) > MaxLength:
		return apperr.Field(field, "password must be at most %d bytes", MaxLength)
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return apperr.Field(field, "password must not be your email address")
	case strings.Count(password, string([]rune(password)[0])) == n:
		return apperr.Field(field, "password must not repeat one character")
	}
	return nil
}
