package cloudbuild_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cb "cloud.google.com/go/cloudbuild/apiv1/v2"
	"cloud.google.com/go/cloudbuild/apiv1/v2/cloudbuildpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/cloudbuild"
)

func request() builds.Request {
	return builds.Request{
		RequestID: "6d1f3a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
		Subject:   "study:0f6b3c1e-8a2d-4c57-9e3b-2d1f0a9b7c66",
		Args:      []string{"build", "--study", "0f6b3c1e"},
		Env:       map[string]string{"ZETA": "last", "ALPHA": "first", "MIDDLE": "a=b"},
	}
}

func TestBuildRequest(t *testing.T) {
	b := &cloudbuild.Builder{
		Project:        "lookit-prod",
		Region:         "global",
		Image:          "us-docker.pkg.dev/lookit-prod/builders/runner:1",
		ServiceAccount: "projects/lookit-prod/serviceAccounts/builder@lookit-prod.iam.gserviceaccount.com",
	}
	r := request()
	req := b.BuildRequest(r)

	if req.GetProjectId() != "lookit-prod" {
		t.Errorf("project = %q", req.GetProjectId())
	}
	if req.GetParent() != "" {
		t.Errorf("parent = %q for a global build, want empty", req.GetParent())
	}
	build := req.GetBuild()
	if n := len(build.GetSteps()); n != 1 {
		t.Fatalf("%d steps, want 1", n)
	}
	step := build.GetSteps()[0]
	if step.GetName() != b.Image {
		t.Errorf("step image = %q, want %q", step.GetName(), b.Image)
	}
	if !slices.Equal(step.GetArgs(), r.Args) {
		t.Errorf("step args = %q, want %q", step.GetArgs(), r.Args)
	}
	if want := []string{"ALPHA=first", "MIDDLE=a=b", "ZETA=last"}; !slices.Equal(step.GetEnv(), want) {
		t.Errorf("step env = %q, want sorted %q", step.GetEnv(), want)
	}
	if !slices.Contains(build.GetTags(), "request-"+r.RequestID) || !slices.Contains(build.GetTags(), "lookit") ||
		!slices.Contains(build.GetTags(), "study-0f6b3c1e-8a2d-4c57-9e3b-2d1f0a9b7c66") {
		t.Errorf("tags = %q, want lookit, request-%s and the subject", build.GetTags(), r.RequestID)
	}
	if s := build.GetSubstitutions(); len(s) != 2 || s["_REQUEST_ID"] != r.RequestID || s["_SUBJECT"] != r.Subject {
		t.Errorf("substitutions = %v", s)
	}
	if l := build.GetOptions().GetLogging(); l != cloudbuildpb.BuildOptions_CLOUD_LOGGING_ONLY {
		t.Errorf("logging = %v, want CLOUD_LOGGING_ONLY (required with a service account)", l)
	}
	if build.GetServiceAccount() != b.ServiceAccount {
		t.Errorf("service account = %q", build.GetServiceAccount())
	}
	if d := build.GetTimeout().AsDuration(); d != 20*time.Minute {
		t.Errorf("timeout = %v, want the 20 min default", d)
	}
}

func TestBuildRequestEnvIsDeterministic(t *testing.T) {
	// Map order must never change the request: the same request gives the same proto.
	b := &cloudbuild.Builder{Project: "p", Image: "img"}
	r := request()
	for k := range 20 {
		r.Env[string(rune('A'+k))+"_VAR"] = "v"
	}
	first := b.BuildRequest(r)
	for range 10 {
		if again := b.BuildRequest(r); !proto.Equal(first, again) {
			t.Fatalf("BuildRequest differs between calls:\n%v\n%v", first, again)
		}
	}
	if !slices.IsSorted(first.GetBuild().GetSteps()[0].GetEnv()) {
		t.Fatalf("env not sorted: %q", first.GetBuild().GetSteps()[0].GetEnv())
	}
}

func TestBuildRequestWithoutEnvOrArgs(t *testing.T) {
	b := &cloudbuild.Builder{Project: "p", Image: "img"}
	req := b.BuildRequest(builds.Request{RequestID: "r", Subject: "study:s"})
	step := req.GetBuild().GetSteps()[0]
	if len(step.GetEnv()) != 0 || len(step.GetArgs()) != 0 {
		t.Fatalf("step = %v, want no env and no args", step)
	}
}

func TestBuildRequestTimeoutAndRegion(t *testing.T) {
	cases := []struct {
		region     string
		timeout    time.Duration
		wantParent string
		wantTime   time.Duration
	}{
		{"", 0, "", 20 * time.Minute},
		{"global", 5 * time.Minute, "", 5 * time.Minute},
		{"us-central1", 0, "projects/lookit-prod/locations/us-central1", 20 * time.Minute},
		{"europe-west4", 90 * time.Second, "projects/lookit-prod/locations/europe-west4", 90 * time.Second},
	}
	for _, c := range cases {
		b := &cloudbuild.Builder{Project: "lookit-prod", Region: c.region, Image: "img", Timeout: c.timeout}
		req := b.BuildRequest(request())
		if req.GetParent() != c.wantParent {
			t.Errorf("region %q: parent = %q, want %q", c.region, req.GetParent(), c.wantParent)
		}
		if req.GetProjectId() != "lookit-prod" {
			t.Errorf("region %q: project = %q", c.region, req.GetProjectId())
		}
		if d := req.GetBuild().GetTimeout().AsDuration(); d != c.wantTime {
			t.Errorf("timeout %v: build timeout = %v, want %v", c.timeout, d, c.wantTime)
		}
	}
}

func TestDecodeStatus(t *testing.T) {
	// A cloud-builds message as Cloud Build publishes it (REST JSON), with fields this code does
	// not know, including one no version of the API has.
	msg := `{
		"id": "b-42",
		"projectId": "lookit-prod",
		"status": "SUCCESS",
		"statusDetail": "",
		"steps": [{"name": "us-docker.pkg.dev/lookit-prod/builders/runner:1", "args": ["build"], "status": "SUCCESS"}],
		"createTime": "2024-05-01T12:00:00.123456Z",
		"startTime": "2024-05-01T12:00:05Z",
		"finishTime": "2024-05-01T12:03:00Z",
		"timeout": "1200s",
		"logUrl": "https://console.cloud.google.com/cloud-build/builds/b-42?project=1",
		"tags": ["lookit", "request-6d1f3a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"],
		"substitutions": {"_REQUEST_ID": "6d1f3a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"},
		"options": {"logging": "CLOUD_LOGGING_ONLY", "futureOption": true},
		"futureField": {"nested": [1, 2, 3]},
		"name": "projects/1/locations/global/builds/b-42"
	}`
	b, err := cloudbuild.DecodeStatus([]byte(msg))
	if err != nil {
		t.Fatalf("DecodeStatus: %v", err)
	}
	if b.GetId() != "b-42" || b.GetStatus() != cloudbuildpb.Build_SUCCESS || b.GetProjectId() != "lookit-prod" {
		t.Errorf("build = %v", b)
	}
	if !slices.Contains(b.GetTags(), "request-6d1f3a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b") {
		t.Errorf("tags = %q", b.GetTags())
	}
	if b.GetLogUrl() == "" || b.GetTimeout().AsDuration() != 20*time.Minute {
		t.Errorf("logUrl %q timeout %v", b.GetLogUrl(), b.GetTimeout().AsDuration())
	}
	if want := time.Date(2024, 5, 1, 12, 3, 0, 0, time.UTC); !b.GetFinishTime().AsTime().Equal(want) {
		t.Errorf("finish = %v, want %v", b.GetFinishTime().AsTime(), want)
	}
	if b.GetOptions().GetLogging() != cloudbuildpb.BuildOptions_CLOUD_LOGGING_ONLY {
		t.Errorf("options = %v", b.GetOptions())
	}
}

func TestDecodeStatusRejects(t *testing.T) {
	for name, msg := range map[string]string{
		"missing id": `{"status": "SUCCESS", "tags": ["lookit"]}`,
		"empty id":   `{"id": "", "status": "SUCCESS"}`,
		"garbage":    `this is not JSON`,
		"truncated":  `{"id": "b-1", "status": "SUCC`,
		"empty":      ``,
		"array":      `[{"id": "b-1"}]`,
		"wrong type": `{"id": 42}`,
	} {
		if b, err := cloudbuild.DecodeStatus([]byte(msg)); err == nil {
			t.Errorf("%s: DecodeStatus(%q) = %v, want an error", name, msg, b)
		}
	}
}

func TestDecodeStatusUnknownStatusName(t *testing.T) {
	// A status name added to Cloud Build after this code was built decodes (as STATUS_UNKNOWN)
	// instead of making the message undeliverable.
	b, err := cloudbuild.DecodeStatus([]byte(`{"id": "b-1", "status": "SOME_FUTURE_STATUS"}`))
	if err != nil {
		t.Fatalf("DecodeStatus: %v", err)
	}
	if b.GetId() != "b-1" || b.GetStatus() != cloudbuildpb.Build_STATUS_UNKNOWN {
		t.Fatalf("build = %v", b)
	}
}

func TestEncodeStatusRoundTrip(t *testing.T) {
	in := &cloudbuildpb.Build{Id: "b-7", Status: cloudbuildpb.Build_WORKING, Tags: []string{"lookit", "request-x"}, LogUrl: "https://log"}
	data, err := cloudbuild.EncodeStatus(in)
	if err != nil {
		t.Fatal(err)
	}
	// Cloud Build's messages use the JSON field names (camelCase) and status names.
	if s := string(data); !strings.Contains(s, `"logUrl"`) || !strings.Contains(s, `"WORKING"`) {
		t.Errorf("encoded = %s", s)
	}
	out, err := cloudbuild.DecodeStatus(data)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, out) {
		t.Fatalf("round trip = %v, want %v", out, in)
	}
}

// fakeCloudBuild is a CloudBuild gRPC server that records CreateBuild calls and answers with
// the operation op returns.
type fakeCloudBuild struct {
	cloudbuildpb.UnimplementedCloudBuildServer
	op func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error)

	mu       sync.Mutex
	requests []*cloudbuildpb.CreateBuildRequest
	params   []string // x-goog-request-params of each call
}

func (f *fakeCloudBuild) CreateBuild(ctx context.Context, req *cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.params = append(f.params, strings.Join(md.Get("x-goog-request-params"), ","))
	f.mu.Unlock()
	return f.op(req)
}

func (f *fakeCloudBuild) recorded() ([]*cloudbuildpb.CreateBuildRequest, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests), slices.Clone(f.params)
}

// serve starts f on a loopback port and returns a client on it.
func serve(t *testing.T, f *fakeCloudBuild) *cb.Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	cloudbuildpb.RegisterCloudBuildServer(s, f)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	ctx := context.Background()
	c, err := cb.NewClient(ctx, option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func operation(t *testing.T, md *cloudbuildpb.BuildOperationMetadata) *longrunningpb.Operation {
	t.Helper()
	a, err := anypb.New(md)
	if err != nil {
		t.Fatal(err)
	}
	return &longrunningpb.Operation{Name: "operations/build/lookit-prod/b-1", Metadata: a}
}

func TestStart(t *testing.T) {
	for _, region := range []string{"global", "us-central1"} {
		t.Run(region, func(t *testing.T) {
			op := operation(t, &cloudbuildpb.BuildOperationMetadata{Build: &cloudbuildpb.Build{
				Id: "b-1", LogUrl: "https://console.cloud.google.com/cloud-build/builds/b-1", Status: cloudbuildpb.Build_QUEUED,
			}})
			f := &fakeCloudBuild{op: func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) { return op, nil }}
			b := &cloudbuild.Builder{Client: serve(t, f), Project: "lookit-prod", Region: region, Image: "img:1", Timeout: 10 * time.Minute}
			r := request()

			got, err := b.Start(context.Background(), r)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if want := (builds.Started{ID: "b-1", LogURL: "https://console.cloud.google.com/cloud-build/builds/b-1"}); got != want {
				t.Errorf("Start = %+v, want %+v", got, want)
			}
			reqs, params := f.recorded()
			if len(reqs) != 1 {
				t.Fatalf("%d CreateBuild calls, want 1", len(reqs))
			}
			if want := b.BuildRequest(r); !proto.Equal(reqs[0], want) {
				t.Errorf("server received\n%v\nwant\n%v", reqs[0], want)
			}
			if region != "global" && !strings.Contains(params[0], "location="+region) {
				t.Errorf("x-goog-request-params = %q, want the build routed to %s", params[0], region)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	cases := map[string]func(*testing.T) func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error){
		"rejected": func(*testing.T) func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
			return func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
				return nil, status.Error(codes.PermissionDenied, "builder service account missing")
			}
		},
		"no metadata": func(*testing.T) func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
			return func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
				return &longrunningpb.Operation{Name: "operations/x"}, nil
			}
		},
		"metadata without build": func(t *testing.T) func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
			op := operation(t, &cloudbuildpb.BuildOperationMetadata{})
			return func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) { return op, nil }
		},
		"metadata of another type": func(t *testing.T) func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
			a, err := anypb.New(&cloudbuildpb.Build{Id: "b-1"})
			if err != nil {
				t.Fatal(err)
			}
			return func(*cloudbuildpb.CreateBuildRequest) (*longrunningpb.Operation, error) {
				return &longrunningpb.Operation{Name: "operations/x", Metadata: a}, nil
			}
		},
	}
	for name, op := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeCloudBuild{op: op(t)}
			b := &cloudbuild.Builder{Client: serve(t, f), Project: "p", Region: "global", Image: "img"}
			got, err := b.Start(context.Background(), request())
			if err == nil {
				t.Fatalf("Start = %+v, want an error", got)
			}
			if got != (builds.Started{}) {
				t.Errorf("Start returned %+v with the error", got)
			}
			if !strings.HasPrefix(err.Error(), "cloudbuild: create build") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}
