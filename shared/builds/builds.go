// Package builds describes study runner builds delegated to Cloud Build: the request message on
// the study-builds topic, the Builder interface (Cloud Build, or the local builder in make run)
// and the status order that keeps redelivered or out-of-order status messages harmless.
package builds

import (
	"context"
	"errors"
	"regexp"
)

// Request asks for one build. RequestID is the idempotency key.
type Request struct {
	RequestID string            `json:"request_id"`
	Subject   string            `json:"subject"` // what is built, e.g. "study:<uuid>"
	Args      []string          `json:"args,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
}

var (
	uuidRE    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	subjectRE = regexp.MustCompile(`^[a-z]+:[A-Za-z0-9._-]{1,100}$`)
	envKeyRE  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
)

// Validate reports the first problem, naming the field.
func (r *Request) Validate() error {
	if !uuidRE.MatchString(r.RequestID) {
		return errors.New("request_id must be a lower-case UUID")
	}
	if !subjectRE.MatchString(r.Subject) {
		return errors.New("subject must look like kind:id")
	}
	if len(r.Args) > 50 {
		return errors.New("args must have at most 50 entries")
	}
	for k := range r.Env {
		if !envKeyRE.MatchString(k) {
			return errors.New("env keys must be upper-case identifiers")
		}
	}
	return nil
}

// Started identifies a build the builder accepted.
type Started struct {
	ID     string
	LogURL string
}

// Builder starts a build and returns at once; completion arrives on the cloud-builds topic.
type Builder interface {
	Start(ctx context.Context, r Request) (Started, error)
}

// Cloud Build statuses (cloudbuildpb.Build_Status names).
const (
	StatusRequested = "REQUESTED" // ours: stored, not yet accepted by the builder
	StatusPending   = "PENDING"
	StatusQueued    = "QUEUED"
	StatusWorking   = "WORKING"
	StatusSuccess   = "SUCCESS"
	StatusFailure   = "FAILURE"
	StatusInternal  = "INTERNAL_ERROR"
	StatusTimeout   = "TIMEOUT"
	StatusCancelled = "CANCELLED"
	StatusExpired   = "EXPIRED"
)

var rank = map[string]int{
	StatusRequested: 0, StatusPending: 1, StatusQueued: 2, StatusWorking: 3,
	StatusSuccess: 4, StatusFailure: 4, StatusInternal: 4, StatusTimeout: 4, StatusCancelled: 4, StatusExpired: 4,
}

// Terminal reports whether a build in status s is finished.
func Terminal(s string) bool { return rank[s] == 4 }

// Advances reports whether moving from status old to new is progress. Pub/Sub may deliver
// WORKING after SUCCESS, or SUCCESS twice; neither may change a finished build.
func Advances(old, new string) bool {
	r, ok := rank[new]
	if !ok {
		return false
	}
	return !Terminal(old) && r > rank[old]
}
