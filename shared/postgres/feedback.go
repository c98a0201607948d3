package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/postgres/db"
)

var errNoFeedback = apperr.New(apperr.NotFound, "no such feedback")

// VisibleFeedback lists one page of the feedback a user may see: on their children's responses,
// and on consented responses they may read as a researcher; newest first.
func (s *Studies) VisibleFeedback(ctx context.Context, userID int64, rd ReadableData, limit, offset int) ([]string, int, error) {
	q := db.New(s.Pool)
	n, err := q.CompatCountVisibleFeedback(ctx, db.CompatCountVisibleFeedbackParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible feedback: %w", err)
	}
	ids, err := q.CompatVisibleFeedback(ctx, db.CompatVisibleFeedbackParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs),
		Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible feedback: %w", err)
	}
	return ids, int(n), nil
}

// Feedback returns one feedback row if the user may see it; NotFound otherwise, so that others
// learn nothing of it.
func (s *Studies) Feedback(ctx context.Context, feedbackUUID string, userID int64, rd ReadableData) (db.CompatFeedbackRow, error) {
	if _, err := uuid.Parse(feedbackUUID); err != nil {
		return db.CompatFeedbackRow{}, errNoFeedback
	}
	r, err := db.New(s.Pool).CompatFeedback(ctx, db.CompatFeedbackParams{Uuid: feedbackUUID, UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs)})
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoFeedback
	}
	if err != nil {
		return r, fmt.Errorf("postgres: feedback: %w", err)
	}
	return r, nil
}

// FeedbackTarget returns the response a researcher would leave feedback on, if they may read it.
func (s *Studies) FeedbackTarget(ctx context.Context, responseUUID string, rd ReadableData) (db.FeedbackTargetRow, error) {
	if _, err := uuid.Parse(responseUUID); err != nil {
		return db.FeedbackTargetRow{}, apperr.Field("/data/relationships/response", "no such response")
	}
	r, err := db.New(s.Pool).FeedbackTarget(ctx, db.FeedbackTargetParams{Uuid: responseUUID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs)})
	if errors.Is(err, pgx.ErrNoRows) {
		return r, apperr.Field("/data/relationships/response", "no such response")
	}
	if err != nil {
		return r, fmt.Errorf("postgres: feedback target: %w", err)
	}
	return r, nil
}

// AddFeedback stores a researcher's feedback on a response and returns its UUID.
func (s *Studies) AddFeedback(ctx context.Context, responseID, researcherID int64, comment string) (string, error) {
	id, err := db.New(s.Pool).InsertFeedback(ctx, db.InsertFeedbackParams{ResponseID: responseID, ResearcherID: &researcherID, Comment: comment})
	if err != nil {
		return "", fmt.Errorf("postgres: add feedback: %w", err)
	}
	return id, nil
}

// EditFeedback replaces the text of feedback.
func (s *Studies) EditFeedback(ctx context.Context, feedbackID int64, comment string) error {
	if err := db.New(s.Pool).UpdateFeedback(ctx, db.UpdateFeedbackParams{ID: feedbackID, Comment: comment}); err != nil {
		return fmt.Errorf("postgres: edit feedback: %w", err)
	}
	return nil
}
