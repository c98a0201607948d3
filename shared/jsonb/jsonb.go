// Package jsonb checks that JSON text can be stored in a PostgreSQL jsonb column as sent. Go's
// decoder and browsers accept things jsonb refuses (a NUL escape, an unpaired surrogate escape,
// invalid UTF-8), which would otherwise surface as a 500 from the database instead of a 400.
package jsonb

import (
	"bytes"
	"errors"
	"unicode/utf8"
)

// ErrNotStorable explains why a document cannot be stored.
var (
	ErrInvalidUTF8 = errors.New("text must be valid UTF-8")
	ErrNUL         = errors.New(`text must not contain the NUL character (\u0000)`)
	ErrSurrogate   = errors.New("text has an unpaired UTF-16 surrogate escape")
)

func hexVal(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// Check reports whether syntactically valid JSON b can be stored in jsonb. It does not check
// the syntax itself: callers have decoded b already.
func Check(b []byte) error {
	if !utf8.Valid(b) {
		return ErrInvalidUTF8
	}
	// Only escapes matter: jump from backslash to backslash (frame data has few).
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return nil
		}
		i += j
		if i+1 >= len(b) {
			return nil
		}
		if b[i+1] != 'u' {
			i += 2 // a two-character escape such as \" or \\
			continue
		}
		r, ok := hexVal(b[i+2:])
		if !ok {
			i++
			continue
		}
		switch {
		case r == 0:
			return ErrNUL
		case r >= 0xD800 && r <= 0xDBFF:
			// A high surrogate must be followed by a low one.
			if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hexVal(b[i+8:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 12
					continue
				}
			}
			return ErrSurrogate
		case r >= 0xDC00 && r <= 0xDFFF:
			return ErrSurrogate
		}
		i += 6
	}
}
