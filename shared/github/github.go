// Package github resolves a repository's branch or tag to its commit through GitHub's REST API,
// for study runner builds: a study may pin a branch, which is resolved once and the commit stored.
package github

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"lookit.dev/platform/shared/apperr"
)

// Resolver asks GitHub's API (BaseURL, https://api.github.com by default) with an optional token.
type Resolver struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

var (
	repoRE = regexp.MustCompile(`^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(\.git)?/?$`)
	shaRE  = regexp.MustCompile(`^[0-9a-f]{40}$`)
	refRE  = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)
)

// ResolveRef returns the commit ref names in repoURL. A ref GitHub does not know is the study's
// fault (a 400 naming the field); GitHub unreachable or failing is apperr.Unavailable.
func (r *Resolver) ResolveRef(ctx context.Context, repoURL, ref string) (string, error) {
	m := repoRE.FindStringSubmatch(repoURL)
	if m == nil {
		return "", apperr.Field("/metadata/player_repo_url", "only https://github.com/<owner>/<repo> runner repositories can be built")
	}
	if !refRE.MatchString(ref) || strings.Contains(ref, "..") {
		return "", apperr.Field("/metadata/last_known_player_sha", "%q is not a branch, tag or commit", ref)
	}
	base := r.BaseURL
	if base == "" {
		base = "https://api.github.com"
	}
	u := fmt.Sprintf("%s/repos/%s/%s/commits/%s", strings.TrimSuffix(base, "/"), m[1], m[2], url.PathEscape(ref))
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("github: %w", err)
	}
	// This media type answers with the commit's SHA alone.
	req.Header.Set("Accept", "application/vnd.github.sha")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	client := r.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Unavailable, "GitHub cannot be reached to resolve the runner's branch")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusOK:
		sha := strings.TrimSpace(string(body))
		if !shaRE.MatchString(sha) {
			return "", apperr.New(apperr.Unavailable, "GitHub answered without a commit for %q", ref)
		}
		return sha, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnprocessableEntity:
		return "", apperr.Field("/metadata/last_known_player_sha", "%s has no branch, tag or commit %q", repoURL, ref)
	default:
		return "", apperr.New(apperr.Unavailable, "GitHub answered %d resolving %q", resp.StatusCode, ref)
	}
}
