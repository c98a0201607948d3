package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/studies"
)

// Valid reports whether a response counts towards its study's max_responses: not a preview,
// eligible, and for studies run here also completed, past the consent frame and with consent not
// rejected (Lookit's valid-response rule, reference §12.3).
func validForCap(r db.ResponseForTallyRow) bool {
	if r.IsPreview || !slices.Equal(r.Eligibility, []string{"Eligible"}) {
		return false
	}
	if studies.TypeOf(r.StudyTypeID).Internal() {
		return r.Completed && r.CompletedConsentFrame && r.Ruling != "rejected"
	}
	return true
}

// Tally brings a response's place in its study's cap up to date after anything that can change
// its validity (creation, a frame saved, a consent ruling). Callers in a transaction use tally
// and must take the study lock before touching the response (updating it or inserting a consent
// ruling), as tally does: study, then response, always in that order. The response that reaches the cap
// pauses the study in the same transaction and tells its researchers; once the cap is reached no
// further response is tallied. Calling it again changes nothing.
func (s *Studies) Tally(ctx context.Context, responseID int64) ([]pmail.Request, error) {
	var out []pmail.Request
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.tally(ctx, db.New(tx), responseID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: tally response: %w", err)
	}
	return out, nil
}

func (s *Studies) tally(ctx context.Context, q *db.Queries, responseID int64) ([]pmail.Request, error) {
	studyID, err := q.ResponseStudy(ctx, responseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errors.New("no such response")
	}
	if err != nil {
		return nil, err
	}
	// The study row first, always: every tally of the study waits here, so the count is exact.
	st, err := q.LockStudy(ctx, studyID)
	if err != nil {
		return nil, err
	}
	r, err := q.ResponseForTally(ctx, responseID)
	if err != nil {
		return nil, err
	}
	valid := validForCap(r)
	switch {
	case valid == r.Tallied:
		return nil, nil
	case !valid:
		if err := q.SetResponseTallied(ctx, db.SetResponseTalliedParams{ID: responseID, Tallied: false}); err != nil {
			return nil, err
		}
		_, err := q.AddToTally(ctx, db.AddToTallyParams{ID: studyID, Delta: -1})
		return nil, err
	}
	if st.MaxResponses != nil && st.TalliedResponses >= *st.MaxResponses {
		// Over the cap: the response exists but does not count (and the study pauses if the
		// cap was lowered under an active study).
		return s.pauseAtCap(ctx, q, st, st.TalliedResponses)
	}
	if err := q.SetResponseTallied(ctx, db.SetResponseTalliedParams{ID: responseID, Tallied: true}); err != nil {
		return nil, err
	}
	n, err := q.AddToTally(ctx, db.AddToTallyParams{ID: studyID, Delta: 1})
	if err != nil {
		return nil, err
	}
	return s.pauseAtCap(ctx, q, st, n)
}

// pauseAtCap pauses an active study whose tally has reached its max_responses, logs it and tells
// its researchers. The caller holds the study's row lock (st) and passes the current tally.
func (s *Studies) pauseAtCap(ctx context.Context, q *db.Queries, st db.LockStudyRow, tallied int32) ([]pmail.Request, error) {
	studyID := st.ID
	if st.MaxResponses == nil || tallied < *st.MaxResponses || studies.State(st.State) != studies.Active {
		return nil, nil
	}
	const comment = "The study reached its maximum number of responses and was paused."
	if err := q.SetStudyState(ctx, db.SetStudyStateParams{ID: studyID, State: string(studies.Paused), Comments: comment, CommentsExtra: []byte(`{}`)}); err != nil {
		return nil, err
	}
	extra, _ := json.Marshal(map[string]any{"comments": comment, "max_responses": *st.MaxResponses})
	if err := q.LogStudy(ctx, db.LogStudyParams{StudyID: studyID, Action: string(studies.Paused), Extra: extra}); err != nil {
		return nil, err
	}
	to, err := s.statusChangers(ctx, q, studyID)
	if err != nil || len(to) == 0 {
		return nil, err
	}
	m, err := queueEmail(ctx, q, s.From, pmail.StudyCapReached(st.Name, int(*st.MaxResponses), s.link("exp", "studies", st.Uuid)), "", to...)
	return []pmail.Request{m}, err
}
