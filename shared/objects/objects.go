// Package objects is the small interface every object store of the platform satisfies: study
// runner archives and private files in GCS, participant video in S3. Package objectstest holds
// the conformance suite each backend passes.
package objects

import (
	"context"
	"errors"
	"io"
	"time"
)

// Store keeps objects in one bucket.
type Store interface {
	// Put writes the object at key, replacing any previous one.
	Put(ctx context.Context, key string, r io.Reader, contentType string) error
	// Get opens the object at key; ErrNotExist if there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object at key; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// SignedURL returns a URL that allows method (GET or PUT) on key until expiry.
	SignedURL(ctx context.Context, key, method string, expiry time.Duration) (string, error)
}

// ErrNotExist is returned for a missing object.
var ErrNotExist = errors.New("objects: object does not exist")
