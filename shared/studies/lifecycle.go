// Package studies holds the rules of a study's life: its nine states and the triggers between
// them (Lookit's studies/workflow.py), the conditions the server enforces on each trigger (which
// Lookit only enforced by hiding buttons, reference §2.1), the fields whose edit takes an approved
// study offline, and who is told about each transition.
package studies

import (
	"slices"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
)

// State is where a study is in its life.
type State string

const (
	Created     State = "created"
	Submitted   State = "submitted"
	Rejected    State = "rejected"
	Retracted   State = "retracted"
	Approved    State = "approved"
	Active      State = "active"
	Paused      State = "paused"
	Deactivated State = "deactivated"
	Archived    State = "archived"
)

// States lists every state.
var States = []State{Created, Submitted, Rejected, Retracted, Approved, Active, Paused, Deactivated, Archived}

// Trigger moves a study from one state to another.
type Trigger string

const (
	Submit     Trigger = "submit"
	Resubmit   Trigger = "resubmit"
	Approve    Trigger = "approve"
	Reject     Trigger = "reject"
	Retract    Trigger = "retract"
	Activate   Trigger = "activate"
	Pause      Trigger = "pause"
	Deactivate Trigger = "deactivate"
	Archive    Trigger = "archive"
)

// Triggers lists every trigger. There are no others: Lookit's auto-generated to_<state>
// triggers, which skipped every check, do not exist here.
var Triggers = []Trigger{Submit, Resubmit, Approve, Reject, Retract, Activate, Pause, Deactivate, Archive}

// Type is a study type, by Lookit's fixed ids.
type Type string

const (
	Frameplayer Type = "frameplayer" // id 1, the Ember experiment runner; needs a build
	External    Type = "external"    // id 2, a link to another site
	JSPsych     Type = "jspsych"     // id 3
)

// TypeID returns Lookit's id of a study type.
func TypeID(t Type) int16 {
	switch t {
	case Frameplayer:
		return 1
	case External:
		return 2
	case JSPsych:
		return 3
	}
	return 0
}

// TypeOf returns the study type of a Lookit id.
func TypeOf(id int16) Type {
	switch id {
	case 1:
		return Frameplayer
	case 2:
		return External
	case 3:
		return JSPsych
	}
	return ""
}

// Internal reports whether responses run on this platform (consent, video, frame data).
func (t Type) Internal() bool { return t == Frameplayer || t == JSPsych }

var edges = map[Trigger]struct {
	from []State
	to   State
}{
	Submit:     {[]State{Created}, Submitted},
	Resubmit:   {[]State{Rejected, Retracted}, Submitted},
	Approve:    {[]State{Submitted}, Approved},
	Reject:     {[]State{Submitted, Approved, Active, Paused, Deactivated}, Rejected},
	Retract:    {[]State{Submitted}, Retracted},
	Activate:   {[]State{Approved, Paused}, Active},
	Pause:      {[]State{Active}, Paused},
	Deactivate: {[]State{Active, Paused}, Deactivated},
	Archive:    {[]State{Created, Submitted, Rejected, Retracted, Approved, Active, Paused, Deactivated}, Archived},
}

// Action is the authorization action a trigger needs: approving and rejecting are site admins'
// (APPROVE_REJECT_STUDY), every other trigger needs CHANGE_STUDY_STATUS on the study.
func (t Trigger) Action() authz.Action {
	if t == Approve || t == Reject {
		return authz.ApproveStudy
	}
	return authz.ChangeStatus
}

// ParseTrigger returns the trigger named s.
func ParseTrigger(s string) (Trigger, error) {
	if t := Trigger(s); slices.Contains(Triggers, t) {
		return t, nil
	}
	return "", apperr.Field("/trigger", "unknown trigger %q: use one of submit, resubmit, approve, reject, retract, activate, pause, deactivate, archive", truncate(s))
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// Facts are what the rules of a transition depend on, read in the transaction that makes it.
type Facts struct {
	State       State
	Type        Type
	LabApproved bool  // the study's lab is approved to test
	Built       bool  // the experiment runner is built (frameplayer)
	AtCap       bool  // max_responses is set and reached
	Protocol    error // why the protocol is not ready to submit, or nil
}

// Next returns the state a trigger leads to, or a Conflict error saying why it cannot happen now.
// Authorization (who may pull the trigger) is authz's; these are the study's own conditions.
func Next(t Trigger, f Facts) (State, error) {
	e, ok := edges[t]
	if !ok {
		return "", apperr.Field("/trigger", "unknown trigger %q", truncate(string(t)))
	}
	if !slices.Contains(e.from, f.State) {
		return "", apperr.New(apperr.Conflict, "a study that is %s cannot be %s", f.State, pastTense[t])
	}
	switch t {
	case Submit, Resubmit, Approve, Activate:
		if !f.LabApproved {
			return "", apperr.New(apperr.Conflict, "the study's lab is not yet approved to test")
		}
	}
	switch t {
	case Submit, Resubmit:
		if f.Protocol != nil {
			return "", apperr.Wrap(f.Protocol, apperr.Conflict, "the protocol is not ready")
		}
	case Activate:
		if f.Type == Frameplayer && !f.Built {
			return "", apperr.New(apperr.Conflict, "build the experiment runner before activating the study")
		}
		if f.AtCap {
			return "", apperr.New(apperr.Conflict, "the study has reached its maximum number of responses; raise max_responses to activate it")
		}
	}
	return e.to, nil
}

var pastTense = map[Trigger]string{
	Submit: "submitted", Resubmit: "resubmitted", Approve: "approved", Reject: "rejected", Retract: "retracted",
	Activate: "activated", Pause: "paused", Deactivate: "deactivated", Archive: "archived",
}

// Audience is who is emailed about a transition.
type Audience int

const (
	Nobody      Audience = iota
	SiteAdmins           // Lookit's LOOKIT_ADMIN group
	Researchers          // holders of CHANGE_STUDY_STATUS on the study (its groups and the lab umbrella)
)

// Notice is the email a transition sends.
type Notice struct {
	To   Audience
	Kind string // the email's kind: its template holds Lookit's subject
}

// NoticeOf returns the email Lookit sends when a study moves from one state by a trigger.
func NoticeOf(t Trigger, from State) Notice {
	switch t {
	case Submit, Resubmit:
		return Notice{SiteAdmins, "study_submitted"}
	case Approve:
		return Notice{Researchers, "study_approved"}
	case Reject:
		if from == Approved {
			return Notice{Researchers, "study_rescinded"}
		}
		return Notice{Researchers, "study_rejected"}
	case Retract:
		return Notice{SiteAdmins, "study_retracted"}
	case Activate:
		return Notice{SiteAdmins, "study_activated"}
	case Pause:
		return Notice{SiteAdmins, "study_paused"}
	case Deactivate:
		return Notice{SiteAdmins, "study_deactivated"}
	}
	return Notice{}
}

// Declarations are the submission checkboxes Lookit stores in comments_extra.declarations.
var Declarations = []string{"issue_deception", "issue_length", "issue_consent", "issue_externaldata",
	"issue_personaldata", "issue_sensitive", "collecting_data"}

// MonitoredFields are the fields whose change takes an approved, active, paused or deactivated
// study back to rejected (Lookit's MONITORING_FIELDS).
var MonitoredFields = []string{"structure", "generator", "use_generator", "name", "short_description", "purpose",
	"duration", "contact_info", "image", "exit_url", "metadata", "study_type", "compensation_description", "lab"}

// Monitored reports whether editing a study in this state is watched.
func Monitored(s State) bool {
	return s == Approved || s == Active || s == Paused || s == Deactivated
}
