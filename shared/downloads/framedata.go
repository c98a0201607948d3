package downloads

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"lookit.dev/platform/shared/protocol"
)

// globalFrameID is the frame_id of rows from global_event_timings.
const globalFrameID = "global"

const eventTimingsPrefix = "eventTimings."

// frameRowSource produces a response's frame-data rows (Lookit's get_frame_data), reusing its
// buffers from response to response.
type frameRowSource struct {
	flat flattener
}

// each calls emit for every frame-data row of r, in Lookit's order:
//
//  1. global_event_timings: event i's members, unflattened, as frame "global", event number i;
//  2. exp_data frame by frame (a jsPsych list of trials first becomes {sequence[i]: trial i}),
//     each frame flattened with dotted keys, where
//     - eventTimings.N.k is event number N, key k;
//     - frameType is left out, and so is birthDate in a frame whose frameType is EXIT;
//     - generatedProperties is left out when empty.
//
// It decodes before it emits anything, so an error means no row was emitted.
func (s *frameRowSource) each(r *Response, emit func(frameID, event, key string, v *value)) error {
	global, err := parseJSON(r.GlobalEventTimings, value{kind: arrayKind})
	if err != nil {
		return responseError(r, "global_event_timings: %w", err)
	}
	expData, err := r.parseExpData()
	if err != nil {
		return err
	}
	frames := framesOf(expData, r.Sequence)

	// Lookit iterates a list of event dicts; other shapes would fail there. A non-dict event is
	// kept as one row with an empty key rather than lost.
	if global.kind == arrayKind {
		for i := range global.elems {
			event := &global.elems[i]
			n := strconv.Itoa(i)
			if event.kind != objectKind {
				emit(globalFrameID, n, "", event)
				continue
			}
			for j := range event.elems {
				emit(globalFrameID, n, event.keys[j], &event.elems[j])
			}
		}
	}

	for i := range frames.elems {
		frameID, data := frames.keys[i], &frames.elems[i]
		frameType, _ := data.member("frameType")
		isExit := frameType != nil && frameType.kind == stringKind && frameType.s == protocol.ExpDataFrameTypeExit
		for _, p := range s.flat.members(data) {
			switch {
			case strings.HasPrefix(p.key, eventTimingsPrefix):
				event, key, _ := strings.Cut(p.key[len(eventTimingsPrefix):], ".")
				emit(frameID, event, key, p.v)
			case p.key == "frameType":
			case p.key == "birthDate" && isExit:
			case p.key == "generatedProperties" && !p.v.truthy():
			default:
				emit(frameID, "", p.key, p.v)
			}
		}
	}
	return nil
}

// framesOf returns exp_data as an object keyed by frame id. A list (jsPsych's trials) becomes
// {sequence[i]: exp_data[i]} for as long as both last, as Lookit's zip does; a repeated frame id
// keeps its first position and its last trial. A value that is neither has no frames.
//
// Lookit normalizes when the study type is jsPsych; the shape says the same, since only jsPsych
// responses store a list, and a jsPsych response not yet saved stores {} (no frames either way).
func framesOf(expData value, sequence []string) value {
	switch expData.kind {
	case objectKind:
		return expData
	case arrayKind:
		n := min(len(sequence), len(expData.elems))
		keys := slices.Clone(sequence[:n])
		elems := slices.Clone(expData.elems[:n])
		keys, elems = dedupeMembers(keys, elems)
		return value{kind: objectKind, keys: keys, elems: elems}
	}
	return value{kind: objectKind}
}

// FrameDataCSV writes frame data in long format: a header, then every row of each response
// written (Lookit writes one such file per response, "<study>_<response uuid>_frames.csv",
// into "<study>_framedata_per_session.zip"; see FrameDataFileName).
type FrameDataCSV struct {
	csv         *csvWriter
	wroteHeader bool
	rows        frameRowSource
}

// NewFrameDataCSV returns a frame-data writer.
func NewFrameDataCSV(w io.Writer) *FrameDataCSV {
	return &FrameDataCSV{csv: newCSVWriter(w)}
}

func (f *FrameDataCSV) writeHeader() error {
	if f.wroteHeader {
		return nil
	}
	f.wroteHeader = true
	cols := make([]string, len(frameDataColumns))
	for i, c := range frameDataColumns {
		cols[i] = c.ID
	}
	if err := f.csv.header(cols); err != nil {
		return fmt.Errorf("downloads: writing frame data header: %w", err)
	}
	return nil
}

// Write writes r's frame-data rows. A *ResponseError means none was written.
func (f *FrameDataCSV) Write(r *Response) error {
	if f.csv.closed {
		return ErrClosed
	}
	childID, err := r.childUUID()
	if err != nil {
		return err
	}
	if err := f.writeHeader(); err != nil {
		return err
	}
	responseUUID, childHash := r.UUID.String(), r.Study.hash(childID)
	var writeErr error
	err = f.rows.each(r, func(frameID, event, key string, v *value) {
		f.csv.quoted(responseUUID)
		f.csv.quoted(childHash)
		f.csv.quoted(frameID)
		f.csv.quoted(event) // str(i), or "" for data that is not an event
		f.csv.quoted(key)
		f.csv.value(v)
		if err := f.csv.endRow(); err != nil && writeErr == nil {
			writeErr = err
		}
	})
	if err != nil {
		return err
	}
	if writeErr != nil {
		return fmt.Errorf("downloads: writing frame data of response %s: %w", r.UUID, writeErr)
	}
	return nil
}

// Close writes the header if no row was written and flushes. It does not close w.
func (f *FrameDataCSV) Close() error {
	if err := f.writeHeader(); err != nil {
		return err
	}
	if err := f.csv.flush(); err != nil {
		return fmt.Errorf("downloads: writing frame data: %w", err)
	}
	return nil
}

// FrameDictionary gathers the frames and keys of a study's frame data for its template data
// dictionary (Lookit's build_framedata_dict). It holds the distinct frame ids and keys only,
// whose number depends on the protocol, not on the number of responses.
type FrameDictionary struct {
	frameKeys map[string]map[string]struct{} // frame id without its "N-" prefix → non-event keys
	eventKeys map[string]struct{}
	rows      frameRowSource
}

// Add gathers r's frames and keys. A *ResponseError leaves the dictionary as it was.
func (d *FrameDictionary) Add(r *Response) error {
	if d.frameKeys == nil {
		d.frameKeys = make(map[string]map[string]struct{})
		d.eventKeys = make(map[string]struct{})
	}
	return d.rows.each(r, func(frameID, event, key string, _ *value) {
		if event != "" {
			d.eventKeys[key] = struct{}{}
		}
		if frameID == globalFrameID {
			return
		}
		// Frame ids start with their position ("3-test-trial"); the dictionary describes the
		// frame whatever its position (frame_id.partition("-")[2]).
		_, frame, _ := strings.Cut(frameID, "-")
		keys := d.frameKeys[frame]
		if keys == nil {
			keys = make(map[string]struct{})
			d.frameKeys[frame] = keys
		}
		if event == "" {
			keys[key] = struct{}{}
		}
	})
}

// Placeholders the researcher replaces in the frame-data dictionary.
const (
	frameDescriptionPlaceholder = "RESEARCHER: INSERT FRAME DESCRIPTION"
	keyDescriptionPlaceholder   = "RESEARCHER: INSERT DESCRIPTION OF WHAT THIS KEY MEANS IN THIS FRAME"
	eventKeyPlaceholder         = "RESEARCHER: INSERT DESCRIPTION OF WHAT THIS EVENT KEY MEANS"
)

// eventKeyDescriptions describe event keys that the frameplayer records in many frames.
var eventKeyDescriptions = map[string]string{
	"eventType": "What happened; it decides which other keys the event has. The global event exitEarly records an attempt to leave the study early (closing the tab or window, or pressing F1 or Ctrl-X). " +
		"RESEARCHER: INSERT DESCRIPTIONS OF THE EVENT TYPES YOUR STUDY USES (each frame's documentation lists the events it records).",
	"exitType":     "Recorded with the global exitEarly event: how the participant tried to leave; currently always browserNavigationAttempt.",
	"lastPageSeen": "Recorded with the global exitEarly event: the index of the frame the participant was on when they tried to leave.",
	"pipeId":       "Recorded by every event of a frame that records video: the video id the Pipe recording service used. Only useful for troubleshooting.",
	"streamTime":   "Recorded by every event of a frame that records video: the time within the webcam video (videoId), to the nearest 0.1 s; 0 or empty before recording starts.",
	"timestamp":    "Recorded by every event: when it happened, written like 2024-05-01T17:14:43.626Z.",
	"videoId":      "Recorded by every event of a frame that records video: the file name, without extension, of the video being recorded.",
}

// WriteCSV writes the frame-data dictionary ("<study>_<study uuid>_all-frames-dict.csv"), with
// columns column, description, possible_frame_id, frame_description, possible_key and
// key_description: first the frame-data columns, then the global frame, then each frame (as
// "*-<frame id>") with each of its keys, then every event key. Empty fields are "".
func (d *FrameDictionary) WriteCSV(w io.Writer) error {
	c := newCSVWriter(w)
	row := func(fields ...string) error {
		for i := range 6 {
			if i < len(fields) {
				c.quoted(fields[i])
			} else {
				c.none()
			}
		}
		return c.endRow()
	}
	err := row("column", "description", "possible_frame_id", "frame_description", "possible_key", "key_description")
	for _, col := range frameDataColumns {
		err = firstErr(err, row(col.ID, col.Description))
	}
	err = firstErr(err, row("", "", globalFrameID, "Data not tied to a particular frame"))
	for _, frame := range slices.Sorted(maps.Keys(d.frameKeys)) {
		id := "*-" + frame
		err = firstErr(err, row("", "", id, frameDescriptionPlaceholder))
		for _, key := range slices.Sorted(maps.Keys(d.frameKeys[frame])) {
			err = firstErr(err, row("", "", id, "", key, keyDescriptionPlaceholder))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(d.eventKeys)) {
		desc, ok := eventKeyDescriptions[key]
		if !ok {
			desc = eventKeyPlaceholder
		}
		err = firstErr(err, row("", "", "any (event data)", "", key, desc))
	}
	if err = firstErr(err, c.flush()); err != nil {
		return fmt.Errorf("downloads: writing frame data dictionary: %w", err)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
