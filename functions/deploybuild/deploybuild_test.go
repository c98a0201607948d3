package deploybuild_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/mailsink"
	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/s3/s3test"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// generatedMain is what the buildpack writes: import the user's root package for its init()
// registrations, then start the framework, which serves FUNCTION_TARGET at "/".
const generatedMain = `package main

import (
	"log"
	"os"

	_ "lookit.dev/platform"
	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.StartHostPort("127.0.0.1", port); err != nil {
		log.Fatalf("funcframework.Start: %v", err)
	}
}
`

func buildDeployBinary(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := fmt.Sprintf("module functions.local/app\n\ngo 1.26.0\n\nrequire lookit.dev/platform v0.0.0\n\nreplace lookit.dev/platform => %s\n", root)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(generatedMain)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "app")
	cmd := exec.Command("go", "build", "-mod=mod", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOSUMDB=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the generated main failed: %v\n%s", err, out)
	}
	return bin
}

type function struct {
	port   string
	cmd    *exec.Cmd
	output *bytes.Buffer
	exited chan error
}

func start(t *testing.T, bin, target string, env map[string]string) *function {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	f := &function{port: port, output: &bytes.Buffer{}, exited: make(chan error, 1)}
	f.cmd = exec.Command(bin)
	f.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "FUNCTION_TARGET=" + target, "PORT=" + port}
	for k, v := range env {
		f.cmd.Env = append(f.cmd.Env, k+"="+v)
	}
	f.cmd.Stdout, f.cmd.Stderr = f.output, f.output
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { f.exited <- f.cmd.Wait() }()
	t.Cleanup(func() {
		_ = f.cmd.Process.Kill()
		<-f.exited
		if t.Failed() {
			t.Logf("%s output:\n%s", target, f.output)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within 20s", target)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *function) url(path string) string { return "http://127.0.0.1:" + f.port + path }

// cloudEvent posts a Pub/Sub message to a CloudEvent function in binary mode, as Eventarc does.
func (f *function) cloudEvent(t *testing.T, topic, id string, data []byte) *http.Response {
	t.Helper()
	body, _ := json.Marshal(events.MessagePublishedData{
		Message:      events.PubsubMessage{Data: data, MessageID: id, PublishTime: time.Now().UTC()},
		Subscription: "projects/p/subscriptions/eventarc-test",
	})
	req, _ := http.NewRequest(http.MethodPost, f.url("/"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-type", events.CloudEventType)
	req.Header.Set("ce-source", "//pubsub.googleapis.com/projects/p/topics/"+topic)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestEveryEntryPointServesThroughTheDeployBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the deploy binary")
	}
	pool := pgtest.Pool(t)
	bin := buildDeployBinary(t)
	sink := &mailsink.Sink{}
	mailSrv := httptest.NewServer(sink.SendHandler())
	defer mailSrv.Close()
	fakeS3 := s3test.New(t, "pipe")
	env := map[string]string{
		"ENVIRONMENT":           "local",
		"DATABASE_URL":          pgtest.URL(t),
		"GOOGLE_CLOUD_PROJECT":  "p",
		"SENDGRID_API_KEY":      "SG.test",
		"SENDGRID_HOST":         mailSrv.URL,
		"PIPE_WEBHOOK_KEY":      "pipe-key",
		"BASE_URL":              "https://lookit.example.org",
		"S3_ENDPOINT":           fakeS3.URL,
		"S3_PIPE_BUCKET":        "pipe",
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
	}
	ctx := context.Background()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}

	t.Run("API", func(t *testing.T) {
		f := start(t, bin, "API", env)
		resp, err := http.Get(f.url("/healthz"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok"`) {
			t.Fatalf("GET /healthz = %d %s", resp.StatusCode, b)
		}
		// The function sees the full path: its own router answers unknown routes with JSON.
		resp, err = http.Get(f.url("/api/v1/no-such-thing/"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(b), `"code":"not_found"`) {
			t.Fatalf("GET unknown route = %d %s", resp.StatusCode, b)
		}
	})

	t.Run("PipeWebhook", func(t *testing.T) {
		f := start(t, bin, "PipeWebhook", env)
		// The recording names a response of a study, and Pipe has put it in its bucket.
		if _, err := pool.Exec(ctx, `
			WITH l AS (INSERT INTO labs (name) VALUES ('Deploy Lab') RETURNING id),
			     s AS (INSERT INTO studies (uuid, name, lab_id, study_type_id, max_age_years)
			           SELECT '11111111-1111-4111-8111-111111111111', 'Deploy study', l.id, 1, 9 FROM l RETURNING id),
			     u AS (INSERT INTO users (email) VALUES ('deploy@example.org') RETURNING id),
			     c AS (INSERT INTO children (user_id, given_name, birthday, gender) SELECT u.id, 'K', current_date - 300, 'f' FROM u RETURNING id)
			INSERT INTO responses (uuid, study_id, child_id, study_type_id)
			SELECT '6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3', s.id, c.id, 1 FROM s, c`); err != nil {
			t.Fatal(err)
		}
		bucket := fakeS3.Bucket("pipe")
		if err := bucket.Put(ctx, "vs1457013120534_862.mp4", strings.NewReader("video"), "video/mp4"); err != nil {
			t.Fatal(err)
		}
		payload := `{"version":"1.0","event":"video_copied_s3","data":{"s3UploadStatus":"upload success","videoName":"vs1457013120534_862","type":"MP4","size":493534,"id":"123","payload":"videoStream_11111111-1111-4111-8111-111111111111_1-video-consent_6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3_1700000000000_123"}}`
		form := url.Values{"payload": {payload}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, f.url("/exp/renamevideo/"), strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Pipe-Signature", pipe.Sign("pipe-key", "https://lookit.example.org/exp/renamevideo/", payload))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed webhook = %d %s, want 200", resp.StatusCode, b)
		}
		if n := count(`SELECT count(*) FROM videos WHERE full_name = 'videoStream_11111111-1111-4111-8111-111111111111_1-video-consent_6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3_1700000000000_123.mp4'`); n != 1 {
			t.Fatalf("%d filed videos, want 1", n)
		}
		if ok, err := bucket.Exists(ctx, "vs1457013120534_862.mp4"); err != nil || ok {
			t.Fatalf("Pipe's original still in the bucket (%v, %v)", ok, err)
		}
	})

	t.Run("SendEmail", func(t *testing.T) {
		f := start(t, bin, events.FunctionSendEmail, env)
		data := []byte(`{"id":"3e0f3c43-8a2b-4d7e-9a61-0c7c2d9b5f10","kind":"test","to":["family@example.org"],"subject":"Hi","text":"Hello"}`)
		if resp := f.cloudEvent(t, events.TopicEmail, "e-1", data); resp.StatusCode != 200 {
			t.Fatalf("SendEmail = %d", resp.StatusCode)
		}
		if n := count(`SELECT count(*) FROM email_messages WHERE id = '3e0f3c43-8a2b-4d7e-9a61-0c7c2d9b5f10' AND status = 'sent'`); n != 1 || len(sink.Messages()) != 1 {
			t.Fatalf("sent rows %d, sink messages %d; want 1 and 1", n, len(sink.Messages()))
		}
	})

	t.Run("RunJob", func(t *testing.T) {
		f := start(t, bin, events.FunctionRunJob, env)
		if resp := f.cloudEvent(t, events.TopicJobs, "job-1", []byte(`{"job":"prune-event-receipts"}`)); resp.StatusCode != 200 {
			t.Fatalf("RunJob = %d", resp.StatusCode)
		}
		if n := count(`SELECT count(*) FROM job_runs WHERE message_id = 'job-1' AND finished_at IS NOT NULL`); n != 1 {
			t.Fatalf("%d finished job runs, want 1", n)
		}
	})

	t.Run("StartBuild", func(t *testing.T) {
		f := start(t, bin, events.FunctionStartBuild, env)
		// A request that can never be valid is acknowledged and kept, without reaching Cloud Build.
		if resp := f.cloudEvent(t, events.TopicBuilds, "build-1", []byte(`{"request_id":"not-a-uuid","subject":"study:x"}`)); resp.StatusCode != 200 {
			t.Fatalf("StartBuild = %d", resp.StatusCode)
		}
		if n := count(`SELECT count(*) FROM rejected_events WHERE handler = 'StartBuild' AND message_id = 'build-1'`); n != 1 {
			t.Fatalf("%d rejected build requests kept, want 1", n)
		}
	})

	t.Run("BuildStatus", func(t *testing.T) {
		f := start(t, bin, events.FunctionBuildStatus, env)
		if _, err := pool.Exec(ctx, `INSERT INTO builds (request_id, subject, build_id, status) VALUES (gen_random_uuid(), 'study:x', 'cb-1', 'QUEUED')`); err != nil {
			t.Fatal(err)
		}
		if resp := f.cloudEvent(t, events.TopicCloudBuilds, "status-1", []byte(`{"id":"cb-1","status":"SUCCESS","finishTime":"2026-11-23T10:00:00Z","someNewField":1}`)); resp.StatusCode != 200 {
			t.Fatalf("BuildStatus = %d", resp.StatusCode)
		}
		if n := count(`SELECT count(*) FROM builds WHERE build_id = 'cb-1' AND status = 'SUCCESS' AND finished_at IS NOT NULL`); n != 1 {
			t.Fatal("build status not recorded")
		}
	})

	t.Run("RunExport", func(t *testing.T) {
		f := start(t, bin, events.FunctionRunExport, env)
		if resp := f.cloudEvent(t, events.TopicExports, "export-1", []byte(`{"export_id":"x","kind":"nothing-registered"}`)); resp.StatusCode != 200 {
			t.Fatalf("RunExport = %d", resp.StatusCode)
		}
		if n := count(`SELECT count(*) FROM rejected_events WHERE handler = 'RunExport' AND message_id = 'export-1'`); n != 1 {
			t.Fatalf("%d rejected export requests kept, want 1", n)
		}
	})

	t.Run("BadConfigurationStopsTheInstance", func(t *testing.T) {
		bad := map[string]string{"DB_MAX_CONNS": "lots"}
		for k, v := range env {
			if _, ok := bad[k]; !ok {
				bad[k] = v
			}
		}
		f := start(t, bin, "API", bad)
		_, _ = http.Get(f.url("/healthz"))
		select {
		case err := <-f.exited:
			f.exited <- err // for Cleanup
			if err == nil {
				t.Fatal("instance with a bad configuration exited with status 0")
			}
			if !strings.Contains(f.output.String(), "DB_MAX_CONNS") || !strings.Contains(f.output.String(), `"severity":"CRITICAL"`) {
				t.Fatalf("exit message does not name DB_MAX_CONNS as a CRITICAL log line:\n%s", f.output)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("instance with a bad configuration kept running")
		}
	})
}
