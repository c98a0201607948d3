package jsonapi_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/jsonapi"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"expData": "exp_data", "exp-data": "exp_data", "exp_data": "exp_data", "globalEventTimings": "global_event_timings",
		"completedConsentFrame": "completed_consent_frame", "isPreview": "is_preview", "hash_child_id": "hash_child_id",
		"recordingMethod": "recording_method", "pk": "pk", "HTTPServer": "http_server", "survey2Consent": "survey2_consent",
	} {
		if got := jsonapi.SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// What the real runner sends when it creates a response (frameplayer-session.jsonl): camelCase
// attributes, nested frame keys that must survive, relationships with data.
func TestDecodeTheRunnersResponse(t *testing.T) {
	body := `{"data":{"attributes":{"conditions":{},"globalEventTimings":[],"expData":{"0-video-consent":{"eventTimings":[]}},
		"sequence":[],"completed":false,"completedConsentFrame":false,"created_on":null,"is-preview":false,
		"hash_child_id":null,"recordingMethod":"recordrtc"},
		"relationships":{"child":{"data":{"type":"children","id":"22222222-2222-4222-8222-222222222222"}},
		"study":{"data":{"type":"studies","id":"11111111-1111-4111-8111-111111111111"}},"demographic_snapshot":{"data":null}},
		"type":"responses"}}`
	in, err := jsonapi.Decode([]byte(body), "responses")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"global_event_timings", "exp_data", "completed_consent_frame", "is_preview", "recording_method", "created_on"} {
		if _, ok := in.Attributes[k]; !ok {
			t.Errorf("attribute %s missing: %v", k, in.Attributes)
		}
	}
	var exp map[string]any
	_ = json.Unmarshal(in.Attributes["exp_data"], &exp)
	if _, ok := exp["0-video-consent"].(map[string]any)["eventTimings"]; !ok {
		t.Errorf("nested keys were rewritten: %s", in.Attributes["exp_data"])
	}
	if in.Relationships["child"].ID != "22222222-2222-4222-8222-222222222222" || in.Relationships["study"].Type != "studies" {
		t.Errorf("relationships %v", in.Relationships)
	}
	if _, ok := in.Relationships["demographic_snapshot"]; ok {
		t.Error("a null relationship was kept")
	}
}

func TestDecodeErrorsNameTheMember(t *testing.T) {
	for body, want := range map[string]struct {
		code    apperr.Code
		pointer string
	}{
		`{}`:                          {apperr.Invalid, "/data"},
		`{"data":null}`:               {apperr.Invalid, "/data"},
		`[`:                           {apperr.Invalid, "/data"},
		`{"data":{"attributes":{}}}`:  {apperr.Invalid, "/data/type"},
		`{"data":{"type":"studies"}}`: {apperr.Conflict, "/data/type"},
		`{"data":{"type":"responses","relationships":{"child":5}}}`:                  {apperr.Invalid, "/data/relationships/child"},
		`{"data":{"type":"responses","relationships":{"child":{"data":{"id":""}}}}}`: {apperr.Invalid, "/data/relationships/child/data"},
		`{"data":{"type":"responses"}} {"data":{}}`:                                  {apperr.Invalid, "/data"},
	} {
		_, err := jsonapi.Decode([]byte(body), "responses")
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != want.code || ae.Field != want.pointer {
			t.Errorf("%s: %v, want %s at %s", body, err, want.code, want.pointer)
		}
	}
}

func TestPagesAsLookitAndTheRunnerAsk(t *testing.T) {
	q, _ := url.ParseQuery("page[size]=10&page=1&child=c")
	p, err := jsonapi.ParsePage(q)
	if err != nil || p.Number != 1 || p.Size != 10 {
		t.Fatalf("runner's query: %+v %v", p, err)
	}
	for _, bad := range []string{"page=0", "page=x", "page_size=101", "page_size=0", "page[size]=-1"} {
		q, _ := url.ParseQuery(bad)
		if _, err := jsonapi.ParsePage(q); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	base, _ := url.Parse("https://lookit.example.org/api/v1/studies/s/responses/?child=c&page[size]=10")
	l := jsonapi.NewList(base, jsonapi.Page{Number: 2, Size: 10}, 25, nil)
	b, _ := json.Marshal(l)
	s := string(b)
	if !strings.Contains(s, `"meta":{"page":2,"pages":3,"count":25}`) || !strings.Contains(s, `"data":[]`) ||
		l.Links.Next == nil || !strings.Contains(*l.Links.Next, "page=3") || !strings.Contains(*l.Links.Prev, "page=1") {
		t.Errorf("list document %s", s)
	}
	if empty := jsonapi.NewList(base, jsonapi.Page{Number: 1, Size: 10}, 0, nil); empty.Links.Meta.Pages != 1 || empty.Links.Next != nil || empty.Links.Prev != nil {
		t.Errorf("empty list %+v", empty.Links)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"data":{"type":"responses","attributes":{"expData":{}},"relationships":{"child":{"data":{"type":"children","id":"x"}}}}}`)
	f.Add(`{"data":{"type":"responses","attributes":{"a-b":1,"aB":2}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		in, err := jsonapi.Decode([]byte(body), "responses")
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || !strings.HasPrefix(ae.Field, "/data") {
				t.Fatalf("%q: error without a pointer: %v", body, err)
			}
			return
		}
		if in.Type != "responses" {
			t.Fatalf("type %q accepted", in.Type)
		}
		for k := range in.Attributes {
			if jsonapi.SnakeCase(k) != k {
				t.Fatalf("attribute key %q not normalized", k)
			}
		}
	})
}
