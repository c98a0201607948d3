package accounts

import (
	"fmt"
	"math/bits"
	"strings"
)

// UnknownCodeError reports a code that is not one of Lookit's choices for a bit field.
type UnknownCodeError struct {
	Kind  string // "language" or "condition"
	Index int    // position of the code in the list given to the parser
	Code  string
}

func (e *UnknownCodeError) Error() string {
	return fmt.Sprintf("accounts: unknown %s code %q", e.Kind, e.Code)
}

// bitTable is a django-bitfield BitField's flag list: code i is bit i (value 1<<i).
type bitTable struct {
	kind  string
	codes []string
	index map[string]uint
}

func newBitTable(kind string, codes []string) bitTable {
	if len(codes) > 64 {
		panic("accounts: more than 64 flags in " + kind)
	}
	t := bitTable{kind: kind, codes: codes, index: make(map[string]uint, len(codes))}
	for i, c := range codes {
		if _, dup := t.index[c]; dup {
			panic("accounts: duplicate " + kind + " code " + c)
		}
		t.index[c] = uint(i)
	}
	return t
}

// mask has a bit set for every defined flag.
func (t bitTable) mask() uint64 {
	if len(t.codes) == 64 {
		return ^uint64(0)
	}
	return 1<<uint(len(t.codes)) - 1
}

func (t bitTable) parse(codes []string) (uint64, error) {
	var v uint64
	for i, c := range codes {
		b, ok := t.index[c]
		if !ok {
			return 0, &UnknownCodeError{Kind: t.kind, Index: i, Code: c}
		}
		v |= 1 << b
	}
	return v, nil
}

func (t bitTable) has(v uint64, code string) bool {
	b, ok := t.index[code]
	return ok && v&(1<<b) != 0
}

// codesOf lists the defined flags set in v, in bit order; undefined bits are skipped.
func (t bitTable) codesOf(v uint64) []string {
	out := make([]string, 0, bits.OnesCount64(v&t.mask()))
	for i, c := range t.codes {
		if v&(1<<uint(i)) != 0 {
			out = append(out, c)
		}
	}
	return out
}

func (t bitTable) list(v uint64) string { return strings.Join(t.codesOf(v), " ") }
