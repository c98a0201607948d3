package httpapi

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/studies"
)

// JsPsychStatic is where jsPsych study pages load jsPsych, its plugins and the data client from
// (frontend/jspsych's dist/: the dev server serves it, Cloud CDN in production).
const JsPsychStatic = "/static/jspsych/"

// jsPsychTemplate is a jsPsych study's page. The study's own code runs as a module after jsPsych
// and the data client; lookit-config tells the client which response to save to.
var jsPsychTemplate = template.Must(template.New("jspsych").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}}</title>
<link rel="stylesheet" href="{{.Static}}jspsych.css">
<script src="{{.Static}}jspsych.js"></script>
<script id="lookit-config" type="application/json">{{.Config}}</script>
<script src="{{.Static}}lookit-data.js"></script>
</head>
<body>
<script type="module">
{{.Experiment}}
</script>
</body>
</html>
`))

// jsPsychConfig is what the data client reads.
type jsPsychConfig struct {
	Response string `json:"response"`
	Study    string `json:"study"`
	Child    string `json:"child"`
	API      string `json:"api"`
	ExitURL  string `json:"exitURL"`
	Preview  bool   `json:"preview"`
}

// jsPsych creates the response for this visit, as Lookit does, and serves the study's page. A
// reload is a new visit with a new response; the old one keeps whatever it saved.
func (s *pageServer) jsPsych(w http.ResponseWriter, r *http.Request, p *Principal, preview bool) error {
	ctx := r.Context()
	st, child, err := s.ownChild(ctx, p, r.PathValue("child"))
	if err != nil {
		return err
	}
	study, err := st.JsPsychStudy(ctx, r.PathValue("study"))
	if err != nil {
		return err
	}
	if err := mayOpen(p.Subject, preview, study.ID, study.LabID, study.SharedPreview, study.State); err != nil {
		return err
	}
	switch studies.TypeOf(study.StudyTypeID) {
	case studies.JSPsych:
	case studies.Frameplayer:
		target := "/studies/" + study.Uuid + "/" + child.Uuid + "/"
		if preview {
			target = "/exp/studies/" + study.Uuid + "/" + child.Uuid + "/preview/"
		}
		http.Redirect(w, r, target, http.StatusFound)
		return nil
	default:
		return apperr.New(apperr.NotFound, "This study does not run in jsPsych.")
	}
	method := "jspsych"
	created, mails, err := st.CreateResponse(ctx, postgres.NewResponse{FamilyID: p.Subject.UserID, StudyID: study.ID,
		ChildUUID: child.Uuid, Preview: preview, RecordingMethod: &method})
	if err != nil {
		return err
	}
	publishMail(ctx, s.in, mails)
	s.extendSession(r, p)
	exit, err := s.exitURL(study.ExitUrl, study.Uuid, study.Salt, int(study.HashDigits), child.Uuid, created.UUID)
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := jsPsychTemplate.Execute(&page, map[string]any{
		"Name":   study.Name,
		"Static": JsPsychStatic,
		"Config": jsPsychConfig{Response: created.UUID, Study: study.Uuid, Child: child.Uuid, API: "/api/v2/",
			ExitURL: exit, Preview: preview},
		"Experiment": inlineScript(study.Experiment),
	}); err != nil {
		return err
	}
	s.writePage(w, p, page.Bytes())
	return nil
}

// extendSession stretches a participating family's session to four days, as Lookit does, so a
// long session does not end in a lost save. The response is stored already: a failure here is
// logged, not the visit's failure.
func (s *pageServer) extendSession(r *http.Request, p *Principal) {
	if p.Session == nil {
		return
	}
	ctx := r.Context()
	pool, err := s.in.DB(ctx)
	if err == nil {
		err = (&postgres.Auth{Pool: pool}).Extend(ctx, *p.Session, postgres.ParticipationTTL)
	}
	if err != nil {
		logging.Error(ctx, s.in.Log, "could not extend the participating family's session", err)
	}
}

// exitURL is where the family goes at the end: the study's exit URL (the platform's home when it
// has none) with the hashed child id and the response, as the frameplayer adds them.
func (s *pageServer) exitURL(exit, studyUUID, salt string, digits int, childUUID, responseUUID string) (string, error) {
	if exit == "" {
		exit = strings.TrimRight(s.in.Config.BaseURL.String(), "/") + "/"
	}
	u, err := url.Parse(exit)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "the study's exit URL is not a URL")
	}
	ids := make([]uuid.UUID, 3)
	for i, v := range []string{childUUID, studyUUID, salt} {
		if ids[i], err = uuid.Parse(v); err != nil {
			return "", err
		}
	}
	q := u.Query()
	q.Set("child", hashedid.Of(ids[0], ids[1], ids[2], digits))
	q.Set("response", responseUUID)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

var (
	scriptClose   = regexp.MustCompile(`(?i)</(script)`)
	commentOpener = regexp.MustCompile(`<!--`)
)

// inlineScript makes a study's code safe to place inside a script element: the only sequences
// that could end the element early or change how the browser parses it, "</script" and "<!--",
// are written in equivalent escaped forms. Researchers' code is trusted, as in Lookit; this
// keeps a string such as "</script>" in it from breaking the page.
func inlineScript(code string) template.JS {
	code = scriptClose.ReplaceAllString(code, `<\/$1`)
	code = commentOpener.ReplaceAllString(code, `<\!--`)
	return template.JS(code)
}
