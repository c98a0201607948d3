package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SameProtocol reports whether two structures have the same "frames" and the same "sequence" as
// JSON values: key order, whitespace and number spelling (1, 1.0, 10e-1) do not matter, array
// order does. Everything else, in particular "exact_text", is ignored. lookit-api uses this rule
// to decide whether an edit to an approved study changed its protocol (lookit-api.md §2.2; it
// compares structure.get("frames") and structure.get("sequence"), so a missing member equals
// null). A
// repeated key counts with its last value, as in jsonb and JavaScript. The error reports a
// structure that is not a JSON object.
func SameProtocol(a, b json.RawMessage) (bool, error) {
	da, err := decodeObject(a)
	if err != nil {
		return false, fmt.Errorf("protocol: first structure: %w", err)
	}
	db, err := decodeObject(b)
	if err != nil {
		return false, fmt.Errorf("protocol: second structure: %w", err)
	}
	return jsonEqual(da["frames"], db["frames"]) && jsonEqual(da["sequence"], db["sequence"]), nil
}

func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // compare numbers exactly, not as rounded doubles
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more data after the JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return obj, nil
}

// jsonEqual compares two values decoded with UseNumber.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case string:
		b, ok := b.(string)
		return ok && a == b
	case json.Number:
		b, ok := b.(json.Number)
		return ok && numbersEqual(string(a), string(b))
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !jsonEqual(av, bv) {
				return false
			}
		}
		return true
	}
	return false
}

// numbersEqual compares two JSON numbers by their exact decimal value, as PostgreSQL's numeric
// does. Should an exponent not fit an int64, only identical spellings are equal, which at worst
// reports a change that is not one.
func numbersEqual(a, b string) bool {
	if a == b {
		return true
	}
	da, ok := canonicalDecimal(a)
	if !ok {
		return false
	}
	db, ok := canonicalDecimal(b)
	return ok && da == db
}

// decimal is a JSON number as ±0.digits × 10^exp, digits without leading or trailing zeros;
// zero is the zero value.
type decimal struct {
	negative bool
	digits   string
	exp      int64
}

func canonicalDecimal(num string) (decimal, bool) {
	mantissa, exponent, hasExp := strings.Cut(strings.ToLower(num), "e")
	negative := strings.HasPrefix(mantissa, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(mantissa, "-"), ".")
	all := whole + frac
	trimmed := strings.TrimLeft(all, "0")
	leadingZeros := len(all) - len(trimmed)
	digits := strings.TrimRight(trimmed, "0")
	if digits == "" {
		return decimal{}, true // -0 == 0
	}
	var exp int64
	if hasExp {
		e, err := strconv.ParseInt(exponent, 10, 64)
		// Beyond ±2^53 adding the (at most 2 MiB) digit count below could overflow.
		if err != nil || e > 1<<53 || e < -(1<<53) {
			return decimal{}, false
		}
		exp = e
	}
	return decimal{negative: negative, digits: digits, exp: exp + int64(len(whole)) - int64(leadingZeros)}, true
}
