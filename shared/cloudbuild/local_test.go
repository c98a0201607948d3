package cloudbuild_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/cloudbuild/apiv1/v2/cloudbuildpb"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/cloudbuild"
	"lookit.dev/platform/shared/events"
)

// recorder is an events.Publisher that keeps what is published, failing from call failAt on
// (1-based; 0 never fails).
type recorder struct {
	failAt int

	mu   sync.Mutex
	msgs []published
}

type published struct {
	topic string
	data  []byte
	attrs map[string]string
}

func (r *recorder) Publish(_ context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failAt > 0 && len(r.msgs)+1 >= r.failAt {
		return "", errors.New("pubsub unavailable")
	}
	r.msgs = append(r.msgs, published{topic, slices.Clone(data), attrs})
	return "m" + string(rune('0'+len(r.msgs))), nil
}

var uuidV4RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLocalStartPublishesQueuedThenFailure(t *testing.T) {
	p := &recorder{}
	l := &cloudbuild.Local{Publisher: p}
	r := request()
	started, err := l.Start(context.Background(), r)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !uuidV4RE.MatchString(started.ID) {
		t.Errorf("build id %q is not a lower-case v4 UUID", started.ID)
	}
	if len(p.msgs) != 2 {
		t.Fatalf("%d messages published, want 2", len(p.msgs))
	}
	want := []cloudbuildpb.Build_Status{cloudbuildpb.Build_QUEUED, cloudbuildpb.Build_FAILURE}
	for i, m := range p.msgs {
		if m.topic != events.TopicCloudBuilds || events.TopicCloudBuilds != "cloud-builds" {
			t.Errorf("message %d on topic %q, want cloud-builds", i, m.topic)
		}
		// Decoded exactly as the BuildStatus function decodes Cloud Build's own messages.
		b, err := cloudbuild.DecodeStatus(m.data)
		if err != nil {
			t.Fatalf("message %d: DecodeStatus(%s): %v", i, m.data, err)
		}
		if b.GetId() != started.ID || b.GetStatus() != want[i] {
			t.Errorf("message %d = id %q status %v, want id %q status %v", i, b.GetId(), b.GetStatus(), started.ID, want[i])
		}
		if !slices.Contains(b.GetTags(), "request-"+r.RequestID) {
			t.Errorf("message %d tags = %q, want request-%s", i, b.GetTags(), r.RequestID)
		}
		if m.attrs["buildId"] != started.ID || m.attrs["status"] != want[i].String() || len(m.attrs) != 2 {
			t.Errorf("message %d attributes = %v, want buildId %s and status %s", i, m.attrs, started.ID, want[i])
		}
		if want[i] == cloudbuildpb.Build_FAILURE {
			if b.GetStatusDetail() == "" || b.GetFinishTime() == nil {
				t.Errorf("final status lacks a detail or finish time: %v", b)
			}
		} else if b.GetFinishTime() != nil {
			t.Errorf("QUEUED status has a finish time: %v", b)
		}
	}
	// The final status is terminal in the order that keeps redelivered statuses harmless.
	if !builds.Terminal(want[1].String()) {
		t.Errorf("%v is not terminal", want[1])
	}
}

func TestLocalStartNewIDEachBuild(t *testing.T) {
	p := &recorder{}
	l := &cloudbuild.Local{Publisher: p}
	a, err := l.Start(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Start(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Fatalf("two builds share the id %s", a.ID)
	}
}

func TestLocalStartPublishFailure(t *testing.T) {
	for _, failAt := range []int{1, 2} {
		p := &recorder{failAt: failAt}
		l := &cloudbuild.Local{Publisher: p}
		got, err := l.Start(context.Background(), request())
		if err == nil {
			t.Fatalf("failAt %d: Start = %+v, want an error", failAt, got)
		}
		if got != (builds.Started{}) {
			t.Errorf("failAt %d: Start returned %+v with the error", failAt, got)
		}
		if len(p.msgs) != failAt-1 {
			t.Errorf("failAt %d: %d messages published, want %d", failAt, len(p.msgs), failAt-1)
		}
	}
}

// runnerRequest is a runner build as the API stores it.
func runnerRequest() builds.Request {
	return builds.Request{RequestID: "6d1f3a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", Subject: "frameplayer:" + strings.Repeat("a", 40),
		Env: map[string]string{"REPO_URL": "https://github.com/lookit/ember-lookit-frameplayer", "SHA": strings.Repeat("a", 40), "BUCKET": "b"}}
}

// final waits for the build's terminal status.
func (r *recorder) final(t *testing.T) *cloudbuildpb.Build {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, m := range r.msgs {
			b, err := cloudbuild.DecodeStatus(m.data)
			if err == nil && builds.Terminal(b.GetStatus().String()) {
				r.mu.Unlock()
				return b
			}
		}
		r.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no final status within 10 s")
	return nil
}

func TestLocalNamesMissingTools(t *testing.T) {
	p := &recorder{}
	l := &cloudbuild.Local{Publisher: p, Script: "build.sh", Upload: func(context.Context, string, string) error { return nil },
		LookPath: func(f string) (string, error) {
			if f == "node" || f == "npm" {
				return "", errors.New("not found")
			}
			return "/usr/bin/" + f, nil
		}}
	if _, err := l.Start(context.Background(), runnerRequest()); err != nil {
		t.Fatal(err)
	}
	b := p.final(t)
	if b.GetStatus() != cloudbuildpb.Build_FAILURE || !strings.Contains(b.GetStatusDetail(), "node, npm") {
		t.Errorf("final status %v %q, want FAILURE naming node and npm", b.GetStatus(), b.GetStatusDetail())
	}
}

func TestLocalRunsTheScriptAndUploads(t *testing.T) {
	script := filepath.Join(t.TempDir(), "build.sh")
	// A stand-in for build.sh: it checks its inputs and leaves an index.html.
	if err := os.WriteFile(script, []byte(`set -e; [ "$SHA" = "`+strings.Repeat("a", 40)+`" ]; echo "<html>$REPO_URL</html>" > "$OUTPUT_DIR/index.html"`), 0o755); err != nil {
		t.Fatal(err)
	}
	var uploaded string
	var mu sync.Mutex
	p := &recorder{}
	l := &cloudbuild.Local{Publisher: p, Script: script, LookPath: func(f string) (string, error) { return "/usr/bin/" + f, nil },
		Upload: func(_ context.Context, dir, sha string) error {
			b, err := os.ReadFile(filepath.Join(dir, "index.html"))
			mu.Lock()
			uploaded = sha + " " + strings.TrimSpace(string(b))
			mu.Unlock()
			return err
		}}
	if _, err := l.Start(context.Background(), runnerRequest()); err != nil {
		t.Fatal(err)
	}
	if b := p.final(t); b.GetStatus() != cloudbuildpb.Build_SUCCESS {
		t.Fatalf("final status %v %q, want SUCCESS", b.GetStatus(), b.GetStatusDetail())
	}
	mu.Lock()
	defer mu.Unlock()
	if uploaded != strings.Repeat("a", 40)+" <html>https://github.com/lookit/ember-lookit-frameplayer</html>" {
		t.Errorf("uploaded %q", uploaded)
	}
}

func TestLocalReportsAFailingScript(t *testing.T) {
	script := filepath.Join(t.TempDir(), "build.sh")
	if err := os.WriteFile(script, []byte("echo fetching; echo 'build.sh: could not fetch the archive' >&2; exit 1"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &recorder{}
	l := &cloudbuild.Local{Publisher: p, Script: script, LookPath: func(f string) (string, error) { return "/usr/bin/" + f, nil },
		Upload: func(context.Context, string, string) error { t.Error("uploaded a failed build"); return nil }}
	if _, err := l.Start(context.Background(), runnerRequest()); err != nil {
		t.Fatal(err)
	}
	if b := p.final(t); b.GetStatus() != cloudbuildpb.Build_FAILURE || !strings.Contains(b.GetStatusDetail(), "could not fetch the archive") {
		t.Errorf("final status %v %q, want FAILURE with the script's message", b.GetStatus(), b.GetStatusDetail())
	}
}

// The real build script refuses bad input with a message naming it, before fetching anything.
func TestBuildScriptRefusesBadInput(t *testing.T) {
	for env, want := range map[string]string{
		"REPO_URL=https://github.com/lookit/ember-lookit-frameplayer SHA=master":                 "SHA must be a full 40-character commit",
		"REPO_URL=git@github.com:lookit/ember-lookit-frameplayer SHA=" + strings.Repeat("a", 40): "REPO_URL must be https://host/owner/repo",
	} {
		cmd := exec.Command("bash", "../../infra/builder/build.sh")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, strings.Fields(env)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: %v %s; want a failure saying %q", env, err, out, want)
		}
	}
}
