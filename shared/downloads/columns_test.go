package downloads_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/downloads"
)

// fixedBefore and fixedAfter are the overview columns that are always there (reference §9.3).
var (
	fixedHead = []string{
		"response__id", "response__uuid", "response__date_created", "response__completed", "response__withdrawn",
		"response__eligibility", "response__parent_feedback", "response__birthdate_difference",
		"response__video_privacy", "response__databrary", "response__is_preview",
		"consent__ruling", "consent__arbiter", "consent__time", "consent__comment", "study__uuid",
	}
	fixedTail = []string{"response__sequence", "response__conditions", "response__researcher_payment_status"}
	lastTwo   = []string{"response__researcher_session_status", "response__researcher_star"}
)

func concat(parts ...[]string) []string { return slices.Concat(parts...) }

func TestSummaryColumnOrder(t *testing.T) {
	extra := []string{"response__sequence.1", "response__conditions.0.frameName", "response__sequence.0",
		"response__eligibility.0", "response__sequence.0", "response__id"} // unsorted, a repeat, a fixed id
	wantExtra := []string{"response__conditions.0.frameName", "response__eligibility.0", "response__sequence.0", "response__sequence.1"}
	for _, c := range []struct {
		name string
		opts downloads.Options
		want []string
	}{
		{"no optional columns", downloads.Options{}, concat(fixedHead,
			[]string{"participant__hashed_id", "child__hashed_id"}, fixedTail, wantExtra, lastTwo)},
		{"Lookit's defaults", downloads.DefaultOptions(), concat(fixedHead,
			[]string{"participant__hashed_id", "child__hashed_id", "child__age_rounded", "child__gender",
				"child__age_at_birth", "child__language_list", "child__condition_list", "child__additional_information"},
			fixedTail, wantExtra, lastTwo)},
		{"identifiable ones", must(downloads.NewOptions("child__birthday", "participant__nickname", "child__global_id")), concat(fixedHead,
			[]string{"participant__hashed_id", "participant__nickname", "child__global_id", "child__hashed_id", "child__birthday"},
			fixedTail, wantExtra, lastTwo)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := downloads.NewSummaryCSV(io.Discard, c.opts, extra).Header()
			if !slices.Equal(got, c.want) {
				t.Errorf("header\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestChildrenAndDemographicColumns(t *testing.T) {
	if got, want := downloads.NewChildrenCSV(io.Discard, downloads.Options{}).Header(),
		[]string{"participant__hashed_id", "child__hashed_id"}; !slices.Equal(got, want) {
		t.Errorf("children header without options = %q, want %q", got, want)
	}
	all := allOptions(t)
	got := downloads.NewChildrenCSV(io.Discard, all).Header()
	want := []string{"participant__global_id", "participant__hashed_id", "participant__nickname", "child__global_id",
		"child__hashed_id", "child__name", "child__birthday", "child__age_in_days", "child__age_rounded", "child__gender",
		"child__age_at_birth", "child__language_list", "child__condition_list", "child__additional_information"}
	if !slices.Equal(got, want) {
		t.Errorf("children header with every option = %q, want %q", got, want)
	}
	demo := []string{"response__uuid", "participant__hashed_id", "demographic__hashed_id", "demographic__date_created",
		"demographic__number_of_children", "demographic__child_rounded_ages", "demographic__number_of_guardians",
		"demographic__us_race_ethnicity_identification", "demographic__parent_age", "demographic__parent_gender",
		"demographic__education_level", "demographic__annual_income", "demographic__additional_comments",
		"demographic__country", "demographic__state", "demographic__density", "demographic__lookit_referrer"}
	if got := downloads.NewDemographicsCSV(io.Discard, downloads.DefaultOptions()).Header(); !slices.Equal(got, demo) {
		t.Errorf("demographic header = %q, want %q", got, demo)
	}
	withID := slices.Insert(slices.Clone(demo), 1, "participant__global_id")
	if got := downloads.NewDemographicsCSV(io.Discard, all).Header(); !slices.Equal(got, withID) {
		t.Errorf("demographic header with participant__global_id = %q, want %q", got, withID)
	}
}

func TestOptions(t *testing.T) {
	def := downloads.DefaultOptions()
	if got, want := def.IDs(), []string{"child__age_rounded", "child__gender", "child__age_at_birth",
		"child__language_list", "child__condition_list", "child__additional_information"}; !slices.Equal(got, want) {
		t.Errorf("defaults = %q, want %q", got, want)
	}
	// Lookit flags child__additional_information as identifiable, so its defaults are.
	if !def.Identifiable() {
		t.Error("default options are not identifiable")
	}
	if (downloads.Options{}).Identifiable() || must(downloads.NewOptions("child__gender", "child__age_rounded")).Identifiable() {
		t.Error("non-identifiable options reported identifiable")
	}
	o, err := downloads.NewOptions("child__name", "response__id", "bogus")
	if !errors.Is(err, downloads.ErrUnknownColumn) || !strings.Contains(err.Error(), `"response__id", "bogus"`) {
		t.Errorf("error = %v", err)
	}
	if !o.Has("child__name") || o.Has("response__id") || !o.Identifiable() {
		t.Errorf("options kept %q", o.IDs())
	}
}

func TestFileNames(t *testing.T) {
	plain := must(downloads.NewOptions("child__gender"))
	id := must(downloads.NewOptions("child__gender", "child__birthday"))
	const stem = "Baby-s-First-Study--Look---v2-"
	for _, c := range []struct {
		f    downloads.File
		opts downloads.Options
		want string
	}{
		{downloads.SummaryFile, plain, stem + "_all-responses.csv"},
		{downloads.SummaryFile, id, stem + "_all-responses-identifiable.csv"},
		{downloads.ResponsesJSONFile, plain, stem + "_all-responses.json"},
		{downloads.ResponsesJSONFile, id, stem + "_all-responses-identifiable.json"},
		{downloads.ChildrenFile, id, stem + "_all-children-identifiable.csv"},
		{downloads.SummaryDictionaryFile, id, stem + "_all-responses-dict.csv"},
		{downloads.ChildrenDictionaryFile, id, stem + "_all-children-dict.csv"},
		{downloads.DemographicsFile, id, stem + "_all-demographic-snapshots.csv"},
		{downloads.DemographicsJSONFile, must(downloads.NewOptions("participant__global_id")), stem + "_all-demographic-snapshots-identifiable.json"},
		{downloads.DemographicsDictionaryFile, id, stem + "_all-demographic-snapshots-dict.csv"},
		{downloads.FrameDataZipFile, id, stem + "_framedata_per_session.zip"},
		{downloads.FrameDictionaryFile, id, stem + "_" + studyUUID + "_all-frames-dict.csv"},
		{downloads.PsychDSFile, id, stem + "--psychds.zip"},
	} {
		study := downloads.StudyInfo{Name: studyName, UUID: uuid.MustParse(studyUUID)}
		if got := downloads.FileName(study, c.f, c.opts); got != c.want {
			t.Errorf("FileName(%d, %q) = %q, want %q", c.f, c.opts.IDs(), got, c.want)
		}
	}
	r := uuid.MustParse(responseUUID)
	for got, want := range map[string]string{
		downloads.FrameDataFileName(studyName, r):                               stem + "_" + responseUUID + "_frames.csv",
		downloads.FrameDictionaryFileName(studyName, uuid.MustParse(studyUUID)): stem + "_" + studyUUID + "_all-frames-dict.csv",
		downloads.ResponseFileName(studyName, r, true, id):                      stem + "_" + responseUUID + "_frames.json",
		downloads.ResponseFileName(studyName, r, false, id):                     stem + "_" + responseUUID + "_identifiable.csv",
		downloads.ResponseFileName(studyName, r, false, plain):                  stem + "_" + responseUUID + ".csv",
		downloads.StudyFileStem("Études sur l'attention 注意 ½ (2024)"):           "Études-sur-l-attention-注意-½--2024-",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestDictionaries(t *testing.T) {
	var out bytes.Buffer
	if err := downloads.WriteSummaryDictionary(&out, downloads.Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")
	if lines[0] != `"column","description"` {
		t.Fatalf("header %q", lines[0])
	}
	var cols []string
	for _, l := range lines[1:] {
		col, desc, _ := strings.Cut(l, ",")
		if len(desc) < 20 {
			t.Errorf("%s has no real description: %s", col, desc)
		}
		cols = append(cols, strings.Trim(col, `"`))
	}
	if want := concat(fixedHead, []string{"participant__hashed_id", "child__hashed_id"}, fixedTail, lastTwo); !slices.Equal(cols, want) {
		t.Errorf("dictionary columns %q, want %q", cols, want)
	}

	out.Reset()
	if err := downloads.WriteChildrenDictionary(&out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\r\n"); n != 15 {
		t.Errorf("children dictionary has %d rows, want header + 14 columns", n)
	}
	out.Reset()
	if err := downloads.WriteDemographicsDictionary(&out, downloads.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\r\n"); n != 18 || strings.Contains(out.String(), "participant__global_id") {
		t.Errorf("demographics dictionary has %d rows:\n%s", n, out.String())
	}
}
