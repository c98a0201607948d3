package accounts

import (
	"fmt"
	"slices"

	"lookit.dev/platform/shared/apperr"
)

// A child's gender, Lookit's Child.gender (required; "o" is labelled "open response" and goes with
// GenderSelfDescribe).
const (
	GenderMale        = "m"
	GenderFemale      = "f"
	GenderOther       = "o"
	GenderNotAnswered = "na"
)

const (
	maxChildAgeInYears  = 120
	noGestationalAnswer = "Not sure or prefer not to answer"
)

var genderChoices = []Choice{
	{GenderMale, "male"},
	{GenderFemale, "female"},
	{GenderOther, "open response"},
	{GenderNotAnswered, "prefer not to answer"},
}

// GenderChoices returns the allowed genders of a child (and of a parent in Demographics).
func GenderChoices() []Choice { return slices.Clone(genderChoices) }

// Gestational age at birth is stored as Lookit's enum (studies/fields.py GESTATIONAL_AGE_CHOICES),
// not as a number of weeks: nil is "Not sure or prefer not to answer", 0 is "Under 24 weeks",
// 1…16 are 24…39 weeks (weeks = value + 23) and 17 is "40 or more weeks". Values 18 and above do
// not exist in Lookit and are rejected; in particular 24…40 are NOT week counts. (The comment on
// children.gestational_age_at_birth in migrations/00002_accounts.sql reads the enum as weeks and
// its CHECK allows 0–40; only 0–17 are ever written.)
const (
	GestationalUnder24Weeks int16 = 0  // "Under 24 weeks"
	Gestational40OrMore     int16 = 17 // "40 or more weeks"
)

// ValidGestationalAge reports whether ga is a Lookit gestational-age value (nil included).
func ValidGestationalAge(ga *int16) bool {
	return ga == nil || (*ga >= GestationalUnder24Weeks && *ga <= Gestational40OrMore)
}

// AgeLabel returns Lookit's label for a gestational-age value, as in Child.age_at_birth: "Not sure
// or prefer not to answer" (nil), "Under 24 weeks", "24 weeks" … "39 weeks", "40 or more weeks". It
// returns "" for a value Lookit does not define.
func AgeLabel(ga *int16) string {
	switch {
	case ga == nil:
		return noGestationalAnswer
	case *ga == GestationalUnder24Weeks:
		return "Under 24 weeks"
	case *ga == Gestational40OrMore:
		return "40 or more weeks"
	case *ga > GestationalUnder24Weeks && *ga < Gestational40OrMore:
		return fmt.Sprintf("%d weeks", *ga+23)
	}
	return ""
}

// GestationalWeeks converts a gestational-age value to the week count the eligibility grammar
// compares with (gestational_age_in_weeks): 23 for "under 24 weeks", 24…39, and 40 for "40 or
// more"; ok is false for no answer or an undefined value.
//
// Lookit's _gestational_age_enum_value_to_weeks returns None for 0 as well as for no answer,
// because it tests the value for truthiness, so in Lookit an "under 24 weeks" child compares like
// one whose parent gave no answer (every comparison false, "= na" true). This function does not
// copy that bug; an eligibility evaluator that must be bug-compatible has to special-case 0.
func GestationalWeeks(ga *int16) (weeks int, ok bool) {
	if ga == nil || !ValidGestationalAge(ga) {
		return 0, false
	}
	return int(*ga) + 23, true
}

// GestationalAgeForWeeks returns the stored value for a number of completed weeks: 0 below 24
// weeks, 1…16 for 24…39, 17 for 40 or more.
func GestationalAgeForWeeks(weeks int) int16 {
	switch {
	case weeks < 24:
		return GestationalUnder24Weeks
	case weeks >= 40:
		return Gestational40OrMore
	}
	return int16(weeks - 23)
}

// Child is a row of the children table (Lookit's accounts.Child), minus the owning user and the
// storage bookkeeping (id, user_id, created_at).
type Child struct {
	UUID                  string
	GivenName             string
	Birthday              Date // not editable after creation
	Gender                string
	GenderSelfDescribe    string
	GestationalAge        *int16 // gestational_age_at_birth: Lookit's enum (see AgeLabel); nil = no answer
	AdditionalInformation string
	Conditions            Conditions // existing_conditions bigint
	Languages             Languages  // languages_spoken bigint
	Deleted               bool
}

// AgeAtBirth is Lookit's Child.age_at_birth: the label of the gestational age.
func (c Child) AgeAtBirth() string { return AgeLabel(c.GestationalAge) }

// LanguageList is Lookit's Child.language_list: space-separated codes in bit order.
func (c Child) LanguageList() string { return c.Languages.String() }

// ConditionList is Lookit's Child.condition_list: space-separated codes in bit order.
func (c Child) ConditionList() string { return c.Conditions.String() }

// AgeInDays is Lookit's (today − birthday).days, the age eligibility compares with.
func (c Child) AgeInDays(today Date) int { return today.DaysSince(c.Birthday) }

// ChildInput is what a family submits to create or edit a child, with Lookit's snake_case names.
type ChildInput struct {
	GivenName             string   `json:"given_name"`
	Birthday              string   `json:"birthday"` // YYYY-MM-DD
	Gender                string   `json:"gender"`
	GenderSelfDescribe    string   `json:"gender_self_describe"`
	GestationalAgeAtBirth *int     `json:"gestational_age_at_birth"` // Lookit's enum 0–17; null = no answer
	AdditionalInformation string   `json:"additional_information"`
	ExistingConditions    []string `json:"existing_conditions"`
	LanguagesSpoken       []string `json:"languages_spoken"`
}

// Validate checks the input as of the date today (in the family's time zone, chosen by the caller)
// and returns nil or an *apperr.Error naming the first bad field:
//
//   - /given_name: required, at most MaxNameRunes, no control characters;
//   - /birthday: required, a real YYYY-MM-DD date, not after today, not more than 120 years ago;
//   - /gender: one of m, f, o, na;
//   - /gender_self_describe, /additional_information: at most MaxTextRunes, no control characters
//     other than tab and line breaks;
//   - /gestational_age_at_birth: null or 0–17;
//   - /existing_conditions/<i>, /languages_spoken/<i>: an unknown code (the list itself is named
//     when it has more than MaxListEntries entries).
func (in ChildInput) Validate(today Date) error {
	if e := in.validate(today); e != nil {
		return e
	}
	return nil
}

func (in ChildInput) validate(today Date) *apperr.Error {
	name := clean(in.GivenName)
	if name == "" {
		return apperr.Field("/given_name", "given_name is required")
	}
	if e := CheckText("/given_name", "given_name", name, MaxNameRunes, false); e != nil {
		return e
	}
	if e := checkBirthday("/birthday", "birthday", in.Birthday, today, true); e != nil {
		return e
	}
	switch in.Gender {
	case "":
		return apperr.Field("/gender", "gender is required")
	case GenderMale, GenderFemale, GenderOther, GenderNotAnswered:
	default:
		return apperr.Field("/gender", "gender must be one of m, f, o, na")
	}
	if e := CheckText("/gender_self_describe", "gender_self_describe", clean(in.GenderSelfDescribe), MaxTextRunes, true); e != nil {
		return e
	}
	if ga := in.GestationalAgeAtBirth; ga != nil && (*ga < int(GestationalUnder24Weeks) || *ga > int(Gestational40OrMore)) {
		return apperr.Field("/gestational_age_at_birth",
			"gestational_age_at_birth must be null or 0–17 (0 under 24 weeks, 1–16 for 24–39 weeks, 17 for 40 or more)")
	}
	if e := CheckText("/additional_information", "additional_information", clean(in.AdditionalInformation), MaxTextRunes, true); e != nil {
		return e
	}
	if e := checkCodes("/existing_conditions", "existing_conditions", in.ExistingConditions, func(c []string) error {
		_, err := ParseConditions(c)
		return err
	}); e != nil {
		return e
	}
	return checkCodes("/languages_spoken", "languages_spoken", in.LanguagesSpoken, func(c []string) error {
		_, err := ParseLanguages(c)
		return err
	})
}

// checkBirthday validates a YYYY-MM-DD birthday: a real date, not after today and not more than 120
// years before it.
func checkBirthday(pointer, name, s string, today Date, required bool) *apperr.Error {
	if s == "" {
		if required {
			return apperr.Field(pointer, "%s is required", name)
		}
		return nil
	}
	d, err := ParseDate(s)
	if err != nil {
		return apperr.Field(pointer, "%s must be a real date written YYYY-MM-DD", name)
	}
	if d.After(today) {
		return apperr.Field(pointer, "%s must not be in the future", name)
	}
	if d.Before(Date{Year: today.Year - maxChildAgeInYears, Month: today.Month, Day: today.Day}) {
		return apperr.Field(pointer, "%s must not be more than %d years ago", name, maxChildAgeInYears)
	}
	return nil
}

// Child validates the input and returns the new child it describes (UUID empty: the database
// assigns it). Text fields are trimmed of surrounding white space; condition and language lists
// become bit sets.
func (in ChildInput) Child(today Date) (Child, error) {
	if e := in.validate(today); e != nil {
		return Child{}, e
	}
	birthday, _ := ParseDate(in.Birthday)
	conditions, _ := ParseConditions(in.ExistingConditions)
	languages, _ := ParseLanguages(in.LanguagesSpoken)
	var ga *int16
	if in.GestationalAgeAtBirth != nil {
		v := int16(*in.GestationalAgeAtBirth)
		ga = &v
	}
	return Child{
		GivenName:             clean(in.GivenName),
		Birthday:              birthday,
		Gender:                in.Gender,
		GenderSelfDescribe:    clean(in.GenderSelfDescribe),
		GestationalAge:        ga,
		AdditionalInformation: clean(in.AdditionalInformation),
		Conditions:            conditions,
		Languages:             languages,
	}, nil
}

// Update returns c edited by the input, which replaces every editable field. As in Lookit the
// birthday cannot change: an empty birthday keeps c's, and a different one is an error at
// /birthday. UUID and Deleted are kept.
func (c Child) Update(in ChildInput, today Date) (Child, error) {
	if in.Birthday == "" && c.Birthday.Valid() {
		in.Birthday = c.Birthday.String()
	}
	next, err := in.Child(today)
	if err != nil {
		return Child{}, err
	}
	if next.Birthday != c.Birthday {
		return Child{}, apperr.Field("/birthday", "birthday cannot be changed")
	}
	next.UUID, next.Deleted = c.UUID, c.Deleted
	return next, nil
}
