// Package pipewebhook is the PipeWebhook function, routed at /exp/renamevideo/.
package pipewebhook

import (
	"context"
	"net/http"
	"sync"

	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/videos"
	"lookit.dev/platform/shared/web"
)

// Name is the function's entry point.
const Name = "PipeWebhook"

// Path is where the load balancer routes Pipe's calls.
const Path = "/exp/renamevideo/"

// New returns the webhook handler for in.
func New(in *instance.Instance) http.Handler {
	h := &pipe.Handler{
		Key:        in.Config.PipeWebhookKey,
		WebhookURL: in.Config.PipeWebhook(),
		DB:         in.DB,
		Bucket: func(ctx context.Context) (videos.Store, error) {
			b, err := in.Videos(ctx)
			return b.Pipe, err
		},
		Log: in.Log,
	}
	return logging.Middleware(web.Recover(in.Log, h))
}

var handler = sync.OnceValue(func() http.Handler { return New(instance.FromEnv(Name)) })

// Serve is the HTTP function registered as PipeWebhook.
func Serve(w http.ResponseWriter, r *http.Request) { handler().ServeHTTP(w, r) }
