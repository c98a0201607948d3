package jsonapi

import (
	"bytes"
	"strconv"
)

// The experiment runner saves its whole record after every frame: a document of hundreds of
// kilobytes, nearly all of it the values of a few attributes. encoding/json runs its validating
// scanner over every byte twice (once to find the value's end, once to decode it). Decode instead
// checks the syntax once with valid, a faster equivalent of json.Valid, and lets encoding/json
// decode a skeleton of the document in which the large values of attributes and relationships
// stand replaced by short placeholders; the values are then put back as sent. encoding/json still
// decides everything about the document's structure, so the result is the same.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// valid reports whether b is one JSON value with optional surrounding whitespace, as json.Valid.
func valid(b []byte) bool {
	i, ok := validValue(b, skipSpace(b, 0), 1)
	return ok && skipSpace(b, i) == len(b)
}

// validValue checks the value at b[i] at nesting depth depth and returns the index after it.
func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		return validContainer(b, i, depth)
	case c == '"':
		return validString(b, i)
	case c == 't':
		return validLiteral(b, i, "true")
	case c == 'f':
		return validLiteral(b, i, "false")
	case c == 'n':
		return validLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	}
	return i, false
}

// validContainer checks the object or array at b[i].
func validContainer(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	object := b[i] == '{'
	end := byte(']')
	if object {
		end = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == end {
		return i + 1, true
	}
	for {
		var ok bool
		if object {
			if i, ok = validString(b, i); !ok {
				return i, false
			}
			if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
		if i, ok = validValue(b, i, depth+1); !ok {
			return i, false
		}
		if i = skipSpace(b, i); i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case end:
			return i + 1, true
		default:
			return i, false
		}
	}
}

// inString marks the bytes a string's scan stops at: its end, an escape, a control character.
var inString = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// validString checks the string at b[i]: no control characters, only JSON's escapes. Like
// encoding/json it does not check UTF-8 (jsonb.Check does).
func validString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); i++ {
		if !inString[b[i]] {
			continue
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		default: // a control character
			return i, false
		}
	}
	return i, false
}

func validLiteral(b []byte, i int, lit string) (int, bool) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return i, false
	}
	return i + len(lit), true
}

// validNumber checks JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) (int, bool) {
	digits := func(i int) (int, bool) {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j, j > i
	}
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	if b[i] == '0' {
		i++
	} else {
		var ok bool
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	if i < len(b) && b[i] == '.' {
		var ok bool
		if i, ok = digits(i + 1); !ok {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		var ok bool
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	return i, true
}

// minHidden is the size from which skeleton replaces a value: below it the placeholder saves
// nothing.
const minHidden = 256

// placeholderPrefix starts every placeholder: a string holding a NUL escape, which no body
// skeleton is used for holds (jsonb refuses NUL, and skeleton leaves such bodies alone).
const placeholderPrefix = `"\u0000`

// skeleton returns valid JSON doc with the large values of members of objects three deep (a
// resource's attributes and relationships: doc → data → attributes → value) replaced by
// placeholders, and the replaced values by placeholder. ok=false when doc already holds the
// placeholders' prefix or nothing is worth replacing.
func skeleton(doc []byte) (skel []byte, hidden map[string][]byte, ok bool) {
	if bytes.Contains(doc, []byte(placeholderPrefix[1:])) {
		return nil, nil, false
	}
	type span struct{ start, end int }
	var spans []span
	var walk func(i, depth int) int
	// walk returns the index after the value at doc[i] (valid JSON), noting the spans of the
	// member values at depth 3.
	walk = func(i, depth int) int {
		if doc[i] != '{' {
			return skipValue(doc, i)
		}
		i = skipSpace(doc, i+1)
		for doc[i] != '}' {
			if doc[i] == ',' {
				i = skipSpace(doc, i+1)
				continue
			}
			i = skipSpace(doc, skipString(doc, i))
			i = skipSpace(doc, i+1) // the colon
			var end int
			if depth < 3 {
				end = walk(i, depth+1)
			} else {
				end = skipValue(doc, i)
				if end-i >= minHidden {
					spans = append(spans, span{i, end})
				}
			}
			i = skipSpace(doc, end)
		}
		return i + 1
	}
	walk(skipSpace(doc, 0), 1)
	if len(spans) == 0 {
		return nil, nil, false
	}
	hidden = make(map[string][]byte, len(spans))
	skel = make([]byte, 0, 1024)
	last := 0
	for k, s := range spans {
		p := placeholderPrefix + strconv.Itoa(k) + `"`
		hidden[p] = doc[s.start:s.end]
		skel = append(append(skel, doc[last:s.start]...), p...)
		last = s.end
	}
	return append(skel, doc[last:]...), hidden, true
}
