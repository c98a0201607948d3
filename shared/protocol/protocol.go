package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a researcher may save. They bound the work one request can cause and keep the
// protocol small enough to send to every participant's browser.
const (
	MaxStructureBytes = 2 << 20   // raw structure JSON
	MaxDepth          = 64        // nested objects and arrays, the structure object itself being 1
	MaxFrameIDRunes   = 128       // Lookit stores response sequences as varchar(128)
	MaxSequenceLen    = 1000      // entries in "sequence"
	MaxGeneratorBytes = 256 << 10 // generator source
	MaxNumberScale    = 1000      // decimal places of a number; PostgreSQL numeric has a limit
)

// Error is a problem with a protocol. Pointer is an RFC 6901 JSON pointer into the request whose
// top-level members are "structure" and "generator", such as "/structure/sequence/3"; it may
// point at a member that is missing. Message says what is wrong there and is safe to show.
type Error struct {
	Pointer string
	Message string
}

func (e *Error) Error() string { return e.Pointer + ": " + e.Message }

// Structure is a validated structure document.
type Structure struct {
	// Frames maps each frame id to its frame object as given. Never nil.
	Frames map[string]json.RawMessage
	// FrameIDs lists the keys of Frames in the order of the input.
	FrameIDs []string
	// Sequence lists the frame ids to show, in order; an id may repeat. Never nil.
	Sequence []string
	// ExactText is the editor's copy of the typed text, "" when absent.
	ExactText string
	// Raw is a copy of the structure bytes exactly as given (whitespace, key order and all
	// other top-level keys kept), to be stored and served unchanged.
	Raw json.RawMessage
}

// generatorFunction finds the function the runner's convention and Lookit's template name.
var generatorFunction = regexp.MustCompile(`\bfunction\s+generateProtocol\s*\(`)

// Validate checks a study's protocol as a researcher saves it: structure (the JSON document),
// generator (JavaScript source) and useGenerator. It returns the parsed structure, or an *Error
// (as error) naming the first problem. See the package comment for the rules.
func Validate(structure json.RawMessage, generator string, useGenerator bool) (Structure, error) {
	s, perr := validateStructure(structure, useGenerator)
	if perr == nil {
		perr = validateGenerator(generator, useGenerator)
	}
	if perr != nil {
		return Structure{}, perr
	}
	return s, nil
}

// ReadyToSubmit adds the rule for submitting a study for review to what Validate (called with
// the same useGenerator) has already checked: without a generator the sequence must show at least
// one frame. It rechecks that every entry is a frame id, so it also holds for a structure saved
// under older rules.
func ReadyToSubmit(s Structure, useGenerator bool) error {
	if useGenerator {
		return nil // Validate required a generator; it decides the sequence
	}
	if len(s.Sequence) == 0 {
		return &Error{"/structure/sequence", "is empty; list at least one frame before submitting the study (or use a generator)"}
	}
	for i, id := range s.Sequence {
		if _, ok := s.Frames[id]; !ok {
			return missingFrame(i, id)
		}
	}
	return nil
}

func validateGenerator(generator string, useGenerator bool) *Error {
	// The generator is stored (text column) even when it is not used, so the storage rules
	// always apply.
	if len(generator) > MaxGeneratorBytes {
		return &Error{"/generator", fmt.Sprintf("is larger than %d KiB", MaxGeneratorBytes>>10)}
	}
	if !utf8.ValidString(generator) {
		return &Error{"/generator", "is not valid UTF-8"}
	}
	if strings.IndexByte(generator, 0) >= 0 {
		return &Error{"/generator", "contains the character U+0000, which cannot be stored"}
	}
	if !useGenerator {
		return nil
	}
	if strings.TrimSpace(generator) == "" {
		return &Error{"/generator", "is empty but use_generator is on; write function generateProtocol(child, pastSessions) { ... } or turn use_generator off"}
	}
	if !generatorFunction.MatchString(generator) {
		return &Error{"/generator", "must define function generateProtocol(child, pastSessions) { ... }"}
	}
	return nil
}

func validateStructure(data json.RawMessage, useGenerator bool) (Structure, *Error) {
	if len(data) > MaxStructureBytes {
		return Structure{}, &Error{"/structure", fmt.Sprintf("is larger than %d MiB", MaxStructureBytes>>20)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Structure{}, &Error{"/structure", `is required: a JSON object such as {"frames": {}, "sequence": []}`}
	}
	if firstByte(data) != '{' {
		return Structure{}, &Error{"/structure", `must be a JSON object such as {"frames": {}, "sequence": []}`}
	}
	if err := checkStorable(data); err != nil {
		return Structure{}, err
	}

	// The document is now well-formed JSON; read the members we interpret, in input order.
	s := Structure{Frames: map[string]json.RawMessage{}, Sequence: []string{}, Raw: bytes.Clone(data)}
	var hasFrames, hasSequence bool
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return Structure{}, internalJSON(err)
	}
	seen := map[string]bool{}
	for dec.More() {
		key, raw, err := nextMember(dec)
		if err != nil {
			return Structure{}, internalJSON(err)
		}
		ptr := "/structure/" + escapeToken(key)
		if seen[key] {
			return Structure{}, &Error{ptr, "appears more than once; keep one"}
		}
		seen[key] = true
		switch key {
		case "frames":
			hasFrames = true
			if perr := readFrames(raw, &s); perr != nil {
				return Structure{}, perr
			}
		case "sequence":
			hasSequence = true
			if perr := readSequence(raw, &s); perr != nil {
				return Structure{}, perr
			}
		case "exact_text":
			text, ok := decodeString(raw)
			if !ok {
				return Structure{}, &Error{ptr, "must be a string"}
			}
			s.ExactText = text
		}
	}

	if useGenerator {
		return s, nil // the generator supplies frames and sequence; the rest is its fallback
	}
	if !hasFrames {
		return Structure{}, &Error{"/structure/frames", "is missing; it must be an object mapping frame ids to frames"}
	}
	if !hasSequence {
		return Structure{}, &Error{"/structure/sequence", "is missing; it must be an array of frame ids"}
	}
	checked := map[string]bool{}
	for i, id := range s.Sequence {
		frame, ok := s.Frames[id]
		if !ok {
			return Structure{}, missingFrame(i, id)
		}
		if checked[id] {
			continue
		}
		checked[id] = true
		if perr := checkSequencedFrame(id, frame); perr != nil {
			return Structure{}, perr
		}
	}
	return s, nil
}

func missingFrame(index int, id string) *Error {
	return &Error{"/structure/sequence/" + strconv.Itoa(index), fmt.Sprintf("frame %q is not in frames", id)}
}

func readFrames(raw json.RawMessage, s *Structure) *Error {
	if firstByte(raw) != '{' {
		return &Error{"/structure/frames", "must be an object mapping frame ids to frames"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return internalJSON(err)
	}
	for dec.More() {
		id, frame, err := nextMember(dec)
		if err != nil {
			return internalJSON(err)
		}
		ptr := framePointer(id)
		if msg := frameIDProblem(id); msg != "" {
			return &Error{ptr, msg}
		}
		if _, dup := s.Frames[id]; dup {
			return &Error{ptr, fmt.Sprintf("frame id %q appears more than once; keep one", id)}
		}
		if firstByte(frame) != '{' {
			return &Error{ptr, "must be a frame object"}
		}
		s.Frames[id] = frame
		s.FrameIDs = append(s.FrameIDs, id)
	}
	return nil
}

func readSequence(raw json.RawMessage, s *Structure) *Error {
	if firstByte(raw) != '[' {
		return &Error{"/structure/sequence", "must be an array of frame ids"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return internalJSON(err)
	}
	for i := 0; dec.More(); i++ {
		if i == MaxSequenceLen {
			return &Error{"/structure/sequence", fmt.Sprintf("has more than %d entries", MaxSequenceLen)}
		}
		var entry json.RawMessage
		if err := dec.Decode(&entry); err != nil {
			return internalJSON(err)
		}
		id, ok := decodeString(entry)
		if !ok {
			return &Error{"/structure/sequence/" + strconv.Itoa(i), "must be a frame id (a string)"}
		}
		s.Sequence = append(s.Sequence, id)
	}
	return nil
}

// nextMember reads one key and its value from an object whose '{' dec has consumed.
func nextMember(dec *json.Decoder) (string, json.RawMessage, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", nil, err
	}
	key, ok := tok.(string)
	if !ok {
		return "", nil, fmt.Errorf("object key is %T", tok)
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return "", nil, err
	}
	return key, raw, nil
}

// internalJSON reports a decoding failure after checkStorable accepted the document, which would
// be a bug here; it still names the structure rather than panicking.
func internalJSON(err error) *Error {
	return &Error{"/structure", "could not be read: " + err.Error()}
}

// frameIDProblem says what makes id unusable as a key of frames, or "" if nothing does.
func frameIDProblem(id string) string {
	switch {
	case id == "":
		return "frame id must not be empty"
	case utf8.RuneCountInString(id) > MaxFrameIDRunes:
		return fmt.Sprintf("frame id is longer than %d characters", MaxFrameIDRunes)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "frame id must not contain control characters"
	case id == "hasOwnProperty":
		// The runner calls frames.hasOwnProperty(id); a frame of that name replaces the method
		// and every lookup throws.
		return `frame id "hasOwnProperty" cannot be used: the frameplayer looks frames up with that method`
	}
	return ""
}

// escapeToken escapes one RFC 6901 reference token: "~" as "~0", then "/" as "~1".
func escapeToken(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

func framePointer(id string) string { return "/structure/frames/" + escapeToken(id) }
