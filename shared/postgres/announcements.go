package postgres

import (
	"context"
	"fmt"
	"github.com/google/uuid"
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5"

	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// Announcements is the study announcements job (Lookit's daily send_announcement_emails,
// reference §8.3): families who want new-study email hear of an active, public study their
// children are eligible for and have not taken part in; one email per family per run, at most
// PerStudy families per study per run, never the same child and study twice.
type Announcements struct {
	PerStudy int    // ANNOUNCEMENTS_PER_STUDY
	BaseURL  string // links in the emails
	From     string // EMAIL_FROM
	// UnsubscribeKey signs each family's one-click unsubscribe link (SECRET_KEY), sent in the
	// List-Unsubscribe header; empty sends none.
	UnsubscribeKey []byte
	// Studies and Families limit a run to these studies and families (users); nil is all. Tests
	// use them to stay apart in a shared database.
	Studies, Families []int64
}

// Run does one announcements run in tx and returns its summary. The emails go to the outbox in
// tx and are published when the run commits (Jobs.Run); any whose publication fails are sent by
// the retry-unsent-emails job.
func (a *Announcements) Run(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
	if a.PerStudy < 1 {
		return nil, fmt.Errorf("announcements: per-study cap %d", a.PerStudy)
	}
	q := db.New(tx)
	// An overlapping run would only find what this one announces; the primary key would keep
	// them from repeating a pair anyway, but not from both emailing one family.
	ok, err := q.TryLockAnnouncements(ctx)
	if err != nil {
		return nil, fmt.Errorf("announcements: lock: %w", err)
	}
	if !ok {
		return map[string]any{"skipped": "another run is in progress"}, nil
	}
	if err := q.TuneAnnouncements(ctx); err != nil {
		return nil, fmt.Errorf("announcements: settings: %w", err)
	}
	// Two statements: choosing reads every candidate pair, and only a read-only statement may use
	// parallel workers; recording then looks up the chosen families' children alone.
	picks, err := q.PickAnnouncements(ctx, db.PickAnnouncementsParams{Seed: rand.Int64(), Studies: a.Studies, Families: a.Families,
		PerStudy: int32(min(a.PerStudy, 1<<30))})
	if err != nil {
		return nil, fmt.Errorf("announcements: choose: %w", err)
	}
	users, studyIDs := make([]int64, len(picks)), make([]int64, len(picks))
	for i, p := range picks {
		users[i], studyIDs[i] = p.UserID, p.StudyID
	}
	rows, err := q.RecordAnnouncements(ctx, db.RecordAnnouncementsParams{UserIds: users, StudyIds: studyIDs})
	if err != nil {
		return nil, fmt.Errorf("announcements: record: %w", err)
	}
	base := strings.TrimRight(a.BaseURL, "/")
	prefs := base + "/account/email/" // Lookit's email preferences page
	emails := make([]db.QueueAnnouncementEmailsParams, 0, len(rows))
	var unmailable []string // email ids
	var unmailableUsers []int64
	children, studies := 0, map[string]bool{}
	for _, r := range rows {
		c, err := pmail.StudyAnnouncement(r.Nickname, r.Children, r.StudyName, r.ShortDescription, base+"/studies/"+r.StudyUuid+"/", prefs).Render()
		if err != nil {
			return nil, fmt.Errorf("announcements: %w", err)
		}
		m := pmail.Request{ID: r.EmailID, Kind: c.Kind, To: []string{r.Email}, Subject: c.Subject, Text: c.Text, HTML: c.HTML, ReplyTo: r.ContactEmail}
		if m.ValidReplyTo() != nil {
			m.ReplyTo = "" // a lab's odd contact address must not cost the family its email
		}
		// One address the mail library refuses must not stop every family's email: its pairs
		// are forgotten below, so a fixed address is announced to later.
		if err := m.Validate(); err != nil {
			unmailable, unmailableUsers = append(unmailable, r.EmailID), append(unmailableUsers, r.UserID)
			continue
		}
		unsubscribe := []string{}
		if u, err := uuid.Parse(r.UserUuid); err == nil && len(a.UnsubscribeKey) > 0 {
			unsubscribe = []string{pmail.UnsubscribeURL(base, a.UnsubscribeKey, u)}
		}
		emails = append(emails, db.QueueAnnouncementEmailsParams{ID: m.ID, Kind: m.Kind, FromAddress: a.From,
			ToAddresses: m.To, Subject: m.Subject, BodyText: m.Text, BodyHtml: m.HTML, ReplyTo: m.ReplyTo, ListUnsubscribe: unsubscribe})
		children += len(r.Children)
		studies[r.StudyUuid] = true
	}
	if len(unmailable) > 0 {
		if _, err := q.ForgetAnnouncements(ctx, db.ForgetAnnouncementsParams{UserIds: unmailableUsers, EmailIds: unmailable}); err != nil {
			return nil, fmt.Errorf("announcements: forget unmailable: %w", err)
		}
	}
	// One COPY for the whole batch: a run can queue thousands.
	if _, err := q.QueueAnnouncementEmails(ctx, emails); err != nil {
		return nil, fmt.Errorf("announcements: queue emails: %w", err)
	}
	// They leave once the run commits (the mailer reads each stored row).
	queued := make([]pmail.Request, len(emails))
	for i, e := range emails {
		queued[i] = pmail.Request{ID: e.ID, Kind: e.Kind, To: e.ToAddresses, Subject: e.Subject, Text: e.BodyText,
			HTML: e.BodyHtml, ReplyTo: e.ReplyTo, ListUnsubscribe: e.ListUnsubscribe}
	}
	publishAfterCommit(ctx, queued)
	return map[string]any{"families": len(emails), "children": children, "studies": len(studies),
		"emails": len(emails), "unmailable": len(unmailable)}, nil
}
