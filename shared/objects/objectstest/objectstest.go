// Package objectstest is the conformance suite for objects.Store backends.
package objectstest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/objects"
)

// Run checks s against the objects.Store contract. Keys include a space and a slash because video
// and archive keys have both.
func Run(t *testing.T, s objects.Store) {
	ctx := context.Background()
	key := "suite/clip one " + time.Now().Format("150405.000000") + ".webm"

	t.Run("MissingIsErrNotExist", func(t *testing.T) {
		_, err := s.Get(ctx, key+".missing")
		if !errors.Is(err, objects.ErrNotExist) {
			t.Fatalf("Get(missing) = %v, want ErrNotExist", err)
		}
	})
	t.Run("PutGetReplace", func(t *testing.T) {
		for _, body := range []string{"first version", "second, longer version"} {
			if err := s.Put(ctx, key, strings.NewReader(body), "video/webm"); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := read(t, s, key); got != body {
				t.Fatalf("Get = %q, want %q", got, body)
			}
		}
	})
	t.Run("SignedGET", func(t *testing.T) {
		u, err := s.SignedURL(ctx, key, http.MethodGet, 15*time.Minute)
		if err != nil {
			t.Fatalf("SignedURL: %v", err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET signed URL: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(b) != "second, longer version" {
			t.Fatalf("GET signed URL = %d %q", resp.StatusCode, b)
		}
	})
	t.Run("SignedPUT", func(t *testing.T) {
		k := key + ".put"
		u, err := s.SignedURL(ctx, k, http.MethodPut, 15*time.Minute)
		if err != nil {
			t.Fatalf("SignedURL: %v", err)
		}
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader([]byte("uploaded")))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT signed URL: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT signed URL = %d", resp.StatusCode)
		}
		if got := read(t, s, k); got != "uploaded" {
			t.Fatalf("after signed PUT, Get = %q", got)
		}
		_ = s.Delete(ctx, k)
	})
	t.Run("SignedURLRejectsOtherMethods", func(t *testing.T) {
		if _, err := s.SignedURL(ctx, key, http.MethodDelete, time.Minute); err == nil {
			t.Fatal("SignedURL(DELETE) succeeded; only GET and PUT are allowed")
		}
	})
	t.Run("DeleteIsIdempotent", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, objects.ErrNotExist) {
			t.Fatalf("Get after Delete = %v, want ErrNotExist", err)
		}
	})
}

func read(t *testing.T, s objects.Store, key string) string {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}
