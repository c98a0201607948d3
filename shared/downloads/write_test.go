package downloads_test

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/downloads"
)

// sliceSource yields a slice of responses in the order asked for. Like a database source it
// hands fn one Response it reuses, and scribbles over it after fn returns, so a writer that
// kept it would write garbage.
type sliceSource struct {
	responses []*downloads.Response
	calls     []downloads.Order
	// hook, when set, runs before each response is yielded; an error from it ends Each.
	hook func(pass, i int, r *downloads.Response) error
}

func (s *sliceSource) Each(ctx context.Context, pass downloads.Pass, fn func(*downloads.Response) error) error {
	order := pass.Order
	s.calls = append(s.calls, order)
	ordered := sortedBy(s.responses, order)
	var reused downloads.Response
	for i, r := range ordered {
		reused = *r
		if pass.ExitOnly {
			// As the database source does: only the EXIT frames of an exp_data object.
			reused.ExpData = exitFramesOnly(reused.ExpData)
		}
		if s.hook != nil {
			if err := s.hook(len(s.calls), i, &reused); err != nil {
				return fmt.Errorf("fake source: %w", err)
			}
		}
		if err := fn(&reused); err != nil {
			return err
		}
		reused = downloads.Response{ID: -1, ExpData: json.RawMessage(`{"scribbled": true}`)}
	}
	return nil
}

// sortedBy orders responses as a database source would.
func sortedBy(responses []*downloads.Response, order downloads.Order) []*downloads.Response {
	out := slices.Clone(responses)
	slices.SortStableFunc(out, func(a, b *downloads.Response) int {
		if order == downloads.ByChild {
			if c := strings.Compare(a.Child.UUID, b.Child.UUID); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// studyResponses are four responses of three children: the hand-made one, a second session of
// its child, and two other children, one of them with a different shape of data.
func studyResponses(t testing.TB) []*downloads.Response {
	var out []*downloads.Response
	for i, child := range []string{
		"33333333-3333-4333-8333-333333333333", childUUID, "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa", childUUID,
	} {
		r := demographicResponse(t)
		r.Study.Salt = uuid.MustParse(studySalt) // one study, one salt
		r.ID = int64(5000 + i)
		r.UUID = uuid.MustParse(fmt.Sprintf("%08x-0b9d-4e7f-a1c2-d3e4f5a6b7c8", 0x5e1f2c3a+(i+1)*0x01000000))
		r.Child.UUID = child
		if i == 2 {
			r.ExpData = json.RawMessage(`{"0-intro": {"frameType": "DEFAULT", "answer": [1, 2]}}`)
			r.Eligibility = []string{"Ineligible_TooYoung", "Ineligible_CriteriaExpression"}
			r.Completed = false
			r.Consent = nil
		}
		out = append(out, r)
	}
	out = append(out, handMadeResponse(t)) // id 4821: first by id
	return out
}

var testStudy = downloads.StudyInfo{
	ID:               7,
	UUID:             uuid.MustParse(studyUUID),
	Name:             studyName,
	ShortDescription: "Do babies look longer at surprising events?",
	Purpose:          "To learn how infants form expectations.",
	Criteria:         "Infants 6 to 18 months old.",
	Duration:         "15 minutes",
	ContactInfo:      "lab@example.edu",
	Structure:        json.RawMessage(`{"frames": {"intro": {"kind": "exp-lookit-text"}}, "sequence": ["intro"]}`),
}

// allFiles are every study-wide file.
var allFiles = []downloads.File{
	downloads.SummaryFile, downloads.SummaryDictionaryFile, downloads.ResponsesJSONFile,
	downloads.ChildrenFile, downloads.ChildrenDictionaryFile, downloads.DemographicsFile,
	downloads.DemographicsJSONFile, downloads.DemographicsDictionaryFile, downloads.FrameDataZipFile,
	downloads.FrameDictionaryFile, downloads.PsychDSFile,
}

// direct writes f with the package's writers, without Write: what Write must produce.
func direct(t *testing.T, f downloads.File, opts downloads.Options, responses []*downloads.Response) []byte {
	t.Helper()
	var out bytes.Buffer
	rows := func(order downloads.Order, w writer) {
		for _, r := range sortedBy(responses, order) {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	switch f {
	case downloads.SummaryFile:
		var keys downloads.KeySet
		for _, r := range responses {
			if err := keys.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		rows(downloads.ByResponse, downloads.NewSummaryCSV(&out, opts, keys.Keys()))
	case downloads.SummaryDictionaryFile:
		err = downloads.WriteSummaryDictionary(&out, opts)
	case downloads.ResponsesJSONFile:
		rows(downloads.ByResponse, downloads.NewResponsesJSON(&out, opts))
	case downloads.ChildrenFile:
		rows(downloads.ByChild, downloads.NewChildrenCSV(&out, opts))
	case downloads.ChildrenDictionaryFile:
		err = downloads.WriteChildrenDictionary(&out)
	case downloads.DemographicsFile:
		rows(downloads.ByResponse, downloads.NewDemographicsCSV(&out, opts))
	case downloads.DemographicsJSONFile:
		rows(downloads.ByResponse, downloads.NewDemographicsJSON(&out, opts))
	case downloads.DemographicsDictionaryFile:
		err = downloads.WriteDemographicsDictionary(&out, opts)
	case downloads.FrameDictionaryFile:
		var d downloads.FrameDictionary
		for _, r := range responses {
			if err := d.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		err = d.WriteCSV(&out)
	default:
		t.Fatalf("no direct writer for file %d", f)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func frameDataOf(t *testing.T, r *downloads.Response) []byte {
	t.Helper()
	var out bytes.Buffer
	f := downloads.NewFrameDataCSV(&out)
	if err := f.Write(r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// write runs Write and checks that it read the source Passes(f) times.
func write(t *testing.T, f downloads.File, opts downloads.Options, src *sliceSource) ([]byte, downloads.Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := downloads.Write(context.Background(), &out, f, testStudy, opts, src)
	if err != nil {
		t.Fatalf("Write(%d): %v", f, err)
	}
	if len(src.calls) != downloads.Passes(f) {
		t.Errorf("file %d: the source was read %d times, Passes says %d", f, len(src.calls), downloads.Passes(f))
	}
	return out.Bytes(), res
}

// unzip returns a zip's entries by name, and their names in order.
func unzip(t *testing.T, data []byte) (map[string][]byte, []string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		if f.Method != zip.Deflate && (f.Method != zip.Store || f.UncompressedSize64 >= 512) {
			t.Errorf("%s: method %d, want Deflate (or Store for a small file)", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if _, dup := files[f.Name]; dup {
			t.Errorf("%s is in the zip twice", f.Name)
		}
		files[f.Name] = b
		names = append(names, f.Name)
	}
	return files, names
}

func TestWriteEqualsTheWriters(t *testing.T) {
	responses := studyResponses(t)
	for _, opts := range []downloads.Options{downloads.DefaultOptions(), allOptions(t)} {
		for _, f := range allFiles {
			if f == downloads.FrameDataZipFile || f == downloads.PsychDSFile {
				continue // below
			}
			t.Run(downloads.FileName(testStudy, f, opts), func(t *testing.T) {
				got, res := write(t, f, opts, &sliceSource{responses: responses})
				if want := direct(t, f, opts, responses); !bytes.Equal(got, want) {
					t.Errorf("Write\n%s\nwriters\n%s", got, want)
				}
				if want := len(responses); downloads.Passes(f) > 0 && res.Responses != want || res.SkippedCount != 0 || res.Skipped != nil {
					t.Errorf("result %+v, want %d responses and no skips", res, want)
				}
			})
		}
	}
}

func TestWriteSummaryMatchesHandDerivedFile(t *testing.T) {
	got, _ := write(t, downloads.SummaryFile, allOptions(t), &sliceSource{responses: []*downloads.Response{handMadeResponse(t)}})
	golden(t, "summary_all_columns.csv", got)
}

func TestWriteFrameDataZip(t *testing.T) {
	responses := studyResponses(t)
	got, res := write(t, downloads.FrameDataZipFile, downloads.DefaultOptions(), &sliceSource{responses: responses})
	files, names := unzip(t, got)
	var want []string
	for _, r := range sortedBy(responses, downloads.ByResponse) {
		name := downloads.FrameDataFileName(studyName, r.UUID)
		want = append(want, name)
		if !bytes.Equal(files[name], frameDataOf(t, r)) {
			t.Errorf("%s differs from the frame data writer's:\n%s", name, files[name])
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("entries\n got %q\nwant %q", names, want)
	}
	golden(t, "framedata.csv", files[downloads.FrameDataFileName(studyName, uuid.MustParse(responseUUID))])
	if res.Responses != len(responses) {
		t.Errorf("result %+v", res)
	}
}

func TestPassesAndContentTypes(t *testing.T) {
	want := map[downloads.File][2]any{
		downloads.SummaryFile:                {2, "text/csv; charset=utf-8"},
		downloads.SummaryDictionaryFile:      {0, "text/csv; charset=utf-8"},
		downloads.ResponsesJSONFile:          {1, "application/json"},
		downloads.ChildrenFile:               {1, "text/csv; charset=utf-8"},
		downloads.ChildrenDictionaryFile:     {0, "text/csv; charset=utf-8"},
		downloads.DemographicsFile:           {1, "text/csv; charset=utf-8"},
		downloads.DemographicsJSONFile:       {1, "application/json"},
		downloads.DemographicsDictionaryFile: {0, "text/csv; charset=utf-8"},
		downloads.FrameDataZipFile:           {1, "application/zip"},
		downloads.FrameDictionaryFile:        {1, "text/csv; charset=utf-8"},
		downloads.PsychDSFile:                {4, "application/zip"},
	}
	if len(want) != len(allFiles) {
		t.Fatal("a file is missing here")
	}
	for f, w := range want {
		if downloads.Passes(f) != w[0] || downloads.ContentType(f) != w[1] {
			t.Errorf("file %d: %d passes, %q; want %v", f, downloads.Passes(f), downloads.ContentType(f), w)
		}
		ext := map[string]string{"text/csv; charset=utf-8": ".csv", "application/json": ".json", "application/zip": ".zip"}[w[1].(string)]
		if name := downloads.FileName(testStudy, f, downloads.Options{}); !strings.HasSuffix(name, ext) {
			t.Errorf("file %d is named %q, a %s", f, name, w[1])
		}
	}
	if _, err := downloads.Write(context.Background(), io.Discard, downloads.File(99), testStudy, downloads.Options{}, &sliceSource{}); err == nil {
		t.Error("Write wrote an unknown file")
	}
}

// badExpData is a response whose exp_data is not JSON.
func badExpData(t testing.TB) *downloads.Response {
	r := handMadeResponse(t)
	r.ID, r.UUID = 4900, uuid.MustParse("bad00000-0000-4000-8000-000000000000")
	r.ExpData = json.RawMessage(`{"0-a": {`)
	return r
}

func TestUnreadableResponseIsSkippedInEveryPass(t *testing.T) {
	good := studyResponses(t)
	withBad := append(slices.Clone(good), badExpData(t))
	for _, f := range allFiles {
		if downloads.Passes(f) == 0 {
			continue
		}
		t.Run(downloads.FileName(testStudy, f, downloads.Options{}), func(t *testing.T) {
			got, res := write(t, f, downloads.DefaultOptions(), &sliceSource{responses: withBad})
			want, _ := write(t, f, downloads.DefaultOptions(), &sliceSource{responses: good})
			readsExpData := f != downloads.ChildrenFile && f != downloads.DemographicsFile && f != downloads.DemographicsJSONFile
			if !readsExpData {
				if res.SkippedCount != 0 || res.Responses != len(withBad) {
					t.Errorf("a file without exp_data skipped: %+v", res)
				}
				return
			}
			if res.SkippedCount != 1 || len(res.Skipped) != 1 || res.Responses != len(good) {
				t.Fatalf("result %+v, want the bad response skipped once and %d written", res, len(good))
			}
			s := res.Skipped[0]
			if s.ID != 4900 || s.UUID != withBad[len(withBad)-1].UUID || s.Pass != 1 || !strings.Contains(s.Reason, "exp_data") {
				t.Errorf("skipped %+v", s)
			}
			if f == downloads.FrameDataZipFile || f == downloads.PsychDSFile {
				gotFiles, gotNames := unzip(t, got)
				wantFiles, wantNames := unzip(t, want)
				if !slices.Equal(gotNames, wantNames) {
					t.Fatalf("entries\n got %q\nwant %q", gotNames, wantNames)
				}
				for _, name := range gotNames {
					if name != "README.md" && !bytes.Equal(gotFiles[name], wantFiles[name]) {
						t.Errorf("%s differs from the download without the bad response", name)
					}
				}
				if readme := string(gotFiles["README.md"]); f == downloads.PsychDSFile &&
					!strings.Contains(readme, "response 4900 (bad00000-0000-4000-8000-000000000000): exp_data") {
					t.Errorf("README.md does not list the skipped response:\n%s", readme)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("with the bad response\n%s\nwithout it\n%s", got, want)
			}
		})
	}
}

func TestResponseUnreadableInALaterPassIsSkippedFromThen(t *testing.T) {
	src := &sliceSource{responses: studyResponses(t), hook: func(pass, i int, r *downloads.Response) error {
		if pass == 2 && i == 1 {
			r.ExpData = json.RawMessage(`[`)
		}
		return nil
	}}
	_, res := write(t, downloads.SummaryFile, downloads.Options{}, src)
	if res.SkippedCount != 1 || res.Skipped[0].Pass != 2 || res.Responses != len(src.responses)-1 {
		t.Errorf("result %+v", res)
	}
}

func TestSkippedResponsesAreCapped(t *testing.T) {
	var responses []*downloads.Response
	for i := range downloads.MaxReportedSkips + 50 {
		r := badExpData(t)
		r.ID = int64(i + 1)
		responses = append(responses, r)
	}
	responses = append(responses, handMadeResponse(t))
	_, res := write(t, downloads.SummaryFile, downloads.Options{}, &sliceSource{responses: responses})
	if res.SkippedCount != downloads.MaxReportedSkips+50 || len(res.Skipped) != downloads.MaxReportedSkips ||
		res.Skipped[0].ID != 1 || res.Responses != 1 {
		t.Errorf("%d skipped, %d listed (first %d), %d written", res.SkippedCount, len(res.Skipped), res.Skipped[0].ID, res.Responses)
	}
}

var errDatabase = errors.New("connection reset")

func TestSourceErrorAborts(t *testing.T) {
	for _, f := range allFiles {
		for pass := 1; pass <= downloads.Passes(f); pass++ {
			src := &sliceSource{responses: studyResponses(t), hook: func(p, i int, _ *downloads.Response) error {
				if p == pass && i == 2 {
					return errDatabase
				}
				return nil
			}}
			_, err := downloads.Write(context.Background(), io.Discard, f, testStudy, downloads.DefaultOptions(), src)
			if !errors.Is(err, errDatabase) || !strings.Contains(err.Error(), "fake source") {
				t.Errorf("file %d, pass %d: error %v, want the source's wrapped", f, pass, err)
			}
			if len(src.calls) != pass {
				t.Errorf("file %d: went on to pass %d after the source failed in pass %d", f, len(src.calls), pass)
			}
		}
	}
}

// fullDisk fails once more than limit bytes were written.
type fullDisk struct{ limit int }

var errDiskFull = errors.New("disk full")

func (w *fullDisk) Write(p []byte) (int, error) {
	if w.limit -= len(p); w.limit < 0 {
		return 0, errDiskFull
	}
	return len(p), nil
}

func TestWriterErrorAbortsAndIsNoSkip(t *testing.T) {
	var responses []*downloads.Response
	for i := range 40 { // enough to fill the writers' buffers
		r := handMadeResponse(t)
		r.ID = int64(i + 1)
		r.UUID[0] = byte(i)
		r.Child.UUID = fmt.Sprintf("%08d-2222-4222-8222-222222222222", i) // a row each in the children overview
		responses = append(responses, r)
	}
	for _, f := range allFiles {
		res, err := downloads.Write(context.Background(), &fullDisk{limit: 1000}, f, testStudy, allOptions(t), &sliceSource{responses: responses})
		if !errors.Is(err, errDiskFull) || res.SkippedCount != 0 {
			t.Errorf("file %d: error %v, result %+v; want disk full and no skips", f, err, res)
		}
	}
}

func TestCancelledContextAborts(t *testing.T) {
	for _, f := range allFiles {
		if downloads.Passes(f) == 0 {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		src := &sliceSource{responses: studyResponses(t), hook: func(pass, i int, _ *downloads.Response) error {
			if pass == downloads.Passes(f) && i == 1 {
				cancel() // the source does not look at ctx: Write must
			}
			return nil
		}}
		res, err := downloads.Write(ctx, io.Discard, f, testStudy, downloads.DefaultOptions(), src)
		if !errors.Is(err, context.Canceled) || res.SkippedCount != 0 {
			t.Errorf("file %d: error %v, result %+v", f, err, res)
		}
		cancel()
		src.calls = nil
		if _, err := downloads.Write(ctx, io.Discard, f, testStudy, downloads.DefaultOptions(), src); !errors.Is(err, context.Canceled) || len(src.calls) != 0 {
			t.Errorf("file %d: cancelled before it began: error %v after %d passes", f, err, len(src.calls))
		}
	}
}

// exitFramesOnly keeps the frames of an exp_data object whose frameType is EXIT, in order; any
// other exp_data (a jsPsych list, or text that is not an object) is returned as it is.
func exitFramesOnly(expData json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(expData))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return expData
	}
	out := []byte{'{'}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return expData
		}
		var frame json.RawMessage
		if err := dec.Decode(&frame); err != nil {
			return expData
		}
		var f struct{ FrameType any }
		if json.Unmarshal(frame, &f) != nil || f.FrameType != "EXIT" {
			continue
		}
		k, _ := json.Marshal(key)
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k...), ':'), frame...)
	}
	return append(out, '}')
}
