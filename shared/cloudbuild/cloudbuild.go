// Package cloudbuild starts study runner builds on Google Cloud Build and reads the build status
// messages Cloud Build publishes on the cloud-builds topic.
package cloudbuild

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	cb "cloud.google.com/go/cloudbuild/apiv1/v2"
	"cloud.google.com/go/cloudbuild/apiv1/v2/cloudbuildpb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	"lookit.dev/platform/shared/builds"
)

// Builder is a builds.Builder on Cloud Build running one step: the builder image.
type Builder struct {
	Client         *cb.Client
	Project        string
	Region         string // "global" or a region, for regional builds and private pools
	Image          string
	ServiceAccount string // projects/P/serviceAccounts/EMAIL; requires CLOUD_LOGGING_ONLY
	Timeout        time.Duration
}

var _ builds.Builder = (*Builder)(nil)

// BuildRequest returns the CreateBuild request for r; split out so tests can check it.
func (b *Builder) BuildRequest(r builds.Request) *cloudbuildpb.CreateBuildRequest {
	env := make([]string, 0, len(r.Env))
	for k, v := range r.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	timeout := b.Timeout
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	req := &cloudbuildpb.CreateBuildRequest{
		ProjectId: b.Project,
		Build: &cloudbuildpb.Build{
			Steps:   []*cloudbuildpb.BuildStep{{Name: b.Image, Args: r.Args, Env: env}},
			Timeout: durationpb.New(timeout),
			// The subject tag finds the builds of one runner commit (or study) in Cloud Build.
			Tags:           []string{"lookit", "request-" + r.RequestID, strings.ReplaceAll(r.Subject, ":", "-")},
			Substitutions:  map[string]string{"_REQUEST_ID": r.RequestID, "_SUBJECT": r.Subject},
			Options:        &cloudbuildpb.BuildOptions{Logging: cloudbuildpb.BuildOptions_CLOUD_LOGGING_ONLY},
			ServiceAccount: b.ServiceAccount,
		},
	}
	if b.Region != "" && b.Region != "global" {
		req.Parent = fmt.Sprintf("projects/%s/locations/%s", b.Project, b.Region)
	}
	return req
}

// Start creates the build and returns without waiting: the function stores the id and the
// status arrives later on the cloud-builds topic.
func (b *Builder) Start(ctx context.Context, r builds.Request) (builds.Started, error) {
	op, err := b.Client.CreateBuild(ctx, b.BuildRequest(r))
	if err != nil {
		return builds.Started{}, fmt.Errorf("cloudbuild: create build: %w", err)
	}
	md, err := op.Metadata()
	if err != nil || md.GetBuild() == nil {
		return builds.Started{}, fmt.Errorf("cloudbuild: create build: no build in operation metadata: %v", err)
	}
	return builds.Started{ID: md.GetBuild().GetId(), LogURL: md.GetBuild().GetLogUrl()}, nil
}

// DecodeStatus reads a cloud-builds message (the Build resource as JSON). Unknown fields are
// ignored so new Cloud Build fields never break decoding.
func DecodeStatus(data []byte) (*cloudbuildpb.Build, error) {
	var b cloudbuildpb.Build
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("cloudbuild: decode build status: %w", err)
	}
	if b.GetId() == "" {
		return nil, fmt.Errorf("cloudbuild: build status without id")
	}
	return &b, nil
}

// EncodeStatus writes b the way Cloud Build publishes it; the local builder uses it.
func EncodeStatus(b *cloudbuildpb.Build) ([]byte, error) {
	return protojson.Marshal(b)
}
