package accounts_test

import (
	"encoding/json"
	"testing"

	"lookit.dev/platform/shared/accounts"
)

func TestEmailPreferencesAllows(t *testing.T) {
	flags := map[accounts.Kind]func(*accounts.EmailPreferences){
		accounts.KindNextSession:       func(p *accounts.EmailPreferences) { p.NextSession = false },
		accounts.KindNewStudies:        func(p *accounts.EmailPreferences) { p.NewStudies = false },
		accounts.KindStudyUpdates:      func(p *accounts.EmailPreferences) { p.StudyUpdates = false },
		accounts.KindResponseQuestions: func(p *accounts.EmailPreferences) { p.ResponseQuestions = false },
	}
	if len(accounts.OptOutKinds()) != len(flags) {
		t.Fatalf("OptOutKinds = %v", accounts.OptOutKinds())
	}
	for _, kind := range accounts.OptOutKinds() {
		p := accounts.DefaultEmailPreferences()
		if !p.Allows(kind) {
			t.Errorf("default preferences refuse %s", kind)
		}
		flags[kind](&p)
		for _, other := range accounts.OptOutKinds() {
			if got, want := p.Allows(other), other != kind; got != want {
				t.Errorf("opting out of %s: Allows(%s) = %v", kind, other, got)
			}
		}
		if !p.Allows(accounts.KindTransactional) {
			t.Errorf("opting out of %s stopped transactional mail", kind)
		}
	}

	none := accounts.NoEmail()
	for _, kind := range accounts.OptOutKinds() {
		if none.Allows(kind) {
			t.Errorf("NoEmail allows %s", kind)
		}
	}
	if !none.Allows(accounts.KindTransactional) {
		t.Error("NoEmail refuses transactional mail")
	}
	if accounts.DefaultEmailPreferences().Allows("marketing") {
		t.Error("an unknown kind is allowed")
	}
}

func TestKindFlagsAndParsing(t *testing.T) {
	want := map[accounts.Kind]string{
		accounts.KindNextSession:       "email_next_session",
		accounts.KindNewStudies:        "email_new_studies",
		accounts.KindStudyUpdates:      "email_study_updates",
		accounts.KindResponseQuestions: "email_response_questions",
		accounts.KindTransactional:     "",
	}
	for kind, flag := range want {
		if kind.Flag() != flag {
			t.Errorf("%s.Flag() = %q, want %q", kind, kind.Flag(), flag)
		}
		if k, ok := accounts.ParseKind(string(kind)); !ok || k != kind {
			t.Errorf("ParseKind(%q) = %q, %v", kind, k, ok)
		}
	}
	if _, ok := accounts.ParseKind("email_new_studies"); ok {
		t.Error("ParseKind accepted a column name")
	}

	// The JSON names are the users columns.
	b, err := json.Marshal(accounts.EmailPreferences{NewStudies: true})
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"email_next_session":false,"email_new_studies":true,"email_study_updates":false,"email_response_questions":false}`
	if string(b) != body {
		t.Errorf("JSON = %s", b)
	}
}
