// Package api is the API function: the Lookit-compatible JSON:API, the app API and experiment
// serving. It only wires the instance to shared/httpapi.
package api

import (
	"net/http"
	"sync"

	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
)

// Name is the function's entry point.
const Name = "API"

var handler = sync.OnceValue(func() http.Handler { return httpapi.New(instance.FromEnv(Name)) })

// Serve is the HTTP function registered as API.
func Serve(w http.ResponseWriter, r *http.Request) { handler().ServeHTTP(w, r) }
