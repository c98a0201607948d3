// Package gcs is the objects.Store on Google Cloud Storage (fake-gcs-server locally).
package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"cloud.google.com/go/storage"

	"lookit.dev/platform/shared/objects"
)

// Bucket stores objects in one GCS bucket.
type Bucket struct {
	Client *storage.Client
	Name   string
	// Signing: in Cloud Run the client signs through IAM signBlob with the function's own
	// service account and these stay empty. Locally an access id and a generated key stand in,
	// and Insecure makes the URLs plain http for the emulator.
	AccessID   string
	PrivateKey []byte
	Insecure   bool
}

var _ objects.Store = (*Bucket)(nil)

func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	// Closing a Writer commits what was written; only cancelling its context abandons the
	// upload, so a failed read never replaces the object with a truncated one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := b.Client.Bucket(b.Name).Object(key).NewWriter(ctx)
	w.ContentType = contentType
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("gcs: put %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("gcs: put %s: %w", key, err)
	}
	return nil
}

func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := b.Client.Bucket(b.Name).Object(key).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, objects.ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("gcs: get %s: %w", key, err)
	}
	return r, nil
}

func (b *Bucket) Delete(ctx context.Context, key string) error {
	err := b.Client.Bucket(b.Name).Object(key).Delete(ctx)
	if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("gcs: delete %s: %w", key, err)
	}
	return nil
}

func (b *Bucket) SignedURL(ctx context.Context, key, method string, expiry time.Duration) (string, error) {
	if method != http.MethodGet && method != http.MethodPut {
		return "", fmt.Errorf("gcs: signed URL method %s not allowed", method)
	}
	opts := &storage.SignedURLOptions{
		Scheme:         storage.SigningSchemeV4,
		Method:         method,
		Expires:        time.Now().Add(expiry),
		GoogleAccessID: b.AccessID,
		PrivateKey:     b.PrivateKey,
		Insecure:       b.Insecure,
	}
	u, err := b.Client.Bucket(b.Name).SignedURL(key, opts)
	if err != nil {
		return "", fmt.Errorf("gcs: sign %s: %w", key, err)
	}
	return u, nil
}

// EnsureBucket creates the bucket if it does not exist (local stand-ins only; infra/ owns real
// buckets).
func EnsureBucket(ctx context.Context, c *storage.Client, project, name string) error {
	_, err := c.Bucket(name).Attrs(ctx)
	if err == nil {
		return nil
	}
	if !errors.Is(err, storage.ErrBucketNotExist) {
		return fmt.Errorf("gcs: bucket %s: %w", name, err)
	}
	if err := c.Bucket(name).Create(ctx, project, nil); err != nil {
		return fmt.Errorf("gcs: create bucket %s: %w", name, err)
	}
	return nil
}
