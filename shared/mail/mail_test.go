package mail_test

import (
	"fmt"
	netmail "net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/mail"
)

func valid() mail.Request {
	return mail.Request{
		ID:      "0b7e9c2a-5d3f-4e1a-9b8c-1d2e3f4a5b6c",
		Kind:    "lab_role_changed",
		To:      []string{"parent@example.org", "researcher@lab.example.edu"},
		Subject: "Your role changed",
		Text:    "Hello.",
		HTML:    "<p>Hello.</p>",
	}
}

func TestValidRequests(t *testing.T) {
	many := make([]string, mail.MaxRecipients)
	for i := range many {
		many[i] = fmt.Sprintf("p%d@example.org", i)
	}
	cases := map[string]func(*mail.Request){
		"as is":              func(*mail.Request) {},
		"upper-case uuid":    func(r *mail.Request) { r.ID = strings.ToUpper(r.ID) },
		"no html":            func(r *mail.Request) { r.HTML = "" },
		"64-byte kind":       func(r *mail.Request) { r.Kind = strings.Repeat("k", 64) },
		"1000 recipients":    func(r *mail.Request) { r.To = many },
		"one recipient":      func(r *mail.Request) { r.To = []string{"a@b.example"} },
		"255-rune subject":   func(r *mail.Request) { r.Subject = strings.Repeat("é", mail.MaxSubject) },
		"body at the limit":  func(r *mail.Request) { r.Text = strings.Repeat("x", mail.MaxBody) },
		"html at the limit":  func(r *mail.Request) { r.HTML = strings.Repeat("x", mail.MaxBody) },
		"plus address":       func(r *mail.Request) { r.To = []string{"a+tag@example.org"} },
		"multi-line text ok": func(r *mail.Request) { r.Text = "line 1\r\nline 2\n" },
		"10000 recipients":   func(r *mail.Request) { r.To = manyAddresses(mail.MaxRecipients) },
		"unsubscribe links": func(r *mail.Request) {
			r.ListUnsubscribe = []string{"https://lookit.example/api/unsubscribe/AAA", "http://127.0.0.1:8080/api/unsubscribe/BBB"}
		},
	}
	for name, mutate := range cases {
		r := valid()
		mutate(&r)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
}

func manyAddresses(n int) []string {
	to := make([]string, n)
	for i := range to {
		to[i] = fmt.Sprintf("p%d@example.org", i)
	}
	return to
}

func TestUnsubscribeURLCarriesTheAccountsToken(t *testing.T) {
	key := []byte("a signing key of at least thirty-two bytes")
	id := uuid.New()
	u := mail.UnsubscribeURL("https://lookit.example/", key, id)
	token, ok := strings.CutPrefix(u, "https://lookit.example/api/unsubscribe/")
	if !ok {
		t.Fatalf("UnsubscribeURL = %q", u)
	}
	if got, err := accounts.ParseUnsubscribeToken(key, token); err != nil || got != id {
		t.Fatalf("token of %q: %v %v", u, got, err)
	}
	r := valid()
	r.To = r.To[:1]
	r.ListUnsubscribe = []string{u}
	if err := r.Validate(); err != nil {
		t.Errorf("request with the URL: %v", err)
	}
}

func TestInvalidRequests(t *testing.T) {
	tooMany := make([]string, mail.MaxRecipients+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("p%d@example.org", i)
	}
	cases := []struct {
		name   string
		mutate func(*mail.Request)
		want   string // the start of the error, naming the field
	}{
		{"empty id", func(r *mail.Request) { r.ID = "" }, "id "},
		{"id not a uuid", func(r *mail.Request) { r.ID = "not-a-uuid" }, "id "},
		{"id without dashes", func(r *mail.Request) { r.ID = "0b7e9c2a5d3f4e1a9b8c1d2e3f4a5b6c" }, "id "},
		{"id dash misplaced", func(r *mail.Request) { r.ID = "0b7e9c2-a5d3f-4e1a-9b8c-1d2e3f4a5b6c" }, "id "},
		{"id non-hex", func(r *mail.Request) { r.ID = "0b7e9c2a-5d3f-4e1a-9b8c-1d2e3f4a5b6g" }, "id "},
		{"id with braces", func(r *mail.Request) { r.ID = "{0b7e9c2a-5d3f-4e1a-9b8c-1d2e3f4a5b}" }, "id "},
		{"id multibyte", func(r *mail.Request) { r.ID = "0b7e9c2a-5d3f-4e1a-9b8c-1d2e3f4a5bé" }, "id "},
		{"empty kind", func(r *mail.Request) { r.Kind = "" }, "kind "},
		{"long kind", func(r *mail.Request) { r.Kind = strings.Repeat("k", 65) }, "kind "},
		{"no recipients", func(r *mail.Request) { r.To = nil }, "to "},
		{"1001 recipients", func(r *mail.Request) { r.To = tooMany }, "to "},
		{"display name", func(r *mail.Request) { r.To = []string{"Parent <parent@example.org>"} }, "to[0] "},
		{"angle brackets", func(r *mail.Request) { r.To = []string{"<parent@example.org>"} }, "to[0] "},
		{"second address bad", func(r *mail.Request) { r.To = []string{"a@example.org", "not an address"} }, "to[1] "},
		{"empty address", func(r *mail.Request) { r.To = []string{""} }, "to[0] "},
		{"padded address", func(r *mail.Request) { r.To = []string{" a@example.org"} }, "to[0] "},
		{"two in one", func(r *mail.Request) { r.To = []string{"a@example.org, b@example.org"} }, "to[0] "},
		{"header injection", func(r *mail.Request) { r.To = []string{"a@example.org\r\nBcc: x@evil.example"} }, "to[0] "},
		{"duplicate", func(r *mail.Request) { r.To = []string{"a@example.org", "b@example.org", "a@example.org"} }, "to[2] "},
		{"duplicate by case", func(r *mail.Request) { r.To = []string{"Parent@Example.org", "parent@example.ORG"} }, "to[1] "},
		{"empty subject", func(r *mail.Request) { r.Subject = "" }, "subject "},
		{"blank subject", func(r *mail.Request) { r.Subject = " \t " }, "subject "},
		{"subject with newline", func(r *mail.Request) { r.Subject = "Hi\nBcc: x@evil.example" }, "subject "},
		{"subject with CR", func(r *mail.Request) { r.Subject = "Hi\rthere" }, "subject "},
		{"long subject", func(r *mail.Request) { r.Subject = strings.Repeat("é", mail.MaxSubject+1) }, "subject "},
		{"empty text", func(r *mail.Request) { r.Text = "" }, "text "},
		{"blank text", func(r *mail.Request) { r.Text = "\n\n" }, "text "},
		{"long text", func(r *mail.Request) { r.Text = strings.Repeat("x", mail.MaxBody+1) }, "text "},
		{"long html", func(r *mail.Request) { r.HTML = strings.Repeat("x", mail.MaxBody+1) }, "html "},
		{"10001 recipients", func(r *mail.Request) { r.To = manyAddresses(mail.MaxRecipients + 1) }, "to "},
		{"fewer unsubscribe links", func(r *mail.Request) { r.ListUnsubscribe = []string{"https://x.example/u"} }, "list_unsubscribe "},
		{"unsubscribe mailto", func(r *mail.Request) { r.ListUnsubscribe = []string{"mailto:a@x.example", "https://x.example/u"} }, "list_unsubscribe[0] "},
		{"unsubscribe relative", func(r *mail.Request) { r.ListUnsubscribe = []string{"https://x.example/u", "/api/unsubscribe/x"} }, "list_unsubscribe[1] "},
		{"unsubscribe empty", func(r *mail.Request) { r.ListUnsubscribe = []string{"", "https://x.example/u"} }, "list_unsubscribe[0] "},
		{"unsubscribe bracket", func(r *mail.Request) {
			r.ListUnsubscribe = []string{"https://x.example/u>, <https://evil.example/", "https://x.example/u"}
		}, "list_unsubscribe[0] "},
		{"unsubscribe header injection", func(r *mail.Request) {
			r.ListUnsubscribe = []string{"https://x.example/u\r\nBcc: x@evil.example", "https://x.example/u"}
		}, "list_unsubscribe[0] "},
		{"unsubscribe too long", func(r *mail.Request) {
			r.ListUnsubscribe = []string{"https://x.example/" + strings.Repeat("u", mail.MaxURL), "https://x.example/u"}
		}, "list_unsubscribe[0] "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.mutate(&r)
			err := r.Validate()
			if err == nil {
				t.Fatalf("Validate accepted %+v", r)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Validate = %q, want it to start with %q", err, tc.want)
			}
		})
	}
}

// FuzzRequestValidate checks that Validate never panics and that whatever it accepts is safe to
// hand to the provider: a UUID id, bounded fields, bare distinct addresses and a one-line subject.
func FuzzRequestValidate(f *testing.F) {
	v := valid()
	f.Add(v.ID, v.Kind, strings.Join(v.To, ","), v.Subject, v.Text, v.HTML)
	f.Add("", "", "", "", "", "")
	f.Add(v.ID, "k", "A@x.org,a@X.ORG", "s", "t", "")
	f.Add(v.ID, "k", "Name <a@x.org>", "s\n", " ", "")
	f.Add(v.ID, "k", `"a b"@x.org`, "s", "t", "h")
	f.Add("ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ", "k", "a@[127.0.0.1]", "s", "t", "h")
	f.Add(v.ID, "k", "a@x.org\r\nBcc: b@y.org", "s", "t", "h")
	f.Fuzz(func(t *testing.T, id, kind, to, subject, text, html string) {
		r := mail.Request{ID: id, Kind: kind, Subject: subject, Text: text, HTML: html}
		if to != "" {
			r.To = strings.Split(to, ",")
		}
		if r.Validate() != nil {
			return
		}
		if len(r.ID) != 36 || strings.Count(r.ID, "-") != 4 {
			t.Fatalf("accepted id %q", r.ID)
		}
		if r.Kind == "" || len(r.Kind) > 64 {
			t.Fatalf("accepted kind %q", r.Kind)
		}
		if len(r.To) == 0 || len(r.To) > mail.MaxRecipients {
			t.Fatalf("accepted %d recipients", len(r.To))
		}
		seen := map[string]bool{}
		for _, a := range r.To {
			if strings.ContainsAny(a, "\r\n<>, ") {
				t.Fatalf("accepted address %q", a)
			}
			if p, err := netmail.ParseAddress(a); err != nil || p.Name != "" || p.Address != a {
				t.Fatalf("accepted address %q: %v %v", a, p, err)
			}
			if seen[strings.ToLower(a)] {
				t.Fatalf("accepted duplicate %q", a)
			}
			seen[strings.ToLower(a)] = true
		}
		if strings.TrimSpace(r.Subject) == "" || strings.ContainsAny(r.Subject, "\r\n") || utf8.RuneCountInString(r.Subject) > mail.MaxSubject {
			t.Fatalf("accepted subject %q", r.Subject)
		}
		if strings.TrimSpace(r.Text) == "" || len(r.Text) > mail.MaxBody || len(r.HTML) > mail.MaxBody {
			t.Fatalf("accepted body sizes %d/%d", len(r.Text), len(r.HTML))
		}
	})
}
