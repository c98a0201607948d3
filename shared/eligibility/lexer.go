package eligibility

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokLParen           // (
	tokRParen           // )
	tokOp               // = != < <= > >=
	tokNumber           // decimal digits
	tokWord             // identifier, keyword or value word, including n/a
)

// maxDigits bounds numbers so that every value fits PostgreSQL's integer and no arithmetic on
// it can overflow.
const maxDigits = 9

// token is one lexeme: its kind, its text exactly as written and its byte offset in the source.
type token struct {
	kind tokenKind
	text string
	off  int
}

// describe names a token for an error message.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.text)
}

// is reports whether t is the word w, ignoring case.
func (t token) is(w string) bool { return t.kind == tokWord && strings.EqualFold(t.text, w) }

// lexer splits the source into tokens on demand, so that the first error in the text is the one
// reported whether the lexer or the parser finds it.
type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isWordStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isWordByte(c byte) bool { return isWordStart(c) || isDigit(c) }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start == len(l.src) {
		return token{kind: tokEOF, off: start}, nil
	}
	emit := func(kind tokenKind, end int) (token, error) {
		l.pos = end
		return token{kind: kind, text: l.src[start:end], off: start}, nil
	}
	c := l.src[start]
	switch {
	case c == '(':
		return emit(tokLParen, start+1)
	case c == ')':
		return emit(tokRParen, start+1)
	case c == '=':
		return emit(tokOp, start+1)
	case c == '<' || c == '>':
		if l.peekByte(start+1) == '=' {
			return emit(tokOp, start+2)
		}
		return emit(tokOp, start+1)
	case c == '!' && l.peekByte(start+1) == '=':
		return emit(tokOp, start+2)
	case isDigit(c):
		end := l.scan(start, isDigit)
		if end < len(l.src) && isWordByte(l.src[end]) {
			bad := l.scan(end, isWordByte)
			return token{}, newParseError(l.src, start, fmt.Sprintf("malformed number %q", l.src[start:bad]))
		}
		if end-start > maxDigits {
			return token{}, newParseError(l.src, start, fmt.Sprintf("number %s has more than %d digits", l.src[start:end], maxDigits))
		}
		return emit(tokNumber, end)
	case isWordStart(c):
		end := l.scan(start, isWordByte)
		// "n/a" is the one word with a slash in it (a gender value).
		if end == start+1 && (c == 'n' || c == 'N') && l.peekByte(end) == '/' {
			if a := l.peekByte(end + 1); (a == 'a' || a == 'A') && !isWordByte(l.peekByte(end+2)) {
				end += 2
			}
		}
		return emit(tokWord, end)
	}
	r, size := utf8.DecodeRuneInString(l.src[start:])
	if r == utf8.RuneError && size <= 1 {
		return token{}, newParseError(l.src, start, fmt.Sprintf("invalid UTF-8 byte 0x%02x", c))
	}
	return token{}, newParseError(l.src, start, fmt.Sprintf("unexpected character %q", r))
}

// peekByte returns the byte at i, or 0 past the end (0 is no token's byte).
func (l *lexer) peekByte(i int) byte {
	if i < len(l.src) {
		return l.src[i]
	}
	return 0
}

// scan returns the end of the run of bytes from i that satisfy ok.
func (l *lexer) scan(i int, ok func(byte) bool) int {
	for i < len(l.src) && ok(l.src[i]) {
		i++
	}
	return i
}
