package downloads

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// psychDSPasses: children (with the overview's keys and the check of every response), response
// overview, raw JSON, frame data. Each zip entry is written whole before the next starts, so
// each file that lists responses needs a pass of its own.
const psychDSPasses = 4

// The Psych-DS zip's layout (reference §9.3).
const (
	psychDSFrameDir    = "data/framedata-per-response/"
	psychDSOverviewDir = "data/overview/"
	psychDSRawDir      = "data/raw/"
	psychDSDescription = "dataset_description.json"
	// The Psych-DS validator reads ".psychdsignore", as Lookit names it; the reference's
	// ".psychds-ignore" would be ignored itself.
	psychDSIgnore = ".psychdsignore"
)

// WithFullUUIDs returns o with Lookit's full_uuids choice: the Psych-DS zip's file names then
// show the study's and responses' UUIDs whole (32 hex digits) instead of their first 8.
func (o Options) WithFullUUIDs(full bool) Options {
	o.fullUUIDs = full
	return o
}

// FullUUIDs reports whether WithFullUUIDs was chosen.
func (o Options) FullUUIDs() bool { return o.fullUUIDs }

// psychDSID is a UUID as a Psych-DS keyword value, which may hold letters and digits only: its
// hex digits without dashes, all 32 or the first 8.
func psychDSID(id uuid.UUID, full bool) string {
	s := hex.EncodeToString(id[:])
	if !full {
		s = s[:8]
	}
	return s
}

// psychDSResponseNames names the per-response files. With 8-digit UUIDs two responses of a
// large study may share a name (about 1 % of studies with 10,000 responses, where Lookit would
// write both under one name and unzipping would keep one): a response whose first 8 digits
// another response's files already use is named with its full UUID instead. It holds 4 bytes
// per response for that.
type psychDSResponseNames struct {
	study string
	full  bool
	used  map[[4]byte]struct{}
}

// name is the stem of r's files ("study-<id>_response-<id>_data") and the prefix it claims,
// to be recorded with claim once the files are written.
func (n *psychDSResponseNames) name(id uuid.UUID) (stem string, prefix [4]byte, claims bool) {
	copy(prefix[:], id[:4])
	_, taken := n.used[prefix]
	full := n.full || taken
	return "study-" + n.study + "_response-" + psychDSID(id, full) + "_data", prefix, !full
}

func (n *psychDSResponseNames) claim(prefix [4]byte) {
	if n.used == nil {
		n.used = make(map[[4]byte]struct{})
	}
	n.used[prefix] = struct{}{}
}

// psychDSVariable is an entry of dataset_description.json's variableMeasured.
type psychDSVariable struct {
	Type        string `json:"@type"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// psychDSDataset is dataset_description.json: a schema.org Dataset in JSON-LD with the fields
// Psych-DS requires.
type psychDSDataset struct {
	Context          string            `json:"@context"`
	Type             string            `json:"@type"`
	Name             string            `json:"name"`
	Description      string            `json:"description"`
	VariableMeasured []psychDSVariable `json:"variableMeasured"`
}

// psychDSVariables lists every column of the zip's CSV files, as Psych-DS requires: the
// response overview's (the children overview's are among them) and the frame data's. A
// flattened column is described by the column it comes from.
func psychDSVariables(overview []string) []psychDSVariable {
	desc := make(map[string]string, len(responseColumns))
	for _, c := range responseColumns {
		desc[c.ID] = c.Description
	}
	vars := make([]psychDSVariable, 0, len(overview)+len(frameDataColumns))
	for _, col := range overview {
		base, _, _ := strings.Cut(col, ".")
		vars = append(vars, psychDSVariable{"PropertyValue", col, desc[base]})
	}
	for _, c := range frameDataColumns {
		vars = append(vars, psychDSVariable{"PropertyValue", c.ID, c.Description})
	}
	return vars
}

// psychDSSidecar is a per-response metadata file. response_uuid has its dashes here (Lookit
// writes the 32 digits alone), so it matches response_uuid in the frame data and the overview.
type psychDSSidecar struct {
	ResponseUUID   string   `json:"response_uuid"`
	Eligibility    []string `json:"eligibility"`
	StudyCompleted bool     `json:"study_completed"`
}

// psychDSAd is materials/study_ad_info.json.
type psychDSAd struct {
	Name             string `json:"name"`
	ShortDescription string `json:"short_description"`
	Purpose          string `json:"purpose"`
	Criteria         string `json:"criteria"`
	Duration         string `json:"duration"`
	Compensation     string `json:"compensation"`
	ContactInfo      string `json:"contact_info"`
}

// indentedJSON is json.dumps(v, indent=4) without HTML escaping.
func indentedJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("downloads: encoding JSON: %w", err)
	}
	return b.Bytes(), nil
}

// writePsychDS writes the Psych-DS zip (reference §9.3):
//
//	.psychdsignore, README.md, dataset_description.json
//	materials/study_protocol.json (or protocol_generator.js), materials/study_ad_info.json
//	data/overview/study-<s>_all-responses[_identifiable-true]_data.csv
//	data/overview/study-<s>_all-children[_identifiable-true]_data.csv
//	data/raw/all_responses[_identifiable].json, data/raw/video/README.md
//	data/demographic/README.md
//	data/framedata-per-response/study-<s>_response-<r>_data.csv and _data.json for each response
//
// <s> and <r> are the study's and response's UUIDs as psychDSID writes them. Lookit's reference
// names the overview "study-<id>"; Lookit's code uses the study's UUID there as everywhere else
// in the zip, and so does this.
//
// The overviews are the same files as the stand-alone downloads (Lookit writes its own variant
// here, without quoting rules), the raw JSON is the all-responses JSON, and each response's
// frame data is its part of the frame-data zip.
func writePsychDS(p *passes, w io.Writer, study StudyInfo, opts Options) error {
	z := newZipFiles(w)
	studyID := psychDSID(study.UUID, opts.fullUUIDs)
	overviewMark, rawName := "", "all_responses"
	if opts.Identifiable() {
		overviewMark, rawName = "_identifiable-true", "all_responses_identifiable"
	}
	overviewName := func(part string) string {
		return psychDSOverviewDir + "study-" + studyID + "_" + part + overviewMark + "_data.csv"
	}

	if err := writePsychDSMaterials(z, study); err != nil {
		return err
	}

	// Pass 1: check every response for every file, so that one is left out of all of them or of
	// none, gather the overview's keys, and write the children overview.
	var keys KeySet
	entry, err := z.create(overviewName("all-children"))
	if err != nil {
		return err
	}
	children := NewChildrenCSV(entry, opts)
	err = p.each(Pass{Order: ByChild}, func(r *Response) error {
		if err := keys.Add(r); err != nil { // exp_data, conditions, child
			return err
		}
		if _, err := parseJSON(r.GlobalEventTimings, value{kind: arrayKind}); err != nil { // frame data
			return responseError(r, "global_event_timings: %w", err)
		}
		return children.Write(r)
	})
	if err != nil {
		return err
	}
	if err := children.Close(); err != nil {
		return err
	}

	extraKeys := keys.Keys()
	description := study.ShortDescription
	if description == "" {
		description = "Data of the study " + study.Name // Psych-DS requires a description
	}
	dataset, err := indentedJSON(psychDSDataset{
		Context:          "https://schema.org/",
		Type:             "Dataset",
		Name:             study.Name,
		Description:      description,
		VariableMeasured: psychDSVariables(summaryHeader(opts, extraKeys)),
	})
	if err != nil {
		return err
	}
	if err := z.file(psychDSDescription, dataset); err != nil {
		return err
	}

	// Pass 2: the response overview.
	if entry, err = z.create(overviewName("all-responses")); err != nil {
		return err
	}
	if err := writeRows(p, Pass{Order: ByResponse}, NewSummaryCSV(entry, opts, extraKeys)); err != nil {
		return err
	}

	// Pass 3: the all-responses JSON.
	if entry, err = z.create(psychDSRawDir + rawName + ".json"); err != nil {
		return err
	}
	if err := writeRows(p, Pass{Order: ByResponse}, NewResponsesJSON(entry, opts)); err != nil {
		return err
	}

	// Pass 4: each response's frame data and its sidecar.
	files := frameFiles{z: z}
	names := psychDSResponseNames{study: studyID, full: opts.fullUUIDs}
	err = p.each(Pass{Order: ByResponse}, func(r *Response) error {
		stem, prefix, claims := names.name(r.UUID)
		if err := files.write(psychDSFrameDir+stem+".csv", r); err != nil {
			return err
		}
		if claims {
			names.claim(prefix)
		}
		sidecar, err := indentedJSON(psychDSSidecar{
			ResponseUUID:   r.UUID.String(),
			Eligibility:    append([]string{}, r.Eligibility...), // [] rather than null
			StudyCompleted: r.Completed,
		})
		if err != nil {
			return err
		}
		return z.file(psychDSFrameDir+stem+".json", sidecar)
	})
	if err != nil {
		return err
	}

	if err := z.file("README.md", psychDSReadme(study, studyID, opts, overviewName, rawName, z.modified, p.result)); err != nil {
		return err
	}
	return z.close()
}

// writePsychDSMaterials writes the files that do not depend on the responses.
func writePsychDSMaterials(z zipFiles, study StudyInfo) error {
	if err := z.file(psychDSIgnore, []byte(psychDSIgnoreText)); err != nil {
		return err
	}
	if err := z.file("data/demographic/README.md", []byte(psychDSDemographicReadme)); err != nil {
		return err
	}
	if err := z.file(psychDSRawDir+"video/README.md", []byte(psychDSVideoReadme)); err != nil {
		return err
	}
	switch {
	case study.UseGenerator:
		// The JavaScript as it is (Lookit writes it as a JSON string, which no one can run).
		if err := z.file("materials/protocol_generator.js", []byte(study.Generator)); err != nil {
			return err
		}
	case len(bytes.TrimSpace(study.Structure)) > 0:
		var protocol bytes.Buffer
		if err := json.Indent(&protocol, study.Structure, "", "    "); err != nil {
			protocol.Reset()
			protocol.Write(study.Structure) // jsonb is JSON; should it not be, keep it as it is
		}
		protocol.WriteByte('\n')
		if err := z.file("materials/study_protocol.json", protocol.Bytes()); err != nil {
			return err
		}
	}
	ad, err := indentedJSON(psychDSAd{
		Name:             study.Name,
		ShortDescription: study.ShortDescription,
		Purpose:          study.Purpose,
		Criteria:         study.Criteria,
		Duration:         study.Duration,
		Compensation:     study.CompensationDescription,
		ContactInfo:      study.ContactInfo,
	})
	if err != nil {
		return err
	}
	return z.file("materials/study_ad_info.json", ad)
}

// psychDSIgnoreText keeps the validator from warning about the files under data/ that are not
// Psych-DS data files.
const psychDSIgnoreText = "data/raw/\ndata/demographic/README.md\n"

const psychDSDemographicReadme = `# Demographic data

This folder is a placeholder. The families' demographic survey answers are a separate download
(all demographic snapshots) on the study's responses page; add them here if you need them.
They describe families in detail, so think twice before sharing them.
`

const psychDSVideoReadme = `# Videos

This folder is a placeholder for the session videos, which are not part of this download (they
are large and show children and families). Download them from the study's attachments page and
add them here if you need them, and leave them out of any dataset you share unless families
agreed to it.
`

// psychDSReadme is README.md: what the zip holds, and which responses were left out.
func psychDSReadme(study StudyInfo, studyID string, opts Options, overviewName func(string) string, rawName string,
	downloaded time.Time, result Result) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", study.Name)
	fmt.Fprintf(&b, "Study %d (%s), downloaded %s UTC: %d responses.\n\n", study.ID, study.UUID,
		downloaded.UTC().Format("2006-01-02 15:04"), result.Responses)
	b.WriteString("This dataset follows Psych-DS (https://psychds-docs.readthedocs.io/): CSV data files under\n")
	b.WriteString("`data/`, named by keyword-value pairs, described by `dataset_description.json`.\n\n")
	fmt.Fprintf(&b, "- `%s`: one row per response (session).\n", overviewName("all-responses"))
	fmt.Fprintf(&b, "- `%s`: one row per child.\n", overviewName("all-children"))
	fmt.Fprintf(&b, "- `%sstudy-%s_response-<response>_data.csv`: each response's frame data in long format\n", psychDSFrameDir, studyID)
	b.WriteString("  (one row per piece of data), with a `.json` file beside it giving the response's UUID,\n")
	b.WriteString("  eligibility and whether the study was completed.\n")
	fmt.Fprintf(&b, "- `%s%s.json`: every response's data as recorded, in JSON.\n", psychDSRawDir, rawName)
	b.WriteString("- `materials/`: the study's protocol (or protocol generator) and its ad.\n")
	b.WriteString("- `data/demographic/` and `data/raw/video/`: placeholders for the demographic data and the\n")
	b.WriteString("  videos, which are separate downloads.\n\n")
	if opts.fullUUIDs {
		b.WriteString("File names show UUIDs whole, without dashes.\n")
	} else {
		b.WriteString("File names show the first 8 hex digits of UUIDs; a response whose first 8 digits another\n")
		b.WriteString("response's files already use is named with its whole UUID.\n")
	}
	if opts.Identifiable() {
		b.WriteString("\nThe overviews and the raw JSON hold identifying columns (hence `identifiable` in their\n")
		b.WriteString("names): remove them before sharing.\n")
	}
	b.WriteString("\nFree-text answers and frame data may identify families whatever the columns chosen:\n")
	b.WriteString("review them before sharing.\n")
	if result.SkippedCount > 0 {
		fmt.Fprintf(&b, "\n## Responses left out\n\nThese could not be read and are in none of the files (%d in all):\n\n", result.SkippedCount)
		for _, s := range result.Skipped {
			fmt.Fprintf(&b, "- response %d (%s): %s", s.ID, s.UUID, s.Reason)
			if s.Pass > 1 {
				b.WriteString(" (it changed during the download; files written before may include it)")
			}
			b.WriteString("\n")
		}
		if n := result.SkippedCount - len(result.Skipped); n > 0 {
			fmt.Fprintf(&b, "- and %d more\n", n)
		}
	}
	return []byte(b.String())
}
