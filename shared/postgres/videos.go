package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/protocol"
	"lookit.dev/platform/shared/studies"
)

// Videos files participant video and schedules its deletion.
type Videos struct {
	Pool *pgxpool.Pool
}

// VideoTarget is the response a recording belongs to.
type VideoTarget struct {
	ResponseID, StudyID int64
	JSPsych             bool // a jsPsych response, whose recordings are in the jsPsych bucket
}

// ErrNoVideoTarget is a recording whose study or response does not exist (or do not go
// together): no retry can file it.
var ErrNoVideoTarget = apperr.New(apperr.NotFound, "no such response in that study")

// Target finds the response a recording's name points at.
func (v *Videos) Target(ctx context.Context, studyUUID, responseUUID string) (VideoTarget, error) {
	if !pgUUID(studyUUID).Valid || !pgUUID(responseUUID).Valid {
		return VideoTarget{}, ErrNoVideoTarget
	}
	row, err := db.New(v.Pool).VideoTarget(ctx, db.VideoTargetParams{ResponseUuid: responseUUID, StudyUuid: studyUUID})
	if errors.Is(err, pgx.ErrNoRows) {
		return VideoTarget{}, ErrNoVideoTarget
	}
	if err != nil {
		return VideoTarget{}, fmt.Errorf("postgres: video target: %w", err)
	}
	return VideoTarget{ResponseID: row.ID, StudyID: row.StudyID, JSPsych: row.Jspsych}, nil
}

// NewVideo is a recording to file: its object (FullName in Bucket) already exists.
type NewVideo struct {
	Target        VideoTarget
	FullName      string // the object key, with its extension
	Bucket        string // "pipe", "recorder" or "jspsych"
	FrameID       string
	Timestamp     time.Time
	Consent       bool    // the name or the notice says so
	PipeName      *string // Pipe's own name of the recording, with its extension
	PipeNumericID *int64
	// PipeEvent is the payload hash of the webhook call being processed, marked done with the row.
	PipeEvent []byte
}

// Filed is what filing a recording did.
type Filed struct {
	ID      int64  // the video row's; 0 when Withdrawn
	UUID    string // ditto
	Created bool   // false: it was filed before
	Consent bool
	// Withdrawn: the family had withdrawn before the recording arrived; the object is scheduled
	// for deletion and no row is kept, as if the recording had arrived before the withdrawal.
	Withdrawn bool
}

// WithdrawnVideoDelay is how long a withdrawn recording's object is kept (Lookit's countdown), so
// that operators can still recover a mistaken withdrawal.
const WithdrawnVideoDelay = 7 * 24 * time.Hour

// File records a recording in one transaction, idempotently on its full name. It is consent
// footage when its name says so or its frame (already saved) is a consent frame; a save of the
// frame after this marks it instead (lastFrameRules). Session video of a family that has already
// withdrawn is not kept.
func (v *Videos) File(ctx context.Context, n NewVideo) (Filed, error) {
	var out Filed
	err := InTx(ctx, v.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		r, err := q.LockResponseForVideo(ctx, n.Target.ResponseID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoVideoTarget
		}
		if err != nil {
			return err
		}
		jsPsych := studies.TypeOf(r.StudyTypeID) == studies.JSPsych
		out.Consent = n.Consent || (!jsPsych && protocol.FrameKind(r.ExpData, n.FrameID) == protocol.ExpDataFrameTypeConsent)
		if !out.Consent && protocol.Withdrawn(jsPsych, r.ExpData, r.Sequence) {
			out.Withdrawn = true
			if err := q.ScheduleVideoDeletion(ctx, db.ScheduleVideoDeletionParams{Bucket: n.Bucket, ObjectKey: n.FullName,
				Reason: "withdrawn", AfterSeconds: WithdrawnVideoDelay.Seconds()}); err != nil {
				return err
			}
		} else {
			row, err := q.InsertVideo(ctx, db.InsertVideoParams{S3Timestamp: pgtype.Timestamptz{Time: n.Timestamp, Valid: true},
				PipeName: n.PipeName, PipeNumericID: n.PipeNumericID, FrameID: n.FrameID, FullName: n.FullName,
				Bucket: n.Bucket, StudyID: n.Target.StudyID, ResponseID: n.Target.ResponseID, IsConsentFootage: out.Consent})
			switch {
			case err == nil:
				out.Created, out.ID, out.UUID = true, row.ID, row.Uuid
			case errors.Is(err, pgx.ErrNoRows):
				// Filed before: report the row as it stands (a save may have marked it since).
				prev, err := q.VideoByFullName(ctx, n.FullName)
				if errors.Is(err, pgx.ErrNoRows) {
					// The conflict was on Pipe's name: the same recording under another name.
					return apperr.New(apperr.Conflict, "this recording was filed under another name")
				}
				if err != nil {
					return err
				}
				out.ID, out.UUID, out.Consent = prev.ID, prev.Uuid, prev.IsConsentFootage
			default:
				return err
			}
		}
		if n.PipeEvent != nil {
			return q.MarkPipeEventProcessed(ctx, n.PipeEvent)
		}
		return nil
	})
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return Filed{}, err
		}
		return Filed{}, fmt.Errorf("postgres: file video %s: %w", n.FullName, err)
	}
	return out, nil
}

// VideoStorage is what the video jobs need of the video buckets (shared/videos.Buckets).
type VideoStorage interface {
	// DeleteObject deletes key from the bucket a video row names ("pipe", "recorder", "jspsych").
	DeleteObject(ctx context.Context, bucket, key string) error
	// CompleteStaleUploads completes the browser uploads abandoned before now-olderThan.
	CompleteStaleUploads(ctx context.Context, olderThan time.Duration, now time.Time) (int, error)
}

// VideoStorageFunc returns the video storage on first need.
type VideoStorageFunc func(context.Context) (VideoStorage, error)

// videoDeletionBatch bounds one run's deletions, and so its transaction; a backlog drains over
// the following runs.
const videoDeletionBatch = 500

// deleteDueVideos deletes the stored objects whose deletion is due and records them done, in the
// job's transaction: the rows it claims stay locked until then, so an overlapping run takes
// others, and a run that fails is redone whole (deleting an object twice is harmless).
func deleteDueVideos(storage VideoStorageFunc) JobFunc {
	return func(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
		q := db.New(tx)
		rows, err := q.ClaimDueVideoDeletions(ctx, videoDeletionBatch)
		if err != nil || len(rows) == 0 {
			return map[string]any{"deleted": 0}, err
		}
		st, err := storage(ctx)
		if err != nil {
			return nil, fmt.Errorf("video storage: %w", err)
		}
		ids := make([]int64, 0, len(rows))
		for _, r := range rows {
			if err := st.DeleteObject(ctx, r.Bucket, r.ObjectKey); err != nil {
				return nil, fmt.Errorf("delete %s/%s: %w", r.Bucket, r.ObjectKey, err)
			}
			ids = append(ids, r.ID)
		}
		if err := q.MarkVideoDeletionsDone(ctx, ids); err != nil {
			return nil, err
		}
		return map[string]any{"deleted": len(ids), "more": len(rows) == videoDeletionBatch}, nil
	}
}

// StaleUploadAge is how old an unfinished browser upload must be before it is completed
// (Lookit's cleanup_incomplete_video_uploads): a day, far beyond any session.
const StaleUploadAge = 24 * time.Hour

// completeStaleUploads completes the multipart uploads families abandoned (a closed tab), whose
// parts hold real video. It works on storage only; completing an upload twice is not possible,
// so overlapping runs are harmless.
func completeStaleUploads(storage VideoStorageFunc) JobFunc {
	return func(ctx context.Context, _ pgx.Tx) (map[string]any, error) {
		st, err := storage(ctx)
		if err != nil {
			return nil, fmt.Errorf("video storage: %w", err)
		}
		n, err := st.CompleteStaleUploads(ctx, StaleUploadAge, time.Now())
		if err != nil {
			return nil, err
		}
		return map[string]any{"completed": n}, nil
	}
}

// VideoAccess is what deciding who may watch a video needs, and where the video is.
type VideoAccess struct {
	FullName, Bucket                   string
	StudyID, LabID                     int64
	Preview, Consented, ConsentFootage bool
	FamilyID                           int64 // the child's family
}

var errNoVideo = apperr.New(apperr.NotFound, "no such video")

// ForAccess reads a video by its uuid.
func (v *Videos) ForAccess(ctx context.Context, videoUUID string) (VideoAccess, error) {
	if !pgUUID(videoUUID).Valid {
		return VideoAccess{}, errNoVideo
	}
	r, err := db.New(v.Pool).VideoForAccess(ctx, videoUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return VideoAccess{}, errNoVideo
	}
	if err != nil {
		return VideoAccess{}, fmt.Errorf("postgres: video: %w", err)
	}
	return VideoAccess{FullName: r.FullName, Bucket: r.Bucket, StudyID: r.StudyID, LabID: r.LabID, Preview: r.IsPreview,
		Consented: r.Consented, ConsentFootage: r.IsConsentFootage, FamilyID: r.FamilyID}, nil
}

// DeletePreviewData deletes a study's preview responses at once, with their videos' rows, and
// schedules the videos' objects for deletion in WithdrawnVideoDelay; the study's log records who
// did it. It returns how many responses and videos went.
func (v *Videos) DeletePreviewData(ctx context.Context, studyID, userID int64) (responses, videos int64, err error) {
	err = InTx(ctx, v.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		// The study's lock orders this after any save that is tallying one of its responses.
		if _, err := q.LockStudy(ctx, studyID); err != nil {
			return err
		}
		if videos, err = q.SchedulePreviewVideoDeletions(ctx, db.SchedulePreviewVideoDeletionsParams{StudyID: studyID,
			AfterSeconds: WithdrawnVideoDelay.Seconds()}); err != nil {
			return err
		}
		if responses, err = q.DeletePreviewResponses(ctx, studyID); err != nil {
			return err
		}
		extra, _ := json.Marshal(map[string]int64{"responses": responses, "videos": videos})
		return q.LogStudy(ctx, db.LogStudyParams{StudyID: studyID, UserID: &userID, Action: "delete_preview_data", Extra: extra})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: delete preview data: %w", err)
	}
	return responses, videos, nil
}

// PipeCall is a Pipe webhook call to keep: its payload and what its recording's name says.
type PipeCall struct {
	PayloadHash, Payload                        []byte
	VideoName, StudyUUID, ResponseUUID, FrameID string
	Consent                                     bool
}

// ResponseFacts are what deciding a recording's consent needs, read without a lock, and the
// version of the response they were read from.
type ResponseFacts struct {
	Target      VideoTarget
	studyTypeID int16
	frameType   string
	lastFrame   json.RawMessage
	lastID      string
	version     string
}

// KeepPipeCall keeps a webhook call (repeated: it was kept before), so that a recording Pipe
// reported is on record whatever happens next, and reads the response the recording names
// (ErrNoVideoTarget: none, or not in that study), in one round trip.
func (v *Videos) KeepPipeCall(ctx context.Context, c PipeCall) (f ResponseFacts, repeated bool, err error) {
	row, err := db.New(v.Pool).KeepPipeCallAndTarget(ctx, db.KeepPipeCallAndTargetParams{FrameID: c.FrameID,
		ResponseUuid: c.ResponseUUID, StudyUuid: c.StudyUUID, PayloadHash: c.PayloadHash, Payload: c.Payload,
		VideoName: c.VideoName, IsConsent: c.Consent})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		// A data exception: valid JSON that jsonb cannot hold (\u0000, a lone surrogate). No retry
		// can help: the payload's fault, not an internal error.
		return ResponseFacts{}, false, apperr.Field("payload", "payload cannot be stored: %s", pgErr.Message)
	}
	if err != nil {
		return ResponseFacts{}, false, fmt.Errorf("postgres: keep pipe call: %w", err)
	}
	if row.ResponseID == 0 {
		return ResponseFacts{}, row.Kept == 0, ErrNoVideoTarget
	}
	return ResponseFacts{Target: VideoTarget{ResponseID: row.ResponseID, StudyID: row.StudyID},
		studyTypeID: row.StudyTypeID, frameType: row.FrameType, lastFrame: row.LastFrame, lastID: row.LastID,
		version: row.RowVersion}, row.Kept == 0, nil
}

// decide is File's rule on facts read without the lock: consent footage when the name says so or
// the frame is a consent frame; withdrawn when the family left through the exit survey's
// withdrawal (protocol.Withdrawn on the last frame).
func (f ResponseFacts) decide(byName bool) (consent, withdrawn bool) {
	jsPsych := studies.TypeOf(f.studyTypeID) == studies.JSPsych
	if byName || (!jsPsych && strings.ToUpper(f.frameType) == protocol.ExpDataFrameTypeConsent) {
		return true, false
	}
	if f.lastID == "" {
		return false, false
	}
	var expData []byte
	if jsPsych {
		expData = append(append([]byte("["), f.lastFrame...), ']')
	} else {
		key, _ := json.Marshal(f.lastID)
		expData = append(append(append(append([]byte("{"), key...), ':'), f.lastFrame...), '}')
	}
	return false, protocol.Withdrawn(jsPsych, expData, []string{f.lastID})
}

// FileFast files a recording in one statement when the response is still as f read it and the
// family has not withdrawn; ok=false filed nothing and the caller takes File, the locked
// transaction, which decides again.
func (v *Videos) FileFast(ctx context.Context, n NewVideo, f ResponseFacts) (filed Filed, ok bool, err error) {
	consent, withdrawn := f.decide(n.Consent)
	if withdrawn || f.version == "" {
		return Filed{}, false, nil
	}
	q := db.New(v.Pool)
	row, err := q.FileVideo(ctx, db.FileVideoParams{ResponseID: f.Target.ResponseID, RowVersion: f.version,
		S3Timestamp: pgtype.Timestamptz{Time: n.Timestamp, Valid: true}, PipeName: n.PipeName, PipeNumericID: n.PipeNumericID,
		FrameID: n.FrameID, FullName: n.FullName, Bucket: n.Bucket, StudyID: f.Target.StudyID, IsConsentFootage: consent,
		PipeEvent: n.PipeEvent})
	if err != nil {
		return Filed{}, false, fmt.Errorf("postgres: file video %s: %w", n.FullName, err)
	}
	if row.Locked == 0 {
		return Filed{}, false, nil // saved since: decide again under the lock
	}
	if row.ID != nil {
		return Filed{ID: *row.ID, UUID: *row.Uuid, Created: true, Consent: *row.IsConsentFootage}, true, nil
	}
	prev, err := q.VideoByFullName(ctx, n.FullName)
	if errors.Is(err, pgx.ErrNoRows) {
		return Filed{}, false, apperr.New(apperr.Conflict, "this recording was filed under another name")
	}
	if err != nil {
		return Filed{}, false, fmt.Errorf("postgres: file video %s: %w", n.FullName, err)
	}
	return Filed{ID: prev.ID, UUID: prev.Uuid, Consent: prev.IsConsentFootage}, true, nil
}
