package downloads_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/downloads"
)

// psychDSDataFile is Psych-DS's rule for data file names (its schema's fileRegex): keyword-value
// pairs, keywords in lowercase letters and values in letters and digits, joined by "_", then
// "_data.csv".
var psychDSDataFile = regexp.MustCompile(`^([a-z]+-[a-zA-Z0-9]+)(_[a-z]+-[a-zA-Z0-9]+)*_data\.csv$`)

type psychDSDescription struct {
	Context          string `json:"@context"`
	Type             string `json:"@type"`
	Name             string `json:"name"`
	Description      string `json:"description"`
	VariableMeasured []struct {
		Type        string `json:"@type"`
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"variableMeasured"`
}

func overviewHeader(t *testing.T, opts downloads.Options, responses []*downloads.Response) []string {
	var keys downloads.KeySet
	for _, r := range responses {
		if err := keys.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	return downloads.NewSummaryCSV(io.Discard, opts, keys.Keys()).Header()
}

// csvRecords parses a CSV file as RFC 4180 readers (and the Psych-DS validator) do, requiring
// every row to have the header's number of fields.
func csvRecords(t *testing.T, name string, data []byte) [][]string {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("%s: not CSV with a header: %v", name, err)
	}
	return records
}

func TestPsychDSZip(t *testing.T) {
	responses := studyResponses(t)
	opts := must(downloads.NewOptions("child__age_rounded", "child__gender", "child__language_list")) // none identifiable
	got, res := write(t, downloads.PsychDSFile, opts, &sliceSource{responses: responses})
	files, names := unzip(t, got)
	if res.Responses != len(responses) || res.SkippedCount != 0 {
		t.Errorf("result %+v", res)
	}

	const s = "study-11111111"
	want := []string{
		".psychdsignore", "data/demographic/README.md", "data/raw/video/README.md",
		"materials/study_protocol.json", "materials/study_ad_info.json",
		"data/overview/" + s + "_all-children_data.csv", "dataset_description.json",
		"data/overview/" + s + "_all-responses_data.csv", "data/raw/all_responses.json",
	}
	byResponse := sortedBy(responses, downloads.ByResponse)
	for _, r := range byResponse {
		stem := "data/framedata-per-response/" + s + "_response-" + r.UUID.String()[:8] + "_data"
		want = append(want, stem+".csv", stem+".json")
	}
	want = append(want, "README.md")
	if !slices.Equal(names, want) {
		t.Fatalf("entries\n got %q\nwant %q", names, want)
	}

	// The data files are the stand-alone downloads' and the frame-data zip's.
	for name, f := range map[string]downloads.File{
		want[5]: downloads.ChildrenFile, want[7]: downloads.SummaryFile, want[8]: downloads.ResponsesJSONFile,
	} {
		if !bytes.Equal(files[name], direct(t, f, opts, responses)) {
			t.Errorf("%s differs from the stand-alone file:\n%s", name, files[name])
		}
	}
	for i, r := range byResponse {
		csvName, sidecarName := want[9+2*i], want[10+2*i]
		if !bytes.Equal(files[csvName], frameDataOf(t, r)) {
			t.Errorf("%s differs from the response's frame data", csvName)
		}
		var sidecar map[string]any
		if err := json.Unmarshal(files[sidecarName], &sidecar); err != nil {
			t.Fatalf("%s: %v", sidecarName, err)
		}
		elig, _ := json.Marshal(sidecar["eligibility"])
		wantElig, _ := json.Marshal(r.Eligibility)
		if len(sidecar) != 3 || sidecar["response_uuid"] != r.UUID.String() || sidecar["study_completed"] != r.Completed ||
			string(elig) != string(wantElig) {
			t.Errorf("%s = %s", sidecarName, files[sidecarName])
		}
	}

	// dataset_description.json: schema.org Dataset listing every column of every data file.
	var desc psychDSDescription
	if err := json.Unmarshal(files["dataset_description.json"], &desc); err != nil {
		t.Fatalf("dataset_description.json: %v", err)
	}
	if desc.Context != "https://schema.org/" || desc.Type != "Dataset" || desc.Name != studyName ||
		desc.Description != testStudy.ShortDescription {
		t.Errorf("dataset_description.json: %+v", desc)
	}
	var measured []string
	for _, v := range desc.VariableMeasured {
		measured = append(measured, v.Name)
		if v.Type != "PropertyValue" || v.Description == "" {
			t.Errorf("variable %+v", v)
		}
	}
	wantMeasured := append(overviewHeader(t, opts, responses),
		"response_uuid", "child_hashed_id", "frame_id", "event_number", "key", "value")
	if !slices.Equal(measured, wantMeasured) {
		t.Errorf("variableMeasured\n got %q\nwant the overview's header and the frame data's\n     %q", measured, wantMeasured)
	}

	// Psych-DS: data files are keyword-named CSVs whose columns are all in variableMeasured; a
	// sidecar is named like its data file.
	for _, name := range names {
		if !strings.HasPrefix(name, "data/") || strings.HasPrefix(name, "data/raw/") || path.Base(name) == "README.md" {
			continue
		}
		base := path.Base(name)
		if strings.HasSuffix(name, ".json") {
			if files[strings.TrimSuffix(name, ".json")+".csv"] == nil {
				t.Errorf("%s is no data file's sidecar", name)
			}
			continue
		}
		if !psychDSDataFile.MatchString(base) {
			t.Errorf("%s is not a Psych-DS data file name", base)
		}
		for _, col := range csvRecords(t, name, files[name])[0] {
			if !slices.Contains(measured, col) {
				t.Errorf("%s: column %s is not in variableMeasured", name, col)
			}
		}
	}
	if ignore := string(files[".psychdsignore"]); !strings.Contains(ignore, "data/raw/") || !strings.Contains(ignore, "data/demographic/README.md") {
		t.Errorf(".psychdsignore = %q", ignore)
	}

	// Materials.
	var protocol, wantProtocol any
	if err := json.Unmarshal(files["materials/study_protocol.json"], &protocol); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(testStudy.Structure, &wantProtocol)
	if p1, p2 := must(json.Marshal(protocol)), must(json.Marshal(wantProtocol)); !bytes.Equal(p1, p2) {
		t.Errorf("study_protocol.json = %s", files["materials/study_protocol.json"])
	}
	var ad map[string]string
	if err := json.Unmarshal(files["materials/study_ad_info.json"], &ad); err != nil ||
		ad["purpose"] != testStudy.Purpose || ad["duration"] != testStudy.Duration || ad["contact_info"] != testStudy.ContactInfo {
		t.Errorf("study_ad_info.json = %s (%v)", files["materials/study_ad_info.json"], err)
	}
	if readme := string(files["README.md"]); !strings.Contains(readme, studyName) || !strings.Contains(readme, want[7]) ||
		strings.Contains(readme, "left out") {
		t.Errorf("README.md:\n%s", readme)
	}
}

func TestPsychDSIdentifiableAndFullUUIDs(t *testing.T) {
	responses := studyResponses(t)
	study := testStudy
	study.UseGenerator, study.Generator = true, "function generateProtocol(child, pastSessions) {\n    return {frames: {}, sequence: []};\n}\n"
	got, _ := write(t, downloads.PsychDSFile, allOptions(t).WithFullUUIDs(true), &sliceSource{responses: responses})
	files, names := unzip(t, got)
	const s = "study-11111111111141118111111111111111"
	for _, name := range []string{
		"data/overview/" + s + "_all-responses_identifiable-true_data.csv",
		"data/overview/" + s + "_all-children_identifiable-true_data.csv",
		"data/raw/all_responses_identifiable.json",
		"data/framedata-per-response/" + s + "_response-5e1f2c3a0b9d4e7fa1c2d3e4f5a6b7c8_data.csv",
	} {
		if files[name] == nil {
			t.Errorf("%s missing from %q", name, names)
		}
	}
	for _, name := range names {
		if strings.HasSuffix(name, ".csv") && !psychDSDataFile.MatchString(path.Base(name)) {
			t.Errorf("%s is not a Psych-DS data file name", name)
		}
	}

	var out bytes.Buffer
	if _, err := downloads.Write(t.Context(), &out, downloads.PsychDSFile, study, downloads.Options{}, &sliceSource{responses: responses}); err != nil {
		t.Fatal(err)
	}
	files, _ = unzip(t, out.Bytes())
	if string(files["materials/protocol_generator.js"]) != study.Generator || files["materials/study_protocol.json"] != nil {
		t.Errorf("generator study: protocol_generator.js %q, study_protocol.json %q",
			files["materials/protocol_generator.js"], files["materials/study_protocol.json"])
	}
}

func TestPsychDSResponsesSharingTheirFirstDigits(t *testing.T) {
	a, b := handMadeResponse(t), handMadeResponse(t)
	b.ID, b.UUID = 4822, uuid.MustParse("5e1f2c3a-ffff-4fff-8fff-ffffffffffff") // same first 8 digits
	got, _ := write(t, downloads.PsychDSFile, downloads.Options{}, &sliceSource{responses: []*downloads.Response{a, b}})
	files, _ := unzip(t, got) // fails on a name used twice
	const dir = "data/framedata-per-response/study-11111111_response-"
	if files[dir+"5e1f2c3a_data.csv"] == nil || files[dir+"5e1f2c3affff4fff8fffffffffffffff_data.csv"] == nil ||
		files[dir+"5e1f2c3affff4fff8fffffffffffffff_data.json"] == nil {
		t.Errorf("the second response is not named with its full UUID")
	}
}
