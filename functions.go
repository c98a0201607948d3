// Package platform is the deploy unit: Cloud Run functions builds the package at the root of the
// uploaded source, and every function is deployed from it with --source=. and its own
// --entry-point. It registers every function and does nothing else.
package platform

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"lookit.dev/platform/functions/api"
	"lookit.dev/platform/functions/builds"
	"lookit.dev/platform/functions/buildstatus"
	"lookit.dev/platform/functions/exports"
	"lookit.dev/platform/functions/jobs"
	"lookit.dev/platform/functions/mailer"
	"lookit.dev/platform/functions/pipewebhook"
)

func init() {
	functions.HTTP(api.Name, api.Serve)
	functions.HTTP(pipewebhook.Name, pipewebhook.Serve)
	functions.CloudEvent(mailer.Name, mailer.Receive)
	functions.CloudEvent(jobs.Name, jobs.Receive)
	functions.CloudEvent(builds.Name, builds.Receive)
	functions.CloudEvent(buildstatus.Name, buildstatus.Receive)
	functions.CloudEvent(exports.Name, exports.Receive)
}
