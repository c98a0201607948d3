package authz_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
)

const (
	family      = 1
	otherFamily = 2
	researcher  = 3
	study       = 10
	lab         = 20
	otherLab    = 21
)

// roles are the subjects of the matrix: every kind of person the platform knows.
func roles() map[string]authz.Subject {
	r := map[string]authz.Subject{
		"anonymous":    {},
		"family":       {UserID: family, Scope: authz.ScopeSession},
		"other-family": {UserID: otherFamily, Scope: authz.ScopeSession},
		"researcher":   {UserID: researcher, Researcher: true, SecondFactor: true, Scope: authz.ScopeSession},
		"researcher-no2fa": {UserID: researcher, Researcher: true, Scope: authz.ScopeSession,
			Studies: map[int64]authz.StudyGroup{study: authz.GroupAdmin}},
		"other-lab-admin": {UserID: researcher, Researcher: true, SecondFactor: true, Scope: authz.ScopeSession,
			Labs: map[int64]authz.LabRole{otherLab: authz.LabAdmin}},
		"site-admin": {UserID: 9, Researcher: true, SiteAdmin: true, SecondFactor: true, Scope: authz.ScopeSession},
		"read-token-study-admin": {UserID: researcher, Researcher: true, SecondFactor: true, Scope: authz.ScopeRead,
			Studies: map[int64]authz.StudyGroup{study: authz.GroupAdmin}},
	}
	for _, g := range authz.StudyGroups {
		r["study-"+string(g)] = authz.Subject{UserID: researcher, Researcher: true, SecondFactor: true, Scope: authz.ScopeSession,
			Studies: map[int64]authz.StudyGroup{study: g}}
	}
	for _, l := range authz.LabRoles {
		r["lab-"+string(l)] = authz.Subject{UserID: researcher, Researcher: true, SecondFactor: true, Scope: authz.ScopeSession,
			Labs: map[int64]authz.LabRole{lab: l}}
	}
	return r
}

var (
	everyone      = []string{"anonymous", "family", "other-family", "researcher", "researcher-no2fa", "other-lab-admin", "site-admin", "read-token-study-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin"}
	loggedIn      = everyone[1:]
	loggedInWrite = without(loggedIn, "read-token-study-admin")
)

func without(list []string, drop ...string) []string {
	var out []string
	for _, x := range list {
		if !slices.Contains(drop, x) {
			out = append(out, x)
		}
	}
	return out
}

// expected is written from Lookit's permission tables (reference §3), independently of the code.
var expected = map[authz.Action][]string{
	authz.ListPublicStudies: everyone,
	authz.SignUp:            without(everyone, "read-token-study-admin"),
	authz.Unsubscribe:       without(everyone, "read-token-study-admin"),
	authz.ReadSelf:          loggedIn,
	authz.ListLabs:          loggedIn,
	authz.ReadActiveStudy:   loggedIn,
	authz.EditSelf:          loggedInWrite,
	authz.ManageSessions:    loggedInWrite,
	authz.ManageTokens:      loggedInWrite,

	authz.ReadChild:          {"family"},
	authz.EditChild:          {"family"},
	authz.AddChild:           {"family"},
	authz.ReadDemographics:   {"family"},
	authz.EditDemographics:   {"family"},
	authz.AddDemographics:    {"family"},
	authz.CreateResponse:     {"family"},
	authz.EditOwnResponse:    {"family"},
	authz.ReadOwnResponses:   {"family"},
	authz.ReadOwnFeedback:    {"family"},
	authz.EditEmailPrefs:     {"family"},
	authz.ReadOwnPastSession: {"family"},
	authz.WatchOwnVideo:      {"family"},

	// RD: every study group, lab readonly/member/admin umbrella, site admins.
	authz.ReadStudy: {"site-admin", "read-token-study-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-readonly", "lab-member", "lab-admin"},
	// WD: design, manager, admin; lab admin umbrella.
	authz.EditStudy: {"study-design", "study-manager", "study-admin", "lab-admin"},
	// CS: submission processor, researcher, manager, admin; lab admin; site admins.
	authz.ChangeStatus: {"site-admin", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-admin"},
	// MR: manager, admin; lab admin.
	authz.ManageResearchers: {"study-manager", "study-admin", "lab-admin"},
	// RR (real data): analysis, researcher, admin; no lab umbrella, not site admins.
	authz.ReadResponses: {"read-token-study-admin", "study-analysis", "study-researcher", "study-admin"},
	// CC: submission processor, researcher, admin.
	authz.CodeConsent: {"study-submission_processor", "study-researcher", "study-admin"},
	// The consent manager's listing: CC, and read-only tokens may read it.
	authz.ReviewConsent: {"read-token-study-admin", "study-submission_processor", "study-researcher", "study-admin"},
	// CT and EF: submission processor, researcher, admin.
	authz.ContactParticipants: {"study-submission_processor", "study-researcher", "study-admin"},
	authz.EditFeedback:        {"study-submission_processor", "study-researcher", "study-admin"},
	// CL: admin only.
	authz.MoveStudyLab: {"study-admin"},
	// DP: every group but preview; lab admin.
	authz.DeletePreviewData: {"study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-admin"},
	authz.ApproveStudy:      {"site-admin"},
	// The matrix's object is neither consented nor consent footage: nobody sees such a video
	// (TestWatchVideo covers the rest).
	authz.WatchVideo: {},
	authz.ExportData: {},
	authz.ReadExport: {},
	// Cloning reads the source study and writes a new one: RD, and never with a read-only token.
	authz.CloneStudy: {"site-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-readonly", "lab-member", "lab-admin"},

	authz.CreateStudy:      {"lab-guest", "lab-member", "lab-admin"},
	authz.ReadLabMembers:   {"site-admin", "lab-member", "lab-admin"},
	authz.EditLabMembers:   {"site-admin", "lab-admin"},
	authz.EditLab:          {"site-admin", "lab-admin"},
	authz.ApproveLabToTest: {"site-admin"},
	authz.CreateLab:        {"researcher", "other-lab-admin", "site-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin"},
	authz.ListAllLabs:      {"researcher", "other-lab-admin", "site-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin", "read-token-study-admin"},
	authz.ListStudies:      {"researcher", "other-lab-admin", "site-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin", "read-token-study-admin"},
	authz.ReadLab:          {"researcher", "other-lab-admin", "site-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin", "read-token-study-admin"},
	authz.RequestToJoin:    {"researcher", "other-lab-admin", "site-admin", "study-preview", "study-design", "study-analysis", "study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-requested", "lab-guest", "lab-readonly", "lab-member", "lab-admin"},
}

// Every action against every role, on a real (non-preview) object of the family, in the study of
// the lab. An action without an expectation fails the test.
func TestMatrix(t *testing.T) {
	obj := authz.Object{OwnerID: family, StudyID: study, LabID: lab}
	rs := roles()
	for _, a := range authz.Actions() {
		allowed, ok := expected[a]
		if !ok {
			t.Errorf("action %s has no row in the authorization matrix", a)
			continue
		}
		var got []string
		for name, s := range rs {
			err := authz.Authorize(s, a, obj)
			if err == nil {
				got = append(got, name)
				continue
			}
			if c := apperr.CodeOf(err); c != apperr.Forbidden && c != apperr.Unauthenticated {
				t.Errorf("%s by %s: error code %s", a, name, c)
			}
			if name == "anonymous" && apperr.CodeOf(err) != apperr.Unauthenticated {
				t.Errorf("%s by anonymous: %v, want unauthenticated", a, err)
			}
		}
		sort.Strings(got)
		want := slices.Clone(allowed)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s allowed for\n  %s\nwant\n  %s", a, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
}

// Preview data needs RP / CP instead of RR / CC: the preview group reads and codes previews
// but never real data; lab read-only members read previews lab-wide.
func TestPreviewDataPermissions(t *testing.T) {
	rs := roles()
	preview := authz.Object{StudyID: study, LabID: lab, Preview: true}
	real := authz.Object{StudyID: study, LabID: lab}
	cases := []struct {
		role      string
		action    authz.Action
		onPreview bool
		onReal    bool
	}{
		{"study-preview", authz.ReadResponses, true, false},
		{"study-preview", authz.CodeConsent, true, false},
		{"lab-readonly", authz.ReadResponses, true, false},
		{"lab-readonly", authz.CodeConsent, false, false},
		{"lab-member", authz.CodeConsent, true, false},
		{"lab-admin", authz.ReadResponses, true, false},
		{"study-analysis", authz.ReadResponses, true, true},
		{"study-analysis", authz.CodeConsent, true, false},
		{"site-admin", authz.ReadResponses, true, false},
	}
	for _, c := range cases {
		if got := authz.Authorize(rs[c.role], c.action, preview) == nil; got != c.onPreview {
			t.Errorf("%s %s on preview data = %v, want %v", c.role, c.action, got, c.onPreview)
		}
		if got := authz.Authorize(rs[c.role], c.action, real) == nil; got != c.onReal {
			t.Errorf("%s %s on real data = %v, want %v", c.role, c.action, got, c.onReal)
		}
	}
}

// A participant video: session video of a consented response with RR (RP for previews); consent
// footage also with CC (CP), consented or not, so that it can be ruled on.
func TestWatchVideo(t *testing.T) {
	rs := roles()
	readers := []string{"read-token-study-admin", "study-analysis", "study-researcher", "study-admin"}
	// Watching is reading: a read-only token of a study admin may.
	coders := []string{"read-token-study-admin", "study-submission_processor", "study-researcher", "study-admin"}
	previewReaders := []string{"site-admin", "read-token-study-admin", "study-preview", "study-design", "study-analysis",
		"study-submission_processor", "study-researcher", "study-manager", "study-admin", "lab-readonly", "lab-member", "lab-admin"}
	cases := []struct {
		name string
		obj  authz.Object
		want []string
	}{
		{"session video, consented", authz.Object{StudyID: study, LabID: lab, Consented: true}, readers},
		{"session video, not consented", authz.Object{StudyID: study, LabID: lab}, nil},
		{"consent video, not consented", authz.Object{StudyID: study, LabID: lab, ConsentFootage: true}, coders},
		{"consent video, consented", authz.Object{StudyID: study, LabID: lab, ConsentFootage: true, Consented: true},
			append(slices.Clone(readers), "study-submission_processor")},
		{"preview session video, consented", authz.Object{StudyID: study, LabID: lab, Preview: true, Consented: true}, previewReaders},
	}
	for _, c := range cases {
		var got []string
		for name, s := range rs {
			if authz.Authorize(s, authz.WatchVideo, c.obj) == nil {
				got = append(got, name)
			}
		}
		sort.Strings(got)
		want := slices.Clone(c.want)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: allowed for\n  %s\nwant\n  %s", c.name, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
}

// Permissions are per object: a group on one study or a role in one lab grants nothing elsewhere.
func TestPermissionsDoNotLeakToOtherObjects(t *testing.T) {
	rs := roles()
	elsewhere := authz.Object{OwnerID: otherFamily, StudyID: study + 1, LabID: otherLab + 5}
	// On someone else's object, a role may do only what the same kind of person with no
	// permissions at all may do.
	baseline := map[string]string{"study-admin": "researcher", "lab-admin": "researcher", "family": "other-family"}
	for name, base := range baseline {
		for _, a := range authz.Actions() {
			if authz.Authorize(rs[name], a, elsewhere) == nil && !slices.Contains(expected[a], base) {
				t.Errorf("%s may %s on an object that is not theirs", name, a)
			}
		}
	}
	// An object with no owner is nobody's.
	if authz.Authorize(rs["family"], authz.ReadChild, authz.Object{}) == nil {
		t.Error("a family may read a child with no owner")
	}
}

func TestUnknownActionsAreDenied(t *testing.T) {
	if err := authz.Authorize(roles()["site-admin"], "study.destroy_everything", authz.Object{StudyID: study}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("unknown action: %v", err)
	}
}

func TestGroupsAreOrderedByPrivilege(t *testing.T) {
	// Every group's permissions include the Preview group's, and Admin holds every permission
	// any group has: re-roling a researcher to Admin can never take a permission away.
	all := map[authz.Perm]bool{}
	for _, g := range authz.StudyGroups {
		for p := range authz.GroupPerms[g] {
			all[p] = true
			if !authz.GroupPerms[authz.GroupAdmin][p] {
				t.Errorf("group %s has %s, admin does not", g, p)
			}
		}
		for p := range authz.GroupPerms[authz.GroupPreview] {
			if !authz.GroupPerms[g][p] {
				t.Errorf("group %s lacks the preview permission %s", g, p)
			}
		}
	}
	if all[authz.ApproveRejectStudy] {
		t.Error("a study group grants approval, which is for site admins only")
	}
}

// Holding, the set form used by list queries, agrees with Authorize for every role, permission
// and object of the matrix, real and preview.
func TestHoldingAgreesWithAuthorize(t *testing.T) {
	for name, s := range roles() {
		if s.Scope == authz.ScopeRead {
			continue // tokens' scope is Authorize's business for unsafe actions only
		}
		for _, c := range []struct {
			action  authz.Action
			perm    authz.Perm
			preview bool
		}{
			{authz.ReadStudy, authz.ReadStudyDetails, false},
			{authz.ReadResponses, authz.ReadStudyResponseData, false},
			{authz.ReadResponses, authz.ReadStudyPreviewData, true},
		} {
			for _, o := range []authz.Object{{StudyID: study, LabID: lab, Preview: c.preview}, {StudyID: study + 1, LabID: lab + 1, Preview: c.preview}} {
				want := authz.Authorize(s, c.action, o) == nil
				if got := s.Holding(c.perm).Covers(o.StudyID, o.LabID); got != want {
					t.Errorf("%s %s on %+v: Holding says %v, Authorize %v", name, c.perm, o, got, want)
				}
			}
		}
	}
}
