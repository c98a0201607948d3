package videos_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/s3/s3test"
	"lookit.dev/platform/shared/videos"
)

// fakeBuckets are the three video buckets in one in-process S3 fake.
func fakeBuckets(t *testing.T) (videos.Buckets, *awss3.Client) {
	t.Helper()
	f := s3test.New(t, "pipe", "recorder", "jspsych")
	return videos.Buckets{Pipe: f.Bucket("pipe"), Recorder: f.Bucket("recorder"), JSPsych: f.Bucket("jspsych")}, f.Client
}

// failingDeletes is the buckets with every deletion failing.
type failingDeletes struct{ videos.Buckets }

func (failingDeletes) DeleteObject(context.Context, string, string) error {
	return errors.New("s3 down")
}

func TestDeleteDueVideosJob(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	b, _ := fakeBuckets(t)
	prefix := "job-" + time.Now().Format("150405.000000") + "-"
	put := func(st videos.Store, key string) {
		if err := st.Put(ctx, key, strings.NewReader("video"), "video/webm"); err != nil {
			t.Fatal(err)
		}
	}
	put(b.Pipe, prefix+"due.mp4")
	put(b.Recorder, prefix+"due.webm")
	put(b.JSPsych, prefix+"later.webm")
	if _, err := pool.Exec(ctx, `INSERT INTO video_deletions (bucket, object_key, reason, delete_after) VALUES
		('pipe', $1, 'withdrawn', now() - interval '1 minute'),
		('recorder', $2, 'withdrawn', now() - interval '1 day'),
		('jspsych', $3, 'withdrawn', now() + interval '6 days')`, prefix+"due.mp4", prefix+"due.webm", prefix+"later.webm"); err != nil {
		t.Fatal(err)
	}
	exists := func(st videos.Store, key string) bool {
		ok, err := st.Exists(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	done := func(key string) bool {
		var d bool
		if err := pool.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM video_deletions WHERE object_key = $1`, key).Scan(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}

	// Storage down: the run fails whole, nothing is recorded done, the objects stay.
	down := func(context.Context) (postgres.VideoStorage, error) { return failingDeletes{b}, nil }
	if _, err := postgres.NewJobs(pool, nil).WithVideos(down).Run(ctx, prefix+"m0", jobs.Request{Job: jobs.DeleteDueVideos}); err == nil {
		t.Fatal("a run whose deletions fail succeeded")
	}
	if done(prefix+"due.mp4") || !exists(b.Pipe, prefix+"due.mp4") {
		t.Fatal("a failed run recorded a deletion")
	}

	storage := func(context.Context) (postgres.VideoStorage, error) { return b, nil }
	run := func(msg string) bool {
		ran, err := postgres.NewJobs(pool, nil).WithVideos(storage).Run(ctx, msg, jobs.Request{Job: jobs.DeleteDueVideos})
		if err != nil {
			t.Fatal(err)
		}
		return ran
	}
	if !run(prefix + "m1") {
		t.Fatal("the job did not run")
	}
	if exists(b.Pipe, prefix+"due.mp4") || exists(b.Recorder, prefix+"due.webm") || !done(prefix+"due.mp4") || !done(prefix+"due.webm") {
		t.Error("a due object was not deleted and recorded")
	}
	if !exists(b.JSPsych, prefix+"later.webm") || done(prefix+"later.webm") {
		t.Error("an object not yet due was deleted")
	}
	// The same firing again does nothing; a later firing finds nothing due.
	if run(prefix + "m1") {
		t.Error("a redelivered firing ran again")
	}
	run(prefix + "m2")
	if !exists(b.JSPsych, prefix+"later.webm") {
		t.Error("an object not yet due was deleted by a later run")
	}
}

func TestCompleteStaleUploads(t *testing.T) {
	ctx := context.Background()
	b, c := fakeBuckets(t)
	begin := func(bucket, key string, parts ...string) {
		up, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range parts {
			n := int32(i + 1)
			if _, err := c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
				PartNumber: &n, Body: strings.NewReader(p)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	begin("recorder", "abandoned.webm", "first part,", "second part")
	begin("jspsych", "abandoned-jspsych.webm", "only part")
	// An upload in progress is left alone.
	n, err := b.CompleteStaleUploads(ctx, 24*time.Hour, time.Now())
	if err != nil || n != 0 {
		t.Fatalf("fresh uploads: completed %d, %v; want 0", n, err)
	}
	// A day later both are completed, with their parts in order; a second run finds nothing.
	n, err = b.CompleteStaleUploads(ctx, 24*time.Hour, time.Now().Add(25*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("stale uploads: completed %d, %v; want 2", n, err)
	}
	rc, err := b.Recorder.Get(ctx, "abandoned.webm")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "first part,second part" {
		t.Errorf("completed object holds %q", got)
	}
	if n, err := b.CompleteStaleUploads(ctx, 24*time.Hour, time.Now().Add(25*time.Hour)); err != nil || n != 0 {
		t.Errorf("second run: completed %d, %v; want 0", n, err)
	}
}
