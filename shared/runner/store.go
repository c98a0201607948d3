package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"lookit.dev/platform/shared/objects"
)

// Upload stores the build in dist (a built runner's dist/ folder) for commit sha in the
// experiments bucket, index.html last so that a build whose index.html exists is complete. It
// refuses a build that CheckBuild rejects.
func Upload(ctx context.Context, store objects.Store, dist fs.FS, sha string) (int, error) {
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		return 0, fmt.Errorf("runner: the build has no index.html: %w", err)
	}
	if err := CheckBuild(index, sha); err != nil {
		return 0, err
	}
	n := 0
	err = fs.WalkDir(dist, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || name == "index.html" {
			return nil
		}
		f, err := dist.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := store.Put(ctx, Prefix(sha)+name, f, contentType(name)); err != nil {
			return fmt.Errorf("runner: storing %s: %w", name, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := store.Put(ctx, IndexObject(sha), strings.NewReader(string(index)), "text/html; charset=utf-8"); err != nil {
		return n, fmt.Errorf("runner: storing index.html: %w", err)
	}
	return n + 1, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".map":
		return "application/json"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Assets serves GET and HEAD /frameplayer/<sha>/<path> from the experiments bucket, as Cloud
// CDN's backend bucket does in production. A build's files never change, so they are cached for
// a year. index.html is not served here: only the study pages serve it, configured.
func Assets(store func(context.Context) (objects.Store, error), log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/frameplayer/")
		sha, name, _ := strings.Cut(rest, "/")
		if !ok || !ValidSHA(sha) || name == "" || name == "index.html" || !fs.ValidPath(name) {
			http.NotFound(w, r)
			return
		}
		s, err := store(r.Context())
		if err != nil {
			log.ErrorContext(r.Context(), "experiments bucket unavailable", "error", err.Error())
			http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
			return
		}
		body, err := s.Get(r.Context(), Prefix(sha)+name)
		if errors.Is(err, objects.ErrNotExist) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			log.ErrorContext(r.Context(), "reading a runner asset failed", "error", err.Error(), "object", Prefix(sha)+name)
			http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
			return
		}
		defer body.Close()
		w.Header().Set("Content-Type", contentType(name))
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = io.Copy(w, body)
	})
}
