package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/labs"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

type person struct {
	id    int64
	uuid  string
	email string
}

// The package's tests share one database, so names carry a suffix unique to one test run.
var run string

func newRun() { run = uuid.NewString()[:8] }

func researcher(t *testing.T, pool *pgxpool.Pool, name string, siteAdmin bool) person {
	t.Helper()
	p := person{email: name + "-" + uuid.NewString()[:8] + "@example.org"}
	if err := pool.QueryRow(context.Background(), `INSERT INTO users (email, is_researcher, is_site_admin, given_name, family_name)
		VALUES ($1, true, $2, 'Given', 'Family') RETURNING id, uuid::text`, p.email, siteAdmin).Scan(&p.id, &p.uuid); err != nil {
		t.Fatal(err)
	}
	return p
}

func labInput(name string) labs.Input {
	name += " " + run
	return labs.Input{Name: name, Institution: "Example University", PrincipalInvestigatorName: "Dr. PI",
		ContactEmail: strings.ToLower(strings.ReplaceAll(name, " ", "-")) + "@lab.example.org", ContactPhone: "+1 (555) 010-0100",
		Description: "We study how babies learn.", IRBContactInfo: "irb@example.org"}
}

func code(err error) apperr.Code {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// onlyMail checks that exactly one email of the kind was queued, to the given addresses, and that
// the outbox holds it.
func onlyMail(t *testing.T, pool *pgxpool.Pool, reqs []mail.Request, kind, replyTo string, to ...string) {
	t.Helper()
	if len(reqs) != 1 || reqs[0].Kind != kind || strings.Join(reqs[0].To, ",") != strings.Join(to, ",") || reqs[0].ReplyTo != replyTo {
		t.Fatalf("emails %+v; want one %s to %v replying to %q", reqs, kind, to, replyTo)
	}
	var stored string
	if err := pool.QueryRow(context.Background(), `SELECT reply_to FROM email_messages WHERE id = $1 AND kind = $2`, reqs[0].ID, kind).Scan(&stored); err != nil || stored != replyTo {
		t.Fatalf("outbox row: %q %v", stored, err)
	}
}

func TestLabLifecycleFromCreationToMembership(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	l := &postgres.Labs{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	admin := researcher(t, pool, "site-admin", true)
	creator := researcher(t, pool, "creator", false)
	joiner := researcher(t, pool, "joiner", false)

	id, reqs, err := l.Create(ctx, creator.id, labInput("Baby Lab"))
	if err != nil {
		t.Fatal(err)
	}
	// Every site admin is told; this test's admin is one of them.
	if len(reqs) != 1 || reqs[0].Kind != mail.KindLabSubmitted || reqs[0].ReplyTo != creator.email || !slices.Contains(reqs[0].To, admin.email) {
		t.Fatalf("submission email: %+v", reqs)
	}
	lab, err := l.Find(ctx, creator.id, id)
	if err != nil || lab.ApprovedToTest || lab.MyRole != authz.LabAdmin || lab.MemberCount != 1 {
		t.Fatalf("new lab: %+v %v", lab, err)
	}

	// Names, slugs and contact addresses are unique; the conflict names the field.
	dup := labInput("Baby Lab")
	dup.ContactEmail = "other-" + run + "@lab.example.org"
	if _, _, err := l.Create(ctx, joiner.id, dup); code(err) != apperr.Conflict || !strings.Contains(err.Error(), "/name") {
		t.Errorf("duplicate name: %v", err)
	}
	dup = labInput("Another Lab")
	dup.ContactEmail = "BABY-LAB-" + run + "@lab.example.org"
	if _, _, err := l.Create(ctx, joiner.id, dup); code(err) != apperr.Conflict || !strings.Contains(err.Error(), "/contact_email") {
		t.Errorf("duplicate contact email (other case): %v", err)
	}

	// Only approved labs are visible to families.
	listed := func(all bool) bool {
		ls, err := l.List(ctx, 0, all)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(ls, func(x labs.Lab) bool { return x.UUID == id })
	}
	if listed(false) || !listed(true) {
		t.Errorf("unapproved lab: listed for families %v, for researchers %v", listed(false), listed(true))
	}
	reqs, err = l.SetApproval(ctx, admin.id, lab.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	onlyMail(t, pool, reqs, mail.KindLabApproved, "", creator.email)
	if reqs, err := l.SetApproval(ctx, admin.id, lab.ID, true); err != nil || len(reqs) != 0 {
		t.Errorf("approving again: %v %v", reqs, err)
	}
	if !listed(false) {
		t.Error("approved lab not listed for families")
	}

	// A join request reaches the admins once.
	reqs, err = l.RequestToJoin(ctx, joiner.id, lab.ID)
	if err != nil {
		t.Fatal(err)
	}
	onlyMail(t, pool, reqs, mail.KindLabJoinRequest, joiner.email, creator.email)
	if reqs, err := l.RequestToJoin(ctx, joiner.id, lab.ID); err != nil || len(reqs) != 0 {
		t.Errorf("asking twice: %v %v", reqs, err)
	}
	if _, err := l.RequestToJoin(ctx, creator.id, lab.ID); code(err) != apperr.Conflict {
		t.Errorf("a member asking to join: %v", err)
	}
	members, _ := l.Members(ctx, lab.ID)
	if len(members) != 2 || members[0].Role != authz.LabRequested || members[0].Email != joiner.email {
		t.Errorf("members with a request: %+v", members)
	}

	// Accepting is giving a role; replies go to the lab's contact address.
	reqs, err = l.SetRole(ctx, creator.id, lab.ID, joiner.uuid, authz.LabMember)
	if err != nil {
		t.Fatal(err)
	}
	onlyMail(t, pool, reqs, mail.KindLabRoleChanged, "baby-lab-"+run+"@lab.example.org", joiner.email)
	if !strings.HasPrefix(reqs[0].Subject, "You are now part of") {
		t.Errorf("subject %q", reqs[0].Subject)
	}
	if reqs, err := l.SetRole(ctx, creator.id, lab.ID, joiner.uuid, authz.LabMember); err != nil || len(reqs) != 0 {
		t.Errorf("same role again: %v %v", reqs, err)
	}

	// The last admin can be neither demoted nor removed.
	if _, err := l.SetRole(ctx, creator.id, lab.ID, creator.uuid, authz.LabMember); code(err) != apperr.Conflict {
		t.Errorf("demoting the last admin: %v", err)
	}
	if _, err := l.Remove(ctx, creator.id, lab.ID, creator.uuid); code(err) != apperr.Conflict {
		t.Errorf("removing the last admin: %v", err)
	}
	if reqs, err = l.SetRole(ctx, creator.id, lab.ID, joiner.uuid, authz.LabAdmin); err != nil || !strings.HasPrefix(reqs[0].Subject, "You are now an admin") {
		t.Fatalf("promoting: %v %v", reqs, err)
	}
	if _, err := l.SetRole(ctx, joiner.id, lab.ID, creator.uuid, authz.LabReadOnly); err != nil {
		t.Errorf("demoting one of two admins: %v", err)
	}
	reqs, err = l.Remove(ctx, joiner.id, lab.ID, creator.uuid)
	if err != nil {
		t.Fatal(err)
	}
	onlyMail(t, pool, reqs, mail.KindLabRemoved, "baby-lab-"+run+"@lab.example.org", creator.email)
	if _, err := l.Remove(ctx, joiner.id, lab.ID, creator.uuid); code(err) != apperr.NotFound {
		t.Errorf("removing twice: %v", err)
	}

	// Every change is in the lab's log, in order.
	rows, err := pool.Query(ctx, `SELECT action || ':' || coalesce(to_role, '-') FROM lab_log WHERE lab_id = $1 ORDER BY id`, lab.ID)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		log = append(log, s)
	}
	want := "created:admin approved:- join_requested:requested role_changed:member role_changed:admin role_changed:readonly removed:-"
	if strings.Join(log, " ") != want {
		t.Errorf("lab log\n got %s\nwant %s", strings.Join(log, " "), want)
	}
}

func TestDecliningAJoinRequest(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	l := &postgres.Labs{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	owner := researcher(t, pool, "owner", false)
	asker := researcher(t, pool, "asker", false)
	stranger := researcher(t, pool, "stranger", false)
	id, _, err := l.Create(ctx, owner.id, labInput("Decline Lab"))
	if err != nil {
		t.Fatal(err)
	}
	lab, _ := l.Find(ctx, owner.id, id)
	if _, err := l.RequestToJoin(ctx, asker.id, lab.ID); err != nil {
		t.Fatal(err)
	}
	reqs, err := l.Remove(ctx, owner.id, lab.ID, asker.uuid)
	if err != nil {
		t.Fatal(err)
	}
	onlyMail(t, pool, reqs, mail.KindLabJoinDeclined, "decline-lab-"+run+"@lab.example.org", asker.email)
	// A researcher who never asked cannot be given a role.
	if _, err := l.SetRole(ctx, owner.id, lab.ID, stranger.uuid, authz.LabMember); code(err) != apperr.NotFound {
		t.Errorf("role for a stranger: %v", err)
	}
}

// Two admins demoting each other at the same moment must not leave the lab without an admin.
func TestConcurrentDemotionsKeepAnAdmin(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	l := &postgres.Labs{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	for round := range 20 {
		a := researcher(t, pool, "race-a", false)
		b := researcher(t, pool, "race-b", false)
		id, _, err := l.Create(ctx, a.id, labInput("Race Lab "+string(rune('a'+round))))
		if err != nil {
			t.Fatal(err)
		}
		lab, _ := l.Find(ctx, a.id, id)
		if _, err := pool.Exec(ctx, `INSERT INTO lab_members (lab_id, user_id, role) VALUES ($1, $2, 'admin')`, lab.ID, b.id); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]person{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = l.SetRole(ctx, pair[0].id, lab.ID, pair[1].uuid, authz.LabGuest)
			}()
		}
		wg.Wait()
		var admins int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM lab_members WHERE lab_id = $1 AND role = 'admin'`, lab.ID).Scan(&admins); err != nil {
			t.Fatal(err)
		}
		if admins != 1 || (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: %d admins left, errors %v", round, admins, errs)
		}
	}
}

func TestNewResearchersJoinTheAutoJoinLabs(t *testing.T) {
	newRun()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO labs (name, auto_join_role) VALUES ('Sandbox Lab '||$1, 'guest'), ('Demo Lab '||$1, 'readonly'), ('Ordinary Lab '||$1, NULL)`, run); err != nil {
		t.Fatal(err)
	}
	a := &postgres.Accounts{Pool: pool, From: "bot@example.org", BaseURL: "https://lookit.example.org"}
	if _, err := a.SignUp(ctx, "new-researcher-"+run+"@example.org", "a long researcher password", "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SignUp(ctx, "new-parent-"+run+"@example.org", "a long parent password", "", false); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT u.email || ' ' || l.name || ' ' || m.role FROM lab_members m
		JOIN users u ON u.id = m.user_id JOIN labs l ON l.id = m.lab_id WHERE u.email LIKE 'new-%-'||$1||'@example.org' AND l.name LIKE '% '||$1 ORDER BY 1`, run)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		got = append(got, s)
	}
	want := strings.ReplaceAll("new-researcher-R@example.org Demo Lab R readonly; new-researcher-R@example.org Sandbox Lab R guest", "R", run)
	if strings.Join(got, "; ") != want {
		t.Errorf("memberships: %q", got)
	}
}

func TestLabInputIsValidatedFieldByField(t *testing.T) {
	for pointer, change := range map[string]func(*labs.Input){
		"/name":             func(in *labs.Input) { in.Name = "  " },
		"/slug":             func(in *labs.Input) { in.Slug = "Not A Slug" },
		"/contact_email":    func(in *labs.Input) { in.ContactEmail = "lab at example" },
		"/contact_phone":    func(in *labs.Input) { in.ContactPhone = "call us" },
		"/lab_website":      func(in *labs.Input) { in.LabWebsite = "javascript:alert(1)" },
		"/description":      func(in *labs.Input) { in.Description = "" },
		"/irb_contact_info": func(in *labs.Input) { in.IRBContactInfo = "" },
		"/institution":      func(in *labs.Input) { in.Institution = "a\x00b" },
	} {
		in := labInput("Valid Lab")
		change(&in)
		_, err := in.Clean()
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Field != pointer {
			t.Errorf("%s: %v", pointer, err)
		}
	}
	if _, err := labInput("Valid Lab").Clean(); err != nil {
		t.Errorf("valid input: %v", err)
	}
}
