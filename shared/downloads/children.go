package downloads

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// isChildColumn reports whether a response column belongs in the children overview.
func isChildColumn(c Column) bool {
	return strings.HasPrefix(c.ID, "child__") || strings.HasPrefix(c.ID, "participant__")
}

// ChildrenCSV writes the children overview ("<study>_all-children.csv"): one row per distinct
// child (by hashed id), with only the child__ and participant__ columns, the chosen optional
// ones included.
//
// To stay in constant memory the writer remembers only the previous row's child: a response
// whose child is the previous row's is skipped. The caller must therefore pass a child's
// responses together; ordering by child and then by response id gives each child's first
// response, the one Lookit's row comes from (Lookit orders rows by that response's id).
type ChildrenCSV struct {
	csv         *csvWriter
	header      []string
	opts        Options
	wroteHeader bool
	hasLast     bool
	last        string // hashed id of the previous row's child
	row         responseRow
}

// NewChildrenCSV returns a writer of the children overview with the optional columns of opts.
func NewChildrenCSV(w io.Writer, opts Options) *ChildrenCSV {
	c := &ChildrenCSV{csv: newCSVWriter(w), opts: opts}
	for _, col := range responseColumns {
		if isChildColumn(col) && opts.included(col) {
			c.header = append(c.header, col.ID)
		}
	}
	return c
}

// Header returns the children overview's columns in order.
func (c *ChildrenCSV) Header() []string { return slices.Clone(c.header) }

func (c *ChildrenCSV) writeHeader() error {
	if c.wroteHeader {
		return nil
	}
	c.wroteHeader = true
	if err := c.csv.header(c.header); err != nil {
		return fmt.Errorf("downloads: writing children overview header: %w", err)
	}
	return nil
}

// Write writes the row of r's child unless the previous row was the same child's. A
// *ResponseError means r was skipped.
func (c *ChildrenCSV) Write(r *Response) error {
	if c.csv.closed {
		return ErrClosed
	}
	if err := c.row.buildColumns(r, false); err != nil { // no column here comes from exp_data
		return err
	}
	var hashed string
	for _, cl := range c.row.cells {
		if cl.id == colChildHashedID {
			hashed = cl.v.s
		}
	}
	if c.hasLast && hashed == c.last {
		return nil
	}
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.hasLast, c.last = true, hashed
	for i, col := range responseColumns {
		if isChildColumn(col) && c.opts.included(col) {
			c.csv.value(&c.row.cells[i].v)
		}
	}
	if err := c.csv.endRow(); err != nil {
		return fmt.Errorf("downloads: writing children overview row of response %s: %w", r.UUID, err)
	}
	return nil
}

// Close writes the header if no row was written and flushes. It does not close w.
func (c *ChildrenCSV) Close() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	if err := c.csv.flush(); err != nil {
		return fmt.Errorf("downloads: writing children overview: %w", err)
	}
	return nil
}
