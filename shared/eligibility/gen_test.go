package eligibility_test

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/eligibility"
)

// exprGen writes random criteria expressions as source text, in every spelling the language
// allows (keyword and name case, synonyms, n/a, spacing, redundant parentheses), so that the
// random tests go through the parser rather than around it.
type exprGen struct {
	r        *rand.Rand
	maxDepth int
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// word returns w in lower, upper or title case.
func (g *exprGen) word(w string) string {
	switch g.r.IntN(4) {
	case 0:
		return strings.ToUpper(w)
	case 1:
		return strings.ToUpper(w[:1]) + w[1:]
	}
	return w
}

// space returns what separates two tokens that may touch: nothing, a space or other blanks.
func (g *exprGen) space(mayBeEmpty bool) string {
	if mayBeEmpty && g.r.IntN(4) == 0 {
		return ""
	}
	return pick(g.r, " ", " ", " ", "  ", "\n", "\t", " \r\n ")
}

func (g *exprGen) op(ops ...string) string { return pick(g.r, ops...) }

var allOps = []string{"=", "!=", "<", "<=", ">", ">="}

// compound kinds, so a parent knows whether its child needs parentheses.
const (
	kindLeaf = iota
	kindAnd
	kindOr
	kindNot
)

func (g *exprGen) expr() string {
	s, _ := g.node(0)
	return s
}

func (g *exprGen) node(depth int) (string, int) {
	if depth >= g.maxDepth || g.r.IntN(10) < 4 {
		return g.leaf(), kindLeaf
	}
	switch g.r.IntN(10) {
	case 0, 1, 2:
		return g.chain("AND", kindAnd, depth), kindAnd
	case 3, 4, 5:
		return g.chain("OR", kindOr, depth), kindOr
	case 6, 7:
		s, k := g.node(depth + 1)
		if k == kindAnd || k == kindOr {
			s = "(" + s + ")"
		}
		return g.word("NOT") + g.space(false) + s, kindNot
	case 8:
		s, k := g.node(depth + 1)
		return "(" + g.space(true) + s + g.space(true) + ")", k
	}
	return g.leaf(), kindLeaf
}

func (g *exprGen) chain(keyword string, kind, depth int) string {
	n := 2 + g.r.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		s, k := g.node(depth + 1)
		// An AND inside an OR binds without parentheses; anything else compound must be grouped
		// (sometimes an AND is grouped anyway).
		if (k == kindAnd || k == kindOr) && (kind == kindAnd || k == kindOr || g.r.IntN(3) == 0) {
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(g.space(false) + g.word(keyword) + g.space(false))
		}
		b.WriteString(p)
	}
	return b.String()
}

func (g *exprGen) cmp(field, op, value string) string {
	return g.word(field) + g.space(true) + op + g.space(true) + value
}

func (g *exprGen) leaf() string {
	r := g.r
	switch r.IntN(8) {
	case 0:
		return g.cmp("age_in_days", g.op(allOps...), strconv.Itoa(pick(r, r.IntN(3000), r.IntN(400), r.IntN(1_000_000_000))))
	case 1:
		return g.cmp("gestational_age_in_weeks", g.op(allOps...), strconv.Itoa(24+r.IntN(17)))
	case 2:
		return g.cmp("gestational_age_in_weeks", g.op("=", "!="), g.word("na"))
	case 3:
		return g.cmp("gender", g.op("=", "!="), g.word(pick(r, "male", "m", "female", "f", "other", "o", "na", "n/a")))
	case 4:
		return g.cmp(pick(r, "n_languages", "num_languages"), g.op(allOps...), strconv.Itoa(r.IntN(7)))
	case 5, 6:
		return g.word(pick(r, accounts.AllConditions()...).Code)
	}
	// Mostly languages the random children speak often, so flags are true now and then.
	langs := accounts.AllLanguages()
	code := langs[r.IntN(8)].Code
	if r.IntN(4) == 0 {
		code = langs[r.IntN(len(langs))].Code
	}
	return g.word("speaks_" + code)
}

// randomChild covers what the expressions test: ages near the expressions' numbers and far from
// them, every gender (and an empty one), gestational ages nil, 0 (under 24 weeks), 17 (40 or
// more) and between, and bit sets that are usually small and valid but now and then arbitrary
// 64-bit patterns, bit 63 included.
func randomChild(r *rand.Rand) eligibility.Child {
	c := eligibility.Child{
		Gender: pick(r, "m", "f", "o", "na", "m", "f", "o", "na", ""),
	}
	switch r.IntN(10) {
	case 0:
		c.AgeDays = r.IntN(1_000_000_000)
	case 1:
		c.AgeDays = -r.IntN(400)
	default:
		c.AgeDays = r.IntN(3000)
	}
	switch r.IntN(6) {
	case 0:
	case 1:
		c.GestationalAge = ptr(accounts.GestationalUnder24Weeks)
	case 2:
		c.GestationalAge = ptr(accounts.Gestational40OrMore)
	default:
		c.GestationalAge = ptr(int16(r.IntN(18)))
	}
	if r.IntN(20) == 0 {
		c.Conditions = accounts.Conditions(r.Uint64())
		c.Languages = accounts.Languages(r.Uint64())
		return c
	}
	for bit := range accounts.NumConditions {
		if r.IntN(4) == 0 {
			c.Conditions |= 1 << bit
		}
	}
	for range r.IntN(5) {
		bit := r.IntN(8)
		if r.IntN(4) == 0 {
			bit = r.IntN(accounts.NumLanguages)
		}
		c.Languages |= 1 << bit
	}
	return c
}

func ptr[T any](v T) *T { return &v }
