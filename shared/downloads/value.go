package downloads

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is the Python type a JSON value becomes under Lookit's json.loads.
type kind uint8

const (
	nullKind   kind = iota // None
	boolKind               // bool
	intKind                // int: a number written without fraction or exponent
	floatKind              // float
	stringKind             // str
	arrayKind              // list
	objectKind             // dict
)

// value is a decoded JSON value. Unlike encoding/json's map[string]any it keeps the order of
// object members, because Lookit's column order, frame-data row order and JSON output follow
// Python's dicts, which keep it.
type value struct {
	kind  kind
	b     bool
	s     string   // a string, or the literal text of a number
	keys  []string // member names of an object, parallel to elems
	elems []value  // elements of an array, or member values of an object
}

var nullValue = value{}

func stringValue(s string) value { return value{kind: stringKind, s: s} }
func boolValue(b bool) value     { return value{kind: boolKind, b: b} }
func intValue(n int64) value     { return value{kind: intKind, s: strconv.FormatInt(n, 10)} }

// member returns an object's member named key; ok is false for a non-object or a missing key.
func (v *value) member(key string) (*value, bool) {
	if v.kind != objectKind {
		return nil, false
	}
	for i, k := range v.keys {
		if k == key {
			return &v.elems[i], true
		}
	}
	return nil, false
}

// truthy is Python's bool(v).
func (v *value) truthy() bool {
	switch v.kind {
	case boolKind:
		return v.b
	case intKind:
		return strings.Trim(v.s, "-0") != ""
	case floatKind:
		return v.float() != 0 // NaN is true in Python too
	case stringKind:
		return v.s != ""
	case arrayKind, objectKind:
		return len(v.elems) > 0
	}
	return false
}

// float is a float value as Python's float() parses it: out of range is ±inf or 0.
func (v *value) float() float64 {
	f, _ := strconv.ParseFloat(v.s, 64)
	return f
}

// errInvalidJSON reports text that is not JSON; the offset makes a bad column findable.
type errInvalidJSON struct{ offset int }

func (e errInvalidJSON) Error() string { return fmt.Sprintf("not valid JSON (at byte %d)", e.offset) }

// maxDepth is the deepest nesting accepted: about where Lookit's json.loads stops with a
// RecursionError (Python's default recursion limit is 1000). Deeper data would also make the
// indented JSON download grow with the square of the depth.
const maxDepth = 1000

// errTooDeep reports JSON nested deeper than maxDepth.
type errTooDeep struct{ offset int }

func (e errTooDeep) Error() string {
	return fmt.Sprintf("JSON nested more than %d deep (at byte %d)", maxDepth, e.offset)
}

// parseJSON decodes JSON text as Python's json.loads does: integers stay exact, objects keep
// their member order, and a repeated member name keeps its first position and its last value.
// It accepts what json.Valid accepts, up to maxDepth levels of nesting. Input of only white
// space is ifEmpty (the column's default), so a zero Response is usable.
func parseJSON(data []byte, ifEmpty value) (value, error) {
	p := jsonParser{data: data}
	p.skipSpace()
	if p.pos == len(data) {
		return ifEmpty, nil
	}
	v := p.parse(0)
	p.skipSpace()
	if p.err == nil && p.pos != len(data) {
		p.fail()
	}
	if p.err != nil {
		return value{}, p.err
	}
	return v, nil
}

type jsonParser struct {
	data []byte
	pos  int
	err  error
	// Members and elements of the containers being parsed, copied out into a slice of the
	// right size when their container ends: one allocation per container instead of
	// repeated growth.
	elems []value
	keys  []string
}

func (p *jsonParser) fail() {
	if p.err == nil {
		p.err = errInvalidJSON{p.pos}
	}
	p.pos = len(p.data) // stops every loop
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// next returns the byte at p.pos, or 0 at the end.
func (p *jsonParser) next() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// parse decodes the value at p.pos inside depth containers. On an error it sets p.err.
func (p *jsonParser) parse(depth int) value {
	switch c := p.next(); c {
	case '{', '[':
		if depth >= maxDepth {
			p.err = errTooDeep{p.pos}
			p.fail()
			return value{}
		}
		return p.parseContainer(c, depth+1)
	case '"':
		return stringValue(p.parseString())
	case 't':
		return p.literal("true", boolValue(true))
	case 'f':
		return p.literal("false", boolValue(false))
	case 'n':
		return p.literal("null", nullValue)
	}
	return p.parseNumber()
}

func (p *jsonParser) literal(text string, v value) value {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(text)) {
		p.fail()
		return value{}
	}
	p.pos += len(text)
	return v
}

// parseContainer decodes an object or array whose opening bracket is at p.pos.
func (p *jsonParser) parseContainer(open byte, depth int) value {
	isObject := open == '{'
	close := byte(']')
	if isObject {
		close = '}'
	}
	p.pos++
	base := len(p.elems)
	p.skipSpace()
	if p.next() == close {
		p.pos++
	} else {
		for p.err == nil {
			key := ""
			if isObject {
				if p.next() != '"' {
					p.fail()
					break
				}
				key = p.parseString()
				p.skipSpace()
				if p.next() != ':' {
					p.fail()
					break
				}
				p.pos++
				p.skipSpace()
			}
			elem := p.parse(depth)
			p.keys = append(p.keys, key) // keys stays as high as elems
			p.elems = append(p.elems, elem)
			p.skipSpace()
			if c := p.next(); c == ',' {
				p.pos++
				p.skipSpace()
				continue
			} else if c == close {
				p.pos++
				break
			}
			p.fail()
		}
	}
	v := value{kind: arrayKind}
	if p.err == nil && len(p.elems) > base {
		v.elems = slices.Clone(p.elems[base:])
		if isObject {
			v.keys = slices.Clone(p.keys[base:])
			v.keys, v.elems = dedupeMembers(v.keys, v.elems)
		}
	}
	if isObject {
		v.kind = objectKind
	}
	p.keys, p.elems = p.keys[:base], p.elems[:base]
	return v
}

// parseNumber decodes -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at p.pos, keeping its
// text. Without fraction or exponent it is a Python int.
func (p *jsonParser) parseNumber() value {
	start := p.pos
	digits := func() bool {
		from := p.pos
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
		}
		return p.pos > from
	}
	if p.next() == '-' {
		p.pos++
	}
	switch c := p.next(); {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		digits()
	default:
		p.fail()
		return value{}
	}
	k := intKind
	if p.next() == '.' {
		p.pos++
		k = floatKind
		if !digits() {
			p.fail()
			return value{}
		}
	}
	if c := p.next(); c == 'e' || c == 'E' {
		p.pos++
		k = floatKind
		if c := p.next(); c == '+' || c == '-' {
			p.pos++
		}
		if !digits() {
			p.fail()
			return value{}
		}
	}
	return value{kind: k, s: string(p.data[start:p.pos])}
}

// parseString decodes the string whose opening quote is at p.pos. Escaped lone surrogates
// and invalid UTF-8 become U+FFFD, as encoding/json does (jsonb refuses both).
func (p *jsonParser) parseString() string {
	p.pos++
	start := p.pos
	// Fast path: no escapes and valid UTF-8 up to the closing quote.
	for i := start; i < len(p.data); i++ {
		c := p.data[i]
		if c == '"' {
			if utf8.Valid(p.data[start:i]) {
				p.pos = i + 1
				return string(p.data[start:i])
			}
			break
		}
		if c == '\\' || c < ' ' {
			break
		}
	}
	var b strings.Builder
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String()
		case c < ' ':
			p.fail()
			return ""
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				p.fail()
				return ""
			}
			e := p.data[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					p.fail()
					return ""
				}
				if r >= 0xd800 && r < 0xdc00 && p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					if lo, ok := p.hex4(); ok && lo >= 0xdc00 && lo < 0xe000 {
						b.WriteRune(0x10000 + (r-0xd800)<<10 + (lo - 0xdc00))
						break
					}
					p.pos = save
				}
				if r >= 0xd800 && r < 0xe000 {
					r = utf8.RuneError
				}
				b.WriteRune(r)
			default:
				p.fail()
				return ""
			}
		default:
			r, n := utf8.DecodeRune(p.data[p.pos:])
			b.WriteRune(r) // RuneError for an invalid byte
			p.pos += n
		}
	}
	p.fail() // no closing quote
	return ""
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
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
	p.pos += 4
	return r, true
}

// dedupeMembers applies Python's dict semantics to repeated member names: the first position
// and the last value.
func dedupeMembers(keys []string, vals []value) ([]string, []value) {
	if len(keys) < 2 {
		return keys, vals
	}
	if len(keys) <= 8 {
		dup := false
		for i := 1; i < len(keys) && !dup; i++ {
			for j := 0; j < i; j++ {
				if keys[i] == keys[j] {
					dup = true
					break
				}
			}
		}
		if !dup {
			return keys, vals
		}
	}
	at := make(map[string]int, len(keys))
	outKeys, outVals := keys[:0], vals[:0]
	for i, k := range keys {
		if j, ok := at[k]; ok {
			outVals[j] = vals[i]
			continue
		}
		at[k] = len(outKeys)
		outKeys = append(outKeys, k)
		outVals = append(outVals, vals[i])
	}
	return outKeys, outVals
}

// pyInt is Python's str() of an int written as JSON: the literal, with -0 as 0.
func pyInt(literal string) string {
	if strings.Trim(literal, "-0") == "" {
		return "0"
	}
	return literal
}

// pyFloat is Python's repr() (and str()) of a float: the shortest text that reads back to the
// same float, in positional notation when the decimal exponent is in [-4, 16), else scientific
// with at least two exponent digits; integral values keep a ".0".
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	point := exp + 1 // digits are 0.<digits> × 10^point
	if point <= -4 || point > 16 {
		out := sign + digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		x := strconv.Itoa(exp)
		if len(x) < 2 {
			x = "0" + x
		}
		return out + "e" + es + x
	}
	switch {
	case point <= 0:
		return sign + "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		return sign + digits + strings.Repeat("0", point-len(digits)) + ".0"
	}
	return sign + digits[:point] + "." + digits[point:]
}

// appendPyRepr appends Python's repr() of v: what csv writes for a list or dict value, and
// what Lookit's demographic CSV shows for its list columns ("['white', 'asian']").
func appendPyRepr(buf []byte, v *value) []byte {
	switch v.kind {
	case nullKind:
		return append(buf, "None"...)
	case boolKind:
		if v.b {
			return append(buf, "True"...)
		}
		return append(buf, "False"...)
	case intKind:
		return append(buf, pyInt(v.s)...)
	case floatKind:
		return append(buf, pyFloat(v.float())...)
	case stringKind:
		return appendPyStrRepr(buf, v.s)
	case arrayKind:
		buf = append(buf, '[')
		for i := range v.elems {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = appendPyRepr(buf, &v.elems[i])
		}
		return append(buf, ']')
	}
	buf = append(buf, '{')
	for i := range v.elems {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = appendPyStrRepr(buf, v.keys[i])
		buf = append(buf, ": "...)
		buf = appendPyRepr(buf, &v.elems[i])
	}
	return append(buf, '}')
}

const lowerHex = "0123456789abcdef"

// appendPyStrRepr appends Python's repr() of a str: single quotes unless the text has a single
// quote and no double quote; backslash escapes for the quote, backslash, \t \n \r and
// characters Python does not print.
func appendPyStrRepr(buf []byte, s string) []byte {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	buf = append(buf, quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			buf = append(buf, '\\', byte(r))
		case r == '\t':
			buf = append(buf, `\t`...)
		case r == '\n':
			buf = append(buf, `\n`...)
		case r == '\r':
			buf = append(buf, `\r`...)
		case r < ' ' || r == 0x7f || (r >= 0x80 && !unicode.IsPrint(r)):
			switch {
			case r <= 0xff:
				buf = append(buf, '\\', 'x', lowerHex[r>>4], lowerHex[r&0xf])
			case r <= 0xffff:
				buf = append(buf, '\\', 'u')
				buf = appendHex(buf, uint32(r), 4)
			default:
				buf = append(buf, '\\', 'U')
				buf = appendHex(buf, uint32(r), 8)
			}
		default:
			buf = utf8.AppendRune(buf, r)
		}
	}
	return append(buf, quote)
}

func appendHex(buf []byte, n uint32, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		buf = append(buf, lowerHex[(n>>(4*uint(i)))&0xf])
	}
	return buf
}

// appendPyJSON appends Python's json.dumps(v, indent="\t") at nesting level: ensure_ascii
// escapes, ", " never (indent makes the item separator ","), ": " between key and value, and
// Infinity/NaN for non-finite floats.
func appendPyJSON(buf []byte, v *value, level int) []byte {
	switch v.kind {
	case nullKind:
		return append(buf, "null"...)
	case boolKind:
		if v.b {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case intKind:
		return append(buf, pyInt(v.s)...)
	case floatKind:
		f := v.float()
		switch {
		case math.IsNaN(f):
			return append(buf, "NaN"...)
		case math.IsInf(f, 1):
			return append(buf, "Infinity"...)
		case math.IsInf(f, -1):
			return append(buf, "-Infinity"...)
		}
		return append(buf, pyFloat(f)...)
	case stringKind:
		return appendJSONString(buf, v.s)
	}
	open, close := byte('['), byte(']')
	if v.kind == objectKind {
		open, close = '{', '}'
	}
	if len(v.elems) == 0 {
		return append(buf, open, close)
	}
	buf = append(buf, open)
	for i := range v.elems {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		buf = appendIndent(buf, level+1)
		if v.kind == objectKind {
			buf = appendJSONString(buf, v.keys[i])
			buf = append(buf, ": "...)
		}
		buf = appendPyJSON(buf, &v.elems[i], level+1)
	}
	buf = append(buf, '\n')
	buf = appendIndent(buf, level)
	return append(buf, close)
}

func appendIndent(buf []byte, level int) []byte {
	for range level {
		buf = append(buf, '\t')
	}
	return buf
}

// appendJSONString appends s as Python's json module writes it with ensure_ascii: everything
// outside printable ASCII as \uXXXX (UTF-16 surrogate pairs above U+FFFF).
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for _, r := range s {
		switch {
		case r == '"':
			buf = append(buf, `\"`...)
		case r == '\\':
			buf = append(buf, `\\`...)
		case r == '\n':
			buf = append(buf, `\n`...)
		case r == '\r':
			buf = append(buf, `\r`...)
		case r == '\t':
			buf = append(buf, `\t`...)
		case r == '\b':
			buf = append(buf, `\b`...)
		case r == '\f':
			buf = append(buf, `\f`...)
		case r >= ' ' && r <= '~':
			buf = append(buf, byte(r))
		case r > 0xffff:
			r -= 0x10000
			buf = append(buf, '\\', 'u')
			buf = appendHex(buf, uint32(0xd800+(r>>10)), 4)
			buf = append(buf, '\\', 'u')
			buf = appendHex(buf, uint32(0xdc00+(r&0x3ff)), 4)
		default:
			buf = append(buf, '\\', 'u')
			buf = appendHex(buf, uint32(r), 4)
		}
	}
	return append(buf, '"')
}
