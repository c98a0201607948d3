package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/postgres/db"
)

// JobFunc does one scheduled job inside tx and returns a summary for job_runs.
type JobFunc func(ctx context.Context, tx pgx.Tx) (map[string]any, error)

// Jobs runs scheduled jobs, each firing (Pub/Sub message) at most once to completion.
type Jobs struct {
	Pool  *pgxpool.Pool
	Funcs map[string]JobFunc
}

// NewJobs returns the runner with every job the platform defines.
func NewJobs(pool *pgxpool.Pool) *Jobs {
	return &Jobs{Pool: pool, Funcs: map[string]JobFunc{
		jobs.PruneEventReceipts: pruneEventReceipts,
	}}
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
	err := InTx(ctx, j.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		id, err := q.StartJobRun(ctx, db.StartJobRunParams{Job: r.Job, MessageID: messageID})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // this firing already ran and committed
		}
		if err != nil {
			return fmt.Errorf("record run: %w", err)
		}
		outcome, err := fn(ctx, tx)
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
	return ran, nil
}

func pruneEventReceipts(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
	n, err := db.New(tx).PruneEventReceipts(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deleted": n}, nil
}
