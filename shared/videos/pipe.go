package videos

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
)

// PipeRecording is a recording the Pipe service reports as copied to its bucket under its own
// name, to be renamed to the name the runner gave it.
type PipeRecording struct {
	VideoName string // Pipe's name, without extension
	Ext       string // lower case: mp4, webm or mov
	NumericID *int64 // Pipe's id of the recording
	// Name is the runner's name without its "consent-" prefix: the object's new key, less the
	// extension (Lookit's full_name).
	Name       string
	Consent    bool // the runner's name had the "consent-" prefix
	StudyID    string
	ResponseID string
	FrameID    string
	Timestamp  time.Time
	Payload    []byte // the webhook call's payload, kept before anything else
	Event      []byte // its SHA-256, which identifies the call; marked processed with the row
}

// PipeFiled is what filing a recording did.
type PipeFiled struct {
	postgres.Filed
	Repeated bool // the same call was made before (Pipe retries)
}

// PipeFiler renames Pipe's recordings in the Pipe bucket and files them.
type PipeFiler struct {
	Bucket func(ctx context.Context) (Store, error)
	DB     func(ctx context.Context) (*pgxpool.Pool, error)
}

// FullName is the recording's object key once renamed.
func (r PipeRecording) FullName() string { return r.Name + "." + r.Ext }

// File keeps the call, then renames and files rec, in an order a retry can finish from any
// point: copy to the new name (skipped when an earlier attempt copied it and deleted the
// original), file the row (idempotent on the new name), then delete Pipe's original and its
// snapshot. A failure of storage or the database is apperr.Unavailable (Pipe retries); a
// recording that names no response, or whose object is in neither place, is apperr.NotFound (a
// retry cannot help).
func (f *PipeFiler) File(ctx context.Context, rec PipeRecording) (PipeFiled, error) {
	pool, err := f.DB(ctx)
	if err != nil {
		return PipeFiled{}, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	v := &postgres.Videos{Pool: pool}
	facts, repeated, err := v.KeepPipeCall(ctx, postgres.PipeCall{PayloadHash: rec.Event, Payload: rec.Payload,
		VideoName: rec.VideoName, StudyUUID: rec.StudyID, ResponseUUID: rec.ResponseID, FrameID: rec.FrameID, Consent: rec.Consent})
	if err != nil {
		return PipeFiled{Repeated: repeated}, unavailable(err, "database unavailable")
	}
	b, err := f.Bucket(ctx)
	if err != nil {
		return PipeFiled{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
	}
	original, dst := rec.VideoName+"."+rec.Ext, rec.FullName()
	switch err := b.Copy(ctx, original, dst); {
	case errors.Is(err, objects.ErrNotExist):
		// An earlier attempt may have copied it and deleted the original.
		ok, err := b.Exists(ctx, dst)
		if err != nil {
			return PipeFiled{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
		}
		if !ok {
			return PipeFiled{}, apperr.New(apperr.NotFound, "the recording %s is not in the Pipe bucket", original)
		}
	case err != nil:
		return PipeFiled{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
	}
	pipeName := original
	n := postgres.NewVideo{Target: facts.Target, FullName: dst, Bucket: BucketPipe, FrameID: rec.FrameID,
		Timestamp: rec.Timestamp, Consent: rec.Consent, PipeName: &pipeName, PipeNumericID: rec.NumericID, PipeEvent: rec.Event}
	filed, ok, err := v.FileFast(ctx, n, facts)
	if err == nil && !ok {
		filed, err = v.File(ctx, n)
	}
	if err != nil {
		return PipeFiled{}, unavailable(err, "database unavailable")
	}
	if err := b.DeleteAll(ctx, original, rec.VideoName+".jpg"); err != nil {
		return PipeFiled{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
	}
	return PipeFiled{Filed: filed, Repeated: repeated}, nil
}

// unavailable passes application errors on and makes any other a retryable Unavailable.
func unavailable(err error, message string) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Wrap(err, apperr.Unavailable, message)
}
