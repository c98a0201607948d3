package authz

import (
	"slices"

	"lookit.dev/platform/shared/apperr"
)

// Scope limits what a request may do: a browser session may do anything its user may; an API
// token may be read-only.
type Scope string

const (
	ScopeSession   Scope = "session"
	ScopeRead      Scope = "read"
	ScopeReadWrite Scope = "read-write"
)

// Subject is who is asking, with every fact Authorize needs. The zero Subject is anonymous.
type Subject struct {
	UserID       int64
	Researcher   bool
	SiteAdmin    bool
	SecondFactor bool // the session completed TOTP (API tokens can only be made after it)
	Scope        Scope
	Labs         map[int64]LabRole    // lab id → role
	Studies      map[int64]StudyGroup // study id → group
}

// Anonymous reports whether no user is logged in.
func (s Subject) Anonymous() bool { return s.UserID == 0 }

// Object is what the action is on. Only the fields the action needs are read.
type Object struct {
	OwnerID int64 // the family that owns a child, demographics, response or account
	StudyID int64
	LabID   int64 // the study's lab, or the lab itself
	Preview bool  // the response data is preview data
	// For a participant video: its response's consent was accepted (only consented responses'
	// data reaches researchers), and whether it is consent footage (which those who rule on
	// consent must watch before any ruling).
	Consented, ConsentFootage bool
}

// Action names something a subject does to an object.
type Action string

// audience says who may take an action before permissions are consulted.
type audience int

const (
	public        audience = iota // anyone, even anonymous
	authenticated                 // any logged-in user
	owner                         // the family that owns the object
	researcher                    // a researcher who completed 2FA, with the permission below
)

type rule struct {
	audience  audience
	unsafe    bool    // changes state: refused to read-only tokens
	study     Perm    // study permission required (researcher rules)
	preview   Perm    // for preview objects, this permission instead of study
	lab       LabPerm // lab permission required (researcher rules)
	siteAdmin bool    // site admins only
	// video: a participant video is seen with the response-data permission (RR, or RP for
	// previews) once its response is consented, and, if it is consent footage, with the consent
	// permission (CC, or CP) at any time.
	video bool
}

// The actions. Every route of both APIs maps to exactly one of them.
const (
	// Anyone.
	ListPublicStudies Action = "studies.list_public"
	SignUp            Action = "account.sign_up"
	Unsubscribe       Action = "account.unsubscribe" // with a signed link, no session

	// Any logged-in user, on their own account.
	ReadSelf        Action = "account.read"
	EditSelf        Action = "account.edit"
	ManageSessions  Action = "account.sessions"
	ManageTokens    Action = "account.tokens"
	ListLabs        Action = "labs.list_approved"
	ReadActiveStudy Action = "study.read_active" // the compatibility API serves active studies to any user

	// The owning family.
	ReadChild          Action = "child.read"
	EditChild          Action = "child.edit"
	ReadDemographics   Action = "demographics.read"
	EditDemographics   Action = "demographics.edit"
	CreateResponse     Action = "response.create"
	EditOwnResponse    Action = "response.edit_own"
	ReadOwnResponses   Action = "response.read_own"
	ReadOwnFeedback    Action = "feedback.read_own"
	AddChild           Action = "child.create"
	AddDemographics    Action = "demographics.create"
	EditEmailPrefs     Action = "account.email_preferences"
	ReadOwnPastSession Action = "response.past_sessions"
	WatchOwnVideo      Action = "video.watch_own" // a family plays back its own sessions

	// Researchers, by study permission.
	ReadStudy           Action = "study.read"
	EditStudy           Action = "study.edit"
	ChangeStatus        Action = "study.change_status"
	ManageResearchers   Action = "study.manage_researchers"
	ReadResponses       Action = "study.read_responses" // preview objects need RP, real ones RR
	CodeConsent         Action = "study.code_consent"   // preview objects need CP, real ones CC
	ReviewConsent       Action = "study.review_consent" // the consent manager's listing: as CodeConsent, read-only
	ContactParticipants Action = "study.contact"
	EditFeedback        Action = "study.edit_feedback"
	MoveStudyLab        Action = "study.change_lab"
	DeletePreviewData   Action = "study.delete_previews"
	WatchVideo          Action = "study.watch_video" // see the video rule in Authorize
	// Exports follow the video rule too: an archive of consent videos is consent footage (CC, CP
	// for previews), every other export is consented data (RR, RP for previews).
	ExportData   Action = "study.export_data"
	ReadExport   Action = "study.read_export"
	ApproveStudy Action = "study.approve"
	CloneStudy   Action = "study.clone" // read the source; the copy's lab needs CreateStudy

	// Researchers, by lab permission.
	CreateStudy      Action = "lab.create_study"
	ReadLabMembers   Action = "lab.read_members"
	EditLabMembers   Action = "lab.edit_members"
	EditLab          Action = "lab.edit"
	ApproveLabToTest Action = "lab.approve"
	CreateLab        Action = "lab.create"
	ReadLab          Action = "lab.read"          // any researcher: to find a lab and ask to join
	ListStudies      Action = "studies.list_mine" // any researcher: the list shows what they may read
	ListAllLabs      Action = "labs.list_all"     // researchers see unapproved labs too, to join them
	RequestToJoin    Action = "lab.request_join"
)

var rules = map[Action]rule{
	ListPublicStudies: {audience: public},
	SignUp:            {audience: public, unsafe: true},
	Unsubscribe:       {audience: public, unsafe: true},

	ReadSelf:        {audience: authenticated},
	EditSelf:        {audience: authenticated, unsafe: true},
	ManageSessions:  {audience: authenticated, unsafe: true},
	ManageTokens:    {audience: authenticated, unsafe: true},
	ListLabs:        {audience: authenticated},
	ReadActiveStudy: {audience: authenticated},

	ReadChild:          {audience: owner},
	EditChild:          {audience: owner, unsafe: true},
	AddChild:           {audience: owner, unsafe: true},
	ReadDemographics:   {audience: owner},
	EditDemographics:   {audience: owner, unsafe: true},
	AddDemographics:    {audience: owner, unsafe: true},
	CreateResponse:     {audience: owner, unsafe: true},
	EditOwnResponse:    {audience: owner, unsafe: true},
	ReadOwnResponses:   {audience: owner},
	ReadOwnFeedback:    {audience: owner},
	EditEmailPrefs:     {audience: owner, unsafe: true},
	ReadOwnPastSession: {audience: owner},
	WatchOwnVideo:      {audience: owner},

	ReadStudy:           {audience: researcher, study: ReadStudyDetails},
	EditStudy:           {audience: researcher, unsafe: true, study: WriteStudyDetails},
	ChangeStatus:        {audience: researcher, unsafe: true, study: ChangeStudyStatus},
	ManageResearchers:   {audience: researcher, unsafe: true, study: ManageStudyResearchers},
	ReadResponses:       {audience: researcher, study: ReadStudyResponseData, preview: ReadStudyPreviewData},
	CodeConsent:         {audience: researcher, unsafe: true, study: CodeStudyConsent, preview: CodeStudyPreviewConsent},
	ReviewConsent:       {audience: researcher, study: CodeStudyConsent, preview: CodeStudyPreviewConsent},
	ContactParticipants: {audience: researcher, unsafe: true, study: ContactStudyParticipant},
	EditFeedback:        {audience: researcher, unsafe: true, study: EditStudyFeedback},
	MoveStudyLab:        {audience: researcher, unsafe: true, study: ChangeStudyLab},
	DeletePreviewData:   {audience: researcher, unsafe: true, study: DeleteAllPreviewData},
	WatchVideo:          {audience: researcher, video: true},
	ExportData:          {audience: researcher, unsafe: true, video: true},
	ReadExport:          {audience: researcher, video: true},
	ApproveStudy:        {audience: researcher, unsafe: true, study: ApproveRejectStudy, siteAdmin: true},
	CloneStudy:          {audience: researcher, unsafe: true, study: ReadStudyDetails},

	CreateStudy:      {audience: researcher, unsafe: true, lab: PermCreateStudy},
	ReadLabMembers:   {audience: researcher, lab: PermReadMembers},
	EditLabMembers:   {audience: researcher, unsafe: true, lab: PermEditMembers},
	EditLab:          {audience: researcher, unsafe: true, lab: PermEditLab},
	ApproveLabToTest: {audience: researcher, unsafe: true, lab: PermApproveLab, siteAdmin: true},
	CreateLab:        {audience: researcher, unsafe: true},
	ReadLab:          {audience: researcher},
	ListStudies:      {audience: researcher},
	ListAllLabs:      {audience: researcher},
	RequestToJoin:    {audience: researcher, unsafe: true},
}

// Actions lists every action, for tests that enumerate them.
func Actions() []Action {
	out := make([]Action, 0, len(rules))
	for a := range rules {
		out = append(out, a)
	}
	return out
}

// IsUnsafe reports whether a changes state.
func IsUnsafe(a Action) bool { return rules[a].unsafe }

// Authorize decides whether s may take action a on o. It returns nil, an Unauthenticated error
// (log in first), or a Forbidden error whose message says what is missing. Unknown actions are
// denied: deny by default.
func Authorize(s Subject, a Action, o Object) error {
	if err := Precheck(s, a); err != nil {
		return err
	}
	r := rules[a]
	switch r.audience {
	case public, authenticated:
		return nil
	case owner:
		if o.OwnerID != 0 && o.OwnerID == s.UserID {
			return nil
		}
		return apperr.New(apperr.Forbidden, "this belongs to another family")
	}
	// Researcher actions: Precheck established the account, second factor and site role.
	if r.video {
		read, code := ReadStudyResponseData, CodeStudyConsent
		if o.Preview {
			read, code = ReadStudyPreviewData, CodeStudyPreviewConsent
		}
		if (o.Consented && s.hasStudyPerm(read, o)) || (o.ConsentFootage && s.hasStudyPerm(code, o)) {
			return nil
		}
		if o.ConsentFootage {
			return apperr.New(apperr.Forbidden, "you do not have permission %s or %s on this study", code, read)
		}
		if !o.Consented {
			return apperr.New(apperr.Forbidden, "this response's consent has not been accepted")
		}
		return apperr.New(apperr.Forbidden, "you do not have permission %s on this study", read)
	}
	if r.study != "" {
		p := r.study
		if o.Preview && r.preview != "" {
			p = r.preview
		}
		if s.hasStudyPerm(p, o) {
			return nil
		}
		return apperr.New(apperr.Forbidden, "you do not have permission %s on this study", p)
	}
	if r.lab != "" {
		if s.hasLabPerm(r.lab, o) {
			return nil
		}
		return apperr.New(apperr.Forbidden, "you do not have permission %s in this lab", r.lab)
	}
	return nil
}

// Precheck is what Authorize decides before knowing the object: whether the subject is logged
// in, has the account kind, second factor, token scope and site role the action needs. Routes ask
// it before loading an object, so that a caller who could never act on one cannot learn from a
// 404 or 403 whether it exists.
func Precheck(s Subject, a Action) error {
	r, ok := rules[a]
	if !ok {
		return apperr.New(apperr.Forbidden, "unknown action %q", a)
	}
	if r.audience == public && !r.unsafe {
		return nil
	}
	if s.Anonymous() {
		if r.audience == public {
			return nil
		}
		return apperr.New(apperr.Unauthenticated, "log in to do this")
	}
	if r.unsafe && s.Scope == ScopeRead {
		return apperr.New(apperr.Forbidden, "this API token is read-only")
	}
	if r.audience != researcher {
		return nil
	}
	if !s.Researcher {
		return apperr.New(apperr.Forbidden, "a researcher account is required")
	}
	if !s.SecondFactor {
		return apperr.New(apperr.Forbidden, "two-factor authentication is required")
	}
	if r.siteAdmin && !s.SiteAdmin {
		return apperr.New(apperr.Forbidden, "only site admins may do this")
	}
	return nil
}

// hasStudyPerm checks, as Lookit does, the site-level permission, then the study group, then the
// lab umbrella.
func (s Subject) hasStudyPerm(p Perm, o Object) bool {
	if s.SiteAdmin && siteAdminStudyPerms[p] {
		return true
	}
	if p == ApproveRejectStudy || o.StudyID == 0 {
		return false
	}
	if g, ok := s.Studies[o.StudyID]; ok && GroupPerms[g][p] {
		return true
	}
	if o.LabID != 0 {
		if role, ok := s.Labs[o.LabID]; ok && LabUmbrella[role][p] {
			return true
		}
	}
	return false
}

func (s Subject) hasLabPerm(p LabPerm, o Object) bool {
	if s.SiteAdmin && siteAdminLabPerms[p] {
		return true
	}
	if p == PermApproveLab || o.LabID == 0 {
		return false
	}
	role, ok := s.Labs[o.LabID]
	return ok && LabRolePerms[role][p]
}

// Holdings says where a subject holds a study permission, for queries over many studies: the
// studies of their groups that grant it, the labs whose role grants it on every study (umbrella),
// or every study (site permission). It is the set form of Authorize's study rules; the matrix
// test checks the two agree.
type Holdings struct {
	Studies []int64
	Labs    []int64
	All     bool
}

// Holding returns where s holds p (nothing for subjects who may not act as researchers).
func (s Subject) Holding(p Perm) Holdings {
	var h Holdings
	if s.Anonymous() || !s.Researcher || !s.SecondFactor {
		return h
	}
	if s.SiteAdmin && siteAdminStudyPerms[p] {
		h.All = true
	}
	if p == ApproveRejectStudy {
		return h
	}
	for id, g := range s.Studies {
		if GroupPerms[g][p] {
			h.Studies = append(h.Studies, id)
		}
	}
	for id, role := range s.Labs {
		if LabUmbrella[role][p] {
			h.Labs = append(h.Labs, id)
		}
	}
	return h
}

// Covers reports whether the holdings include a study of a lab.
func (h Holdings) Covers(studyID, labID int64) bool {
	return h.All || slices.Contains(h.Studies, studyID) || slices.Contains(h.Labs, labID)
}
