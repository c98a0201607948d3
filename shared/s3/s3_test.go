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
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithy "github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/objects/objectstest"
	"lookit.dev/platform/shared/s3"
)

// fakeS3 starts gofakes3 and returns a client on it configured as the local stack does.
func fakeS3(t *testing.T, opts ...gofakes3.Option) (*awss3.Client, *httptest.Server) {
	t.Helper()
	return serve(t, gofakes3.New(s3mem.New(), opts...).Server())
}

func serve(t *testing.T, h http.Handler) (*awss3.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := s3.NewClient(context.Background(), s3.Options{Region: "us-east-1", Endpoint: srv.URL, AccessKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, srv
}

func bucket(t *testing.T, name string, opts ...gofakes3.Option) (*s3.Bucket, *httptest.Server) {
	t.Helper()
	return interceptedBucket(t, name, nil, opts...)
}

// interceptedBucket is bucket on a fake whose requests go first to intercept, which answers
// those it wants to (returning true) to stage errors gofakes3 never gives.
func interceptedBucket(t *testing.T, name string, intercept func(http.ResponseWriter, *http.Request) bool, opts ...gofakes3.Option) (*s3.Bucket, *httptest.Server) {
	t.Helper()
	fake := gofakes3.New(s3mem.New(), opts...).Server()
	c, srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept == nil || !intercept(w, r) {
			fake.ServeHTTP(w, r)
		}
	}))
	if err := s3.EnsureBucket(context.Background(), c, name); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return &s3.Bucket{Client: c, Name: name}, srv
}

// s3Error answers as S3 does with code.
func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, "<Error><Code>"+code+"</Code><Message>staged</Message></Error>")
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

func get(t *testing.T, b *s3.Bucket, key string) string {
	t.Helper()
	rc, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return string(data)
}

func TestCopy(t *testing.T) {
	b, _ := bucket(t, "lookit-copy")
	ctx := context.Background()
	// The last pairs need the copy source escaped: a space, a '+' (which a query-unescaping
	// server reads as a space), a '%'.
	for _, c := range []struct{ src, dst string }{
		{"videos/src.webm", "videos/dst.webm"},
		{"videos/a b+c.webm", "videos/copy of a+b.webm"},
		{"videos/100%+.webm", "videos/x"},
	} {
		if err := b.Put(ctx, c.src, strings.NewReader("video:"+c.src), "video/webm"); err != nil {
			t.Fatal(err)
		}
		if err := b.Copy(ctx, c.src, c.dst); err != nil {
			t.Fatalf("Copy(%q, %q): %v", c.src, c.dst, err)
		}
		if got := get(t, b, c.dst); got != "video:"+c.src {
			t.Errorf("copy of %q holds %q", c.src, got)
		}
		if got := get(t, b, c.src); got != "video:"+c.src {
			t.Errorf("source %q after copy holds %q", c.src, got)
		}
		out, err := b.Client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.Name, Key: &c.dst})
		if err != nil || aws.ToString(out.ContentType) != "video/webm" {
			t.Errorf("copy of %q: head = %v, %v; want video/webm", c.src, out, err)
		}
	}
}

func TestCopyMissingSource(t *testing.T) {
	b, _ := bucket(t, "lookit-copy-missing")
	ctx := context.Background()
	// gofakes3 answers 404 NoSuchKey, as S3 does.
	err := b.Copy(ctx, "videos/none.webm", "videos/dst.webm")
	if !errors.Is(err, objects.ErrNotExist) || !strings.Contains(err.Error(), "videos/none.webm") {
		t.Fatalf("Copy from a missing key = %v, want ErrNotExist naming the key", err)
	}
	if ok, err := b.Exists(ctx, "videos/dst.webm"); ok || err != nil {
		t.Fatalf("Exists(dst) after failed copy = %v, %v", ok, err)
	}

	c, _ := fakeS3(t)
	missing := &s3.Bucket{Client: c, Name: "lookit-missing"}
	if err := missing.Copy(ctx, "a", "b"); err == nil || errors.Is(err, objects.ErrNotExist) {
		t.Fatalf("Copy in a missing bucket = %v, want a non-ErrNotExist error", err)
	}
}

func TestCopyOther404s(t *testing.T) {
	// Any 404 for a copy but NoSuchBucket means the source is missing, whatever its code.
	for code, want := range map[string]bool{"": true, "NoSuchVersion": true, "NoSuchBucket": false} {
		b, _ := interceptedBucket(t, "lookit-copy-404", func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("X-Amz-Copy-Source") == "" {
				return false
			}
			if code == "" {
				w.WriteHeader(http.StatusNotFound)
			} else {
				s3Error(w, http.StatusNotFound, code)
			}
			return true
		})
		err := b.Copy(context.Background(), "a", "b")
		if err == nil || errors.Is(err, objects.ErrNotExist) != want {
			t.Errorf("Copy answered 404 %q = %v; want ErrNotExist %v", code, err, want)
		}
	}
}

func TestExists(t *testing.T) {
	b, _ := bucket(t, "lookit-exists")
	ctx := context.Background()
	key := "videos/v.webm"
	if ok, err := b.Exists(ctx, key); ok || err != nil {
		t.Fatalf("Exists before Put = %v, %v; want false, nil", ok, err)
	}
	if err := b.Put(ctx, key, strings.NewReader(""), "video/webm"); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Exists(ctx, key); !ok || err != nil {
		t.Fatalf("Exists after Put = %v, %v; want true, nil", ok, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if ok, err := b.Exists(cancelled, key); ok || err == nil {
		t.Fatalf("Exists with a cancelled context = %v, %v; want an error", ok, err)
	}

	denied, _ := interceptedBucket(t, "lookit-exists-denied", func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodHead || !strings.Contains(r.URL.Path, "/v.webm") {
			return false
		}
		w.WriteHeader(http.StatusForbidden) // S3's answer for a missing key without s3:ListBucket
		return true
	})
	if ok, err := denied.Exists(ctx, key); ok || err == nil || !strings.Contains(err.Error(), key) {
		t.Fatalf("Exists answered 403 = %v, %v; want an error naming the key", ok, err)
	}
}

func TestDownloadURL(t *testing.T) {
	b, srv := bucket(t, "lookit-download")
	ctx := context.Background()
	key := "videos/v1.webm"
	if err := b.Put(ctx, key, strings.NewReader("webm!"), "video/webm"); err != nil {
		t.Fatal(err)
	}
	for filename, want := range map[string]string{
		"Study 12 - baby.webm":                    "Study 12 - baby.webm",
		"a\"b\\c\r\nX-Injected: 1\x00\x7f é.webm": "abcX-Injected: 1 .webm",
		"":              "v1.webm",
		" \"\t\\видео ": "v1.webm",
	} {
		raw, err := b.DownloadURL(ctx, key, filename, 10*time.Minute)
		if err != nil {
			t.Fatalf("DownloadURL(%q): %v", filename, err)
		}
		wantCD := `attachment; filename="` + want + `"`
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, srv.URL+"/lookit-download/videos/v1.webm?") ||
			u.Query().Get("response-content-disposition") != wantCD || u.Query().Get("X-Amz-Expires") != "600" {
			t.Errorf("DownloadURL(%q) = %s, want a signed GET with response-content-disposition %s", filename, raw, wantCD)
		}
		// gofakes3 honours response-content-disposition, as S3 does.
		resp, err := http.Get(raw)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || string(body) != "webm!" || resp.Header.Get("Content-Disposition") != wantCD {
			t.Errorf("GET DownloadURL(%q) = %d %q, Content-Disposition %q; want 200 \"webm!\", %s",
				filename, resp.StatusCode, body, resp.Header.Get("Content-Disposition"), wantCD)
		}
	}
}

// clock is a gofakes3 time source running offset from real time, to backdate uploads.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time                  { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *clock) set(offset time.Duration)        { c.offset.Store(int64(offset)) }

// startUpload begins a multipart upload of key and uploads parts as parts 1, 2, ... It leaves the
// upload incomplete, as a closed recorder tab does.
func startUpload(t *testing.T, b *s3.Bucket, key string, parts ...string) string {
	t.Helper()
	ctx := context.Background()
	out, err := b.Client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &b.Name, Key: &key, ContentType: aws.String("video/webm")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload(%q): %v", key, err)
	}
	// Upload in reverse so completing must not rely on upload order. S3 wants every part but the
	// last to be at least 5 MiB; gofakes3 does not check, so the parts here are tiny.
	for i := len(parts) - 1; i >= 0; i-- {
		_, err := b.Client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: &b.Name, Key: &key, UploadId: out.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(parts[i]),
		})
		if err != nil {
			t.Fatalf("UploadPart(%q, %d): %v", key, i+1, err)
		}
	}
	return aws.ToString(out.UploadId)
}

// pendingUploads lists the keys of incomplete multipart uploads.
func pendingUploads(t *testing.T, b *s3.Bucket) []string {
	t.Helper()
	out, err := b.Client.ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: &b.Name})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

func TestCompleteStaleUploads(t *testing.T) {
	clk := &clock{}
	b, _ := bucket(t, "lookit-stale", gofakes3.WithTimeSource(clk), gofakes3.WithTimeSkewLimit(0))
	ctx := context.Background()

	// gofakes3 refuses to list uploads in a bucket that never had one; that is no error here.
	if n, err := b.CompleteStaleUploads(ctx, 24*time.Hour, time.Now()); n != 0 || err != nil {
		t.Fatalf("CompleteStaleUploads on a fresh bucket = %d, %v; want 0, nil", n, err)
	}

	clk.set(-48 * time.Hour)
	startUpload(t, b, "videos/abandoned.webm", "hello ", "video ", "world")
	startUpload(t, b, "videos/empty.webm")
	clk.set(0)
	startUpload(t, b, "videos/recording.webm", "still going")

	n, err := b.CompleteStaleUploads(ctx, 24*time.Hour, time.Now())
	if n != 1 || err != nil {
		t.Fatalf("CompleteStaleUploads = %d, %v; want 1, nil", n, err)
	}
	if got := get(t, b, "videos/abandoned.webm"); got != "hello video world" {
		t.Errorf("completed upload holds %q, want the parts in order", got)
	}
	for _, key := range []string{"videos/empty.webm", "videos/recording.webm"} {
		if ok, err := b.Exists(ctx, key); ok || err != nil {
			t.Errorf("Exists(%q) = %v, %v; want false, nil", key, ok, err)
		}
	}
	// The empty upload is aborted; the recent one is left to its recorder.
	if got := pendingUploads(t, b); len(got) != 1 || got[0] != "videos/recording.webm" {
		t.Errorf("pending uploads = %q, want only the recent one", got)
	}

	if n, err := b.CompleteStaleUploads(ctx, 24*time.Hour, time.Now()); n != 0 || err != nil {
		t.Fatalf("second CompleteStaleUploads = %d, %v; want 0, nil", n, err)
	}

	// A day later the recent upload is stale too.
	if n, err := b.CompleteStaleUploads(ctx, 24*time.Hour, time.Now().Add(25*time.Hour)); n != 1 || err != nil {
		t.Fatalf("CompleteStaleUploads a day later = %d, %v; want 1, nil", n, err)
	}
	if got := get(t, b, "videos/recording.webm"); got != "still going" {
		t.Errorf("completed upload holds %q", got)
	}
	if got := pendingUploads(t, b); len(got) != 0 {
		t.Errorf("pending uploads = %q, want none", got)
	}
}

func TestCompleteStaleUploadsPaginates(t *testing.T) {
	defer s3.SetUploadsPageSize(1)()
	b, _ := bucket(t, "lookit-stale-pages")
	// Several uploads of one key span pages, which the SDK's own paginator would cut short.
	for _, part := range []string{"1", "2", "3"} {
		startUpload(t, b, "videos/a.webm", "a"+part)
	}
	startUpload(t, b, "videos/b.webm", "b")
	n, err := b.CompleteStaleUploads(context.Background(), time.Hour, time.Now().Add(2*time.Hour))
	if n != 4 || err != nil {
		t.Fatalf("CompleteStaleUploads = %d, %v; want 4, nil", n, err)
	}
	// Uploads of one key complete in the order they began, so the last one wins.
	if a, bb := get(t, b, "videos/a.webm"), get(t, b, "videos/b.webm"); a != "a3" || bb != "b" {
		t.Errorf("objects = %q, %q; want a3, b", a, bb)
	}
}

func TestCompleteStaleUploadsContinuesPastFailure(t *testing.T) {
	// S3 refuses to complete an upload whose parts but the last are under 5 MiB.
	b, _ := interceptedBucket(t, "lookit-stale-fail", func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || r.URL.Query().Get("uploadId") == "" || !strings.HasSuffix(r.URL.Path, "/a.webm") {
			return false
		}
		s3Error(w, http.StatusBadRequest, "EntityTooSmall")
		return true
	})
	ctx := context.Background()
	startUpload(t, b, "videos/a.webm", "tiny", "parts")
	startUpload(t, b, "videos/b.webm", "fine")
	n, err := b.CompleteStaleUploads(ctx, time.Hour, time.Now().Add(2*time.Hour))
	var ae smithy.APIError
	if n != 1 || !errors.As(err, &ae) || ae.ErrorCode() != "EntityTooSmall" || !strings.Contains(err.Error(), "videos/a.webm") {
		t.Fatalf("CompleteStaleUploads = %d, %v; want 1 and EntityTooSmall naming videos/a.webm", n, err)
	}
	if got := get(t, b, "videos/b.webm"); got != "fine" {
		t.Errorf("b.webm holds %q", got)
	}

	c, _ := fakeS3(t)
	missing := &s3.Bucket{Client: c, Name: "lookit-missing"}
	if n, err := missing.CompleteStaleUploads(ctx, time.Hour, time.Now()); n != 0 || err == nil {
		t.Fatalf("CompleteStaleUploads in a missing bucket = %d, %v; want an error", n, err)
	}
}

func TestDeleteAll(t *testing.T) {
	b, _ := bucket(t, "lookit-delete-all")
	ctx := context.Background()
	for _, k := range []string{"a.webm", "a.jpg", "keep.webm"} {
		if err := b.Put(ctx, k, strings.NewReader(k), "video/webm"); err != nil {
			t.Fatal(err)
		}
	}
	// A missing key among them is no error: deleting is idempotent.
	if err := b.DeleteAll(ctx, "a.webm", "a.jpg", "never-there.webm"); err != nil {
		t.Fatalf("DeleteAll: %v", err)
	}
	for k, want := range map[string]bool{"a.webm": false, "a.jpg": false, "keep.webm": true} {
		if ok, err := b.Exists(ctx, k); err != nil || ok != want {
			t.Errorf("%s exists = %v, %v; want %v", k, ok, err, want)
		}
	}
	if err := b.DeleteAll(ctx); err != nil {
		t.Errorf("DeleteAll of nothing: %v", err)
	}
}
