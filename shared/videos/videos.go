// Package videos files participant video, the platform's most precious data: consent videos
// prove consent, session videos are the data. Recordings reach the platform two ways (reference
// §5): the legacy Pipe service copies each recording to its bucket and calls a webhook, and the
// current runner uploads to S3 itself and an S3 upload hook reports the object. Either way,
// filing is idempotent and can be finished by a retry from any point: a repeated notice answers
// success and leaves exactly one row.
package videos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
)

// Store is one video bucket: an objects.Store that can also copy within itself, tell whether an
// object exists, and sign download links.
type Store interface {
	objects.Store
	// DeleteAll deletes keys in one request; missing keys are not errors.
	DeleteAll(ctx context.Context, keys ...string) error
	// Copy copies src to dst in the bucket; objects.ErrNotExist when src is missing.
	Copy(ctx context.Context, src, dst string) error
	Exists(ctx context.Context, key string) (bool, error)
	// DownloadURL signs a GET whose answer is an attachment named filename.
	DownloadURL(ctx context.Context, key, filename string, expiry time.Duration) (string, error)
	// CompleteStaleUploads completes the multipart uploads begun before now-olderThan.
	CompleteStaleUploads(ctx context.Context, olderThan time.Duration, now time.Time) (int, error)
}

// Bucket names as the videos table records them (reference §1.2): which bucket holds a video.
const (
	BucketPipe     = "pipe"     // the legacy Pipe recorder's
	BucketRecorder = "recorder" // the runner's own uploads (RecordRTC)
	BucketJSPsych  = "jspsych"  // jsPsych's recordings
)

// Buckets are the three video buckets.
type Buckets struct {
	Pipe, Recorder, JSPsych Store
}

var _ postgres.VideoStorage = Buckets{}

// DeleteObject deletes key from the bucket a video row names.
func (b Buckets) DeleteObject(ctx context.Context, bucket, key string) error {
	st := b.Named(bucket)
	if st == nil {
		return fmt.Errorf("videos: no bucket %q", bucket)
	}
	return st.Delete(ctx, key)
}

// CompleteStaleUploads completes abandoned uploads in the buckets browsers upload to (the
// runner's and jsPsych's; Pipe copies whole files to its own).
func (b Buckets) CompleteStaleUploads(ctx context.Context, olderThan time.Duration, now time.Time) (int, error) {
	total := 0
	var errs []error
	for _, st := range []Store{b.Recorder, b.JSPsych} {
		n, err := st.CompleteStaleUploads(ctx, olderThan, now)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// Named returns the bucket a video row names, or nil.
func (b Buckets) Named(name string) Store {
	switch name {
	case BucketPipe:
		return b.Pipe
	case BucketRecorder:
		return b.Recorder
	case BucketJSPsych:
		return b.JSPsych
	}
	return nil
}
