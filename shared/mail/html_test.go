package mail_test

import (
	"strings"
	"testing"

	"lookit.dev/platform/shared/mail"
)

func TestHTMLPart(t *testing.T) {
	got, err := mail.HTMLPart("Confirm <you>", "Welcome to Lookit!\n\nOpen https://lookit.example.org/verify?t=a&b=c, then log in.\nLine two <b>not bold</b>\n\njavascript:alert(1) stays text")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<title>Confirm &lt;you&gt;</title>`,
		`<p style="margin:0 0 16px">Welcome to Lookit!</p>`,
		`Open <a href="https://lookit.example.org/verify?t=a&amp;b=c" style="color:#0b5cad">https://lookit.example.org/verify?t=a&amp;b=c</a>, then log in.<br>Line two &lt;b&gt;not bold&lt;/b&gt;`,
		`javascript:alert(1) stays text</p>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<b>") || strings.Contains(got, `href="javascript`) {
		t.Errorf("HTML part lets markup through:\n%s", got)
	}
}

// Every kind of email the platform writes renders an HTML part.
func TestEveryContentHasAnHTMLPart(t *testing.T) {
	for _, c := range []mail.Content{
		mail.VerifyEmail("https://x/verify"), mail.ResetPassword("https://x/reset"), mail.RunnerBuilt("S", "abc"),
		mail.RunnerBuildFailed("S", "abc", "FAILURE", "https://log"), mail.LabApproved("L", "https://x/lab"),
	} {
		h, err := mail.HTMLPart(c.Subject, c.Text)
		if err != nil || !strings.Contains(h, "<p") {
			t.Errorf("%s: %v %q", c.Kind, err, h)
		}
	}
}
