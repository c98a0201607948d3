package protocol

import (
	"encoding/json"
	"strings"

	"lookit.dev/platform/shared/jsonapi"
)

// LastFrame returns the kind and data of a response's last frame, as Lookit's
// FrameActionDispatcher reads them: for the frameplayer exp_data[sequence[-1]] and its frameType
// (CONSENT, EXIT); for jsPsych (exp_data a list of trials) the last trial's chs_type (consent,
// exit) and its response object. The kind is upper-cased; "" when there is none.
func LastFrame(jsPsych bool, expData json.RawMessage, sequence []string) (kind string, data map[string]json.RawMessage) {
	if len(sequence) == 0 {
		return "", nil
	}
	var frame map[string]json.RawMessage
	field := "frameType"
	if jsPsych {
		var rows []map[string]json.RawMessage
		if json.Unmarshal(expData, &rows) != nil || len(rows) == 0 {
			return "", nil
		}
		frame, field = rows[len(rows)-1], "chs_type"
		_ = json.Unmarshal(frame["response"], &data)
	} else {
		// Only the last frame is decoded: exp_data grows with every frame.
		raw, ok := jsonapi.Member(expData, sequence[len(sequence)-1])
		if !ok || json.Unmarshal(raw, &frame) != nil {
			return "", nil
		}
		data = frame
	}
	_ = json.Unmarshal(frame[field], &kind)
	return strings.ToUpper(kind), data
}

// LastFrameKind is LastFrame's kind alone. For the frameplayer it decodes only the frameType of
// the last frame, not the frame: every save and every response shown asks for it.
func LastFrameKind(jsPsych bool, expData json.RawMessage, sequence []string) string {
	if jsPsych || len(sequence) == 0 {
		kind, _ := LastFrame(jsPsych, expData, sequence)
		return kind
	}
	return FrameKind(expData, sequence[len(sequence)-1])
}

// FrameKind is the upper-cased frameType the frameplayer recorded for frame id in exp_data, ""
// when there is none: a video filed before or after its frame's save is consent footage when
// its frame is a consent frame.
func FrameKind(expData json.RawMessage, id string) string {
	raw, ok := jsonapi.Member(expData, id)
	if !ok {
		return ""
	}
	// Member finds members of objects only, as LastFrame's decoding into a map accepts only them.
	var kind string
	if v, ok := jsonapi.Member(raw, "frameType"); ok {
		_ = json.Unmarshal(v, &kind)
	}
	return strings.ToUpper(kind)
}

// Withdrawn reports whether the family withdrew on the exit survey: the last frame is the exit
// frame and its withdrawal answer is true in Python's sense, as Lookit tests it.
func Withdrawn(jsPsych bool, expData json.RawMessage, sequence []string) bool {
	if LastFrameKind(jsPsych, expData, sequence) != ExpDataFrameTypeExit {
		return false
	}
	kind, data := LastFrame(jsPsych, expData, sequence)
	return kind == ExpDataFrameTypeExit && truthy(data["withdrawal"])
}

func truthy(v json.RawMessage) bool {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return false
	}
	switch t := x.(type) {
	case bool:
		return t
	case string:
		return t != ""
	case float64:
		return t != 0
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return false
}
