package accounts

import "math/bits"

// Condition is one of Lookit's existing-condition flags: its code and its English label.
type Condition struct {
	Code  string
	Label string
}

// conditionTable is Lookit's CONDITIONS (studies/fields.py) in bit order: bit i of a stored
// existing_conditions value is entry i. Never reorder, insert into or remove from it.
var conditionTable = [...]Condition{
	{"autism_spectrum_disorder", "Autism Spectrum Disorder"},
	{"deaf", "Deaf"},
	{"hearing_impairment", "Hearing Impairment"},
	{"dyslexia", "Dyslexia"},
	{"multiple_birth", "Multiple Birth (twin, triplet, or higher order)"},
}

// NumConditions is the number of condition flags (5).
const NumConditions = len(conditionTable)

var conditionBits = func() bitTable {
	codes := make([]string, len(conditionTable))
	for i, c := range conditionTable {
		codes[i] = c.Code
	}
	return newBitTable("condition", codes)
}()

// AllConditions returns Lookit's conditions in bit order.
func AllConditions() []Condition {
	out := make([]Condition, len(conditionTable))
	copy(out, conditionTable[:])
	return out
}

// ConditionLabel returns the English label of a condition code.
func ConditionLabel(code string) (string, bool) {
	b, ok := conditionBits.index[code]
	if !ok {
		return "", false
	}
	return conditionTable[b].Label, true
}

// ConditionBit returns the bit position of a condition code.
func ConditionBit(code string) (int, bool) {
	b, ok := conditionBits.index[code]
	return int(b), ok
}

// Conditions is the set of a child's existing conditions, Lookit's existing_conditions BitField:
// bit i is set when the i-th condition of AllConditions applies. It is stored as a bigint.
type Conditions uint64

// ParseConditions returns the set of the given codes. Duplicates are allowed; an unknown code gives
// an *UnknownCodeError naming it and its index.
func ParseConditions(codes []string) (Conditions, error) {
	v, err := conditionBits.parse(codes)
	return Conditions(v), err
}

// Has reports whether code is in the set.
func (c Conditions) Has(code string) bool { return conditionBits.has(uint64(c), code) }

// Codes returns the codes in the set, in bit order.
func (c Conditions) Codes() []string { return conditionBits.codesOf(uint64(c)) }

// String returns the codes in bit order separated by single spaces: Lookit's Child.condition_list.
func (c Conditions) String() string { return conditionBits.list(uint64(c)) }

// Count returns the number of conditions in the set.
func (c Conditions) Count() int { return bits.OnesCount64(uint64(c) & conditionBits.mask()) }

// Valid reports whether only defined condition bits are set.
func (c Conditions) Valid() bool { return uint64(c)&^conditionBits.mask() == 0 }
