package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/s3/s3test"
	"lookit.dev/platform/shared/videos"
	"lookit.dev/platform/shared/web"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func newInstance(t testing.TB, db instance.Provider[*pgxpool.Pool]) *instance.Instance {
	cfg, err := config.Load(func(k string) string { return map[string]string{"ENVIRONMENT": "local"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	// GitHub, for study builds: every branch is at one commit.
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "0123456789abcdef0123456789abcdef01234567")
	}))
	t.Cleanup(gh.Close)
	cfg.GitHubAPIURL = gh.URL
	in := instance.New(cfg, "test")
	in.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	in.DB = db
	in.Videos = instance.Value(fakeVideoBuckets(t))
	return in
}

// fakeVideoBuckets are the three video buckets in an in-process S3 fake.
func fakeVideoBuckets(t testing.TB) videos.Buckets {
	t.Helper()
	f := s3test.New(t, "pipe", "recorder", "jspsych")
	return videos.Buckets{Pipe: f.Bucket("pipe"), Recorder: f.Bucket("recorder"), JSPsych: f.Bucket("jspsych")}
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, web.ErrorBody) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body web.ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Result(), body
}

func TestHealthFollowsTheDatabase(t *testing.T) {
	up := httpapi.New(newInstance(t, instance.Value(pgtest.Pool(t))))
	if resp, _ := get(t, up, "/healthz"); resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("healthy: %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}

	// A pool whose server is gone: the same check must say 503, not 200 and not 500.
	cfg, _ := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	gone, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	down := httpapi.New(newInstance(t, instance.Value(gone)))
	resp, body := get(t, down, "/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable || len(body.Errors) != 1 || body.Errors[0].Code != "unavailable" {
		t.Fatalf("database down: %d %+v", resp.StatusCode, body)
	}
}

func TestUnknownRoutesAreJSONNotFound(t *testing.T) {
	h := httpapi.New(newInstance(t, instance.Value(pgtest.Pool(t))))
	for _, path := range []string{"/", "/api/v1/nothing/", "/exp/studies/1/"} {
		resp, body := get(t, h, path)
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" || len(body.Errors) != 1 || body.Errors[0].Code != "not_found" {
			t.Fatalf("GET %s: %d %s %+v", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestTheAppAPIServesItsContract(t *testing.T) {
	h := httpapi.New(newInstance(t, instance.Value(pgtest.Pool(t))))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/openapi.json", nil))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); rec.Code != 200 || err != nil {
		t.Fatalf("%d %v", rec.Code, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/api/auth/login"]["post"] == nil || doc.Paths["/api/labs"]["post"] == nil {
		t.Errorf("document: openapi %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
}
