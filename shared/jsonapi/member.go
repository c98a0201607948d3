package jsonapi

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Member returns the value of key in the JSON object obj without decoding the rest, for the
// large whole-record saves of the experiment runner (finding the last frame's data in an
// exp_data of hundreds of kilobytes). obj must be valid JSON, as a decoded request body is. When
// keys hold escapes or invalid UTF-8 (which encoding/json reads as U+FFFD) it falls back to
// encoding/json. The last occurrence wins, as in encoding/json.
func Member(obj []byte, key string) (json.RawMessage, bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	var found json.RawMessage
	ok := false
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] == '}' {
			return found, ok
		}
		if obj[i] == ',' {
			i++
			continue
		}
		end := skipString(obj, i)
		if end < 0 {
			return nil, false
		}
		name := obj[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			return memberSlow(obj, key)
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
		vend := skipValue(obj, i)
		if vend < 0 {
			return nil, false
		}
		if string(name) == key {
			found, ok = obj[i:vend], true
		}
		i = vend
	}
}

func memberSlow(obj []byte, key string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] (a quote), or -1. It jumps
// from quote to quote (bytes.IndexByte is vectorised; frame data is mostly long strings): a quote
// ends the string unless an odd run of backslashes escapes it.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	start := i + 1
	for j := start; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		n := 0
		for q-1-n >= start && b[q-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				e := skipString(b, i)
				if e < 0 {
					return -1
				}
				i = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}
