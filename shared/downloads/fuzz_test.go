package downloads

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
)

var jsonSeeds = []string{
	`{"0-a": {"frameType": "EXIT", "birthDate": "2023-04-20", "eventTimings": [{"eventType": "x", "n": 1.5e-7}]}}`,
	`[{"chs_type": "exit", "response": {"withdrawal": true}}, 5, "s", null]`,
	`{"a": {"x": 1}, "a.x": 2, "a": [], "": {"": [[]]}}`,
	`{"k": "\ud83d\ude00 \ud800 \u0000 \"q\" \\ /", "n": -0, "big": 123456789012345678901234567890, "f": 1E400}`,
	`[[[[[]]]]]`, `"text"`, `-12.5e+3`, ` true `, `{"eventTimings": {"x": {"y": 1}}, "generatedProperties": ""}`,
	"\xff\"", `{"a":1,}`, `[01]`, `{"a" 1}`, `nul`, `"\u12"`, "[\"\x01\"]",
}

// FuzzParseJSON checks the order-keeping decoder against encoding/json: it accepts exactly the
// same texts, and what it writes back (as Python's json.dumps) decodes to the same data.
func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON(data, value{kind: stringKind, s: "empty"})
		if len(bytes.Trim(data, " \t\r\n")) == 0 {
			if err != nil || v.s != "empty" {
				t.Fatalf("blank input: %v %v", v, err)
			}
			return
		}
		if _, deep := err.(errTooDeep); deep {
			if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) < maxDepth {
				t.Fatalf("too deep, with fewer than %d brackets: %q", maxDepth, data)
			}
			return
		}
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("json.Valid = %v but parseJSON error = %v for %q", valid, err, data)
		}
		if err != nil {
			return
		}
		var want any
		if json.Unmarshal(data, &want) != nil {
			return // a number out of float64's range
		}
		out := appendPyJSON(nil, &v, 0)
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("re-encoded %q as invalid JSON %q: %v", data, out, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q re-encoded as %q: got %#v, want %#v", data, out, got, want)
		}
		_ = appendPyRepr(nil, &v)
	})
}

func fuzzResponse(expData, globals, conditions []byte, sequence string) *Response {
	return &Response{
		ID:                 7,
		UUID:               uuid.MustParse("5e1f2c3a-0b9d-4e7f-a1c2-d3e4f5a6b7c8"),
		CreatedAt:          time.Date(2024, 5, 1, 17, 9, 58, 0, time.UTC),
		Sequence:           strings.Split(sequence, ","),
		Eligibility:        []string{"Eligible"},
		ExpData:            expData,
		GlobalEventTimings: globals,
		Conditions:         conditions,
		Study: Study{UUID: uuid.MustParse("11111111-1111-4111-8111-111111111111"),
			Salt: uuid.MustParse("33333333-3333-4333-8333-333333333333"), HashDigits: 6},
		Child: accounts.Child{UUID: "22222222-2222-4222-8222-222222222222", Birthday: accounts.NewDate(2023, 4, 22)},
	}
}

// readCSV parses a file written here; every record must have width fields.
func readCSV(t *testing.T, text []byte, width int) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(text))
	r.FieldsPerRecord = width
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("unreadable CSV: %v\n%q", err, text)
	}
	return recs
}

// FuzzFrameDataAndFlattening writes any exp_data, global_event_timings and conditions as frame
// data, the response overview and the all-responses JSON: no panic, either a *ResponseError
// with nothing written or well-formed files.
func FuzzFrameDataAndFlattening(f *testing.F) {
	for i, s := range jsonSeeds {
		f.Add([]byte(s), []byte(`[{"eventType": "exitEarly", "lastPageSeen": 3}, 5]`), []byte(jsonSeeds[(i+1)%len(jsonSeeds)]), "0-a,1-b")
	}
	f.Fuzz(func(t *testing.T, expData, globals, conditions []byte, sequence string) {
		r := fuzzResponse(expData, globals, conditions, sequence)
		var re *ResponseError

		var frames bytes.Buffer
		fw := NewFrameDataCSV(&frames)
		err := fw.Write(r)
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("frame data: %v", err)
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		recs := readCSV(t, frames.Bytes(), 6)
		if err != nil && len(recs) != 1 {
			t.Fatalf("frame data error %v but %d rows written", err, len(recs)-1)
		}
		for _, rec := range recs[1:] {
			if rec[0] != r.UUID.String() || rec[1] != "SMMJBK" {
				t.Fatalf("bad frame data row %q", rec)
			}
			if rec[2] == globalFrameID && rec[3] == "" {
				t.Fatalf("global row without event number %q", rec)
			}
			if rec[3] == "" && (rec[4] == "frameType" || strings.HasPrefix(rec[4], eventTimingsPrefix)) {
				t.Fatalf("row %q should have been dropped or split", rec)
			}
		}

		var keys KeySet
		kerr := keys.Add(r)
		if kerr != nil && !errors.As(kerr, &re) {
			t.Fatalf("keys: %v", kerr)
		}
		var summary bytes.Buffer
		s := NewSummaryCSV(&summary, DefaultOptions(), keys.Keys())
		serr := s.Write(r)
		if (serr == nil) != (kerr == nil) {
			t.Fatalf("KeySet.Add error %v, SummaryCSV.Write error %v", kerr, serr)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		recs = readCSV(t, summary.Bytes(), len(s.Header()))
		if want := 2; serr != nil {
			want = 1
			if len(recs) != want {
				t.Fatalf("%d records after error %v", len(recs), serr)
			}
		} else if len(recs) != want {
			t.Fatalf("%d records, want %d", len(recs), want)
		}

		var all bytes.Buffer
		j := NewResponsesJSON(&all, DefaultOptions())
		jerr := j.Write(r)
		if (jerr == nil) != (kerr == nil) {
			t.Fatalf("KeySet.Add error %v, ResponsesJSON.Write error %v", kerr, jerr)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		// Python writes out-of-range floats as Infinity, which is not JSON; anything else is.
		if !bytes.Contains(all.Bytes(), []byte("Infinity")) && !bytes.Contains(all.Bytes(), []byte("NaN")) && !json.Valid(all.Bytes()) {
			t.Fatalf("all-responses JSON is not JSON: %q", all.Bytes())
		}
	})
}

// FuzzCSVQuoting writes text, an int and a float the QUOTE_NONNUMERIC way and reads them back
// with encoding/csv (which turns \r\n inside quotes into \n).
func FuzzCSVQuoting(f *testing.F) {
	for _, s := range []string{"", `"`, `a,"b"`, "line\r\nbreak", "\r", "\n\n", "Zoë 😀", " ", `""`, "\x00"} {
		f.Add(s, int64(-3), 1.5e-7)
	}
	f.Fuzz(func(t *testing.T, s string, n int64, x float64) {
		var out bytes.Buffer
		c := newCSVWriter(&out)
		c.quoted(s)
		c.bare(pyInt(strconv.FormatInt(n, 10)))
		c.bare(pyFloat(x))
		c.none()
		if err := c.endRow(); err != nil {
			t.Fatal(err)
		}
		if err := c.flush(); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		if !strings.HasPrefix(text, `"`) || !strings.HasSuffix(text, ",\"\"\r\n") ||
			strings.Count(strings.TrimSuffix(text, ",\"\"\r\n"), `"`)%2 != 0 {
			t.Fatalf("bad quoting %q", text)
		}
		rec := readCSV(t, out.Bytes(), 4)
		if len(rec) != 1 {
			t.Fatalf("%q read as %d records", text, len(rec))
		}
		if want := strings.ReplaceAll(s, "\r\n", "\n"); rec[0][0] != want {
			t.Fatalf("%q read back as %q", s, rec[0][0])
		}
		if got, err := strconv.ParseInt(rec[0][1], 10, 64); err != nil || got != n {
			t.Fatalf("int %d read back as %q", n, rec[0][1])
		}
		got, err := strconv.ParseFloat(rec[0][2], 64)
		if err != nil || !(got == x || math.IsNaN(x) && math.IsNaN(got)) || math.Signbit(got) != math.Signbit(x) {
			t.Fatalf("float %v written %q", x, rec[0][2])
		}
		if rec[0][3] != "" {
			t.Fatalf("None read back as %q", rec[0][3])
		}
	})
}
