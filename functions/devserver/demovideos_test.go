package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"lookit.dev/platform/shared/demo"
	"lookit.dev/platform/shared/s3"
	"lookit.dev/platform/shared/videos"
)

// Placeholders go into the bucket each video row names, with the content type of their extension,
// once: an object already there (a real recording) is left alone.
func TestPutDemoVideos(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	ctx := context.Background()
	c, err := s3.NewClient(ctx, s3.Options{Region: "us-east-1", Endpoint: srv.URL, AccessKey: "local", SecretKey: "local"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"recorder-bucket", "pipe-bucket", "jspsych-bucket"} {
		if err := s3.EnsureBucket(ctx, c, b); err != nil {
			t.Fatal(err)
		}
	}
	buckets := videos.Buckets{Recorder: &s3.Bucket{Client: c, Name: "recorder-bucket"},
		Pipe: &s3.Bucket{Client: c, Name: "pipe-bucket"}, JSPsych: &s3.Bucket{Client: c, Name: "jspsych-bucket"}}
	if err := buckets.Recorder.Put(ctx, "videoStream_kept.webm", strings.NewReader("a real recording"), "video/webm"); err != nil {
		t.Fatal(err)
	}
	objects := []demo.VideoObject{
		{Bucket: videos.BucketRecorder, Key: "consent-videoStream_s_1-video-consent_r_1_2.webm"},
		{Bucket: videos.BucketPipe, Key: "videoStream_s_2-test-trial_r_3_4.mp4"},
		{Bucket: videos.BucketRecorder, Key: "videoStream_kept.webm"},
	}
	put, err := putDemoVideos(ctx, buckets, objects)
	if err != nil || put != 2 {
		t.Fatalf("put %d (%v), want 2", put, err)
	}
	for i, want := range []struct {
		bucket, contentType string
		size                int64
	}{{"recorder-bucket", "video/webm", placeholderSize}, {"pipe-bucket", "video/mp4", placeholderSize},
		{"recorder-bucket", "video/webm", int64(len("a real recording"))}} {
		key := objects[i].Key
		head, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &want.bucket, Key: &key})
		if err != nil {
			t.Fatalf("%s in %s: %v", key, want.bucket, err)
		}
		if got, size := aws.ToString(head.ContentType), aws.ToInt64(head.ContentLength); got != want.contentType || size != want.size {
			t.Errorf("%s: %s, %d bytes; want %s, %d", key, got, size, want.contentType, want.size)
		}
	}
	body, err := buckets.Recorder.Get(ctx, "videoStream_kept.webm")
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := io.ReadAll(body)
	body.Close()
	if string(kept) != "a real recording" {
		t.Errorf("the recording already there became %.40q", kept)
	}
	if put, err := putDemoVideos(ctx, buckets, objects); err != nil || put != 0 {
		t.Errorf("again: put %d (%v), want 0", put, err)
	}
	if _, err := putDemoVideos(ctx, buckets, []demo.VideoObject{{Bucket: "elsewhere", Key: "x.webm"}}); err == nil {
		t.Error("a video in an unknown bucket was put somewhere")
	}
}

func TestLoopback(t *testing.T) {
	for endpoint, want := range map[string]bool{"http://127.0.0.1:9000": true, "http://localhost:4566": true,
		"http://[::1]:9000": true, "https://s3.amazonaws.com": false, "": false, "http://10.0.0.5:9000": false} {
		if got := loopback(endpoint); got != want {
			t.Errorf("loopback(%q) = %v", endpoint, got)
		}
	}
}
