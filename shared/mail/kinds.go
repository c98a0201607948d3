package mail

// Kinds of email the platform sends, each rendered by templates/<kind>.tmpl. Links, no tracking,
// no personal data beyond what the recipient already knows.
const (
	KindVerifyEmail     = "verify_email"
	KindSignUpExisting  = "sign_up_existing"
	KindResetPassword   = "reset_password"
	KindChangeEmail     = "change_email"
	KindEmailChanged    = "email_changed"
	KindPasswordChanged = "password_changed"

	KindLabSubmitted    = "lab_submitted"     // to site admins
	KindLabApproved     = "lab_approved"      // to the lab's admins
	KindLabJoinRequest  = "lab_join_request"  // to the lab's admins
	KindLabRoleChanged  = "lab_role_changed"  // to the researcher
	KindLabRemoved      = "lab_removed"       // to the researcher
	KindLabJoinDeclined = "lab_join_declined" // to the researcher

	KindStudyModified   = "study_modified"    // an approved study was edited and went back to rejected
	KindStudyAccess     = "study_access"      // a researcher's group on a study changed
	KindStudyCapReached = "study_cap_reached" // max_responses reached; the study paused

	KindRunnerBuilt       = "runner_built"        // to the study's admins
	KindRunnerBuildFailed = "runner_build_failed" // to the study's admins
)

// Study transition kinds (studies.NoticeOf names which one a transition sends).
const (
	KindStudySubmitted   = "study_submitted"
	KindStudyApproved    = "study_approved"
	KindStudyRescinded   = "study_rescinded"
	KindStudyRejected    = "study_rejected"
	KindStudyRetracted   = "study_retracted"
	KindStudyActivated   = "study_activated"
	KindStudyPaused      = "study_paused"
	KindStudyDeactivated = "study_deactivated"
)

type link struct{ Link string }

// VerifyEmail asks a new user to confirm their address.
func VerifyEmail(url string) Content { return Content{KindVerifyEmail, link{url}} }

// SignUpExisting tells the owner of an address that someone tried to sign up with it, without
// revealing to the person signing up that the address has an account.
func SignUpExisting(loginLink, resetLink string) Content {
	return Content{KindSignUpExisting, struct{ LoginLink, ResetLink string }{loginLink, resetLink}}
}

// ResetPassword sends a single-use link to choose a new password.
func ResetPassword(url string) Content { return Content{KindResetPassword, link{url}} }

// ChangeEmail asks the new address to confirm an email change.
func ChangeEmail(url string) Content { return Content{KindChangeEmail, link{url}} }

// EmailChanged tells the old address that the account's email changed.
func EmailChanged() Content { return Content{KindEmailChanged, struct{}{}} }

// PasswordChanged tells a user their password changed.
func PasswordChanged() Content { return Content{KindPasswordChanged, struct{}{}} }

type labData struct{ Lab, Institution, Person, Role, From, Link string }

// LabSubmitted tells site admins that a lab waits for approval.
func LabSubmitted(lab, institution, creator, url string) Content {
	return Content{KindLabSubmitted, labData{Lab: lab, Institution: institution, Person: creator, Link: url}}
}

// LabApproved tells a lab's admins that the lab may now run studies.
func LabApproved(lab, url string) Content {
	return Content{KindLabApproved, labData{Lab: lab, Link: url}}
}

// LabJoinRequest tells a lab's admins that a researcher asks to join.
func LabJoinRequest(lab, researcher, url string) Content {
	return Content{KindLabJoinRequest, labData{Lab: lab, Person: researcher, Link: url}}
}

// LabRoleChanged tells a researcher their role in a lab: joined (from "" or "requested"),
// made an admin, or changed.
func LabRoleChanged(lab, from, to, url string) Content {
	return Content{KindLabRoleChanged, labData{Lab: lab, From: from, Role: to, Link: url}}
}

// LabRemoved tells a researcher they are no longer in a lab.
func LabRemoved(lab string) Content { return Content{KindLabRemoved, labData{Lab: lab}} }

// LabJoinDeclined tells a researcher their request to join was declined.
func LabJoinDeclined(lab string) Content { return Content{KindLabJoinDeclined, labData{Lab: lab}} }

type studyData struct {
	Study, State, Actor, Comments, Group, Link string
	Fields                                     []string
	Max                                        int
}

// StudyNotice is the email of a study transition of the given kind (KindStudySubmitted…).
func StudyNotice(kind, study, state, actor, comments, url string) Content {
	return Content{kind, studyData{Study: study, State: state, Actor: actor, Comments: comments, Link: url}}
}

// StudyModified tells a study's researchers that an edit took their approved study offline.
func StudyModified(study string, fields []string, url string) Content {
	return Content{KindStudyModified, studyData{Study: study, Fields: fields, Link: url}}
}

// StudyAccess tells a researcher their access to a study.
func StudyAccess(study, group, url string) Content {
	return Content{KindStudyAccess, studyData{Study: study, Group: group, Link: url}}
}

// StudyCapReached tells a study's researchers the study paused at its response cap.
func StudyCapReached(study string, max int, url string) Content {
	return Content{KindStudyCapReached, studyData{Study: study, Max: max, Link: url}}
}

type buildData struct{ Study, SHA, Status, LogURL string }

// RunnerBuilt tells a study's admins that its experiment runner is built and the study can be
// previewed and started.
func RunnerBuilt(study, sha string) Content {
	return Content{KindRunnerBuilt, buildData{Study: study, SHA: sha}}
}

// RunnerBuildFailed tells a study's admins that its runner build failed, with where to read why.
func RunnerBuildFailed(study, sha, status, logURL string) Content {
	return Content{KindRunnerBuildFailed, buildData{Study: study, SHA: sha, Status: status, LogURL: logURL}}
}

// KindResearcherMessage is a researcher's message to families who took part in a study
// (Lookit's custom_email from Contact Participants).
const KindResearcherMessage = "researcher_message"

// ResearcherMessage is a researcher's message: their subject and body (plain text), the study it
// is about, and where families change their email preferences.
func ResearcherMessage(subject, body, study, prefsLink string) Content {
	return Content{KindResearcherMessage, struct{ Subject, Body, Study, PrefsLink string }{subject, body, study, prefsLink}}
}

// KindResponseFeedback tells a family that a researcher left feedback on one of their sessions.
const KindResponseFeedback = "response_feedback"

// ResponseFeedback is the email a family gets when a researcher leaves feedback on a session of
// child in study; the feedback is in the email and on the family's past sessions page (link).
func ResponseFeedback(study, child, feedback, link string) Content {
	return Content{KindResponseFeedback, struct{ Study, Child, Feedback, Link string }{study, child, feedback, link}}
}

// Export kinds: to the researcher who asked for a download or video archive.
const (
	KindExportReady  = "export_ready"
	KindExportFailed = "export_failed"
)

// ExportReady is the email with the link to a finished export: file is its name, validFor how
// long the link works ("24 hours"), skipped how many responses could not be written, and page
// the study's page where another link can be asked for.
func ExportReady(study, file, link, validFor string, skipped int, page string) Content {
	return Content{KindExportReady, struct {
		Study, File, Link, ValidFor string
		Skipped                     int
		Page                        string
	}{study, file, link, validFor, skipped, page}}
}

// ExportFailed tells the researcher that an export could not be made; reason is for them.
func ExportFailed(study, file, reason, page string) Content {
	return Content{KindExportFailed, struct{ Study, File, Reason, Page string }{study, file, reason, page}}
}
