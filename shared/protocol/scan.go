package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// checkStorable walks the whole structure once, before anything interprets it, and reports the
// first place (in document order) where it is not JSON we can store in a jsonb column and serve
// to the runner: a syntax error, nesting deeper than MaxDepth, or a string or number that jsonb
// or JavaScript cannot represent. encoding/json alone would accept all of these except the
// syntax errors (it even replaces invalid UTF-8 silently), and the database would then fail the
// save with an error the researcher cannot act on.
func checkStorable(data []byte) *Error {
	w := &walker{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	if err := w.value(0); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return &Error{"/structure", "has more data after the JSON object"}
	}
	return nil
}

// walker is a depth-first walk over tokens that knows the JSON pointer of where it is.
type walker struct {
	data []byte
	dec  *json.Decoder
	path []string // escaped reference tokens below /structure
}

func (w *walker) pointer() string {
	if len(w.path) == 0 {
		return "/structure"
	}
	return "/structure/" + strings.Join(w.path, "/")
}

// value reads one value; depth counts the containers around it.
func (w *walker) value(depth int) *Error {
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return w.syntaxError(err)
	}
	switch t := tok.(type) {
	case string:
		if msg := stringLiteralProblem(w.literal(start)); msg != "" {
			return &Error{w.pointer(), msg}
		}
	case json.Number:
		if msg := numberProblem(string(t)); msg != "" {
			return &Error{w.pointer(), msg}
		}
	case json.Delim:
		if depth+1 > MaxDepth {
			return &Error{w.pointer(), fmt.Sprintf("nests objects and arrays more than %d levels deep", MaxDepth)}
		}
		if t == '{' {
			for w.dec.More() {
				keyStart := w.dec.InputOffset()
				keyTok, err := w.dec.Token()
				if err != nil {
					return w.syntaxError(err)
				}
				key, ok := keyTok.(string)
				if !ok { // the decoder only returns strings in key position
					return &Error{w.pointer(), "is not valid JSON"}
				}
				w.path = append(w.path, escapeToken(key))
				if msg := stringLiteralProblem(w.literal(keyStart)); msg != "" {
					return &Error{w.pointer(), "key " + msg}
				}
				if err := w.value(depth + 1); err != nil {
					return err
				}
				w.path = w.path[:len(w.path)-1]
			}
		} else {
			for i := 0; w.dec.More(); i++ {
				w.path = append(w.path, strconv.Itoa(i))
				if err := w.value(depth + 1); err != nil {
					return err
				}
				w.path = w.path[:len(w.path)-1]
			}
		}
		if _, err := w.dec.Token(); err != nil { // the closing delimiter
			return w.syntaxError(err)
		}
	}
	return nil
}

// literal returns the raw text of the string token that the decoder read starting at offset
// start. Only whitespace, ':' and ',' can come before the opening quote.
func (w *walker) literal(start int64) []byte {
	raw := w.data[start:w.dec.InputOffset()]
	return raw[bytes.IndexByte(raw, '"'):]
}

func (w *walker) syntaxError(err error) *Error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return &Error{w.pointer(), fmt.Sprintf("is not valid JSON: %v (at byte %d)", err, syntax.Offset)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{w.pointer(), "is not valid JSON: the document ends too early"}
	}
	return &Error{w.pointer(), "is not valid JSON: " + err.Error()}
}

// stringLiteralProblem checks a JSON string literal, quotes included, for what jsonb refuses:
// invalid UTF-8, the escape \u0000, and UTF-16 surrogate escapes that are not a high-low pair.
// JSON.parse and encoding/json accept all three (the latter turning them into U+FFFD).
func stringLiteralProblem(lit []byte) string {
	if !utf8.Valid(lit) {
		return "is not valid UTF-8"
	}
	for i := 1; i < len(lit)-1; i++ {
		if lit[i] != '\\' {
			continue
		}
		i++
		if lit[i] != 'u' {
			continue
		}
		r := hex4(lit[i+1 : i+5])
		i += 4
		switch {
		case r == 0:
			return `contains \u0000, which cannot be stored`
		case r >= 0xDC00 && r <= 0xDFFF:
			return fmt.Sprintf(`contains \u%04X without the high surrogate before it`, r)
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 < len(lit) && lit[i+1] == '\\' && lit[i+2] == 'u' {
				if low := hex4(lit[i+3 : i+7]); low >= 0xDC00 && low <= 0xDFFF {
					i += 6
					continue
				}
			}
			return fmt.Sprintf(`contains \u%04X without the low surrogate after it`, r)
		}
	}
	return ""
}

// hex4 decodes four hex digits that the JSON decoder has already validated.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// numberProblem rejects numbers that the runner would read as Infinity, and numbers with more
// than MaxNumberScale decimal places, which PostgreSQL's numeric type (behind jsonb) may refuse.
func numberProblem(num string) string {
	if f, err := strconv.ParseFloat(num, 64); err != nil || math.IsInf(f, 0) {
		return "is a number too large for JavaScript"
	}
	if decimalScale(num) > MaxNumberScale {
		return fmt.Sprintf("is a number with more than %d decimal places", MaxNumberScale)
	}
	return ""
}

// decimalScale returns how many digits follow the decimal point when num, a valid JSON number,
// is written without an exponent and without trailing zeros; math.MaxInt when the exponent is
// too negative to count.
func decimalScale(num string) int {
	mantissa, exponent, hasExp := strings.Cut(strings.ToLower(num), "e")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(mantissa, "-"), ".")
	digits := whole + frac
	significant := strings.TrimRight(digits, "0")
	if strings.Trim(significant, "0") == "" {
		return 0 // zero, whatever its exponent
	}
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(exponent)
		if err != nil || e < math.MinInt32 {
			return math.MaxInt
		}
		exp = min(e, math.MaxInt32) // a large positive exponent only lowers the scale
	}
	return max(0, len(frac)-exp-(len(digits)-len(significant)))
}
