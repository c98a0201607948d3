package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/builds"
)

// Builds keeps the builds table in step with the builder.
type Builds struct {
	Pool    *pgxpool.Pool
	Builder builds.Builder
}

// Start stores r and asks the builder to run it, unless a build for r.RequestID was already
// started: a redelivered request never starts a second build. It returns the build id.
func (b *Builds) Start(ctx context.Context, r builds.Request) (string, error) {
	var id string
	err := InTx(ctx, b.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO builds (request_id, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING`, r.RequestID, r.Subject); err != nil {
			return fmt.Errorf("store build: %w", err)
		}
		var existing *string
		if err := tx.QueryRow(ctx, `SELECT build_id FROM builds WHERE request_id = $1 FOR UPDATE`, r.RequestID).Scan(&existing); err != nil {
			return fmt.Errorf("lock build: %w", err)
		}
		if existing != nil {
			id = *existing
			return nil
		}
		s, err := b.Builder.Start(ctx, r)
		if err != nil {
			return fmt.Errorf("start build: %w", err)
		}
		id = s.ID
		_, err = tx.Exec(ctx, `
			UPDATE builds SET build_id = $2, log_url = NULLIF($3, ''), updated_at = now(),
			       status = CASE WHEN status = 'REQUESTED' THEN 'QUEUED' ELSE status END
			WHERE request_id = $1`, r.RequestID, s.ID, s.LogURL)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	return id, nil
}

// Status is one status notification from the builder.
type Status struct {
	BuildID    string
	Status     string
	Detail     string
	LogURL     string
	FinishedAt time.Time
}

// RecordStatus applies s if it is progress for a build this platform started. It reports false
// for builds it does not know (the cloud-builds topic carries every build in the project) and
// for stale or repeated statuses.
func (b *Builds) RecordStatus(ctx context.Context, s Status) (bool, error) {
	applied := false
	err := InTx(ctx, b.Pool, func(tx pgx.Tx) error {
		var old string
		err := tx.QueryRow(ctx, `SELECT status FROM builds WHERE build_id = $1 FOR UPDATE`, s.BuildID).Scan(&old)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock build: %w", err)
		}
		if !builds.Advances(old, s.Status) {
			return nil
		}
		var finished *time.Time
		if builds.Terminal(s.Status) {
			t := s.FinishedAt
			if t.IsZero() {
				t = time.Now()
			}
			finished = &t
		}
		_, err = tx.Exec(ctx, `
			UPDATE builds SET status = $2, detail = NULLIF($3, ''), log_url = COALESCE(NULLIF($4, ''), log_url),
			       finished_at = $5, updated_at = now()
			WHERE build_id = $1`, s.BuildID, s.Status, s.Detail, s.LogURL, finished)
		applied = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: record build status: %w", err)
	}
	return applied, nil
}
