package runner_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/runner"
)

// testdata/index.html is shaped like the runner's production index.html, built with
// PREPEND_FINGERPRINT=/frameplayer/<sha>/, but with the development-only APP.host and APP.apiKey
// set, which serving must remove.
//
//go:embed testdata/index.html
var index []byte

const sha = "9e8b47f6d1c2a3b4c5d6e7f8091a2b3c4d5e6f70"

var settings = runner.Settings{
	Recording: runner.Recording{Region: "eu-west-2", Bucket: "lab-videos", AccessKeyID: "AKIAUPLOAD", SecretAccessKey: "s3cr&t\"<x>+ /%"},
	SentryDSN: "https://key@sentry.example.org/7",
}

func config(t *testing.T, page []byte) map[string]any {
	t.Helper()
	raw, err := runner.Config(page)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for k, v := range raw {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = x
	}
	return out
}

func TestConfigureWritesTheDeploymentsSettings(t *testing.T) {
	page, err := runner.Configure(index, settings)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(t, page)
	rec := cfg["awsRecording"].(map[string]any)
	want := map[string]any{"region": "eu-west-2", "bucket": "lab-videos", "accessKeyId": "AKIAUPLOAD", "secretAccessKey": "s3cr&t\"<x>+ /%"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("awsRecording.%s = %v, want %v", k, rec[k], v)
		}
	}
	sentry := cfg["sentry"].(map[string]any)
	if sentry["dsn"] != settings.SentryDSN || sentry["development"] != false {
		t.Errorf("sentry = %v: want the DSN, enabled", sentry)
	}
	if sentry["cdn"] == nil {
		t.Errorf("sentry lost the build's other keys: %v", sentry)
	}
	app := cfg["APP"].(map[string]any)
	if _, ok := app["host"]; ok {
		t.Errorf("APP.host kept: the runner would call another origin")
	}
	if _, ok := app["apiKey"]; ok {
		t.Errorf("APP.apiKey kept: a credential in a public page")
	}
	if app["version"] != "v3.2.0+9e8b47f6" || cfg["modulePrefix"] != "ember-lookit-frameplayer" || cfg["locationType"] != "auto" {
		t.Errorf("other configuration changed: %v", cfg)
	}
	// The rest of the page is unchanged, byte for byte.
	before, after := strip(t, index), strip(t, page)
	if before != after {
		t.Errorf("page outside the meta tag changed:\n%s\n---\n%s", before, after)
	}
	// No raw quote or angle bracket can break out of the attribute.
	tag := page[bytes.Index(page, []byte(`<meta name="`+runner.ConfigMetaName)):]
	tag = tag[:bytes.IndexByte(tag, '>')+1]
	if bytes.ContainsAny(tag[len(`<meta name="`+runner.ConfigMetaName+`" content="`):len(tag)-4], "\"<>&+ ") {
		t.Errorf("meta content not fully escaped: %s", tag)
	}
}

// strip removes the configuration tag's content.
func strip(t *testing.T, page []byte) string {
	t.Helper()
	s := string(page)
	i := strings.Index(s, `content="%7B`)
	j := strings.Index(s[i+9:], `"`)
	if i < 0 || j < 0 {
		t.Fatalf("no configuration in %s", s)
	}
	return s[:i] + s[i+9+j:]
}

func TestConfigureWithoutSentry(t *testing.T) {
	page, err := runner.Configure(index, runner.Settings{Recording: settings.Recording})
	if err != nil {
		t.Fatal(err)
	}
	sentry := config(t, page)["sentry"].(map[string]any)
	if sentry["dsn"] != "" || sentry["development"] != true {
		t.Errorf("sentry = %v: want disabled", sentry)
	}
}

func TestConfigureRefusesPagesItCannotConfigure(t *testing.T) {
	for name, page := range map[string]string{
		"no tag":        `<html><head><meta name="other" content="x"></head></html>`,
		"not encoded":   `<meta name="` + runner.ConfigMetaName + `" content="%zz">`,
		"not an object": `<meta name="` + runner.ConfigMetaName + `" content="%5B1%5D">`,
		"not JSON":      `<meta name="` + runner.ConfigMetaName + `" content="%7Bnope">`,
		"empty":         ``,
	} {
		if _, err := runner.Configure([]byte(page), settings); err == nil {
			t.Errorf("%s: configured", name)
		}
	}
}

func TestCheckBuild(t *testing.T) {
	if err := runner.CheckBuild(index, sha); err != nil {
		t.Errorf("a build made with the right prefix: %v", err)
	}
	other := strings.Repeat("a", 40)
	if err := runner.CheckBuild(index, other); err == nil || !strings.Contains(err.Error(), "PREPEND_FINGERPRINT=/frameplayer/"+other+"/") {
		t.Errorf("a build made for another commit: %v; want the PREPEND_FINGERPRINT to use", err)
	}
	if err := runner.CheckBuild(index, "9e8b47f"); err == nil {
		t.Errorf("an abbreviated SHA was accepted")
	}
	plain := bytes.ReplaceAll(index, []byte("/frameplayer/"+sha+"/assets/"), []byte("/assets/"))
	if err := runner.CheckBuild(plain, sha); err == nil {
		t.Errorf("a build without the asset prefix was accepted")
	}
}

// memStore is an in-memory objects.Store for the asset handler and Upload.
type memStore struct {
	mu    sync.Mutex
	files map[string][]byte
	types map[string]string
	order []string
}

func (m *memStore) Put(_ context.Context, key string, r io.Reader, ct string) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files, m.types = map[string][]byte{}, map[string]string{}
	}
	m.files[key], m.types[key] = b, ct
	m.order = append(m.order, key)
	return nil
}

func (m *memStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[key]
	if !ok {
		return nil, objects.ErrNotExist
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memStore) Delete(context.Context, string) error { return nil }

func (m *memStore) SignedURL(context.Context, string, string, time.Duration) (string, error) {
	return "", nil
}

func dist() fstest.MapFS {
	return fstest.MapFS{
		"index.html":                                            {Data: index},
		"assets/vendor-0123456789abcdef.js":                     {Data: []byte("var vendor;")},
		"assets/vendor-0123456789abcdef.css":                    {Data: []byte("body{}")},
		"assets/mic-check-processor-00112233.js":                {Data: []byte("registerProcessor();")},
		"assets/fonts/glyphicons-halflings-regular-abcdef.woff": {Data: []byte("wOFF")},
		"crossdomain.xml":                                       {Data: []byte("<cross-domain-policy/>")},
	}
}

func TestUploadPutsIndexLast(t *testing.T) {
	store := &memStore{}
	n, err := runner.Upload(context.Background(), store, dist(), sha)
	if err != nil || n != 6 {
		t.Fatalf("Upload = %d, %v", n, err)
	}
	if last := store.order[len(store.order)-1]; last != runner.IndexObject(sha) {
		t.Errorf("last object stored %s: a reader could find index.html before its assets", last)
	}
	if ct := store.types["frameplayer/"+sha+"/assets/vendor-0123456789abcdef.js"]; !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("script stored as %q", ct)
	}
	if _, err := runner.Upload(context.Background(), &memStore{}, dist(), strings.Repeat("b", 40)); err == nil {
		t.Errorf("a build for another commit was uploaded")
	}
	noIndex := dist()
	delete(noIndex, "index.html")
	if _, err := runner.Upload(context.Background(), &memStore{}, noIndex, sha); err == nil {
		t.Errorf("a folder without index.html was uploaded")
	}
}

func TestAssets(t *testing.T) {
	store := &memStore{}
	if _, err := runner.Upload(context.Background(), store, dist(), sha); err != nil {
		t.Fatal(err)
	}
	h := runner.Assets(func(context.Context) (objects.Store, error) { return store, nil }, slog.New(slog.DiscardHandler))
	for _, c := range []struct {
		method, path string
		status       int
		body, ctype  string
	}{
		{"GET", "/frameplayer/" + sha + "/assets/vendor-0123456789abcdef.js", 200, "var vendor;", "text/javascript; charset=utf-8"},
		{"GET", "/frameplayer/" + sha + "/assets/vendor-0123456789abcdef.css", 200, "body{}", "text/css; charset=utf-8"},
		{"HEAD", "/frameplayer/" + sha + "/assets/vendor-0123456789abcdef.js", 200, "", "text/javascript; charset=utf-8"},
		{"GET", "/frameplayer/" + sha + "/index.html", 404, "", ""},                     // only configured, through the study pages
		{"GET", "/frameplayer/" + sha + "/assets/missing.js", 404, "", ""},              // not in the build
		{"GET", "/frameplayer/" + sha + "/../" + sha + "/crossdomain.xml", 404, "", ""}, // no climbing
		{"GET", "/frameplayer/" + sha[:7] + "/assets/vendor-0123456789abcdef.js", 404, "", ""},
		{"GET", "/frameplayer/" + sha + "/", 404, "", ""},
		{"POST", "/frameplayer/" + sha + "/assets/vendor-0123456789abcdef.js", 405, "", ""},
	} {
		req := httptest.NewRequest(c.method, "/", nil)
		req.URL = &url.URL{Path: c.path} // unclean paths as a client could send them
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		if rec.Body.String() != c.body || rec.Header().Get("Content-Type") != c.ctype {
			t.Errorf("%s %s: %q as %q", c.method, c.path, rec.Body.String(), rec.Header().Get("Content-Type"))
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", c.path, cc)
		}
	}
	down := runner.Assets(func(context.Context) (objects.Store, error) { return nil, io.ErrUnexpectedEOF }, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	down.ServeHTTP(rec, httptest.NewRequest("GET", "/frameplayer/"+sha+"/assets/vendor-0123456789abcdef.js", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("storage down: %d", rec.Code)
	}
}

// FuzzConfigure: whatever index.html a build holds, Configure returns an error or a page whose
// configuration reads back with the deployment's settings; it never panics.
func FuzzConfigure(f *testing.F) {
	f.Add(index)
	f.Add([]byte(`<meta name="` + runner.ConfigMetaName + `" content="%7B%7D">`))
	f.Add([]byte(`<meta content="%7B%22APP%22%3A1%7D" name="` + runner.ConfigMetaName + `"/>`))
	f.Add([]byte(`<meta name="` + runner.ConfigMetaName + `" content="%7B%22sentry%22%3A%5B%5D%7D"><meta name="` + runner.ConfigMetaName + `" content="x">`))
	f.Fuzz(func(t *testing.T, page []byte) {
		out, err := runner.Configure(page, settings)
		if err != nil {
			return
		}
		raw, err := runner.Config(out)
		if err != nil {
			t.Fatalf("configured page unreadable: %v\n%q", err, out)
		}
		var rec runner.Recording
		if err := json.Unmarshal(raw["awsRecording"], &rec); err != nil || rec != settings.Recording {
			t.Fatalf("awsRecording = %s", raw["awsRecording"])
		}
	})
}
