package gcs_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"lookit.dev/platform/shared/gcs"
	"lookit.dev/platform/shared/localstack"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/objects/objectstest"
)

const project = "lookit-test"

// fakeGCS starts fake-gcs-server in-process and returns a storage client that reaches it through
// STORAGE_EMULATOR_HOST, as the local stack does. The server's public host is its own address, so
// that signed URLs (which the client builds on the emulator host) are served path-style.
func fakeGCS(t *testing.T) *storage.Client {
	t.Helper()
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Port: uint16(port), PublicHost: addr, Writer: io.Discard,
	})
	if err != nil {
		t.Fatalf("fake-gcs-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	t.Setenv("STORAGE_EMULATOR_HOST", addr)
	c, err := storage.NewClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func signingKey(t *testing.T) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func bucket(t *testing.T, name string) *gcs.Bucket {
	t.Helper()
	c := fakeGCS(t)
	if err := gcs.EnsureBucket(context.Background(), c, project, name); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return &gcs.Bucket{Client: c, Name: name, AccessID: "x@y.iam.gserviceaccount.com", PrivateKey: signingKey(t), Insecure: true}
}

func TestConformance(t *testing.T) {
	objectstest.Run(t, bucket(t, "lookit-conformance"))
}

func TestEnsureBucketIsIdempotent(t *testing.T) {
	c := fakeGCS(t)
	ctx := context.Background()
	if _, err := c.Bucket("lookit-new").Attrs(ctx); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("bucket before EnsureBucket: %v, want ErrBucketNotExist", err)
	}
	for i := 1; i <= 2; i++ {
		if err := gcs.EnsureBucket(ctx, c, project, "lookit-new"); err != nil {
			t.Fatalf("EnsureBucket #%d: %v", i, err)
		}
	}
	if _, err := c.Bucket("lookit-new").Attrs(ctx); err != nil {
		t.Fatalf("bucket after EnsureBucket: %v", err)
	}
}

func TestPutKeepsContentType(t *testing.T) {
	b := bucket(t, "lookit-content-type")
	ctx := context.Background()
	if err := b.Put(ctx, "archives/study.zip", strings.NewReader("PK"), "application/zip"); err != nil {
		t.Fatal(err)
	}
	a, err := b.Client.Bucket(b.Name).Object("archives/study.zip").Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.ContentType != "application/zip" || a.Size != 2 {
		t.Fatalf("attrs = %s, %d bytes; want application/zip, 2 bytes", a.ContentType, a.Size)
	}
}

func TestPutReportsReadError(t *testing.T) {
	b := bucket(t, "lookit-read-error")
	ctx := context.Background()
	boom := errors.New("disk on fire")
	// A Put whose reader fails stores nothing: neither a new object nor a truncated replacement.
	err := b.Put(ctx, "new", io.MultiReader(strings.NewReader("partial"), errReader{boom}), "text/plain")
	if !errors.Is(err, boom) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	if _, err := b.Get(ctx, "new"); !errors.Is(err, objects.ErrNotExist) {
		t.Fatalf("Get after failed Put = %v, want ErrNotExist (no partial object)", err)
	}
	if err := b.Put(ctx, "old", strings.NewReader("complete version"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	err = b.Put(ctx, "old", io.MultiReader(strings.NewReader("partial"), errReader{boom}), "text/plain")
	if !errors.Is(err, boom) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	r, err := b.Get(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, _ := io.ReadAll(r); string(got) != "complete version" {
		t.Fatalf("after failed Put, object = %q, want the previous version", got)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestSignedURL(t *testing.T) {
	b := bucket(t, "lookit-signing")
	ctx := context.Background()
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
		if u.Scheme != "http" || u.Host != os.Getenv("STORAGE_EMULATOR_HOST") || u.Path != "/lookit-signing/videos/a b.webm" {
			t.Errorf("%s URL = %s, want http on the emulator, path-style", m, raw)
		}
		if q.Get("X-Goog-Algorithm") != "GOOG4-RSA-SHA256" || !expiresWithin(q.Get("X-Goog-Expires"), 600) ||
			!strings.HasPrefix(q.Get("X-Goog-Credential"), "x@y.iam.gserviceaccount.com/") || q.Get("X-Goog-Signature") == "" {
			t.Errorf("%s URL query = %v, want a V4 signature by the access id expiring within 600 s", m, q)
		}
	}
}

// expiresWithin reports whether X-Goog-Expires is a positive number of seconds of at most max (the
// library counts from its own clock, so a second may already have passed).
func expiresWithin(v string, max int) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n > 0 && n <= max
}

func TestErrors(t *testing.T) {
	c := fakeGCS(t)
	ctx := context.Background()
	missing := &gcs.Bucket{Client: c, Name: "lookit-missing", AccessID: "x@y.iam.gserviceaccount.com", PrivateKey: []byte("not a key"), Insecure: true}
	if err := missing.Put(ctx, "k", strings.NewReader("data"), "text/plain"); err == nil {
		t.Error("Put into a missing bucket succeeded")
	}
	if _, err := missing.SignedURL(ctx, "k", http.MethodGet, time.Minute); err == nil {
		t.Error("SignedURL with an unusable private key succeeded")
	}

	// Only a missing object is ErrNotExist or a harmless delete; other failures are reported.
	b := bucket(t, "lookit-errors")
	if err := b.Put(ctx, "k", strings.NewReader("data"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Get(cancelled, "k"); err == nil || errors.Is(err, objects.ErrNotExist) {
		t.Errorf("Get with a cancelled context = %v, want a non-ErrNotExist error", err)
	}
	if err := b.Delete(cancelled, "k"); err == nil {
		t.Error("Delete with a cancelled context succeeded")
	}
	if err := gcs.EnsureBucket(cancelled, b.Client, project, "lookit-other"); err == nil {
		t.Error("EnsureBucket with a cancelled context succeeded")
	}
}
