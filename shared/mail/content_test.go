package mail_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"lookit.dev/platform/shared/mail"
)

func render(t *testing.T, c mail.Content) mail.Rendered {
	t.Helper()
	r, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// hostile is a name a user could type: markup, a header injection attempt, a long run.
const hostile = "<script>alert(1)</script>\r\nBcc: x@example.org " + "&amp;"

// everyKind builds one email of every kind the platform sends.
func everyKind(name, link string) []mail.Content {
	out := []mail.Content{
		mail.VerifyEmail(link), mail.SignUpExisting(link, link), mail.ResetPassword(link), mail.ChangeEmail(link),
		mail.EmailChanged(), mail.PasswordChanged(),
		mail.LabSubmitted(name, name, "creator@example.org", link), mail.LabApproved(name, link),
		mail.LabJoinRequest(name, "joiner@example.org", link), mail.LabRoleChanged(name, "requested", "member", link),
		mail.LabRoleChanged(name, "member", "admin", link), mail.LabRoleChanged(name, "admin", "readonly", link),
		mail.LabRemoved(name), mail.LabJoinDeclined(name),
		mail.StudyModified(name, []string{"name", "structure"}, link), mail.StudyAccess(name, "design", link),
		mail.StudyCapReached(name, 40, link), mail.RunnerBuilt(name, "0123abc"),
		mail.RunnerBuildFailed(name, "0123abc", "FAILURE", link), mail.RunnerBuildFailed(name, "0123abc", "TIMEOUT", ""),
		mail.StudyAnnouncement(name, []string{name, "Ben"}, name, name, link, link),
		mail.ResearcherMessage(name, name+"\n\nSee "+link, name, link),
		mail.ResponseFeedback(name, name, name+"\n\nSee "+link, link),
		mail.ExportReady(name, name, link, "24 hours", 0, link), mail.ExportReady(name, name, link, "30 minutes", 3, ""),
		mail.ExportFailed(name, name, name, link), mail.ExportFailed(name, name, name, ""),
	}
	for _, k := range []string{mail.KindStudySubmitted, mail.KindStudyApproved, mail.KindStudyRescinded, mail.KindStudyRejected,
		mail.KindStudyRetracted, mail.KindStudyActivated, mail.KindStudyPaused, mail.KindStudyDeactivated} {
		out = append(out, mail.StudyNotice(k, name, "active", "admin@example.org", name+"\n\nSee "+link, link))
	}
	return out
}

// Every template file has a constructor and every constructor a template; each renders a valid
// request with both parts, and what users typed cannot break out of either.
func TestEveryKindRendersBothParts(t *testing.T) {
	kinds, err := mail.Kinds()
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://lookit.example.org/exp/studies/1/?a=1&b=2"
	seen := map[string]bool{}
	for _, c := range everyKind(hostile, link) {
		seen[c.Kind] = true
		r := render(t, c)
		req := mail.Request{ID: "0b7e9c2a-5d3f-4e1a-9b8c-1d2e3f4a5b6c", Kind: r.Kind, To: []string{"a@example.org"},
			Subject: r.Subject, Text: r.Text, HTML: r.HTML}
		if err := req.Validate(); err != nil {
			t.Errorf("%s: %v", c.Kind, err)
		}
		for _, part := range []string{r.Subject, r.Text, r.HTML} {
			if strings.Contains(part, "<no value>") || strings.Contains(part, "ZgotmplZ") || strings.Contains(part, "%!") {
				t.Errorf("%s: rendering left a placeholder:\n%s", c.Kind, part)
			}
		}
		if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "<p>") || !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") {
			t.Errorf("%s: HTML part not escaped or not a page:\n%s", c.Kind, r.HTML)
		}
		if strings.Contains(r.Text, "\n\n\n") || !strings.HasSuffix(r.Text, "\n") || strings.HasSuffix(r.Text, "\n\n") {
			t.Errorf("%s: text part spacing: %q", c.Kind, r.Text)
		}
		// A link in the text part is a link in the HTML part.
		if strings.Contains(r.Text, link) && !strings.Contains(r.HTML, `href="https://lookit.example.org/exp/studies/1/?a=1&amp;b=2"`) {
			t.Errorf("%s: HTML part lacks the link:\n%s", c.Kind, r.HTML)
		}
	}
	if want := slices.Sorted(maps.Keys(seen)); !slices.Equal(want, slices.Sorted(slices.Values(kinds))) {
		t.Errorf("constructors cover %v, templates %v", want, slices.Sorted(slices.Values(kinds)))
	}
}

func TestSubjectsFitLongNames(t *testing.T) {
	long := strings.Repeat("é", 400) + "\nx"
	for _, c := range everyKind(long, "https://x.example/") {
		r := render(t, c)
		if n := utf8.RuneCountInString(r.Subject); n > mail.MaxSubject || strings.ContainsAny(r.Subject, "\r\n") {
			t.Errorf("%s: %d-rune subject %q", c.Kind, n, r.Subject)
		}
	}
}

func TestTemplatesSayWhatHappened(t *testing.T) {
	r := render(t, mail.StudyNotice(mail.KindStudyRejected, "Baby Physics", "rejected", "admin@example.org",
		"Please shorten the consent.\nSee https://lookit.example.org/help.", "https://lookit.example.org/exp/studies/9/"))
	if r.Subject != "Baby Physics: Changes requested notification" {
		t.Errorf("subject %q", r.Subject)
	}
	want := "The study \"Baby Physics\" is now rejected.\nChanged by: admin@example.org\n\nComments:\nPlease shorten the consent.\nSee https://lookit.example.org/help.\n\nhttps://lookit.example.org/exp/studies/9/\n"
	if r.Text != want {
		t.Errorf("text:\n%q\nwant\n%q", r.Text, want)
	}
	for _, s := range []string{`Please shorten the consent.<br>See <a href="https://lookit.example.org/help">https://lookit.example.org/help</a>.`,
		`<a href="https://lookit.example.org/exp/studies/9/">`, `<title>Baby Physics: Changes requested notification</title>`} {
		if !strings.Contains(r.HTML, s) {
			t.Errorf("HTML lacks %q:\n%s", s, r.HTML)
		}
	}
	// No comments, no actor: no empty headings.
	r = render(t, mail.StudyNotice(mail.KindStudyPaused, "S", "paused", "", " ", "https://x.example/"))
	if r.Text != "The study \"S\" is now paused.\n\nhttps://x.example/\n" || strings.Contains(r.HTML, "Comments") {
		t.Errorf("%q\n%s", r.Text, r.HTML)
	}
	// Roles read as Lookit's labels; the subject says what changed.
	for _, c := range []struct{ from, to, subject, text string }{
		{"", "member", "You are now part of the L lab", "You are now a member of the lab \"L\" on Lookit."},
		{"member", "admin", "You are now an admin of the L lab", "You are now an admin of the lab \"L\" on Lookit."},
		{"admin", "readonly", "Your lab member permissions for L have changed", "You are now a view-only member of the lab \"L\" on Lookit."},
	} {
		r := render(t, mail.LabRoleChanged("L", c.from, c.to, "https://x.example/"))
		if r.Subject != c.subject || !strings.HasPrefix(r.Text, c.text) {
			t.Errorf("%s→%s: %q %q", c.from, c.to, r.Subject, r.Text)
		}
	}
	r = render(t, mail.RunnerBuildFailed("S", "abc", "TIMEOUT", ""))
	if !strings.Contains(r.Text, "(commit abc, TIMEOUT)") || !strings.Contains(r.Text, "The build log is in Cloud Build.") {
		t.Errorf("%q", r.Text)
	}
}

func TestHTMLRefusesNonHTTPLinks(t *testing.T) {
	r := render(t, mail.VerifyEmail("javascript:alert(1)"))
	if strings.Contains(r.HTML, `href="javascript`) {
		t.Errorf("%s", r.HTML)
	}
	r = render(t, mail.StudyNotice(mail.KindStudyRejected, "S", "rejected", "", "javascript:alert(1) <b>x</b>", "https://x.example/"))
	if strings.Contains(r.HTML, "<b>") || strings.Contains(r.HTML, `href="javascript`) {
		t.Errorf("%s", r.HTML)
	}
}
