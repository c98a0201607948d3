package cloudbuild

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"cloud.google.com/go/cloudbuild/apiv1/v2/cloudbuildpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/events"
)

// Local is the builder behind make run. It takes builds like Cloud Build and reports their status
// on the cloud-builds topic in Cloud Build's message format, so the whole status path runs
// locally. A runner build ("frameplayer:<sha>") runs the builder script (infra/builder/build.sh)
// on this machine when the tools it needs are installed, and uploads the result with Upload;
// otherwise the build fails at once with a detail naming what is missing.
type Local struct {
	Publisher events.Publisher
	Script    string                                           // path of build.sh; "" fails every build
	Upload    func(ctx context.Context, dir, sha string) error // the finished dist/ to the experiments bucket
	LookPath  func(file string) (string, error)                // exec.LookPath; tests replace it
	Timeout   time.Duration                                    // 20 minutes when 0, as Cloud Build's
}

var _ builds.Builder = (*Local)(nil)

// localTools are what build.sh needs.
var localTools = []string{"bash", "curl", "tar", "node", "npm"}

// Start publishes QUEUED, then either the failure at once or, after the script, the outcome.
func (l *Local) Start(ctx context.Context, r builds.Request) (builds.Started, error) {
	id := newUUID()
	if err := l.publish(ctx, r, &cloudbuildpb.Build{Id: id, Status: cloudbuildpb.Build_QUEUED}); err != nil {
		return builds.Started{}, err
	}
	if problem := l.cannotBuild(r); problem != "" {
		if err := l.publish(ctx, r, &cloudbuildpb.Build{Id: id, Status: cloudbuildpb.Build_FAILURE,
			StatusDetail: problem, FinishTime: timestamppb.Now()}); err != nil {
			return builds.Started{}, err
		}
		return builds.Started{ID: id}, nil
	}
	// The build outlives the message that asked for it, as a Cloud Build build does.
	go l.run(context.WithoutCancel(ctx), id, r)
	return builds.Started{ID: id}, nil
}

// cannotBuild says why this machine cannot run r, or "".
func (l *Local) cannotBuild(r builds.Request) string {
	if !strings.HasPrefix(r.Subject, "frameplayer:") {
		return "the local builder builds experiment runners only"
	}
	if l.Script == "" || l.Upload == nil {
		return "the local builder has no build script"
	}
	look := l.LookPath
	if look == nil {
		look = exec.LookPath
	}
	var missing []string
	for _, tool := range localTools {
		if _, err := look(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return "the local builder needs " + strings.Join(missing, ", ") + " on PATH; install them, or set FRAMEPLAYER_DIST to a prebuilt runner"
	}
	return ""
}

func (l *Local) run(ctx context.Context, id string, r builds.Request) {
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	final := &cloudbuildpb.Build{Id: id, Status: cloudbuildpb.Build_SUCCESS}
	if detail := l.build(ctx, r); detail != "" {
		final.Status, final.StatusDetail = cloudbuildpb.Build_FAILURE, detail
		if ctx.Err() != nil {
			final.Status = cloudbuildpb.Build_TIMEOUT
		}
	}
	final.FinishTime = timestamppb.Now()
	// A lost final status leaves the build to the stale-builds job, as with Cloud Build.
	_ = l.publish(context.WithoutCancel(ctx), r, final)
}

// build runs the script into a temporary folder and uploads the result; "" on success, else why not.
func (l *Local) build(ctx context.Context, r builds.Request) string {
	out, err := os.MkdirTemp("", "lookit-runner-build-")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(out)
	cmd := exec.CommandContext(ctx, "bash", l.Script)
	cmd.Env = append(os.Environ(), "REPO_URL="+r.Env["REPO_URL"], "SHA="+r.Env["SHA"], "OUTPUT_DIR="+out, "BUCKET=")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("build.sh: %v: %s", err, lastLines(log.String(), 5))
	}
	if err := l.Upload(ctx, out, r.Env["SHA"]); err != nil {
		return "upload: " + err.Error()
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func (l *Local) publish(ctx context.Context, r builds.Request, b *cloudbuildpb.Build) error {
	b.Tags = []string{"lookit", "request-" + r.RequestID}
	data, err := EncodeStatus(b)
	if err != nil {
		return err
	}
	if _, err := l.Publisher.Publish(ctx, events.TopicCloudBuilds, data, map[string]string{"buildId": b.Id, "status": b.Status.String()}); err != nil {
		return fmt.Errorf("local builder: publish status: %w", err)
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
