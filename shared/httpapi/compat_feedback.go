package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/jsonapi"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
)

// Feedback through the compatibility API (reference §4.2): families read the feedback left on
// their children's responses; researchers read it on the consented responses they may read, and
// those with the study's feedback permission write it. Lookit let a family edit feedback left on
// its own responses (§10 gap); here only researchers with the permission may.

// maxFeedback bounds a comment, as the table does.
const maxFeedback = 10000

type feedbackAttributes struct {
	Comment string `json:"comment"`
	PK      int64  `json:"pk"`
}

func (s *compatServer) feedbackResource(r *http.Request, f db.CompatFeedbackRow) jsonapi.Resource {
	rels := map[string]jsonapi.Relationship{
		"response": {Data: &jsonapi.Identifier{Type: "responses", ID: f.ResponseUuid}},
	}
	if f.ResearcherUuid != "" {
		rels["researcher"] = jsonapi.Relationship{Data: &jsonapi.Identifier{Type: "users", ID: f.ResearcherUuid}}
	}
	return jsonapi.Resource{Type: "feedback", ID: f.Uuid, Attributes: feedbackAttributes{Comment: f.Comment, PK: f.ID},
		Relationships: rels, Links: &jsonapi.Links{Self: s.url(r, "feedback", f.Uuid)}}
}

func (s *compatServer) loadFeedback(r *http.Request, p *Principal) func(*postgres.Studies, string) (jsonapi.Resource, error) {
	return func(st *postgres.Studies, id string) (jsonapi.Resource, error) {
		row, err := st.Feedback(r.Context(), id, p.Subject.UserID, readable(p.Subject))
		if err != nil {
			return jsonapi.Resource{}, err
		}
		return s.feedbackResource(r, row), nil
	}
}

func (s *compatServer) listFeedback(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.list(w, r, authz.ReadSelf, func(st *postgres.Studies, page jsonapi.Page) ([]string, int, error) {
		return st.VisibleFeedback(r.Context(), p.Subject.UserID, readable(p.Subject), page.Size, page.Offset())
	}, s.loadFeedback(r, p))
}

func (s *compatServer) getFeedback(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.ReadSelf); err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	res, err := s.loadFeedback(r, p)(st, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeDoc(w, http.StatusOK, single{Data: res})
	return nil
}

// feedbackComment reads the comment attribute; required says whether it must be present.
func feedbackComment(in jsonapi.Incoming, required bool) (string, bool, error) {
	raw, ok := in.Attributes["comment"]
	if !ok {
		if required {
			return "", false, apperr.Field("/data/attributes/comment", "comment is required")
		}
		return "", false, nil
	}
	var c string
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", false, apperr.Field("/data/attributes/comment", "comment must be a string")
	}
	if strings.TrimSpace(c) == "" {
		return "", false, apperr.Field("/data/attributes/comment", "comment must not be empty")
	}
	if err := accounts.CheckText("/data/attributes/comment", "comment", c, maxFeedback, true); err != nil {
		return "", false, err
	}
	return c, true, nil
}

func (s *compatServer) createFeedback(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.EditFeedback); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	in, err := jsonapi.Decode(body, "feedback")
	if err != nil {
		return err
	}
	rel, ok := in.Relationships["response"]
	if !ok {
		return apperr.Field("/data/relationships/response", "the response relationship is required")
	}
	comment, _, err := feedbackComment(in, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st, err := s.studies(ctx)
	if err != nil {
		return err
	}
	target, err := st.FeedbackTarget(ctx, rel.ID, readable(p.Subject))
	if err != nil {
		return err
	}
	if err := authz.Authorize(p.Subject, authz.EditFeedback, studyObj(target.StudyID, target.LabID)); err != nil {
		return err
	}
	id, err := st.AddFeedback(ctx, target.ID, p.Subject.UserID, comment)
	if err != nil {
		return err
	}
	res, err := s.loadFeedback(r, p)(st, id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.url(r, "feedback", id))
	writeDoc(w, http.StatusCreated, single{Data: res})
	return nil
}

// updateFeedback changes a comment (PATCH; PUT must send it).
func (s *compatServer) updateFeedback(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.EditFeedback); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st, err := s.studies(ctx)
	if err != nil {
		return err
	}
	row, err := st.Feedback(ctx, r.PathValue("id"), p.Subject.UserID, readable(p.Subject))
	if err != nil {
		return err
	}
	if err := authz.Authorize(p.Subject, authz.EditFeedback, studyObj(row.StudyID, row.LabID)); err != nil {
		return err
	}
	in, err := jsonapi.Decode(body, "feedback")
	if err != nil {
		return err
	}
	if err := sameID(in, row.Uuid); err != nil {
		return err
	}
	if rel, ok := in.Relationships["response"]; ok && rel.ID != row.ResponseUuid {
		return apperr.Field("/data/relationships/response", "feedback cannot move to another response")
	}
	comment, ok, err := feedbackComment(in, r.Method == http.MethodPut)
	if err != nil {
		return err
	}
	if ok {
		if err := st.EditFeedback(ctx, row.ID, comment); err != nil {
			return err
		}
		row.Comment = comment
	}
	writeDoc(w, http.StatusOK, single{Data: s.feedbackResource(r, row)})
	return nil
}
