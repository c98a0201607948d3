package protocol_test

import (
	"encoding/json"
	"testing"

	"lookit.dev/platform/shared/protocol"
)

func TestSameProtocol(t *testing.T) {
	base := `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5},
	                      "exit": {"kind": "exp-lookit-exit-survey"}},
	          "sequence": ["intro", "exit"], "exact_text": "old text"}`
	cases := []struct {
		name  string
		other string
		same  bool
	}{
		{"identical", base, true},
		{"key order and whitespace", `{"exact_text":"old text","sequence":["intro","exit"],"frames":{"exit":{"kind":"exp-lookit-exit-survey"},"intro":{"n":1.5,"blocks":[{"emph":true,"title":"Hi"}],"kind":"exp-lookit-text"}}}`, true},
		{"exact_text changed", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"], "exact_text": "new text"}`, true},
		{"exact_text removed", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, true},
		{"other top-level key ignored", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"], "notes": 1}`, true},
		{"number spelling", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 15e-1}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, true},
		{"frame value changed", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi!", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, false},
		{"number changed", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.50001}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, false},
		{"type changed", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": "true"}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, false},
		{"frame key added", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5, "x": null}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, false},
		{"frame added", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}, "spare": {}}, "sequence": ["intro", "exit"]}`, false},
		{"frame renamed", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "bye": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, false},
		{"sequence reordered", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["exit", "intro"]}`, false},
		{"sequence entry repeated", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "intro", "exit"]}`, false},
		{"sequence missing", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}}`, false},
		{"array order inside a frame", `{"frames": {"intro": {"kind": "exp-lookit-text", "blocks": [{"title": "Hi", "emph": true}, 1], "n": 1.5}, "exit": {"kind": "exp-lookit-exit-survey"}}, "sequence": ["intro", "exit"]}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, pair := range [][2]string{{base, c.other}, {c.other, base}} {
				same, err := protocol.SameProtocol(json.RawMessage(pair[0]), json.RawMessage(pair[1]))
				if err != nil {
					t.Fatal(err)
				}
				if same != c.same {
					t.Fatalf("SameProtocol = %v, want %v", same, c.same)
				}
			}
		})
	}
}

func TestSameProtocolEdges(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{`{}`, `{"exact_text": "x"}`, true},
		{`{}`, `{"frames": null, "sequence": null}`, true}, // lookit-api compares .get(), so missing is null
		{`{}`, `{"frames": {}, "sequence": []}`, false},
		{`{"sequence": [0]}`, `{"sequence": [-0.0]}`, true},
		{`{"sequence": [1]}`, `{"sequence": [1.0, 2]}`, false},
		{`{"sequence": [100]}`, `{"sequence": [1e2]}`, true},
		{`{"sequence": [0.001]}`, `{"sequence": [1E-3]}`, true},
		{`{"sequence": [-5]}`, `{"sequence": [5]}`, false},
		{`{"sequence": [12]}`, `{"sequence": [21]}`, false},
		{`{"sequence": [1e400]}`, `{"sequence": [10e399]}`, true},
		{`{"sequence": [0.30000000000000004]}`, `{"sequence": [0.3]}`, false}, // exact, not doubles
		{`{"sequence": [1e99999999999999999999]}`, `{"sequence": [1e99999999999999999999]}`, true},
		{`{"sequence": [1e99999999999999999999]}`, `{"sequence": [10e99999999999999999998]}`, false}, // unreadable exponents: spelling only
		{`{"sequence": [true]}`, `{"sequence": [1]}`, false},
		{`{"sequence": [null]}`, `{"sequence": []}`, false},
		{`{"frames": {"a": 1, "a": 2}}`, `{"frames": {"a": 2}}`, true}, // last repeated key counts
	} {
		same, err := protocol.SameProtocol(json.RawMessage(c.a), json.RawMessage(c.b))
		if err != nil || same != c.same {
			t.Errorf("SameProtocol(%s, %s) = %v, %v; want %v", c.a, c.b, same, err, c.same)
		}
	}
	for _, bad := range []string{``, `[]`, `null`, `{`, `{} {}`, `"x"`} {
		if _, err := protocol.SameProtocol(json.RawMessage(bad), json.RawMessage(`{}`)); err == nil {
			t.Errorf("SameProtocol(%q, {}) gave no error", bad)
		}
		if _, err := protocol.SameProtocol(json.RawMessage(`{}`), json.RawMessage(bad)); err == nil {
			t.Errorf("SameProtocol({}, %q) gave no error", bad)
		}
	}
}
