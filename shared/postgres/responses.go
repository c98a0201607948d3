package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/apperr"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/studies"
)

// NewResponse is a family starting a session of a study with one of its children.
type NewResponse struct {
	FamilyID        int64
	StudyID         int64
	ChildUUID       string
	Preview         bool    // a researcher previewing with their own child (authorized by the caller)
	RecordingMethod *string // nil: Lookit's default "pipe" for the frameplayer, none for external
}

// CreatedResponse is what the server decided about a new response.
type CreatedResponse struct {
	ID          int64
	UUID        string
	Eligibility []string
}

// CreateResponse starts a response: the child must be the family's, the family must have answered
// the demographic survey (its latest version is snapshotted), and a real (non-preview) session
// needs an active study. Eligibility is decided now, once, in SQL (study_eligibility), and the
// response is tallied against the study's cap in the same transaction.
func (s *Studies) CreateResponse(ctx context.Context, n NewResponse) (CreatedResponse, []pmail.Request, error) {
	if _, err := uuid.Parse(n.ChildUUID); err != nil {
		return CreatedResponse{}, nil, apperr.Field("/child", "no such child in your family")
	}
	out, mails, err := s.createResponse(ctx, n, false)
	if errors.Is(err, errNeedStudyLock) {
		// The new response counts towards the cap: redo it under the study's exclusive lock.
		out, mails, err = s.createResponse(ctx, n, true)
	}
	if err != nil {
		return CreatedResponse{}, nil, fmt.Errorf("postgres: create response: %w", err)
	}
	return out, mails, nil
}

// createResponse runs one attempt. Most new responses (every one of a study run here) do not
// count towards the cap until they are completed, so they share the study's lock: sessions of one
// study then start in parallel, and transitions still wait for them. A response that would count
// rolls back with errNeedStudyLock unless the attempt holds the study's exclusive lock (study
// first, then response, as every tally does).
func (s *Studies) createResponse(ctx context.Context, n NewResponse, studyLock bool) (CreatedResponse, []pmail.Request, error) {
	var out CreatedResponse
	var mails []pmail.Request
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		st, err := lockStudyForResponse(ctx, q, n.StudyID, studyLock)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoStudy
		}
		if err != nil {
			return err
		}
		if !n.Preview && studies.State(st.State) != studies.Active {
			return apperr.New(apperr.Conflict, "this study is not accepting participants right now")
		}
		childID, err := q.FamilyChild(ctx, db.FamilyChildParams{Uuid: n.ChildUUID, UserID: n.FamilyID})
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.Field("/child", "no such child in your family")
		}
		if err != nil {
			return err
		}
		demo, err := q.LatestDemographicsID(ctx, &n.FamilyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.Field("/demographics", "complete the demographic survey before taking part in a study")
		}
		if err != nil {
			return err
		}
		method := n.RecordingMethod
		if method == nil && studies.TypeOf(st.StudyTypeID) == studies.Frameplayer {
			pipe := "pipe"
			method = &pipe
		}
		row, err := q.InsertResponse(ctx, db.InsertResponseParams{StudyID: n.StudyID, ChildID: childID,
			StudyTypeID: st.StudyTypeID, DemographicSnapshotID: &demo, IsPreview: n.Preview, RecordingMethod: method})
		if err != nil {
			return err
		}
		out = CreatedResponse{ID: row.ID, UUID: row.Uuid, Eligibility: row.Eligibility}
		// A new response is untallied, not completed and without a ruling: tally would leave it
		// as it is unless it already counts.
		counts := validForCap(db.ResponseForTallyRow{IsPreview: n.Preview, Eligibility: row.Eligibility,
			StudyTypeID: st.StudyTypeID, Ruling: "pending"})
		if !counts {
			return nil
		}
		if !studyLock {
			return errNeedStudyLock
		}
		mails, err = s.tally(ctx, q, row.ID)
		return err
	})
	return out, mails, err
}

// lockStudyForResponse locks the study a response is created in: shared, or exclusive (as
// LockStudy) when the response may be tallied.
func lockStudyForResponse(ctx context.Context, q *db.Queries, studyID int64, exclusive bool) (db.LockStudyForResponseRow, error) {
	if exclusive {
		return q.LockStudyForResponse(ctx, studyID)
	}
	st, err := q.ShareStudyForResponse(ctx, studyID)
	return db.LockStudyForResponseRow(st), err
}

// PublicStudies lists the active, discoverable studies; with a child of the family (childUUID not
// ""), only those it is eligible for; with labSlug not "", only that lab's.
func (s *Studies) PublicStudies(ctx context.Context, familyID int64, childUUID, labSlug string) ([]db.PublicStudiesRow, error) {
	var childID int64
	if childUUID != "" {
		if _, err := uuid.Parse(childUUID); err != nil {
			return nil, apperr.New(apperr.NotFound, "no such child")
		}
		id, err := db.New(s.Pool).FamilyChild(ctx, db.FamilyChildParams{Uuid: childUUID, UserID: familyID})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, apperr.New(apperr.NotFound, "no such child")
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: public studies: %w", err)
		}
		childID = id
	}
	rows, err := db.New(s.Pool).PublicStudies(ctx, db.PublicStudiesParams{ChildID: childID, LabSlug: labSlug})
	if err != nil {
		return nil, fmt.Errorf("postgres: public studies: %w", err)
	}
	return rows, nil
}

// PublicLab returns an approved lab by its slug.
func (s *Studies) PublicLab(ctx context.Context, slug string) (db.PublicLabRow, error) {
	r, err := db.New(s.Pool).PublicLab(ctx, &slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoLab
	}
	if err != nil {
		return r, fmt.Errorf("postgres: public lab: %w", err)
	}
	return r, nil
}
