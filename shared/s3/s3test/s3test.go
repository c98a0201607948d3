// Package s3test starts the in-process S3 stand-in (gofakes3) that tests reach through the real
// SDK client, as make run does.
package s3test

import (
	"context"
	"net/http/httptest"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"lookit.dev/platform/shared/s3"
)

// Fake is one S3 stand-in, stopped when the test ends.
type Fake struct {
	URL    string
	Client *awss3.Client
}

// New starts a fake with the named buckets.
func New(tb testing.TB, buckets ...string) *Fake {
	tb.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	tb.Cleanup(srv.Close)
	c, err := s3.NewClient(context.Background(), s3.Options{Region: "us-east-1", Endpoint: srv.URL, AccessKey: "k", SecretKey: "s"})
	if err != nil {
		tb.Fatal(err)
	}
	for _, name := range buckets {
		if err := s3.EnsureBucket(context.Background(), c, name); err != nil {
			tb.Fatal(err)
		}
	}
	return &Fake{URL: srv.URL, Client: c}
}

// Bucket is the named bucket on the fake.
func (f *Fake) Bucket(name string) *s3.Bucket { return &s3.Bucket{Client: f.Client, Name: name} }
