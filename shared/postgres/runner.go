package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/runner"
)

// RunnerStudy is what serving a study's runner page needs: the study's type, state and
// preview sharing, and whether the runner commit it pins is built.
func (s *Studies) RunnerStudy(ctx context.Context, studyUUID string) (db.RunnerStudyRow, error) {
	if _, err := uuid.Parse(studyUUID); err != nil {
		return db.RunnerStudyRow{}, errNoStudy
	}
	r, err := db.New(s.Pool).RunnerStudy(ctx, studyUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoStudy
	}
	if err != nil {
		return r, fmt.Errorf("postgres: runner study: %w", err)
	}
	return r, nil
}

// RegisterPlayerBuild records that the build of repo at sha is in the experiments bucket
// (runner.Upload put it there), and, when studyID is not 0, pins that frameplayer study of the
// same repository to it and marks it built. Registering again changes nothing.
func RegisterPlayerBuild(ctx context.Context, pool *pgxpool.Pool, repo, sha string, studyID int64) error {
	if !runner.ValidSHA(sha) {
		return fmt.Errorf("postgres: register player build: %q is not a full lower-case commit SHA", sha)
	}
	return InTx(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.RegisterPlayerBuild(ctx, db.RegisterPlayerBuildParams{RepoUrl: repo, Sha: sha}); err != nil {
			return fmt.Errorf("postgres: register player build: %w", err)
		}
		if studyID == 0 {
			return nil
		}
		n, err := q.PinStudyPlayer(ctx, db.PinStudyPlayerParams{Sha: sha, StudyID: studyID, RepoUrl: repo})
		if err != nil {
			return fmt.Errorf("postgres: pin study %d to the player build: %w", studyID, err)
		}
		if n != 1 {
			return fmt.Errorf("postgres: study %d is not a frameplayer study of %s", studyID, repo)
		}
		return nil
	})
}

// JsPsychStudy: see RunnerStudy.
func (s *Studies) JsPsychStudy(ctx context.Context, studyUUID string) (db.JsPsychStudyRow, error) {
	if _, err := uuid.Parse(studyUUID); err != nil {
		return db.JsPsychStudyRow{}, errNoStudy
	}
	r, err := db.New(s.Pool).JsPsychStudy(ctx, studyUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoStudy
	}
	if err != nil {
		return r, fmt.Errorf("postgres: jsPsych study: %w", err)
	}
	return r, nil
}
