package protocol_test

import (
	"encoding/json"
	"testing"

	"lookit.dev/platform/shared/protocol"
)

func TestLastFrameAndWithdrawal(t *testing.T) {
	cases := []struct {
		name      string
		jsPsych   bool
		expData   string
		sequence  []string
		kind      string
		withdrawn bool
	}{
		{"no frames", false, `{}`, nil, "", false},
		{"consent last", false, `{"0-c":{"frameType":"CONSENT"}}`, []string{"0-c"}, "CONSENT", false},
		{"exit, stays", false, `{"0-c":{"frameType":"CONSENT"},"1-x":{"frameType":"EXIT","withdrawal":false}}`, []string{"0-c", "1-x"}, "EXIT", false},
		{"exit, withdraws", false, `{"1-x":{"frameType":"EXIT","withdrawal":true}}`, []string{"1-x"}, "EXIT", true},
		{"exit, withdraws as text", false, `{"1-x":{"frameType":"EXIT","withdrawal":"yes"}}`, []string{"1-x"}, "EXIT", true},
		{"withdrawal on a frame that is not last", false, `{"1-x":{"frameType":"EXIT","withdrawal":true},"2-t":{}}`, []string{"1-x", "2-t"}, "", false},
		{"jsPsych exit", true, `[{"chs_type":"consent"},{"chs_type":"exit","response":{"withdrawal":true}}]`, []string{"0-a", "1-b"}, "EXIT", true},
		{"jsPsych consent", true, `[{"chs_type":"consent"}]`, []string{"0-a"}, "CONSENT", false},
	}
	for _, c := range cases {
		kind, _ := protocol.LastFrame(c.jsPsych, json.RawMessage(c.expData), c.sequence)
		withdrawn := protocol.Withdrawn(c.jsPsych, json.RawMessage(c.expData), c.sequence)
		if kind != c.kind || withdrawn != c.withdrawn {
			t.Errorf("%s: kind %q withdrawn %v, want %q %v", c.name, kind, withdrawn, c.kind, c.withdrawn)
		}
	}
}

// LastFrameKind agrees with LastFrame on every valid record.
func FuzzLastFrameKind(f *testing.F) {
	f.Add(`{"0-c":{"frameType":"consent","frameType":"exit"},"1-x":null}`, "0-c", false)
	f.Add(`{"1-x":{"frame\u0054ype":"EXIT"},"2-t":[{"frameType":"EXIT"}]}`, "1-x", false)
	f.Add(`[{"chs_type":"exit"}]`, "0-a", true)
	f.Fuzz(func(t *testing.T, expData, last string, jsPsych bool) {
		if !json.Valid([]byte(expData)) {
			return
		}
		seq := []string{"intro", last}
		want, _ := protocol.LastFrame(jsPsych, json.RawMessage(expData), seq)
		if got := protocol.LastFrameKind(jsPsych, json.RawMessage(expData), seq); got != want {
			t.Fatalf("LastFrameKind(%q, %q) = %q, LastFrame %q", expData, last, got, want)
		}
	})
}
