package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/postgres"
)

// The researcher fields' values (the responses table's checks).
var (
	paymentStatuses = []string{"", "review", "to_pay", "do_not_pay", "paid"}
	sessionStatuses = []string{"", "to_schedule", "scheduled", "session_attended", "session_complete", "follow_up",
		"communication_complete", "withdrawn_closed"}
)

func (s *appServer) researchData(ctx context.Context) (*postgres.ResearchData, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.ResearchData{Pool: pool}, nil
}

// studyDataObject loads the study a data request names, as real or preview data: the
// permission differs (RR or RP; CC or CP), so the kind asked for is part of the object.
func studyDataObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	var id string
	preview := false
	switch r := request.(type) {
	case appapi.ListStudyResponsesRequestObject:
		id, preview = r.StudyId, r.Params.Preview != nil && *r.Params.Preview
	case appapi.ListConsentRequestObject:
		id, preview = r.StudyId, r.Params.Preview != nil && *r.Params.Preview
	case appapi.RuleOnConsentRequestObject:
		id, preview = r.StudyId, r.Body != nil && r.Body.Preview != nil && *r.Body.Preview
	case appapi.DownloadStudyFileRequestObject:
		id, preview = r.StudyId, r.Params.Preview != nil && *r.Params.Preview
	default:
		return authz.Object{}, fmt.Errorf("httpapi: studyDataObject: unexpected request %T", request)
	}
	st, err := s.studies(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	studyID, labID, err := st.ID(ctx, id)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{StudyID: studyID, LabID: labID, Preview: preview}, nil
}

// responseObject loads the study, lab and kind of the response a request names.
func responseObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	var id string
	switch r := request.(type) {
	case appapi.GetStudyResponseRequestObject:
		id = r.ResponseId
	case appapi.SetResponseResearcherFieldsRequestObject:
		id = r.ResponseId
	case appapi.AddResponseFeedbackRequestObject:
		id = r.ResponseId
	default:
		return authz.Object{}, fmt.Errorf("httpapi: responseObject: unexpected request %T", request)
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	a, err := d.ResponseAccessOf(ctx, id)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{StudyID: a.StudyID, LabID: a.LabID, Preview: a.Preview}, nil
}

func responseSummary(r postgres.ResponseSummary) appapi.ResponseSummary {
	eligibility := r.Eligibility
	if eligibility == nil {
		eligibility = []string{}
	}
	return appapi.ResponseSummary{Id: uuid.MustParse(r.UUID), CreatedAt: r.CreatedAt.UTC(), Completed: r.Completed, IsPreview: r.Preview,
		Eligibility: eligibility, ChildHashedId: r.ChildHash, ChildName: r.ChildName, ChildAgeDays: r.ChildAgeDays,
		ParticipantHashedId: r.ParticipantHash, ParticipantNickname: r.ParticipantNickname,
		ConsentRuling: appapi.ResponseSummaryConsentRuling(r.Ruling), PaymentStatus: r.PaymentStatus, SessionStatus: r.SessionStatus,
		Star: r.Star, Videos: r.Videos}
}

// pageParams reads a keyset page's cursor and size (0: the default).
func pageParams(cursor *string, limit *int) (string, int, error) {
	c, n := "", 0
	if cursor != nil {
		c = *cursor
	}
	if limit != nil {
		if *limit < 1 || *limit > 200 {
			return "", 0, apperr.Field("/limit", "limit must be 1 to 200")
		}
		n = *limit
	}
	return c, n, nil
}

// ListStudyResponses lists one page of the study's responses of the kind the caller was
// authorized for.
func (s *appServer) ListStudyResponses(ctx context.Context, r appapi.ListStudyResponsesRequestObject) (appapi.ListStudyResponsesResponseObject, error) {
	p := r.Params
	f := postgres.ResponseFilter{Preview: p.Preview != nil && *p.Preview, Completed: p.Completed, Since: p.Since, Until: p.Until,
		Star: p.Star, Oldest: p.Sort != nil && *p.Sort == "created_at"}
	if p.Sort != nil && *p.Sort != "created_at" && *p.Sort != "-created_at" {
		return nil, apperr.Field("/sort", "sort must be created_at or -created_at")
	}
	if p.PaymentStatus != nil {
		v := string(*p.PaymentStatus)
		if !slices.Contains(paymentStatuses, v) {
			return nil, apperr.Field("/payment_status", "unknown payment status %q", v)
		}
		f.PaymentStatus = &v
	}
	if p.SessionStatus != nil {
		v := string(*p.SessionStatus)
		if !slices.Contains(sessionStatuses, v) {
			return nil, apperr.Field("/session_status", "unknown session status %q", v)
		}
		f.SessionStatus = &v
	}
	if p.Child != nil {
		f.ChildHash = *p.Child
	}
	var err error
	if f.Cursor, f.Limit, err = pageParams(p.Cursor, p.Limit); err != nil {
		return nil, err
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	rows, next, err := d.Responses(ctx, objectFrom(ctx).StudyID, f)
	if err != nil {
		return nil, err
	}
	out := appapi.ResponsePage{Items: make([]appapi.ResponseSummary, len(rows))}
	for i, row := range rows {
		out.Items[i] = responseSummary(row)
	}
	if next != "" {
		out.NextCursor = &next
	}
	return appapi.ListStudyResponses200JSONResponse(out), nil
}

// GetStudyResponse returns one response a researcher may read.
func (s *appServer) GetStudyResponse(ctx context.Context, r appapi.GetStudyResponseRequestObject) (appapi.GetStudyResponseResponseObject, error) {
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	res, err := d.Response(ctx, r.ResponseId)
	if err != nil {
		return nil, err
	}
	sum := responseSummary(res.ResponseSummary)
	var timings []any
	if err := json.Unmarshal(res.GlobalEventTimings, &timings); err != nil || timings == nil {
		timings = []any{}
	}
	sequence := res.Sequence
	if sequence == nil {
		sequence = []string{}
	}
	out := appapi.ResponseDetail{Id: sum.Id, CreatedAt: sum.CreatedAt, Completed: sum.Completed, IsPreview: sum.IsPreview,
		Eligibility: sum.Eligibility, ChildHashedId: sum.ChildHashedId, ChildName: sum.ChildName, ChildAgeDays: sum.ChildAgeDays,
		ParticipantHashedId: sum.ParticipantHashedId, ParticipantNickname: sum.ParticipantNickname,
		ConsentRuling: appapi.ResponseDetailConsentRuling(sum.ConsentRuling), PaymentStatus: sum.PaymentStatus,
		SessionStatus: sum.SessionStatus, Star: sum.Star, Videos: sum.Videos,
		Sequence: sequence, Conditions: json.RawMessage(res.Conditions), ExpData: json.RawMessage(res.ExpData),
		GlobalEventTimings: timings, VideoFiles: []appapi.ResponseVideo{}, Rulings: []appapi.ConsentRuling{},
		Feedback: []appapi.ResponseFeedback{}}
	for _, v := range res.VideoFiles {
		out.VideoFiles = append(out.VideoFiles, appapi.ResponseVideo{Id: uuid.MustParse(v.UUID), Filename: v.Filename,
			FrameId: v.FrameID, Consent: v.Consent, CreatedAt: v.CreatedAt.UTC()})
	}
	for _, c := range res.Rulings {
		out.Rulings = append(out.Rulings, appapi.ConsentRuling{Action: appapi.ConsentRulingAction(c.Action), Comments: c.Comments,
			Arbiter: c.Arbiter, CreatedAt: c.CreatedAt.UTC()})
	}
	for _, f := range res.Feedback {
		out.Feedback = append(out.Feedback, appapi.ResponseFeedback{Id: uuid.MustParse(f.UUID), Comment: f.Comment, CreatedAt: f.CreatedAt.UTC()})
	}
	w, _ := httpFrom(ctx)
	w.Header().Set("Cache-Control", "no-store") // participant data
	return appapi.GetStudyResponse200JSONResponse(out), nil
}

// SetResponseResearcherFields sets payment status, session status or star.
func (s *appServer) SetResponseResearcherFields(ctx context.Context, r appapi.SetResponseResearcherFieldsRequestObject) (appapi.SetResponseResearcherFieldsResponseObject, error) {
	if r.Body == nil {
		return nil, apperr.Field("", "a JSON body is required")
	}
	var f postgres.ResearcherFields
	if v := r.Body.PaymentStatus; v != nil {
		s := string(*v)
		if !slices.Contains(paymentStatuses, s) {
			return nil, apperr.Field("/payment_status", "unknown payment status %q", s)
		}
		f.PaymentStatus = &s
	}
	if v := r.Body.SessionStatus; v != nil {
		s := string(*v)
		if !slices.Contains(sessionStatuses, s) {
			return nil, apperr.Field("/session_status", "unknown session status %q", s)
		}
		f.SessionStatus = &s
	}
	f.Star = r.Body.Star
	if f.PaymentStatus == nil && f.SessionStatus == nil && f.Star == nil {
		return nil, apperr.Field("", "set payment_status, session_status or star")
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	got, err := d.SetResearcherFields(ctx, r.ResponseId, f)
	if err != nil {
		return nil, err
	}
	pay, sess := appapi.ResearcherFieldsPaymentStatus(*got.PaymentStatus), appapi.ResearcherFieldsSessionStatus(*got.SessionStatus)
	return appapi.SetResponseResearcherFields200JSONResponse{PaymentStatus: &pay, SessionStatus: &sess, Star: got.Star}, nil
}

// ListConsent is the consent manager's page.
func (s *appServer) ListConsent(ctx context.Context, r appapi.ListConsentRequestObject) (appapi.ListConsentResponseObject, error) {
	p := r.Params
	f := postgres.ConsentFilter{Preview: p.Preview != nil && *p.Preview}
	if p.Ruling != nil {
		v := string(*p.Ruling)
		if v != "accepted" && v != "rejected" && v != "pending" {
			return nil, apperr.Field("/ruling", "ruling must be accepted, rejected or pending")
		}
		f.Ruling = &v
	}
	if p.HideAcceptedOlderThanDays != nil {
		days := *p.HideAcceptedOlderThanDays
		if days < 0 || days > 3650 {
			return nil, apperr.Field("/hide_accepted_older_than_days", "must be 0 to 3650")
		}
		t := time.Now().AddDate(0, 0, -days)
		f.HideAcceptedBefore = &t
	}
	var err error
	if f.Cursor, f.Limit, err = pageParams(p.Cursor, p.Limit); err != nil {
		return nil, err
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	rows, next, err := d.ConsentQueue(ctx, objectFrom(ctx).StudyID, f)
	if err != nil {
		return nil, err
	}
	out := appapi.ConsentPage{Items: make([]appapi.ConsentEntry, len(rows))}
	for i, e := range rows {
		item := appapi.ConsentEntry{ResponseId: uuid.MustParse(e.ResponseUUID), CreatedAt: e.CreatedAt.UTC(), Completed: e.Completed,
			IsPreview: e.Preview, ChildHashedId: e.ChildHash, ChildName: e.ChildName, ChildAgeDays: e.ChildAgeDays,
			ParticipantHashedId: e.ParticipantHash, ParticipantNickname: e.ParticipantNickname,
			Ruling: appapi.ConsentEntryRuling(e.Ruling), Comments: e.Comments, Arbiter: e.Arbiter, RuledAt: e.RuledAt,
			ConsentVideos: []appapi.ResponseVideo{}}
		for _, v := range e.ConsentVideos {
			item.ConsentVideos = append(item.ConsentVideos, appapi.ResponseVideo{Id: uuid.MustParse(v.UUID), Filename: v.Filename,
				Consent: true, CreatedAt: v.CreatedAt.UTC()})
		}
		out.Items[i] = item
	}
	if next != "" {
		out.NextCursor = &next
	}
	w, _ := httpFrom(ctx)
	w.Header().Set("Cache-Control", "no-store")
	return appapi.ListConsent200JSONResponse(out), nil
}

// RuleOnConsent records consent rulings.
func (s *appServer) RuleOnConsent(ctx context.Context, r appapi.RuleOnConsentRequestObject) (appapi.RuleOnConsentResponseObject, error) {
	if r.Body == nil || len(r.Body.Rulings) == 0 {
		return nil, apperr.Field("/rulings", "list at least one ruling")
	}
	if len(r.Body.Rulings) > 500 {
		return nil, apperr.Field("/rulings", "at most 500 rulings at once")
	}
	rulings := make([]postgres.Ruling, len(r.Body.Rulings))
	for i, in := range r.Body.Rulings {
		comment := ""
		if in.Comment != nil {
			comment = *in.Comment
			if len(comment) > 10000 {
				return nil, apperr.Field(fmt.Sprintf("/rulings/%d/comment", i), "at most 10,000 characters")
			}
		}
		rulings[i] = postgres.Ruling{ResponseUUID: in.ResponseId.String(), Action: string(in.Action), Comment: comment}
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	obj := objectFrom(ctx)
	n, err := d.RecordRulings(ctx, obj.StudyID, obj.Preview, PrincipalFrom(ctx).Subject.UserID, rulings)
	if err != nil {
		return nil, err
	}
	return appapi.RuleOnConsent200JSONResponse{Recorded: n}, nil
}
