package eligibility

import (
	"math/bits"
	"strconv"
	"strings"

	"lookit.dev/platform/shared/accounts"
)

// Child is what a criteria expression can test about a child.
type Child struct {
	AgeDays        int                 // age in days on the day of the check (AgeDays)
	Gender         string              // accounts.GenderMale, GenderFemale, GenderOther or GenderNotAnswered
	GestationalAge *int16              // Lookit's 0–17 scale (see accounts.AgeLabel); nil = no answer
	Conditions     accounts.Conditions // existing_conditions
	Languages      accounts.Languages  // languages_spoken
}

// Expr is a parsed criteria expression. The nil *Expr, like the parse of an empty expression, is
// always true. An Expr is immutable and safe for concurrent use.
type Expr struct {
	root *node // nil: always true
}

// opKind is a node's operation. The names are the "op" values of the JSON form.
type opKind uint8

const (
	opAnd       opKind = iota + 1 // args: all true
	opOr                          // args: any true
	opNot                         // arg: false
	opCmp                         // field cmp value
	opGestNA                      // gestational age not given (negate: given)
	opGender                      // gender = value (negate: !=)
	opCondition                   // condition bit set
	opLanguage                    // language bit set
)

var opNames = map[opKind]string{
	opAnd: "and", opOr: "or", opNot: "not", opCmp: "cmp", opGestNA: "gest_na",
	opGender: "gender", opCondition: "condition", opLanguage: "language",
}

// Numeric fields a comparison can read; the strings are their names in the language and in JSON.
const (
	fieldAge         = "age_in_days"
	fieldGestational = "gestational_age_in_weeks"
	fieldLanguages   = "n_languages"
)

// Comparison operators, as written and as stored.
const (
	cmpEQ = "="
	cmpNE = "!="
	cmpLT = "<"
	cmpLE = "<="
	cmpGT = ">"
	cmpGE = ">="
)

// Gestational ages the language accepts, in weeks: Lookit's scale can say no more than
// "24 weeks" at the low end and "40 or more" at the high end (23 stands for "under 24" only in a
// child's value, and cannot be asked for).
const (
	minGestationalWeeks = 24
	maxGestationalWeeks = 40
	// gestationalOffset turns a stored scale value into weeks.
	gestationalOffset = 23
)

// node is one operation of the tree. Which fields are meaningful depends on op.
type node struct {
	op     opKind
	args   []*node // and, or: two or more
	arg    *node   // not
	field  string  // cmp
	cmp    string  // cmp
	value  int     // cmp
	gender string  // gender: "m", "f", "o" or "na"
	negate bool    // gest_na, gender
	bit    int     // condition, language
}

// Eval reports whether the child meets the expression. A nil Expr is true.
func (e *Expr) Eval(c Child) bool {
	if e == nil || e.root == nil {
		return true
	}
	return e.root.eval(&c)
}

func (n *node) eval(c *Child) bool {
	switch n.op {
	case opAnd:
		for _, a := range n.args {
			if !a.eval(c) {
				return false
			}
		}
		return true
	case opOr:
		for _, a := range n.args {
			if a.eval(c) {
				return true
			}
		}
		return false
	case opNot:
		return !n.arg.eval(c)
	case opCmp:
		v, ok := c.field(n.field)
		return ok && compare(v, n.cmp, n.value)
	case opGestNA:
		return (c.GestationalAge == nil) != n.negate
	case opGender:
		return (c.Gender == n.gender) != n.negate
	case opCondition:
		return uint64(c.Conditions)&(1<<uint(n.bit)) != 0
	case opLanguage:
		return uint64(c.Languages)&(1<<uint(n.bit)) != 0
	}
	panic("eligibility: unknown node op " + strconv.Itoa(int(n.op)))
}

// field returns the value of a numeric field; ok is false when the child has none (a gestational
// age not given).
func (c *Child) field(name string) (v int, ok bool) {
	switch name {
	case fieldAge:
		return c.AgeDays, true
	case fieldGestational:
		if c.GestationalAge == nil {
			return 0, false
		}
		// Not accounts.GestationalWeeks: the SQL twin reads any stored value as value + 23, and
		// Go must agree with it even on a value the CHECK constraint would never let in.
		return int(*c.GestationalAge) + gestationalOffset, true
	case fieldLanguages:
		return bits.OnesCount64(uint64(c.Languages)), true
	}
	panic("eligibility: unknown field " + name)
}

func compare(a int, cmp string, b int) bool {
	switch cmp {
	case cmpEQ:
		return a == b
	case cmpNE:
		return a != b
	case cmpLT:
		return a < b
	case cmpLE:
		return a <= b
	case cmpGT:
		return a > b
	case cmpGE:
		return a >= b
	}
	panic("eligibility: unknown comparison " + cmp)
}

// Codes by bit, for printing flags.
var (
	conditionCodes = func() []string {
		var codes []string
		for _, c := range accounts.AllConditions() {
			codes = append(codes, c.Code)
		}
		return codes
	}()
	languageCodes = func() []string {
		var codes []string
		for _, l := range accounts.AllLanguages() {
			codes = append(codes, l.Code)
		}
		return codes
	}()
)

// languagePrefix makes a language code a flag: speaks_en.
const languagePrefix = "speaks_"

// genderWords are the values gender can be compared with, and the code each stands for.
var genderWords = map[string]string{
	"male": accounts.GenderMale, "m": accounts.GenderMale,
	"female": accounts.GenderFemale, "f": accounts.GenderFemale,
	"other": accounts.GenderOther, "o": accounts.GenderOther,
	"na": accounts.GenderNotAnswered, "n/a": accounts.GenderNotAnswered,
}

// genderNames spells a gender code in String's output.
var genderNames = map[string]string{
	accounts.GenderMale: "male", accounts.GenderFemale: "female",
	accounts.GenderOther: "other", accounts.GenderNotAnswered: "na",
}

// String returns the expression in canonical form: upper-case keywords, lower-case names, single
// spaces, parentheses only where needed, num_languages as n_languages and genders spelled out.
// Parsing it gives an equal Expr. The empty expression is "".
func (e *Expr) String() string {
	if e == nil || e.root == nil {
		return ""
	}
	var b strings.Builder
	e.root.write(&b)
	return b.String()
}

// needsParens reports whether child must be parenthesised under parent to parse back into the
// same tree: OR inside AND or NOT, and any AND or OR inside the same operation (which would
// otherwise merge into one list) or inside NOT.
func needsParens(parent opKind, child *node) bool {
	switch parent {
	case opAnd:
		return child.op == opAnd || child.op == opOr
	case opOr:
		return child.op == opOr
	case opNot:
		return child.op == opAnd || child.op == opOr
	}
	return false
}

func (n *node) write(b *strings.Builder) {
	sub := func(c *node) {
		if needsParens(n.op, c) {
			b.WriteByte('(')
			c.write(b)
			b.WriteByte(')')
			return
		}
		c.write(b)
	}
	switch n.op {
	case opAnd, opOr:
		sep := " AND "
		if n.op == opOr {
			sep = " OR "
		}
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(sep)
			}
			sub(a)
		}
	case opNot:
		b.WriteString("NOT ")
		sub(n.arg)
	case opCmp:
		b.WriteString(n.field + " " + n.cmp + " " + strconv.Itoa(n.value))
	case opGestNA:
		b.WriteString(fieldGestational + " " + eqOrNE(n.negate) + " na")
	case opGender:
		b.WriteString("gender " + eqOrNE(n.negate) + " " + genderNames[n.gender])
	case opCondition:
		b.WriteString(conditionCodes[n.bit])
	case opLanguage:
		b.WriteString(languagePrefix + languageCodes[n.bit])
	}
}

func eqOrNE(negate bool) string {
	if negate {
		return cmpNE
	}
	return cmpEQ
}
