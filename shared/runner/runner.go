// Package runner is how the Lookit experiment runner (ember-lookit-frameplayer) is served. A
// production build depends only on the commit it was built from, so each commit is built once and
// stored in the experiments bucket under Prefix(sha); every study that pins the commit shares it.
// The build's index.html carries the runner's configuration in a meta tag; Configure rewrites it
// at serve time with the deployment's settings, so one build serves every deployment and study.
// The build's assets are served from the same prefix: by Cloud CDN in production, by Assets
// locally.
//
// A build must be made with PREPEND_FINGERPRINT=/frameplayer/<sha>/ (AssetPath) so that its
// index.html and scripts load their assets from that prefix.
package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ConfigMetaName is the name of the meta tag whose content is the runner's URL-encoded JSON
// configuration (ember-cli's standard mechanism).
const ConfigMetaName = "ember-lookit-frameplayer/config/environment"

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ValidSHA reports whether sha is a full lower-case commit SHA.
func ValidSHA(sha string) bool { return shaRE.MatchString(sha) }

// Prefix is where the build of commit sha lives in the experiments bucket.
func Prefix(sha string) string { return "frameplayer/" + sha + "/" }

// AssetPath is the URL path the build's assets are served from: the PREPEND_FINGERPRINT value
// the build must be made with.
func AssetPath(sha string) string { return "/" + Prefix(sha) }

// IndexObject is the object name of the build's index.html.
func IndexObject(sha string) string { return Prefix(sha) + "index.html" }

// Settings is what the deployment writes into every served index.html.
type Settings struct {
	// Recording is the runner's awsRecording block: the browser uploads session video straight to
	// this bucket with this key (public in the page by design, as in Lookit: the key may only put
	// objects into the recording bucket).
	Recording Recording
	// SentryDSN reports the runner's errors to Sentry; empty disables Sentry.
	SentryDSN string
}

// Recording is the runner's S3 upload configuration.
type Recording struct {
	Region          string `json:"region"`
	Bucket          string `json:"bucket"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// ErrNoConfig reports an index.html without the runner's configuration meta tag.
var ErrNoConfig = errors.New("runner: index.html has no " + ConfigMetaName + " meta tag")

// Configure returns index with the configuration meta tag rewritten for s. Everything else in the
// page is kept byte for byte. APP.host and APP.apiKey, which only development builds set, are
// removed: the runner must talk to the API on the page's own origin with the family's session,
// and an API key in a public page would be a leaked credential.
func Configure(index []byte, s Settings) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(index) + 512)
	found := false
	z := html.NewTokenizer(bytes.NewReader(index))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				return nil, fmt.Errorf("runner: reading index.html: %w", z.Err())
			}
			break
		}
		raw := z.Raw()
		if found || (tt != html.StartTagToken && tt != html.SelfClosingTagToken) {
			out.Write(raw)
			continue
		}
		content, ok := configContent(z)
		if !ok {
			out.Write(raw)
			continue
		}
		cfg, err := rewrite(content, s)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&out, `<meta name="%s" content="%s" />`, ConfigMetaName, encodeURIComponent(cfg))
		found = true
	}
	if !found {
		return nil, ErrNoConfig
	}
	return out.Bytes(), nil
}

// configContent returns the content attribute of the current token if it is the configuration
// meta tag.
func configContent(z *html.Tokenizer) (string, bool) {
	name, hasAttr := z.TagName()
	if atom.Lookup(name) != atom.Meta {
		return "", false
	}
	var isConfig bool
	var content string
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		switch string(k) {
		case "name":
			isConfig = string(v) == ConfigMetaName
		case "content":
			content = string(v)
		}
	}
	return content, isConfig
}

// Config reads the configuration from index.html.
func Config(index []byte) (map[string]json.RawMessage, error) {
	z := html.NewTokenizer(bytes.NewReader(index))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return nil, ErrNoConfig
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		if content, ok := configContent(z); ok {
			return decodeConfig(content)
		}
	}
}

func decodeConfig(content string) (map[string]json.RawMessage, error) {
	// The runner reads it with decodeURIComponent, which leaves '+' alone: so does PathUnescape.
	js, err := url.PathUnescape(content)
	if err != nil {
		return nil, fmt.Errorf("runner: the configuration meta tag is not URL-encoded: %w", err)
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &cfg); err != nil || cfg == nil {
		return nil, fmt.Errorf("runner: the configuration meta tag does not hold a JSON object")
	}
	return cfg, nil
}

func rewrite(content string, s Settings) ([]byte, error) {
	cfg, err := decodeConfig(content)
	if err != nil {
		return nil, err
	}
	rec, err := json.Marshal(s.Recording)
	if err != nil {
		return nil, err
	}
	cfg["awsRecording"] = rec
	sentry := map[string]json.RawMessage{}
	if raw, ok := cfg["sentry"]; ok {
		_ = json.Unmarshal(raw, &sentry) // a malformed block is replaced
	}
	sentry["dsn"], _ = json.Marshal(s.SentryDSN)
	// The runner disables Sentry when development is true, which its build sets for an empty DSN.
	sentry["development"], _ = json.Marshal(s.SentryDSN == "")
	if cfg["sentry"], err = json.Marshal(sentry); err != nil {
		return nil, err
	}
	if raw, ok := cfg["APP"]; ok {
		app := map[string]json.RawMessage{}
		if json.Unmarshal(raw, &app) == nil {
			delete(app, "host")
			delete(app, "apiKey")
			if cfg["APP"], err = json.Marshal(app); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(cfg)
}

// encodeURIComponent escapes as JavaScript's function of that name does, so that the runner's
// decodeURIComponent reads back exactly the JSON written; the result needs no HTML escaping inside
// a double-quoted attribute.
func encodeURIComponent(b []byte) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '!', c == '~', c == '*', c == '\'', c == '(', c == ')':
			sb.WriteByte(c)
		default:
			sb.WriteByte('%')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
		}
	}
	return sb.String()
}

// CheckBuild reports why index, the index.html of a build registered for commit sha, cannot be
// served: no configuration, or assets not loaded from AssetPath(sha).
func CheckBuild(index []byte, sha string) error {
	if !ValidSHA(sha) {
		return fmt.Errorf("runner: %q is not a full lower-case commit SHA", sha)
	}
	if _, err := Config(index); err != nil {
		return err
	}
	if !bytes.Contains(index, []byte(AssetPath(sha)+"assets/")) {
		return fmt.Errorf("runner: index.html does not load its assets from %sassets/: build it with PREPEND_FINGERPRINT=%s",
			AssetPath(sha), AssetPath(sha))
	}
	return nil
}
