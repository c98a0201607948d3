package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"lookit.dev/platform/shared/jsonapi"
)

// writeResponses answers byte for byte as writeDoc, frame data as jsonb gives it back included,
// and falls back to writeDoc when another member holds its marker.
func TestWriteResponsesIsWriteDoc(t *testing.T) {
	resource := func(conditions, expData string) jsonapi.Resource {
		return jsonapi.Resource{Type: "responses", ID: "r", Attributes: responseAttributes{
			Conditions: json.RawMessage(conditions), GlobalEventTimings: json.RawMessage(`[]`),
			ExpData: json.RawMessage(expData), Sequence: []string{"0-a"}}}
	}
	for name, data := range map[string][]jsonapi.Resource{
		"none": {},
		"jsonb text": {
			resource(`{}`, `{"0-a": {"text": "<b>&amp;\u2028 \"q\"", "n": [1, 2.5, null, true]}}`),
			resource(`{"a": 1}`, `{"1-b": {"frameType": "EXIT", "withdrawal": false}}`),
		},
		"marker elsewhere": {resource(`{"exp_data": null}`, `{"0-a": {}}`)},
	} {
		build := func() *jsonapi.List {
			l := jsonapi.List{Data: append([]jsonapi.Resource(nil), data...)}
			return &l
		}
		want := httptest.NewRecorder()
		writeDoc(want, 200, build())
		got := httptest.NewRecorder()
		l := build()
		writeResponses(got, 200, l, l.Data)
		if got.Body.String() != want.Body.String() {
			t.Errorf("%s: body\n%s\nwant\n%s", name, got.Body, want.Body)
		}
		for _, h := range []string{"Content-Type", "X-Content-Type-Options"} {
			if got.Header().Get(h) != want.Header().Get(h) {
				t.Errorf("%s: %s %q, want %q", name, h, got.Header().Get(h), want.Header().Get(h))
			}
		}
	}
}
