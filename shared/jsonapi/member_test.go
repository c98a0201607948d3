package jsonapi_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"lookit.dev/platform/shared/jsonapi"
)

func TestMember(t *testing.T) {
	obj := []byte(` {"0-a": {"x": "}\"{"}, "1-b" : [1, {"c": "d"}], "n": 5, "1-b": "last", "e\u0301": true} `)
	for key, want := range map[string]string{"0-a": `{"x": "}\"{"}`, "n": "5", "1-b": `"last"`, "e\u0301": "true"} {
		got, ok := jsonapi.Member(obj, key)
		if !ok || string(got) != want {
			t.Errorf("Member(%q) = %s %v, want %s", key, got, ok, want)
		}
	}
	if _, ok := jsonapi.Member(obj, "missing"); ok {
		t.Error("found a missing key")
	}
}

// Member agrees with encoding/json on every valid object.
func FuzzMember(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,"]"]},"c":"\\"}`), "a")
	f.Add([]byte(`{"a\n":1, "a":2}`), "a")
	f.Add([]byte("{\"\xff\":1}"), "\ufffd") // encoding/json reads invalid UTF-8 in keys as U+FFFD
	f.Fuzz(func(t *testing.T, obj []byte, key string) {
		var m map[string]json.RawMessage
		if json.Unmarshal(obj, &m) != nil {
			return
		}
		want, wantOK := m[key]
		got, ok := jsonapi.Member(obj, key)
		if ok != wantOK || (ok && !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want))) {
			t.Fatalf("Member(%q, %q) = %q %v; encoding/json %q %v", obj, key, got, ok, want, wantOK)
		}
	})
}
