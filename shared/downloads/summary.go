package downloads

import (
	"fmt"
	"io"
	"slices"
)

// isResponseColumn holds every response column id.
var isResponseColumn = func() map[string]bool {
	m := make(map[string]bool, len(responseColumns))
	for _, c := range responseColumns {
		m[c.ID] = true
	}
	return m
}()

// SummaryKeys returns the extra columns one response contributes to the response overview:
// the dotted keys its list and dict values flatten to (response__sequence.0,
// response__conditions.0.frameName, response__eligibility.0, …). The overview's header must
// list the extra keys of every response, so the caller gathers them in a first pass (see
// KeySet) before it writes any row.
func SummaryKeys(r *Response) ([]string, error) {
	var row responseRow
	var flat flattener
	if err := row.build(r); err != nil {
		return nil, err
	}
	var keys []string
	for _, p := range flat.cells(row.cells) {
		if !isResponseColumn[p.key] {
			keys = append(keys, p.key)
		}
	}
	return keys, nil
}

// KeySet gathers the extra overview columns of many responses (the first pass). It holds the
// distinct keys only, whose number depends on the protocol, not on the number of responses.
type KeySet struct {
	keys map[string]struct{}
	row  responseRow
	flat flattener
}

// Add adds r's extra keys; a *ResponseError leaves the set as it was.
func (k *KeySet) Add(r *Response) error {
	if err := k.row.build(r); err != nil {
		return err
	}
	if k.keys == nil {
		k.keys = make(map[string]struct{})
	}
	for _, p := range k.flat.cells(k.row.cells) {
		if !isResponseColumn[p.key] {
			k.keys[p.key] = struct{}{}
		}
	}
	return nil
}

// Keys returns the gathered keys, sorted.
func (k *KeySet) Keys() []string {
	keys := make([]string, 0, len(k.keys))
	for key := range k.keys {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

// summaryHeader is the overview's column order (reference §9.3): the fixed columns in Lookit's
// order without the optional ones not chosen; then the flattened extra keys in alphabetical
// (code point) order; then response__researcher_session_status and response__researcher_star.
//
// response__eligibility, response__sequence and response__conditions keep their fixed places
// although their values are lists, which flattening turns into extra keys: those columns are
// then empty (""), as Python's csv.DictWriter(restval="") writes a field the row lacks.
//
// The last two follow the reference. Lookit's get_response_headers takes the fixed columns as
// RESPONSE_COLUMNS[0:-2] and sorts everything else, so there the two may land among the extra
// keys (after response__eligibility.*, before response__sequence.*); only this function would
// change to match that.
func summaryHeader(opts Options, extraKeys []string) []string {
	var h []string
	for _, c := range responseColumns {
		if c.ID != colResponseSessionStatus && c.ID != colResponseStar && opts.included(c) {
			h = append(h, c.ID)
		}
	}
	extra := make([]string, 0, len(extraKeys))
	for _, k := range extraKeys {
		if !isResponseColumn[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	h = append(h, slices.Compact(extra)...)
	return append(h, colResponseSessionStatus, colResponseStar)
}

// SummaryCSV writes the response overview ("<study>_all-responses.csv"): a header, then one
// row per Write. A row's keys that the header lacks (a response changed since the first pass)
// are left out, as Lookit's DictWriter(extrasaction="ignore") does.
type SummaryCSV struct {
	csv         *csvWriter
	header      []string
	wroteHeader bool
	row         responseRow
	flat        flattener
	byKey       map[string]*value
}

// NewSummaryCSV returns a writer of the overview with the optional columns of opts and the
// extra keys gathered from every response that will be written.
func NewSummaryCSV(w io.Writer, opts Options, extraKeys []string) *SummaryCSV {
	return &SummaryCSV{csv: newCSVWriter(w), header: summaryHeader(opts, extraKeys), byKey: make(map[string]*value)}
}

// Header returns the overview's columns in order.
func (s *SummaryCSV) Header() []string { return slices.Clone(s.header) }

func (s *SummaryCSV) writeHeader() error {
	if s.wroteHeader {
		return nil
	}
	s.wroteHeader = true
	if err := s.csv.header(s.header); err != nil {
		return fmt.Errorf("downloads: writing response overview header: %w", err)
	}
	return nil
}

// Write writes r's row (and the header before the first row). A *ResponseError means r was
// skipped; any other error is the underlying writer's.
func (s *SummaryCSV) Write(r *Response) error {
	if s.csv.closed {
		return ErrClosed
	}
	if err := s.row.build(r); err != nil {
		return err
	}
	if err := s.writeHeader(); err != nil {
		return err
	}
	clear(s.byKey)
	for _, p := range s.flat.cells(s.row.cells) {
		s.byKey[p.key] = p.v
	}
	for _, col := range s.header {
		if v, ok := s.byKey[col]; ok {
			s.csv.value(v)
		} else {
			s.csv.none()
		}
	}
	if err := s.csv.endRow(); err != nil {
		return fmt.Errorf("downloads: writing response overview row of response %s: %w", r.UUID, err)
	}
	return nil
}

// Close writes the header if no row was written and flushes. It does not close w.
func (s *SummaryCSV) Close() error {
	if err := s.writeHeader(); err != nil {
		return err
	}
	if err := s.csv.flush(); err != nil {
		return fmt.Errorf("downloads: writing response overview: %w", err)
	}
	return nil
}
