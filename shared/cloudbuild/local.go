package cloudbuild

import (
	"context"
	"crypto/rand"
	"fmt"

	"cloud.google.com/go/cloudbuild/apiv1/v2/cloudbuildpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/events"
)

// Local is the builder behind make run. It accepts builds like Cloud Build and reports their
// status on the cloud-builds topic in Cloud Build's message format, so the whole status path
// runs locally. It cannot run builder images yet (no Docker here): every build ends FAILURE with
// a detail saying so. The study runner build itself arrives with the builds work (issue 7).
type Local struct {
	Publisher events.Publisher
}

var _ builds.Builder = (*Local)(nil)

// Start publishes QUEUED and the final status for a new build id.
func (l *Local) Start(ctx context.Context, r builds.Request) (builds.Started, error) {
	id := newUUID()
	for _, b := range []*cloudbuildpb.Build{
		{Id: id, Status: cloudbuildpb.Build_QUEUED, Tags: []string{"lookit", "request-" + r.RequestID}},
		{Id: id, Status: cloudbuildpb.Build_FAILURE, Tags: []string{"lookit", "request-" + r.RequestID},
			StatusDetail: "the local builder does not run builder images", FinishTime: timestamppb.Now()},
	} {
		data, err := EncodeStatus(b)
		if err != nil {
			return builds.Started{}, err
		}
		if _, err := l.Publisher.Publish(ctx, events.TopicCloudBuilds, data, map[string]string{"buildId": id, "status": b.Status.String()}); err != nil {
			return builds.Started{}, fmt.Errorf("local builder: publish status: %w", err)
		}
	}
	return builds.Started{ID: id}, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
