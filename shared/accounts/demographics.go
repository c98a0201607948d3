package accounts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/jsonb"
)

// The choices below are Lookit's DemographicData choices (accounts/models.py). Every single-choice
// field may also be "" for no answer, as Lookit's blank=True allows.
var (
	numberOfChildrenChoices = []Choice{
		{"0", "0"}, {"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"},
		{"6", "6"}, {"7", "7"}, {"8", "8"}, {"9", "9"}, {"10", "10"}, {">10", "More than 10"},
	}
	numberOfGuardiansChoices = []Choice{
		{"1", "1"}, {"2", "2"}, {"3", "3"}, {"varies", "Another number, or explain below"},
	}
	raceEthnicityChoices = []Choice{
		{"white", "White"},
		{"hisp", "Hispanic, Latino, or Spanish origin"},
		{"black", "Black or African American"},
		{"asian", "Asian"},
		{"native", "American Indian or Alaska Native"},
		{"mideast-naf", "Middle Eastern or North African"},
		{"hawaiian-pac-isl", "Native Hawaiian or Other Pacific Islander"},
		{"other", "Another race, ethnicity, or origin"},
	}
	parentAgeChoices = []Choice{
		{"<18", "under 18"}, {"18-21", "18-21"}, {"22-24", "22-24"}, {"25-29", "25-29"},
		{"30-34", "30-34"}, {"35-39", "35-39"}, {"40-44", "40-44"}, {"45-49", "45-49"},
		{"50s", "50-59"}, {"60s", "60-69"}, {">70", "70 or over"},
	}
	educationChoices = []Choice{
		{"some", "some or attending high school"},
		{"hs", "high school diploma or GED"},
		{"col", "some or attending college"},
		{"assoc", "2-year college degree"},
		{"bach", "4-year college degree"},
		{"grad", "some or attending graduate or professional school"},
		{"prof", "graduate or professional degree"},
	}
	// 0, 5000, 10000, 15000, 20000, then 30000…190000 in steps of 10000 (there is no 25000 and no
	// 200000), ">200000" and "na".
	incomeChoices = func() []Choice {
		var cs []Choice
		for _, v := range []int{0, 5000, 10000, 15000} {
			cs = append(cs, Choice{fmt.Sprint(v), fmt.Sprint(v)})
		}
		for v := 20000; v <= 190000; v += 10000 {
			cs = append(cs, Choice{fmt.Sprint(v), fmt.Sprint(v)})
		}
		return append(cs, Choice{">200000", "over 200000"}, Choice{"na", "prefer not to answer"})
	}()
	densityChoices = []Choice{{"urban", "urban"}, {"suburban", "suburban"}, {"rural", "rural"}}
)

// DemographicChoices returns the allowed values of a demographic choice field, named by its JSON
// name (number_of_children, number_of_guardians, us_race_ethnicity_identification, age, gender,
// education_level, annual_income, state, density), or nil for any other name. Countries are
// CountryCodes.
func DemographicChoices(field string) []Choice {
	var cs []Choice
	switch field {
	case "number_of_children":
		cs = numberOfChildrenChoices
	case "number_of_guardians":
		cs = numberOfGuardiansChoices
	case "us_race_ethnicity_identification":
		cs = raceEthnicityChoices
	case "age":
		cs = parentAgeChoices
	case "gender":
		cs = genderChoices
	case "education_level":
		cs = educationChoices
	case "annual_income":
		cs = incomeChoices
	case "state":
		cs = stateChoices
	case "density":
		cs = densityChoices
	default:
		return nil
	}
	return slices.Clone(cs)
}

// Demographics is one version of a family's demographic data: a row of demographic_data (Lookit's
// DemographicData) minus user_id, previous_id and id. Every save creates a new version.
type Demographics struct {
	UUID                                  string
	NumberOfChildren                      string
	ChildBirthdays                        []Date
	NumberOfGuardians                     string
	NumberOfGuardiansExplanation          string   // Lookit's guardians_explanation
	USRaceEthnicityIdentification         []string // text[]: codes of raceEthnicityChoices, in that order
	USRaceEthnicityIdentificationDescribe string
	Age                                   string
	Gender                                string
	GenderSelfDescribe                    string
	EducationLevel                        string
	AnnualIncome                          string
	Country                               string // ISO 3166-1 alpha-2, or ""
	State                                 string // USPS code when Country is US, or ""
	Density                               string
	LookitReferrer                        string
	AdditionalComments                    string
	Extra                                 json.RawMessage // jsonb: always a JSON object, "{}" when none
	CreatedAt                             time.Time
}

// DemographicsInput is what a family submits on the demographic survey. JSON names are the
// demographic_data column names.
type DemographicsInput struct {
	NumberOfChildren                      string          `json:"number_of_children"`
	ChildBirthdays                        []string        `json:"child_birthdays"` // YYYY-MM-DD each
	NumberOfGuardians                     string          `json:"number_of_guardians"`
	NumberOfGuardiansExplanation          string          `json:"number_of_guardians_explanation"`
	USRaceEthnicityIdentification         []string        `json:"us_race_ethnicity_identification"`
	USRaceEthnicityIdentificationDescribe string          `json:"us_race_ethnicity_identification_describe"`
	Age                                   string          `json:"age"`
	Gender                                string          `json:"gender"`
	GenderSelfDescribe                    string          `json:"gender_self_describe"`
	EducationLevel                        string          `json:"education_level"`
	AnnualIncome                          string          `json:"annual_income"`
	Country                               string          `json:"country"`
	State                                 string          `json:"state"`
	Density                               string          `json:"density"`
	LookitReferrer                        string          `json:"lookit_referrer"`
	AdditionalComments                    string          `json:"additional_comments"`
	Extra                                 json.RawMessage `json:"extra"` // a JSON object of at most MaxExtraBytes, or null
}

// Validate checks the input as of the date today and returns nil or an *apperr.Error naming the
// first bad field. Every field is optional ("" or an empty list is no answer):
//
//   - single-choice fields must be "" or one of DemographicChoices(field);
//   - /child_birthdays/<i>: a real YYYY-MM-DD date, not after today, not more than 120 years ago;
//   - /us_race_ethnicity_identification/<i>: one of the race and ethnicity codes;
//   - /country: an ISO 3166-1 alpha-2 code in upper case;
//   - /state: a USPS code, and only when country is US;
//   - free-text fields: at most MaxTextRunes, no control characters other than tab and line breaks;
//   - lists: at most MaxListEntries entries;
//   - /extra: absent, null or a JSON object of at most MaxExtraBytes bytes.
func (in DemographicsInput) Validate(today Date) error {
	if e := in.validate(today); e != nil {
		return e
	}
	return nil
}

func (in DemographicsInput) validate(today Date) *apperr.Error {
	choice := func(field, v string, allowed []Choice) *apperr.Error {
		if !oneOf(v, allowed) {
			return apperr.Field("/"+field, "%s is not one of the allowed values", field)
		}
		return nil
	}
	text := func(field, v string) *apperr.Error {
		return CheckText("/"+field, field, clean(v), MaxTextRunes, true)
	}

	if e := choice("number_of_children", in.NumberOfChildren, numberOfChildrenChoices); e != nil {
		return e
	}
	if len(in.ChildBirthdays) > MaxListEntries {
		return apperr.Field("/child_birthdays", "child_birthdays must have at most %d entries", MaxListEntries)
	}
	for i, b := range in.ChildBirthdays {
		if e := checkBirthday(fmt.Sprintf("/child_birthdays/%d", i), "each of child_birthdays", b, today, true); e != nil {
			return e
		}
	}
	if e := choice("number_of_guardians", in.NumberOfGuardians, numberOfGuardiansChoices); e != nil {
		return e
	}
	if e := text("number_of_guardians_explanation", in.NumberOfGuardiansExplanation); e != nil {
		return e
	}
	if len(in.USRaceEthnicityIdentification) > MaxListEntries {
		return apperr.Field("/us_race_ethnicity_identification",
			"us_race_ethnicity_identification must have at most %d entries", MaxListEntries)
	}
	for i, r := range in.USRaceEthnicityIdentification {
		if r == "" || !oneOf(r, raceEthnicityChoices) {
			return apperr.Field(fmt.Sprintf("/us_race_ethnicity_identification/%d", i),
				"unknown race or ethnicity code %q", truncate(r))
		}
	}
	if e := text("us_race_ethnicity_identification_describe", in.USRaceEthnicityIdentificationDescribe); e != nil {
		return e
	}
	if e := choice("age", in.Age, parentAgeChoices); e != nil {
		return e
	}
	if e := choice("gender", in.Gender, genderChoices); e != nil {
		return e
	}
	if e := text("gender_self_describe", in.GenderSelfDescribe); e != nil {
		return e
	}
	if e := choice("education_level", in.EducationLevel, educationChoices); e != nil {
		return e
	}
	if e := choice("annual_income", in.AnnualIncome, incomeChoices); e != nil {
		return e
	}
	if in.Country != "" && !ValidCountry(in.Country) {
		return apperr.Field("/country", "country must be an ISO 3166-1 alpha-2 code such as US")
	}
	if in.State != "" {
		if !ValidState(in.State) {
			return apperr.Field("/state", "state must be a US state or territory code such as MA")
		}
		if in.Country != CountryUS {
			return apperr.Field("/state", "state may only be given when country is US")
		}
	}
	if e := choice("density", in.Density, densityChoices); e != nil {
		return e
	}
	if e := text("lookit_referrer", in.LookitReferrer); e != nil {
		return e
	}
	if e := text("additional_comments", in.AdditionalComments); e != nil {
		return e
	}
	return checkExtra(in.Extra)
}

// maxExtraDepth bounds the nesting of extra, which PostgreSQL parses recursively.
const maxExtraDepth = 32

// checkExtra accepts nothing, null, or a JSON object that jsonb can store as sent (jsonb.Check:
// valid UTF-8, no NUL, no unpaired surrogate escape) nested at most maxExtraDepth deep.
func checkExtra(raw json.RawMessage) *apperr.Error {
	if len(raw) > MaxExtraBytes {
		return apperr.Field("/extra", "extra must be at most %d bytes", MaxExtraBytes)
	}
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	var obj map[string]any
	if v[0] != '{' || !utf8.Valid(v) || json.Unmarshal(v, &obj) != nil {
		return apperr.Field("/extra", "extra must be a JSON object")
	}
	if err := jsonb.Check(v); err != nil {
		return apperr.Field("/extra", "extra: %v", err)
	}
	if nestedDeeper(obj, 1) {
		return apperr.Field("/extra", "extra must not be nested more than %d deep", maxExtraDepth)
	}
	return nil
}

func nestedDeeper(v any, depth int) bool {
	if depth > maxExtraDepth {
		return true
	}
	switch v := v.(type) {
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { return nestedDeeper(e, depth+1) })
	case map[string]any:
		for _, e := range v {
			if nestedDeeper(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// Demographics validates the input and returns the demographic version it describes (UUID and
// CreatedAt empty: the database assigns them). Text fields are trimmed; race and ethnicity codes
// are de-duplicated and put in Lookit's choice order; an absent or null extra becomes {}.
func (in DemographicsInput) Demographics(today Date) (Demographics, error) {
	if e := in.validate(today); e != nil {
		return Demographics{}, e
	}
	birthdays := make([]Date, len(in.ChildBirthdays))
	for i, b := range in.ChildBirthdays {
		birthdays[i], _ = ParseDate(b)
	}
	race := []string{}
	for _, c := range raceEthnicityChoices {
		if slices.Contains(in.USRaceEthnicityIdentification, c.Value) {
			race = append(race, c.Value)
		}
	}
	extra := json.RawMessage(`{}`)
	if v := bytes.TrimSpace(in.Extra); len(v) > 0 && string(v) != "null" {
		extra = slices.Clone(json.RawMessage(v))
	}
	return Demographics{
		NumberOfChildren:                      in.NumberOfChildren,
		ChildBirthdays:                        birthdays,
		NumberOfGuardians:                     in.NumberOfGuardians,
		NumberOfGuardiansExplanation:          clean(in.NumberOfGuardiansExplanation),
		USRaceEthnicityIdentification:         race,
		USRaceEthnicityIdentificationDescribe: clean(in.USRaceEthnicityIdentificationDescribe),
		Age:                                   in.Age,
		Gender:                                in.Gender,
		GenderSelfDescribe:                    clean(in.GenderSelfDescribe),
		EducationLevel:                        in.EducationLevel,
		AnnualIncome:                          in.AnnualIncome,
		Country:                               in.Country,
		State:                                 in.State,
		Density:                               in.Density,
		LookitReferrer:                        clean(in.LookitReferrer),
		AdditionalComments:                    clean(in.AdditionalComments),
		Extra:                                 extra,
	}, nil
}
