package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/builds"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// Builds keeps the builds table in step with the builder.
type Builds struct {
	Pool    *pgxpool.Pool
	Builder builds.Builder
	From    string // sender of the emails about finished builds
}

// Start stores r and asks the builder to run it, unless a build for r.RequestID was already
// started: a redelivered request never starts a second build. It returns the build id.
func (b *Builds) Start(ctx context.Context, r builds.Request) (string, error) {
	var id string
	err := InTx(ctx, b.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := q.StoreBuild(ctx, db.StoreBuildParams{RequestID: r.RequestID, Subject: r.Subject, Request: body}); err != nil {
			return fmt.Errorf("store build: %w", err)
		}
		existing, err := q.LockBuildByRequest(ctx, r.RequestID)
		if err != nil {
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
		return q.SetBuildStarted(ctx, db.SetBuildStartedParams{RequestID: r.RequestID, BuildID: &s.ID, LogUrl: s.LogURL})
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
// for stale or repeated statuses. A runner build's end marks the studies waiting on it and
// returns the emails to their admins, stored in the same transaction, to publish.
func (b *Builds) RecordStatus(ctx context.Context, s Status) (bool, []pmail.Request, error) {
	applied := false
	var mails []pmail.Request
	err := InTx(ctx, b.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		old, err := q.LockBuildStatus(ctx, &s.BuildID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock build: %w", err)
		}
		if !builds.Advances(old.Status, s.Status) {
			return nil
		}
		var finished pgtype.Timestamptz
		if builds.Terminal(s.Status) {
			t := s.FinishedAt
			if t.IsZero() {
				t = time.Now()
			}
			finished = pgtype.Timestamptz{Time: t, Valid: true}
		}
		err = q.SetBuildStatus(ctx, db.SetBuildStatusParams{
			BuildID: &s.BuildID, Status: s.Status, FinishedAt: finished, Detail: s.Detail, LogUrl: s.LogURL,
		})
		if err != nil {
			return err
		}
		applied = true
		if builds.Terminal(s.Status) && strings.HasPrefix(old.Subject, "frameplayer:") {
			mails, err = b.finishPlayerBuild(ctx, q, old.RequestID, s.Status, s.LogURL)
		}
		return err
	})
	if err != nil {
		return false, nil, fmt.Errorf("postgres: record build status: %w", err)
	}
	return applied, mails, nil
}
