package httpapi

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/google/uuid"
	"slices"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/eligibility"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/studies"
)

func (s *appServer) studies(ctx context.Context) (*postgres.Studies, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Studies{Pool: pool, From: s.in.Config.EmailFrom, BaseURL: s.in.Config.BaseURL.String()}, nil
}

func rawObject(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage(`{}`)
	}
	return b
}

// studyOut builds the API's view of a study.
func studyOut(r db.FindStudyRow, mustHave, mustNot []string) (appapi.Study, error) {
	var max any
	if r.MaxResponses != nil {
		max = *r.MaxResponses
	}
	var changed any
	if r.StatusChangeDate.Valid {
		changed = r.StatusChangeDate.Time
	}
	m := map[string]any{
		"id": r.Uuid, "lab_id": r.LabUuid, "lab_name": r.LabName, "study_type": studies.TypeOf(r.StudyTypeID),
		"name": r.Name, "preview_summary": r.PreviewSummary, "short_description": r.ShortDescription, "purpose": r.Purpose,
		"criteria": r.Criteria, "duration": r.Duration, "contact_info": r.ContactInfo,
		"compensation_description": r.CompensationDescription, "exit_url": r.ExitUrl, "priority": r.Priority,
		"min_age_years": r.MinAgeYears, "min_age_months": r.MinAgeMonths, "min_age_days": r.MinAgeDays,
		"max_age_years": r.MaxAgeYears, "max_age_months": r.MaxAgeMonths, "max_age_days": r.MaxAgeDays,
		"criteria_expression": r.CriteriaExpression, "public": r.Public, "shared_preview": r.SharedPreview,
		"display_full_screen": r.DisplayFullScreen, "max_responses": max, "structure": rawObject(r.Structure),
		"use_generator": r.UseGenerator, "generator": r.Generator, "metadata": rawObject(r.Metadata),
		"state": r.State, "status_change_date": changed, "comments": r.Comments, "built": r.Built,
		"is_building": r.IsBuilding, "created_at": r.CreatedAt.Time, "responses": r.Responses,
		"preview_responses": r.PreviewResponses, "tallied_responses": r.TalliedResponses, "salt": r.Salt,
		"hash_digits": r.HashDigits, "must_have_participated": mustHave, "must_not_have_participated": mustNot,
		"has_image": r.ImageObject != "",
	}
	var out appapi.Study
	return out, recode(m, &out)
}

func (s *appServer) studyByUUID(ctx context.Context, st *postgres.Studies, id string) (appapi.Study, error) {
	studyID, _, err := st.ID(ctx, id)
	if err != nil {
		return appapi.Study{}, err
	}
	return studyView(ctx, st, studyID)
}

func studyView(ctx context.Context, st *postgres.Studies, studyID int64) (appapi.Study, error) {
	r, err := st.Find(ctx, studyID)
	if err != nil {
		return appapi.Study{}, err
	}
	must, mustNot, err := st.ParticipationRules(ctx, studyID)
	if err != nil {
		return appapi.Study{}, err
	}
	return studyOut(r, must, mustNot)
}

func (s *appServer) ListStudies(ctx context.Context, req appapi.ListStudiesRequestObject) (appapi.ListStudiesResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := st.List(ctx, PrincipalFrom(ctx).Subject, req.Params.IncludeArchived != nil && *req.Params.IncludeArchived)
	if err != nil {
		return nil, err
	}
	out := appapi.ListStudies200JSONResponse{}
	for _, r := range rows {
		x := appapi.StudySummary{Id: uuidOf(r.Uuid), Name: r.Name, State: r.State, StudyType: string(studies.TypeOf(r.StudyTypeID)),
			Public: r.Public, LabId: uuidOf(r.LabUuid), LabName: r.LabName, MyGroup: r.MyGroup, Built: r.Built,
			Responses: int(r.Responses), PreviewResponses: int(r.PreviewResponses), TalliedResponses: int(r.TalliedResponses),
			CreatedAt: r.CreatedAt.Time}
		if r.MaxResponses != nil {
			v := int(*r.MaxResponses)
			x.MaxResponses = &v
		}
		if r.StatusChangeDate.Valid {
			x.StatusChangeDate = &r.StatusChangeDate.Time
		}
		out = append(out, x)
	}
	return out, nil
}

func (s *appServer) CreateStudy(ctx context.Context, req appapi.CreateStudyRequestObject) (appapi.CreateStudyResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	t := studies.Type(req.Body.StudyType)
	if studies.TypeID(t) == 0 {
		return nil, apperr.Field("/study_type", "study type must be frameplayer, external or jspsych")
	}
	var in studies.Input
	if err := recode(req.Body, &in); err != nil {
		return nil, err
	}
	if req.Body.DisplayFullScreen == nil {
		in.DisplayFullScreen = true // Lookit's default
	}
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	id, err := st.Create(ctx, PrincipalFrom(ctx).Subject.UserID, objectFrom(ctx).LabID, t, in)
	if err != nil {
		return nil, err
	}
	out, err := s.studyByUUID(ctx, st, id)
	if err != nil {
		return nil, err
	}
	return appapi.CreateStudy201JSONResponse(out), nil
}

func (s *appServer) GetStudy(ctx context.Context, _ appapi.GetStudyRequestObject) (appapi.GetStudyResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	out, err := studyView(ctx, st, objectFrom(ctx).StudyID)
	if err != nil {
		return nil, err
	}
	return appapi.GetStudy200JSONResponse(out), nil
}

func (s *appServer) UpdateStudy(ctx context.Context, req appapi.UpdateStudyRequestObject) (appapi.UpdateStudyResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	var in studies.Input
	if err := recode(req.Body, &in); err != nil {
		return nil, err
	}
	if req.Body.DisplayFullScreen == nil {
		in.DisplayFullScreen = true
	}
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	studyID := objectFrom(ctx).StudyID
	mails, err := st.Update(ctx, PrincipalFrom(ctx).Subject.UserID, studyID, in)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	out, err := studyView(ctx, st, studyID)
	if err != nil {
		return nil, err
	}
	return appapi.UpdateStudy200JSONResponse(out), nil
}

func (s *appServer) TransitionStudy(ctx context.Context, req appapi.TransitionStudyRequestObject) (appapi.TransitionStudyResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	t, err := studies.ParseTrigger(req.Body.Trigger)
	if err != nil {
		return nil, err
	}
	tr := postgres.TransitionRequest{Trigger: t}
	if req.Body.Comments != nil {
		tr.Comments = *req.Body.Comments
	}
	if req.Body.Declarations != nil {
		tr.Declarations = *req.Body.Declarations
	}
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	studyID := objectFrom(ctx).StudyID
	_, mails, err := st.Transition(ctx, PrincipalFrom(ctx).Subject.UserID, studyID, tr)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	out, err := studyView(ctx, st, studyID)
	if err != nil {
		return nil, err
	}
	return appapi.TransitionStudy200JSONResponse(out), nil
}

func (s *appServer) GetStudyLog(ctx context.Context, _ appapi.GetStudyLogRequestObject) (appapi.GetStudyLogResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := st.Logs(ctx, objectFrom(ctx).StudyID)
	if err != nil {
		return nil, err
	}
	out := appapi.GetStudyLog200JSONResponse{}
	for _, r := range rows {
		var extra map[string]any
		_ = json.Unmarshal(r.Extra, &extra)
		out = append(out, appapi.StudyLogEntry{Id: uuidOf(r.Uuid), Action: r.Action, Extra: extra,
			CreatedAt: r.CreatedAt.Time, UserEmail: r.UserEmail})
	}
	return out, nil
}

// CloneStudy copies into the study's own lab when the caller may create studies there, else
// into the first lab (by id) where they may; Authorize decides both.
func (s *appServer) CloneStudy(ctx context.Context, _ appapi.CloneStudyRequestObject) (appapi.CloneStudyResponseObject, error) {
	sub := PrincipalFrom(ctx).Subject
	obj := objectFrom(ctx)
	lab := int64(0)
	if authz.Authorize(sub, authz.CreateStudy, authz.Object{LabID: obj.LabID}) == nil {
		lab = obj.LabID
	} else {
		var ids []int64
		for id := range sub.Labs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if authz.Authorize(sub, authz.CreateStudy, authz.Object{LabID: id}) == nil {
				lab = id
				break
			}
		}
	}
	if lab == 0 {
		return nil, apperr.New(apperr.Forbidden, "you cannot create studies in any lab")
	}
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	id, err := st.Clone(ctx, sub.UserID, obj.StudyID, lab)
	if err != nil {
		return nil, err
	}
	out, err := s.studyByUUID(ctx, st, id)
	if err != nil {
		return nil, err
	}
	return appapi.CloneStudy201JSONResponse(out), nil
}

func (s *appServer) ListStudyResearchers(ctx context.Context, _ appapi.ListStudyResearchersRequestObject) (appapi.ListStudyResearchersResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := st.Researchers(ctx, objectFrom(ctx).StudyID)
	if err != nil {
		return nil, err
	}
	out := appapi.ListStudyResearchers200JSONResponse{}
	for _, r := range rows {
		out = append(out, appapi.StudyResearcher{UserId: uuidOf(r.Uuid), Email: r.Email, GivenName: r.GivenName,
			FamilyName: r.FamilyName, Group: r.Grp})
	}
	return out, nil
}

func (s *appServer) SetStudyResearcher(ctx context.Context, req appapi.SetStudyResearcherRequestObject) (appapi.SetStudyResearcherResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	mails, err := st.SetResearcher(ctx, PrincipalFrom(ctx).Subject.UserID, objectFrom(ctx).StudyID, req.UserId, authz.StudyGroup(req.Body.Group))
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	return appapi.SetStudyResearcher204Response{}, nil
}

func (s *appServer) RemoveStudyResearcher(ctx context.Context, req appapi.RemoveStudyResearcherRequestObject) (appapi.RemoveStudyResearcherResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.RemoveResearcher(ctx, PrincipalFrom(ctx).Subject.UserID, objectFrom(ctx).StudyID, req.UserId); err != nil {
		return nil, err
	}
	return appapi.RemoveStudyResearcher204Response{}, nil
}

func publicStudiesOut(rows []db.PublicStudiesRow) []appapi.PublicStudy {
	out := []appapi.PublicStudy{}
	for _, r := range rows {
		out = append(out, appapi.PublicStudy{Id: uuidOf(r.Uuid), Name: r.Name, StudyType: string(studies.TypeOf(r.StudyTypeID)),
			PreviewSummary: r.PreviewSummary, ShortDescription: r.ShortDescription, Purpose: r.Purpose, Criteria: r.Criteria,
			Duration: r.Duration, CompensationDescription: r.CompensationDescription,
			MinAgeDays: eligibility.BoundDays(int(r.MinAgeYears), int(r.MinAgeMonths), int(r.MinAgeDays)),
			MaxAgeDays: eligibility.BoundDays(int(r.MaxAgeYears), int(r.MaxAgeMonths), int(r.MaxAgeDays)),
			LabName:    r.LabName, LabSlug: r.LabSlug, LabInstitution: r.LabInstitution, Scheduled: r.Scheduled})
	}
	return out
}

func (s *appServer) ListPublicStudies(ctx context.Context, req appapi.ListPublicStudiesRequestObject) (appapi.ListPublicStudiesResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	child, lab := "", ""
	if req.Params.Child != nil {
		child = *req.Params.Child
	}
	if req.Params.Lab != nil {
		lab = *req.Params.Lab
	}
	rows, err := st.PublicStudies(ctx, PrincipalFrom(ctx).Subject.UserID, child, lab)
	if err != nil {
		return nil, err
	}
	return appapi.ListPublicStudies200JSONResponse(publicStudiesOut(rows)), nil
}

func (s *appServer) GetPublicLab(ctx context.Context, req appapi.GetPublicLabRequestObject) (appapi.GetPublicLabResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	l, err := st.PublicLab(ctx, req.Slug)
	if err != nil {
		return nil, err
	}
	rows, err := st.PublicStudies(ctx, 0, "", req.Slug)
	if err != nil {
		return nil, err
	}
	return appapi.GetPublicLab200JSONResponse{Id: uuidOf(l.Uuid), Name: l.Name, Slug: l.Slug, Institution: l.Institution,
		PrincipalInvestigatorName: l.PrincipalInvestigatorName, LabWebsite: l.LabWebsite, Description: l.Description,
		Studies: publicStudiesOut(rows)}, nil
}

// ParticipateExternal records a family's session of an external study and sends them to the
// study's site with Lookit's query parameters: child=<hashed child id>&response=<uuid>.
func (s *appServer) ParticipateExternal(ctx context.Context, req appapi.ParticipateExternalRequestObject) (appapi.ParticipateExternalResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	studyID, _, err := st.ID(ctx, req.StudyId)
	if err != nil {
		return nil, err
	}
	study, err := st.Find(ctx, studyID)
	if err != nil {
		return nil, err
	}
	if studies.TypeOf(study.StudyTypeID) != studies.External {
		return nil, apperr.New(apperr.Conflict, "this study runs on this site, not on another one")
	}
	var meta struct {
		URL string `json:"url"`
	}
	_ = json.Unmarshal(study.Metadata, &meta)
	target, err := url.Parse(meta.URL)
	if err != nil || meta.URL == "" {
		return nil, apperr.New(apperr.Conflict, "the study has no address to send families to")
	}
	created, mails, err := st.CreateResponse(ctx, postgres.NewResponse{FamilyID: PrincipalFrom(ctx).Subject.UserID,
		StudyID: studyID, ChildUUID: req.Body.Child})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	childID, _ := uuid.Parse(req.Body.Child)
	salt, _ := uuid.Parse(study.Salt)
	q := target.Query()
	q.Set("child", hashedid.Of(childID, uuid.MustParse(study.Uuid), salt, int(study.HashDigits)))
	q.Set("response", created.UUID)
	target.RawQuery = q.Encode()
	return appapi.ParticipateExternal201JSONResponse{ResponseId: uuidOf(created.UUID), RedirectUrl: target.String()}, nil
}
