package downloads

import (
	"strings"
	"unicode"

	"github.com/google/uuid"
)

// StudyFileStem is Lookit's study_name_for_files: the study name with every character that is
// not a letter or a digit (Python's str.isalnum, so accented and non-Latin letters stay)
// replaced by "-".
func StudyFileStem(studyName string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return r
		}
		return '-'
	}, studyName)
}

// File names a study-wide download.
type File int

const (
	SummaryFile                File = iota // <stem>_all-responses[-identifiable].csv
	SummaryDictionaryFile                  // <stem>_all-responses-dict.csv
	ResponsesJSONFile                      // <stem>_all-responses[-identifiable].json
	ChildrenFile                           // <stem>_all-children[-identifiable].csv
	ChildrenDictionaryFile                 // <stem>_all-children-dict.csv
	DemographicsFile                       // <stem>_all-demographic-snapshots[-identifiable].csv
	DemographicsJSONFile                   // <stem>_all-demographic-snapshots[-identifiable].json
	DemographicsDictionaryFile             // <stem>_all-demographic-snapshots-dict.csv
	FrameDataZipFile                       // <stem>_framedata_per_session.zip
	FrameDictionaryFile                    // <stem>_<study uuid>_all-frames-dict.csv (FrameDictionaryFileName)
	PsychDSFile                            // <stem>--psychds.zip
)

// FileName is the name of a study-wide download made with opts: "<stem>_<part>.<ext>", where
// choosing an identifiable column adds "-identifiable" to the part, as Lookit does for the
// overviews and the all-responses JSON. Lookit does not mark the demographic files; here they are
// marked too when participant__global_id is chosen, since it identifies the family. The
// frame-data dictionary's name holds the study's UUID; the Psych-DS zip is "<stem>--psychds.zip"
// whatever the columns (its files inside are marked).
func FileName(study StudyInfo, f File, opts Options) string {
	studyName := study.Name
	part, ext, identifiable := "", ".csv", false
	switch f {
	case SummaryFile:
		part, identifiable = "all-responses", opts.Identifiable()
	case SummaryDictionaryFile:
		part = "all-responses-dict"
	case ResponsesJSONFile:
		part, ext, identifiable = "all-responses", ".json", opts.Identifiable()
	case ChildrenFile:
		part, identifiable = "all-children", opts.Identifiable()
	case ChildrenDictionaryFile:
		part = "all-children-dict"
	case DemographicsFile:
		part, identifiable = "all-demographic-snapshots", demographicIdentifiable(opts)
	case DemographicsJSONFile:
		part, ext, identifiable = "all-demographic-snapshots", ".json", demographicIdentifiable(opts)
	case DemographicsDictionaryFile:
		part = "all-demographic-snapshots-dict"
	case FrameDataZipFile:
		part, ext = "framedata_per_session", ".zip"
	case FrameDictionaryFile:
		return FrameDictionaryFileName(studyName, study.UUID)
	case PsychDSFile:
		return StudyFileStem(studyName) + "--psychds.zip"
	default:
		part = "download"
	}
	if identifiable {
		part += "-identifiable"
	}
	return StudyFileStem(studyName) + "_" + part + ext
}

// FrameDataFileName is the name of one response's frame data inside the frame-data zip:
// "<stem>_<response uuid>_frames.csv".
func FrameDataFileName(studyName string, responseUUID uuid.UUID) string {
	return StudyFileStem(studyName) + "_" + responseUUID.String() + "_frames.csv"
}

// FrameDictionaryFileName is the name of the frame-data dictionary:
// "<stem>_<study uuid>_all-frames-dict.csv".
func FrameDictionaryFileName(studyName string, studyUUID uuid.UUID) string {
	return StudyFileStem(studyName) + "_" + studyUUID.String() + "_all-frames-dict.csv"
}

// ResponseFileName is the name of a single response's download (Lookit's individual-response
// download): "<stem>_<response uuid>_frames.json" for its JSON, else
// "<stem>_<response uuid>.csv" (its overview row or its frame data), with "_identifiable" before
// ".csv" when an identifiable column is chosen.
func ResponseFileName(studyName string, responseUUID uuid.UUID, json bool, opts Options) string {
	stem := StudyFileStem(studyName) + "_" + responseUUID.String()
	switch {
	case json:
		return stem + "_frames.json"
	case opts.Identifiable():
		return stem + "_identifiable.csv"
	}
	return stem + ".csv"
}
