package protocol_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"lookit.dev/platform/shared/protocol"
)

func FuzzValidate(f *testing.F) {
	seeds := []string{
		`{"frames": {"consent": {"kind": "exp-lookit-survey-consent", "items": [{"kind": "checkbox-item", "label": "agree"}]}, "intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hello", "emph": true}]}, "exit-survey": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["consent", "intro", "exit-survey"]}`,
		`{"frames": {}, "sequence": []}`,
		`{"frames": {"g": {"kind": "group", "commonFrameProperties": {"kind": "exp-lookit-text"}, "frameList": [{"id": "a"}, "b", {"kind": "choice", "sampler": "permute"}]}}, "sequence": ["g", "g"]}`,
		`{"frames": {"a_b": {"kind": "K", "parameters": {"K": "exp-lookit-text"}, "id": 0}}, "sequence": ["a_b"], "exact_text": "\ud83d\ude00"}`,
		`{"frames": {"a/~b": {"kind": "exp-x-repeat-1"}}, "sequence": ["a/~b", "zz"], "n": [1e308, 1e-999]}`,
		`{"sequence": ["x"], "frames": {"x": {}}, "frames": {}}`,
		`{"frames": {"\u0000": 1}, "exact_text": "\udc00"}`,
		`[{"frames": {}}]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), "", false)
		f.Add([]byte(s), "function generateProtocol(child, pastSessions) { return {}; }", true)
	}
	f.Add([]byte(`{}`), "", true)
	f.Fuzz(func(t *testing.T, data []byte, generator string, useGenerator bool) {
		s, err := protocol.Validate(data, generator, useGenerator)
		if err != nil {
			var perr *protocol.Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is %T, not *protocol.Error", err, err)
			}
			if _, direct := err.(*protocol.Error); !direct {
				t.Fatalf("error %v wraps a *protocol.Error instead of being one", err)
			}
			if !strings.HasPrefix(perr.Pointer, "/structure") && !strings.HasPrefix(perr.Pointer, "/generator") {
				t.Fatalf("pointer %q is outside the request", perr.Pointer)
			}
			if perr.Message == "" {
				t.Fatal("empty message")
			}
			if _, again := protocol.Validate(data, generator, useGenerator); again == nil || again.Error() != err.Error() {
				t.Fatalf("not deterministic: %v, then %v", err, again)
			}
			return
		}

		// Whatever passes is JSON we can store and serve unchanged.
		if !json.Valid(data) || string(s.Raw) != string(data) {
			t.Fatal("accepted structure is not the valid JSON given")
		}
		if len(s.Frames) != len(s.FrameIDs) || len(s.Sequence) > protocol.MaxSequenceLen {
			t.Fatalf("inconsistent structure: %d frames, %d ids, %d entries", len(s.Frames), len(s.FrameIDs), len(s.Sequence))
		}
		for _, id := range s.FrameIDs {
			if _, ok := s.Frames[id]; !ok || id == "" || utf8.RuneCountInString(id) > protocol.MaxFrameIDRunes {
				t.Fatalf("bad frame id %q", id)
			}
			if !strings.HasPrefix(strings.TrimLeft(string(s.Frames[id]), " \t\r\n"), "{") {
				t.Fatalf("frame %q is not an object", id)
			}
		}
		if !useGenerator {
			for i, id := range s.Sequence {
				if _, ok := s.Frames[id]; !ok {
					t.Fatalf("sequence[%d] = %q is not in frames", i, id)
				}
			}
			if err := protocol.ReadyToSubmit(s, false); err != nil && len(s.Sequence) > 0 {
				t.Fatalf("ReadyToSubmit = %v for a non-empty valid sequence", err)
			}
		} else if strings.TrimSpace(generator) == "" {
			t.Fatal("accepted an empty generator")
		}
		if strings.ContainsRune(generator, 0) || len(generator) > protocol.MaxGeneratorBytes || !utf8.ValidString(generator) {
			t.Fatal("accepted an unstorable generator")
		}
		if same, err := protocol.SameProtocol(data, data); err != nil || !same {
			t.Fatalf("SameProtocol(x, x) = %v, %v", same, err)
		}
	})
}
