package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/jsonb"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/protocol"
	"lookit.dev/platform/shared/studies"
)

var errNoResponse = apperr.New(apperr.NotFound, "no such response")

// CompatStudy, CompatChild and CompatResponse read what the compatibility API shows.
func (s *Studies) CompatStudy(ctx context.Context, studyUUID string) (db.CompatStudyRow, error) {
	if _, err := uuid.Parse(studyUUID); err != nil {
		return db.CompatStudyRow{}, errNoStudy
	}
	r, err := db.New(s.Pool).CompatStudy(ctx, studyUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoStudy
	}
	return r, err
}

// CompatChild: see CompatStudy.
func (s *Studies) CompatChild(ctx context.Context, childUUID string) (db.CompatChildRow, error) {
	if _, err := uuid.Parse(childUUID); err != nil {
		return db.CompatChildRow{}, errNoChild
	}
	r, err := db.New(s.Pool).CompatChild(ctx, childUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoChild
	}
	return r, err
}

// CompatResponse: see CompatStudy.
func (s *Studies) CompatResponse(ctx context.Context, responseUUID string) (db.CompatResponseRow, error) {
	if _, err := uuid.Parse(responseUUID); err != nil {
		return db.CompatResponseRow{}, errNoResponse
	}
	r, err := db.New(s.Pool).CompatResponse(ctx, responseUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoResponse
	}
	return r, err
}

// ChildResponses returns one page of a family's child's responses to a study, newest-modified
// first (each as CompatResponse reads it), and how many there are.
func (s *Studies) ChildResponses(ctx context.Context, familyID, studyID int64, childUUID string, limit, offset int) ([]db.CompatResponseRow, int, error) {
	if _, err := uuid.Parse(childUUID); err != nil {
		return nil, 0, nil
	}
	q := db.New(s.Pool)
	n, err := q.CompatCountChildResponses(ctx, db.CompatCountChildResponsesParams{StudyID: studyID, ChildUuid: childUUID, FamilyID: familyID})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: child responses: %w", err)
	}
	rows, err := q.CompatChildResponses(ctx, db.CompatChildResponsesParams{StudyID: studyID, ChildUuid: childUUID,
		FamilyID: familyID, Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: child responses: %w", err)
	}
	out := make([]db.CompatResponseRow, len(rows))
	for i, r := range rows {
		out[i] = db.CompatResponseRow(r)
	}
	return out, int(n), nil
}

// ResponsePatch is what a runner's save may change; nil fields keep their value.
type ResponsePatch struct {
	Conditions            json.RawMessage
	GlobalEventTimings    json.RawMessage
	ExpData               json.RawMessage
	Sequence              []string
	Completed             *bool
	CompletedConsentFrame *bool
	SurveyConsent         *bool
}

// Limits on a response's frame data.
const (
	MaxSequence      = 10_000
	MaxFrameIDLength = 512
)

func jsonKind(b json.RawMessage) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// validate checks a save before anything is written: the shapes and sizes the columns and the
// runner's rules ask for.
func (p ResponsePatch) validate() error {
	if p.Conditions != nil && jsonKind(p.Conditions) != '{' {
		return apperr.Field("/data/attributes/conditions", "conditions must be an object")
	}
	if p.GlobalEventTimings != nil && jsonKind(p.GlobalEventTimings) != '[' {
		return apperr.Field("/data/attributes/global_event_timings", "global_event_timings must be a list")
	}
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{"conditions", p.Conditions}, {"global_event_timings", p.GlobalEventTimings}, {"exp_data", p.ExpData}} {
		if f.v != nil {
			if err := jsonb.Check(f.v); err != nil {
				return apperr.Field("/data/attributes/"+f.name, "%s: %v", f.name, err)
			}
		}
	}
	if len(p.Sequence) > MaxSequence {
		return apperr.Field("/data/attributes/sequence", "sequence has more than %d entries", MaxSequence)
	}
	for i, id := range p.Sequence {
		if len(id) > MaxFrameIDLength || !utf8.ValidString(id) || bytes.ContainsRune([]byte(id), 0) {
			return apperr.Field(fmt.Sprintf("/data/attributes/sequence/%d", i), "frame ids are text of at most %d bytes", MaxFrameIDLength)
		}
	}
	return nil
}

// SaveResponse applies a runner's save: whole fields, last write wins, so that the two identical
// saves the runner sends on exit both succeed. For jsPsych responses exp_data is a list that may
// never shrink and the sequence is derived from it. The response is then tallied against the
// study's cap (study row locked first, then the response). FastSaveResponse is the common case
// in one statement; this is the full path.
func (s *Studies) SaveResponse(ctx context.Context, responseID int64, p ResponsePatch) (SavedResponse, []pmail.Request, error) {
	if err := p.validate(); err != nil {
		return SavedResponse{}, nil, err
	}
	saved, out, needStudy, err := s.saveResponse(ctx, responseID, p, false)
	if err == nil && needStudy {
		// The save changes whether the response counts towards the cap: redo it under the
		// study's lock (study first, then response, as every tally does).
		saved, out, _, err = s.saveResponse(ctx, responseID, p, true)
	}
	if err != nil {
		return SavedResponse{}, nil, fmt.Errorf("postgres: save response: %w", err)
	}
	return saved, out, nil
}

// SavedResponse is a response's data as a save left it, so that the answer to the save needs no
// second read of the (large) frame data.
type SavedResponse struct {
	Conditions, GlobalEventTimings, ExpData   json.RawMessage
	Sequence                                  []string
	Completed, CompletedConsentFrame, Consent bool
	UpdatedAt                                 time.Time
}

// errNeedStudyLock rolls back a save that turned out to need the study's lock.
var errNeedStudyLock = errors.New("save needs the study lock")

// saveResponse runs one attempt. Most saves (every frame of a session) leave the response's
// place in the cap unchanged, so they lock only the response row: sessions of one study then
// save in parallel. A save that would change the tally reports needStudy and is redone with the
// study's lock.
func (s *Studies) saveResponse(ctx context.Context, responseID int64, p ResponsePatch, studyLock bool) (SavedResponse, []pmail.Request, bool, error) {
	var out []pmail.Request
	var saved SavedResponse
	err := InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if studyLock {
			studyID, err := q.ResponseStudy(ctx, responseID)
			if errors.Is(err, pgx.ErrNoRows) {
				return errNoResponse
			}
			if err != nil {
				return err
			}
			if _, err := q.LockStudy(ctx, studyID); err != nil {
				return err
			}
		}
		cur, err := q.LockResponseForSave(ctx, responseID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoResponse
		}
		if err != nil {
			return err
		}
		next := db.SaveResponseParams{ID: responseID, Conditions: cur.Conditions, GlobalEventTimings: cur.GlobalEventTimings,
			Sequence: cur.Sequence, Completed: cur.Completed,
			CompletedConsentFrame: cur.CompletedConsentFrame, SurveyConsent: cur.SurveyConsent}
		if p.Conditions != nil {
			next.Conditions = p.Conditions
		}
		if p.GlobalEventTimings != nil {
			next.GlobalEventTimings = p.GlobalEventTimings
		}
		if p.Sequence != nil {
			next.Sequence = p.Sequence
		}
		for _, f := range []struct {
			src *bool
			dst *bool
		}{{p.Completed, &next.Completed}, {p.CompletedConsentFrame, &next.CompletedConsentFrame}, {p.SurveyConsent, &next.SurveyConsent}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if p.ExpData != nil {
			if studies.TypeOf(cur.StudyTypeID) == studies.JSPsych {
				seq, err := jsPsychData(int(cur.StoredTrials), p.ExpData)
				if err != nil {
					return err
				}
				next.Sequence = seq
			} else if jsonKind(p.ExpData) != '{' {
				return apperr.Field("/data/attributes/exp_data", "exp_data must be an object keyed by frame")
			}
			next.ExpData = p.ExpData
		}
		if next.Sequence == nil {
			next.Sequence = []string{}
		}
		valid := validForCap(db.ResponseForTallyRow{IsPreview: cur.IsPreview, Eligibility: cur.Eligibility,
			Completed: next.Completed, CompletedConsentFrame: next.CompletedConsentFrame, StudyTypeID: cur.StudyTypeID, Ruling: cur.Ruling})
		if valid != cur.Tallied && !studyLock {
			return errNeedStudyLock
		}
		if err := q.SaveResponse(ctx, next); err != nil {
			return err
		}
		expData := next.ExpData
		if expData == nil { // kept: read it once, for the rules and the answer
			if expData, err = q.ResponseExpData(ctx, responseID); err != nil {
				return err
			}
		}
		saved = SavedResponse{Conditions: next.Conditions, GlobalEventTimings: next.GlobalEventTimings, ExpData: expData,
			Sequence: next.Sequence, Completed: next.Completed, CompletedConsentFrame: next.CompletedConsentFrame,
			Consent: next.SurveyConsent, UpdatedAt: time.Now()}
		if err := lastFrameRules(ctx, q, responseID, studies.TypeOf(cur.StudyTypeID), expData, next.Sequence); err != nil {
			return err
		}
		if studyLock {
			out, err = s.tally(ctx, q, responseID)
		}
		return err
	})
	if errors.Is(err, errNeedStudyLock) {
		return SavedResponse{}, nil, true, nil
	}
	return saved, out, false, err
}

// jsPsychData checks a jsPsych save (a list of trials that never shrinks, Lookit's rule) and
// derives the sequence "<trial_index>-<trial_type>" from the rows that have both.
func jsPsychData(stored int, next json.RawMessage) ([]string, error) {
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(next, &rows); err != nil {
		return nil, apperr.Field("/data/attributes/exp_data", "exp_data of a jsPsych study must be a list of trials")
	}
	if len(rows) < stored {
		return nil, apperr.Field("/data/attributes/exp_data", "exp_data cannot lose trials (%d stored, %d sent)", stored, len(rows))
	}
	seq := []string{}
	for _, r := range rows {
		idx, okI := r["trial_index"]
		typ, okT := r["trial_type"]
		if !okI || !okT {
			continue
		}
		var t string
		if json.Unmarshal(typ, &t) != nil {
			t = string(bytes.Trim(typ, `"`))
		}
		seq = append(seq, string(bytes.TrimSpace(idx))+"-"+t)
	}
	return seq, nil
}

// lastFrameRules runs Lookit's rules on the frame just saved: a consent frame makes its videos
// consent footage; an exit frame with withdrawal deletes the response's other videos (the rows
// now, the stored objects in 7 days: video_deletions).
func lastFrameRules(ctx context.Context, q *db.Queries, responseID int64, t studies.Type, expData json.RawMessage, sequence []string) error {
	switch protocol.LastFrameKind(t == studies.JSPsych, expData, sequence) {
	case protocol.ExpDataFrameTypeConsent:
		_, err := q.MarkConsentFootage(ctx, db.MarkConsentFootageParams{ResponseID: responseID, FrameID: sequence[len(sequence)-1]})
		return err
	case protocol.ExpDataFrameTypeExit:
		if !protocol.Withdrawn(t == studies.JSPsych, expData, sequence) {
			return nil
		}
		if _, err := q.ScheduleWithdrawnVideos(ctx, responseID); err != nil {
			return err
		}
		_, err := q.DeleteWithdrawnVideos(ctx, responseID)
		return err
	}
	return nil
}

// ReadableData is where a researcher may read response data: real data (RR) and preview data
// (RP), from authz.Subject.Holding.
type ReadableData struct {
	Real, Preview authz.Holdings
}

func nonNil(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

// VisibleResponses lists one page of the responses a user may see: their children's, and
// consented ones they may read as a researcher; newest-modified first.
func (s *Studies) VisibleResponses(ctx context.Context, userID int64, rd ReadableData, limit, offset int) ([]string, int, error) {
	q := db.New(s.Pool)
	n, err := q.CompatCountVisibleResponses(ctx, db.CompatCountVisibleResponsesParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible responses: %w", err)
	}
	ids, err := q.CompatVisibleResponses(ctx, db.CompatVisibleResponsesParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs),
		Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible responses: %w", err)
	}
	return ids, int(n), nil
}

// Consented reports whether a response's consent frame was completed and its newest ruling
// accepts it.
func (s *Studies) Consented(ctx context.Context, responseID int64) (bool, error) {
	ok, err := db.New(s.Pool).CompatResponseConsented(ctx, responseID)
	if err != nil {
		return false, fmt.Errorf("postgres: consented: %w", err)
	}
	return ok, nil
}

// ChildVisible reports whether a researcher may see a child: one of its consented responses is
// readable to them.
func (s *Studies) ChildVisible(ctx context.Context, childID int64, rd ReadableData) (bool, error) {
	ok, err := db.New(s.Pool).CompatChildVisible(ctx, db.CompatChildVisibleParams{ChildID: childID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs)})
	if err != nil {
		return false, fmt.Errorf("postgres: child visible: %w", err)
	}
	return ok, nil
}

// CompatStudies lists one page of the studies the compatibility API shows a user: active public
// ones, and for researchers (researcher true) also shared-preview ones and those in rd.
func (s *Studies) CompatStudies(ctx context.Context, researcher bool, rd authz.Holdings, limit, offset int) ([]string, int, error) {
	q := db.New(s.Pool)
	n, err := q.CompatCountStudies(ctx, db.CompatCountStudiesParams{Researcher: researcher, RdAll: rd.All,
		RdStudies: nonNil(rd.Studies), RdLabs: nonNil(rd.Labs)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: compat studies: %w", err)
	}
	ids, err := q.CompatStudies(ctx, db.CompatStudiesParams{Researcher: researcher, RdAll: rd.All,
		RdStudies: nonNil(rd.Studies), RdLabs: nonNil(rd.Labs), Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: compat studies: %w", err)
	}
	return ids, int(n), nil
}

// CompatLabs lists one page of the labs approved to test.
func (s *Studies) CompatLabs(ctx context.Context, limit, offset int) ([]db.CompatLabsRow, int, error) {
	q := db.New(s.Pool)
	n, err := q.CompatCountLabs(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: compat labs: %w", err)
	}
	rows, err := q.CompatLabs(ctx, db.CompatLabsParams{Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: compat labs: %w", err)
	}
	return rows, int(n), nil
}

// CompatLab returns an approved lab.
func (s *Studies) CompatLab(ctx context.Context, labUUID string) (db.CompatLabRow, error) {
	if _, err := uuid.Parse(labUUID); err != nil {
		return db.CompatLabRow{}, errNoLab
	}
	r, err := db.New(s.Pool).CompatLab(ctx, labUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoLab
	}
	return r, err
}

// VisibleChildren lists one page of the children a user may see: their own and those of
// consented responses they may read as a researcher.
func (s *Studies) VisibleChildren(ctx context.Context, userID int64, rd ReadableData, owner string, limit, offset int) ([]string, int, error) {
	if owner != "" && !pgUUID(owner).Valid {
		return nil, 0, nil
	}
	q := db.New(s.Pool)
	n, err := q.CompatCountVisibleChildren(ctx, db.CompatCountVisibleChildrenParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs),
		OwnerUuid: pgUUID(owner)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible children: %w", err)
	}
	ids, err := q.CompatVisibleChildren(ctx, db.CompatVisibleChildrenParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs),
		OwnerUuid: pgUUID(owner), Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible children: %w", err)
	}
	return ids, int(n), nil
}

// CompatResponseMeta reads what authorizes and describes a response, without its frame data.
func (s *Studies) CompatResponseMeta(ctx context.Context, responseUUID string) (db.CompatResponseMetaRow, error) {
	if _, err := uuid.Parse(responseUUID); err != nil {
		return db.CompatResponseMetaRow{}, errNoResponse
	}
	r, err := db.New(s.Pool).CompatResponseMeta(ctx, responseUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoResponse
	}
	return r, err
}

// ResponseKey is a response as a runner's save addresses it: by its uuid, from the family whose
// child it is, naming (when the save names them) its child and its study.
type ResponseKey struct {
	UUID                 string
	FamilyID             int64
	ChildUUID, StudyUUID *string
}

// FastSaveResponse is the save of most frames in one statement: a whole frameplayer record
// (exp_data and sequence both sent) of the family's own response, whose last frame is neither
// consent nor exit and whose place in the cap stays as it is. It returns the response as the
// answer shows it (the frame data as sent). ok=false saved nothing: the caller takes the full
// path (CompatResponseMeta, authorization, SaveResponse), which finds out why, with its errors.
func (s *Studies) FastSaveResponse(ctx context.Context, key ResponseKey, p ResponsePatch) (db.CompatResponseRow, bool, error) {
	if p.ExpData == nil || p.Sequence == nil || jsonKind(p.ExpData) != '{' || p.validate() != nil {
		return db.CompatResponseRow{}, false, nil
	}
	if _, err := uuid.Parse(key.UUID); err != nil {
		return db.CompatResponseRow{}, false, nil
	}
	if kind := protocol.LastFrameKind(false, p.ExpData, p.Sequence); kind == protocol.ExpDataFrameTypeConsent || kind == protocol.ExpDataFrameTypeExit {
		return db.CompatResponseRow{}, false, nil
	}
	row, err := db.New(s.Pool).FastSaveResponse(ctx, db.FastSaveResponseParams{Uuid: key.UUID, FamilyID: key.FamilyID,
		ChildUuid: key.ChildUUID, StudyUuid: key.StudyUUID, Conditions: p.Conditions,
		GlobalEventTimings: p.GlobalEventTimings, ExpData: p.ExpData, Sequence: p.Sequence, Completed: p.Completed,
		CompletedConsentFrame: p.CompletedConsentFrame, SurveyConsent: p.SurveyConsent})
	if errors.Is(err, pgx.ErrNoRows) {
		return db.CompatResponseRow{}, false, nil
	}
	if err != nil {
		return db.CompatResponseRow{}, false, fmt.Errorf("postgres: save response: %w", err)
	}
	return db.CompatResponseRow{ID: row.ID, Uuid: row.Uuid, StudyID: row.StudyID, ChildID: row.ChildID,
		StudyTypeID: row.StudyTypeID, Completed: row.Completed, CompletedConsentFrame: row.CompletedConsentFrame,
		SurveyConsent: row.SurveyConsent, ExpData: p.ExpData, Conditions: row.Conditions,
		GlobalEventTimings: row.GlobalEventTimings, Sequence: p.Sequence, IsPreview: row.IsPreview,
		RecordingMethod: row.RecordingMethod, Eligibility: row.Eligibility, CreatedAt: row.CreatedAt,
		UpdatedAt: row.UpdatedAt, ChildUuid: row.ChildUuid, FamilyID: row.FamilyID, StudyUuid: row.StudyUuid,
		StudySalt: row.StudySalt, HashDigits: row.HashDigits, LabID: row.LabID}, true, nil
}

func pgUUID(s string) pgtype.UUID {
	u, err := uuid.Parse(s)
	if err != nil || s == "" {
		return pgtype.UUID{}
	}
	return pgtype.UUID{Bytes: u, Valid: true}
}

// VisibleUsers lists one page of the users a caller may see: themselves and the parents of
// consented responses they may read as a researcher; pick ("" for all) narrows it to one.
func (s *Studies) VisibleUsers(ctx context.Context, userID int64, rd ReadableData, pick string, limit, offset int) ([]string, int, error) {
	if pick != "" && !pgUUID(pick).Valid {
		return nil, 0, nil
	}
	q := db.New(s.Pool)
	n, err := q.CompatCountVisibleUsers(ctx, db.CompatCountVisibleUsersParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible users: %w", err)
	}
	ids, err := q.CompatVisibleUsers(ctx, db.CompatVisibleUsersParams{UserID: userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs),
		PickUuid: pgUUID(pick), Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible users: %w", err)
	}
	return ids, int(n), nil
}

// VisibleDemographics lists one page of the demographic rows a caller may see: their own and the
// snapshots of consented responses they may read; pick narrows it to one row.
func (s *Studies) VisibleDemographics(ctx context.Context, userID int64, rd ReadableData, pick, owner string, limit, offset int) ([]string, int, error) {
	if (pick != "" && !pgUUID(pick).Valid) || (owner != "" && !pgUUID(owner).Valid) {
		return nil, 0, nil
	}
	q := db.New(s.Pool)
	n, err := q.CompatCountVisibleDemographics(ctx, db.CompatCountVisibleDemographicsParams{UserID: &userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs),
		OwnerUuid: pgUUID(owner)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible demographics: %w", err)
	}
	ids, err := q.CompatVisibleDemographics(ctx, db.CompatVisibleDemographicsParams{UserID: &userID,
		RrAll: rd.Real.All, RrStudies: nonNil(rd.Real.Studies), RrLabs: nonNil(rd.Real.Labs),
		RpAll: rd.Preview.All, RpStudies: nonNil(rd.Preview.Studies), RpLabs: nonNil(rd.Preview.Labs),
		PickUuid: pgUUID(pick), OwnerUuid: pgUUID(owner), Lim: int32(limit), Off: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: visible demographics: %w", err)
	}
	return ids, int(n), nil
}

// CompatUser and CompatDemographics read one row the caller was found allowed to see.
func (s *Studies) CompatUser(ctx context.Context, userUUID string) (db.CompatUserRow, error) {
	return db.New(s.Pool).CompatUser(ctx, userUUID)
}

// CompatDemographics: see CompatUser.
func (s *Studies) CompatDemographics(ctx context.Context, demoUUID string) (db.CompatDemographicsRow, error) {
	return db.New(s.Pool).CompatDemographics(ctx, demoUUID)
}
