package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/eligibility"
	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// annWorld builds families, children and studies for announcement tests. The package's tests
// share a database, so each run of the job is limited to the test's own studies and families.
type annWorld struct {
	t        *testing.T
	pool     *pgxpool.Pool
	ctx      context.Context
	lab      int64
	contact  string
	studies  []int64
	families []int64
}

func newAnnWorld(t *testing.T) *annWorld {
	t.Helper()
	w := &annWorld{t: t, pool: pgtest.Pool(t), ctx: context.Background()}
	w.lab, w.contact = w.newLab(true)
	// Leave nothing to announce behind, for runs over every study (and -count=N).
	t.Cleanup(func() {
		_, _ = w.pool.Exec(w.ctx, `UPDATE studies SET state = 'archived' WHERE id = ANY($1)`, w.studies)
		_, _ = w.pool.Exec(w.ctx, `UPDATE users SET email_new_studies = false WHERE id = ANY($1)`, w.families)
	})
	return w
}

func (w *annWorld) newLab(approved bool) (int64, string) {
	w.t.Helper()
	tag := uuid.NewString()[:8]
	contact := "ann-" + tag + "@lab.example.org"
	var id int64
	if err := w.pool.QueryRow(w.ctx, `INSERT INTO labs (name, contact_email, approved_to_test) VALUES ('Announcing Lab ' || $1, $2, $3) RETURNING id`,
		tag, contact, approved).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id, contact
}

type annStudy struct {
	name, state, criteria string
	typ                   int // 1 frameplayer, 2 external, 3 jsPsych
	minDays, maxDays      int // in days, as years*365 + months*30 + days
	public                bool
	lab                   int64
}

// study adds a study (active, public, in the approved lab unless said otherwise) and returns its id.
func (w *annWorld) study(s annStudy) int64 {
	w.t.Helper()
	if s.state == "" {
		s.state = "active"
	}
	if s.typ == 0 {
		s.typ = 1
	}
	if s.lab == 0 {
		s.lab = w.lab
	}
	var ast []byte
	if s.criteria != "" {
		expr, err := eligibility.Parse(s.criteria)
		if err != nil {
			w.t.Fatal(err)
		}
		ast, _ = json.Marshal(expr)
	}
	minY, minM, minD := w.bound(s.minDays)
	maxY, maxM, maxD := w.bound(s.maxDays)
	var id int64
	if err := w.pool.QueryRow(w.ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, short_description, criteria_ast,
			min_age_years, min_age_months, min_age_days, max_age_years, max_age_months, max_age_days)
		VALUES ($1, $2, $3, $4, $5, 'What babies know about ' || $1, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		s.name, s.lab, s.typ, s.state, s.public, ast, minY, minM, minD, maxY, maxM, maxD).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	w.studies = append(w.studies, id)
	return id
}

// bound splits an age limit in days into Lookit's years (365 days), months (30) and days.
func (w *annWorld) bound(days int) (y, m, d int) {
	y, d = days/365, days%365
	m = min(d/30, 11)
	d -= m * 30
	if d > 31 {
		w.t.Fatalf("%d days has no years, months and days", days)
	}
	return y, m, d
}

// pub is a public, active frameplayer study for ages minDays..maxDays.
func (w *annWorld) pub(name string, minDays, maxDays int) int64 {
	return w.study(annStudy{name: name, minDays: minDays, maxDays: maxDays, public: true})
}

type annFamily struct {
	id    int64
	email string
}

// family adds a verified, active family who wants new-study email; set may change its row.
func (w *annWorld) family(set string) annFamily {
	w.t.Helper()
	f := annFamily{email: "fam-" + uuid.NewString()[:8] + "@example.org"}
	if err := w.pool.QueryRow(w.ctx, `INSERT INTO users (email, nickname, email_verified_at) VALUES ($1, 'Parent', now()) RETURNING id`,
		f.email).Scan(&f.id); err != nil {
		w.t.Fatal(err)
	}
	w.families = append(w.families, f.id)
	if set != "" {
		if _, err := w.pool.Exec(w.ctx, `UPDATE users SET `+set+` WHERE id = $1`, f.id); err != nil {
			w.t.Fatal(err)
		}
	}
	return f
}

// child adds a child aged ageDays today, speaking English.
func (w *annWorld) child(f annFamily, name string, ageDays int) int64 {
	w.t.Helper()
	var id int64
	if err := w.pool.QueryRow(w.ctx, `INSERT INTO children (user_id, given_name, birthday, gender, languages_spoken)
		VALUES ($1, $2, current_date - $3::integer, 'f', 1) RETURNING id`, f.id, name, ageDays).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *annWorld) respond(child, study int64, typ int, sequence []string, preview bool) {
	w.t.Helper()
	if sequence == nil {
		sequence = []string{}
	}
	if _, err := w.pool.Exec(w.ctx, `INSERT INTO responses (study_id, child_id, study_type_id, sequence, is_preview) VALUES ($1, $2, $3, $4, $5)`,
		study, child, typ, sequence, preview); err != nil {
		w.t.Fatal(err)
	}
}

func (w *annWorld) job(perStudy int) *postgres.Announcements {
	return &postgres.Announcements{PerStudy: perStudy, BaseURL: "https://lookit.example.org/", From: "bot@example.org",
		Studies: w.studies, Families: w.families}
}

// run does one run of the job through Jobs.Run, as a firing would, and returns its summary.
func (w *annWorld) run(perStudy int) map[string]any {
	w.t.Helper()
	return w.runCtx(w.ctx, perStudy)
}

func (w *annWorld) runCtx(ctx context.Context, perStudy int) map[string]any {
	w.t.Helper()
	j := postgres.NewJobs(w.pool, nil)
	j.Funcs[jobs.StudyAnnouncements] = w.job(perStudy).Run
	msg := uuid.NewString()
	if ran, err := j.Run(ctx, msg, jobs.Request{Job: jobs.StudyAnnouncements}); err != nil || !ran {
		w.t.Fatalf("run: %v %v", ran, err)
	}
	var out map[string]any
	if err := w.pool.QueryRow(w.ctx, `SELECT outcome FROM job_runs WHERE message_id = $1`, msg).Scan(&out); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// pairs returns the announced (child, study) pairs of the test's studies and families, as
// "child/study".
func (w *annWorld) pairs() []string {
	w.t.Helper()
	rows, err := w.pool.Query(w.ctx, `SELECT child_id || '/' || study_id FROM study_announcements
		WHERE study_id = ANY($1) AND user_id = ANY($2) ORDER BY 1`, w.studies, w.families)
	if err != nil {
		w.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func pair(child, study int64) string { return fmt.Sprintf("%d/%d", child, study) }

type annEmail struct {
	id, subject, text, replyTo, status string
}

// emails returns the announcement emails queued to a family, oldest first.
func (w *annWorld) emails(f annFamily) []annEmail {
	w.t.Helper()
	rows, err := w.pool.Query(w.ctx, `SELECT id::text, subject, body_text, reply_to, status FROM email_messages
		WHERE kind = 'study_announcement' AND to_addresses = ARRAY[$1] ORDER BY created_at, id`, f.email)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []annEmail
	for rows.Next() {
		var e annEmail
		if err := rows.Scan(&e.id, &e.subject, &e.text, &e.replyTo, &e.status); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// num reads a count from a summary, as returned (int) or as stored in job_runs (JSON number).
func num(out map[string]any, key string) int {
	switch n := out[key].(type) {
	case int:
		return n
	case float64:
		return int(n)
	}
	return 0
}

// Only eligible children of willing families hear of an active, public study of an approved lab;
// a second run tells no one again.
func TestAnnouncementsReachOnlyEligibleChildrenOfWillingFamilies(t *testing.T) {
	w := newAnnWorld(t)
	const minDays, maxDays = 365, 730
	s := w.study(annStudy{name: "Word Learning", minDays: minDays, maxDays: maxDays, public: true, criteria: "speaks_en"})
	other := w.pub("Earlier Study", 0, 2000)
	// Taking part in the earlier study rules a child out of this one.
	if _, err := w.pool.Exec(w.ctx, `INSERT INTO study_participation_rules (study_id, other_study_id, must_have) VALUES ($1, $2, false)`, s, other); err != nil {
		t.Fatal(err)
	}
	// Eligible by age for these, which must never be announced.
	unapprovedLab, _ := w.newLab(false)
	hidden := []int64{
		w.study(annStudy{name: "Private", minDays: 0, maxDays: 2000, public: false}),
		w.study(annStudy{name: "Paused", minDays: 0, maxDays: 2000, public: true, state: "paused"}),
		w.study(annStudy{name: "Approved", minDays: 0, maxDays: 2000, public: true, state: "approved"}),
		w.study(annStudy{name: "Unapproved lab", minDays: 0, maxDays: 2000, public: true, lab: unapprovedLab}),
	}

	fam := w.family("")
	mid := w.child(fam, "Ada", 500)
	atMin := w.child(w.family(""), "Min", minDays)
	atMax := w.child(w.family(""), "Max", maxDays)
	want := []string{pair(mid, s), pair(atMin, s), pair(atMax, s)}
	for _, c := range []int64{mid, atMin, atMax} {
		want = append(want, pair(c, other))
	}
	// Too young or too old for this study, not for the earlier one.
	want = append(want, pair(w.child(w.family(""), "Young", minDays-1), other), pair(w.child(w.family(""), "Old", maxDays+1), other))
	var monolingual int64
	if err := w.pool.QueryRow(w.ctx, `UPDATE children SET languages_spoken = 2 WHERE id = $1 RETURNING id`, w.child(w.family(""), "Fr", 500)).Scan(&monolingual); err != nil {
		t.Fatal(err)
	}
	want = append(want, pair(monolingual, other))
	w.child(w.family("email_new_studies = false"), "OptedOut", 500)
	w.child(w.family("is_active = false"), "Inactive", 500)
	w.child(w.family("email_verified_at = NULL"), "Unverified", 500)
	w.child(w.family("is_spam = true"), "Spam", 500)
	deleted := w.child(w.family(""), "Deleted", 500)
	if _, err := w.pool.Exec(w.ctx, `UPDATE children SET deleted = true WHERE id = $1`, deleted); err != nil {
		t.Fatal(err)
	}
	tookOther := w.child(w.family(""), "TookOther", 500)
	w.respond(tookOther, other, 1, []string{"intro"}, false)

	var outs []map[string]any
	for range 3 {
		outs = append(outs, w.run(50))
	}
	slices.Sort(want)
	if got := w.pairs(); !slices.Equal(got, want) {
		t.Fatalf("announced %v\nwant      %v", got, want)
	}
	for _, h := range hidden {
		if slices.ContainsFunc(w.pairs(), func(p string) bool { return strings.HasSuffix(p, fmt.Sprintf("/%d", h)) }) {
			t.Fatalf("study %d was announced", h)
		}
	}
	// Each family heard of each of its studies once: six families, three of them eligible for
	// both studies, so six emails, then three, then none.
	if num(outs[0], "emails") != 6 || num(outs[1], "emails") != 3 || num(outs[2], "emails") != 0 || num(outs[2], "families") != 0 {
		t.Fatalf("runs %v", outs)
	}
	if num(outs[0], "children") != 6 || num(outs[0], "families") != 6 || num(outs[0], "studies") < 1 {
		t.Fatalf("first run %v", outs[0])
	}
	es := w.emails(fam)
	if len(es) != 2 {
		t.Fatalf("family got %d emails", len(es))
	}
	var su string
	_ = w.pool.QueryRow(w.ctx, `SELECT uuid::text FROM studies WHERE id = $1`, s).Scan(&su)
	for _, e := range es {
		if e.replyTo != w.contact || e.status != "pending" {
			t.Errorf("email %+v", e)
		}
	}
	i := slices.IndexFunc(es, func(e annEmail) bool { return strings.Contains(e.subject, "Word Learning") })
	if i < 0 || es[i].subject != `Ada is invited to take part in "Word Learning" on Lookit (Children Helping Science)!` ||
		!strings.Contains(es[i].text, "https://lookit.example.org/studies/"+su+"/\n") ||
		!strings.Contains(es[i].text, "What babies know about Word Learning") || !strings.Contains(es[i].text, "Dear Parent,") {
		t.Fatalf("emails %+v", es)
	}
}

// A child who took part in a study, or opened it at all (any response, previews included), does
// not hear of it: frameplayer, external and jsPsych alike.
func TestAnnouncementsSkipChildrenWhoTookPart(t *testing.T) {
	w := newAnnWorld(t)
	efp := w.study(annStudy{name: "EFP", typ: 1, maxDays: 2000, public: true})
	ext := w.study(annStudy{name: "External", typ: 2, maxDays: 2000, public: true})
	jsp := w.study(annStudy{name: "jsPsych", typ: 3, maxDays: 2000, public: true})
	type took struct {
		study, typ int
		seq        []string
		preview    bool
	}
	studyIDs := []int64{efp, ext, jsp}
	cases := map[string]took{
		"efp reached a frame":  {0, 1, []string{"intro"}, false},
		"efp opened only":      {0, 1, nil, false},
		"external clicked":     {1, 2, nil, false},
		"jspsych reached":      {2, 3, []string{"0-html-keyboard-response"}, false},
		"jspsych page opened":  {2, 3, nil, false},
		"jspsych preview only": {2, 3, []string{"0-html-keyboard-response"}, true},
	}
	var want, never []string
	for name, c := range cases {
		child := w.child(w.family(""), strings.ReplaceAll(name, " ", "-"), 400)
		w.respond(child, studyIDs[c.study], c.typ, c.seq, c.preview)
		for i, s := range studyIDs {
			if i == c.study {
				never = append(never, pair(child, s))
			} else {
				want = append(want, pair(child, s))
			}
		}
	}
	control := w.child(w.family(""), "Control", 400)
	for _, s := range studyIDs {
		want = append(want, pair(control, s))
	}
	for range 4 {
		w.run(50)
	}
	slices.Sort(want)
	got := w.pairs()
	if !slices.Equal(got, want) {
		t.Fatalf("announced %v\nwant      %v (never %v)", got, want, never)
	}
}

// A family with several children and studies gets one email per run, naming every child of
// theirs eligible for the one study it is about; the next run brings the next study.
func TestOneAnnouncementPerFamilyPerRun(t *testing.T) {
	w := newAnnWorld(t)
	both := w.pub("Both Ages", 0, 1000)
	young := w.pub("Young Only", 0, 500)
	f := w.family("")
	ada := w.child(f, "Ada", 400) // the younger, named first
	ben := w.child(f, "Ben", 800)
	for i, wantEmails := range []int{1, 2, 2} {
		out := w.run(50)
		if got := len(w.emails(f)); got != wantEmails || num(out, "families") != min(1, 2-i) {
			t.Fatalf("run %d: %d emails, outcome %v", i+1, got, out)
		}
	}
	want := []string{pair(ada, both), pair(ben, both), pair(ada, young)}
	slices.Sort(want)
	if got := w.pairs(); !slices.Equal(got, want) {
		t.Fatalf("announced %v, want %v", got, want)
	}
	subjects := []string{}
	for _, e := range w.emails(f) {
		subjects = append(subjects, e.subject)
	}
	slices.Sort(subjects)
	if subjects[0] != `Ada and Ben are invited to take part in "Both Ages" on Lookit (Children Helping Science)!` ||
		subjects[1] != `Ada is invited to take part in "Young Only" on Lookit (Children Helping Science)!` {
		t.Fatalf("subjects %q", subjects)
	}
}

// At most the cap of families hear of one study per run; the rest hear on later runs.
func TestAnnouncementsPerStudyCap(t *testing.T) {
	w := newAnnWorld(t)
	s := w.pub("Popular", 0, 1000)
	for i := range 5 {
		w.child(w.family(""), fmt.Sprint("Kid", i), 300)
	}
	var got []int
	for range 4 {
		got = append(got, num(w.run(2), "emails"))
	}
	if !slices.Equal(got, []int{2, 2, 1, 0}) || len(w.pairs()) != 5 {
		t.Fatalf("emails per run %v, %d pairs of study %d", got, len(w.pairs()), s)
	}
}

// Runs that overlap announce each (child, study) once and email each family once: a run that
// finds another in progress does nothing, and even without that lock the primary key keeps a
// pair from being announced twice.
func TestOverlappingAnnouncementRuns(t *testing.T) {
	w := newAnnWorld(t)
	w.pub("Overlap", 0, 1000)
	var fams []annFamily
	for i := range 20 {
		f := w.family("")
		w.child(f, fmt.Sprint("Kid", i), 300)
		fams = append(fams, f)
	}

	// A run still in its transaction: the next firing does nothing.
	tx, err := w.pool.Begin(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(w.ctx) }()
	first, err := w.job(1).Run(w.ctx, tx)
	if err != nil || num(first, "emails") != 1 {
		t.Fatalf("first run %v %v", first, err)
	}
	// (Without the lock it would wait on the first run's pairs: the timeout makes that a failure.)
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	if out := w.runCtx(ctx, 1000); out["skipped"] == nil || num(out, "emails") != 0 {
		t.Fatalf("overlapping run %v", out)
	}
	if err := tx.Commit(w.ctx); err != nil {
		t.Fatal(err)
	}

	// Eight firings at once.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			j := postgres.NewJobs(w.pool, nil)
			j.Funcs[jobs.StudyAnnouncements] = w.job(1000).Run
			if _, err := j.Run(w.ctx, uuid.NewString(), jobs.Request{Job: jobs.StudyAnnouncements}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(w.pairs()); n != 20 {
		t.Fatalf("%d pairs announced, want 20", n)
	}
	for _, f := range fams {
		if n := len(w.emails(f)); n != 1 {
			t.Fatalf("family %s got %d emails", f.email, n)
		}
	}

	// Without the lock: both pick the same family; the second recording waits for the first's
	// pairs and then skips them.
	more := w.family("")
	w.child(more, "Late", 300)
	picks, err := db.New(w.pool).PickAnnouncements(w.ctx, db.PickAnnouncementsParams{Studies: w.studies, Families: w.families, PerStudy: 1000})
	if err != nil || len(picks) != 1 || picks[0].UserID != more.id {
		t.Fatalf("picks %v %v", picks, err)
	}
	params := db.RecordAnnouncementsParams{UserIds: []int64{picks[0].UserID}, StudyIds: []int64{picks[0].StudyID}}
	tx1, err := w.pool.Begin(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx1.Rollback(w.ctx) }()
	if rows, err := db.New(tx1).RecordAnnouncements(w.ctx, params); err != nil || len(rows) != 1 {
		t.Fatalf("first statement: %v %v", rows, err)
	}
	second := make(chan int, 1)
	go func() {
		rows, err := db.New(w.pool).RecordAnnouncements(w.ctx, params)
		if err != nil {
			t.Error(err)
		}
		second <- len(rows)
	}()
	select {
	case n := <-second:
		t.Fatalf("the second statement did not wait for the first (%d rows)", n)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx1.Commit(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := <-second; n != 0 {
		t.Fatalf("the second statement announced %d families again", n)
	}
}

// The job's emails are ordinary outbox rows: retry-unsent-emails publishes them; an address the
// mail library refuses costs that family its email (and its pairs stay unannounced), no one else's.
func TestAnnouncementEmailsLeaveThroughTheOutbox(t *testing.T) {
	w := newAnnWorld(t)
	w.pub("Outbox", 0, 1000)
	good := w.family("")
	kid := w.child(good, "Kid", 300)
	bad := w.family("")
	if _, err := w.pool.Exec(w.ctx, `UPDATE users SET email = 'a..' || email WHERE id = $1`, bad.id); err != nil {
		t.Fatal(err)
	}
	w.child(bad, "Other", 300)
	out := w.run(50)
	if num(out, "emails") != 1 || num(out, "unmailable") != 1 {
		t.Fatalf("outcome %v", out)
	}
	if got := w.pairs(); len(got) != 1 || !strings.HasPrefix(got[0], fmt.Sprint(kid, "/")) {
		t.Fatalf("announced %v", got)
	}
	es := w.emails(good)
	if len(es) != 1 {
		t.Fatalf("emails %v", es)
	}
	if _, err := w.pool.Exec(w.ctx, `UPDATE email_messages SET created_at = now() - interval '20 minutes' WHERE id = $1`, es[0].id); err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	j := postgres.NewJobs(w.pool, func(context.Context) (eventsPublisher, error) { return pub, nil })
	if _, err := j.Run(w.ctx, uuid.NewString(), jobs.Request{Job: jobs.RetryUnsentEmails}); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(pub.messages, func(m string) bool {
		return strings.Contains(m, es[0].id) && strings.Contains(m, good.email) && strings.Contains(m, `"reply_to":"`+w.contact+`"`)
	}) {
		t.Fatalf("announcement %s not republished: %v", es[0].id, pub.messages)
	}
}

// The job is scheduled daily and registered with the cap it is given; a run over every study
// (no limit) reaches a family whose child only this test's study takes.
func TestAnnouncementsJobIsScheduledAndRegistered(t *testing.T) {
	w := newAnnWorld(t)
	if jobs.Schedule[jobs.StudyAnnouncements] == "" {
		t.Fatal("no schedule")
	}
	// Older than every study's default maximum (18 years), within this one's.
	s := w.study(annStudy{name: "Teens", minDays: 18*365 + 100, maxDays: 18*365 + 300, public: true})
	f := w.family("")
	kid := w.child(f, "Teen", 18*365+200)
	pub := &recordingPublisher{}
	j := postgres.NewJobs(w.pool, func(context.Context) (eventsPublisher, error) { return pub, nil }).
		WithAnnouncements(50, "https://lookit.example.org", "bot@example.org", []byte("an unsubscribe key of 32 bytes!!"))
	if ran, err := j.Run(w.ctx, uuid.NewString(), jobs.Request{Job: jobs.StudyAnnouncements}); err != nil || !ran {
		t.Fatalf("run: %v %v", ran, err)
	}
	if got := w.pairs(); !slices.Equal(got, []string{pair(kid, s)}) || len(w.emails(f)) != 1 {
		t.Fatalf("announced %v, %d emails", got, len(w.emails(f)))
	}
	// Family-facing: the email carries the family's one-click unsubscribe link.
	var links []string
	if err := w.pool.QueryRow(w.ctx, `SELECT list_unsubscribe FROM email_messages WHERE $1 = ANY(to_addresses)
		AND kind = 'study_announcement'`, f.email).Scan(&links); err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || !strings.HasPrefix(links[0], "https://lookit.example.org/api/unsubscribe/") {
		t.Errorf("List-Unsubscribe links %q", links)
	}
	// Published as soon as the run committed, not left for retry-unsent-emails.
	if len(pub.messages) != 1 || !strings.HasPrefix(pub.messages[0], "email-send ") || !strings.Contains(pub.messages[0], f.email) {
		t.Errorf("published %v, want the family's announcement on email-send", pub.messages)
	}
	if _, err := (&postgres.Announcements{PerStudy: 0}).Run(w.ctx, nil); err == nil {
		t.Fatal("a zero cap was accepted")
	}
}

// On random children, studies, responses and participation rules, announcement_candidates()
// holds exactly the pairs study_eligibility calls eligible (and not taken part in), so its
// written-out eligibility test is study_eligibility's; and runs to exhaustion announce them all.
func TestAnnouncementCandidatesAreTheEligiblePairs(t *testing.T) {
	w := newAnnWorld(t)
	rng := rand.New(rand.NewPCG(3, 5))
	sources := []string{"", "", "deaf", "NOT deaf AND speaks_en", "gender = f OR gender = na", "gestational_age_in_weeks < 37",
		"gestational_age_in_weeks = na", "n_languages >= 2", "age_in_days > 300 AND (multiple_birth OR speaks_fr)"}
	for i := range 12 {
		minDays := 365*rng.IntN(2) + 30*rng.IntN(12) + rng.IntN(30)
		maxDays := minDays + 30*rng.IntN(24) + rng.IntN(30)
		w.study(annStudy{name: fmt.Sprint("Random ", i), typ: 1 + rng.IntN(3), minDays: minDays, maxDays: maxDays, public: true,
			criteria: sources[rng.IntN(len(sources))]})
	}
	for _, s := range w.studies {
		if rng.IntN(3) == 0 {
			other := w.studies[rng.IntN(len(w.studies))]
			if other != s {
				if _, err := w.pool.Exec(w.ctx, `INSERT INTO study_participation_rules (study_id, other_study_id, must_have) VALUES ($1, $2, $3)`,
					s, other, rng.IntN(2) == 0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var children []int64
	for range 80 {
		f := w.family("")
		for range 1 + rng.IntN(3) {
			c := w.child(f, "K", rng.IntN(2000))
			var ga *int16
			if rng.IntN(4) > 0 {
				v := int16(rng.IntN(18))
				ga = &v
			}
			if _, err := w.pool.Exec(w.ctx, `UPDATE children SET gender = $2, gestational_age_at_birth = $3, existing_conditions = $4, languages_spoken = $5 WHERE id = $1`,
				c, []string{"m", "f", "o", "na"}[rng.IntN(4)], ga, int64(rng.IntN(32)), int64(rng.IntN(1<<6))); err != nil {
				t.Fatal(err)
			}
			for range rng.IntN(3) {
				s := w.studies[rng.IntN(len(w.studies))]
				var typ int
				_ = w.pool.QueryRow(w.ctx, `SELECT study_type_id FROM studies WHERE id = $1`, s).Scan(&typ)
				seq := []string{}
				if rng.IntN(2) == 0 {
					seq = []string{"intro"}
				}
				w.respond(c, s, typ, seq, rng.IntN(4) == 0)
			}
			children = append(children, c)
		}
	}
	collect := func(sql string, args ...any) []string {
		t.Helper()
		rows, err := w.pool.Query(w.ctx, sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(what string, got, want []string) {
		t.Helper()
		if slices.Equal(got, want) {
			return
		}
		var extra, missing []string
		for _, p := range got {
			if !slices.Contains(want, p) {
				extra = append(extra, p)
			}
		}
		for _, p := range want {
			if !slices.Contains(got, p) {
				missing = append(missing, p)
			}
		}
		t.Fatalf("%s: %d pairs, %d eligible; not eligible %v; eligible but missing %v", what, len(got), len(want), extra, missing)
	}
	want := collect(`SELECT c.id || '/' || s.id FROM studies s, children c
		WHERE s.id = ANY($1) AND c.id = ANY($2) AND study_eligibility(s.id, c.id, current_date) = '{Eligible}'
		  AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.child_id = c.id AND r.study_id = s.id) ORDER BY 1`, w.studies, children)
	same("candidates", collect(`SELECT child_id || '/' || study_id FROM announcement_candidates()
		WHERE study_id = ANY($1) AND user_id = ANY($2) ORDER BY 1`, w.studies, w.families), want)
	for i := 0; ; i++ {
		if i > len(w.studies)+1 {
			t.Fatal("the job did not run out of pairs")
		}
		if num(w.run(1000), "families") == 0 {
			break
		}
	}
	same("announced", w.pairs(), want)
	// Both outcomes must occur, or the agreement proves little.
	if len(want) < 50 || len(want) > len(children)*len(w.studies)/2 {
		t.Fatalf("%d of %d pairs eligible: the generator is degenerate", len(want), len(children)*len(w.studies))
	}
	t.Logf("%d of %d pairs announced", len(want), len(children)*len(w.studies))
}
