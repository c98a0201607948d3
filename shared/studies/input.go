package studies

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/jsonb"
)

// Input is what researchers edit on a study. The type is chosen at creation and fixed after.
type Input struct {
	Name                    string          `json:"name"`
	PreviewSummary          string          `json:"preview_summary"`
	ShortDescription        string          `json:"short_description"`
	Purpose                 string          `json:"purpose"`
	Criteria                string          `json:"criteria"` // eligibility as families read it
	Duration                string          `json:"duration"`
	ContactInfo             string          `json:"contact_info"`
	CompensationDescription string          `json:"compensation_description"`
	ExitURL                 string          `json:"exit_url"`
	Priority                int             `json:"priority"`
	MinAgeYears             int             `json:"min_age_years"`
	MinAgeMonths            int             `json:"min_age_months"`
	MinAgeDays              int             `json:"min_age_days"`
	MaxAgeYears             int             `json:"max_age_years"`
	MaxAgeMonths            int             `json:"max_age_months"`
	MaxAgeDays              int             `json:"max_age_days"`
	CriteriaExpression      string          `json:"criteria_expression"`
	Public                  bool            `json:"public"`
	SharedPreview           bool            `json:"shared_preview"`
	DisplayFullScreen       bool            `json:"display_full_screen"`
	MaxResponses            *int            `json:"max_responses"`
	Structure               json.RawMessage `json:"structure"`
	UseGenerator            bool            `json:"use_generator"`
	Generator               string          `json:"generator"`
	Metadata                json.RawMessage `json:"metadata"`
	// Prior participation, by study UUID: the child must have taken part in every study of
	// MustHave and in none of MustNot.
	MustHave []string `json:"must_have_participated"`
	MustNot  []string `json:"must_not_have_participated"`
}

// Limits on study fields.
const (
	MaxNameRunes           = 255
	MaxPreviewSummaryRunes = 300 // Lookit's max_length
	MaxMetadataBytes       = 256 << 10
	MaxResponsesCap        = 1_000_000
)

var (
	shaPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// Clean trims and validates the input for a study of type t, returning it or an error naming the
// first bad field. The criteria expression and protocol are checked by their own packages (the
// caller runs them: see postgres.Studies).
func (in Input) Clean(t Type) (Input, error) {
	t2 := strings.TrimSpace
	in.Name, in.PreviewSummary, in.ShortDescription, in.Purpose = t2(in.Name), t2(in.PreviewSummary), t2(in.ShortDescription), t2(in.Purpose)
	in.Criteria, in.Duration, in.ContactInfo, in.CompensationDescription = t2(in.Criteria), t2(in.Duration), t2(in.ContactInfo), t2(in.CompensationDescription)
	in.ExitURL, in.CriteriaExpression = t2(in.ExitURL), t2(in.CriteriaExpression)
	if in.Name == "" {
		return Input{}, apperr.Field("/name", "name is required")
	}
	texts := []struct {
		pointer, name, value string
		max                  int
		multiline            bool
	}{
		{"/name", "name", in.Name, MaxNameRunes, false},
		{"/preview_summary", "preview summary", in.PreviewSummary, MaxPreviewSummaryRunes, true},
		{"/short_description", "short description", in.ShortDescription, accounts.MaxTextRunes, true},
		{"/purpose", "purpose", in.Purpose, accounts.MaxTextRunes, true},
		{"/criteria", "criteria", in.Criteria, accounts.MaxTextRunes, true},
		{"/duration", "duration", in.Duration, accounts.MaxTextRunes, true},
		{"/contact_info", "contact information", in.ContactInfo, accounts.MaxTextRunes, true},
		{"/compensation_description", "compensation description", in.CompensationDescription, accounts.MaxTextRunes, true},
		{"/criteria_expression", "criteria expression", in.CriteriaExpression, accounts.MaxTextRunes, true},
	}
	for _, f := range texts {
		if err := accounts.CheckText(f.pointer, f.name, f.value, f.max, f.multiline); err != nil {
			return Input{}, err
		}
	}
	if in.ExitURL != "" && !httpURL(in.ExitURL) {
		return Input{}, apperr.Field("/exit_url", "exit URL must be an http or https address")
	}
	if in.Priority == 0 {
		in.Priority = 99
	}
	if in.Priority < 1 || in.Priority > 99 {
		return Input{}, apperr.Field("/priority", "priority must be from 1 to 99")
	}
	ages := []struct {
		pointer    string
		value, max int
	}{
		{"/min_age_years", in.MinAgeYears, 18}, {"/min_age_months", in.MinAgeMonths, 11}, {"/min_age_days", in.MinAgeDays, 31},
		{"/max_age_years", in.MaxAgeYears, 18}, {"/max_age_months", in.MaxAgeMonths, 11}, {"/max_age_days", in.MaxAgeDays, 31},
	}
	for _, a := range ages {
		if a.value < 0 || a.value > a.max {
			return Input{}, apperr.Field(a.pointer, "must be from 0 to %d", a.max)
		}
	}
	if in.MinDays() > in.MaxDays() {
		return Input{}, apperr.Field("/min_age_years", "the minimum age is above the maximum age")
	}
	if in.MaxResponses != nil && (*in.MaxResponses < 1 || *in.MaxResponses > MaxResponsesCap) {
		return Input{}, apperr.Field("/max_responses", "max responses must be from 1 to %d, or null for no cap", MaxResponsesCap)
	}
	if len(in.MustHave)+len(in.MustNot) > 100 {
		return Input{}, apperr.Field("/must_have_participated", "at most 100 prior-participation rules")
	}
	meta, err := cleanMetadata(t, in.Metadata)
	if err != nil {
		return Input{}, err
	}
	in.Metadata = meta
	return in, nil
}

// MinDays and MaxDays are the age bounds in days, with Lookit's fixed year and month lengths.
func (in Input) MinDays() int { return in.MinAgeYears*365 + in.MinAgeMonths*30 + in.MinAgeDays }

// MaxDays: see MinDays.
func (in Input) MaxDays() int { return in.MaxAgeYears*365 + in.MaxAgeMonths*30 + in.MaxAgeDays }

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(s) <= 2000
}

// cleanMetadata checks the type's metadata (reference §1.2) and returns it compacted.
func cleanMetadata(t Type, raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage(`{}`)
	}
	if len(raw) > MaxMetadataBytes {
		return nil, apperr.Field("/metadata", "metadata must be at most %d KiB", MaxMetadataBytes>>10)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, apperr.Field("/metadata", "metadata must be a JSON object")
	}
	if err := jsonb.Check(raw); err != nil {
		return nil, apperr.Field("/metadata", "metadata: %v", err)
	}
	str := func(key string) (string, bool, error) {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", true, apperr.Field("/metadata/"+key, "%s must be a string", key)
		}
		return s, true, nil
	}
	switch t {
	case Frameplayer:
		repo, _, err := str("player_repo_url")
		if err != nil {
			return nil, err
		}
		if repo != "" && !httpURL(repo) {
			return nil, apperr.Field("/metadata/player_repo_url", "the player repository must be an https address")
		}
		sha, _, err := str("last_known_player_sha")
		if err != nil {
			return nil, err
		}
		if sha != "" && !shaPattern.MatchString(sha) {
			return nil, apperr.Field("/metadata/last_known_player_sha", "the player commit must be a full 40-character lower-case SHA")
		}
	case External:
		u, _, err := str("url")
		if err != nil {
			return nil, err
		}
		if u != "" && !httpURL(u) {
			return nil, apperr.Field("/metadata/url", "the study URL must be an http or https address")
		}
		if v, ok := m["scheduled"]; ok && string(v) != "true" && string(v) != "false" {
			return nil, apperr.Field("/metadata/scheduled", "scheduled must be true or false")
		}
		for _, k := range []string{"scheduling", "other_scheduling", "study_platform", "other_study_platform"} {
			if _, _, err := str(k); err != nil {
				return nil, err
			}
		}
	case JSPsych:
		if _, _, err := str("experiment"); err != nil {
			return nil, err
		}
	default:
		return nil, apperr.Field("/study_type", "unknown study type")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, apperr.Field("/metadata", "metadata must be a JSON object")
	}
	return b.Bytes(), nil
}

// ReadyMetadata reports what the type's metadata still lacks before the study can be submitted.
func ReadyMetadata(t Type, meta json.RawMessage) error {
	var m map[string]any
	_ = json.Unmarshal(meta, &m)
	switch t {
	case Frameplayer:
		if s, _ := m["player_repo_url"].(string); s == "" {
			return apperr.Field("/metadata/player_repo_url", "choose the experiment runner repository")
		}
		if s, _ := m["last_known_player_sha"].(string); s == "" {
			return apperr.Field("/metadata/last_known_player_sha", "pin the experiment runner to a commit")
		}
	case External:
		if s, _ := m["url"].(string); s == "" {
			return apperr.Field("/metadata/url", "give the study's URL")
		}
	case JSPsych:
		if s, _ := m["experiment"].(string); strings.TrimSpace(s) == "" {
			return apperr.Field("/metadata/experiment", "write the jsPsych experiment")
		}
	}
	return nil
}
