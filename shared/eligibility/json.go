package eligibility

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"lookit.dev/platform/shared/accounts"
)

// ErrBadAST is wrapped by every error of Expr.UnmarshalJSON about a well-formed JSON document
// that is not a criteria tree Parse could have produced.
var ErrBadAST = errors.New("eligibility: not a criteria expression tree")

// MarshalJSON encodes the expression as the tree described in the package documentation; the
// empty expression is null.
func (e *Expr) MarshalJSON() ([]byte, error) {
	if e == nil || e.root == nil {
		return []byte("null"), nil
	}
	return e.root.appendJSON(nil), nil
}

// appendJSON writes the node by hand: every string in the tree is one of a few fixed ASCII words,
// so nothing needs escaping, and key order is fixed so equal trees give equal bytes.
func (n *node) appendJSON(b []byte) []byte {
	b = append(b, `{"op":"`...)
	b = append(b, opNames[n.op]...)
	b = append(b, '"')
	switch n.op {
	case opAnd, opOr:
		b = append(b, `,"args":[`...)
		for i, a := range n.args {
			if i > 0 {
				b = append(b, ',')
			}
			b = a.appendJSON(b)
		}
		b = append(b, ']')
	case opNot:
		b = append(b, `,"arg":`...)
		b = n.arg.appendJSON(b)
	case opCmp:
		b = append(b, `,"field":"`...)
		b = append(b, n.field...)
		b = append(b, `","cmp":"`...)
		b = append(b, n.cmp...)
		b = append(b, `","value":`...)
		b = strconv.AppendInt(b, int64(n.value), 10)
	case opGestNA:
		b = append(b, `,"negate":`...)
		b = strconv.AppendBool(b, n.negate)
	case opGender:
		b = append(b, `,"negate":`...)
		b = strconv.AppendBool(b, n.negate)
		b = append(b, `,"value":"`...)
		b = append(b, n.gender...)
		b = append(b, '"')
	case opCondition, opLanguage:
		b = append(b, `,"bit":`...)
		b = strconv.AppendInt(b, int64(n.bit), 10)
	}
	return append(b, '}')
}

// wireNode is a node as decoded, before it is checked. Value is kept raw because it is a number
// in a comparison and a string in a gender test.
type wireNode struct {
	Op     string          `json:"op"`
	Args   []*wireNode     `json:"args"`
	Arg    *wireNode       `json:"arg"`
	Field  string          `json:"field"`
	Cmp    string          `json:"cmp"`
	Value  json.RawMessage `json:"value"`
	Negate bool            `json:"negate"`
	Bit    *int            `json:"bit"`
}

// UnmarshalJSON decodes the tree MarshalJSON writes; null is the empty expression. It accepts
// exactly the trees Parse can produce (values in range, known codes, nesting within MaxNesting),
// so a decoded Expr always prints as a valid expression and evaluates the same in SQL.
func (e *Expr) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*e = Expr{}
		return nil
	}
	var w wireNode
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("eligibility: decode criteria tree: %w", err)
	}
	root, err := w.build(0)
	if err != nil {
		return err
	}
	*e = Expr{root: root}
	return nil
}

// build checks and converts a decoded node. depth counts the parentheses and NOTs String would
// write around it, which is the nesting Parse would count reading String's output.
func (w *wireNode) build(depth int) (*node, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: missing node", ErrBadAST)
	}
	if depth > MaxNesting {
		return nil, fmt.Errorf("%w: nested more than %d levels deep", ErrBadAST, MaxNesting)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %q node: %s", ErrBadAST, w.Op, fmt.Sprintf(format, args...))
	}
	switch w.Op {
	case "and", "or":
		op := opAnd
		if w.Op == "or" {
			op = opOr
		}
		if len(w.Args) < 2 {
			return nil, bad("needs at least two args, has %d", len(w.Args))
		}
		n := &node{op: op, args: make([]*node, 0, len(w.Args))}
		for _, wa := range w.Args {
			d := depth
			if wa != nil && (wa.Op == "or" || (wa.Op == "and" && op == opAnd)) {
				d++ // String parenthesises it
			}
			a, err := wa.build(d)
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, a)
		}
		return n, nil
	case "not":
		d := depth + 1
		if w.Arg != nil && (w.Arg.Op == "and" || w.Arg.Op == "or") {
			d++
		}
		a, err := w.Arg.build(d)
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, arg: a}, nil
	case "cmp":
		switch w.Cmp {
		case cmpEQ, cmpNE, cmpLT, cmpLE, cmpGT, cmpGE:
		default:
			return nil, bad("unknown comparison %q", w.Cmp)
		}
		var v int
		if err := decodeValue(w.Value, &v); err != nil {
			return nil, bad("value %s is not an integer", w.Value)
		}
		lo, hi := 0, 999999999 // maxDigits digits
		switch w.Field {
		case fieldAge, fieldLanguages:
		case fieldGestational:
			lo, hi = minGestationalWeeks, maxGestationalWeeks
		default:
			return nil, bad("unknown field %q", w.Field)
		}
		if v < lo || v > hi {
			return nil, bad("%s value %d is not in %d…%d", w.Field, v, lo, hi)
		}
		return &node{op: opCmp, field: w.Field, cmp: w.Cmp, value: v}, nil
	case "gest_na":
		return &node{op: opGestNA, negate: w.Negate}, nil
	case "gender":
		var g string
		if err := decodeValue(w.Value, &g); err != nil {
			return nil, bad("value %s is not a string", w.Value)
		}
		if _, ok := genderNames[g]; !ok {
			return nil, bad("unknown gender %q", g)
		}
		return &node{op: opGender, gender: g, negate: w.Negate}, nil
	case "condition", "language":
		op, limit := opCondition, accounts.NumConditions
		if w.Op == "language" {
			op, limit = opLanguage, accounts.NumLanguages
		}
		if w.Bit == nil || *w.Bit < 0 || *w.Bit >= limit {
			return nil, bad("bit must be 0…%d", limit-1)
		}
		return &node{op: op, bit: *w.Bit}, nil
	}
	return nil, fmt.Errorf("%w: unknown op %q", ErrBadAST, w.Op)
}

// decodeValue decodes a required value; unlike json.Unmarshal it refuses a missing value and null.
func decodeValue(raw json.RawMessage, v any) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return errors.New("missing")
	}
	return json.Unmarshal(raw, v)
}
