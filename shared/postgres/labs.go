package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/labs"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// Labs creates labs and manages their approval and members. Every change is logged in lab_log and
// its emails are queued in the same transaction (see queueEmail).
type Labs struct {
	Pool    *pgxpool.Pool
	From    string // EMAIL_FROM
	BaseURL string // links in emails
}

var errNoLab = apperr.New(apperr.NotFound, "no such lab")

func (l *Labs) link(parts ...string) string {
	return strings.TrimRight(l.BaseURL, "/") + "/" + strings.Join(parts, "/")
}

func timePtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

func labOf(r db.ListLabsRow) labs.Lab {
	return labs.Lab{ID: r.ID, UUID: r.Uuid, Input: labs.Input{Name: r.Name, Slug: r.Slug, Institution: r.Institution,
		PrincipalInvestigatorName: r.PrincipalInvestigatorName, ContactEmail: r.ContactEmail, ContactPhone: r.ContactPhone,
		LabWebsite: r.LabWebsite, Description: r.Description, IRBContactInfo: r.IrbContactInfo},
		ApprovedToTest: r.ApprovedToTest, ApprovedAt: timePtr(r.ApprovedAt), CreatedAt: r.CreatedAt.Time,
		MyRole: authz.LabRole(r.MyRole), MemberCount: int(r.MemberCount)}
}

// List returns every lab when all is set (researchers looking for a lab to join), otherwise the
// approved ones, with the user's role in each.
func (l *Labs) List(ctx context.Context, userID int64, all bool) ([]labs.Lab, error) {
	rows, err := db.New(l.Pool).ListLabs(ctx, db.ListLabsParams{UserID: userID, AllLabs: all})
	if err != nil {
		return nil, fmt.Errorf("postgres: list labs: %w", err)
	}
	out := make([]labs.Lab, 0, len(rows))
	for _, r := range rows {
		out = append(out, labOf(r))
	}
	return out, nil
}

// Find returns one lab with the user's role in it.
func (l *Labs) Find(ctx context.Context, userID int64, labUUID string) (labs.Lab, error) {
	if _, err := uuid.Parse(labUUID); err != nil {
		return labs.Lab{}, errNoLab
	}
	r, err := db.New(l.Pool).FindLab(ctx, db.FindLabParams{UserID: userID, Uuid: labUUID})
	if errors.Is(err, pgx.ErrNoRows) {
		return labs.Lab{}, errNoLab
	}
	if err != nil {
		return labs.Lab{}, fmt.Errorf("postgres: find lab: %w", err)
	}
	return labOf(db.ListLabsRow(r)), nil
}

// ID returns the id of the lab with the given UUID.
func (l *Labs) ID(ctx context.Context, labUUID string) (int64, error) {
	if _, err := uuid.Parse(labUUID); err != nil {
		return 0, errNoLab
	}
	id, err := db.New(l.Pool).LabIDByUUID(ctx, labUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errNoLab
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: lab id: %w", err)
	}
	return id, nil
}

// labConflict turns a unique violation on labs into a 409 naming the field.
func labConflict(err error) error {
	switch uniqueConstraint(err) {
	case "labs_name_key":
		return &apperr.Error{Code: apperr.Conflict, Field: "/name", Message: "a lab with this name already exists"}
	case "labs_slug_key":
		return &apperr.Error{Code: apperr.Conflict, Field: "/slug", Message: "another lab uses this slug"}
	case "labs_contact_email":
		return &apperr.Error{Code: apperr.Conflict, Field: "/contact_email", Message: "another lab uses this contact email"}
	}
	return err
}

func (l *Labs) log(ctx context.Context, q *db.Queries, labID, actorID int64, userID *int64, action string, from, to authz.LabRole) error {
	p := db.LogLabParams{LabID: labID, ActorID: &actorID, UserID: userID, Action: action}
	if from != "" {
		s := string(from)
		p.FromRole = &s
	}
	if to != "" {
		s := string(to)
		p.ToRole = &s
	}
	if err := q.LogLab(ctx, p); err != nil {
		return fmt.Errorf("lab log: %w", err)
	}
	return nil
}

// Create makes a lab, pending approval, with its creator as its admin, and notifies the site
// admins.
func (l *Labs) Create(ctx context.Context, creatorID int64, in labs.Input) (string, []pmail.Request, error) {
	in, err := in.Clean()
	if err != nil {
		return "", nil, err
	}
	var labUUID string
	var out []pmail.Request
	err = InTx(ctx, l.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.CreateLab(ctx, db.CreateLabParams{Name: in.Name, Slug: in.Slug, Institution: in.Institution,
			PrincipalInvestigatorName: in.PrincipalInvestigatorName, ContactEmail: in.ContactEmail,
			ContactPhone: in.ContactPhone, LabWebsite: in.LabWebsite, Description: in.Description,
			IrbContactInfo: in.IRBContactInfo, CreatedBy: &creatorID})
		if err != nil {
			return labConflict(err)
		}
		labUUID = row.Uuid
		if err := q.UpsertLabMember(ctx, db.UpsertLabMemberParams{LabID: row.ID, UserID: creatorID, Role: string(authz.LabAdmin)}); err != nil {
			return err
		}
		if err := l.log(ctx, q, row.ID, creatorID, &creatorID, "created", "", authz.LabAdmin); err != nil {
			return err
		}
		admins, err := q.SiteAdminEmails(ctx)
		if err != nil || len(admins) == 0 {
			return err
		}
		creator, err := q.FindUserByID(ctx, creatorID)
		if err != nil {
			return err
		}
		// Reply-To the creator, as Lookit does, so admins can ask about the lab.
		r, err := queueEmail(ctx, q, l.From, pmail.LabSubmitted(in.Name, in.Institution, creator.Email, l.link("labs", labUUID)),
			creator.Email, admins...)
		out = append(out, r)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("postgres: create lab: %w", err)
	}
	return labUUID, out, nil
}

// Update changes a lab's details.
func (l *Labs) Update(ctx context.Context, actorID, labID int64, in labs.Input) error {
	in, err := in.Clean()
	if err != nil {
		return err
	}
	err = InTx(ctx, l.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		n, err := q.UpdateLab(ctx, db.UpdateLabParams{ID: labID, Name: in.Name, Slug: in.Slug, Institution: in.Institution,
			PrincipalInvestigatorName: in.PrincipalInvestigatorName, ContactEmail: in.ContactEmail,
			ContactPhone: in.ContactPhone, LabWebsite: in.LabWebsite, Description: in.Description, IrbContactInfo: in.IRBContactInfo})
		if err != nil {
			return labConflict(err)
		}
		if n == 0 {
			return errNoLab
		}
		return l.log(ctx, q, labID, actorID, nil, "edited", "", "")
	})
	if err != nil {
		return fmt.Errorf("postgres: update lab: %w", err)
	}
	return nil
}

// SetApproval approves a lab to test (or withdraws the approval). Only a change is logged, and
// the lab's admins are told when the lab becomes approved.
func (l *Labs) SetApproval(ctx context.Context, actorID, labID int64, approved bool) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, l.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		lab, err := q.LockLab(ctx, labID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoLab
		}
		if err != nil {
			return err
		}
		was, err := q.SetLabApproval(ctx, db.SetLabApprovalParams{ID: labID, Approved: approved})
		if err != nil || was == approved {
			return err
		}
		action := "unapproved"
		if approved {
			action = "approved"
		}
		if err := l.log(ctx, q, labID, actorID, nil, action, "", ""); err != nil {
			return err
		}
		if !approved {
			return nil
		}
		admins, err := q.LabAdminEmails(ctx, labID)
		if err != nil || len(admins) == 0 {
			return err
		}
		r, err := queueEmail(ctx, q, l.From, pmail.LabApproved(lab.Name, l.link("labs", lab.Uuid)), "", admins...)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: lab approval: %w", err)
	}
	return out, nil
}

// RequestToJoin records a researcher's request to join a lab and tells its admins. Asking again
// changes nothing and sends nothing; a member cannot ask.
func (l *Labs) RequestToJoin(ctx context.Context, userID, labID int64) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, l.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		lab, err := q.LockLab(ctx, labID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoLab
		}
		if err != nil {
			return err
		}
		n, err := q.InsertJoinRequest(ctx, db.InsertJoinRequestParams{LabID: labID, UserID: userID})
		if err != nil {
			return err
		}
		if n == 0 {
			m, err := q.LabMember(ctx, db.LabMemberParams{LabID: labID, UserID: userID})
			if err != nil {
				return err
			}
			if m.Role == string(authz.LabRequested) {
				return nil // already asked
			}
			return apperr.New(apperr.Conflict, "you are already a member of this lab")
		}
		if err := l.log(ctx, q, labID, userID, &userID, "join_requested", "", authz.LabRequested); err != nil {
			return err
		}
		admins, err := q.LabAdminEmails(ctx, labID)
		if err != nil || len(admins) == 0 {
			return err
		}
		u, err := q.FindUserByID(ctx, userID)
		if err != nil {
			return err
		}
		who := strings.TrimSpace(u.GivenName + " " + u.FamilyName)
		if who == "" {
			who = u.Email
		} else {
			who += " (" + u.Email + ")"
		}
		r, err := queueEmail(ctx, q, l.From, pmail.LabJoinRequest(lab.Name, who, l.link("labs", lab.Uuid, "members")), u.Email, admins...)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: request to join lab: %w", err)
	}
	return out, nil
}

var errNotInLab = apperr.New(apperr.NotFound, "this researcher is not in the lab and has not asked to join")

// memberChange locks the lab and loads the target's membership: the common start of SetRole and
// Remove.
func memberChange(ctx context.Context, q *db.Queries, labID int64, userUUID string) (db.LockLabRow, int64, db.LabMemberRow, error) {
	lab, err := q.LockLab(ctx, labID)
	if errors.Is(err, pgx.ErrNoRows) {
		return lab, 0, db.LabMemberRow{}, errNoLab
	}
	if err != nil {
		return lab, 0, db.LabMemberRow{}, err
	}
	if _, err := uuid.Parse(userUUID); err != nil {
		return lab, 0, db.LabMemberRow{}, errNotInLab
	}
	u, err := q.UserIDByUUID(ctx, userUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return lab, 0, db.LabMemberRow{}, errNotInLab
	}
	if err != nil {
		return lab, 0, db.LabMemberRow{}, err
	}
	m, err := q.LabMember(ctx, db.LabMemberParams{LabID: labID, UserID: u.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return lab, 0, db.LabMemberRow{}, errNotInLab
	}
	return lab, u.ID, m, err
}

// SetRole gives a member (or a researcher who asked to join) a role. The last admin cannot be
// demoted; the researcher is emailed about every change, with replies going to the lab.
func (l *Labs) SetRole(ctx context.Context, actorID, labID int64, userUUID string, role authz.LabRole) ([]pmail.Request, error) {
	if _, err := labs.ParseRole(string(role)); err != nil {
		return nil, err
	}
	var out []pmail.Request
	err := InTx(ctx, l.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		lab, userID, m, err := memberChange(ctx, q, labID, userUUID)
		if err != nil {
			return err
		}
		from := authz.LabRole(m.Role)
		if from == role {
			return nil
		}
		admins, err := q.CountLabAdmins(ctx, labID)
		if err != nil {
			return err
		}
		if err := labs.CheckLastAdmin(from, role, int(admins)); err != nil {
			return err
		}
		if err := q.UpsertLabMember(ctx, db.UpsertLabMemberParams{LabID: labID, UserID: userID, Role: string(role)}); err != nil {
			return err
		}
		if err := l.log(ctx, q, labID, actorID, &userID, "role_changed", from, role); err != nil {
			return err
		}
		r, err := queueEmail(ctx, q, l.From, pmail.LabRoleChanged(lab.Name, string(from), string(role), l.link("labs", lab.Uuid)),
			replyTo(lab.ContactEmail), m.Email)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: set lab role: %w", err)
	}
	return out, nil
}

// Remove takes a researcher out of a lab, or declines their request to join. The last admin
// cannot be removed.
func (l *Labs) Remove(ctx context.Context, actorID, labID int64, userUUID string) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, l.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		lab, userID, m, err := memberChange(ctx, q, labID, userUUID)
		if err != nil {
			return err
		}
		from := authz.LabRole(m.Role)
		admins, err := q.CountLabAdmins(ctx, labID)
		if err != nil {
			return err
		}
		if err := labs.CheckLastAdmin(from, "", int(admins)); err != nil {
			return err
		}
		// Leaving the lab ends one's study groups there: refuse while one is a study's last admin.
		studyRows, err := q.LockLabStudiesOf(ctx, db.LockLabStudiesOfParams{UserID: userID, LabID: labID})
		if err != nil {
			return err
		}
		var lastOf []string
		for _, r := range studyRows {
			if r.LastAdmin != nil && *r.LastAdmin {
				lastOf = append(lastOf, fmt.Sprintf("%q", r.Name))
			}
		}
		if len(lastOf) > 0 {
			return apperr.New(apperr.Conflict, "this researcher is the last admin of %s: make someone else an admin there first",
				strings.Join(lastOf, ", "))
		}
		if _, err := q.DeleteLabMember(ctx, db.DeleteLabMemberParams{LabID: labID, UserID: userID}); err != nil {
			return err
		}
		if err := q.RemoveFromLabStudies(ctx, db.RemoveFromLabStudiesParams{UserID: userID, LabID: labID}); err != nil {
			return err
		}
		action, content := "removed", pmail.LabRemoved(lab.Name)
		if from == authz.LabRequested {
			action, content = "request_declined", pmail.LabJoinDeclined(lab.Name)
		}
		if err := l.log(ctx, q, labID, actorID, &userID, action, from, ""); err != nil {
			return err
		}
		r, err := queueEmail(ctx, q, l.From, content, replyTo(lab.ContactEmail), m.Email)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: remove lab member: %w", err)
	}
	return out, nil
}

// replyTo is the lab's contact address when it is one an email can carry.
func replyTo(contact string) string {
	if r := (pmail.Request{ReplyTo: contact}); contact == "" || r.ValidReplyTo() != nil {
		return ""
	}
	return contact
}

// Members lists a lab's members and join requests, requests first.
func (l *Labs) Members(ctx context.Context, labID int64) ([]labs.Member, error) {
	rows, err := db.New(l.Pool).ListLabMembers(ctx, labID)
	if err != nil {
		return nil, fmt.Errorf("postgres: lab members: %w", err)
	}
	out := make([]labs.Member, 0, len(rows))
	for _, r := range rows {
		out = append(out, labs.Member{UserUUID: r.Uuid, Email: r.Email, GivenName: r.GivenName, FamilyName: r.FamilyName,
			Role: authz.LabRole(r.Role), Since: r.CreatedAt.Time})
	}
	return out, nil
}

// autoJoin puts a new researcher in the labs every researcher joins (Lookit's Demo and Sandbox
// labs), inside the sign-up transaction.
func autoJoin(ctx context.Context, q *db.Queries, userID int64) error {
	rows, err := q.AutoJoinLabs(ctx)
	if err != nil {
		return fmt.Errorf("auto-join labs: %w", err)
	}
	for _, r := range rows {
		if err := q.UpsertLabMember(ctx, db.UpsertLabMemberParams{LabID: r.ID, UserID: userID, Role: *r.AutoJoinRole}); err != nil {
			return fmt.Errorf("auto-join lab %d: %w", r.ID, err)
		}
		to := authz.LabRole(*r.AutoJoinRole)
		if err := q.LogLab(ctx, db.LogLabParams{LabID: r.ID, UserID: &userID, Action: "auto_joined", ToRole: (*string)(&to)}); err != nil {
			return fmt.Errorf("auto-join lab %d: %w", r.ID, err)
		}
	}
	return nil
}
