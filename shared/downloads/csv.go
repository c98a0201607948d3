package downloads

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// ErrClosed is returned by Write after Close: the file has ended.
var ErrClosed = errors.New("downloads: write after Close")

// bufferSize is each writer's output buffer: the only part of a file held in memory.
const bufferSize = 32 << 10

// csvWriter writes rows the way Lookit's Python csv writers do with quoting=QUOTE_NONNUMERIC
// (encoding/csv cannot: it quotes only when needed):
//
//   - every str field is quoted, with " doubled inside; line breaks stay as they are;
//   - int, float and bool are bare: 12, 1.5, True, False;
//   - None is an empty quoted field "" (a number check fails on None, so csv quotes it);
//   - a list or dict is its Python repr, quoted;
//   - rows end with "\r\n", Python's default lineterminator.
type csvWriter struct {
	w        *bufio.Writer
	rowStart bool
	closed   bool
	scratch  []byte
}

func newCSVWriter(w io.Writer) *csvWriter {
	return &csvWriter{w: bufio.NewWriterSize(w, bufferSize), rowStart: true}
}

func (c *csvWriter) sep() {
	if !c.rowStart {
		c.w.WriteByte(',')
	}
	c.rowStart = false
}

// quoted writes a str field.
func (c *csvWriter) quoted(s string) {
	c.sep()
	c.w.WriteByte('"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		c.w.WriteString(s[:i+1])
		c.w.WriteByte('"')
		s = s[i+1:]
	}
	c.w.WriteString(s)
	c.w.WriteByte('"')
}

// bare writes a numeric field (int, float or bool as Python prints it).
func (c *csvWriter) bare(s string) {
	c.sep()
	c.w.WriteString(s)
}

// none writes None, which is also what a missing DictWriter key (restval "") looks like.
func (c *csvWriter) none() { c.quoted("") }

// value writes a decoded JSON value as the Python object it becomes.
func (c *csvWriter) value(v *value) {
	switch v.kind {
	case nullKind:
		c.none()
	case boolKind:
		if v.b {
			c.bare("True")
		} else {
			c.bare("False")
		}
	case intKind:
		c.bare(pyInt(v.s))
	case floatKind:
		c.bare(pyFloat(v.float()))
	case stringKind:
		c.quoted(v.s)
	default:
		c.scratch = appendPyRepr(c.scratch[:0], v)
		c.quoted(string(c.scratch))
	}
}

// endRow ends the row and reports a write error of the underlying writer, if any so far.
func (c *csvWriter) endRow() error {
	c.rowStart = true
	_, err := c.w.WriteString("\r\n")
	return err
}

// header writes a header row: column names are str fields, so quoted.
func (c *csvWriter) header(columns []string) error {
	for _, col := range columns {
		c.quoted(col)
	}
	return c.endRow()
}

// flush ends the file: later rows are refused with ErrClosed.
func (c *csvWriter) flush() error {
	c.closed = true
	return c.w.Flush()
}
