package jsonapi_test

import (
	"encoding/json"
	"testing"

	"lookit.dev/platform/shared/jsonapi"
)

func TestAppendCompact(t *testing.T) {
	// jsonb's text form, as a list reads frame data back.
	src := `{"0-a": {"t": "<b>&\u2028 \"x\"  y\\", "n": [1, 2.5e3, true, null]}, "é": "\u2029\\"}`
	want, err := json.Marshal(json.RawMessage(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonapi.AppendCompact([]byte("x"), []byte(src)); string(got) != "x"+string(want) {
		t.Errorf("AppendCompact = %s, want x%s", got, want)
	}
}

// AppendCompact writes every valid document as encoding/json writes it as a json.RawMessage.
func FuzzAppendCompact(f *testing.F) {
	f.Add([]byte(`{"a": [1, "<\u2028>"], "b": {"c": "\\\""}}`))
	f.Add([]byte(" [ \"\xe2\x80\xa9&\" , -0.5e+2 ] "))
	f.Fuzz(func(t *testing.T, src []byte) {
		want, err := json.Marshal(json.RawMessage(src))
		if err != nil {
			return
		}
		if got := jsonapi.AppendCompact(nil, src); string(got) != string(want) {
			t.Fatalf("AppendCompact(%q) = %q; encoding/json %q", src, got, want)
		}
	})
}
