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
	Event      []byte // the kept webhook call (payload hash), marked processed with the row
}

// PipeFiler renames Pipe's recordings in the Pipe bucket and files them.
type PipeFiler struct {
	Bucket func(ctx context.Context) (Store, error)
	DB     func(ctx context.Context) (*pgxpool.Pool, error)
}

// FullName is the recording's object key once renamed.
func (r PipeRecording) FullName() string { return r.Name + "." + r.Ext }

// File renames and files rec, in an order a retry can finish from any point: copy to the new name
// (skipped when an earlier attempt copied it and deleted the original), file the row (idempotent
// on the new name), then delete Pipe's original and its snapshot. A failure of storage or the
// database is apperr.Unavailable (Pipe retries); a recording that names no response, or whose
// object is in neither place, is apperr.NotFound (a retry cannot help).
func (f *PipeFiler) File(ctx context.Context, rec PipeRecording) (postgres.Filed, error) {
	pool, err := f.DB(ctx)
	if err != nil {
		return postgres.Filed{}, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	v := &postgres.Videos{Pool: pool}
	target, err := v.Target(ctx, rec.StudyID, rec.ResponseID)
	if errors.Is(err, postgres.ErrNoVideoTarget) {
		return postgres.Filed{}, err
	}
	if err != nil {
		return postgres.Filed{}, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	b, err := f.Bucket(ctx)
	if err != nil {
		return postgres.Filed{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
	}
	original, dst := rec.VideoName+"."+rec.Ext, rec.FullName()
	switch err := b.Copy(ctx, original, dst); {
	case errors.Is(err, objects.ErrNotExist):
		// An earlier attempt may have copied it and deleted the original.
		ok, err := b.Exists(ctx, dst)
		if err != nil {
			return postgres.Filed{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
		}
		if !ok {
			return postgres.Filed{}, apperr.New(apperr.NotFound, "the recording %s is not in the Pipe bucket", original)
		}
	case err != nil:
		return postgres.Filed{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
	}
	pipeName := original
	filed, err := v.File(ctx, postgres.NewVideo{Target: target, FullName: dst, Bucket: BucketPipe, FrameID: rec.FrameID,
		Timestamp: rec.Timestamp, Consent: rec.Consent, PipeName: &pipeName, PipeNumericID: rec.NumericID, PipeEvent: rec.Event})
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return postgres.Filed{}, err
	}
	if err != nil {
		return postgres.Filed{}, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	for _, key := range []string{original, rec.VideoName + ".jpg"} {
		if err := b.Delete(ctx, key); err != nil {
			return postgres.Filed{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
		}
	}
	return filed, nil
}
