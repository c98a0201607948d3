package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/jobs"
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
var ErrUnknownJob = fmt.Errorf("unknown job")

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
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO job_runs (job, message_id) VALUES ($1, $2)
			ON CONFLICT (message_id) DO NOTHING RETURNING id`, r.Job, messageID).Scan(&id)
		if err == pgx.ErrNoRows {
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
		if _, err := tx.Exec(ctx, `UPDATE job_runs SET finished_at = now(), outcome = $2 WHERE id = $1`, id, b); err != nil {
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
	tag, err := tx.Exec(ctx, `DELETE FROM event_receipts WHERE processed_at < now() - interval '8 days'`)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deleted": tag.RowsAffected()}, nil
}
