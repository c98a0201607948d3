// Package authz is the platform's one authorization function: Authorize(subject, action, object)
// decides every request, from the permission model Lookit uses (seven study groups, lab roles with
// lab-wide "umbrella" study permissions, site-level permissions) plus family ownership. Routes
// load the facts (who the subject is, which object) and ask; no route decides access by itself.
package authz

// Perm is a study permission (Lookit's object permissions on Study).
type Perm string

const (
	ReadStudyDetails        Perm = "RD" // see study pages, preview
	WriteStudyDetails       Perm = "WD" // edit study, protocol, build
	ChangeStudyStatus       Perm = "CS" // state transitions
	ManageStudyResearchers  Perm = "MR" // add, remove and re-role researchers
	ReadStudyResponseData   Perm = "RR" // real (non-preview) data
	ReadStudyPreviewData    Perm = "RP" // preview data
	CodeStudyConsent        Perm = "CC" // consent coding for all responses
	CodeStudyPreviewConsent Perm = "CP" // consent coding for previews
	ContactStudyParticipant Perm = "CT" // email participants
	EditStudyFeedback       Perm = "EF" // feedback and researcher fields
	ChangeStudyLab          Perm = "CL" // move the study to another lab
	DeleteAllPreviewData    Perm = "DP" // delete previews
	ApproveRejectStudy      Perm = "AP" // site admins only
)

// StudyGroup is one of the seven groups every study has.
type StudyGroup string

const (
	GroupPreview             StudyGroup = "preview"
	GroupDesign              StudyGroup = "design"
	GroupAnalysis            StudyGroup = "analysis"
	GroupSubmissionProcessor StudyGroup = "submission_processor"
	GroupResearcher          StudyGroup = "researcher"
	GroupManager             StudyGroup = "manager"
	GroupAdmin               StudyGroup = "admin"
)

// StudyGroups lists the groups from least to most privileged.
var StudyGroups = []StudyGroup{GroupPreview, GroupDesign, GroupAnalysis, GroupSubmissionProcessor, GroupResearcher, GroupManager, GroupAdmin}

func set(ps ...Perm) map[Perm]bool {
	m := make(map[Perm]bool, len(ps))
	for _, p := range ps {
		m[p] = true
	}
	return m
}

// GroupPerms is Lookit's table of study group permissions.
var GroupPerms = map[StudyGroup]map[Perm]bool{
	GroupPreview:             set("RD", "RP", "CP"),
	GroupDesign:              set("RD", "RP", "CP", "DP", "WD"),
	GroupAnalysis:            set("RD", "RP", "CP", "DP", "RR"),
	GroupSubmissionProcessor: set("RD", "RP", "CP", "DP", "CS", "CC", "EF", "CT"),
	GroupResearcher:          set("RD", "RP", "CP", "DP", "CS", "RR", "CC", "EF", "CT"),
	GroupManager:             set("RD", "RP", "CP", "DP", "WD", "CS", "MR"),
	GroupAdmin:               set("RD", "RP", "CP", "DP", "WD", "EF", "CS", "MR", "RR", "CC", "CT", "CL"),
}

// LabRole is a researcher's role in a lab. Requested is a pending join request and grants nothing.
type LabRole string

const (
	LabRequested LabRole = "requested"
	LabGuest     LabRole = "guest"
	LabReadOnly  LabRole = "readonly"
	LabMember    LabRole = "member"
	LabAdmin     LabRole = "admin"
)

// LabRoles lists the roles from least to most privileged.
var LabRoles = []LabRole{LabRequested, LabGuest, LabReadOnly, LabMember, LabAdmin}

// LabUmbrella is the study permissions a lab role grants on every study of the lab. Lab admins do
// not get real data (RR) lab-wide: they must join the study, as in Lookit.
var LabUmbrella = map[LabRole]map[Perm]bool{
	LabRequested: set(),
	LabGuest:     set(),
	LabReadOnly:  set("RD", "RP"),
	LabMember:    set("RD", "RP", "CP"),
	LabAdmin:     set("RD", "RP", "CP", "DP", "WD", "CS", "MR"),
}

// LabPerm is a permission on a lab itself.
type LabPerm string

const (
	PermCreateStudy LabPerm = "create_study"
	PermReadMembers LabPerm = "read_members"
	PermEditMembers LabPerm = "edit_members"
	PermEditLab     LabPerm = "edit_details"
	PermApproveLab  LabPerm = "approve" // site admins only
)

// LabRolePerms is what each lab role may do to the lab.
var LabRolePerms = map[LabRole]map[LabPerm]bool{
	LabRequested: {},
	LabGuest:     {PermCreateStudy: true},
	LabReadOnly:  {},
	LabMember:    {PermCreateStudy: true, PermReadMembers: true},
	LabAdmin:     {PermCreateStudy: true, PermReadMembers: true, PermEditMembers: true, PermEditLab: true},
}

// Site admins hold Lookit's LOOKIT_ADMIN permissions: approve and reject studies, change any
// study's status (and so see its details), approve labs, edit lab details and members. They do
// not read participant data by virtue of being admins.
var siteAdminStudyPerms = set("AP", "CS", "RD", "RP")
var siteAdminLabPerms = map[LabPerm]bool{PermApproveLab: true, PermEditLab: true, PermReadMembers: true, PermEditMembers: true}
