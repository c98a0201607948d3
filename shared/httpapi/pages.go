package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/runner"
	"lookit.dev/platform/shared/studies"
	"lookit.dev/platform/shared/web"
)

// The study pages: the pages a family's browser opens to take part, on the same origin as the
// compatibility API the runners call (frameplayer-contract.md §1.1). Errors are HTML pages, and a
// visitor who is not logged in is sent to log in (web.Page).

// PageRoute is one study page route.
type PageRoute struct {
	Method, Path, Name string
}

// pageHandler serves a study page; preview says whether it is the researchers' preview.
type pageHandler func(s *pageServer, w http.ResponseWriter, r *http.Request, p *Principal, preview bool) error

var pageRoutes = []struct {
	PageRoute
	h       pageHandler
	preview bool
}{
	// The runner's own router takes /studies/<study>/<child> and nothing below it; anything
	// below gets the page too and the runner shows its not-found screen, as in Lookit.
	{PageRoute{"GET", "/studies/{study}/{child}/", "Participate"}, (*pageServer).frameplayer, false},
	{PageRoute{"GET", "/exp/studies/{study}/{child}/preview/{$}", "Preview"}, (*pageServer).frameplayer, true},
	{PageRoute{"GET", "/studies/j/{study}/{child}/{$}", "ParticipateJsPsych"}, (*pageServer).jsPsych, false},
	{PageRoute{"GET", "/exp/studies/j/{study}/{child}/preview/{$}", "PreviewJsPsych"}, (*pageServer).jsPsych, true},
}

// PageRoutes lists the study pages, for the route matrix test.
func PageRoutes() []PageRoute {
	out := make([]PageRoute, len(pageRoutes))
	for i, r := range pageRoutes {
		out[i] = r.PageRoute
	}
	return out
}

type pageServer struct {
	*compatServer
	pages runnerPages
}

func newPages(in *instance.Instance, mux *http.ServeMux) {
	s := &pageServer{compatServer: &compatServer{in: in}}
	for _, rt := range pageRoutes {
		h, preview := rt.h, rt.preview
		mux.Handle(rt.Method+" "+rt.Path, authenticate(in, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := h(s, w, r, PrincipalFrom(r.Context()), preview); err != nil {
				web.Page(w, r, in.Log, err)
			}
		})))
	}
}

// mayPreview reports whether the subject may preview a study: read permission on it, or any
// researcher when the study is shared for preview (Lookit's rule).
func mayPreview(sub authz.Subject, studyID, labID int64, shared bool) error {
	if shared {
		if err := authz.Authorize(sub, authz.ListStudies, authz.Object{}); err == nil {
			return nil
		}
	}
	return authz.Authorize(sub, authz.ReadStudy, studyObj(studyID, labID))
}

// mayOpen decides whether a study's page opens: a family's visit needs an active study; a
// preview needs permission to preview the study, whatever its state.
func mayOpen(sub authz.Subject, preview bool, studyID, labID int64, shared bool, state string) error {
	if preview {
		return mayPreview(sub, studyID, labID, shared)
	}
	if studies.State(state) != studies.Active {
		return apperr.New(apperr.Conflict, "This study is not accepting participants right now.")
	}
	return nil
}

// frameplayer serves the runner's index.html for the build the study pins. A family takes part
// with its own child in an active study; a researcher previews with their own child a study they
// may preview, whatever its state. The runner itself then calls the API, which checks again.
func (s *pageServer) frameplayer(w http.ResponseWriter, r *http.Request, p *Principal, preview bool) error {
	ctx := r.Context()
	st, _, err := s.ownChild(ctx, p, r.PathValue("child"))
	if err != nil {
		return err
	}
	study, err := st.RunnerStudy(ctx, r.PathValue("study"))
	if err != nil {
		return err
	}
	if err := mayOpen(p.Subject, preview, study.ID, study.LabID, study.SharedPreview, study.State); err != nil {
		return err
	}
	switch studies.TypeOf(study.StudyTypeID) {
	case studies.Frameplayer:
	case studies.JSPsych: // a link to the wrong kind of page
		http.Redirect(w, r, jsPsychPage(r.PathValue("study"), r.PathValue("child"), preview), http.StatusFound)
		return nil
	default:
		return apperr.New(apperr.NotFound, "This study does not run in the Lookit experiment runner.")
	}
	if !study.PlayerBuilt {
		return apperr.New(apperr.Unavailable, "This study's experiment runner is not built yet. Please try again later.")
	}
	page, err := s.pages.index(ctx, s.in, study.PlayerSha)
	if err != nil {
		return err
	}
	s.writePage(w, p, page)
	return nil
}

// ownChild checks that the caller may take part with the child: the family's own.
func (s *pageServer) ownChild(ctx context.Context, p *Principal, childUUID string) (*postgres.Studies, db.CompatChildRow, error) {
	if err := authz.Precheck(p.Subject, authz.CreateResponse); err != nil {
		return nil, db.CompatChildRow{}, err
	}
	st, err := s.studies(ctx)
	if err != nil {
		return nil, db.CompatChildRow{}, err
	}
	child, err := st.CompatChild(ctx, childUUID)
	if err != nil {
		return nil, child, err
	}
	if err := authz.Authorize(p.Subject, authz.CreateResponse, authz.Object{OwnerID: child.UserID}); err != nil {
		return nil, child, err
	}
	return st, child, nil
}

// writePage sends a study page. The runners read csrftoken from the cookie for their saves, so
// it is renewed with the page.
func (s *pageServer) writePage(w http.ResponseWriter, p *Principal, page []byte) {
	if p.Session != nil {
		http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: p.Session.CSRFToken, Path: "/",
			Expires: p.Session.Expires, Secure: !s.in.Config.IsLocal(), SameSite: http.SameSiteLaxMode})
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// The URL holds the child's id: never send it to the hosts of a study's stimuli.
	h.Set("Referrer-Policy", "same-origin")
	_, _ = w.Write(page)
}

func jsPsychPage(study, child string, preview bool) string {
	if preview {
		return "/exp/studies/j/" + study + "/" + child + "/preview/"
	}
	return "/studies/j/" + study + "/" + child + "/"
}

// maxIndexSize bounds a runner's index.html (the real one is about 3 KB).
const maxIndexSize = 1 << 20

// maxCachedPages bounds the configured index.html pages kept per instance: one per runner commit
// in use, rarely more than a handful.
const maxCachedPages = 16

// runnerPages keeps each build's configured index.html: a build's files never change and the
// configuration is the deployment's, so the page is read from the bucket once per instance.
type runnerPages struct {
	mu    sync.Mutex
	pages map[string][]byte
}

func (c *runnerPages) index(ctx context.Context, in *instance.Instance, sha string) ([]byte, error) {
	c.mu.Lock()
	page, ok := c.pages[sha]
	c.mu.Unlock()
	if ok {
		return page, nil
	}
	cfg := in.Config
	if err := cfg.Require(config.NeedRunner); err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "the experiment runner is not configured")
	}
	store, err := in.Experiments(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "storage unavailable")
	}
	body, err := store.Get(ctx, runner.IndexObject(sha))
	if errors.Is(err, objects.ErrNotExist) {
		return nil, apperr.Wrap(fmt.Errorf("runner build %s is registered but %s is missing", sha, runner.IndexObject(sha)),
			apperr.Unavailable, "This study's experiment runner is not available right now.")
	}
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "storage unavailable")
	}
	defer body.Close()
	raw, err := io.ReadAll(io.LimitReader(body, maxIndexSize+1))
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "storage unavailable")
	}
	if len(raw) > maxIndexSize {
		return nil, fmt.Errorf("runner build %s: index.html is larger than %d bytes", sha, maxIndexSize)
	}
	page, err = runner.Configure(raw, runner.Settings{
		Recording: runner.Recording{Region: cfg.S3Region, Bucket: cfg.S3VideoBucket,
			AccessKeyID: cfg.RecordingAccessKeyID, SecretAccessKey: cfg.RecordingSecretAccessKey},
		SentryDSN: cfg.RunnerSentryDSN,
	})
	if err != nil {
		return nil, fmt.Errorf("runner build %s: %w", sha, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = map[string][]byte{}
	}
	if len(c.pages) >= maxCachedPages {
		for k := range c.pages { // evict any one: all are cheap to rebuild
			delete(c.pages, k)
			break
		}
	}
	c.pages[sha] = page
	return page, nil
}
