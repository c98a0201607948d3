package downloads

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// StudyInfo is what file names and the Psych-DS zip's materials need of the studies row.
type StudyInfo struct {
	ID   int64     // studies.id
	UUID uuid.UUID // studies.uuid
	Name string    // studies.name
	// The study's ad, for materials/study_ad_info.json.
	ShortDescription, Purpose, Criteria, Duration, CompensationDescription, ContactInfo string

	Structure    json.RawMessage // studies.structure (protocol), may be empty
	UseGenerator bool            // studies.use_generator
	Generator    string          // studies.generator, JavaScript
}

// Write writes the study-wide download f to w, reading the responses from src as many times as
// Passes(f) says; the dictionaries read none. It holds one response at a time, the distinct
// column keys of the protocol and the ids of skipped responses; the zips also keep a directory
// record per entry (its name and sizes, some hundred bytes) until the end, where the zip format
// puts the directory.
//
// A response the writers cannot read (a *ResponseError) is left out of every file of the
// download, in every pass, and listed in the Result; it is no failure. Any other error — the
// source's (wrapped), ctx's, or w's — ends the download: w then holds an incomplete file and the
// Result what was done so far. Write does not close w.
func Write(ctx context.Context, w io.Writer, f File, study StudyInfo, opts Options, src Source) (Result, error) {
	p := &passes{ctx: ctx, src: src}
	var err error
	switch f {
	case SummaryFile:
		err = writeSummary(p, w, opts)
	case SummaryDictionaryFile:
		err = WriteSummaryDictionary(w, opts)
	case ResponsesJSONFile:
		err = writeRows(p, Pass{Order: ByResponse}, NewResponsesJSON(w, opts))
	case ChildrenFile:
		err = writeRows(p, Pass{Order: ByChild, ExitOnly: true}, NewChildrenCSV(w, opts))
	case ChildrenDictionaryFile:
		err = WriteChildrenDictionary(w)
	case DemographicsFile:
		err = writeRows(p, Pass{Order: ByResponse, ExitOnly: true}, NewDemographicsCSV(w, opts))
	case DemographicsJSONFile:
		err = writeRows(p, Pass{Order: ByResponse, ExitOnly: true}, NewDemographicsJSON(w, opts))
	case DemographicsDictionaryFile:
		err = WriteDemographicsDictionary(w, opts)
	case FrameDataZipFile:
		err = writeFrameDataZip(p, w, study)
	case FrameDictionaryFile:
		err = writeFrameDictionary(p, w)
	case PsychDSFile:
		err = writePsychDS(p, w, study, opts)
	default:
		err = fmt.Errorf("downloads: unknown file %d", f)
	}
	return p.result, err
}

// Passes is how many times Write calls src.Each for f, so a caller can show progress: two for
// the response overview (its header needs every response's keys first), four for the Psych-DS
// zip, none for the dictionaries of columns, one for the others.
func Passes(f File) int {
	switch f {
	case SummaryFile:
		return 2
	case ResponsesJSONFile, ChildrenFile, DemographicsFile, DemographicsJSONFile, FrameDataZipFile, FrameDictionaryFile:
		return 1
	case PsychDSFile:
		return psychDSPasses
	}
	return 0
}

// ContentType is the MIME type of f.
func ContentType(f File) string {
	switch f {
	case ResponsesJSONFile, DemographicsJSONFile:
		return "application/json" // UTF-8 by definition, and Python's escaping keeps it ASCII
	case FrameDataZipFile, PsychDSFile:
		return "application/zip"
	}
	return "text/csv; charset=utf-8"
}

// rowWriter is every writer of one row (or element) per response.
type rowWriter interface {
	Write(*Response) error
	Close() error
}

// writeRows writes one pass of responses with rw and closes it.
func writeRows(p *passes, pass Pass, rw rowWriter) error {
	if err := p.each(pass, rw.Write); err != nil {
		return err
	}
	return rw.Close()
}

// writeSummary writes the response overview: a pass for the header's keys, then the rows.
func writeSummary(p *passes, w io.Writer, opts Options) error {
	var keys KeySet
	if err := p.each(Pass{Order: ByResponse, ExitOnly: true}, keys.Add); err != nil {
		return err
	}
	return writeRows(p, Pass{Order: ByResponse, ExitOnly: true}, NewSummaryCSV(w, opts, keys.Keys()))
}

// writeFrameDictionary gathers the frames and keys of every response, then writes the template.
func writeFrameDictionary(p *passes, w io.Writer) error {
	var d FrameDictionary
	if err := p.each(Pass{Order: ByResponse}, d.Add); err != nil {
		return err
	}
	return d.WriteCSV(w)
}
