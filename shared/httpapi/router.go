// Package httpapi assembles the API function's routes: health, the app API (shared/appapi's
// OpenAPI document, every operation authorized by authz.Authorize), and, as they land, the
// Lookit-compatible JSON:API under /api/v1/ and experiment serving. Every route goes through the
// same middleware: request id and trace, panic recovery, JSON errors.
package httpapi

import (
	"context"
	"net/http"
	"time"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/web"
)

// New returns the API function's handler.
func New(in *instance.Instance) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", health(in))
	mux.Handle("GET /api/openapi.json", openAPIDocument(in))
	newAppAPI(in, mux)
	newCompatAPI(in, mux)
	newPages(in, mux)
	mux.Handle("POST "+SendGridEventsPath, sendGridEvents(in)) // signed by SendGrid, no session
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Error(w, r, in.Log, apperr.New(apperr.NotFound, "no route for %s %s", r.Method, r.URL.Path))
	}))
	return logging.Middleware(web.Recover(in.Log, mux))
}

// openAPIDocument serves the app API's contract, the document the SPA's client is generated from.
func openAPIDocument(in *instance.Instance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := appapi.GetSpecJSON()
		if err != nil {
			web.Error(w, r, in.Log, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(b)
	})
}

// health answers 200 only while the database answers a query within two seconds; load balancer
// and uptime checks use it.
func health(in *instance.Instance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		pool, err := in.DB(ctx)
		if err == nil {
			err = postgres.Ping(ctx, pool)
		}
		if err != nil {
			in.Log.WarnContext(ctx, "health check failed", "error", err.Error())
			web.Error(w, r, in.Log, apperr.Wrap(err, apperr.Unavailable, "database unavailable"))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		web.JSON(w, http.StatusOK, "", map[string]string{"status": "ok"})
	})
}
