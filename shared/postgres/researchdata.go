package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/hashedid"
	"lookit.dev/platform/shared/postgres/db"
)

// ResearchData serves researchers' views of a study's responses: the response list and detail,
// researcher fields, and the consent manager. Routes have authorized the caller for the study and
// the kind of data (real or preview); the queries add the data rules (consent, study type).
type ResearchData struct {
	Pool *pgxpool.Pool
}

// ResponseFilter narrows a study's response list. Nil fields do not filter.
type ResponseFilter struct {
	Preview       bool
	Completed     *bool
	Since, Until  *time.Time
	ChildHash     string
	PaymentStatus *string
	SessionStatus *string
	Star          *bool
	Oldest        bool   // oldest first instead of newest first
	Cursor        string // the previous page's next cursor
	Limit         int
}

// ResponseSummary is one row of a study's response list.
type ResponseSummary struct {
	UUID                string
	CreatedAt           time.Time
	Completed           bool
	Preview             bool
	Eligibility         []string
	ChildHash           string
	ChildName           string
	ChildAgeDays        int
	ParticipantHash     string
	ParticipantNickname string
	Ruling              string
	PaymentStatus       string
	SessionStatus       string
	Star                bool
	Videos              int
}

// studyHashing is what hashes ids within a study.
type studyHashing struct {
	study, salt uuid.UUID
	digits      int
	typeID      int16
	name        string
}

func (h studyHashing) of(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return ""
	}
	return hashedid.Of(u, h.study, h.salt, h.digits)
}

func (d *ResearchData) hashing(ctx context.Context, q *db.Queries, studyID int64) (studyHashing, error) {
	row, err := q.StudyHashing(ctx, studyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return studyHashing{}, apperr.New(apperr.NotFound, "no such study")
	}
	if err != nil {
		return studyHashing{}, err
	}
	s, err1 := uuid.Parse(row.Uuid)
	salt, err2 := uuid.Parse(row.Salt)
	if err := errors.Join(err1, err2); err != nil {
		return studyHashing{}, err
	}
	return studyHashing{s, salt, int(row.HashDigits), row.StudyTypeID, row.Name}, nil
}

// ageDays is Lookit's child age in days on the day a response began.
func ageDays(birthday pgtype.Date, at time.Time) int {
	if !birthday.Valid {
		return 0
	}
	b := birthday.Time
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	return int(day.Sub(time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// cursor is a keyset position: the last row's creation time and id.
func encodeCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (pgtype.Timestamptz, int64, error) {
	if c == "" {
		return pgtype.Timestamptz{}, 0, nil
	}
	bad := apperr.Field("/cursor", "cursor is not one this API gave out")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return pgtype.Timestamptz{}, 0, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	micros, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return pgtype.Timestamptz{}, 0, bad
	}
	return pgtype.Timestamptz{Time: time.UnixMicro(micros).UTC(), Valid: true}, n, nil
}

func tstz(t *time.Time) pgtype.Timestamptz {
	if t == nil {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: *t, Valid: true}
}

func pageLimit(n int) int32 {
	if n <= 0 {
		return 50
	}
	return int32(min(n, 200))
}

// Responses returns one page of a study's responses and the cursor of the next page ("" at the
// end). A child hash matches the study's children by their hashed id.
func (d *ResearchData) Responses(ctx context.Context, studyID int64, f ResponseFilter) ([]ResponseSummary, string, error) {
	q := db.New(d.Pool)
	after, afterID, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	h, err := d.hashing(ctx, q, studyID)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: responses: %w", err)
	}
	var childIDs []int64
	if f.ChildHash != "" {
		children, err := q.StudyChildren(ctx, studyID)
		if err != nil {
			return nil, "", fmt.Errorf("postgres: responses: %w", err)
		}
		childIDs = []int64{} // no match lists nothing, not everything
		for _, c := range children {
			if strings.EqualFold(h.of(c.Uuid), f.ChildHash) {
				childIDs = append(childIDs, c.ID)
			}
		}
	}
	limit := pageLimit(f.Limit)
	rows, err := q.StudyResponsePage(ctx, db.StudyResponsePageParams{StudyID: studyID, Preview: f.Preview, Completed: f.Completed,
		Since: tstz(f.Since), Until: tstz(f.Until), ChildIds: childIDs, PaymentStatus: f.PaymentStatus, SessionStatus: f.SessionStatus,
		Star: f.Star, AfterAt: after, AfterID: afterID, Oldest: f.Oldest, Lim: limit + 1})
	if err != nil {
		return nil, "", fmt.Errorf("postgres: responses: %w", err)
	}
	next := ""
	if len(rows) > int(limit) {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = encodeCursor(last.CreatedAt.Time, last.ID)
	}
	out := make([]ResponseSummary, len(rows))
	for i, r := range rows {
		out[i] = ResponseSummary{UUID: r.Uuid, CreatedAt: r.CreatedAt.Time, Completed: r.Completed, Preview: r.IsPreview,
			Eligibility: r.Eligibility, ChildHash: h.of(r.ChildUuid), ChildName: r.ChildName,
			ChildAgeDays: ageDays(r.ChildBirthday, r.CreatedAt.Time), ParticipantHash: h.of(r.UserUuid), ParticipantNickname: r.Nickname,
			Ruling: r.Ruling, PaymentStatus: r.ResearcherPaymentStatus, SessionStatus: r.ResearcherSessionStatus, Star: r.ResearcherStar,
			Videos: int(r.Videos)}
	}
	return out, next, nil
}

// ResponseAccess is what authorizes reading one response.
type ResponseAccess struct {
	ID, StudyID, LabID int64
	Preview            bool
}

// ResponseAccessOf loads the facts authz decides on for a response; NotFound for a malformed or
// unknown id.
func (d *ResearchData) ResponseAccessOf(ctx context.Context, responseUUID string) (ResponseAccess, error) {
	r, err := d.response(ctx, db.New(d.Pool), responseUUID)
	if err != nil {
		return ResponseAccess{}, err
	}
	return ResponseAccess{ID: r.ID, StudyID: r.StudyID, LabID: r.LabID, Preview: r.IsPreview}, nil
}

func (d *ResearchData) response(ctx context.Context, q *db.Queries, responseUUID string) (db.ResponseForResearcherRow, error) {
	if _, err := uuid.Parse(responseUUID); err != nil {
		return db.ResponseForResearcherRow{}, errNoResponse
	}
	r, err := q.ResponseForResearcher(ctx, responseUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.ResponseForResearcherRow{}, errNoResponse
	}
	if err != nil {
		return db.ResponseForResearcherRow{}, fmt.Errorf("postgres: response: %w", err)
	}
	return r, nil
}

// ResponseDetail is one response as a researcher reads it.
type ResponseDetail struct {
	ResponseSummary
	Sequence           []string
	Conditions         json.RawMessage
	ExpData            json.RawMessage
	GlobalEventTimings json.RawMessage
	VideoFiles         []ResponseVideo
	Rulings            []ConsentRulingEntry
	Feedback           []FeedbackEntry
}

// ResponseVideo is one video of a response.
type ResponseVideo struct {
	UUID, Filename, FrameID string
	Consent                 bool
	CreatedAt               time.Time
}

// ConsentRulingEntry is one ruling on a response's consent.
type ConsentRulingEntry struct {
	Action, Comments, Arbiter string
	CreatedAt                 time.Time
}

// Response returns one response with its frame data, videos, consent history and feedback.
// Responses the data rules keep from researchers (not consented, another study type) are
// NotFound, as if they did not exist.
func (d *ResearchData) Response(ctx context.Context, responseUUID string) (ResponseDetail, error) {
	var out ResponseDetail
	// One snapshot, so the rulings, videos and feedback belong to the response as read.
	err := pgx.BeginTxFunc(ctx, d.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		q := db.New(tx)
		r, err := d.response(ctx, q, responseUUID)
		if err != nil {
			return err
		}
		if !r.Readable {
			return errNoResponse
		}
		h, err := d.hashing(ctx, q, r.StudyID)
		if err != nil {
			return err
		}
		rulings, err := q.ResponseRulings(ctx, r.ID)
		if err != nil {
			return err
		}
		videos, err := q.ResponseVideos(ctx, r.ID)
		if err != nil {
			return err
		}
		feedback, err := q.ResponseFeedback(ctx, r.ID)
		if err != nil {
			return err
		}
		ruling := "pending"
		if r.External {
			ruling = "not_applicable" // an external study has no consent frame to rule on
		}
		if len(rulings) > 0 {
			ruling = rulings[0].Action
		}
		out = ResponseDetail{ResponseSummary: ResponseSummary{UUID: r.Uuid, CreatedAt: r.CreatedAt.Time, Completed: r.Completed,
			Preview: r.IsPreview, Eligibility: r.Eligibility, ChildHash: h.of(r.ChildUuid), ChildName: r.ChildName,
			ChildAgeDays: ageDays(r.ChildBirthday, r.CreatedAt.Time), ParticipantHash: h.of(r.UserUuid), ParticipantNickname: r.Nickname,
			Ruling: ruling, PaymentStatus: r.ResearcherPaymentStatus, SessionStatus: r.ResearcherSessionStatus, Star: r.ResearcherStar,
			Videos: len(videos)},
			Sequence: r.Sequence, Conditions: r.Conditions, ExpData: r.ExpData, GlobalEventTimings: r.GlobalEventTimings}
		for _, v := range videos {
			out.VideoFiles = append(out.VideoFiles, ResponseVideo{UUID: v.Uuid, Filename: v.FullName, FrameID: v.FrameID,
				Consent: v.IsConsentFootage, CreatedAt: v.CreatedAt.Time})
		}
		for _, c := range rulings {
			out.Rulings = append(out.Rulings, ConsentRulingEntry{Action: c.Action, Comments: c.Comments, Arbiter: c.Arbiter, CreatedAt: c.CreatedAt.Time})
		}
		for _, f := range feedback {
			out.Feedback = append(out.Feedback, FeedbackEntry{UUID: f.Uuid, Comment: f.Comment, CreatedAt: f.CreatedAt.Time, UpdatedAt: f.UpdatedAt.Time})
		}
		return nil
	})
	return out, err
}

// ResearcherFields are the fields researchers keep on a response; nil leaves one as it is.
type ResearcherFields struct {
	PaymentStatus, SessionStatus *string
	Star                         *bool
}

// SetResearcherFields changes a readable response's researcher fields and returns them as stored.
func (d *ResearchData) SetResearcherFields(ctx context.Context, responseUUID string, f ResearcherFields) (ResearcherFields, error) {
	var out ResearcherFields
	err := InTx(ctx, d.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		r, err := d.response(ctx, q, responseUUID)
		if err != nil {
			return err
		}
		if !r.Readable {
			return errNoResponse
		}
		row, err := q.SetResearcherFields(ctx, db.SetResearcherFieldsParams{ID: r.ID, PaymentStatus: f.PaymentStatus,
			SessionStatus: f.SessionStatus, Star: f.Star})
		if err != nil {
			return fmt.Errorf("postgres: researcher fields: %w", err)
		}
		out = ResearcherFields{PaymentStatus: &row.ResearcherPaymentStatus, SessionStatus: &row.ResearcherSessionStatus, Star: &row.ResearcherStar}
		return nil
	})
	return out, err
}

// ConsentFilter narrows the consent manager.
type ConsentFilter struct {
	Preview bool
	Ruling  *string
	// HideAcceptedBefore hides responses accepted before this time (Lookit: three weeks ago).
	HideAcceptedBefore *time.Time
	Cursor             string
	Limit              int
}

// ConsentEntry is one response in the consent manager.
type ConsentEntry struct {
	ResponseUUID        string
	CreatedAt           time.Time
	Completed, Preview  bool
	ChildHash           string
	ChildName           string
	ChildAgeDays        int
	ParticipantHash     string
	ParticipantNickname string
	Ruling, Comments    string
	Arbiter             string
	RuledAt             *time.Time
	ConsentVideos       []ResponseVideo
}

// ConsentQueue returns one page of the consent manager and the next page's cursor.
func (d *ResearchData) ConsentQueue(ctx context.Context, studyID int64, f ConsentFilter) ([]ConsentEntry, string, error) {
	q := db.New(d.Pool)
	after, afterID, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	h, err := d.hashing(ctx, q, studyID)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: consent: %w", err)
	}
	if h.typeID == 2 {
		return nil, "", apperr.New(apperr.Conflict, "external studies have no consent frame to rule on")
	}
	limit := pageLimit(f.Limit)
	rows, err := q.ConsentQueue(ctx, db.ConsentQueueParams{StudyID: studyID, Preview: f.Preview, Ruling: f.Ruling,
		HideAcceptedBefore: tstz(f.HideAcceptedBefore), AfterAt: after, AfterID: afterID, Lim: limit + 1})
	if err != nil {
		return nil, "", fmt.Errorf("postgres: consent: %w", err)
	}
	next := ""
	if len(rows) > int(limit) {
		rows = rows[:limit]
		next = encodeCursor(rows[len(rows)-1].CreatedAt.Time, rows[len(rows)-1].ID)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	videos, err := q.ConsentVideos(ctx, ids)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: consent videos: %w", err)
	}
	byResponse := map[int64][]ResponseVideo{}
	for _, v := range videos {
		byResponse[v.ResponseID] = append(byResponse[v.ResponseID], ResponseVideo{UUID: v.Uuid, Filename: v.FullName, Consent: true, CreatedAt: v.CreatedAt.Time})
	}
	out := make([]ConsentEntry, len(rows))
	for i, r := range rows {
		e := ConsentEntry{ResponseUUID: r.Uuid, CreatedAt: r.CreatedAt.Time, Completed: r.Completed, Preview: r.IsPreview,
			ChildHash: h.of(r.ChildUuid), ChildName: r.ChildName, ChildAgeDays: ageDays(r.ChildBirthday, r.CreatedAt.Time),
			ParticipantHash: h.of(r.UserUuid), ParticipantNickname: r.Nickname, Ruling: r.Ruling, Comments: r.Comments,
			Arbiter: r.Arbiter, ConsentVideos: byResponse[r.ID]}
		if r.RuledAt.Valid {
			t := r.RuledAt.Time
			e.RuledAt = &t
		}
		out[i] = e
	}
	return out, next, nil
}

// Ruling is one consent decision: action accepted, rejected or pending, or "" to repeat the
// standing ruling with a new comment.
type Ruling struct {
	ResponseUUID, Action, Comment string
}

// RecordRulings appends the rulings, in one statement, for the study's responses of the given
// kind that have a completed consent frame; others are skipped. It returns how many it recorded.
func (d *ResearchData) RecordRulings(ctx context.Context, studyID int64, preview bool, arbiterID int64, rulings []Ruling) (int, error) {
	ids := make([]string, 0, len(rulings))
	actions := make([]string, 0, len(rulings))
	comments := make([]string, 0, len(rulings))
	seen := map[string]bool{}
	for i, r := range rulings {
		u, err := uuid.Parse(r.ResponseUUID)
		if err != nil {
			return 0, apperr.Field(fmt.Sprintf("/rulings/%d/response_id", i), "not a response id")
		}
		switch r.Action {
		case "", "accepted", "rejected", "pending":
		default:
			return 0, apperr.Field(fmt.Sprintf("/rulings/%d/action", i), "must be accepted, rejected, pending or empty")
		}
		if r.Action == "" && strings.TrimSpace(r.Comment) == "" {
			return 0, apperr.Field(fmt.Sprintf("/rulings/%d/comment", i), "a ruling without an action needs a comment")
		}
		if seen[u.String()] {
			return 0, apperr.Field(fmt.Sprintf("/rulings/%d/response_id", i), "the response is ruled on twice")
		}
		seen[u.String()] = true
		ids, actions, comments = append(ids, u.String()), append(actions, r.Action), append(comments, r.Comment)
	}
	rows, err := db.New(d.Pool).RecordRulings(ctx, db.RecordRulingsParams{ResponseUuids: ids, Actions: actions, Comments: comments,
		StudyID: studyID, Preview: preview, ArbiterID: &arbiterID})
	if err != nil {
		return 0, fmt.Errorf("postgres: record rulings: %w", err)
	}
	return len(rows), nil
}
