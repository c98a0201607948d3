package httpapi

import (
	"context"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/labs"
	"lookit.dev/platform/shared/postgres"
)

func (s *appServer) labs(ctx context.Context) (*postgres.Labs, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Labs{Pool: pool, From: s.in.Config.EmailFrom, BaseURL: s.in.Config.BaseURL.String()}, nil
}

func labOut(l labs.Lab) appapi.Lab {
	return appapi.Lab{Id: uuidOf(l.UUID), Name: l.Name, Slug: l.Slug, Institution: l.Institution,
		PrincipalInvestigatorName: l.PrincipalInvestigatorName, ContactEmail: l.ContactEmail, ContactPhone: l.ContactPhone,
		LabWebsite: l.LabWebsite, Description: l.Description, IrbContactInfo: l.IRBContactInfo,
		ApprovedToTest: l.ApprovedToTest, ApprovedAt: l.ApprovedAt, CreatedAt: l.CreatedAt,
		MyRole: appapi.LabMyRole(l.MyRole), MemberCount: l.MemberCount}
}

func labIn(b *appapi.LabInput) labs.Input {
	in := labs.Input{Name: b.Name, Institution: b.Institution, PrincipalInvestigatorName: b.PrincipalInvestigatorName,
		ContactEmail: b.ContactEmail, ContactPhone: b.ContactPhone, Description: b.Description, IRBContactInfo: b.IrbContactInfo}
	if b.Slug != nil {
		in.Slug = *b.Slug
	}
	if b.LabWebsite != nil {
		in.LabWebsite = *b.LabWebsite
	}
	return in
}

var errNoBody = apperr.New(apperr.Invalid, "request body is required")

func (s *appServer) ListLabs(ctx context.Context, _ appapi.ListLabsRequestObject) (appapi.ListLabsResponseObject, error) {
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	sub := PrincipalFrom(ctx).Subject
	// Unapproved labs (with their contact details) only for researchers who may act as such.
	ls, err := l.List(ctx, sub.UserID, authz.Authorize(sub, authz.ListAllLabs, authz.Object{}) == nil)
	if err != nil {
		return nil, err
	}
	out := appapi.ListLabs200JSONResponse{}
	for _, x := range ls {
		out = append(out, labOut(x))
	}
	return out, nil
}

func (s *appServer) CreateLab(ctx context.Context, req appapi.CreateLabRequestObject) (appapi.CreateLabResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	userID := PrincipalFrom(ctx).Subject.UserID
	id, mails, err := l.Create(ctx, userID, labIn(req.Body))
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	lab, err := l.Find(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	return appapi.CreateLab201JSONResponse(labOut(lab)), nil
}

func (s *appServer) GetLab(ctx context.Context, req appapi.GetLabRequestObject) (appapi.GetLabResponseObject, error) {
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	lab, err := l.Find(ctx, PrincipalFrom(ctx).Subject.UserID, req.LabId)
	if err != nil {
		return nil, err
	}
	return appapi.GetLab200JSONResponse(labOut(lab)), nil
}

func (s *appServer) UpdateLab(ctx context.Context, req appapi.UpdateLabRequestObject) (appapi.UpdateLabResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	userID := PrincipalFrom(ctx).Subject.UserID
	if err := l.Update(ctx, userID, objectFrom(ctx).LabID, labIn(req.Body)); err != nil {
		return nil, err
	}
	lab, err := l.Find(ctx, userID, req.LabId)
	if err != nil {
		return nil, err
	}
	return appapi.UpdateLab200JSONResponse(labOut(lab)), nil
}

func (s *appServer) SetLabApproval(ctx context.Context, req appapi.SetLabApprovalRequestObject) (appapi.SetLabApprovalResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	userID := PrincipalFrom(ctx).Subject.UserID
	mails, err := l.SetApproval(ctx, userID, objectFrom(ctx).LabID, req.Body.ApprovedToTest)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	lab, err := l.Find(ctx, userID, req.LabId)
	if err != nil {
		return nil, err
	}
	return appapi.SetLabApproval200JSONResponse(labOut(lab)), nil
}

func (s *appServer) RequestToJoinLab(ctx context.Context, _ appapi.RequestToJoinLabRequestObject) (appapi.RequestToJoinLabResponseObject, error) {
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	mails, err := l.RequestToJoin(ctx, PrincipalFrom(ctx).Subject.UserID, objectFrom(ctx).LabID)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	return appapi.RequestToJoinLab202JSONResponse{AcceptedJSONResponse: appapi.AcceptedJSONResponse(accepted)}, nil
}

func (s *appServer) ListLabMembers(ctx context.Context, _ appapi.ListLabMembersRequestObject) (appapi.ListLabMembersResponseObject, error) {
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := l.Members(ctx, objectFrom(ctx).LabID)
	if err != nil {
		return nil, err
	}
	out := appapi.ListLabMembers200JSONResponse{}
	for _, m := range ms {
		out = append(out, appapi.LabMember{UserId: uuidOf(m.UserUUID), Email: m.Email, GivenName: m.GivenName,
			FamilyName: m.FamilyName, Role: appapi.LabMemberRole(m.Role), Since: m.Since})
	}
	return out, nil
}

func (s *appServer) SetLabMemberRole(ctx context.Context, req appapi.SetLabMemberRoleRequestObject) (appapi.SetLabMemberRoleResponseObject, error) {
	if req.Body == nil {
		return nil, errNoBody
	}
	role, err := labs.ParseRole(req.Body.Role)
	if err != nil {
		return nil, err
	}
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	mails, err := l.SetRole(ctx, PrincipalFrom(ctx).Subject.UserID, objectFrom(ctx).LabID, req.UserId, role)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	return appapi.SetLabMemberRole204Response{}, nil
}

func (s *appServer) RemoveLabMember(ctx context.Context, req appapi.RemoveLabMemberRequestObject) (appapi.RemoveLabMemberResponseObject, error) {
	l, err := s.labs(ctx)
	if err != nil {
		return nil, err
	}
	mails, err := l.Remove(ctx, PrincipalFrom(ctx).Subject.UserID, objectFrom(ctx).LabID, req.UserId)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	return appapi.RemoveLabMember204Response{}, nil
}
