package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/eligibility"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/protocol"
	"lookit.dev/platform/shared/studies"
)

// Studies creates and edits studies, moves them through their lifecycle, manages their
// researchers and keeps their response cap. Every change writes the study log and queues its
// emails in the same transaction.
type Studies struct {
	Pool    *pgxpool.Pool
	From    string // EMAIL_FROM
	BaseURL string // links in emails
}

var errNoStudy = apperr.New(apperr.NotFound, "no such study")

func (s *Studies) link(parts ...string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/" + strings.Join(parts, "/")
}

// ID returns a study's id and its lab's, by UUID.
func (s *Studies) ID(ctx context.Context, studyUUID string) (id, labID int64, err error) {
	if _, err := uuid.Parse(studyUUID); err != nil {
		return 0, 0, errNoStudy
	}
	r, err := db.New(s.Pool).StudyIDByUUID(ctx, studyUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, errNoStudy
	}
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: study id: %w", err)
	}
	return r.ID, r.LabID, nil
}

// checked is a study input after every check: its own, the criteria expression and the protocol.
type checked struct {
	studies.Input
	criteriaAST []byte
	structure   []byte
}

func check(t studies.Type, in studies.Input) (checked, error) {
	in, err := in.Clean(t)
	if err != nil {
		return checked{}, err
	}
	out := checked{Input: in}
	expr, err := eligibility.Parse(in.CriteriaExpression)
	if err != nil {
		return checked{}, apperr.Field("/criteria_expression", "%s", err.Error())
	}
	if expr != nil {
		if out.criteriaAST, err = json.Marshal(expr); err != nil {
			return checked{}, fmt.Errorf("criteria AST: %w", err)
		}
	}
	if len(bytes.TrimSpace(in.Structure)) == 0 {
		in.Structure = json.RawMessage(`{"frames": {}, "sequence": []}`)
	}
	if t == studies.Frameplayer {
		if _, err := protocol.Validate(in.Structure, in.Generator, in.UseGenerator); err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				return checked{}, apperr.Field(pe.Pointer, "%s", pe.Message)
			}
			return checked{}, apperr.Field("/structure", "%s", err.Error())
		}
	} else if !json.Valid(in.Structure) {
		return checked{}, apperr.Field("/structure", "structure must be JSON")
	}
	out.structure = in.Structure
	return out, nil
}

func int16s(vs ...int) []int16 {
	out := make([]int16, len(vs))
	for i, v := range vs {
		out[i] = int16(v)
	}
	return out
}

func maxResponses(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}

// Create makes a study in a lab; its creator joins the study's admin group.
func (s *Studies) Create(ctx context.Context, creatorID, labID int64, t studies.Type, in studies.Input) (string, error) {
	c, err := check(t, in)
	if err != nil {
		return "", err
	}
	a := int16s(c.Priority, c.MinAgeYears, c.MinAgeMonths, c.MinAgeDays, c.MaxAgeYears, c.MaxAgeMonths, c.MaxAgeDays)
	var id string
	err = InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.CreateStudy(ctx, db.CreateStudyParams{
			Name: c.Name, LabID: labID, CreatorID: &creatorID, StudyTypeID: studies.TypeID(t), PreviewSummary: c.PreviewSummary,
			ShortDescription: c.ShortDescription, Purpose: c.Purpose, Criteria: c.Criteria, Duration: c.Duration,
			ContactInfo: c.ContactInfo, CompensationDescription: c.CompensationDescription, ExitUrl: c.ExitURL,
			Priority: a[0], MinAgeYears: a[1], MinAgeMonths: a[2], MinAgeDays: a[3], MaxAgeYears: a[4], MaxAgeMonths: a[5],
			MaxAgeDays: a[6], CriteriaExpression: c.CriteriaExpression, CriteriaAst: c.criteriaAST, Public: c.Public,
			SharedPreview: c.SharedPreview, DisplayFullScreen: c.DisplayFullScreen, MaxResponses: maxResponses(c.MaxResponses),
			Structure: c.structure, UseGenerator: c.UseGenerator, Generator: c.Generator, Metadata: c.Metadata,
		})
		if err != nil {
			return err
		}
		id = row.Uuid
		if err := setParticipationRules(ctx, q, row.ID, c.Input); err != nil {
			return err
		}
		if err := q.AddStudyResearcher(ctx, db.AddStudyResearcherParams{StudyID: row.ID, UserID: creatorID, Grp: string(authz.GroupAdmin)}); err != nil {
			return err
		}
		return q.LogStudy(ctx, db.LogStudyParams{StudyID: row.ID, UserID: &creatorID, Action: "created", Extra: []byte(`{}`)})
	})
	if err != nil {
		return "", fmt.Errorf("postgres: create study: %w", err)
	}
	return id, nil
}

// changedFields lists the monitored fields an edit changes (Lookit's MONITORING_FIELDS, less
// those this edit cannot touch: type, lab and image have their own operations).
func changedFields(old db.FindStudyRow, c checked) ([]string, error) {
	var out []string
	same, err := protocol.SameProtocol(old.Structure, c.structure)
	if err != nil {
		return nil, err
	}
	if !same {
		out = append(out, "structure")
	}
	pairs := []struct {
		name     string
		old, new string
	}{
		{"generator", old.Generator, c.Generator},
		{"name", old.Name, c.Name},
		{"short_description", old.ShortDescription, c.ShortDescription},
		{"purpose", old.Purpose, c.Purpose},
		{"duration", old.Duration, c.Duration},
		{"contact_info", old.ContactInfo, c.ContactInfo},
		{"exit_url", old.ExitUrl, c.ExitURL},
		{"compensation_description", old.CompensationDescription, c.CompensationDescription},
	}
	for _, p := range pairs {
		if p.old != p.new {
			out = append(out, p.name)
		}
	}
	if old.UseGenerator != c.UseGenerator {
		out = append(out, "use_generator")
	}
	if !jsonEqual(old.Metadata, c.Metadata) {
		out = append(out, "metadata")
	}
	return out, nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// Update saves a study's details. Editing a monitored field of an approved, active, paused or
// deactivated study returns it to rejected, logs why and tells its researchers (Lookit silently
// took the study offline). Changing the type's metadata (runner, URL, experiment) needs a new build.
func (s *Studies) Update(ctx context.Context, actorID, studyID int64, in studies.Input) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.LockStudy(ctx, studyID); errors.Is(err, pgx.ErrNoRows) {
			return errNoStudy
		} else if err != nil {
			return err
		}
		old, err := q.FindStudy(ctx, studyID)
		if err != nil {
			return err
		}
		t := studies.TypeOf(old.StudyTypeID)
		c, err := check(t, in)
		if err != nil {
			return err
		}
		changed, err := changedFields(old, c)
		if err != nil {
			return err
		}
		built, building := old.Built, old.IsBuilding
		if !jsonEqual(old.Metadata, c.Metadata) {
			built, building = false, false
		}
		a := int16s(c.Priority, c.MinAgeYears, c.MinAgeMonths, c.MinAgeDays, c.MaxAgeYears, c.MaxAgeMonths, c.MaxAgeDays)
		if err := q.UpdateStudy(ctx, db.UpdateStudyParams{ID: studyID,
			Name: c.Name, PreviewSummary: c.PreviewSummary, ShortDescription: c.ShortDescription, Purpose: c.Purpose,
			Criteria: c.Criteria, Duration: c.Duration, ContactInfo: c.ContactInfo, CompensationDescription: c.CompensationDescription,
			ExitUrl: c.ExitURL, Priority: a[0], MinAgeYears: a[1], MinAgeMonths: a[2], MinAgeDays: a[3], MaxAgeYears: a[4],
			MaxAgeMonths: a[5], MaxAgeDays: a[6], CriteriaExpression: c.CriteriaExpression, CriteriaAst: c.criteriaAST,
			Public: c.Public, SharedPreview: c.SharedPreview, DisplayFullScreen: c.DisplayFullScreen,
			MaxResponses: maxResponses(c.MaxResponses), Structure: c.structure, UseGenerator: c.UseGenerator,
			Generator: c.Generator, Metadata: c.Metadata, Built: built, IsBuilding: building,
		}); err != nil {
			return err
		}
		if err := setParticipationRules(ctx, q, studyID, c.Input); err != nil {
			return err
		}
		out, err = s.takeOffline(ctx, q, actorID, old, changed)
		if err != nil || len(out) > 0 {
			return err
		}
		// A cap lowered to (or below) what is already counted pauses an active study now.
		st, err := q.LockStudy(ctx, studyID)
		if err != nil {
			return err
		}
		out, err = s.pauseAtCap(ctx, q, st, st.TalliedResponses)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: update study: %w", err)
	}
	return out, nil
}

// takeOffline returns a study whose monitored fields changed while approved, active, paused or
// deactivated to rejected, logs which fields changed and tells its researchers.
func (s *Studies) takeOffline(ctx context.Context, q *db.Queries, actorID int64, old db.FindStudyRow, changed []string) ([]pmail.Request, error) {
	if len(changed) == 0 || !studies.Monitored(studies.State(old.State)) {
		return nil, nil
	}
	const comment = "Your study has been modified following approval. You must resubmit this study to get it approved again."
	extra, _ := json.Marshal(map[string]any{"comments": comment, "modified_fields": changed, "from": old.State})
	if err := q.SetStudyState(ctx, db.SetStudyStateParams{ID: old.ID, State: string(studies.Rejected), Comments: comment, CommentsExtra: []byte(`{}`)}); err != nil {
		return nil, err
	}
	if err := q.LogStudy(ctx, db.LogStudyParams{StudyID: old.ID, UserID: &actorID, Action: string(studies.Rejected), Extra: extra}); err != nil {
		return nil, err
	}
	to, err := s.statusChangers(ctx, q, old.ID)
	if err != nil || len(to) == 0 {
		return nil, err
	}
	name, _ := q.FindStudy(ctx, old.ID)
	r, err := queueEmail(ctx, q, s.From, pmail.StudyModified(name.Name, changed, s.link("exp", "studies", old.Uuid)), "", to...)
	return []pmail.Request{r}, err
}

// SetImage records the study's image object (stored by the caller). The image is a monitored
// field: changing it takes an approved study offline like any other monitored edit.
func (s *Studies) SetImage(ctx context.Context, actorID, studyID int64, object string) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.LockStudy(ctx, studyID); errors.Is(err, pgx.ErrNoRows) {
			return errNoStudy
		} else if err != nil {
			return err
		}
		old, err := q.FindStudy(ctx, studyID)
		if err != nil {
			return err
		}
		if old.ImageObject == object {
			return nil
		}
		if err := q.SetStudyImage(ctx, db.SetStudyImageParams{ID: studyID, ImageObject: object}); err != nil {
			return err
		}
		extra, _ := json.Marshal(map[string]string{"image": object})
		if err := q.LogStudy(ctx, db.LogStudyParams{StudyID: studyID, UserID: &actorID, Action: "image_changed", Extra: extra}); err != nil {
			return err
		}
		out, err = s.takeOffline(ctx, q, actorID, old, []string{"image"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: set study image: %w", err)
	}
	return out, nil
}

// statusChangers are the holders of CHANGE_STUDY_STATUS on the study, from authz's tables.
func (s *Studies) statusChangers(ctx context.Context, q *db.Queries, studyID int64) ([]string, error) {
	var groups, roles []string
	for _, g := range authz.StudyGroups {
		if authz.GroupPerms[g][authz.ChangeStudyStatus] {
			groups = append(groups, string(g))
		}
	}
	for _, r := range authz.LabRoles {
		if authz.LabUmbrella[r][authz.ChangeStudyStatus] {
			roles = append(roles, string(r))
		}
	}
	return q.StatusChangers(ctx, db.StatusChangersParams{StudyID: studyID, Groups: groups, LabRoles: roles})
}

// TransitionRequest is a status change as a researcher or site admin asks for it.
type TransitionRequest struct {
	Trigger      studies.Trigger
	Comments     string
	Declarations map[string]bool // submission declarations (studies.Declarations)
}

// Transition moves a study by a trigger when the study's conditions allow it (authorization is
// the caller's, through authz), writes the log entry and queues the notice.
func (s *Studies) Transition(ctx context.Context, actorID, studyID int64, req TransitionRequest) (studies.State, []pmail.Request, error) {
	if len([]rune(req.Comments)) > 10_000 {
		return "", nil, apperr.Field("/comments", "comments must be at most 10000 characters")
	}
	for k := range req.Declarations {
		if !slices.Contains(studies.Declarations, k) {
			return "", nil, apperr.Field("/declarations/"+k, "unknown declaration %q", k)
		}
	}
	var next studies.State
	var out []pmail.Request
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		st, err := q.LockStudy(ctx, studyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoStudy
		}
		if err != nil {
			return err
		}
		t := studies.TypeOf(st.StudyTypeID)
		facts := studies.Facts{State: studies.State(st.State), Type: t, LabApproved: st.LabApproved, Built: st.Built,
			AtCap: st.MaxResponses != nil && st.TalliedResponses >= *st.MaxResponses}
		if req.Trigger == studies.Submit || req.Trigger == studies.Resubmit {
			facts.Protocol = readyToSubmit(t, st)
		}
		next, err = studies.Next(req.Trigger, facts)
		if err != nil {
			return err
		}
		extraMap := map[string]any{"comments": req.Comments}
		if len(req.Declarations) > 0 {
			extraMap["declarations"] = req.Declarations
		}
		extra, _ := json.Marshal(extraMap)
		commentsExtra := []byte(`{}`)
		if len(req.Declarations) > 0 {
			commentsExtra, _ = json.Marshal(map[string]any{"declarations": req.Declarations})
		}
		if err := q.SetStudyState(ctx, db.SetStudyStateParams{ID: studyID, State: string(next), Comments: req.Comments, CommentsExtra: commentsExtra}); err != nil {
			return err
		}
		if err := q.LogStudy(ctx, db.LogStudyParams{StudyID: studyID, UserID: &actorID, Action: string(next), Extra: extra}); err != nil {
			return err
		}
		n := studies.NoticeOf(req.Trigger, studies.State(st.State))
		if n.To == studies.Nobody {
			return nil
		}
		actor, err := q.FindUserByID(ctx, actorID)
		if err != nil {
			return err
		}
		var to []string
		replyTo := ""
		switch n.To {
		case studies.SiteAdmins:
			to, err = q.SiteAdminEmails(ctx)
			replyTo = actor.Email
		case studies.Researchers:
			to, err = s.statusChangers(ctx, q, studyID)
		}
		if err != nil || len(to) == 0 {
			return err
		}
		c := pmail.StudyNotice(n.Kind, st.Name, string(next), actor.Email, req.Comments, s.link("exp", "studies", st.Uuid))
		r, err := queueEmail(ctx, q, s.From, c, replyTo, to...)
		out = append(out, r)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("postgres: study transition: %w", err)
	}
	return next, out, nil
}

// readyToSubmit says what a study still lacks before review: a protocol (frameplayer) and the
// metadata its type needs.
func readyToSubmit(t studies.Type, st db.LockStudyRow) error {
	if err := studies.ReadyMetadata(t, st.Metadata); err != nil {
		return err
	}
	if t != studies.Frameplayer {
		return nil
	}
	p, err := protocol.Validate(st.Structure, st.Generator, st.UseGenerator)
	if err != nil {
		return err
	}
	return protocol.ReadyToSubmit(p, st.UseGenerator)
}

// Find returns a study with its response counts.
func (s *Studies) Find(ctx context.Context, studyID int64) (db.FindStudyRow, error) {
	r, err := db.New(s.Pool).FindStudy(ctx, studyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoStudy
	}
	if err != nil {
		return r, fmt.Errorf("postgres: find study: %w", err)
	}
	return r, nil
}

// Logs returns a study's newest log entries.
func (s *Studies) Logs(ctx context.Context, studyID int64) ([]db.StudyLogsRow, error) {
	rows, err := db.New(s.Pool).StudyLogs(ctx, studyID)
	if err != nil {
		return nil, fmt.Errorf("postgres: study logs: %w", err)
	}
	return rows, nil
}

// List returns the studies a researcher may read (study group, lab umbrella, or site admin),
// newest first, with response counts.
func (s *Studies) List(ctx context.Context, sub authz.Subject, includeArchived bool) ([]db.ListResearcherStudiesRow, error) {
	var roles []string
	for _, r := range authz.LabRoles {
		if authz.LabUmbrella[r][authz.ReadStudyDetails] {
			roles = append(roles, string(r))
		}
	}
	rows, err := db.New(s.Pool).ListResearcherStudies(ctx, db.ListResearcherStudiesParams{UserID: sub.UserID,
		SiteAdmin: sub.SiteAdmin, UmbrellaRoles: roles, IncludeArchived: includeArchived})
	if err != nil {
		return nil, fmt.Errorf("postgres: list studies: %w", err)
	}
	return rows, nil
}

var errNotInStudyLab = apperr.New(apperr.Conflict, "only members of the study's lab can be given access to it")

// SetResearcher puts a researcher of the study's lab in one of the study's groups (or moves
// them). The last member of the admin group cannot be moved out of it. The researcher is emailed.
func (s *Studies) SetResearcher(ctx context.Context, actorID, studyID int64, userUUID string, group authz.StudyGroup) ([]pmail.Request, error) {
	if !slices.Contains(authz.StudyGroups, group) {
		return nil, apperr.Field("/group", "group must be one of preview, design, analysis, submission_processor, researcher, manager, admin")
	}
	var out []pmail.Request
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		st, userID, email, err := s.studyMember(ctx, q, studyID, userUUID)
		if err != nil {
			return err
		}
		// Held until commit, so that a removal from the lab waits and then removes this row too.
		m, err := q.LabMemberForShare(ctx, db.LabMemberForShareParams{LabID: st.LabID, UserID: userID})
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && (m.Role == string(authz.LabRequested) || !m.IsResearcher)) {
			return errNotInStudyLab
		}
		if err != nil {
			return err
		}
		current, err := q.StudyResearcher(ctx, db.StudyResearcherParams{StudyID: studyID, UserID: userID})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if current == string(group) {
			return nil
		}
		if err := s.keepAnAdmin(ctx, q, studyID, current, string(group)); err != nil {
			return err
		}
		if err := q.AddStudyResearcher(ctx, db.AddStudyResearcherParams{StudyID: studyID, UserID: userID, Grp: string(group)}); err != nil {
			return err
		}
		extra, _ := json.Marshal(map[string]string{"researcher": userUUID, "from": current, "to": string(group)})
		if err := q.LogStudy(ctx, db.LogStudyParams{StudyID: studyID, UserID: &actorID, Action: "researcher_changed", Extra: extra}); err != nil {
			return err
		}
		r, err := queueEmail(ctx, q, s.From, pmail.StudyAccess(st.Name, string(group), s.link("exp", "studies", st.Uuid)),
			replyTo(st.LabContactEmail), email)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: set study researcher: %w", err)
	}
	return out, nil
}

// RemoveResearcher takes a researcher out of a study's groups; the last admin stays.
func (s *Studies) RemoveResearcher(ctx context.Context, actorID, studyID int64, userUUID string) error {
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		_, userID, _, err := s.studyMember(ctx, q, studyID, userUUID)
		if err != nil {
			return err
		}
		current, err := q.StudyResearcher(ctx, db.StudyResearcherParams{StudyID: studyID, UserID: userID})
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "this researcher has no access to the study")
		}
		if err != nil {
			return err
		}
		if err := s.keepAnAdmin(ctx, q, studyID, current, ""); err != nil {
			return err
		}
		if _, err := q.RemoveStudyResearcher(ctx, db.RemoveStudyResearcherParams{StudyID: studyID, UserID: userID}); err != nil {
			return err
		}
		extra, _ := json.Marshal(map[string]string{"researcher": userUUID, "from": current})
		return q.LogStudy(ctx, db.LogStudyParams{StudyID: studyID, UserID: &actorID, Action: "researcher_removed", Extra: extra})
	})
	if err != nil {
		return fmt.Errorf("postgres: remove study researcher: %w", err)
	}
	return nil
}

func (s *Studies) studyMember(ctx context.Context, q *db.Queries, studyID int64, userUUID string) (db.LockStudyRow, int64, string, error) {
	st, err := q.LockStudy(ctx, studyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, 0, "", errNoStudy
	}
	if err != nil {
		return st, 0, "", err
	}
	if _, err := uuid.Parse(userUUID); err != nil {
		return st, 0, "", apperr.New(apperr.NotFound, "no such researcher")
	}
	u, err := q.UserIDByUUID(ctx, userUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, 0, "", apperr.New(apperr.NotFound, "no such researcher")
	}
	return st, u.ID, u.Email, err
}

func (s *Studies) keepAnAdmin(ctx context.Context, q *db.Queries, studyID int64, from, to string) error {
	if from != string(authz.GroupAdmin) || to == string(authz.GroupAdmin) {
		return nil
	}
	n, err := q.CountStudyAdmins(ctx, studyID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return apperr.New(apperr.Conflict, "a study must keep at least one admin: add another admin first")
	}
	return nil
}

// Researchers lists who has access to a study, by group.
func (s *Studies) Researchers(ctx context.Context, studyID int64) ([]db.StudyResearchersRow, error) {
	rows, err := db.New(s.Pool).StudyResearchers(ctx, studyID)
	if err != nil {
		return nil, fmt.Errorf("postgres: study researchers: %w", err)
	}
	return rows, nil
}

// Clone copies a study into labID (chosen and authorized by the caller): a new uuid and salt,
// not public, state created, "Copy of …", not built, no prior-participation rules; the cloner
// becomes its admin.
func (s *Studies) Clone(ctx context.Context, actorID, studyID, labID int64) (string, error) {
	var id string
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.CloneStudy(ctx, db.CloneStudyParams{ID: studyID, LabID: labID, CreatorID: &actorID})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoStudy
		}
		if err != nil {
			return err
		}
		id = row.Uuid
		if err := q.AddStudyResearcher(ctx, db.AddStudyResearcherParams{StudyID: row.ID, UserID: actorID, Grp: string(authz.GroupAdmin)}); err != nil {
			return err
		}
		extra, _ := json.Marshal(map[string]int64{"cloned_from": studyID})
		return q.LogStudy(ctx, db.LogStudyParams{StudyID: row.ID, UserID: &actorID, Action: "created", Extra: extra})
	})
	if err != nil {
		return "", fmt.Errorf("postgres: clone study: %w", err)
	}
	return id, nil
}

// setParticipationRules replaces a study's prior-participation rules with the input's.
func setParticipationRules(ctx context.Context, q *db.Queries, studyID int64, in studies.Input) error {
	if err := q.ClearParticipationRules(ctx, studyID); err != nil {
		return err
	}
	seen := map[int64]string{}
	for _, list := range []struct {
		pointer string
		ids     []string
		must    bool
	}{{"/must_have_participated", in.MustHave, true}, {"/must_not_have_participated", in.MustNot, false}} {
		for i, u := range list.ids {
			pointer := fmt.Sprintf("%s/%d", list.pointer, i)
			if _, err := uuid.Parse(u); err != nil {
				return apperr.Field(pointer, "no such study")
			}
			other, err := q.StudyIDByUUID(ctx, u)
			if errors.Is(err, pgx.ErrNoRows) {
				return apperr.Field(pointer, "no such study")
			}
			if err != nil {
				return err
			}
			if other.ID == studyID {
				return apperr.Field(pointer, "a study cannot require participation in itself")
			}
			if prev, dup := seen[other.ID]; dup {
				return apperr.Field(pointer, "this study is already listed at %s", prev)
			}
			seen[other.ID] = pointer
			if err := q.AddParticipationRule(ctx, db.AddParticipationRuleParams{StudyID: studyID, OtherStudyID: other.ID, MustHave: list.must}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParticipationRules returns the UUIDs of the studies a study's rules name.
func (s *Studies) ParticipationRules(ctx context.Context, studyID int64) (mustHave, mustNot []string, err error) {
	rows, err := db.New(s.Pool).StudyParticipationRules(ctx, studyID)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: participation rules: %w", err)
	}
	mustHave, mustNot = []string{}, []string{}
	for _, r := range rows {
		if r.MustHave {
			mustHave = append(mustHave, r.Uuid)
		} else {
			mustNot = append(mustNot, r.Uuid)
		}
	}
	return mustHave, mustNot, nil
}
