package httpapi

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/postgres"
)

// feedbackObject loads the study, lab and kind of the response feedback is on.
func feedbackObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	r, ok := request.(appapi.EditResponseFeedbackRequestObject)
	if !ok {
		return authz.Object{}, fmt.Errorf("httpapi: feedbackObject: unexpected request %T", request)
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	a, err := d.FeedbackAccessOf(ctx, r.FeedbackId)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{StudyID: a.StudyID, LabID: a.LabID, Preview: a.Preview}, nil
}

func feedbackOut(f postgres.FeedbackEntry) appapi.ResponseFeedback {
	return appapi.ResponseFeedback{Id: uuid.MustParse(f.UUID), Comment: f.Comment, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

func (s *appServer) AddResponseFeedback(ctx context.Context, r appapi.AddResponseFeedbackRequestObject) (appapi.AddResponseFeedbackResponseObject, error) {
	if r.Body == nil {
		return nil, apperr.Field("", "a JSON body is required")
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	f, mails, err := d.AddFeedback(ctx, r.ResponseId, PrincipalFrom(ctx).Subject.UserID, r.Body.Comment,
		postgres.FeedbackNotice{From: s.in.Config.EmailFrom, BaseURL: s.in.Config.BaseURL.String()})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	return appapi.AddResponseFeedback201JSONResponse(feedbackOut(f)), nil
}

func (s *appServer) EditResponseFeedback(ctx context.Context, r appapi.EditResponseFeedbackRequestObject) (appapi.EditResponseFeedbackResponseObject, error) {
	if r.Body == nil {
		return nil, apperr.Field("", "a JSON body is required")
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	f, err := d.EditFeedback(ctx, r.FeedbackId, r.Body.Comment)
	if err != nil {
		return nil, err
	}
	return appapi.EditResponseFeedback200JSONResponse(feedbackOut(f)), nil
}

func (s *appServer) ListPastSessions(ctx context.Context, r appapi.ListPastSessionsRequestObject) (appapi.ListPastSessionsResponseObject, error) {
	cursor, limit, err := pageParams(r.Params.Cursor, r.Params.Limit)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 20
	}
	if limit > 100 {
		return nil, apperr.Field("/limit", "limit must be 1 to 100")
	}
	d, err := s.researchData(ctx)
	if err != nil {
		return nil, err
	}
	list, next, err := d.PastSessions(ctx, PrincipalFrom(ctx).Subject.UserID, cursor, limit)
	if err != nil {
		return nil, err
	}
	out := appapi.ListPastSessions200JSONResponse{Data: make([]appapi.PastSession, len(list)), NextCursor: next}
	for i, p := range list {
		o := &out.Data[i]
		o.Id, o.CreatedAt, o.Completed = uuid.MustParse(p.UUID), p.CreatedAt, p.Completed
		o.Study.Id, o.Study.Name, o.Study.External, o.Study.StillCollecting = uuid.MustParse(p.StudyUUID), p.StudyName, p.External, p.StillCollecting
		o.Child.Id, o.Child.GivenName = uuid.MustParse(p.ChildUUID), p.ChildName
		o.Consent = appapi.PastSessionConsent(p.Consent)
		if p.External {
			o.Consent = appapi.PastSessionConsentNotApplicable
		}
		o.Videos = make([]appapi.ResponseVideo, len(p.Videos))
		for j, v := range p.Videos {
			o.Videos[j] = appapi.ResponseVideo{Id: uuid.MustParse(v.UUID), Filename: v.FileName, FrameId: v.FrameID,
				Consent: v.Consent, CreatedAt: v.CreatedAt}
		}
		o.Feedback = make([]appapi.ResponseFeedback, len(p.Feedback))
		for j, f := range p.Feedback {
			o.Feedback[j] = feedbackOut(f)
		}
	}
	return out, nil
}
