package downloads

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ResponsesJSON writes the all-responses JSON ("<study>_all-responses.json") as a stream: an
// array whose elements are written one per Write. Like Lookit's (make_chunk), the file is
// "[\n", the elements separated by ",\n", then "\n]"; each element is json.dumps(…, indent="\t")
// of the chosen columns nested by the object their id names ({"response": {…}, "consent": {…},
// "study": {…}, "participant": {…}, "child": {…}}) followed by the response's exp_data, with
// Python's escaping of non-ASCII text.
type ResponsesJSON struct {
	w      *bufio.Writer
	opts   Options
	n      int
	closed bool
	row    responseRow
	buf    []byte
}

// NewResponsesJSON returns a writer of the all-responses JSON with the optional columns of opts.
func NewResponsesJSON(w io.Writer, opts Options) *ResponsesJSON {
	return &ResponsesJSON{w: bufio.NewWriterSize(w, bufferSize), opts: opts}
}

// Write writes r's element. A *ResponseError means r was skipped.
func (j *ResponsesJSON) Write(r *Response) error {
	if j.closed {
		return ErrClosed
	}
	if err := j.row.build(r); err != nil {
		return err
	}
	elem := groupedColumns(j.row.cells, responseColumns, j.opts)
	elem.keys = append(elem.keys, "exp_data")
	elem.elems = append(elem.elems, j.row.expData)

	buf := j.buf[:0]
	if j.n == 0 {
		buf = append(buf, "[\n"...)
	} else {
		buf = append(buf, ",\n"...)
	}
	buf = appendPyJSON(buf, &elem, 0)
	j.buf = buf
	j.n++
	if _, err := j.w.Write(buf); err != nil {
		return fmt.Errorf("downloads: writing all-responses JSON element of response %s: %w", r.UUID, err)
	}
	return nil
}

// Close ends the array and flushes. It does not close w.
func (j *ResponsesJSON) Close() error {
	if j.closed {
		return nil
	}
	j.closed = true
	if j.n == 0 {
		j.w.WriteString("[\n") // Lookit's empty download: one page with no elements
	}
	j.w.WriteString("\n]")
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("downloads: writing all-responses JSON: %w", err)
	}
	return nil
}

// groupedColumns nests the chosen cells by the object named before "__" in their ids, objects
// in order of first appearance and fields in column order (construct_response_dictionary).
// cells[i] is the value of cols[i].
func groupedColumns(cells []cell, cols []Column, opts Options) value {
	var out value
	out.kind = objectKind
	for i, c := range cols {
		if i >= len(cells) || !opts.included(c) {
			continue
		}
		object, field, _ := strings.Cut(c.ID, "__")
		k := -1
		for g, name := range out.keys {
			if name == object {
				k = g
				break
			}
		}
		if k < 0 {
			out.keys = append(out.keys, object)
			out.elems = append(out.elems, value{kind: objectKind})
			k = len(out.keys) - 1
		}
		group := &out.elems[k]
		group.keys = append(group.keys, field)
		group.elems = append(group.elems, cells[i].v)
	}
	return out
}
