package github_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/github"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestResolveRef(t *testing.T) {
	var gotPath, gotAccept, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAccept, gotAuth = r.URL.EscapedPath(), r.Header.Get("Accept"), r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/repos/lookit/ember-lookit-frameplayer/commits/master", "/repos/lookit/ember-lookit-frameplayer/commits/feature/x":
			w.Write([]byte(sha))
		case "/repos/lookit/ember-lookit-frameplayer/commits/broken":
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	r := &github.Resolver{BaseURL: srv.URL, Token: "t0ken"}
	ctx := context.Background()
	got, err := r.ResolveRef(ctx, "https://github.com/lookit/ember-lookit-frameplayer", "master")
	if err != nil || got != sha {
		t.Fatalf("master = %q, %v", got, err)
	}
	if gotPath != "/repos/lookit/ember-lookit-frameplayer/commits/master" || gotAccept != "application/vnd.github.sha" || gotAuth != "Bearer t0ken" {
		t.Errorf("asked %s with Accept %q, Authorization %q", gotPath, gotAccept, gotAuth)
	}
	// A branch with a slash is one path segment; a .git suffix is the same repository.
	if got, err := r.ResolveRef(ctx, "https://github.com/lookit/ember-lookit-frameplayer.git", "feature/x"); err != nil || got != sha {
		t.Errorf("feature/x = %q, %v", got, err)
	}
	if gotPath != "/repos/lookit/ember-lookit-frameplayer/commits/feature%2Fx" {
		t.Errorf("asked %s", gotPath)
	}
	for _, c := range []struct {
		repo, ref string
		code      apperr.Code
	}{
		{"https://github.com/lookit/ember-lookit-frameplayer", "no-such-branch", apperr.Invalid},
		{"https://github.com/lookit/ember-lookit-frameplayer", "broken", apperr.Unavailable},
		{"https://gitlab.com/lookit/ember-lookit-frameplayer", "master", apperr.Invalid},
		{"http://github.com/lookit/ember-lookit-frameplayer", "master", apperr.Invalid},
		{"https://github.com/lookit/ember-lookit-frameplayer", "../../x", apperr.Invalid},
	} {
		if _, err := r.ResolveRef(ctx, c.repo, c.ref); apperr.CodeOf(err) != c.code {
			t.Errorf("%s at %s: %v, want %s", c.repo, c.ref, err, c.code)
		}
	}
	srv.Close()
	if _, err := r.ResolveRef(ctx, "https://github.com/lookit/ember-lookit-frameplayer", "master"); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("GitHub down: %v, want unavailable", err)
	}
}
