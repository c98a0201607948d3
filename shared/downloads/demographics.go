package downloads

import (
	"bufio"
	"fmt"
	"io"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
)

// demographicCells computes every demographic column of r, in demographicColumns order, as the
// Python values of Lookit's DEMOGRAPHIC_COLUMNS extractors. Without a snapshot every
// demographic__ value is None (Lookit would print "None" for the date and fail on the ages).
func demographicCells(cells []cell, r *Response) ([]cell, error) {
	c := cells[:0]
	add := func(id string, v value) { c = append(c, cell{id, v}) }
	str := func(id, s string) { add(id, stringValue(s)) }

	str(colResponseUUID, r.UUID.String())
	str(colParticipantGlobalID, r.Participant.UUID.String())
	str(colParticipantHashedID, r.Study.hash(r.Participant.UUID))
	d := r.Demographics
	if d == nil {
		for _, col := range demographicColumns[len(c):] {
			add(col.ID, nullValue)
		}
		return c, nil
	}
	id, err := uuid.Parse(d.UUID)
	if err != nil {
		return c, responseError(r, "demographic snapshot uuid %q: %w", d.UUID, err)
	}
	str(colDemographicHashedID, r.Study.hash(id))
	str(colDemographicDateCreated, pyDatetime(d.CreatedAt))
	str(colDemographicNumChildren, d.NumberOfChildren)
	// round_ages_from_birthdays: each birthday's age on the response's day, rounded.
	created := accounts.DateOf(r.CreatedAt.UTC())
	ages := value{kind: arrayKind, elems: make([]value, len(d.ChildBirthdays))}
	for i, b := range d.ChildBirthdays {
		if b.Valid() {
			ages.elems[i] = intValue(int64(RoundAge(created.DaysSince(b))))
		}
	}
	add(colDemographicChildAges, ages)
	str(colDemographicNumGuardians, d.NumberOfGuardians)
	add(colDemographicRace, stringList(d.USRaceEthnicityIdentification))
	str(colDemographicParentAge, d.Age)
	str(colDemographicParentGender, d.Gender)
	str(colDemographicEducation, d.EducationLevel)
	str(colDemographicIncome, d.AnnualIncome)
	str(colDemographicComments, d.AdditionalComments)
	str(colDemographicCountry, d.Country)
	str(colDemographicState, d.State)
	str(colDemographicDensity, d.Density)
	str(colDemographicLookitReferer, d.LookitReferrer)
	return c, nil
}

// DemographicsCSV writes the demographic snapshots ("<study>_all-demographic-snapshots.csv"):
// one row per response. Like Lookit's it is not flattened: the list columns show Python's repr,
// e.g. "[60, 390]" and "['white', 'asian']".
type DemographicsCSV struct {
	csv         *csvWriter
	opts        Options
	wroteHeader bool
	cells       []cell
}

// NewDemographicsCSV returns a writer of the demographic snapshots with the optional columns
// of opts (Lookit's demo_options: only participant__global_id is optional).
func NewDemographicsCSV(w io.Writer, opts Options) *DemographicsCSV {
	return &DemographicsCSV{csv: newCSVWriter(w), opts: opts}
}

// Header returns the columns in order.
func (d *DemographicsCSV) Header() []string { return demographicHeader(d.opts) }

func demographicHeader(opts Options) []string {
	var h []string
	for _, c := range demographicColumns {
		if opts.included(c) {
			h = append(h, c.ID)
		}
	}
	return h
}

func (d *DemographicsCSV) writeHeader() error {
	if d.wroteHeader {
		return nil
	}
	d.wroteHeader = true
	if err := d.csv.header(demographicHeader(d.opts)); err != nil {
		return fmt.Errorf("downloads: writing demographics header: %w", err)
	}
	return nil
}

// Write writes r's demographic row. A *ResponseError means r was skipped.
func (d *DemographicsCSV) Write(r *Response) error {
	if d.csv.closed {
		return ErrClosed
	}
	cells, err := demographicCells(d.cells, r)
	d.cells = cells
	if err != nil {
		return err
	}
	if err := d.writeHeader(); err != nil {
		return err
	}
	for i, col := range demographicColumns {
		if d.opts.included(col) {
			d.csv.value(&cells[i].v)
		}
	}
	if err := d.csv.endRow(); err != nil {
		return fmt.Errorf("downloads: writing demographics row of response %s: %w", r.UUID, err)
	}
	return nil
}

// Close writes the header if no row was written and flushes. It does not close w.
func (d *DemographicsCSV) Close() error {
	if err := d.writeHeader(); err != nil {
		return err
	}
	if err := d.csv.flush(); err != nil {
		return fmt.Errorf("downloads: writing demographics: %w", err)
	}
	return nil
}

// DemographicsJSON writes the demographic snapshots as JSON
// ("<study>_all-demographic-snapshots.json"), streamed: "[ ", the elements separated by ", ",
// then " ]", as Lookit joins them; each element is json.dumps(…, indent="\t") of the columns
// nested by object ({"response": {…}, "participant": {…}, "demographic": {…}}).
type DemographicsJSON struct {
	w      *bufio.Writer
	opts   Options
	n      int
	closed bool
	cells  []cell
	buf    []byte
}

// NewDemographicsJSON returns a writer of the demographic JSON with the optional columns of opts.
func NewDemographicsJSON(w io.Writer, opts Options) *DemographicsJSON {
	return &DemographicsJSON{w: bufio.NewWriterSize(w, bufferSize), opts: opts}
}

// Write writes r's element. A *ResponseError means r was skipped.
func (d *DemographicsJSON) Write(r *Response) error {
	if d.closed {
		return ErrClosed
	}
	cells, err := demographicCells(d.cells, r)
	d.cells = cells
	if err != nil {
		return err
	}
	elem := groupedColumns(cells, demographicColumns, d.opts)
	buf := d.buf[:0]
	if d.n == 0 {
		buf = append(buf, "[ "...)
	} else {
		buf = append(buf, ", "...)
	}
	buf = appendPyJSON(buf, &elem, 0)
	d.buf = buf
	d.n++
	if _, err := d.w.Write(buf); err != nil {
		return fmt.Errorf("downloads: writing demographics JSON element of response %s: %w", r.UUID, err)
	}
	return nil
}

// Close ends the array and flushes. It does not close w.
func (d *DemographicsJSON) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	if d.n == 0 {
		d.w.WriteString("[ ")
	}
	d.w.WriteString(" ]")
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("downloads: writing demographics JSON: %w", err)
	}
	return nil
}

// Identifiable columns chosen for the demographic files (participant__global_id only).
func demographicIdentifiable(opts Options) bool { return opts.identifiableIn(demographicColumns) }
