package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/apperr"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
)

// maxFeedbackRunes is the feedback table's length check.
const maxFeedbackRunes = 10000

// FeedbackEntry is a researcher's feedback on a response.
type FeedbackEntry struct {
	UUID, Comment        string
	CreatedAt, UpdatedAt time.Time
}

// FeedbackNotice is what the family's email about new feedback needs.
type FeedbackNotice struct {
	From    string // the platform's sender address
	BaseURL string // the site, for the link to the family's past sessions
}

func checkFeedback(comment string) error {
	if strings.TrimSpace(comment) == "" || utf8.RuneCountInString(comment) > maxFeedbackRunes {
		return apperr.Field("/comment", "comment must be 1 to 10,000 characters")
	}
	return nil
}

// AddFeedback stores a researcher's feedback on a response they may read and queues the email
// that tells the family, in one transaction. The email goes only to an active account whose
// preferences allow researchers' questions about responses (email_response_questions); the family
// sees the feedback with its past sessions either way. The caller publishes the returned email.
func (d *ResearchData) AddFeedback(ctx context.Context, responseUUID string, researcherID int64, comment string, n FeedbackNotice) (FeedbackEntry, []pmail.Request, error) {
	if err := checkFeedback(comment); err != nil {
		return FeedbackEntry{}, nil, err
	}
	var out FeedbackEntry
	var queued []pmail.Request
	err := InTx(ctx, d.Pool, func(tx pgx.Tx) error {
		queued = nil
		q := db.New(tx)
		r, err := d.response(ctx, q, responseUUID)
		if err != nil {
			return err
		}
		if !r.Readable {
			return errNoResponse
		}
		f, err := q.AddResponseFeedback(ctx, db.AddResponseFeedbackParams{ResponseID: r.ID, ResearcherID: &researcherID, Comment: comment})
		if err != nil {
			return err
		}
		out = FeedbackEntry{UUID: f.Uuid, Comment: comment, CreatedAt: f.CreatedAt.Time, UpdatedAt: f.CreatedAt.Time}
		if !f.IsActive || !f.EmailResponseQuestions {
			return nil
		}
		link := strings.TrimRight(n.BaseURL, "/") + "/studies/history/"
		m, err := queueEmail(ctx, q, n.From, pmail.ResponseFeedback(f.StudyName, f.ChildName, comment, link), "", f.FamilyEmail)
		if err != nil {
			return err
		}
		queued = []pmail.Request{m}
		return nil
	})
	if err != nil {
		return FeedbackEntry{}, nil, fmt.Errorf("postgres: add feedback: %w", err)
	}
	return out, queued, nil
}

var errNoFeedbackEntry = apperr.New(apperr.NotFound, "no such feedback")

// FeedbackAccessOf returns the study, lab and kind of the response that feedback is on, to
// authorize editing it.
func (d *ResearchData) FeedbackAccessOf(ctx context.Context, feedbackUUID string) (ResponseAccess, error) {
	if _, err := uuid.Parse(feedbackUUID); err != nil {
		return ResponseAccess{}, errNoFeedbackEntry
	}
	r, err := db.New(d.Pool).FeedbackResponse(ctx, feedbackUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return ResponseAccess{}, errNoFeedbackEntry
	}
	if err != nil {
		return ResponseAccess{}, fmt.Errorf("postgres: feedback: %w", err)
	}
	return ResponseAccess{ID: r.ID, StudyID: r.StudyID, LabID: r.LabID, Preview: r.IsPreview}, nil
}

// EditFeedback replaces the text of feedback; the family sees the new text. It sends no email:
// a correction should not notify twice.
func (d *ResearchData) EditFeedback(ctx context.Context, feedbackUUID, comment string) (FeedbackEntry, error) {
	if err := checkFeedback(comment); err != nil {
		return FeedbackEntry{}, err
	}
	r, err := db.New(d.Pool).EditResponseFeedback(ctx, db.EditResponseFeedbackParams{Uuid: feedbackUUID, Comment: comment})
	if errors.Is(err, pgx.ErrNoRows) {
		return FeedbackEntry{}, errNoFeedbackEntry
	}
	if err != nil {
		return FeedbackEntry{}, fmt.Errorf("postgres: edit feedback: %w", err)
	}
	return FeedbackEntry{UUID: r.Uuid, Comment: r.Comment, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}, nil
}

// PastSession is one of a family's sessions as the family sees it.
type PastSession struct {
	UUID                 string
	CreatedAt            time.Time
	Completed            bool
	StudyUUID, StudyName string
	External             bool
	StillCollecting      bool
	ChildUUID, ChildName string
	// Consent is the standing ruling on the consent video: accepted, rejected or pending
	// ("" for external studies, which have none).
	Consent  string
	Feedback []FeedbackEntry
	Videos   []SessionVideo // to play back (a withdrawal leaves only the consent video)
}

// SessionVideo is one video of a family's session.
type SessionVideo struct {
	UUID, FileName, FrameID string
	Consent                 bool
	CreatedAt               time.Time
}

// PastSessions returns one page of the family's past sessions, newest first (Lookit's past
// studies: sessions of studies run here once the consent frame was completed, and every external
// session), with the researchers' feedback on each, and the next page's cursor.
func (d *ResearchData) PastSessions(ctx context.Context, userID int64, cursor string, limit int) ([]PastSession, string, error) {
	params := db.PastSessionsParams{UserID: userID, Lim: int32(limit) + 1}
	if cursor != "" {
		at, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		params.AfterAt, params.AfterID = at, id
	}
	var out []PastSession
	next := ""
	err := pgx.BeginTxFunc(ctx, d.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		out, next = nil, ""
		q := db.New(tx)
		rows, err := q.PastSessions(ctx, params)
		if err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next = encodeCursor(last.CreatedAt.Time, last.ID)
		}
		ids := make([]int64, len(rows))
		index := make(map[int64]int, len(rows))
		for i, r := range rows {
			ids[i], index[r.ID] = r.ID, i
			s := PastSession{UUID: r.Uuid, CreatedAt: r.CreatedAt.Time, Completed: r.Completed, StudyUUID: r.StudyUuid,
				StudyName: r.StudyName, External: r.StudyTypeID == 2, StillCollecting: r.StudyState == "active",
				ChildUUID: r.ChildUuid, ChildName: r.ChildName, Feedback: []FeedbackEntry{}, Videos: []SessionVideo{}}
			if !s.External {
				s.Consent = r.Ruling
				if s.Consent == "" {
					s.Consent = "pending"
				}
			}
			out = append(out, s)
		}
		fb, err := q.FeedbackOnResponses(ctx, ids)
		if err != nil {
			return err
		}
		for _, f := range fb {
			s := &out[index[f.ResponseID]]
			s.Feedback = append(s.Feedback, FeedbackEntry{UUID: f.Uuid, Comment: f.Comment, CreatedAt: f.CreatedAt.Time, UpdatedAt: f.UpdatedAt.Time})
		}
		videos, err := q.VideosOfResponses(ctx, ids)
		if err != nil {
			return err
		}
		for _, v := range videos {
			s := &out[index[v.ResponseID]]
			s.Videos = append(s.Videos, SessionVideo{UUID: v.Uuid, FileName: v.FullName, FrameID: v.FrameID, Consent: v.IsConsentFootage,
				CreatedAt: v.CreatedAt.Time})
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("postgres: past sessions: %w", err)
	}
	return out, next, nil
}
