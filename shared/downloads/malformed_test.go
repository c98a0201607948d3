package downloads_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"lookit.dev/platform/shared/downloads"
)

// writer is what every row writer offers.
type writer interface {
	Write(*downloads.Response) error
	Close() error
}

func TestUnreadableResponseIsNamedAndSkipped(t *testing.T) {
	bad := func(edit func(*downloads.Response)) *downloads.Response {
		r := handMadeResponse(t)
		edit(r)
		return r
	}
	cases := map[string]*downloads.Response{
		"exp_data":             bad(func(r *downloads.Response) { r.ExpData = json.RawMessage(`{"0-a": {`) }),
		"conditions":           bad(func(r *downloads.Response) { r.Conditions = json.RawMessage(`nope`) }),
		"global_event_timings": bad(func(r *downloads.Response) { r.GlobalEventTimings = json.RawMessage(`[1,]`) }),
		"child uuid":           bad(func(r *downloads.Response) { r.Child.UUID = "not-a-uuid" }),
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			makers := map[string]func(io.Writer) writer{
				"summary":   func(w io.Writer) writer { return downloads.NewSummaryCSV(w, downloads.DefaultOptions(), nil) },
				"json":      func(w io.Writer) writer { return downloads.NewResponsesJSON(w, downloads.DefaultOptions()) },
				"children":  func(w io.Writer) writer { return downloads.NewChildrenCSV(w, downloads.DefaultOptions()) },
				"framedata": func(w io.Writer) writer { return downloads.NewFrameDataCSV(w) },
			}
			for kind, mk := range makers {
				var good, got bytes.Buffer
				want := mk(&good)
				want.Write(handMadeResponse(t))
				want.Close()

				w := mk(&got)
				if err := w.Write(handMadeResponse(t)); err != nil {
					t.Fatal(err)
				}
				err := w.Write(r)
				var re *downloads.ResponseError
				if name == "global_event_timings" && kind != "framedata" || name == "conditions" && kind == "framedata" ||
					kind == "children" && name != "child uuid" {
					if err != nil { // that column is not part of this file
						t.Errorf("%s: %v", kind, err)
					}
					continue
				}
				if !errors.As(err, &re) || re.ID != 4821 || !strings.Contains(err.Error(), responseUUID) ||
					!strings.Contains(err.Error(), name) {
					t.Errorf("%s: error %v does not name the response and the column", kind, err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if got.String() != good.String() {
					t.Errorf("%s: the bad response left output:\n%q\nwant\n%q", kind, got.String(), good.String())
				}
			}
		})
	}
	var keys downloads.KeySet
	if err := keys.Add(cases["exp_data"]); err == nil || len(keys.Keys()) != 0 {
		t.Errorf("KeySet.Add: %v, keys %q", err, keys.Keys())
	}
}

// frameRows returns r's frame-data rows as records (without the response and child columns).
func frameRows(t *testing.T, r *downloads.Response) []string {
	t.Helper()
	var out bytes.Buffer
	f := downloads.NewFrameDataCSV(&out)
	if err := f.Write(r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")[1:] {
		_, rest, _ := strings.Cut(l, `"SMMJBK",`)
		rows = append(rows, rest)
	}
	return rows
}

func summaryRow(t *testing.T, r *downloads.Response) map[string]string {
	t.Helper()
	var keys downloads.KeySet
	if err := keys.Add(r); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := downloads.NewSummaryCSV(&out, downloads.Options{}, keys.Keys())
	if err := s.Write(r); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Field values here contain no commas or line breaks.
	lines := strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")
	h, v := strings.Split(lines[0], ","), strings.Split(lines[1], ",")
	row := map[string]string{}
	for i := range h {
		row[strings.Trim(h[i], `"`)] = v[i]
	}
	return row
}

func TestOddShapesAreWrittenNotDropped(t *testing.T) {
	r := handMadeResponse(t)
	r.Child.AdditionalInformation = ""
	r.Consent.Comments = ""
	r.ExpData = json.RawMessage(`{"0-a": 5, "1-b": [1, {"x": 2}], "2-c": {"frameType": "EXIT", "withdrawal": "yes",
		"birthDate": 20230420, "generatedProperties": 0, "eventTimings": [7]},
		"3-d": {"frameType": "EXIT", "feedback": {"good": "yes"}}}`)
	r.GlobalEventTimings = json.RawMessage(`[5, {"a": [1]}]`)
	r.Conditions = json.RawMessage(`{"1-b": [3], "2-c": {"frameName": "override", "n": 1}}`)
	want := []string{
		`"global","0","",5`,
		`"global","1","a","[1]"`,
		`"0-a","","",5`,
		`"1-b","","0",1`,
		`"1-b","","1.x",2`,
		`"2-c","","withdrawal","yes"`,
		`"2-c","0","",7`,
		`"3-d","","feedback.good","yes"`,
	}
	if got := frameRows(t, r); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("frame data rows\n got %q\nwant %q", got, want)
	}
	row := summaryRow(t, r)
	// The last EXIT frame (3-d) answers: no withdrawal, a dict feedback that is flattened.
	for col, want := range map[string]string{
		"response__withdrawn": "False", "response__parent_feedback": `""`, "response__parent_feedback.good": `"yes"`,
		"response__birthdate_difference": `""`, "response__conditions.0.0": "3",
		"response__conditions.1.frameName": `"override"`, "response__conditions.1.n": "1",
	} {
		if row[col] != want {
			t.Errorf("%s = %s, want %s", col, row[col], want)
		}
	}
}

func TestJSPsychResponse(t *testing.T) {
	r := handMadeResponse(t)
	r.Sequence = []string{"0-html-keyboard-response", "1-lookit-exit-survey"}
	r.ExpData = json.RawMessage(`[
		{"trial_index": 0, "trial_type": "html-keyboard-response", "rt": 523.5, "response": "f"},
		{"trial_index": 1, "chs_type": "exit", "response": {"withdrawal": true, "feedback": "ok", "birthDate": "2023-04-23",
			"useOfMedia": "private", "databraryShare": "no"}},
		{"trial_index": 2, "trial_type": "not in the sequence"}]`)
	r.GlobalEventTimings = nil
	want := []string{
		`"0-html-keyboard-response","","trial_index",0`,
		`"0-html-keyboard-response","","trial_type","html-keyboard-response"`,
		`"0-html-keyboard-response","","rt",523.5`,
		`"0-html-keyboard-response","","response","f"`,
		`"1-lookit-exit-survey","","trial_index",1`,
		`"1-lookit-exit-survey","","chs_type","exit"`,
		`"1-lookit-exit-survey","","response.withdrawal",True`,
		`"1-lookit-exit-survey","","response.feedback","ok"`,
		`"1-lookit-exit-survey","","response.birthDate","2023-04-23"`,
		`"1-lookit-exit-survey","","response.useOfMedia","private"`,
		`"1-lookit-exit-survey","","response.databraryShare","no"`,
	}
	if got := frameRows(t, r); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("frame data rows\n got %q\nwant %q", got, want)
	}
	row := summaryRow(t, r)
	for col, want := range map[string]string{
		"response__withdrawn": "True", "response__parent_feedback": `"ok"`, "response__birthdate_difference": "1",
		"response__video_privacy": `"private"`, "response__databrary": `"no"`,
	} {
		if row[col] != want {
			t.Errorf("%s = %s, want %s", col, row[col], want)
		}
	}
}

func TestNoExitSurvey(t *testing.T) {
	r := handMadeResponse(t)
	r.ExpData = nil // the column default, {}
	r.Consent = nil
	row := summaryRow(t, r)
	for col, want := range map[string]string{
		"response__withdrawn": "False", "response__parent_feedback": `""`, "response__birthdate_difference": `""`,
		"response__video_privacy": `""`, "response__databrary": `""`,
		"consent__ruling": `"pending"`, "consent__arbiter": `""`, "consent__time": `""`,
	} {
		if row[col] != want {
			t.Errorf("%s = %s, want %s", col, row[col], want)
		}
	}
}

func TestFrameDictionary(t *testing.T) {
	var d downloads.FrameDictionary
	for _, seq := range []string{"2-test-trial", "5-test-trial"} { // the same frame at two positions
		r := handMadeResponse(t)
		r.ExpData = json.RawMessage(`{"` + seq + `": {"frameType": "DEFAULT", "selectedImage": "left", "eventTimings": [{"eventType": "x", "custom": 1}]},
			"4-exit": {"frameType": "EXIT", "birthDate": "2023-01-01", "feedback": "hi"}}`)
		if err := d.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := d.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")
	wantTail := []string{
		`"","","global","Data not tied to a particular frame","",""`,
		`"","","*-exit","RESEARCHER: INSERT FRAME DESCRIPTION","",""`,
		`"","","*-exit","","feedback","RESEARCHER: INSERT DESCRIPTION OF WHAT THIS KEY MEANS IN THIS FRAME"`,
		`"","","*-test-trial","RESEARCHER: INSERT FRAME DESCRIPTION","",""`,
		`"","","*-test-trial","","selectedImage","RESEARCHER: INSERT DESCRIPTION OF WHAT THIS KEY MEANS IN THIS FRAME"`,
		`"","","any (event data)","","custom","RESEARCHER: INSERT DESCRIPTION OF WHAT THIS EVENT KEY MEANS"`,
	}
	if lines[0] != `"column","description","possible_frame_id","frame_description","possible_key","key_description"` ||
		!strings.HasPrefix(lines[1], `"response_uuid","`) || len(lines) != 1+6+len(wantTail)+5 {
		t.Fatalf("dictionary:\n%s", out.String())
	}
	tail := lines[7:]
	for i, w := range wantTail {
		if tail[i] != w {
			t.Errorf("row %d = %s, want %s", 7+i, tail[i], w)
		}
	}
	// Then the other event keys, global ones included, sorted; common ones are described.
	for i, k := range []string{"details", "eventType", "exitType", "lastPageSeen", "timestamp"} {
		row := tail[len(wantTail)+i]
		described := !strings.HasSuffix(row, `"RESEARCHER: INSERT DESCRIPTION OF WHAT THIS EVENT KEY MEANS"`)
		if !strings.HasPrefix(row, `"","","any (event data)","","`+k+`",`) || described != (k != "details") {
			t.Errorf("event key row %d = %s", i, row)
		}
	}
	if strings.Contains(out.String(), "birthDate") {
		t.Error("the exit survey's birthDate is listed")
	}
}

func TestEmptyFilesAndWriteAfterClose(t *testing.T) {
	for name, c := range map[string]struct {
		mk   func(io.Writer) writer
		want string
	}{
		"summary": {func(w io.Writer) writer { return downloads.NewSummaryCSV(w, downloads.Options{}, nil) },
			strings.Join(concat(fixedHead, []string{"participant__hashed_id", "child__hashed_id"}, fixedTail, lastTwo), `","`)},
		"json":              {func(w io.Writer) writer { return downloads.NewResponsesJSON(w, downloads.Options{}) }, "[\n\n]"},
		"children":          {func(w io.Writer) writer { return downloads.NewChildrenCSV(w, downloads.Options{}) }, `participant__hashed_id","child__hashed_id`},
		"frame data":        {func(w io.Writer) writer { return downloads.NewFrameDataCSV(w) }, `response_uuid","child_hashed_id","frame_id","event_number","key","value`},
		"demographics":      {func(w io.Writer) writer { return downloads.NewDemographicsCSV(w, downloads.Options{}) }, `response__uuid","participant__hashed_id","demographic__hashed_id`},
		"demographics JSON": {func(w io.Writer) writer { return downloads.NewDemographicsJSON(w, downloads.Options{}) }, "[  ]"},
	} {
		var out bytes.Buffer
		w := c.mk(&out)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); !strings.Contains(got, c.want) || strings.Count(got, "\r\n") > 1 {
			t.Errorf("%s: empty file %q, want only %q", name, got, c.want)
		}
		if err := w.Write(handMadeResponse(t)); !errors.Is(err, downloads.ErrClosed) {
			t.Errorf("%s: Write after Close = %v", name, err)
		}
	}
}

// failingWriter fails every write, as a broken upload stream would.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("upload broke") }

func TestWriteErrorsAreReported(t *testing.T) {
	f := downloads.NewFrameDataCSV(failingWriter{})
	var err error
	for range 200 { // enough rows to fill the buffer
		if err = f.Write(handMadeResponse(t)); err != nil {
			break
		}
	}
	if err == nil {
		err = f.Close()
	}
	var re *downloads.ResponseError
	if err == nil || !strings.Contains(err.Error(), "upload broke") || errors.As(err, &re) {
		t.Errorf("error = %v; want the writer's error, not a *ResponseError", err)
	}
}
