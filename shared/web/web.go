// Package web holds the HTTP plumbing every handler shares: the one mapping from application
// error codes to statuses and JSON:API error bodies, capped JSON decoding, and JSON encoding.
package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/logging"
)

// DefaultBodyLimit caps request bodies unless a route sets its own limit.
const DefaultBodyLimit = 1 << 20

var statuses = map[apperr.Code]int{
	apperr.Invalid:         http.StatusBadRequest,
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Conflict:        http.StatusConflict,
	apperr.TooLarge:        http.StatusRequestEntityTooLarge,
	apperr.RateLimited:     http.StatusTooManyRequests,
	apperr.Unsupported:     http.StatusUnsupportedMediaType,
	apperr.Unavailable:     http.StatusServiceUnavailable,
	apperr.Internal:        http.StatusInternalServerError,
}

// Status returns the HTTP status for an application error code.
func Status(c apperr.Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorObject is one JSON:API error object; the app API uses the same shape so that clients
// handle one error format.
type ErrorObject struct {
	Status string       `json:"status"`
	Code   string       `json:"code"`
	Title  string       `json:"title"`
	Detail string       `json:"detail,omitempty"`
	Source *ErrorSource `json:"source,omitempty"`
	ID     string       `json:"id,omitempty"` // the request id, to find the log lines
}

// ErrorSource points at the offending field.
type ErrorSource struct {
	Pointer string `json:"pointer"`
}

// ErrorBody is the response body of every error.
type ErrorBody struct {
	Errors []ErrorObject `json:"errors"`
}

// Error writes err as a JSON error response. Internal errors are logged with their cause and a
// stack; the client sees only a generic message and the request id.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := apperr.As(err)
	status := Status(e.Code)
	ctx := r.Context()
	if status >= 500 {
		logging.Error(ctx, log, "request failed", err, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	obj := ErrorObject{
		Status: fmt.Sprint(status),
		Code:   string(e.Code),
		Title:  http.StatusText(status),
		Detail: e.Message,
		ID:     logging.RequestID(ctx),
	}
	if e.Field != "" {
		obj.Source = &ErrorSource{Pointer: e.Field}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ErrorBody{Errors: []ErrorObject{obj}})
}

// JSON writes v with status and the given content type (application/json when empty).
func JSON(w http.ResponseWriter, status int, contentType string, v any) {
	if contentType == "" {
		contentType = "application/json"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DecodeJSON reads a JSON body of at most limit bytes into v. It accepts the JSON media types
// given (application/json when none), rejects unknown fields when strict, and turns every failure
// into an Invalid, TooLarge or Unsupported error naming what was wrong.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any, strict bool, mediaTypes ...string) error {
	if len(mediaTypes) == 0 {
		mediaTypes = []string{"application/json"}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !contains(mediaTypes, mt) {
		return apperr.New(apperr.Unsupported, "Content-Type must be %s", strings.Join(mediaTypes, " or "))
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err, limit)
		}
		return apperr.New(apperr.Invalid, "request body must hold exactly one JSON value")
	}
	return nil
}

// DecodeError turns an encoding/json decoding error (possibly wrapped) into an Invalid or
// TooLarge application error naming the offending field, for decoders this package does not run.
func DecodeError(err error, limit int64) error { return decodeError(err, limit) }

func decodeError(err error, limit int64) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return apperr.New(apperr.TooLarge, "request body exceeds %d bytes", limit)
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.Invalid, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.Invalid, "request body is truncated JSON")
	case errors.As(err, &se):
		return apperr.New(apperr.Invalid, "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &ute):
		if ute.Field == "" {
			return apperr.New(apperr.Invalid, "request body must be %s, not %s", ute.Type.String(), ute.Value)
		}
		ptr := pointer(strings.Split(ute.Field, ".")...)
		return apperr.Field(ptr, "%s must be %s, not %s", ptr, ute.Type.String(), ute.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = strings.Trim(quoted, `"`)
		}
		return apperr.Field(pointer(name), "unknown field %q", name)
	default:
		return apperr.Wrap(err, apperr.Invalid, "malformed JSON body")
	}
}

// pointer returns the RFC 6901 JSON pointer to the member reached through names.
func pointer(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString("/")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(n, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Recover turns a panic in a handler into a logged internal error and a 500 JSON body, so one
// bad request never takes the instance down or leaks a stack to the client.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Error(w, r, log, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}small{color:#666}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Detail}}</p>{{if .ID}}<p><small>Reference: {{.ID}}</small></p>{{end}}</body></html>
`))

// Page writes err as an HTML page, for routes a browser opens directly (the study pages). Its
// status and logging are those of Error; a visitor who is not logged in is sent to log in and
// come back.
func Page(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := apperr.As(err)
	if e.Code == apperr.Unauthenticated {
		http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return
	}
	status := Status(e.Code)
	ctx := r.Context()
	detail := e.Message
	if status >= 500 {
		logging.Error(ctx, log, "request failed", err, slog.String("method", r.Method), slog.String("path", r.URL.Path))
		if e.Code == apperr.Internal {
			detail = "Something went wrong on our side. Please try again later."
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, map[string]string{"Title": http.StatusText(status), "Detail": detail, "ID": logging.RequestID(ctx)})
}

// LoginPath is the web app's log-in page; it returns to its next parameter afterwards.
const LoginPath = "/login"
