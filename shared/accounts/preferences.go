package accounts

// EmailPreferences are Lookit's four per-user email flags (users.email_* columns, all true by
// default). A false flag is an opt-out of that kind of email.
type EmailPreferences struct {
	NextSession       bool `json:"email_next_session"`       // it's time for another session of a study we are in
	NewStudies        bool `json:"email_new_studies"`        // a new study is available for one of my children
	StudyUpdates      bool `json:"email_study_updates"`      // an update about a study we took part in (e.g. results)
	ResponseQuestions bool `json:"email_response_questions"` // a researcher has questions about our responses
}

// DefaultEmailPreferences is every flag on, as for a new account.
func DefaultEmailPreferences() EmailPreferences {
	return EmailPreferences{NextSession: true, NewStudies: true, StudyUpdates: true, ResponseQuestions: true}
}

// NoEmail is every flag off: what Lookit's one-click unsubscribe and its "mark as spam" admin
// action store.
func NoEmail() EmailPreferences { return EmailPreferences{} }

// Kind is a kind of email a family may receive.
type Kind string

const (
	// KindTransactional is mail a family cannot opt out of: account and password mail, and
	// researcher messages sent as Lookit's default "Transactional Message".
	KindTransactional Kind = "transactional"
	// KindNextSession: a reminder that another session of a study is due (email_next_session).
	KindNextSession Kind = "next_session"
	// KindNewStudies: study announcements, the daily "… is invited to take part" mail
	// (email_new_studies; the only flag Lookit's server itself enforces).
	KindNewStudies Kind = "new_studies"
	// KindStudyUpdates: news about a study the family took part in (email_study_updates).
	KindStudyUpdates Kind = "study_updates"
	// KindResponseQuestions: a researcher's questions about a response (email_response_questions).
	KindResponseQuestions Kind = "response_questions"
)

// OptOutKinds returns the kinds a family can opt out of, in Lookit's flag order.
func OptOutKinds() []Kind {
	return []Kind{KindNextSession, KindNewStudies, KindStudyUpdates, KindResponseQuestions}
}

// ParseKind returns the Kind named s, or false when there is none.
func ParseKind(s string) (Kind, bool) {
	switch k := Kind(s); k {
	case KindTransactional, KindNextSession, KindNewStudies, KindStudyUpdates, KindResponseQuestions:
		return k, true
	}
	return "", false
}

// Flag returns the users column that controls the kind ("email_new_studies", …), or "" for
// KindTransactional and unknown kinds.
func (k Kind) Flag() string {
	switch k {
	case KindNextSession:
		return "email_next_session"
	case KindNewStudies:
		return "email_new_studies"
	case KindStudyUpdates:
		return "email_study_updates"
	case KindResponseQuestions:
		return "email_response_questions"
	}
	return ""
}

// Allows reports whether email of the given kind may be sent: always for KindTransactional, the
// kind's flag for the four opt-out kinds, and never for an unknown kind (fail closed).
func (p EmailPreferences) Allows(kind Kind) bool {
	switch kind {
	case KindTransactional:
		return true
	case KindNextSession:
		return p.NextSession
	case KindNewStudies:
		return p.NewStudies
	case KindStudyUpdates:
		return p.StudyUpdates
	case KindResponseQuestions:
		return p.ResponseQuestions
	}
	return false
}
