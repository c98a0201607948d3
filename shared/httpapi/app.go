package httpapi

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/auth"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/studies"
	"lookit.dev/platform/shared/web"
)

// appBodyLimit caps app API request bodies, but for study images (imageLimit).
const (
	appBodyLimit = 64 << 10
	imageLimit   = 1 << 20
)

// studyLimit admits a study's protocol (2 MiB), generator and metadata (256 KiB each) with room for
// the other fields; their own checks give the precise errors.
const studyLimit = 3 << 20

func bodyLimit(r *http.Request) int64 {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/api/studies/") && strings.HasSuffix(p, "/image"):
		return imageLimit
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/api/studies/") && strings.Count(p, "/") == 3,
		r.Method == http.MethodPost && strings.HasPrefix(p, "/api/labs/") && strings.HasSuffix(p, "/studies"):
		return studyLimit
	}
	return appBodyLimit
}

// operation is how one app API operation is authorized: the action Authorize decides and, for
// operations on a particular object, how to load the facts about it. Without a loader the object
// is the subject's own account.
type operation struct {
	action authz.Action
	object func(ctx context.Context, s *appServer, request any) (authz.Object, error)
	// actionOf, when set, picks the action from the request (a study transition's trigger).
	actionOf func(request any) authz.Action
}

// operations lists every app API operation. One missing here is denied (and the route matrix
// test fails).
var operations = map[string]operation{
	"Login":           {action: authz.SignUp}, // anyone may try to log in
	"VerifyTwoFactor": {action: authz.EditSelf},
	"Logout":          {action: authz.EditSelf},
	"GetMe":           {action: authz.ReadSelf},
	"ListSessions":    {action: authz.ReadSelf},
	"RevokeSession":   {action: authz.ManageSessions},
	"ListTokens":      {action: authz.ReadSelf},
	"CreateToken":     {action: authz.ManageTokens},
	"RevokeToken":     {action: authz.ManageTokens},

	"SignUp":               {action: authz.SignUp},
	"VerifyEmail":          {action: authz.SignUp},
	"RequestPasswordReset": {action: authz.SignUp},
	"ResetPassword":        {action: authz.SignUp},
	"ChangePassword":       {action: authz.EditSelf},
	"ChangeEmail":          {action: authz.EditSelf},
	"StartTotp":            {action: authz.EditSelf},
	"ActivateTotp":         {action: authz.EditSelf},

	"ListChildren":        {action: authz.ReadChild},
	"CreateChild":         {action: authz.AddChild},
	"GetChild":            {action: authz.ReadChild, object: childObject},
	"UpdateChild":         {action: authz.EditChild, object: childObject},
	"DeleteChild":         {action: authz.EditChild, object: childObject},
	"GetDemographics":     {action: authz.ReadDemographics},
	"SaveDemographics":    {action: authz.AddDemographics},
	"SetEmailPreferences": {action: authz.EditEmailPrefs},
	"Unsubscribe":         {action: authz.Unsubscribe},

	"ListLabs":         {action: authz.ListLabs},
	"CreateLab":        {action: authz.CreateLab},
	"GetLab":           {action: authz.ReadLab, object: labObject},
	"UpdateLab":        {action: authz.EditLab, object: labObject},
	"SetLabApproval":   {action: authz.ApproveLabToTest, object: labObject},
	"RequestToJoinLab": {action: authz.RequestToJoin, object: labObject},
	"ListLabMembers":   {action: authz.ReadLabMembers, object: labObject},
	"SetLabMemberRole": {action: authz.EditLabMembers, object: labObject},
	"RemoveLabMember":  {action: authz.EditLabMembers, object: labObject},

	"ListStudies":           {action: authz.ListStudies},
	"CreateStudy":           {action: authz.CreateStudy, object: labObject},
	"GetStudy":              {action: authz.ReadStudy, object: studyObject},
	"UpdateStudy":           {action: authz.EditStudy, object: studyObject},
	"TransitionStudy":       {action: authz.ChangeStatus, object: studyObject, actionOf: transitionAction},
	"GetStudyLog":           {action: authz.ReadStudy, object: studyObject},
	"CloneStudy":            {action: authz.CloneStudy, object: studyObject},
	"ListStudyResearchers":  {action: authz.ReadStudy, object: studyObject},
	"SetStudyResearcher":    {action: authz.ManageResearchers, object: studyObject},
	"RemoveStudyResearcher": {action: authz.ManageResearchers, object: studyObject},

	// Anyone sees the public list; filtering it by a child's eligibility reads that child.
	"ListPublicStudies": {action: authz.ListPublicStudies, object: childParamObject, actionOf: publicStudiesAction},
	"GetPublicLab":      {action: authz.ListPublicStudies},

	"SetStudyImage":       {action: authz.EditStudy, object: studyObject},
	"GetStudyImage":       {action: authz.ReadStudy, object: studyObject},
	"GetPublicStudyImage": {action: authz.ListPublicStudies}, // active studies only (the handler's query)

	"DeletePreviewData": {action: authz.DeletePreviewData, object: studyObject},
	"BuildStudy":        {action: authz.EditStudy, object: studyObject},

	// Participant video: authz.WatchVideo weighs consent and the video's kind.
	"GetVideoUrl": {action: authz.WatchVideo, object: videoObject},

	"ListStudyResponses":          {action: authz.ReadResponses, object: studyDataObject},
	"GetStudyResponse":            {action: authz.ReadResponses, object: responseObject},
	"SetResponseResearcherFields": {action: authz.EditFeedback, object: responseObject},
	"AddResponseFeedback":         {action: authz.EditFeedback, object: responseObject},
	"EditResponseFeedback":        {action: authz.EditFeedback, object: feedbackObject},

	// Downloads stream what the response views show; exports follow the video rule (see authz).
	"DownloadStudyFile": {action: authz.ReadResponses, object: studyDataObject},
	"CreateExport":      {action: authz.ExportData, object: exportRequestObject},
	"GetExport":         {action: authz.ReadExport, object: exportObject},
	"ListStudyExports":  {action: authz.ReadStudy, object: studyObject}, // the caller's own exports
	"ListConsent":       {action: authz.ReviewConsent, object: studyDataObject},
	"RuleOnConsent":     {action: authz.CodeConsent, object: studyDataObject},

	"ListStudyParticipants": {action: authz.ContactParticipants, object: studyObject},
	"ListStudyMessages":     {action: authz.ContactParticipants, object: studyObject},
	"SendStudyMessage":      {action: authz.ContactParticipants, object: studyObject},

	// A family takes part with one of its own children.
	"ParticipateExternal": {action: authz.CreateResponse, object: participantObject},
	// A family's own past sessions, with the researchers' feedback.
	"ListPastSessions": {action: authz.ReadOwnPastSession},
	"GetOwnVideoUrl":   {action: authz.WatchOwnVideo, object: ownVideoObject},
}

// participantObject loads the family of the child a family takes part with.
func participantObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	r, ok := request.(appapi.ParticipateExternalRequestObject)
	if !ok {
		return authz.Object{}, fmt.Errorf("httpapi: participantObject: unexpected request %T", request)
	}
	if r.Body == nil {
		return authz.Object{}, apperr.New(apperr.Invalid, "request body is required")
	}
	f, err := s.families(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	owner, _, err := f.FindChild(ctx, r.Body.Child)
	if err != nil {
		if apperr.As(err).Code == apperr.NotFound {
			return authz.Object{}, apperr.Field("/child", "no such child in your family")
		}
		return authz.Object{}, err
	}
	return authz.Object{OwnerID: owner}, nil
}

func publicStudiesAction(request any) authz.Action {
	if r, ok := request.(appapi.ListPublicStudiesRequestObject); ok && r.Params.Child != nil {
		return authz.ReadChild
	}
	return authz.ListPublicStudies
}

// childParamObject loads the family of the child a public-study list is filtered by.
func childParamObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	r, ok := request.(appapi.ListPublicStudiesRequestObject)
	if !ok {
		return authz.Object{}, fmt.Errorf("httpapi: childParamObject: unexpected request %T", request)
	}
	if r.Params.Child == nil {
		return authz.Object{}, nil
	}
	f, err := s.families(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	owner, _, err := f.FindChild(ctx, *r.Params.Child)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{OwnerID: owner}, nil
}

// studyObject loads the study a request names, with its lab.
func studyObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	var id string
	switch r := request.(type) {
	case appapi.GetStudyRequestObject:
		id = r.StudyId
	case appapi.UpdateStudyRequestObject:
		id = r.StudyId
	case appapi.TransitionStudyRequestObject:
		id = r.StudyId
	case appapi.GetStudyLogRequestObject:
		id = r.StudyId
	case appapi.CloneStudyRequestObject:
		id = r.StudyId
	case appapi.ListStudyResearchersRequestObject:
		id = r.StudyId
	case appapi.SetStudyResearcherRequestObject:
		id = r.StudyId
	case appapi.RemoveStudyResearcherRequestObject:
		id = r.StudyId
	case appapi.SetStudyImageRequestObject:
		id = r.StudyId
	case appapi.GetStudyImageRequestObject:
		id = r.StudyId
	case appapi.DeletePreviewDataRequestObject:
		id = r.StudyId
	case appapi.BuildStudyRequestObject:
		id = r.StudyId
	case appapi.ListStudyParticipantsRequestObject:
		id = r.StudyId
	case appapi.ListStudyMessagesRequestObject:
		id = r.StudyId
	case appapi.ListStudyExportsRequestObject:
		id = r.StudyId
	case appapi.SendStudyMessageRequestObject:
		id = r.StudyId
	default:
		return authz.Object{}, fmt.Errorf("httpapi: studyObject: unexpected request %T", request)
	}
	st, err := s.studies(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	studyID, labID, err := st.ID(ctx, id)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{StudyID: studyID, LabID: labID}, nil
}

// transitionAction is the action of a trigger: approving and rejecting are site admins'.
func transitionAction(request any) authz.Action {
	r, ok := request.(appapi.TransitionStudyRequestObject)
	if !ok || r.Body == nil {
		return authz.ChangeStatus
	}
	t, err := studies.ParseTrigger(r.Body.Trigger)
	if err != nil {
		return authz.ChangeStatus // the handler answers 400
	}
	return t.Action()
}

// labObject loads the lab a request names.
func labObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	var id string
	switch r := request.(type) {
	case appapi.GetLabRequestObject:
		id = r.LabId
	case appapi.UpdateLabRequestObject:
		id = r.LabId
	case appapi.SetLabApprovalRequestObject:
		id = r.LabId
	case appapi.RequestToJoinLabRequestObject:
		id = r.LabId
	case appapi.ListLabMembersRequestObject:
		id = r.LabId
	case appapi.SetLabMemberRoleRequestObject:
		id = r.LabId
	case appapi.RemoveLabMemberRequestObject:
		id = r.LabId
	case appapi.CreateStudyRequestObject:
		id = r.LabId
	default:
		return authz.Object{}, fmt.Errorf("httpapi: labObject: unexpected request %T", request)
	}
	l, err := s.labs(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	labID, err := l.ID(ctx, id)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{LabID: labID}, nil
}

// childObject loads the family a child belongs to. Lookit's child update view checked no
// ownership at all (reference §10, gap 3); here every child route asks Authorize.
func childObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	var id string
	switch r := request.(type) {
	case appapi.GetChildRequestObject:
		id = r.ChildId
	case appapi.UpdateChildRequestObject:
		id = r.ChildId
	case appapi.DeleteChildRequestObject:
		id = r.ChildId
	default:
		return authz.Object{}, fmt.Errorf("httpapi: childObject: unexpected request %T", request)
	}
	f, err := s.families(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	owner, _, err := f.FindChild(ctx, id)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{OwnerID: owner}, nil
}

type httpKey struct{}

type objectKey struct{}

// objectFrom returns the object the authorize middleware loaded and authorized.
func objectFrom(ctx context.Context) authz.Object {
	o, _ := ctx.Value(objectKey{}).(authz.Object)
	return o
}

type httpPair struct {
	w http.ResponseWriter
	r *http.Request
}

func httpFrom(ctx context.Context) (http.ResponseWriter, *http.Request) {
	p := ctx.Value(httpKey{}).(httpPair)
	return p.w, p.r
}

// authorize is the strict middleware every app API operation passes through: it asks
// authz.Authorize about the operation's action and object, so no handler decides access itself.
func (s *appServer) authorize(f appapi.StrictHandlerFunc, operationID string) appapi.StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, request any) (any, error) {
		op, ok := operations[operationID]
		if !ok {
			return nil, apperr.New(apperr.Forbidden, "operation %s is not authorized for anyone", operationID)
		}
		p := PrincipalFrom(ctx)
		action := op.action
		if op.actionOf != nil {
			action = op.actionOf(request)
		}
		obj := authz.Object{OwnerID: p.Subject.UserID}
		if err := authz.Precheck(p.Subject, action); err != nil {
			return nil, err
		}
		if op.object != nil {
			// Anonymous callers learn nothing about objects: they are asked to log in first
			// (or, for public actions, go on without one).
			if p.Subject.Anonymous() {
				if err := authz.Authorize(p.Subject, action, authz.Object{}); err != nil {
					return nil, err
				}
				obj = authz.Object{}
			} else {
				var err error
				if obj, err = op.object(ctx, s, request); err != nil {
					return nil, err
				}
			}
		}
		if err := authz.Authorize(p.Subject, action, obj); err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, objectKey{}, obj)
		return f(context.WithValue(ctx, httpKey{}, httpPair{w, r}), w, r, request)
	}
}

// appServer implements the app API.
type appServer struct {
	in *instance.Instance
}

var _ appapi.StrictServerInterface = (*appServer)(nil)

func newAppAPI(in *instance.Instance, mux *http.ServeMux) {
	errs := func(w http.ResponseWriter, r *http.Request, err error) { web.Error(w, r, in.Log, err) }
	srv := &appServer{in: in}
	strict := appapi.NewStrictHandlerWithOptions(srv, []appapi.StrictMiddlewareFunc{srv.authorize},
		appapi.StrictHTTPServerOptions{
			RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				errs(w, r, requestError(err))
			},
			ResponseErrorHandlerFunc: errs,
		})
	appapi.HandlerWithOptions(strict, appapi.StdHTTPServerOptions{
		BaseRouter:       mux,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) { errs(w, r, requestError(err)) },
		Middlewares: []appapi.MiddlewareFunc{func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r))
				authenticate(in, next).ServeHTTP(w, r)
			})
		}},
	})
}

// requestError turns a decoding or parameter error of the generated code into a 4xx.
func requestError(err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	if strings.HasPrefix(err.Error(), "can't decode JSON body") {
		return web.DecodeError(err, appBodyLimit)
	}
	return apperr.Wrap(err, apperr.Invalid, "malformed request: "+firstLine(err.Error()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func (s *appServer) auth(ctx context.Context) (*postgres.Auth, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Auth{Pool: pool}, nil
}

func (s *appServer) setCookies(w http.ResponseWriter, key, csrf string, expires time.Time) {
	secure := !s.in.Config.IsLocal()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: key, Path: "/", Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	// The experiment runner reads csrftoken from document.cookie: it must not be HttpOnly.
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: expires,
		Secure: secure, SameSite: http.SameSiteLaxMode})
}

func (s *appServer) Login(ctx context.Context, req appapi.LoginRequestObject) (appapi.LoginResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	email := strings.TrimSpace(req.Body.Email)
	if email == "" || len(email) > 254 {
		return nil, apperr.Field("/email", "email is required")
	}
	if req.Body.Password == "" || len(req.Body.Password) > 1024 {
		return nil, apperr.Field("/password", "password is required")
	}
	a, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	w, r := httpFrom(ctx)
	l, err := a.Login(ctx, email, req.Body.Password, clientAddr(r), r.UserAgent())
	if err != nil {
		return nil, err
	}
	// A log-in replaces the session the browser had.
	if old := PrincipalFrom(ctx).SessionKey; old != "" {
		if err := a.Logout(ctx, old); err != nil {
			// The new session stands; the old one expires on its own.
			logging.Error(ctx, s.in.Log, "could not end the session a log-in replaced", err)
		}
	}
	s.setCookies(w, l.SessionKey, l.CSRFToken, l.Expires)
	me, err := s.me(ctx, l.UserID, false)
	if err != nil {
		return nil, err
	}
	return appapi.Login200JSONResponse{User: me, TwoFactorRequired: l.NeedsTwoFactor, TotpSetupRequired: l.NeedsTOTPSetup}, nil
}

func (s *appServer) VerifyTwoFactor(ctx context.Context, req appapi.VerifyTwoFactorRequestObject) (appapi.VerifyTwoFactorResponseObject, error) {
	p := PrincipalFrom(ctx)
	if p.Session == nil {
		return nil, apperr.New(apperr.Forbidden, "two-factor authentication completes a browser session")
	}
	if req.Body == nil || strings.TrimSpace(req.Body.Code) == "" {
		return nil, apperr.Field("/code", "code is required")
	}
	a, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.VerifyTwoFactor(ctx, *p.Session, strings.TrimSpace(req.Body.Code)); err != nil {
		return nil, err
	}
	return appapi.VerifyTwoFactor204Response{}, nil
}

func (s *appServer) Logout(ctx context.Context, _ appapi.LogoutRequestObject) (appapi.LogoutResponseObject, error) {
	p := PrincipalFrom(ctx)
	if p.Session == nil {
		return nil, apperr.New(apperr.Forbidden, "log-out ends a browser session; revoke API tokens instead")
	}
	a, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.Logout(ctx, p.SessionKey); err != nil {
		return nil, err
	}
	w, _ := httpFrom(ctx)
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == SessionCookie,
			Secure: !s.in.Config.IsLocal(), SameSite: http.SameSiteLaxMode})
	}
	return appapi.Logout204Response{}, nil
}

func (s *appServer) me(ctx context.Context, userID int64, twoFactor bool) (appapi.Me, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return appapi.Me{}, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	u, err := db.New(pool).FindUserByID(ctx, userID)
	if err != nil {
		return appapi.Me{}, err
	}
	return appapi.Me{
		Id: uuidOf(u.Uuid), Email: u.Email, EmailVerified: u.EmailVerifiedAt.Valid, GivenName: u.GivenName, FamilyName: u.FamilyName, Nickname: u.Nickname,
		IsResearcher: u.IsResearcher, IsSiteAdmin: u.IsSiteAdmin, TwoFactor: twoFactor,
		EmailPreferences: appapi.EmailPreferences{
			EmailNextSession: u.EmailNextSession, EmailNewStudies: u.EmailNewStudies,
			EmailStudyUpdates: u.EmailStudyUpdates, EmailResponseQuestions: u.EmailResponseQuestions,
		},
	}, nil
}

func (s *appServer) GetMe(ctx context.Context, _ appapi.GetMeRequestObject) (appapi.GetMeResponseObject, error) {
	p := PrincipalFrom(ctx)
	me, err := s.me(ctx, p.Subject.UserID, p.Subject.SecondFactor)
	if err != nil {
		return nil, err
	}
	return appapi.GetMe200JSONResponse(me), nil
}

func (s *appServer) ListSessions(ctx context.Context, _ appapi.ListSessionsRequestObject) (appapi.ListSessionsResponseObject, error) {
	p := PrincipalFrom(ctx)
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	rows, err := db.New(pool).ListSessions(ctx, p.Subject.UserID)
	if err != nil {
		return nil, err
	}
	current := ""
	if p.Session != nil {
		current = hex.EncodeToString(auth.Hash(p.SessionKey))
	}
	out := appapi.ListSessions200JSONResponse{}
	for _, r := range rows {
		id := hex.EncodeToString(r.IDHash)
		out = append(out, appapi.SessionInfo{Id: id, CreatedAt: r.CreatedAt.Time, LastSeenAt: r.LastSeenAt.Time,
			ExpiresAt: r.ExpiresAt.Time, UserAgent: r.UserAgent, Current: id == current, TwoFactor: r.TwoFactorAt.Valid})
	}
	return out, nil
}

func (s *appServer) RevokeSession(ctx context.Context, req appapi.RevokeSessionRequestObject) (appapi.RevokeSessionResponseObject, error) {
	h, err := hex.DecodeString(req.SessionId)
	if err != nil || len(h) != 32 {
		return nil, apperr.New(apperr.NotFound, "no such session")
	}
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	n, err := db.New(pool).DeleteUserSession(ctx, db.DeleteUserSessionParams{UserID: PrincipalFrom(ctx).Subject.UserID, IDHash: h})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, apperr.New(apperr.NotFound, "no such session")
	}
	return appapi.RevokeSession204Response{}, nil
}

func (s *appServer) ListTokens(ctx context.Context, _ appapi.ListTokensRequestObject) (appapi.ListTokensResponseObject, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	rows, err := db.New(pool).ListAPITokens(ctx, PrincipalFrom(ctx).Subject.UserID)
	if err != nil {
		return nil, err
	}
	out := appapi.ListTokens200JSONResponse{}
	for _, r := range rows {
		out = append(out, tokenInfo(r.Uuid, r.Name, r.Prefix, r.Scope, r.CreatedAt, r.ExpiresAt, r.LastUsedAt))
	}
	return out, nil
}

func tokenInfo(id, name, prefix, scope string, created, expires, used pgtype.Timestamptz) appapi.TokenInfo {
	t := appapi.TokenInfo{Id: uuidOf(id), Name: name, Prefix: prefix, Scope: appapi.TokenInfoScope(scope),
		CreatedAt: created.Time, ExpiresAt: expires.Time}
	if used.Valid {
		t.LastUsedAt = &used.Time
	}
	return t
}

func (s *appServer) CreateToken(ctx context.Context, req appapi.CreateTokenRequestObject) (appapi.CreateTokenResponseObject, error) {
	p := PrincipalFrom(ctx)
	if p.ViaToken {
		return nil, apperr.New(apperr.Forbidden, "API tokens are created from a browser session")
	}
	if p.Subject.Researcher && !p.Subject.SecondFactor {
		return nil, apperr.New(apperr.Forbidden, "two-factor authentication is required")
	}
	if req.Body == nil {
		return nil, apperr.New(apperr.Invalid, "request body is required")
	}
	days := req.Body.ExpiresInDays
	if days < 1 || days > 366 {
		return nil, apperr.Field("/expires_in_days", "tokens last from 1 to 366 days")
	}
	a, err := s.auth(ctx)
	if err != nil {
		return nil, err
	}
	key, id, err := a.CreateToken(ctx, p.Subject.UserID, req.Body.Name, authz.Scope(req.Body.Scope), time.Duration(days)*24*time.Hour)
	if err != nil {
		return nil, err
	}
	rows, err := db.New(a.Pool).ListAPITokens(ctx, p.Subject.UserID)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Uuid == id {
			return appapi.CreateToken201JSONResponse{Key: key,
				Token: tokenInfo(r.Uuid, r.Name, r.Prefix, r.Scope, r.CreatedAt, r.ExpiresAt, r.LastUsedAt)}, nil
		}
	}
	return nil, errors.New("httpapi: created token not found")
}

func (s *appServer) RevokeToken(ctx context.Context, req appapi.RevokeTokenRequestObject) (appapi.RevokeTokenResponseObject, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	n, err := db.New(pool).RevokeAPIToken(ctx, db.RevokeAPITokenParams{UserID: PrincipalFrom(ctx).Subject.UserID, Uuid: req.TokenId.String()})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, apperr.New(apperr.NotFound, "no such token")
	}
	return appapi.RevokeToken204Response{}, nil
}

// uuidOf converts a UUID the database produced; it cannot be malformed.
func uuidOf(s string) openapi_types.UUID {
	u, _ := uuid.Parse(s)
	return u
}
