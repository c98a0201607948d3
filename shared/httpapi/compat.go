package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/jsonapi"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/protocol"
	"lookit.dev/platform/shared/studies"
	"lookit.dev/platform/shared/videos"
	"lookit.dev/platform/shared/web"
)

// The Lookit-compatible JSON:API (reference §4, frameplayer-contract.md §1), served under
// /api/v1/ and /api/v2/ alike for the unmodified experiment runners. Every handler decides
// access with authz.Authorize on the object it loaded; CompatRoutes lists the routes for the
// route matrix test.

// compatBodyLimit admits the runner's whole-record saves (the contract asks for at least 10 MB).
const compatBodyLimit = 16 << 20

// CompatRoute is one route of the compatibility API.
type CompatRoute struct {
	Method, Path, Name string
}

type compatHandler func(s *compatServer, w http.ResponseWriter, r *http.Request, p *Principal) error

var compatRoutes = []struct {
	CompatRoute
	h compatHandler
}{
	{CompatRoute{"GET", "studies/{id}/", "GetStudy"}, (*compatServer).getStudy},
	{CompatRoute{"GET", "studies/{id}/responses/", "StudyResponses"}, (*compatServer).studyResponses},
	{CompatRoute{"GET", "children/{id}/", "GetChild"}, (*compatServer).getChild},
	{CompatRoute{"POST", "responses/", "CreateResponse"}, (*compatServer).createResponse},
	{CompatRoute{"GET", "responses/{id}/", "GetResponse"}, (*compatServer).getResponse},
	{CompatRoute{"PATCH", "responses/{id}/", "UpdateResponse"}, (*compatServer).updateResponse},
	{CompatRoute{"PUT", "responses/{id}/", "ReplaceResponse"}, (*compatServer).updateResponse},
	{CompatRoute{"GET", "past-sessions/{id}/", "PastSessions"}, (*compatServer).pastSessions},
	{CompatRoute{"GET", "responses/", "ListResponses"}, (*compatServer).listResponses},
	{CompatRoute{"GET", "studies/", "ListStudies"}, (*compatServer).listStudies},
	{CompatRoute{"GET", "children/", "ListChildren"}, (*compatServer).listChildren},
	{CompatRoute{"GET", "labs/", "ListLabs"}, (*compatServer).listLabs},
	{CompatRoute{"GET", "labs/{id}/", "GetLab"}, (*compatServer).getLab},
	{CompatRoute{"GET", "users/", "ListUsers"}, (*compatServer).listUsers},
	{CompatRoute{"GET", "users/{id}/", "GetUser"}, (*compatServer).getUser},
	{CompatRoute{"GET", "users/{id}/children/", "ListUserChildren"}, (*compatServer).listUserChildren},
	{CompatRoute{"GET", "users/{id}/demographics/", "ListUserDemographics"}, (*compatServer).listUserDemographics},
	{CompatRoute{"GET", "demographics/", "ListDemographics"}, (*compatServer).listDemographics},
	{CompatRoute{"GET", "demographics/{id}/", "GetDemographics"}, (*compatServer).getDemographics},
	{CompatRoute{"GET", "feedback/", "ListFeedback"}, (*compatServer).listFeedback},
	{CompatRoute{"GET", "feedback/{id}/", "GetFeedback"}, (*compatServer).getFeedback},
	{CompatRoute{"POST", "feedback/", "CreateFeedback"}, (*compatServer).createFeedback},
	{CompatRoute{"PATCH", "feedback/{id}/", "UpdateFeedback"}, (*compatServer).updateFeedback},
	{CompatRoute{"PUT", "feedback/{id}/", "ReplaceFeedback"}, (*compatServer).updateFeedback},
}

// CompatRoutes lists the compatibility API's routes (under /api/v1/; /api/v2/ is the same).
func CompatRoutes() []CompatRoute {
	out := make([]CompatRoute, len(compatRoutes))
	for i, r := range compatRoutes {
		out[i] = r.CompatRoute
	}
	return out
}

type compatServer struct {
	in *instance.Instance
}

func newCompatAPI(in *instance.Instance, mux *http.ServeMux) {
	s := &compatServer{in: in}
	// The S3 upload hook is authenticated by its own signature, not by a session or token.
	hook := &videos.UploadHook{Secret: in.Config.VideoHookSecret, DB: in.DB, Log: in.Log}
	for _, version := range []string{"v1", "v2"} {
		mux.Handle("POST /api/"+version+"/video/", hook)
		for _, rt := range compatRoutes {
			h := rt.h
			mux.Handle(rt.Method+" /api/"+version+"/"+rt.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Body = http.MaxBytesReader(w, r.Body, compatBodyLimit)
				if r.Method != http.MethodGet && !jsonAPIContent(r.Header.Get("Content-Type")) {
					web.Error(w, r, in.Log, apperr.New(apperr.Unsupported, "send the body as %s", jsonapi.MediaType))
					return
				}
				authenticate(in, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := h(s, w, r, PrincipalFrom(r.Context())); err != nil {
						web.Error(w, r, in.Log, err)
					}
				})).ServeHTTP(w, r)
			}))
		}
	}
}

// jsonAPIContent accepts JSON:API's media type and plain JSON (some clients send that).
func jsonAPIContent(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == jsonapi.MediaType || mt == "application/json"
}

func (s *compatServer) studies(ctx context.Context) (*postgres.Studies, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Studies{Pool: pool, From: s.in.Config.EmailFrom, BaseURL: s.in.Config.BaseURL.String()}, nil
}

// url is an absolute API URL in the request's version, as Lookit renders links.
func (s *compatServer) url(r *http.Request, parts ...string) string {
	version := "v1"
	if strings.HasPrefix(r.URL.Path, "/api/v2/") {
		version = "v2"
	}
	return strings.TrimRight(s.in.Config.BaseURL.String(), "/") + "/api/" + version + "/" + strings.Join(parts, "/") + "/"
}

func writeDoc(w http.ResponseWriter, status int, v any) {
	web.JSON(w, status, jsonapi.MediaType, v)
}

type single struct {
	Data jsonapi.Resource `json:"data"`
}

// presizeLimit bounds how much of a declared Content-Length readBody allocates before the bytes
// arrive, so that a declared length alone cannot make the server hold much memory.
const presizeLimit = 1 << 20

// readBody reads a request body within the compatibility API's cap. A declared length sizes the
// buffer at once: the runner's saves are large, and growing the buffer would copy them repeatedly.
func readBody(r *http.Request) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), presizeLimit)+bytes.MinRead))
	_, err := buf.ReadFrom(r.Body)
	b := buf.Bytes()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, apperr.New(apperr.TooLarge, "request body exceeds %d bytes", compatBodyLimit)
	}
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "could not read the request body")
	}
	return b, nil
}

// studyObject is the authorization object of a study row.
func studyObj(id, labID int64) authz.Object { return authz.Object{StudyID: id, LabID: labID} }

// canPreview reports whether the subject may preview a study that is not active: read
// permission on it, or any researcher when the study is shared for preview.
func canPreview(sub authz.Subject, st db.CompatStudyRow) error {
	return mayPreview(sub, st.ID, st.LabID, st.SharedPreview)
}

type studyAttributes struct {
	Name              string          `json:"name"`
	ShortDescription  string          `json:"short_description"`
	Purpose           string          `json:"purpose"`
	Criteria          string          `json:"criteria"`
	Duration          string          `json:"duration"`
	ContactInfo       string          `json:"contact_info"`
	Image             *string         `json:"image"`
	Structure         json.RawMessage `json:"structure"`
	Generator         string          `json:"generator"`
	UseGenerator      bool            `json:"use_generator"`
	DisplayFullScreen bool            `json:"display_full_screen"`
	ExitURL           string          `json:"exit_url"`
	State             string          `json:"state"`
	Public            bool            `json:"public"`
	URL               string          `json:"url"`
	PK                int64           `json:"pk"`
}

func (s *compatServer) getStudy(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.ReadActiveStudy); err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	row, err := st.CompatStudy(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	// Families see active studies; researchers also those they may preview (Lookit's rule).
	if studies.State(row.State) == studies.Active {
		err = authz.Authorize(p.Subject, authz.ReadActiveStudy, authz.Object{})
	} else if err = canPreview(p.Subject, row); err != nil {
		err = apperr.New(apperr.NotFound, "no such study")
	}
	if err != nil {
		return err
	}
	writeDoc(w, http.StatusOK, single{Data: s.studyResource(r, row)})
	return nil
}

func (s *compatServer) studyResource(r *http.Request, row db.CompatStudyRow) jsonapi.Resource {
	exit := row.ExitUrl
	if exit == "" {
		exit = strings.TrimRight(s.in.Config.BaseURL.String(), "/") + "/studies/history/"
	}
	var image *string
	if row.ImageObject != "" {
		u := strings.TrimRight(s.in.Config.BaseURL.String(), "/") + "/api/public/studies/" + row.Uuid + "/image"
		image = &u
	}
	self := s.url(r, "studies", row.Uuid)
	return jsonapi.Resource{Type: "studies", ID: row.Uuid,
		Attributes: studyAttributes{Name: row.Name, ShortDescription: row.ShortDescription, Purpose: row.Purpose,
			Criteria: row.Criteria, Duration: row.Duration, ContactInfo: row.ContactInfo, Image: image,
			Structure: row.Structure, Generator: row.Generator, UseGenerator: row.UseGenerator,
			DisplayFullScreen: row.DisplayFullScreen, ExitURL: exit, State: row.State, Public: row.Public, URL: self, PK: row.ID},
		// The runner loads past sessions from this link and cannot start without it.
		Relationships: map[string]jsonapi.Relationship{"responses": {Links: &jsonapi.Links{Related: s.url(r, "studies", row.Uuid, "responses")}}},
		Links:         &jsonapi.Links{Self: self}}
}

type childAttributes struct {
	GivenName             string `json:"given_name"`
	Birthday              string `json:"birthday"`
	Gender                string `json:"gender"`
	AgeAtBirth            string `json:"age_at_birth"`
	AdditionalInformation string `json:"additional_information"`
	LanguageList          string `json:"language_list"`
	ConditionList         string `json:"condition_list"`
	Deleted               bool   `json:"deleted"`
	URL                   string `json:"url"`
	PK                    int64  `json:"pk"`
}

func (s *compatServer) getChild(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.ReadChild); err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	c, err := st.CompatChild(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := authz.Authorize(p.Subject, authz.ReadChild, authz.Object{OwnerID: c.UserID}); err != nil {
		// Researchers see the children of consented responses they may read (Lookit's rule).
		ok, verr := st.ChildVisible(r.Context(), c.ID, readable(p.Subject))
		if verr != nil {
			return verr
		}
		if !ok {
			return err
		}
	}
	writeDoc(w, http.StatusOK, single{Data: s.childResource(r, c)})
	return nil
}

func (s *compatServer) childResource(r *http.Request, c db.CompatChildRow) jsonapi.Resource {
	child := accounts.Child{Birthday: accounts.DateOf(c.Birthday.Time), GestationalAge: c.GestationalAgeAtBirth,
		Conditions: accounts.Conditions(c.ExistingConditions), Languages: accounts.Languages(c.LanguagesSpoken)}
	self := s.url(r, "children", c.Uuid)
	return jsonapi.Resource{Type: "children", ID: c.Uuid,
		Attributes: childAttributes{GivenName: c.GivenName, Birthday: child.Birthday.String(), Gender: c.Gender,
			AgeAtBirth: child.AgeAtBirth(), AdditionalInformation: c.AdditionalInformation,
			LanguageList: child.LanguageList(), ConditionList: child.ConditionList(), Deleted: c.Deleted, URL: self, PK: c.ID},
		Relationships: map[string]jsonapi.Relationship{"user": {Links: &jsonapi.Links{Related: s.url(r, "users", c.UserUuid)}}},
		Links:         &jsonapi.Links{Self: self}}
}

type responseAttributes struct {
	Conditions            json.RawMessage `json:"conditions"`
	GlobalEventTimings    json.RawMessage `json:"global_event_timings"`
	ExpData               json.RawMessage `json:"exp_data"`
	Sequence              []string        `json:"sequence"`
	Completed             bool            `json:"completed"`
	CompletedConsentFrame bool            `json:"completed_consent_frame"`
	SurveyConsent         bool            `json:"survey_consent"`
	CreatedOn             time.Time       `json:"created_on"`
	IsPreview             bool            `json:"is_preview"`
	HashChildID           string          `json:"hash_child_id"`
	RecordingMethod       *string         `json:"recording_method"`
	Withdrawn             bool            `json:"withdrawn"`
	Eligibility           []string        `json:"eligibility"`
	PK                    int64           `json:"pk"`
}

func (s *compatServer) responseResource(r *http.Request, row db.CompatResponseRow) jsonapi.Resource {
	childID, _ := uuid.Parse(row.ChildUuid)
	studyID, _ := uuid.Parse(row.StudyUuid)
	salt, _ := uuid.Parse(row.StudySalt)
	orEmpty := func(b []byte, empty string) json.RawMessage {
		if len(b) == 0 {
			return json.RawMessage(empty)
		}
		return b
	}
	seq := row.Sequence
	if seq == nil {
		seq = []string{}
	}
	self := s.url(r, "responses", row.Uuid)
	return jsonapi.Resource{Type: "responses", ID: row.Uuid,
		Attributes: responseAttributes{Conditions: orEmpty(row.Conditions, "{}"), GlobalEventTimings: orEmpty(row.GlobalEventTimings, "[]"),
			ExpData: orEmpty(row.ExpData, "{}"), Sequence: seq, Completed: row.Completed,
			CompletedConsentFrame: row.CompletedConsentFrame, SurveyConsent: row.SurveyConsent, CreatedOn: row.CreatedAt.Time,
			IsPreview: row.IsPreview, HashChildID: hashedid.Of(childID, studyID, salt, int(row.HashDigits)),
			RecordingMethod: row.RecordingMethod, Withdrawn: protocol.Withdrawn(studies.TypeOf(row.StudyTypeID) == studies.JSPsych, row.ExpData, row.Sequence), Eligibility: row.Eligibility, PK: row.ID},
		Relationships: map[string]jsonapi.Relationship{
			"child": {Data: &jsonapi.Identifier{Type: "children", ID: row.ChildUuid}, Links: &jsonapi.Links{Related: s.url(r, "children", row.ChildUuid)}},
			"study": {Data: &jsonapi.Identifier{Type: "studies", ID: row.StudyUuid}, Links: &jsonapi.Links{Related: s.url(r, "studies", row.StudyUuid)}},
		},
		Links: &jsonapi.Links{Self: self}}
}

func (s *compatServer) getResponse(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.ReadOwnResponses); err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	row, err := st.CompatResponse(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := authz.Authorize(p.Subject, authz.ReadOwnResponses, authz.Object{OwnerID: row.FamilyID}); err != nil {
		// Researchers read consented responses of studies where they hold real-data (or, for
		// previews, preview-data) permission; others learn nothing of the response.
		obj := authz.Object{StudyID: row.StudyID, LabID: row.LabID, Preview: row.IsPreview}
		if authz.Authorize(p.Subject, authz.ReadResponses, obj) != nil {
			return err
		}
		ok, cerr := st.Consented(r.Context(), row.ID)
		if cerr != nil {
			return cerr
		}
		if !ok {
			return apperr.New(apperr.NotFound, "no such response")
		}
	}
	writeResponse(w, http.StatusOK, s.responseResource(r, row))
	return nil
}

// readable is where the subject may read response data as a researcher (authz's set form).
func readable(sub authz.Subject) postgres.ReadableData {
	return postgres.ReadableData{Real: sub.Holding(authz.ReadStudyResponseData), Preview: sub.Holding(authz.ReadStudyPreviewData)}
}

// listResponses is Lookit's flat list: the caller's children's responses and the consented
// responses they may read as a researcher, newest-modified first, paginated.
func (s *compatServer) listResponses(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.list(w, r, authz.ReadSelf, func(st *postgres.Studies, page jsonapi.Page) ([]string, int, error) {
		return st.VisibleResponses(r.Context(), p.Subject.UserID, readable(p.Subject), page.Size, page.Offset())
	}, s.loadResponse(r))
}

// list answers a list request: one page of the ids a query picks, each loaded as a resource.
func (s *compatServer) list(w http.ResponseWriter, r *http.Request, action authz.Action,
	pick func(st *postgres.Studies, page jsonapi.Page) ([]string, int, error),
	load func(st *postgres.Studies, id string) (jsonapi.Resource, error)) error {
	if err := authz.Authorize(PrincipalFrom(r.Context()).Subject, action, authz.Object{}); err != nil {
		return err
	}
	page, err := jsonapi.ParsePage(r.URL.Query())
	if err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	ids, count, err := pick(st, page)
	if err != nil {
		return err
	}
	data := make([]jsonapi.Resource, 0, len(ids))
	for _, id := range ids {
		res, err := load(st, id)
		if err != nil {
			return err
		}
		data = append(data, res)
	}
	writeDoc(w, http.StatusOK, jsonapi.NewList(s.listURL(r), page, count, data))
	return nil
}

func (s *compatServer) loadResponse(r *http.Request) func(*postgres.Studies, string) (jsonapi.Resource, error) {
	return func(st *postgres.Studies, id string) (jsonapi.Resource, error) {
		row, err := st.CompatResponse(r.Context(), id)
		return s.responseResource(r, row), err
	}
}

// studyResponses is the runner's past-sessions request: ?child=<uuid> (which must be the
// caller's) and Lookit's pagination; without a child, the caller's own children's responses.
func (s *compatServer) studyResponses(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.ReadOwnResponses); err != nil {
		return err
	}
	page, err := jsonapi.ParsePage(r.URL.Query())
	if err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	study, err := st.CompatStudy(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	child := r.URL.Query().Get("child")
	var rows []db.CompatResponseRow
	count := 0
	if child != "" && child != "TEST_CHILD_DISREGARD" {
		c, err := st.CompatChild(r.Context(), child)
		if err != nil {
			return err
		}
		if err := authz.Authorize(p.Subject, authz.ReadOwnResponses, authz.Object{OwnerID: c.UserID}); err != nil {
			return err
		}
		if rows, count, err = st.ChildResponses(r.Context(), p.Subject.UserID, study.ID, child, page.Size, page.Offset()); err != nil {
			return err
		}
	}
	data := make([]jsonapi.Resource, 0, len(rows))
	for _, row := range rows {
		data = append(data, s.responseResource(r, row))
	}
	list := jsonapi.NewList(s.listURL(r), page, count, data)
	writeResponses(w, http.StatusOK, &list, list.Data)
	return nil
}

// responseInput reads the writable attributes of a response document (read-only ones such as
// created_on and hash_child_id, and unknown ones, are ignored).
func responseInput(in jsonapi.Incoming) (postgres.ResponsePatch, *bool, *string, error) {
	var p postgres.ResponsePatch
	var preview *bool
	var method *string
	raw := func(name string) json.RawMessage {
		v, ok := in.Attributes[name]
		if !ok || string(v) == "null" {
			return nil
		}
		return v
	}
	p.Conditions, p.GlobalEventTimings, p.ExpData = raw("conditions"), raw("global_event_timings"), raw("exp_data")
	decode := func(name string, dst any) error {
		if v := raw(name); v != nil {
			if err := json.Unmarshal(v, dst); err != nil {
				return apperr.Field("/data/attributes/"+name, "%s has the wrong type", name)
			}
		}
		return nil
	}
	for name, dst := range map[string]any{"sequence": &p.Sequence, "completed": &p.Completed,
		"completed_consent_frame": &p.CompletedConsentFrame, "survey_consent": &p.SurveyConsent,
		"is_preview": &preview, "recording_method": &method} {
		if err := decode(name, dst); err != nil {
			return p, nil, nil, err
		}
	}
	if method != nil && (len(*method) > 50 || *method == "") {
		return p, nil, nil, apperr.Field("/data/attributes/recording_method", "recording_method must be 1 to 50 characters")
	}
	return p, preview, method, nil
}

func (s *compatServer) createResponse(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.CreateResponse); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	in, err := jsonapi.Decode(body, "responses")
	if err != nil {
		return err
	}
	childRel, ok := in.Relationships["child"]
	if !ok {
		return apperr.Field("/data/relationships/child", "the child relationship is required")
	}
	studyRel, ok := in.Relationships["study"]
	if !ok {
		return apperr.Field("/data/relationships/study", "the study relationship is required")
	}
	patch, preview, method, err := responseInput(in)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st, err := s.studies(ctx)
	if err != nil {
		return err
	}
	child, err := st.CompatChild(ctx, childRel.ID)
	if err != nil {
		return err
	}
	if err := authz.Authorize(p.Subject, authz.CreateResponse, authz.Object{OwnerID: child.UserID}); err != nil {
		return err
	}
	study, err := st.CompatStudy(ctx, studyRel.ID)
	if err != nil {
		return err
	}
	if method == nil {
		pipe := "pipe" // Lookit's model default: runners that predate recording_method use Pipe
		method = &pipe
	}
	isPreview := preview != nil && *preview
	if isPreview {
		// Previews are researchers' own sessions, with their own child, on studies they may preview.
		if err := canPreview(p.Subject, study); err != nil {
			return err
		}
	}
	created, mails, err := st.CreateResponse(ctx, postgres.NewResponse{FamilyID: p.Subject.UserID, StudyID: study.ID,
		ChildUUID: child.Uuid, Preview: isPreview, RecordingMethod: method})
	if err != nil {
		return err
	}
	publishMail(ctx, s.in, mails)
	// The runner's first save usually comes next; data sent with the creation is kept too.
	if patch.ExpData != nil || patch.Sequence != nil || patch.Conditions != nil || patch.GlobalEventTimings != nil ||
		patch.Completed != nil || patch.CompletedConsentFrame != nil || patch.SurveyConsent != nil {
		if err := s.firstSave(ctx, st, created, p.Subject.UserID, patch); err != nil {
			return err
		}
	}
	// Taking part stretches the family's session to four days, as Lookit does.
	if p.Session != nil {
		pool, err := s.in.DB(ctx)
		if err == nil {
			err = (&postgres.Auth{Pool: pool}).Extend(ctx, *p.Session, postgres.ParticipationTTL)
		}
		if err != nil { // the response is stored; a shorter session is no reason to fail
			logging.Error(ctx, s.in.Log, "could not extend the participating family's session", err)
		}
	}
	row, err := st.CompatResponse(ctx, created.UUID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.url(r, "responses", row.Uuid))
	writeResponse(w, http.StatusCreated, s.responseResource(r, row))
	return nil
}

// firstSave keeps the data sent with a response's creation: in one statement when it can, else
// the full path.
func (s *compatServer) firstSave(ctx context.Context, st *postgres.Studies, created postgres.CreatedResponse, familyID int64, patch postgres.ResponsePatch) error {
	_, ok, err := st.FastSaveResponse(ctx, postgres.ResponseKey{UUID: created.UUID, FamilyID: familyID}, patch)
	if err != nil || ok {
		return err
	}
	_, mails, err := st.SaveResponse(ctx, created.ID, patch)
	if err != nil {
		return err
	}
	publishMail(ctx, s.in, mails)
	return nil
}

// updateResponse saves the runner's whole record. Only the family of the child may write a
// response (Lookit let researchers with real-data access PATCH participants' data, §10 gap 6).
func (s *compatServer) updateResponse(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.EditOwnResponse); err != nil {
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
	// The body is read once, before the response: the common save is then one statement.
	in, decodeErr := jsonapi.Decode(body, "responses")
	var patch postgres.ResponsePatch
	var inputErr error
	if decodeErr == nil {
		patch, _, _, inputErr = responseInput(in)
	}
	if decodeErr == nil && inputErr == nil {
		// A failed attempt falls through: the full path reports any error in Lookit's order
		// (a caller who may not write the response learns that, whatever the data).
		if saved, ok, err := s.fastSave(ctx, r.PathValue("id"), p.Subject, in, patch); err == nil && ok {
			writeResponse(w, http.StatusOK, s.responseResource(r, saved))
			return nil
		}
	}
	// The full path. Only the response's description: its frame data is large and the save
	// replaces it.
	row, err := st.CompatResponseMeta(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := authz.Authorize(p.Subject, authz.EditOwnResponse, authz.Object{OwnerID: row.FamilyID}); err != nil {
		return err
	}
	if decodeErr != nil {
		return decodeErr
	}
	if err := sameID(in, row.Uuid); err != nil {
		return err
	}
	if c, ok := in.Relationships["child"]; ok && c.ID != row.ChildUuid {
		return apperr.Field("/data/relationships/child", "a response's child cannot change")
	}
	if c, ok := in.Relationships["study"]; ok && c.ID != row.StudyUuid {
		return apperr.Field("/data/relationships/study", "a response's study cannot change")
	}
	if inputErr != nil {
		return inputErr
	}
	saved, mails, err := st.SaveResponse(ctx, row.ID, patch)
	if err != nil {
		return err
	}
	publishMail(ctx, s.in, mails)
	writeResponse(w, http.StatusOK, s.responseResource(r, db.CompatResponseRow{ID: row.ID, Uuid: row.Uuid,
		StudyID: row.StudyID, ChildID: row.ChildID, StudyTypeID: row.StudyTypeID, Completed: saved.Completed,
		CompletedConsentFrame: saved.CompletedConsentFrame, SurveyConsent: saved.Consent, ExpData: saved.ExpData,
		Conditions: saved.Conditions, GlobalEventTimings: saved.GlobalEventTimings, Sequence: saved.Sequence,
		IsPreview: row.IsPreview, RecordingMethod: row.RecordingMethod, Eligibility: row.Eligibility, CreatedAt: row.CreatedAt,
		ChildUuid: row.ChildUuid, FamilyID: row.FamilyID, StudyUuid: row.StudyUuid, StudySalt: row.StudySalt,
		HashDigits: row.HashDigits, LabID: row.LabID}))
	return nil
}

// fastSave tries the common save in one statement (postgres.FastSaveResponse): only when the
// caller could save the response as its owner and the document's id names the response as the
// full path reads it, so that the statement's conditions (the caller's own child, the child and
// study the save names) decide the rest. ok=false saved nothing.
func (s *compatServer) fastSave(ctx context.Context, id string, sub authz.Subject, in jsonapi.Incoming, patch postgres.ResponsePatch) (db.CompatResponseRow, bool, error) {
	if authz.Authorize(sub, authz.EditOwnResponse, authz.Object{OwnerID: sub.UserID}) != nil {
		return db.CompatResponseRow{}, false, nil
	}
	// The full path compares data.id with the stored uuid's canonical text.
	if u, err := uuid.Parse(id); err != nil || u.String() != id || (in.ID != "" && in.ID != id) {
		return db.CompatResponseRow{}, false, nil
	}
	key := postgres.ResponseKey{UUID: id, FamilyID: sub.UserID}
	if c, ok := in.Relationships["child"]; ok {
		key.ChildUUID = &c.ID
	}
	if c, ok := in.Relationships["study"]; ok {
		key.StudyUUID = &c.ID
	}
	st, err := s.studies(ctx)
	if err != nil {
		return db.CompatResponseRow{}, false, err
	}
	return st.FastSaveResponse(ctx, key, patch)
}

// sameID refuses an update whose data.id names another resource than the URL (JSON:API's 409).
func sameID(in jsonapi.Incoming, id string) error {
	if in.ID != "" && in.ID != id {
		e := apperr.New(apperr.Conflict, "data.id does not match the URL")
		e.Field = "/data/id"
		return e
	}
	return nil
}

// maxPastSessions bounds the unpaginated past-sessions list (Lookit returned all of them).
const maxPastSessions = 1000

// pastSessions lists every response of the same child to the same study as the given one, for
// the jsPsych data client. Only the child's family may read them (Lookit checked no ownership
// here, reference §10 gap 2).
func (s *compatServer) pastSessions(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Precheck(p.Subject, authz.ReadOwnPastSession); err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	row, err := st.CompatResponse(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := authz.Authorize(p.Subject, authz.ReadOwnPastSession, authz.Object{OwnerID: row.FamilyID}); err != nil {
		return err
	}
	rows, _, err := st.ChildResponses(r.Context(), row.FamilyID, row.StudyID, row.ChildUuid, maxPastSessions, 0)
	if err != nil {
		return err
	}
	doc := struct {
		Data []jsonapi.Resource `json:"data"`
	}{make([]jsonapi.Resource, 0, len(rows))}
	for _, x := range rows {
		doc.Data = append(doc.Data, s.responseResource(r, x))
	}
	writeResponses(w, http.StatusOK, &doc, doc.Data)
	return nil
}

// listURL is the request's URL on the public origin, the base of a list's links.
func (s *compatServer) listURL(r *http.Request) *url.URL {
	base := *r.URL
	base.Scheme, base.Host = s.in.Config.BaseURL.Scheme, s.in.Config.BaseURL.Host
	return &base
}

// listStudies: active public studies; researchers also see studies shared for preview and those
// they may read (Lookit's list rule).
func (s *compatServer) listStudies(w http.ResponseWriter, r *http.Request, p *Principal) error {
	researcher := authz.Authorize(p.Subject, authz.ListStudies, authz.Object{}) == nil
	return s.list(w, r, authz.ReadActiveStudy, func(st *postgres.Studies, page jsonapi.Page) ([]string, int, error) {
		return st.CompatStudies(r.Context(), researcher, p.Subject.Holding(authz.ReadStudyDetails), page.Size, page.Offset())
	}, func(st *postgres.Studies, id string) (jsonapi.Resource, error) {
		row, err := st.CompatStudy(r.Context(), id)
		return s.studyResource(r, row), err
	})
}

// listChildren: the caller's children and, for researchers, those of consented responses they
// may read.
func (s *compatServer) listChildren(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.childList(w, r, p, "")
}

// listUserChildren is /users/{id}/children/: the visible children of one parent (none when the
// parent is not visible, as Lookit's nested route filters the same list).
func (s *compatServer) listUserChildren(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.childList(w, r, p, nestedOwner(r))
}

// nestedOwner is the parent a nested list is narrowed to; a malformed id narrows it to no one.
func nestedOwner(r *http.Request) string {
	if id := r.PathValue("id"); id != "" {
		return id
	}
	return "-"
}

func (s *compatServer) childList(w http.ResponseWriter, r *http.Request, p *Principal, owner string) error {
	return s.list(w, r, authz.ReadSelf, func(st *postgres.Studies, page jsonapi.Page) ([]string, int, error) {
		return st.VisibleChildren(r.Context(), p.Subject.UserID, readable(p.Subject), owner, page.Size, page.Offset())
	}, func(st *postgres.Studies, id string) (jsonapi.Resource, error) {
		c, err := st.CompatChild(r.Context(), id)
		return s.childResource(r, c), err
	})
}

type labAttributes struct {
	Name                      string `json:"name"`
	Institution               string `json:"institution"`
	PrincipalInvestigatorName string `json:"principal_investigator_name"`
	LabWebsite                string `json:"lab_website"`
	Description               string `json:"description"`
	ApprovedToTest            bool   `json:"approved_to_test"`
	URL                       string `json:"url"`
	PK                        int64  `json:"pk"`
}

func (s *compatServer) labResource(r *http.Request, l db.CompatLabRow) jsonapi.Resource {
	self := s.url(r, "labs", l.Uuid)
	return jsonapi.Resource{Type: "labs", ID: l.Uuid, Attributes: labAttributes{Name: l.Name, Institution: l.Institution,
		PrincipalInvestigatorName: l.PrincipalInvestigatorName, LabWebsite: l.LabWebsite, Description: l.Description,
		ApprovedToTest: l.ApprovedToTest, URL: self, PK: l.ID}, Links: &jsonapi.Links{Self: self}}
}

// listLabs and getLab: labs approved to test, for any logged-in user.
func (s *compatServer) listLabs(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Authorize(p.Subject, authz.ListLabs, authz.Object{}); err != nil {
		return err
	}
	page, err := jsonapi.ParsePage(r.URL.Query())
	if err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	rows, count, err := st.CompatLabs(r.Context(), page.Size, page.Offset())
	if err != nil {
		return err
	}
	data := make([]jsonapi.Resource, 0, len(rows))
	for _, l := range rows {
		data = append(data, s.labResource(r, db.CompatLabRow(l)))
	}
	writeDoc(w, http.StatusOK, jsonapi.NewList(s.listURL(r), page, count, data))
	return nil
}

func (s *compatServer) getLab(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := authz.Authorize(p.Subject, authz.ListLabs, authz.Object{}); err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	l, err := st.CompatLab(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeDoc(w, http.StatusOK, single{Data: s.labResource(r, l)})
	return nil
}

// writeResponse answers with one response. Its frame data, which can be megabytes, is spliced in
// as stored instead of being re-encoded (it is valid JSON: it was decoded on the way in, and
// jsonb only ever gives back valid JSON).
func writeResponse(w http.ResponseWriter, status int, res jsonapi.Resource) {
	attrs, ok := res.Attributes.(responseAttributes)
	if !ok {
		writeDoc(w, status, single{Data: res})
		return
	}
	expData := attrs.ExpData
	attrs.ExpData = json.RawMessage("null")
	res.Attributes = attrs
	b, err := json.Marshal(single{Data: res})
	const marker = `"exp_data":null`
	if err != nil || len(expData) == 0 || bytes.Count(b, []byte(marker)) != 1 {
		attrs.ExpData = expData
		res.Attributes = attrs
		writeDoc(w, status, single{Data: res})
		return
	}
	i := bytes.Index(b, []byte(marker)) + len(marker) - len("null")
	w.Header().Set("Content-Type", jsonapi.MediaType)
	w.WriteHeader(status)
	_, _ = w.Write(b[:i])
	_, _ = w.Write(expData)
	_, _ = w.Write(b[i+len("null"):])
}

// writeResponses answers with doc, a document whose resources data (in the order it encodes
// them) are responses, exactly as writeDoc would; but each response's frame data, which can be
// megabytes in a page, is compacted with jsonapi.AppendCompact instead of encoding/json's
// validating scanner (it is valid: jsonb only ever gives back valid JSON).
func writeResponses(w http.ResponseWriter, status int, doc any, data []jsonapi.Resource) {
	expData := make([]json.RawMessage, len(data))
	size := 0
	for i, res := range data {
		attrs, ok := res.Attributes.(responseAttributes)
		if !ok || len(attrs.ExpData) == 0 {
			writeDoc(w, status, doc)
			return
		}
		expData[i] = attrs.ExpData
		size += len(attrs.ExpData)
	}
	for i := range data {
		attrs := data[i].Attributes.(responseAttributes)
		attrs.ExpData = json.RawMessage("null")
		data[i].Attributes = attrs
	}
	b, err := json.Marshal(doc)
	const marker = `"exp_data":null`
	if err != nil || bytes.Count(b, []byte(marker)) != len(data) {
		// Another member (such as conditions) holds the marker: encode the usual way.
		for i := range data {
			attrs := data[i].Attributes.(responseAttributes)
			attrs.ExpData = expData[i]
			data[i].Attributes = attrs
		}
		writeDoc(w, status, doc)
		return
	}
	out := make([]byte, 0, len(b)+size+1)
	for _, e := range expData {
		i := bytes.Index(b, []byte(marker)) + len(marker) - len("null")
		out = jsonapi.AppendCompact(append(out, b[:i]...), e)
		b = b[i+len("null"):]
	}
	out = append(append(out, b...), '\n') // json.Encoder ends the document with a newline
	// The headers of web.JSON.
	w.Header().Set("Content-Type", jsonapi.MediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

type userAttributes struct {
	GivenName              string    `json:"given_name"`
	MiddleName             string    `json:"middle_name"`
	FamilyName             string    `json:"family_name"`
	Nickname               string    `json:"nickname"`
	IsActive               bool      `json:"is_active"`
	IsStaff                bool      `json:"is_staff"`
	IsResearcher           bool      `json:"is_researcher"`
	EmailNextSession       bool      `json:"email_next_session"`
	EmailNewStudies        bool      `json:"email_new_studies"`
	EmailStudyUpdates      bool      `json:"email_study_updates"`
	EmailResponseQuestions bool      `json:"email_response_questions"`
	DateCreated            time.Time `json:"date_created"`
	URL                    string    `json:"url"`
	PK                     int64     `json:"pk"`
}

func (s *compatServer) loadUser(r *http.Request) func(*postgres.Studies, string) (jsonapi.Resource, error) {
	return func(st *postgres.Studies, id string) (jsonapi.Resource, error) {
		u, err := st.CompatUser(r.Context(), id)
		self := s.url(r, "users", u.Uuid)
		return jsonapi.Resource{Type: "users", ID: u.Uuid, Attributes: userAttributes{GivenName: u.GivenName,
			MiddleName: u.MiddleName, FamilyName: u.FamilyName, Nickname: u.Nickname, IsActive: u.IsActive,
			IsResearcher: u.IsResearcher, EmailNextSession: u.EmailNextSession, EmailNewStudies: u.EmailNewStudies,
			EmailStudyUpdates: u.EmailStudyUpdates, EmailResponseQuestions: u.EmailResponseQuestions,
			DateCreated: u.CreatedAt.Time, URL: self, PK: u.ID},
			Relationships: map[string]jsonapi.Relationship{
				"children":     {Links: &jsonapi.Links{Related: s.url(r, "users", u.Uuid, "children")}},
				"demographics": {Links: &jsonapi.Links{Related: s.url(r, "users", u.Uuid, "demographics")}},
			}, Links: &jsonapi.Links{Self: self}}, err
	}
}

// listUsers and getUser: the caller, and the parents of consented responses they may read as a
// researcher (never e-mail addresses: Lookit shows those only with a site permission).
func (s *compatServer) listUsers(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.list(w, r, authz.ReadSelf, func(st *postgres.Studies, page jsonapi.Page) ([]string, int, error) {
		return st.VisibleUsers(r.Context(), p.Subject.UserID, readable(p.Subject), "", page.Size, page.Offset())
	}, s.loadUser(r))
}

func (s *compatServer) getUser(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.one(w, r, func(st *postgres.Studies) ([]string, int, error) {
		return st.VisibleUsers(r.Context(), p.Subject.UserID, readable(p.Subject), r.PathValue("id"), 1, 0)
	}, s.loadUser(r))
}

type demographicsAttributes struct {
	NumberOfChildren                      string          `json:"number_of_children"`
	ChildBirthdays                        []string        `json:"child_birthdays"`
	NumberOfGuardians                     string          `json:"number_of_guardians"`
	NumberOfGuardiansExplanation          string          `json:"number_of_guardians_explanation"`
	USRaceEthnicityIdentification         []string        `json:"us_race_ethnicity_identification"`
	USRaceEthnicityIdentificationDescribe string          `json:"us_race_ethnicity_identification_describe"`
	Age                                   string          `json:"age"`
	Gender                                string          `json:"gender"`
	EducationLevel                        string          `json:"education_level"`
	AnnualIncome                          string          `json:"annual_income"`
	LookitReferrer                        string          `json:"lookit_referrer"`
	AdditionalComments                    string          `json:"additional_comments"`
	Country                               string          `json:"country"`
	State                                 string          `json:"state"`
	Density                               string          `json:"density"`
	Extra                                 json.RawMessage `json:"extra"`
	DateCreated                           time.Time       `json:"date_created"`
	URL                                   string          `json:"url"`
	PK                                    int64           `json:"pk"`
}

func (s *compatServer) loadDemographics(r *http.Request) func(*postgres.Studies, string) (jsonapi.Resource, error) {
	return func(st *postgres.Studies, id string) (jsonapi.Resource, error) {
		d, err := st.CompatDemographics(r.Context(), id)
		births := make([]string, 0, len(d.ChildBirthdays))
		for _, b := range d.ChildBirthdays {
			births = append(births, b.Time.Format(time.DateOnly))
		}
		races := d.UsRaceEthnicityIdentification
		if races == nil {
			races = []string{}
		}
		extra := json.RawMessage(d.Extra)
		if len(extra) == 0 {
			extra = json.RawMessage("{}")
		}
		self := s.url(r, "demographics", d.Uuid)
		return jsonapi.Resource{Type: "demographics", ID: d.Uuid, Attributes: demographicsAttributes{
			NumberOfChildren: d.NumberOfChildren, ChildBirthdays: births, NumberOfGuardians: d.NumberOfGuardians,
			NumberOfGuardiansExplanation: d.NumberOfGuardiansExplanation, USRaceEthnicityIdentification: races,
			USRaceEthnicityIdentificationDescribe: d.UsRaceEthnicityIdentificationDescribe, Age: d.Age, Gender: d.Gender,
			EducationLevel: d.EducationLevel, AnnualIncome: d.AnnualIncome, LookitReferrer: d.LookitReferrer,
			AdditionalComments: d.AdditionalComments, Country: d.Country, State: d.State, Density: d.Density,
			Extra: extra, DateCreated: d.CreatedAt.Time, URL: self, PK: d.ID}, Links: &jsonapi.Links{Self: self}}, err
	}
}

// listDemographics and getDemographics: the caller's survey versions and the snapshots of
// consented responses they may read as a researcher.
func (s *compatServer) listDemographics(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.demographicsList(w, r, p, "")
}

// listUserDemographics is /users/{id}/demographics/: the visible demographic rows of one parent.
func (s *compatServer) listUserDemographics(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.demographicsList(w, r, p, nestedOwner(r))
}

func (s *compatServer) demographicsList(w http.ResponseWriter, r *http.Request, p *Principal, owner string) error {
	return s.list(w, r, authz.ReadSelf, func(st *postgres.Studies, page jsonapi.Page) ([]string, int, error) {
		return st.VisibleDemographics(r.Context(), p.Subject.UserID, readable(p.Subject), "", owner, page.Size, page.Offset())
	}, s.loadDemographics(r))
}

func (s *compatServer) getDemographics(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.one(w, r, func(st *postgres.Studies) ([]string, int, error) {
		return st.VisibleDemographics(r.Context(), p.Subject.UserID, readable(p.Subject), r.PathValue("id"), "", 1, 0)
	}, s.loadDemographics(r))
}

// one answers a detail request whose visibility is a list query narrowed to the one id: not
// visible is not found.
func (s *compatServer) one(w http.ResponseWriter, r *http.Request, pick func(*postgres.Studies) ([]string, int, error),
	load func(*postgres.Studies, string) (jsonapi.Resource, error)) error {
	if err := authz.Authorize(PrincipalFrom(r.Context()).Subject, authz.ReadSelf, authz.Object{}); err != nil {
		return err
	}
	st, err := s.studies(r.Context())
	if err != nil {
		return err
	}
	ids, _, err := pick(st)
	if err != nil {
		return err
	}
	// The row must be the one asked for: a query that ignored the narrowing must not answer
	// with another row.
	want, perr := uuid.Parse(r.PathValue("id"))
	if len(ids) == 0 || perr != nil || ids[0] != want.String() {
		return apperr.New(apperr.NotFound, "not found")
	}
	res, err := load(st, ids[0])
	if err != nil {
		return err
	}
	writeDoc(w, http.StatusOK, single{Data: res})
	return nil
}
