package downloads

import (
	"fmt"
	"io"
)

// writeDictionary writes a data dictionary: a "column","description" header and one row per
// column.
func writeDictionary(w io.Writer, cols []Column, what string) error {
	c := newCSVWriter(w)
	err := c.header([]string{"column", "description"})
	for _, col := range cols {
		c.quoted(col.ID)
		c.quoted(col.Description)
		err = firstErr(err, c.endRow())
	}
	if err = firstErr(err, c.flush()); err != nil {
		return fmt.Errorf("downloads: writing %s dictionary: %w", what, err)
	}
	return nil
}

// WriteSummaryDictionary writes the response overview's data dictionary
// ("<study>_all-responses-dict.csv"): the overview's fixed columns for opts, in file order. The
// flattened columns are described under the column they come from (response__sequence, …).
func WriteSummaryDictionary(w io.Writer, opts Options) error {
	var cols []Column
	for _, id := range summaryHeader(opts, nil) {
		for _, c := range responseColumns {
			if c.ID == id {
				cols = append(cols, c)
			}
		}
	}
	return writeDictionary(w, cols, "response overview")
}

// WriteChildrenDictionary writes the children overview's data dictionary
// ("<study>_all-children-dict.csv"). Like Lookit's it lists every child__ and participant__
// column, whichever are chosen.
func WriteChildrenDictionary(w io.Writer) error {
	var cols []Column
	for _, c := range responseColumns {
		if isChildColumn(c) {
			cols = append(cols, c)
		}
	}
	return writeDictionary(w, cols, "children overview")
}

// WriteDemographicsDictionary writes the demographic data dictionary
// ("<study>_all-demographic-snapshots-dict.csv") for the columns of opts.
func WriteDemographicsDictionary(w io.Writer, opts Options) error {
	var cols []Column
	for _, c := range demographicColumns {
		if opts.included(c) {
			cols = append(cols, c)
		}
	}
	return writeDictionary(w, cols, "demographics")
}
