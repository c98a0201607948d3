// Package logging writes log/slog records as JSON in the shape Cloud Logging ingests from stdout:
// severity, message, source location and the request's trace, plus errors in the format Error
// Reporting groups.
package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

const (
	traceKey   = "logging.googleapis.com/trace"
	spanKey    = "logging.googleapis.com/spanId"
	sampledKey = "logging.googleapis.com/trace_sampled"
	sourceKey  = "logging.googleapis.com/sourceLocation"
)

// New returns a logger writing Cloud Logging JSON to w. project turns trace ids into the full
// resource name Cloud Logging links to traces; service names the function in Error Reporting.
func New(w io.Writer, level slog.Leveler, project, service string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		AddSource:   true,
		Level:       level,
		ReplaceAttr: replaceAttr,
	})
	return slog.New(&handler{Handler: h, project: project}).With(slog.String("service", service))
}

func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = "message"
	case slog.SourceKey:
		a.Key = sourceKey
	case slog.LevelKey:
		a.Key = "severity"
		a.Value = slog.StringValue(severity(a.Value.Any().(slog.Level)))
	}
	return a
}

// severity maps slog levels to Cloud Logging's LogSeverity names.
func severity(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARNING"
	case l < slog.LevelError+4:
		return "ERROR"
	default:
		return "CRITICAL"
	}
}

// LevelCritical logs at Cloud Logging's CRITICAL severity.
const LevelCritical = slog.LevelError + 4

type handler struct {
	slog.Handler
	project string
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if t, ok := ctx.Value(traceCtxKey{}).(Trace); ok {
		if h.project != "" {
			r.AddAttrs(slog.String(traceKey, "projects/"+h.project+"/traces/"+t.TraceID))
		} else {
			r.AddAttrs(slog.String(traceKey, t.TraceID))
		}
		if t.SpanID != "" {
			r.AddAttrs(slog.String(spanKey, t.SpanID))
		}
		r.AddAttrs(slog.Bool(sampledKey, t.Sampled))
	}
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(as), project: h.project}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), project: h.project}
}

// Trace identifies the distributed trace a request belongs to.
type Trace struct {
	TraceID string
	SpanID  string
	Sampled bool
}

type traceCtxKey struct{}
type requestIDKey struct{}

var (
	traceparentRE = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)
	cloudTraceRE  = regexp.MustCompile(`^([0-9a-fA-F]{32})(?:/([0-9]{1,20}))?(?:;o=([01]))?$`)
)

// ParseTrace reads W3C traceparent first, then Google's X-Cloud-Trace-Context. A header with an
// all-zero trace id (or, in traceparent, an all-zero parent id or the invalid version ff) is
// ignored, as the W3C specification requires. The legacy header carries the span id in decimal;
// it is returned in the 16-digit hex form Cloud Logging's spanId field and traceparent use.
func ParseTrace(h http.Header) (Trace, bool) {
	if m := traceparentRE.FindStringSubmatch(strings.TrimSpace(h.Get("traceparent"))); m != nil {
		if m[1] != zeroTraceID && m[2] != strings.Repeat("0", 16) && m[0][:2] != "ff" {
			flags, _ := hex.DecodeString(m[3])
			return Trace{TraceID: m[1], SpanID: m[2], Sampled: len(flags) == 1 && flags[0]&1 == 1}, true
		}
	}
	if m := cloudTraceRE.FindStringSubmatch(strings.TrimSpace(h.Get("X-Cloud-Trace-Context"))); m != nil {
		if id := strings.ToLower(m[1]); id != zeroTraceID {
			t := Trace{TraceID: id, Sampled: m[3] == "1"}
			// A zero or out-of-range span id means "no parent span".
			if span, err := strconv.ParseUint(m[2], 10, 64); err == nil && span != 0 {
				t.SpanID = fmt.Sprintf("%016x", span)
			}
			return t, true
		}
	}
	return Trace{}, false
}

var zeroTraceID = strings.Repeat("0", 32)

// WithTrace returns a context whose log records carry t.
func WithTrace(ctx context.Context, t Trace) context.Context {
	return context.WithValue(ctx, traceCtxKey{}, t)
}

// RequestID returns the request id of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestID returns a context whose log records carry id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// NewRequestID returns a random 128-bit id in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Middleware gives every request one request id (echoed in X-Request-Id) and its trace, so every
// log line of the request can be found together.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if t, ok := ParseTrace(r.Header); ok {
			ctx = WithTrace(ctx, t)
		}
		id := NewRequestID()
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(ctx, id)))
	})
}

// Error logs err at ERROR severity in the shape Error Reporting picks up: a ReportedErrorEvent
// with the error text followed by the goroutine stack.
func Error(ctx context.Context, l *slog.Logger, msg string, err error, attrs ...any) {
	text := msg
	if err != nil {
		text = msg + ": " + err.Error()
	}
	if !l.Enabled(ctx, slog.LevelError) {
		return
	}
	attrs = append(attrs,
		slog.String("@type", "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"),
		slog.String("stack_trace", text+"\n\n"+string(debug.Stack())),
	)
	// Record the caller of Error as the source location, not this function.
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	r := slog.NewRecord(time.Now(), slog.LevelError, text, pcs[0])
	r.Add(attrs...)
	_ = l.Handler().Handle(ctx, r)
}
