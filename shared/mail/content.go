package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"
	texttemplate "text/template"
	"unicode/utf8"
)

// Every kind of email is one file in templates/, named after the kind, that defines three
// templates side by side so the parts cannot drift apart: "subject" and "text" (text/template)
// and "html" (html/template, placed inside layout.tmpl's page). shared.tmpl holds pieces several
// kinds use.
//
//go:embed templates/*.tmpl
var templateFiles embed.FS

// Content is one email of a kind with the values its template needs. It is rendered where it is
// queued, so a template error surfaces as that caller's error.
type Content struct {
	Kind string
	data any
}

// Rendered is an email's subject and both parts.
type Rendered struct {
	Kind    string
	Subject string
	Text    string
	HTML    string
}

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates parses every kind once per instance, on first use, not at start-up.
var templates = sync.OnceValues(func() (map[string]kindTemplates, error) {
	shared, err := fs.ReadFile(templateFiles, "templates/shared.tmpl")
	if err != nil {
		return nil, err
	}
	layout, err := fs.ReadFile(templateFiles, "templates/layout.tmpl")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFiles, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	out := map[string]kindTemplates{}
	for _, f := range files {
		kind := strings.TrimSuffix(path.Base(f), ".tmpl")
		if kind == "shared" || kind == "layout" {
			continue
		}
		src, err := fs.ReadFile(templateFiles, f)
		if err != nil {
			return nil, err
		}
		t, err := texttemplate.New(kind).Funcs(textFuncs).Parse(string(shared))
		if err == nil {
			_, err = t.Parse(string(src))
		}
		if err != nil {
			return nil, fmt.Errorf("mail: template %s (text): %w", kind, err)
		}
		h, err := htmltemplate.New(kind).Funcs(htmlFuncs).Parse(string(layout))
		if err == nil {
			_, err = h.Parse(string(shared))
		}
		if err == nil {
			_, err = h.Parse(string(src))
		}
		if err != nil {
			return nil, fmt.Errorf("mail: template %s (html): %w", kind, err)
		}
		for _, name := range []string{"subject", "text"} {
			if t.Lookup(name) == nil {
				return nil, fmt.Errorf("mail: template %s lacks %q", kind, name)
			}
		}
		if h.Lookup("html") == nil {
			return nil, fmt.Errorf("mail: template %s lacks \"html\"", kind)
		}
		out[kind] = kindTemplates{t, h}
	}
	return out, nil
})

// Kinds lists every kind of email that has templates.
func Kinds() ([]string, error) {
	all, err := templates()
	if err != nil {
		return nil, err
	}
	kinds := make([]string, 0, len(all))
	for k := range all {
		kinds = append(kinds, k)
	}
	return kinds, nil
}

var textFuncs = texttemplate.FuncMap{"oneLine": oneLine, "fit": fit, "join": joinNames, "trim": strings.TrimSpace,
	"paragraphs": strings.TrimSpace} // parsed with the html define, never run in text
var htmlFuncs = htmltemplate.FuncMap{"oneLine": oneLine, "fit": fit, "join": joinNames, "trim": strings.TrimSpace, "paragraphs": paragraphs}

var blankLines = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)

// Render writes the email: one-line subject of at most MaxSubject characters, the text part with
// at most one blank line between paragraphs, and the HTML part.
func (c Content) Render() (Rendered, error) {
	all, err := templates()
	if err != nil {
		return Rendered{}, err
	}
	k, ok := all[c.Kind]
	if !ok {
		return Rendered{}, fmt.Errorf("mail: no template for kind %q", c.Kind)
	}
	var subject, text, html bytes.Buffer
	if err := k.text.ExecuteTemplate(&subject, "subject", c.data); err != nil {
		return Rendered{}, fmt.Errorf("mail: %s subject: %w", c.Kind, err)
	}
	if err := k.text.ExecuteTemplate(&text, "text", c.data); err != nil {
		return Rendered{}, fmt.Errorf("mail: %s text: %w", c.Kind, err)
	}
	r := Rendered{Kind: c.Kind, Subject: fit(MaxSubject, subject.String())}
	r.Text = strings.TrimSpace(blankLines.ReplaceAllString(text.String(), "\n\n")) + "\n"
	if err := k.html.ExecuteTemplate(&html, "layout", map[string]any{"Subject": r.Subject, "Data": c.data}); err != nil {
		return Rendered{}, fmt.Errorf("mail: %s html: %w", c.Kind, err)
	}
	r.HTML = html.String()
	return r, nil
}

// fit makes a name someone typed one line of at most n characters, cut with an ellipsis.
func fit(n int, s string) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

// oneLine collapses whitespace (newlines included) in a name someone typed.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// joinNames is "A", "A and B", "A, B and C".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)\]]`)

// paragraphs renders free text someone wrote (comments, a study's description, a message to
// families) as HTML paragraphs: escaped, line breaks kept, http(s) links made clickable.
func paragraphs(s string) htmltemplate.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			rest := line
			for {
				loc := linkRE.FindStringIndex(rest)
				if loc == nil {
					b.WriteString(htmltemplate.HTMLEscapeString(rest))
					break
				}
				link := htmltemplate.HTMLEscapeString(rest[loc[0]:loc[1]])
				b.WriteString(htmltemplate.HTMLEscapeString(rest[:loc[0]]))
				b.WriteString(`<a href="` + link + `">` + link + `</a>`)
				rest = rest[loc[1]:]
			}
		}
		b.WriteString("</p>\n")
	}
	return htmltemplate.HTML(b.String()) // every piece above is escaped; links are http(s) only
}

// runeLen is the length of s in characters, as MaxSubject counts.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
