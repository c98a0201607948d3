package eligibility

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"lookit.dev/platform/shared/accounts"
)

// Limits on a criteria expression. Researchers write a few lines; the limits keep a hostile or
// broken one from costing more than that, and MaxNesting keeps every recursion over the tree
// (the parser, Eval, String, the JSON decoder's checks and the SQL function) shallow.
const (
	MaxSourceBytes = 10000 // longest expression Parse accepts
	MaxNesting     = 100   // deepest nesting of parentheses and NOTs
)

// ParseError is a syntax or meaning error in a criteria expression, at the offending token.
type ParseError struct {
	Offset int    // byte offset in the source, from 0 (len(src) for the end of the expression)
	Line   int    // line, from 1
	Column int    // column in characters (runes), from 1
	Msg    string // what is wrong, for the researcher who wrote the expression
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("criteria expression: line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func newParseError(src string, off int, msg string) *ParseError {
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	return &ParseError{
		Offset: off,
		Line:   strings.Count(src[:off], "\n") + 1,
		Column: utf8.RuneCountInString(src[lineStart:off]) + 1,
		Msg:    msg,
	}
}

// Parse parses a criteria expression. An empty or all-blank one gives an Expr that is always
// true. Every error is a *ParseError.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxSourceBytes {
		return nil, newParseError(src, MaxSourceBytes, fmt.Sprintf("expression is longer than %d bytes", MaxSourceBytes))
	}
	p := &parser{lex: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return &Expr{}, nil
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tokEOF:
		return &Expr{root: root}, nil
	case tokRParen:
		return nil, p.errorf(p.tok, `")" has no matching "("`)
	}
	return nil, p.errorf(p.tok, "expected AND, OR or the end of the expression, found %s", p.tok.describe())
}

// parser is a recursive-descent parser over the lexer with one token of lookahead.
type parser struct {
	lex   lexer
	tok   token
	depth int // enclosing parentheses and NOTs
}

// The lexer, advance, enter and comparison return error, not *ParseError, so that no nil
// *ParseError can become a non-nil error on the way out.
func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(at token, format string, args ...any) *ParseError {
	return newParseError(p.lex.src, at.off, fmt.Sprintf(format, args...))
}

// enter counts one more level of nesting, opened by the token at.
func (p *parser) enter(at token) error {
	p.depth++
	if p.depth > MaxNesting {
		return p.errorf(at, "expression is nested more than %d levels deep", MaxNesting)
	}
	return nil
}

// parseOr and parseAnd build one n-ary node for a chain ("a OR b OR c"), so that a long chain is
// a wide tree, not a deep one.
func (p *parser) parseOr() (*node, error) {
	return p.parseChain("OR", opOr, p.parseAnd)
}

func (p *parser) parseAnd() (*node, error) {
	return p.parseChain("AND", opAnd, p.parseNot)
}

func (p *parser) parseChain(keyword string, op opKind, operand func() (*node, error)) (*node, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if !p.tok.is(keyword) {
		return first, nil
	}
	n := &node{op: op, args: []*node{first}}
	for p.tok.is(keyword) {
		if err := p.advance(); err != nil {
			return nil, err
		}
		next, err := operand()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, next)
	}
	return n, nil
}

func (p *parser) parseNot() (*node, error) {
	if !p.tok.is("NOT") {
		return p.parsePrimary()
	}
	if err := p.enter(p.tok); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	arg, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	p.depth--
	return &node{op: opNot, arg: arg}, nil
}

func (p *parser) parsePrimary() (*node, error) {
	t := p.tok
	switch {
	case t.kind == tokLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			open := newParseError(p.lex.src, t.off, "")
			return nil, p.errorf(p.tok, `expected ")" to close the "(" at line %d, column %d, found %s`, open.Line, open.Column, p.tok.describe())
		}
		p.depth--
		return inner, p.advance()
	case t.kind != tokWord || t.is("AND") || t.is("OR"):
		return nil, p.errorf(t, "expected a condition, found %s", t.describe())
	}
	name := strings.ToLower(t.text)
	switch name {
	case "gender":
		return p.parseGender()
	case fieldGestational:
		return p.parseGestational()
	case fieldAge, fieldLanguages, "num_languages":
		field := name
		if field == "num_languages" {
			field = fieldLanguages
		}
		return p.parseCount(field)
	}
	flag, ok := flagNode(name)
	if !ok {
		if code, isLang := strings.CutPrefix(name, languagePrefix); isLang {
			return nil, p.errorf(t, "unknown language code %q in %q", code, t.text)
		}
		return nil, p.errorf(t, "unknown name %q: not a field, condition or speaks_<language>", t.text)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokOp {
		return nil, p.errorf(p.tok, "%q is a condition that is true or false and cannot be compared", t.text)
	}
	return flag, nil
}

// flagNode resolves a condition code or speaks_<language code> to its bit.
func flagNode(name string) (*node, bool) {
	if bit, ok := accounts.ConditionBit(name); ok {
		return &node{op: opCondition, bit: bit}, true
	}
	if code, ok := strings.CutPrefix(name, languagePrefix); ok {
		if bit, ok := accounts.LanguageBit(code); ok {
			return &node{op: opLanguage, bit: bit}, true
		}
	}
	return nil, false
}

// comparison reads the operator and the value token after a field name, leaving the parser on
// the token after the value.
func (p *parser) comparison() (field, op, value token, err error) {
	field = p.tok
	if err = p.advance(); err != nil {
		return
	}
	op = p.tok
	if op.kind != tokOp {
		err = p.errorf(op, "expected a comparison operator (=, !=, <, <=, >, >=) after %q, found %s", field.text, op.describe())
		return
	}
	if err = p.advance(); err != nil {
		return
	}
	value = p.tok
	if value.kind != tokNumber && value.kind != tokWord {
		err = p.errorf(value, "expected a value after %q, found %s", op.text, value.describe())
		return
	}
	err = p.advance()
	return
}

func (p *parser) parseGender() (*node, error) {
	field, op, value, err := p.comparison()
	if err != nil {
		return nil, err
	}
	if op.text != cmpEQ && op.text != cmpNE {
		return nil, p.errorf(op, "%s can only be compared with = or !=, not %q", field.text, op.text)
	}
	code, ok := genderWords[strings.ToLower(value.text)]
	if !ok {
		return nil, p.errorf(value, "unknown gender %q: use male, female, other or na", value.text)
	}
	return &node{op: opGender, gender: code, negate: op.text == cmpNE}, nil
}

func (p *parser) parseGestational() (*node, error) {
	field, op, value, err := p.comparison()
	if err != nil {
		return nil, err
	}
	if value.is("na") {
		if op.text != cmpEQ && op.text != cmpNE {
			return nil, p.errorf(op, "%s can only be compared with na by = or !=, not %q", field.text, op.text)
		}
		return &node{op: opGestNA, negate: op.text == cmpNE}, nil
	}
	weeks, ok := number(value)
	if !ok || weeks < minGestationalWeeks || weeks > maxGestationalWeeks {
		return nil, p.errorf(value, "%s must be compared with a number of weeks from %d to %d or with na, not %s",
			field.text, minGestationalWeeks, maxGestationalWeeks, value.describe())
	}
	return &node{op: opCmp, field: fieldGestational, cmp: op.text, value: weeks}, nil
}

func (p *parser) parseCount(fieldName string) (*node, error) {
	field, op, value, err := p.comparison()
	if err != nil {
		return nil, err
	}
	n, ok := number(value)
	if !ok {
		return nil, p.errorf(value, "%s must be compared with a whole number, not %s", field.text, value.describe())
	}
	return &node{op: opCmp, field: fieldName, cmp: op.text, value: n}, nil
}

// number returns the value of a number token; the lexer has limited it to maxDigits digits.
func number(t token) (int, bool) {
	if t.kind != tokNumber {
		return 0, false
	}
	n, err := strconv.Atoi(t.text)
	return n, err == nil
}
