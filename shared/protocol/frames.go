package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Frame kinds this package knows by name. Every other kind is passed through unchecked.
const (
	KindGroup  = "group"  // a frame made of the frames in its frameList
	KindChoice = "choice" // a randomizer that picks or orders frames; see its "sampler"

	KindVideoConsent  = "exp-lookit-video-consent"
	KindSurveyConsent = "exp-lookit-survey-consent"
	KindVideoAssent   = "exp-lookit-video-assent"
	KindExitSurvey    = "exp-lookit-exit-survey"
)

// The "frameType" that the runner records with each frame's data in a response's exp_data.
// lookit-api marks consent footage and applies a withdrawal by these values, not by kind.
const (
	ExpDataFrameTypeConsent = "CONSENT"
	ExpDataFrameTypeExit    = "EXIT"
)

// FrameType returns a frame's kind, the runner's frame type such as "exp-lookit-exit-survey",
// "group" or "choice": the string member "kind" of the frame object. It returns "" when frame is
// not an object or has no string kind. (Not to be confused with the "frameType" recorded in
// session data; see ExpDataFrameTypeConsent.)
func FrameType(frame json.RawMessage) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(frame, &members) != nil {
		return ""
	}
	kind, _ := decodeString(members["kind"])
	return kind
}

// IsConsentFrame reports whether frames of this kind record consent: the runner sets the
// response's completed_consent_frame when one of them finishes (frameplayer-contract.md §1.8).
func IsConsentFrame(kind string) bool {
	switch kind {
	case KindVideoConsent, KindSurveyConsent, KindVideoAssent:
		return true
	}
	return false
}

// IsExitFrame reports whether frames of this kind are the exit survey, the only frame that sets
// the response's completed and the one whose withdrawal answer lookit-api acts on.
func IsExitFrame(kind string) bool { return kind == KindExitSurvey }

// plainFrameKind is the runner's pattern for a kind that names one frame component.
var plainFrameKind = regexp.MustCompile(`^exp(?:-\w+)+$`)

// member is one member of a frame as the runner sees it, decoded, with the pointer of where it
// was written: a group's entries inherit members from its commonFrameProperties.
type member struct {
	value any // as decoded by encoding/json: nil, bool, float64, string, []any or map[string]any
	ptr   string
}

// checkSequencedFrame checks a frame of frames that the sequence shows, as the runner would
// resolve it. The frame is decoded once, so nested groups cost no more than the frame's size.
func checkSequencedFrame(id string, frame json.RawMessage) *Error {
	ptr := framePointer(id)
	// Numbers become float64, as in JavaScript; checkStorable has ruled out overflow.
	var decoded any
	if err := json.Unmarshal(frame, &decoded); err != nil {
		return internalJSON(err)
	}
	members, ok := objectMembers(decoded, ptr)
	if !ok {
		return &Error{ptr, "must be a frame object"}
	}
	return checkFrame(members, ptr, id)
}

// checkFrame checks a frame that the runner resolves. ptr points at the frame; fallbackID is
// the id the runner gives it when it has no "id" member of its own (its key in frames, or ""
// for an entry of a group's frameList, which then has no id to check).
func checkFrame(members map[string]member, ptr, fallbackID string) *Error {
	kindMember, ok := members["kind"]
	if !ok {
		return &Error{ptr, `has no "kind"; give the frame type, such as "exp-lookit-text", "group" or "choice"`}
	}
	kind, ok := kindMember.value.(string)
	if !ok {
		return &Error{kindMember.ptr, `must be a string: the frame type, such as "exp-lookit-text", "group" or "choice"`}
	}
	if p, ok := members["parameters"]; ok && jsTruthy(p.value) {
		// The runner first replaces every string value that names a parameter, so kind, id,
		// frameList and sampler may all be different at run time. A missing or non-string kind
		// stays so, which is all we can know.
		return nil
	}
	switch {
	case kind == "":
		return &Error{kindMember.ptr, `must not be empty; give the frame type, such as "exp-lookit-text"`}
	case kind == KindGroup:
		return checkGroup(members, ptr)
	case kind == KindChoice:
		sampler, ok := members["sampler"]
		if !ok {
			return &Error{ptr, `is a choice frame without "sampler"; name the randomizer, such as "permute", "select" or "random-parameter-set"`}
		}
		if name, ok := sampler.value.(string); !ok || name == "" {
			return &Error{sampler.ptr, `must name the randomizer, such as "permute", "select" or "random-parameter-set"`}
		}
	case plainFrameKind.MatchString(kind):
		// The runner uses frame.id || <key in frames> and checks it (parse-experiment.js,
		// _reformatFrame): an "id" member that is falsy in JavaScript falls back to the key.
		if idMember, ok := members["id"]; ok && jsTruthy(idMember.value) {
			id, ok := idMember.value.(string)
			if !ok {
				return &Error{idMember.ptr, "must be a string: the frame id"}
			}
			if msg := runnerIDProblem(id); msg != "" {
				return &Error{idMember.ptr, msg}
			}
		} else if fallbackID != "" {
			if msg := runnerIDProblem(fallbackID); msg != "" {
				return &Error{ptr, msg}
			}
		}
	}
	return nil
}

// checkGroup checks a group frame: the runner calls frameList.forEach and resolves each entry
// merged over commonFrameProperties, so an entry may take its kind from there.
func checkGroup(members map[string]member, ptr string) *Error {
	list, ok := members["frameList"]
	if !ok {
		return &Error{ptr, `is a group frame without "frameList"; list the group's frames there`}
	}
	entries, ok := list.value.([]any)
	if !ok {
		return &Error{list.ptr, "must be an array of frames"}
	}
	var common map[string]member
	if c, ok := members["commonFrameProperties"]; ok {
		// Only an object contributes members; the runner's shallow merge ignores anything else
		// (it would copy a string's characters as "0", "1", ..., none of which matters here).
		common, _ = objectMembers(c.value, c.ptr)
	}
	for i, entry := range entries {
		entryPtr := list.ptr + "/" + strconv.Itoa(i)
		merged := make(map[string]member, len(common))
		for k, m := range common {
			merged[k] = m
		}
		own, isObject := objectMembers(entry, entryPtr)
		for k, m := range own {
			merged[k] = m
		}
		if _, hasKind := merged["kind"]; !hasKind && !isObject {
			return &Error{entryPtr, "must be a frame object; a group's frameList holds the frames themselves, not frame ids"}
		}
		if err := checkFrame(merged, entryPtr, ""); err != nil {
			return err
		}
	}
	return nil
}

// objectMembers returns a decoded object's members, each with its pointer below ptr. ok is
// false when value is not an object. (encoding/json keeps the last of repeated keys, as
// JavaScript does.)
func objectMembers(value any, ptr string) (members map[string]member, ok bool) {
	fields, ok := value.(map[string]any)
	if !ok {
		return nil, false
	}
	members = make(map[string]member, len(fields))
	for k, v := range fields {
		members[k] = member{value: v, ptr: ptr + "/" + escapeToken(k)}
	}
	return members, true
}

// runnerIDProblem applies the runner's rule for the id of a frame it shows (contract §1.4):
// only A-Z, a-z, 0-9, "-", "." and space, and no -repeat-N suffix, which the runner reserves.
// Video file names are split on "_", which is one reason for the rule.
func runnerIDProblem(id string) string {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ' ') {
			return fmt.Sprintf(`frame id %q may contain only letters A-Z and a-z, digits, "-", "." and spaces; the frameplayer refuses other characters`, id)
		}
	}
	if i := strings.LastIndex(id, "-repeat-"); i >= 0 {
		if n := id[i+len("-repeat-"):]; n != "" && strings.Trim(n, "0123456789") == "" {
			return fmt.Sprintf(`frame id %q must not end in "-repeat-<number>", which the frameplayer reserves for repeated frames`, id)
		}
	}
	return ""
}

// jsTruthy reports whether a decoded JSON value is truthy in JavaScript: all but null, false,
// 0 and "".
func jsTruthy(value any) bool {
	switch v := value.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0
	case string:
		return v != ""
	}
	return true // objects and arrays
}

// decodeString decodes a JSON string; unlike json.Unmarshal it refuses null.
func decodeString(raw json.RawMessage) (string, bool) {
	var s string
	if firstByte(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// firstByte returns the first non-whitespace byte of raw, or 0.
func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}
