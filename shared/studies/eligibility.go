package studies

import (
	"slices"

	"lookit.dev/platform/shared/eligibility"
)

// Lookit's eligibility values, stored on each response when it is created.
const (
	Eligible           = "Eligible"
	IneligibleTooYoung = "Ineligible_TooYoung"
	IneligibleTooOld   = "Ineligible_TooOld"
	IneligibleCriteria = "Ineligible_CriteriaExpression"
	IneligibleHistory  = "Ineligible_Participation"
)

// Rules are a study's eligibility rules.
type Rules struct {
	MinDays, MaxDays int
	Criteria         *eligibility.Expr // nil: no expression
	MustHave         []int64           // studies the child must have taken part in, every one
	MustNot          []int64           // studies the child must not have taken part in
}

// Decide returns Lookit's eligibility of a child for a study: [Eligible] or the sorted list of
// reasons it is not. participated says whether the child took part in a study (see
// Participated). shared/postgres's study_eligibility is the same decision in SQL.
func Decide(r Rules, c eligibility.Child, participated func(studyID int64) bool) []string {
	var out []string
	switch age := eligibility.AgeCheck(c.AgeDays, r.MinDays, r.MaxDays); {
	case age < 0:
		out = append(out, IneligibleTooYoung)
	case age > 0:
		out = append(out, IneligibleTooOld)
	}
	if !r.Criteria.Eval(c) {
		out = append(out, IneligibleCriteria)
	}
	history := true
	for _, id := range r.MustHave {
		history = history && participated(id)
	}
	for _, id := range r.MustNot {
		history = history && !participated(id)
	}
	if !history {
		out = append(out, IneligibleHistory)
	}
	if len(out) == 0 {
		return []string{Eligible}
	}
	slices.Sort(out)
	return out
}

// Participated reports whether a response means the child took part in its study, for the
// prior-participation rules: a response to an external study counts as soon as it exists (the
// family clicked through); one to a study run here once a frame was reached (non-empty sequence).
// Preview responses count, as in Lookit.
func Participated(t Type, sequenceLen int) bool {
	return t == External || sequenceLen > 0
}
