package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/auth"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// role describes one kind of requester and how to make a fresh credential for it.
type role struct {
	name       string
	study      authz.StudyGroup // group in the fixture study, "" for none
	researcher bool
	siteAdmin  bool
	twoFactor  bool
	lab        authz.LabRole // "" for none
	token      authz.Scope   // "" for a browser session
	anonymous  bool
}

var roles = func() []role {
	rs := []role{
		{name: "anonymous", anonymous: true},
		{name: "family"},
		{name: "other-family"},
		{name: "researcher-no2fa", researcher: true},
		{name: "researcher", researcher: true, twoFactor: true},
		{name: "site-admin", researcher: true, siteAdmin: true, twoFactor: true},
		{name: "token-read", researcher: true, token: authz.ScopeRead},
		{name: "token-read-write", researcher: true, token: authz.ScopeReadWrite},
	}
	for _, l := range authz.LabRoles {
		rs = append(rs, role{name: "lab-" + string(l), researcher: true, twoFactor: true, lab: l})
	}
	for _, g := range authz.StudyGroups {
		rs = append(rs, role{name: "study-" + string(g), researcher: true, twoFactor: true, study: g})
	}
	return rs
}()

// newUser makes a user of the role.
func newUser(t testing.TB, pool *pgxpool.Pool, labID int64, r role) int64 {
	ctx := context.Background()
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, is_researcher, is_site_admin) VALUES ($1, $2, $3) RETURNING id`,
		r.name+"-"+uuid.NewString()[:8]+"@example.org", r.researcher, r.siteAdmin).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if r.lab != "" {
		if _, err := pool.Exec(ctx, `INSERT INTO lab_members (lab_id, user_id, role) VALUES ($1, $2, $3)`, labID, id, r.lab); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// credential gives user id of the role a fresh session or token and returns a function that adds
// it to a request.
func credential(t testing.TB, pool *pgxpool.Pool, id int64, r role) func(*http.Request) {
	if r.anonymous {
		return func(*http.Request) {}
	}
	ctx := context.Background()
	if r.token != "" {
		key, _, err := (&postgres.Auth{Pool: pool}).CreateToken(ctx, id, "matrix "+uuid.NewString(), r.token, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return func(req *http.Request) { req.Header.Set("Authorization", "Token "+key) }
	}
	key, _ := auth.NewSecret()
	csrf, _ := auth.NewSecret()
	var twoFactor any
	if r.twoFactor {
		twoFactor = time.Now()
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, two_factor_at) VALUES ($1, $2, $3, now() + interval '1 day', $4)`,
		auth.Hash(key), id, csrf, twoFactor); err != nil {
		t.Fatal(err)
	}
	return func(req *http.Request) {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: key})
		req.AddCookie(&http.Cookie{Name: httpapi.CSRFCookie, Value: csrf})
		req.Header.Set(httpapi.CSRFHeader, csrf)
	}
}

// request is how the matrix calls each operation; bodies are valid so that only access decides.
// CHILD in a path is a child of the user playing "family", made afresh for each request; LAB is
// the lab the lab-* roles belong to; MEMBER a researcher made a member of it for each request.
var requests = map[string]struct {
	method, path, body string
}{
	"Login":           {"POST", "/api/auth/login", `{"email":"login-target@example.org","password":"login target password"}`},
	"VerifyTwoFactor": {"POST", "/api/auth/2fa", `{"code":"123456"}`},
	"Logout":          {"POST", "/api/auth/logout", ``},
	"GetMe":           {"GET", "/api/me", ``},
	"ListSessions":    {"GET", "/api/me/sessions", ``},
	"RevokeSession":   {"DELETE", "/api/me/sessions/" + strings.Repeat("00", 32), ``},
	"ListTokens":      {"GET", "/api/me/tokens", ``},
	"CreateToken":     {"POST", "/api/me/tokens", `{"name":"NAME","scope":"read","expires_in_days":30}`},
	"RevokeToken":     {"DELETE", "/api/me/tokens/" + uuid.NewString(), ``},

	"SignUp":               {"POST", "/api/auth/signup", `{"email":"NAME@example.org","password":"a long enough password"}`},
	"VerifyEmail":          {"POST", "/api/auth/verify-email", `{"token":"not-a-token"}`},
	"RequestPasswordReset": {"POST", "/api/auth/password-reset", `{"email":"nobody@example.org"}`},
	"ResetPassword":        {"POST", "/api/auth/password-reset/confirm", `{"token":"not-a-token","password":"a long enough password"}`},
	"ChangePassword":       {"POST", "/api/me/password", `{"current_password":"wrong","new_password":"a long enough new password"}`},
	"ChangeEmail":          {"POST", "/api/me/email", `{"password":"wrong","new_email":"NAME@example.org"}`},
	"StartTotp":            {"POST", "/api/me/totp", ``},
	"ActivateTotp":         {"POST", "/api/me/totp/activate", `{"code":"123456"}`},

	"ListChildren":        {"GET", "/api/children", ``},
	"CreateChild":         {"POST", "/api/children", `{"given_name":"Ada","birthday":"2024-01-02","gender":"f"}`},
	"GetChild":            {"GET", "/api/children/CHILD", ``},
	"UpdateChild":         {"PUT", "/api/children/CHILD", `{"given_name":"Ada L.","gender":"f"}`},
	"DeleteChild":         {"DELETE", "/api/children/CHILD", ``},
	"GetDemographics":     {"GET", "/api/demographics", ``},
	"SaveDemographics":    {"POST", "/api/demographics", `{"country":"US","number_of_children":"1"}`},
	"SetEmailPreferences": {"PUT", "/api/me/email-preferences", `{"email_next_session":true,"email_new_studies":false,"email_study_updates":true,"email_response_questions":true}`},
	"Unsubscribe":         {"POST", "/api/unsubscribe/not-a-token", ``},

	"ListLabs":         {"GET", "/api/labs", ``},
	"CreateLab":        {"POST", "/api/labs", labBody},
	"GetLab":           {"GET", "/api/labs/LAB", ``},
	"UpdateLab":        {"PUT", "/api/labs/LAB", labBody},
	"SetLabApproval":   {"PUT", "/api/labs/LAB/approval", `{"approved_to_test":true}`},
	"RequestToJoinLab": {"POST", "/api/labs/LAB/join-requests", ``},
	"ListLabMembers":   {"GET", "/api/labs/LAB/members", ``},
	"SetLabMemberRole": {"PUT", "/api/labs/LAB/members/MEMBER", `{"role":"readonly"}`},
	"RemoveLabMember":  {"DELETE", "/api/labs/LAB/members/MEMBER", ``},

	"ListStudies":           {"GET", "/api/studies", ``},
	"CreateStudy":           {"POST", "/api/labs/LAB/studies", `{"study_type":"external","name":"Study NAME"}`},
	"GetStudy":              {"GET", "/api/studies/STUDY", ``},
	"UpdateStudy":           {"PUT", "/api/studies/STUDY", `{"name":"Renamed NAME","structure":{"frames":{},"sequence":[]}}`},
	"TransitionStudy":       {"POST", "/api/studies/STUDY/transitions", `{"trigger":"archive","comments":"matrix"}`},
	"GetStudyLog":           {"GET", "/api/studies/STUDY/log", ``},
	"CloneStudy":            {"POST", "/api/studies/STUDY/clone", ``},
	"ListStudyResearchers":  {"GET", "/api/studies/STUDY/researchers", ``},
	"SetStudyResearcher":    {"PUT", "/api/studies/STUDY/researchers/MEMBER", `{"group":"preview"}`},
	"RemoveStudyResearcher": {"DELETE", "/api/studies/STUDY/researchers/MEMBER", ``},

	"ListPublicStudies": {"GET", "/api/public/studies?child=CHILD", ``},
	"GetPublicLab":      {"GET", "/api/public/labs/matrix-lab", ``},

	"SetStudyImage":       {"PUT", "/api/studies/STUDY/image", ``}, // an empty body: 400 once allowed
	"GetStudyImage":       {"GET", "/api/studies/STUDY/image", ``},
	"GetPublicStudyImage": {"GET", "/api/public/studies/STUDY/image", ``},
	"ParticipateExternal": {"POST", "/api/public/studies/STUDY/participate", `{"child":"CHILD"}`},
	"GetVideoUrl":         {"GET", "/api/videos/VIDEO/url", ``},
	"DeletePreviewData":   {"DELETE", "/api/studies/STUDY/preview-data", ``},
	"BuildStudy":          {"POST", "/api/studies/STUDY/build", ``},

	"ListStudyResponses":          {"GET", "/api/studies/STUDY/responses", ``},
	"GetStudyResponse":            {"GET", "/api/responses/RESPONSE", ``},
	"SetResponseResearcherFields": {"PATCH", "/api/responses/RESPONSE", `{"star": true}`},
	"ListConsent":                 {"GET", "/api/studies/STUDY/consent", ``},
	"RuleOnConsent":               {"POST", "/api/studies/STUDY/consent", `{"rulings": [{"response_id": "RESPONSE", "action": "accepted"}]}`},
	"ListStudyParticipants":       {"GET", "/api/studies/STUDY/participants", ``},
	"ListStudyMessages":           {"GET", "/api/studies/STUDY/messages", ``},
	// No recipient matches: 400 for those let through, 403/401 for the rest.
	"SendStudyMessage": {"POST", "/api/studies/STUDY/messages", `{"kind": "transactional", "subject": "Hello", "body": "Thanks!", "recipients": ["nobody"]}`},

	"AddResponseFeedback":  {"POST", "/api/responses/RESPONSE/feedback", `{"comment": "Thank you for taking part!"}`},
	"EditResponseFeedback": {"PATCH", "/api/feedback/FEEDBACK", `{"comment": "Thank you again!"}`},
	"ListPastSessions":     {"GET", "/api/me/past-sessions", ``},
	"GetOwnVideoUrl":       {"GET", "/api/me/videos/VIDEO/url", ``}, // a video of the family's child
	"DownloadStudyFile":    {"GET", "/api/studies/STUDY/downloads/summary_csv", ``},
	"CreateExport":         {"POST", "/api/studies/STUDY/exports", `{"kind": "download", "file": "summary_csv"}`},
	"ListStudyExports":     {"GET", "/api/studies/STUDY/exports", ``},
	// An export of the study's real data requested by the caller (only the requester follows one).
	"GetExport": {"GET", "/api/exports/EXPORT", ``},
}

const labBody = `{"name":"Lab NAME","institution":"U","principal_investigator_name":"PI","contact_email":"NAME@lab.example.org",
	"contact_phone":"+1 555 0100","description":"We study babies.","irb_contact_info":"irb@u.example.org"}`

var loggedIn = []string{"family", "other-family", "researcher-no2fa", "researcher", "site-admin", "token-read", "token-read-write",
	"lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin", "study-preview", "study-design", "study-analysis",
	"study-submission_processor", "study-researcher", "study-manager", "study-admin"}

func except(list []string, drop ...string) []string {
	var out []string
	for _, x := range list {
		keep := true
		for _, d := range drop {
			keep = keep && x != d
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}

// allowed lists, for every operation, the roles that get through (any status but 401 and 403).
var allowed = map[string][]string{
	"Login":           except(append([]string{"anonymous"}, loggedIn...), "token-read"),
	"VerifyTwoFactor": except(loggedIn, "token-read", "token-read-write"), // completes a browser session
	"Logout":          except(loggedIn, "token-read", "token-read-write"),
	"GetMe":           loggedIn,
	"ListSessions":    loggedIn,
	"RevokeSession":   except(loggedIn, "token-read"),
	"ListTokens":      loggedIn,
	// Tokens come from browser sessions, and researchers must have completed 2FA.
	"CreateToken": except(loggedIn, "token-read", "token-read-write", "researcher-no2fa"),
	"RevokeToken": except(loggedIn, "token-read"),

	"SignUp":               except(append([]string{"anonymous"}, loggedIn...), "token-read"),
	"VerifyEmail":          except(append([]string{"anonymous"}, loggedIn...), "token-read"),
	"RequestPasswordReset": except(append([]string{"anonymous"}, loggedIn...), "token-read"),
	"ResetPassword":        except(append([]string{"anonymous"}, loggedIn...), "token-read"),
	// Changing credentials and setting up authenticators happen in browser sessions only.
	"ChangePassword": except(loggedIn, "token-read", "token-read-write"),
	"ChangeEmail":    except(loggedIn, "token-read", "token-read-write"),
	"StartTotp":      except(loggedIn, "token-read", "token-read-write"),
	"ActivateTotp":   except(loggedIn, "token-read", "token-read-write"),

	// Anyone logged in has a family side (researchers too take part with their children); a
	// child is only ever reachable by its own family.
	"ListChildren":        loggedIn,
	"CreateChild":         except(loggedIn, "token-read"),
	"GetChild":            {"family"},
	"UpdateChild":         {"family"},
	"DeleteChild":         {"family"},
	"GetDemographics":     loggedIn,
	"SaveDemographics":    except(loggedIn, "token-read"),
	"SetEmailPreferences": except(loggedIn, "token-read"),
	// The link works without a session; a browser that has one must still send its CSRF token.
	"Unsubscribe": except(append([]string{"anonymous"}, loggedIn...), "token-read"),

	// Labs: researchers with two factors find labs and ask to join; lab admins and site admins
	// manage them; only site admins approve.
	"ListLabs":         loggedIn,
	"CreateLab":        except(researchers, "token-read"),
	"GetLab":           researchers,
	"UpdateLab":        {"lab-admin", "site-admin"},
	"SetLabApproval":   {"site-admin"},
	"RequestToJoinLab": except(researchers, "token-read"),
	"ListLabMembers":   {"lab-member", "lab-admin", "site-admin"},
	"SetLabMemberRole": {"lab-admin", "site-admin"},
	"RemoveLabMember":  {"lab-admin", "site-admin"},

	// Studies: Lookit's study groups, lab umbrella permissions and site permissions (reference §3).
	"ListStudies":           researchers,
	"CreateStudy":           {"lab-guest", "lab-member", "lab-admin"},
	"GetStudy":              readers,
	"GetStudyLog":           readers,
	"ListStudyResearchers":  readers,
	"UpdateStudy":           {"study-design", "study-manager", "study-admin", "lab-admin"},
	"TransitionStudy":       {"study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-admin", "site-admin"},
	"CloneStudy":            {"lab-member", "lab-admin"}, // read the study and create studies in a lab
	"SetStudyResearcher":    {"study-manager", "study-admin", "lab-admin"},
	"RemoveStudyResearcher": {"study-manager", "study-admin", "lab-admin"},

	// The list is public; filtered by a child it is that child's family's alone.
	"ListPublicStudies": {"family"},
	"GetPublicLab":      append([]string{"anonymous"}, loggedIn...),

	"SetStudyImage":       {"study-design", "study-manager", "study-admin", "lab-admin"},
	"GetStudyImage":       readers,
	"GetPublicStudyImage": append([]string{"anonymous"}, loggedIn...),
	"ParticipateExternal": {"family"}, // with its own child (the fixture study is not external: 409)
	// DP: every study group but preview; the lab admin umbrella.
	"DeletePreviewData": {"study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-admin"},
	// WD: design, manager, admin; the lab admin umbrella (the matrix study pins a branch GitHub
	// cannot resolve here: 503 for those let through).
	"BuildStudy": {"study-design", "study-manager", "study-admin", "lab-admin"},
	// A session video of a consented response: real-data readers (RR) of its study.
	"GetVideoUrl": {"study-analysis", "study-researcher", "study-admin"},
	// Real data (RR): analysis, researcher and admin groups; no lab umbrella, not site admins.
	"ListStudyResponses": {"study-analysis", "study-researcher", "study-admin"},
	"GetStudyResponse":   {"study-analysis", "study-researcher", "study-admin"},
	// EF: submission processor, researcher, admin.
	"SetResponseResearcherFields": {"study-submission_processor", "study-researcher", "study-admin"},
	// CC: submission processor, researcher, admin (TestPreviewDataPermissions covers CP and RP).
	"ListConsent":   {"study-submission_processor", "study-researcher", "study-admin"},
	"RuleOnConsent": {"study-submission_processor", "study-researcher", "study-admin"},
	// CT: submission processor, researcher, admin.
	"ListStudyParticipants": {"study-submission_processor", "study-researcher", "study-admin"},
	"ListStudyMessages":     {"study-submission_processor", "study-researcher", "study-admin"},
	"SendStudyMessage":      {"study-submission_processor", "study-researcher", "study-admin"},
	// EF: feedback on a consented response, and corrections to it.
	"AddResponseFeedback":  {"study-submission_processor", "study-researcher", "study-admin"},
	"EditResponseFeedback": {"study-submission_processor", "study-researcher", "study-admin"},
	// Each caller's own past sessions (a researcher's are those of their own children, if any).
	"ListPastSessions": loggedIn,
	"GetOwnVideoUrl":   {"family"},
	// Downloads and exports of real data: RR (TestPreviewDataPermissions covers RP and CC/CP).
	"DownloadStudyFile": {"study-analysis", "study-researcher", "study-admin"},
	"CreateExport":      {"study-analysis", "study-researcher", "study-admin"},
	"GetExport":         {"study-analysis", "study-researcher", "study-admin"},
	"ListStudyExports":  readers, // the caller's own exports: file names and progress, no data
}

// readers hold READ_STUDY_DETAILS on the fixture study: every study group, the lab's read-only,
// member and admin roles (umbrella), and site admins.
var readers = []string{"study-preview", "study-design", "study-analysis", "study-submission_processor",
	"study-researcher", "study-manager", "study-admin", "lab-readonly", "lab-member", "lab-admin", "site-admin"}

// researchers are the roles with a researcher account and two factors (tokens carry them).
var researchers = []string{"researcher", "site-admin", "token-read", "token-read-write",
	"lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin", "study-preview", "study-design",
	"study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin"}

// Every route of the app API against every role. A route in openapi.yaml without a row here fails.
func TestRouteMatrix(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	var labID int64
	var labUUID string
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, slug, approved_to_test) VALUES ('Matrix Lab', 'matrix-lab', true) RETURNING id, uuid::text`).Scan(&labID, &labUUID); err != nil {
		t.Fatal(err)
	}
	h, _ := passwordHash(t)
	if _, err := pool.Exec(ctx, `INSERT INTO users (email, password_hash) VALUES ('login-target@example.org', $1)`, h); err != nil {
		t.Fatal(err)
	}
	handler := httpapi.New(newInstance(t, instance.Value(pool)))
	users := map[string]int64{}
	for _, r := range roles {
		if !r.anonymous {
			users[r.name] = newUser(t, pool, labID, r)
		}
	}
	families := &postgres.Families{Pool: pool}

	spec, err := appapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			id := strings.ToUpper(op.OperationID[:1]) + op.OperationID[1:]
			ops = append(ops, id)
			rq, ok := requests[id]
			if !ok || allowed[id] == nil {
				t.Errorf("%s %s (%s) has no row in the route matrix", method, path, id)
				continue
			}
			if rq.method != method {
				t.Errorf("%s: matrix calls %s, spec says %s", id, rq.method, method)
			}
		}
	}
	sort.Strings(ops)
	for _, id := range ops {
		rq, ok := requests[id]
		if !ok {
			continue
		}
		for i, r := range roles {
			body := strings.ReplaceAll(rq.body, "NAME", fmt.Sprintf("%s-%d", strings.ToLower(id), i))
			path := rq.path
			if strings.Contains(path, "CHILD") || strings.Contains(body, "CHILD") {
				c, err := families.CreateChild(ctx, users["family"], accounts.ChildInput{GivenName: "Fixture",
					Birthday: "2023-05-06", Gender: "m"}, postgres.Today())
				if err != nil {
					t.Fatal(err)
				}
				path = strings.ReplaceAll(path, "CHILD", c.UUID)
				body = strings.ReplaceAll(body, "CHILD", c.UUID)
			}
			path = strings.ReplaceAll(path, "LAB", labUUID)
			if strings.Contains(path, "STUDY") || strings.Contains(path, "VIDEO") || strings.Contains(path+body, "RESPONSE") ||
				strings.Contains(path, "FEEDBACK") || strings.Contains(path, "EXPORT") {
				// A fresh study in the lab, with each study-* role in its group.
				var studyID int64
				var studyUUID string
				if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id) VALUES ('Matrix study', $1, 1)
					RETURNING id, uuid::text`, labID).Scan(&studyID, &studyUUID); err != nil {
					t.Fatal(err)
				}
				for _, sr := range roles {
					if sr.study != "" {
						if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`,
							studyID, users[sr.name], sr.study); err != nil {
							t.Fatal(err)
						}
					}
				}
				path = strings.ReplaceAll(path, "STUDY", studyUUID)
				if strings.Contains(path, "EXPORT") {
					var export string
					if err := pool.QueryRow(ctx, `INSERT INTO exports (study_id, requested_by, kind, params, request_key, file_name)
						VALUES ($1, $2, 'download', '{"file": "summary_csv", "preview": false}', gen_random_uuid()::text, 'Matrix-study_all-responses.csv')
						RETURNING id::text`, studyID, nullID(users[r.name])).Scan(&export); err != nil {
						t.Fatal(err)
					}
					path = strings.ReplaceAll(path, "EXPORT", export)
				}
				if strings.Contains(path+body, "VIDEO") || strings.Contains(path+body, "RESPONSE") || strings.Contains(path, "FEEDBACK") {
					// A response of the family's child whose consent was accepted, with a session video.
					var video, response string
					if err := pool.QueryRow(ctx, `
						WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender)
						           VALUES ($2, 'Fixture', current_date - 300, 'f') RETURNING id),
						     r AS (INSERT INTO responses (study_id, child_id, study_type_id, completed_consent_frame)
						           SELECT $1, c.id, 1, true FROM c RETURNING id, uuid),
						     cr AS (INSERT INTO consent_rulings (response_id, action) SELECT id, 'accepted' FROM r)
						INSERT INTO videos (s3_timestamp, frame_id, full_name, bucket, study_id, response_id)
						SELECT now(), '1-trial', 'matrix-' || gen_random_uuid() || '.webm', 'recorder', $1, r.id FROM r
						RETURNING uuid::text, (SELECT uuid::text FROM r)`, studyID, users["family"]).Scan(&video, &response); err != nil {
						t.Fatal(err)
					}
					path = strings.ReplaceAll(path, "VIDEO", video)
					path = strings.ReplaceAll(path, "RESPONSE", response)
					if strings.Contains(path, "FEEDBACK") {
						var feedback string
						if err := pool.QueryRow(ctx, `INSERT INTO feedback (response_id, comment) SELECT id, 'Thanks!' FROM responses
							WHERE uuid = $1 RETURNING uuid::text`, response).Scan(&feedback); err != nil {
							t.Fatal(err)
						}
						path = strings.ReplaceAll(path, "FEEDBACK", feedback)
					}
					body = strings.ReplaceAll(body, "RESPONSE", response)
				}
			}
			if strings.Contains(path, "MEMBER") {
				var member string
				if err := pool.QueryRow(ctx, `SELECT uuid::text FROM users WHERE id = $1`,
					newUser(t, pool, labID, role{name: "member", researcher: true, lab: authz.LabMember})).Scan(&member); err != nil {
					t.Fatal(err)
				}
				path = strings.ReplaceAll(path, "MEMBER", member)
			}
			req := httptest.NewRequest(rq.method, path, bytes.NewBufferString(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			credential(t, pool, users[r.name], r)(req)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			denied := rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden
			want := contains(allowed[id], r.name)
			if denied == want {
				t.Errorf("%s by %s: %d %s; want allowed=%v", id, r.name, rec.Code, strings.TrimSpace(rec.Body.String()), want)
			}
			if rec.Code >= 500 {
				t.Errorf("%s by %s: %d %s", id, r.name, rec.Code, rec.Body.String())
			}
		}
	}
}

// nullID is a user id for SQL: NULL for the anonymous role, which has none.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compatAllowed lists, for every route of the compatibility JSON:API, the roles that get
// through. A route without a row fails TestCompatRouteMatrix.
var compatAllowed = map[string][]string{
	"GetStudy":       loggedIn, // an active study
	"StudyResponses": {"family"},
	"GetChild":       {"family"},
	"CreateResponse": {"family"}, // with the family's own child
	// Only the child's family writes a response: researchers with real-data access cannot (§10 gap 6).
	// Real-data readers of the study get past authorization; an unconsented response is then a 404.
	"GetResponse":     {"family", "study-analysis", "study-researcher", "study-admin"},
	"UpdateResponse":  {"family"},
	"ReplaceResponse": {"family"},
	// Lookit let anyone who knew a response's UUID read the child's sessions (§10 gap 2).
	"PastSessions":  {"family"},
	"ListResponses": loggedIn, // each sees what is theirs to see (TestCompatVisibility)
	"ListStudies":   loggedIn, // ditto (TestCompatStudyAndLabLists)
	"ListChildren":  loggedIn,
	"ListLabs":      loggedIn,
	"GetLab":        loggedIn,
	// Users and demographics: each caller sees their own and what consented responses open to
	// them (TestCompatUsersAndDemographics); for others' rows, 404.
	"ListUsers":            loggedIn,
	"GetUser":              loggedIn,
	"ListUserChildren":     loggedIn,
	"ListDemographics":     loggedIn,
	"ListUserDemographics": loggedIn,
	"GetDemographics":      loggedIn,
	// Feedback: each caller sees what is theirs to see, others' rows are 404 (TestCompatFeedback);
	// writing needs a researcher with two factors, then the study's feedback permission on a
	// response they may read (400 for a response they cannot see, 404 for feedback they cannot).
	"ListFeedback":    loggedIn,
	"GetFeedback":     loggedIn,
	"CreateFeedback":  except(researchers, "token-read"),
	"UpdateFeedback":  except(researchers, "token-read"),
	"ReplaceFeedback": except(researchers, "token-read"),
}

// Every route of the compatibility API against every role, on a child of the family, an active
// study, and a response of that child.
func TestCompatRouteMatrix(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	handler := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID, studyID int64
	var studyUUID, labUUID string
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Compat Matrix Lab', true) RETURNING id, uuid::text`).Scan(&labID, &labUUID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, max_age_years)
		VALUES ('Compat study', $1, 1, 'active', true, 5) RETURNING id, uuid::text`, labID).Scan(&studyID, &studyUUID); err != nil {
		t.Fatal(err)
	}
	users := map[string]int64{}
	for _, r := range roles {
		if !r.anonymous {
			users[r.name] = newUser(t, pool, labID, r)
			if r.study != "" {
				if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`, studyID, users[r.name], r.study); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var familyUUID, demoUUID string
	if err := pool.QueryRow(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US') RETURNING uuid::text`, users["family"]).Scan(&demoUUID); err != nil {
		t.Fatal(err)
	}
	_ = pool.QueryRow(ctx, `SELECT uuid::text FROM users WHERE id = $1`, users["family"]).Scan(&familyUUID)
	fixture := func() (child, response string) {
		if err := pool.QueryRow(ctx, `INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'Kid', current_date - 300, 'm')
			RETURNING uuid::text`, users["family"]).Scan(&child); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(ctx, `INSERT INTO responses (study_id, child_id, study_type_id, eligibility)
			SELECT $1, id, 1, '{Eligible}' FROM children WHERE uuid = $2 RETURNING uuid::text`, studyID, child).Scan(&response); err != nil {
			t.Fatal(err)
		}
		return child, response
	}
	seen := map[string]bool{}
	for _, rt := range httpapi.CompatRoutes() {
		seen[rt.Name] = true
		if compatAllowed[rt.Name] == nil {
			t.Errorf("%s /api/v1/%s (%s) has no row in the compatibility route matrix", rt.Method, rt.Path, rt.Name)
			continue
		}
		for _, r := range roles {
			child, response := fixture()
			path := "/api/v1/" + strings.NewReplacer("{id}", map[string]string{
				"GetStudy": studyUUID, "StudyResponses": studyUUID, "GetChild": child, "GetLab": labUUID,
				"GetUser": familyUUID, "GetDemographics": demoUUID, "ListUserChildren": familyUUID,
				"ListUserDemographics": familyUUID}[rt.Name]).Replace(rt.Path)
			if strings.HasPrefix(rt.Path, "responses/{id}") || strings.HasPrefix(rt.Path, "past-sessions/{id}") {
				path = "/api/v1/" + strings.Replace(rt.Path, "{id}", response, 1)
			}
			var feedback string
			if strings.HasPrefix(rt.Path, "feedback/") {
				if err := pool.QueryRow(ctx, `INSERT INTO feedback (response_id, comment) SELECT id, 'Thanks!' FROM responses
					WHERE uuid = $1 RETURNING uuid::text`, response).Scan(&feedback); err != nil {
					t.Fatal(err)
				}
				path = "/api/v1/" + strings.Replace(rt.Path, "{id}", feedback, 1)
			}
			if rt.Name == "StudyResponses" {
				path += "?page[size]=10&page=1&child=" + child
			}
			body := ""
			switch rt.Method {
			case "POST":
				body = `{"data":{"type":"responses","attributes":{"exp_data":{},"sequence":[]},"relationships":{"child":{"data":{"type":"children","id":"` +
					child + `"}},"study":{"data":{"type":"studies","id":"` + studyUUID + `"}}}}}`
			case "PATCH", "PUT":
				body = `{"data":{"type":"responses","id":"` + response + `","attributes":{"sequence":["0-a"],"exp_data":{"0-a":{}}}}}`
			}
			if feedback != "" && rt.Method != "GET" {
				body = `{"data":{"type":"feedback","id":"` + feedback + `","attributes":{"comment":"Well done"},` +
					`"relationships":{"response":{"data":{"type":"responses","id":"` + response + `"}}}}}`
			}
			req := httptest.NewRequest(rt.Method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/vnd.api+json")
			if !r.anonymous {
				credential(t, pool, users[r.name], r)(req)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			denied := rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden
			if want := contains(compatAllowed[rt.Name], r.name); denied == want {
				t.Errorf("%s by %s: %d %s; want allowed=%v", rt.Name, r.name, rec.Code, strings.TrimSpace(rec.Body.String()), want)
			}
			if rec.Code >= 500 {
				t.Errorf("%s by %s: %d %s", rt.Name, r.name, rec.Code, rec.Body.String())
			}
		}
	}
	for name := range compatAllowed {
		if !seen[name] {
			t.Errorf("matrix row %s names no route", name)
		}
	}
}
