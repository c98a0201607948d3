package jsonapi

import "bytes"

// AppendCompact appends valid JSON src to dst as encoding/json writes a json.RawMessage inside
// a document (json.Marshal, or an Encoder with HTML escaping on): without insignificant
// whitespace, and with <, >, & and U+2028, U+2029 escaped. It is for frame data read back from
// jsonb (always valid, with a space after every colon and comma), megabytes of it in a list:
// encoding/json runs its validating scanner over every byte, this jumps from string to string.
// src must be valid JSON; otherwise the output is unspecified.
func AppendCompact(dst, src []byte) []byte {
	// Frame data rarely holds anything to escape: then its strings are copied whole, found by
	// vectorised searches rather than byte by byte.
	escape := appendEscapedHTML
	if bytes.IndexByte(src, '<') < 0 && bytes.IndexByte(src, '>') < 0 && bytes.IndexByte(src, '&') < 0 && bytes.IndexByte(src, 0xE2) < 0 {
		escape = func(dst, s []byte) []byte { return append(dst, s...) }
	}
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end := skipString(src, i)
			if end < 0 { // not valid JSON: keep the rest as it is
				return append(dst, src[i:]...)
			}
			dst = escape(dst, src[i:end])
			i = end
		default:
			// Up to the next string or space: punctuation, numbers, literals.
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != ' ' && src[j] != '\t' && src[j] != '\n' && src[j] != '\r' {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// htmlSpecial marks the bytes that may start what appendEscapedHTML escapes.
var htmlSpecial = [256]bool{'<': true, '>': true, '&': true, 0xE2: true}

// appendEscapedHTML appends a JSON string token, escaping what encoding/json's HTML-safe output
// escapes: <, > and & as \u003c, \u003e, \u0026, and the line and paragraph separators U+2028
// and U+2029 (E2 80 A8, E2 80 A9) as \u2028, \u2029.
func appendEscapedHTML(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !htmlSpecial[c] {
			continue
		}
		switch {
		case c != 0xE2:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			start = i + 1
		case i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[s[i+2]&0xF])
			i += 2
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}
