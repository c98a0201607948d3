package mail

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"strings"
)

// htmlLayout is the HTML part of every email: the text part's paragraphs, its links made
// clickable, in a plain readable layout. html/template escapes the text and refuses any link
// that is not http(s).
var htmlLayout = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:24px;background:#f6f6f6;font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#222">
<div style="max-width:600px;margin:0 auto;background:#fff;padding:24px;border-radius:4px">
{{range .Paragraphs}}<p style="margin:0 0 16px">{{range $i, $line := .}}{{if $i}}<br>{{end}}{{range $line}}{{if .Href}}<a href="{{.Href}}" style="color:#0b5cad">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}{{end}}</p>
{{end}}</div>
</body></html>
`))

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)\]]`)

type htmlSegment struct{ Text, Href string }

// HTMLPart renders an email's HTML part from its text part, so every email goes out with both
// and they always say the same.
func HTMLPart(subject, text string) (string, error) {
	var paragraphs [][][]htmlSegment
	for _, para := range strings.Split(strings.ReplaceAll(strings.TrimSpace(text), "\r\n", "\n"), "\n\n") {
		var lines [][]htmlSegment
		for _, line := range strings.Split(para, "\n") {
			var segs []htmlSegment
			rest := line
			for {
				loc := linkRE.FindStringIndex(rest)
				if loc == nil {
					if rest != "" {
						segs = append(segs, htmlSegment{Text: rest})
					}
					break
				}
				if loc[0] > 0 {
					segs = append(segs, htmlSegment{Text: rest[:loc[0]]})
				}
				segs = append(segs, htmlSegment{Text: rest[loc[0]:loc[1]], Href: rest[loc[0]:loc[1]]})
				rest = rest[loc[1]:]
			}
			lines = append(lines, segs)
		}
		paragraphs = append(paragraphs, lines)
	}
	var b bytes.Buffer
	if err := htmlLayout.Execute(&b, map[string]any{"Subject": subject, "Paragraphs": paragraphs}); err != nil {
		return "", fmt.Errorf("mail: html part: %w", err)
	}
	return b.String(), nil
}
