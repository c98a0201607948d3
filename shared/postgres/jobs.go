package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// JobFunc does one scheduled job inside tx and returns a summary for job_runs.
type JobFunc func(ctx context.Context, tx pgx.Tx) (map[string]any, error)

// Jobs runs scheduled jobs, each firing (Pub/Sub message) at most once to completion.
type Jobs struct {
	Pool  *pgxpool.Pool
	Funcs map[string]JobFunc
	// Publisher publishes what jobs queue (emails) once their run has committed.
	Publisher PublisherFunc
	// Log, when set, records publications that failed (they are sent by retry-unsent-emails).
	Log *slog.Logger
}

type afterCommitKey struct{}

// publishAfterCommit asks the run in ctx to publish mails once its transaction commits, so they
// leave at once; a publication that fails is left to retry-unsent-emails, as the rows are stored.
func publishAfterCommit(ctx context.Context, mails []mail.Request) {
	if list, ok := ctx.Value(afterCommitKey{}).(*[]mail.Request); ok {
		*list = append(*list, mails...)
	}
}

// PublisherFunc returns the publisher on first need, so jobs that publish nothing never build
// a Pub/Sub client.
type PublisherFunc func(context.Context) (events.Publisher, error)

// NewJobs returns the runner with every job the platform defines; pub gives the publisher for
// jobs that publish (nil where none will run, as in some tests).
func NewJobs(pool *pgxpool.Pool, pub PublisherFunc) *Jobs {
	return &Jobs{Pool: pool, Publisher: pub, Funcs: map[string]JobFunc{
		jobs.PruneEventReceipts: pruneEventReceipts,
		jobs.RetryUnsentEmails:  retryUnsentEmails(pub),
		jobs.PruneSessions:      pruneSessions,
	}}
}

// WithVideos adds the jobs on video storage: deleting objects whose deletion is due, and
// completing abandoned browser uploads.
func (j *Jobs) WithVideos(storage VideoStorageFunc) *Jobs {
	j.Funcs[jobs.DeleteDueVideos] = deleteDueVideos(storage)
	j.Funcs[jobs.CompleteStaleUploads] = completeStaleUploads(storage)
	return j
}

// WithAnnouncements adds the study announcements job, telling at most perStudy families
// (ANNOUNCEMENTS_PER_STUDY) about each study per run; unsubscribeKey (SECRET_KEY) signs the
// families' one-click unsubscribe links.
func (j *Jobs) WithAnnouncements(perStudy int, baseURL, from string, unsubscribeKey []byte) *Jobs {
	j.Funcs[jobs.StudyAnnouncements] = (&Announcements{PerStudy: perStudy, BaseURL: baseURL, From: from,
		UnsubscribeKey: unsubscribeKey}).Run
	return j
}

// ErrUnknownJob is returned for a job name no function handles.
var ErrUnknownJob = errors.New("unknown job")

// Run does the job named in r for the firing messageID, in one transaction with its job_runs
// row, so a redelivered firing finds the finished run and does nothing. It reports whether the
// job ran now.
func (j *Jobs) Run(ctx context.Context, messageID string, r jobs.Request) (bool, error) {
	fn, ok := j.Funcs[r.Job]
	if !ok {
		return false, fmt.Errorf("%w %q", ErrUnknownJob, r.Job)
	}
	ran := false
	var queued []mail.Request
	err := InTx(ctx, j.Pool, func(tx pgx.Tx) error {
		queued = queued[:0] // a retried transaction queues afresh
		q := db.New(tx)
		id, err := q.StartJobRun(ctx, db.StartJobRunParams{Job: r.Job, MessageID: messageID})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // this firing already ran and committed
		}
		if err != nil {
			return fmt.Errorf("record run: %w", err)
		}
		outcome, err := fn(context.WithValue(ctx, afterCommitKey{}, &queued), tx)
		if err != nil {
			return fmt.Errorf("job %s: %w", r.Job, err)
		}
		b, err := json.Marshal(outcome)
		if err != nil {
			return fmt.Errorf("job %s: encode outcome: %w", r.Job, err)
		}
		if err := q.FinishJobRun(ctx, db.FinishJobRunParams{ID: id, Outcome: b}); err != nil {
			return fmt.Errorf("finish run: %w", err)
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	j.publish(ctx, queued)
	return ran, nil
}

// publish sends what a committed run queued; failures wait for retry-unsent-emails.
func (j *Jobs) publish(ctx context.Context, mails []mail.Request) {
	if len(mails) == 0 || j.Publisher == nil {
		return
	}
	pub, err := j.Publisher(ctx)
	if err == nil {
		for i, m := range mails {
			if _, err = events.PublishJSON(ctx, pub, events.TopicEmail, m, nil); err != nil {
				mails = mails[i:]
				break
			}
		}
	}
	if err != nil && j.Log != nil {
		j.Log.WarnContext(ctx, "emails not published; retry-unsent-emails will send them",
			slog.Int("emails", len(mails)), slog.String("error", err.Error()))
	}
}

func pruneEventReceipts(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
	n, err := db.New(tx).PruneEventReceipts(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deleted": n}, nil
}

// retryUnsentEmails republishes emails stored in the outbox whose publication was lost (the
// process died between commit and publish, or Pub/Sub was briefly down). The mailer sends each
// id once, so a duplicate publication is harmless.
func retryUnsentEmails(publisher PublisherFunc) JobFunc {
	return func(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
		if publisher == nil {
			return nil, errors.New("no publisher")
		}
		rows, err := db.New(tx).UnsentEmails(ctx)
		if err != nil || len(rows) == 0 {
			return map[string]any{"republished": 0}, err
		}
		pub, err := publisher(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			req := mail.Request{ID: r.ID, Kind: r.Kind, To: r.ToAddresses, Subject: r.Subject, Text: r.BodyText, HTML: r.BodyHtml, ReplyTo: r.ReplyTo}
			if _, err := events.PublishJSON(ctx, pub, events.TopicEmail, req, nil); err != nil {
				return nil, err
			}
		}
		return map[string]any{"republished": len(rows)}, nil
	}
}

// pruneSessions deletes what can no longer authenticate anyone: expired sessions, emailed tokens
// a day past use or expiry, API tokens a month past revocation or expiry, and ended log-in
// throttles.
func pruneSessions(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
	q := db.New(tx)
	out := map[string]any{}
	for _, step := range []struct {
		name string
		run  func(context.Context) (int64, error)
	}{
		{"deleted", q.DeleteExpiredSessions}, // the sessions, under the job's original name
		{"email_tokens", q.DeleteSpentEmailTokens},
		{"api_tokens", q.DeleteOldAPITokens},
		{"throttles", q.DeleteStaleThrottles},
	} {
		n, err := step.run(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", step.name, err)
		}
		out[step.name] = n
	}
	return out, nil
}
