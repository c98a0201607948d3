package logging_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"lookit.dev/platform/shared/logging"
)

const (
	traceKey   = "logging.googleapis.com/trace"
	spanKey    = "logging.googleapis.com/spanId"
	sampledKey = "logging.googleapis.com/trace_sampled"
	sourceKey  = "logging.googleapis.com/sourceLocation"
)

// lines parses buf as one JSON object per line, failing on anything else.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	text := strings.TrimSuffix(buf.String(), "\n")
	if text == "" {
		return nil
	}
	for i, line := range strings.Split(text, "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not one JSON object: %v\n%s", i+1, err, line)
		}
		out = append(out, m)
	}
	return out
}

func only(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	ls := lines(t, buf)
	if len(ls) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(ls), buf.String())
	}
	return ls[0]
}

// here returns the file and line of its caller.
func here() (string, int) {
	_, file, line, _ := runtime.Caller(1)
	return file, line
}

func checkSource(t *testing.T, rec map[string]any, file string, line int) {
	t.Helper()
	src, ok := rec[sourceKey].(map[string]any)
	if !ok {
		t.Fatalf("no %s in %v", sourceKey, rec)
	}
	if got, _ := src["file"].(string); filepath.Base(got) != filepath.Base(file) {
		t.Errorf("source file = %q, want %q", got, filepath.Base(file))
	}
	if got, _ := src["line"].(float64); int(got) != line {
		t.Errorf("source line = %v, want %d", src["line"], line)
	}
	if _, ok := rec["source"]; ok {
		t.Errorf("slog's own source key leaked: %v", rec)
	}
}

func TestSeverityMessageAndSource(t *testing.T) {
	cases := []struct {
		level slog.Level
		want  string
	}{
		{slog.LevelDebug - 4, "DEBUG"},
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 2, "INFO"},
		{slog.LevelWarn, "WARNING"},
		{slog.LevelError, "ERROR"},
		{slog.LevelError + 2, "ERROR"},
		{logging.LevelCritical, "CRITICAL"},
		{logging.LevelCritical + 4, "CRITICAL"},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		l := logging.New(&buf, slog.LevelDebug-8, "proj", "svc")
		file, line := here()
		l.Log(context.Background(), tc.level, "hello\nworld", "k", "v")
		rec := only(t, &buf)
		if rec["severity"] != tc.want {
			t.Errorf("level %v: severity %v, want %s", tc.level, rec["severity"], tc.want)
		}
		if _, ok := rec["level"]; ok {
			t.Errorf("slog's level key leaked: %v", rec)
		}
		if rec["message"] != "hello\nworld" {
			t.Errorf("message = %v", rec["message"])
		}
		if _, ok := rec["msg"]; ok {
			t.Errorf("slog's msg key leaked: %v", rec)
		}
		if rec["service"] != "svc" || rec["k"] != "v" {
			t.Errorf("attrs lost: %v", rec)
		}
		checkSource(t, rec, file, line+1)
		if _, ok := rec[traceKey]; ok {
			t.Errorf("trace without a trace in the context: %v", rec)
		}
	}
}

func TestOneObjectPerLineAndLevelFilter(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, slog.LevelInfo, "", "svc")
	l.Debug("dropped")
	l.Info("one", "text", "multi\nline\r\nvalue")
	l.Warn("two")
	ls := lines(t, &buf)
	if len(ls) != 2 || ls[0]["message"] != "one" || ls[1]["message"] != "two" {
		t.Fatalf("got %v", ls)
	}
	if ls[0]["text"] != "multi\nline\r\nvalue" {
		t.Errorf("text = %q", ls[0]["text"])
	}
}

func TestGroupsKeepTheirKeys(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, slog.LevelInfo, "", "svc").WithGroup("req")
	l.Info("m", "message", "inner", "severity", "inner")
	rec := only(t, &buf)
	if rec["message"] != "m" || rec["severity"] != "INFO" {
		t.Errorf("top-level keys wrong: %v", rec)
	}
	g, _ := rec["req"].(map[string]any)
	if g["message"] != "inner" || g["severity"] != "inner" {
		t.Errorf("grouped keys rewritten: %v", rec)
	}
}

func TestTraceAttributesFromContext(t *testing.T) {
	tr := logging.Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true}
	ctx := logging.WithTrace(context.Background(), tr)

	var buf bytes.Buffer
	logging.New(&buf, slog.LevelInfo, "my-proj", "svc").With("extra", 1).InfoContext(ctx, "m")
	rec := only(t, &buf)
	if rec[traceKey] != "projects/my-proj/traces/4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace = %v", rec[traceKey])
	}
	if rec[spanKey] != "00f067aa0ba902b7" || rec[sampledKey] != true || rec["extra"] != float64(1) {
		t.Errorf("span/sampled/extra = %v %v %v", rec[spanKey], rec[sampledKey], rec["extra"])
	}

	// Without a project the bare trace id is logged; without a span there is no span key.
	buf.Reset()
	ctx = logging.WithTrace(context.Background(), logging.Trace{TraceID: tr.TraceID})
	logging.New(&buf, slog.LevelInfo, "", "svc").InfoContext(ctx, "m")
	rec = only(t, &buf)
	if rec[traceKey] != tr.TraceID || rec[sampledKey] != false {
		t.Errorf("trace = %v sampled = %v", rec[traceKey], rec[sampledKey])
	}
	if _, ok := rec[spanKey]; ok {
		t.Errorf("span key without a span: %v", rec)
	}
}

func TestParseTrace(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	cases := []struct {
		name    string
		headers map[string]string
		want    logging.Trace
		ok      bool
	}{
		{"traceparent sampled", map[string]string{"traceparent": "00-" + id + "-00f067aa0ba902b7-01"},
			logging.Trace{TraceID: id, SpanID: "00f067aa0ba902b7", Sampled: true}, true},
		{"traceparent not sampled", map[string]string{"traceparent": "00-" + id + "-00f067aa0ba902b7-00"},
			logging.Trace{TraceID: id, SpanID: "00f067aa0ba902b7"}, true},
		{"traceparent other flags", map[string]string{"traceparent": " 00-" + id + "-00f067aa0ba902b7-03 "},
			logging.Trace{TraceID: id, SpanID: "00f067aa0ba902b7", Sampled: true}, true},
		{"traceparent all-zero trace", map[string]string{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, logging.Trace{}, false},
		{"traceparent all-zero parent", map[string]string{"traceparent": "00-" + id + "-0000000000000000-01"}, logging.Trace{}, false},
		{"traceparent version ff", map[string]string{"traceparent": "ff-" + id + "-00f067aa0ba902b7-01"}, logging.Trace{}, false},
		{"traceparent upper case", map[string]string{"traceparent": "00-" + strings.ToUpper(id) + "-00f067aa0ba902b7-01"}, logging.Trace{}, false},
		{"traceparent short id", map[string]string{"traceparent": "00-" + id[1:] + "-00f067aa0ba902b7-01"}, logging.Trace{}, false},
		{"traceparent trailing junk", map[string]string{"traceparent": "00-" + id + "-00f067aa0ba902b7-01-x"}, logging.Trace{}, false},
		{"traceparent garbage", map[string]string{"traceparent": "hello"}, logging.Trace{}, false},

		{"cloud trace sampled", map[string]string{"X-Cloud-Trace-Context": id + "/1;o=1"},
			logging.Trace{TraceID: id, SpanID: "0000000000000001", Sampled: true}, true},
		{"cloud trace decimal span becomes hex", map[string]string{"X-Cloud-Trace-Context": id + "/18446744073709551615;o=0"},
			logging.Trace{TraceID: id, SpanID: "ffffffffffffffff"}, true},
		{"cloud trace no span", map[string]string{"X-Cloud-Trace-Context": id + ";o=1"},
			logging.Trace{TraceID: id, Sampled: true}, true},
		{"cloud trace id only, upper case", map[string]string{"X-Cloud-Trace-Context": strings.ToUpper(id)},
			logging.Trace{TraceID: id}, true},
		{"cloud trace zero span", map[string]string{"X-Cloud-Trace-Context": id + "/0;o=1"},
			logging.Trace{TraceID: id, Sampled: true}, true},
		{"cloud trace span over 64 bits", map[string]string{"X-Cloud-Trace-Context": id + "/18446744073709551616"},
			logging.Trace{TraceID: id}, true},
		{"cloud trace all-zero", map[string]string{"X-Cloud-Trace-Context": "00000000000000000000000000000000/1;o=1"}, logging.Trace{}, false},
		{"cloud trace hex span", map[string]string{"X-Cloud-Trace-Context": id + "/00f067aa0ba902b7"}, logging.Trace{}, false},
		{"cloud trace bad option", map[string]string{"X-Cloud-Trace-Context": id + "/1;o=2"}, logging.Trace{}, false},
		{"cloud trace short", map[string]string{"X-Cloud-Trace-Context": id[2:] + "/1;o=1"}, logging.Trace{}, false},
		{"none", nil, logging.Trace{}, false},

		{"traceparent wins", map[string]string{"traceparent": "00-" + id + "-00f067aa0ba902b7-00", "X-Cloud-Trace-Context": "11111111111111111111111111111111/5;o=1"},
			logging.Trace{TraceID: id, SpanID: "00f067aa0ba902b7"}, true},
		{"bad traceparent falls back", map[string]string{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "X-Cloud-Trace-Context": "11111111111111111111111111111111/5;o=1"},
			logging.Trace{TraceID: "11111111111111111111111111111111", SpanID: "0000000000000005", Sampled: true}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			got, ok := logging.ParseTrace(h)
			if ok != tc.ok || got != tc.want {
				t.Errorf("ParseTrace(%v) = %+v, %v; want %+v, %v", tc.headers, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestMiddlewareRequestIDAndTrace(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, slog.LevelInfo, "P", "svc")
	var seen string
	h := logging.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = logging.RequestID(r.Context())
		l.InfoContext(r.Context(), "handled")
	}))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	id := rec.Header().Get("X-Request-Id")
	if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
		t.Fatalf("X-Request-Id = %q, want 32 hex digits", id)
	}
	if seen != id {
		t.Errorf("RequestID in handler = %q, header = %q", seen, id)
	}
	line := only(t, &buf)
	if line["request_id"] != id {
		t.Errorf("request_id = %v, want %s", line["request_id"], id)
	}
	if line[traceKey] != "projects/P/traces/4bf92f3577b34da6a3ce929d0e0e4736" || line[spanKey] != "00f067aa0ba902b7" || line[sampledKey] != true {
		t.Errorf("trace attrs = %v %v %v", line[traceKey], line[spanKey], line[sampledKey])
	}

	// A request with the legacy header; and every request gets its own id.
	buf.Reset()
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/10;o=0")
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, req)
	if id2 := rec2.Header().Get("X-Request-Id"); id2 == "" || id2 == id {
		t.Errorf("second request id %q (first %q)", id2, id)
	}
	line = only(t, &buf)
	if line[traceKey] != "projects/P/traces/105445aa7843bc8bf206b12000100000" || line[spanKey] != "000000000000000a" || line[sampledKey] != false {
		t.Errorf("legacy trace attrs = %v %v %v", line[traceKey], line[spanKey], line[sampledKey])
	}

	// No trace header: no trace keys, but still a request id.
	buf.Reset()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	line = only(t, &buf)
	if _, ok := line[traceKey]; ok {
		t.Errorf("trace key without a trace header: %v", line)
	}
	if id, _ := line["request_id"].(string); len(id) != 32 {
		t.Errorf("request_id = %v", line["request_id"])
	}
}

func TestRequestIDOutsideARequest(t *testing.T) {
	if id := logging.RequestID(context.Background()); id != "" {
		t.Errorf("RequestID of a bare context = %q", id)
	}
	ctx := logging.WithRequestID(context.Background(), "abc")
	if logging.RequestID(ctx) != "abc" {
		t.Errorf("RequestID = %q", logging.RequestID(ctx))
	}
	a, b := logging.NewRequestID(), logging.NewRequestID()
	if len(a) != 32 || a == b {
		t.Errorf("NewRequestID gave %q and %q", a, b)
	}
}

func TestErrorIsAnErrorReportingEvent(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, slog.LevelInfo, "P", "svc")
	ctx := logging.WithRequestID(context.Background(), "req-1")
	file, line := here()
	logging.Error(ctx, l, "saving study", errors.New("disk on fire"), slog.String("study", "s1"))
	rec := only(t, &buf)
	if rec["severity"] != "ERROR" || rec["message"] != "saving study: disk on fire" {
		t.Errorf("severity %v message %v", rec["severity"], rec["message"])
	}
	if rec["@type"] != "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent" {
		t.Errorf("@type = %v", rec["@type"])
	}
	st, _ := rec["stack_trace"].(string)
	if !strings.HasPrefix(st, "saving study: disk on fire\n\ngoroutine ") || !strings.Contains(st, "TestErrorIsAnErrorReportingEvent") {
		t.Errorf("stack_trace = %q", st)
	}
	if rec["study"] != "s1" || rec["request_id"] != "req-1" || rec["service"] != "svc" {
		t.Errorf("attrs lost: %v", rec)
	}
	// The source location is the caller of Error, not the logging package.
	checkSource(t, rec, file, line+1)
}

func TestErrorWithoutCauseAndWhenDisabled(t *testing.T) {
	var buf bytes.Buffer
	logging.Error(context.Background(), logging.New(&buf, slog.LevelInfo, "", "svc"), "just a message", nil)
	rec := only(t, &buf)
	if rec["message"] != "just a message" || !strings.Contains(rec["stack_trace"].(string), "goroutine") {
		t.Errorf("record = %v", rec)
	}

	buf.Reset()
	logging.Error(context.Background(), logging.New(&buf, logging.LevelCritical, "", "svc"), "dropped", errors.New("x"))
	if buf.Len() != 0 {
		t.Errorf("an ERROR record was written by a CRITICAL logger: %s", buf.String())
	}
}
