package s3_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/objects/objectstest"
	"lookit.dev/platform/shared/s3"
)

// fakeS3 starts gofakes3 and returns a client on it configured as the local stack does.
func fakeS3(t *testing.T) (*awss3.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	c, err := s3.NewClient(context.Background(), s3.Options{Region: "us-east-1", Endpoint: srv.URL, AccessKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, srv
}

func bucket(t *testing.T, name string) (*s3.Bucket, *httptest.Server) {
	t.Helper()
	c, srv := fakeS3(t)
	if err := s3.EnsureBucket(context.Background(), c, name); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return &s3.Bucket{Client: c, Name: name}, srv
}

func TestConformance(t *testing.T) {
	b, _ := bucket(t, "lookit-conformance")
	objectstest.Run(t, b)
}

func TestEnsureBucketIsIdempotent(t *testing.T) {
	c, _ := fakeS3(t)
	ctx := context.Background()
	name := "lookit-new"
	if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &name}); err == nil {
		t.Fatal("bucket exists before EnsureBucket")
	}
	for i := 1; i <= 2; i++ {
		if err := s3.EnsureBucket(ctx, c, name); err != nil {
			t.Fatalf("EnsureBucket #%d: %v", i, err)
		}
	}
	if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("bucket after EnsureBucket: %v", err)
	}
}

func TestPutKeepsContentType(t *testing.T) {
	b, _ := bucket(t, "lookit-content-type")
	ctx := context.Background()
	key := "videos/clip.webm"
	if err := b.Put(ctx, key, strings.NewReader("webm!"), "video/webm"); err != nil {
		t.Fatal(err)
	}
	out, err := b.Client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.Name, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	if out.ContentType == nil || *out.ContentType != "video/webm" || out.ContentLength == nil || *out.ContentLength != 5 {
		t.Fatalf("head = %v, %v; want video/webm, 5 bytes", out.ContentType, out.ContentLength)
	}
}

func TestPutRejectsOversizeAndReadErrors(t *testing.T) {
	b, _ := bucket(t, "lookit-limits")
	ctx := context.Background()

	// Put holds the object in memory to sign it, so it refuses bodies over 64 MiB and stores
	// nothing; large video goes through signed URLs.
	err := b.Put(ctx, "big", io.LimitReader(zeros{}, 64<<20+1), "application/octet-stream")
	if err == nil || !strings.Contains(err.Error(), "64 MiB") {
		t.Fatalf("Put(64 MiB + 1) = %v, want an error naming the limit", err)
	}
	if _, err := b.Get(ctx, "big"); !errors.Is(err, objects.ErrNotExist) {
		t.Fatalf("Get after oversize Put = %v, want ErrNotExist", err)
	}

	boom := errors.New("disk on fire")
	err = b.Put(ctx, "broken", io.MultiReader(strings.NewReader("partial"), errReader{boom}), "text/plain")
	if !errors.Is(err, boom) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	if _, err := b.Get(ctx, "broken"); !errors.Is(err, objects.ErrNotExist) {
		t.Fatalf("Get after failed Put = %v, want ErrNotExist", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestSignedURL(t *testing.T) {
	b, srv := bucket(t, "lookit-signing")
	ctx := context.Background()
	want, _ := url.Parse(srv.URL)
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		raw, err := b.SignedURL(ctx, "videos/a b.webm", m, 10*time.Minute)
		if err != nil {
			t.Fatalf("SignedURL(%s): %v", m, err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Host != want.Host || u.Path != "/lookit-signing/videos/a b.webm" {
			t.Errorf("%s URL = %s, want path-style on the endpoint", m, raw)
		}
		if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" || q.Get("X-Amz-Expires") != strconv.Itoa(600) ||
			!strings.HasPrefix(q.Get("X-Amz-Credential"), "k/") || q.Get("X-Amz-Signature") == "" {
			t.Errorf("%s URL query = %v, want a SigV4 signature by key k expiring in 600 s", m, q)
		}
	}
}

func TestErrors(t *testing.T) {
	c, _ := fakeS3(t)
	ctx := context.Background()
	// Only a missing object is ErrNotExist; a missing bucket is a configuration error.
	missing := &s3.Bucket{Client: c, Name: "lookit-missing"}
	if _, err := missing.Get(ctx, "k"); err == nil || errors.Is(err, objects.ErrNotExist) {
		t.Errorf("Get in a missing bucket = %v, want a non-ErrNotExist error", err)
	}
	if err := missing.Put(ctx, "k", strings.NewReader("data"), "text/plain"); err == nil {
		t.Error("Put into a missing bucket succeeded")
	}

	b, _ := bucket(t, "lookit-errors")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Delete(cancelled, "k"); err == nil {
		t.Error("Delete with a cancelled context succeeded")
	}
	if _, err := b.Get(cancelled, "k"); err == nil || errors.Is(err, objects.ErrNotExist) {
		t.Errorf("Get with a cancelled context = %v, want a non-ErrNotExist error", err)
	}
	if err := s3.EnsureBucket(cancelled, c, "lookit-other"); err == nil {
		t.Error("EnsureBucket with a cancelled context succeeded")
	}
}
