package mail_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"lookit.dev/platform/shared/mail"
)

func TestStudyAnnouncementNamesTheChildrenAndTheStudy(t *testing.T) {
	const link = "https://lookit.example/studies/6f1c0b9e-3a52-4c1d-9a8e-0d3f2b7c4e11/"
	const prefs = "https://lookit.example/account/email/"
	cases := []struct {
		parent   string
		children []string
		subject  string
		greeting string
	}{
		{"Sam", []string{"Ada"}, `Ada is invited to take part in "Baby Physics" on Lookit (Children Helping Science)!`, "Dear Sam,"},
		{"", []string{"Ada", "Ben"}, `Ada and Ben are invited to take part in "Baby Physics" on Lookit (Children Helping Science)!`, "Hello,"},
		{" ", []string{"Ada", "Ben", "Cy"}, `Ada, Ben and Cy are invited to take part in "Baby Physics" on Lookit (Children Helping Science)!`, "Hello,"},
		{"Sam", []string{" "}, `Your child is invited to take part in "Baby Physics" on Lookit (Children Helping Science)!`, "Dear Sam,"},
		{"Sam", []string{"Ada\nBcc: x"}, `Ada Bcc: x is invited to take part in "Baby Physics" on Lookit (Children Helping Science)!`, "Dear Sam,"},
	}
	for _, c := range cases {
		m := render(t, mail.StudyAnnouncement(c.parent, c.children, "Baby Physics", "Do babies know that objects fall?", link, prefs))
		if m.Kind != mail.KindStudyAnnouncement || m.Subject != c.subject {
			t.Errorf("%v: %q %q", c.children, m.Kind, m.Subject)
		}
		for _, want := range []string{c.greeting + "\n", "Baby Physics\n", "Do babies know that objects fall?\n", link + "\n", prefs + "\n"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%v: body lacks %q:\n%s", c.children, want, m.Text)
			}
		}
		r := mail.Request{ID: "0b7e9c2a-5d3f-4e1a-9b8c-1d2e3f4a5b6c", Kind: m.Kind, To: []string{"p@example.org"}, Subject: m.Subject, Text: m.Text}
		if err := r.Validate(); err != nil {
			t.Errorf("%v: %v", c.children, err)
		}
	}
}

func TestStudyAnnouncementSubjectFitsLongNames(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, children := range [][]string{{"Ada"}, {long}, {"Ada", long}, {"Ada", "Ben"}} {
		m := render(t, mail.StudyAnnouncement("", children, long+"\nname", "", "https://x.example/s/", "https://x.example/p/"))
		if n := utf8.RuneCountInString(m.Subject); n > mail.MaxSubject || strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("%d-rune subject: %q", n, m.Subject)
		}
		if !strings.HasSuffix(m.Subject, `…" on Lookit (Children Helping Science)!`) {
			t.Errorf("study name not shortened: %q", m.Subject)
		}
	}
	m := render(t, mail.StudyAnnouncement("", []string{"Ada", long}, "Short", "", "https://x.example/s/", "https://x.example/p/"))
	if !strings.HasPrefix(m.Subject, "Your children are invited") {
		t.Errorf("long names kept: %q", m.Subject)
	}
	// The study name is shortened only as far as needed.
	m = render(t, mail.StudyAnnouncement("", []string{"Ada"}, strings.Repeat("x", 300), "", "https://x.example/s/", "https://x.example/p/"))
	if utf8.RuneCountInString(m.Subject) != mail.MaxSubject {
		t.Errorf("subject %d runes, want %d", utf8.RuneCountInString(m.Subject), mail.MaxSubject)
	}
}
