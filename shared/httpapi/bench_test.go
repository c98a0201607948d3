package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// sessionsAtOnce is how many families take part at the same time in the session benchmark.
const sessionsAtOnce = 32

// frameSaves is how many whole-record saves a session makes; exp_data grows to about 50 KB.
const frameSaves = 10

// expDataAfter returns the runner's exp_data after n frames: each frame adds about 5 KB.
func expDataAfter(n int) string {
	frames := make([]string, 0, n)
	for i := range n {
		frames = append(frames, fmt.Sprintf(`"%d-frame":{"frameType":"DEFAULT","eventTimings":[{"eventType":"nextFrame","timestamp":"2026-11-23T09:00:00Z"}],"text":"%s"}`,
			i, strings.Repeat("x", 5000)))
	}
	return "{" + strings.Join(frames, ",") + "}"
}

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[min(len(d)-1, int(float64(len(d))*p))]) / float64(time.Millisecond)
}

// BenchmarkFrameplayerSessions replays the runner's call sequence (study, child, create response,
// past sessions, then frameSaves whole-record saves) for sessionsAtOnce families at once; one
// operation is one session. The ceiling is the same number of single-row UPDATEs of the same
// JSON straight through pgx, with the same concurrency.
func BenchmarkFrameplayerSessions(b *testing.B) {
	pool := pgtest.Pool(b)
	ctx := context.Background()
	h := httpapi.New(newInstance(b, instance.Value(pool)))
	var labID int64
	var study string
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Bench Lab', true)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`).Scan(&labID); err != nil {
		b.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, built, max_age_years)
		VALUES ('Bench study', $1, 1, 'active', true, true, 9) RETURNING uuid::text`, labID).Scan(&study); err != nil {
		b.Fatal(err)
	}
	// Each session is a child's first visit to the study, as most are: a child seen again would
	// make the past-sessions answer (and the run's cost) grow with b.N.
	type family struct {
		id   int64
		auth func(*http.Request)
	}
	families := make([]family, sessionsAtOnce)
	for i := range families {
		r := role{name: fmt.Sprintf("bench-family-%d", i)}
		families[i].id = newUser(b, pool, 0, r)
		families[i].auth = credential(b, pool, families[i].id, r)
		if _, err := pool.Exec(ctx, `INSERT INTO demographic_data (user_id, country) VALUES ($1, 'US')`, families[i].id); err != nil {
			b.Fatal(err)
		}
	}
	// newChildren gives each of n sessions its own child, owned by family i % sessionsAtOnce.
	newChildren := func(b *testing.B, n int) []string {
		ids := make([]int64, sessionsAtOnce)
		for i, f := range families {
			ids[i] = f.id
		}
		rows, err := pool.Query(ctx, `INSERT INTO children (user_id, given_name, birthday, gender)
			SELECT ($1::bigint[])[1 + i % $2], 'K', current_date - 300, 'f' FROM generate_series(0, $3 - 1) i
			ORDER BY i RETURNING uuid::text`, ids, sessionsAtOnce, n)
		if err != nil {
			b.Fatal(err)
		}
		children, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(children) != n {
			b.Fatal(err, len(children))
		}
		return children
	}
	saves := make([]string, frameSaves)
	for i := range saves {
		saves[i] = expDataAfter(i + 1)
	}
	call := func(f family, method, path, body string) (int, []byte) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/vnd.api+json")
		f.auth(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	// run makes b.N sessions, sessionsAtOnce at a time; session i is the i-th of b.N.
	run := func(b *testing.B, session func(i int, latencies *[]time.Duration)) []time.Duration {
		var mu sync.Mutex
		var all []time.Duration
		work := make(chan int)
		var wg sync.WaitGroup
		for range sessionsAtOnce {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for i := range work {
					session(i, &mine)
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
		}
		b.ResetTimer()
		sys0, self0 := cpuNow()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		b.StopTimer()
		sys1, self1 := cpuNow()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sessions/s")
		b.ReportMetric((sys1-sys0).Seconds()*1000/float64(b.N), "cpu-ms/session")
		b.ReportMetric((self1-self0).Seconds()*1000/float64(b.N), "go-cpu-ms/session")
		return all
	}
	b.Run("ours", func(b *testing.B) {
		children := newChildren(b, b.N)
		lat := run(b, func(i int, latencies *[]time.Duration) {
			f, child := families[i%sessionsAtOnce], children[i]
			if code, _ := call(f, "GET", "/api/v1/studies/"+study+"/", ""); code != 200 {
				b.Errorf("study: %d", code)
				return
			}
			if code, _ := call(f, "GET", "/api/v1/children/"+child+"/", ""); code != 200 {
				b.Errorf("child: %d", code)
				return
			}
			code, body := call(f, "POST", "/api/v1/responses/", `{"data":{"type":"responses","attributes":{"exp_data":{},"sequence":[],"recording_method":"recordrtc"},"relationships":{"child":{"data":{"type":"children","id":"`+
				child+`"}},"study":{"data":{"type":"studies","id":"`+study+`"}}}}}`)
			var doc struct{ Data struct{ ID string } }
			if code != 201 || json.Unmarshal(body, &doc) != nil {
				b.Errorf("create: %d %s", code, body)
				return
			}
			if code, _ := call(f, "GET", "/api/v1/studies/"+study+"/responses/?page[size]=10&page=1&child="+child, ""); code != 200 {
				b.Errorf("past sessions: %d", code)
				return
			}
			seq := []string{}
			for i, data := range saves {
				seq = append(seq, fmt.Sprintf("%d-frame", i))
				s, _ := json.Marshal(seq)
				t0 := time.Now()
				code, _ := call(f, "PATCH", "/api/v1/responses/"+doc.Data.ID+"/", `{"data":{"type":"responses","id":"`+doc.Data.ID+
					`","attributes":{"exp_data":`+data+`,"sequence":`+string(s)+`,"conditions":{},"global_event_timings":[]}}}`)
				*latencies = append(*latencies, time.Since(t0))
				if code != 200 {
					b.Errorf("save: %d", code)
					return
				}
			}
		})
		b.ReportMetric(percentile(lat, 0.50), "patch-p50-ms")
		b.ReportMetric(percentile(lat, 0.99), "patch-p99-ms")
	})
	b.Run("ceiling", func(b *testing.B) {
		// One row per session, updated with the same JSON the saves carry.
		children := newChildren(b, b.N)
		rows, err := pool.Query(ctx, `INSERT INTO responses (study_id, child_id, study_type_id)
			SELECT s.id, c.id, 1 FROM studies s, children c WHERE s.uuid = $1 AND c.uuid = ANY($2::uuid[])
			RETURNING id`, study, children)
		if err != nil {
			b.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) != b.N {
			b.Fatal(err, len(ids))
		}
		lat := run(b, func(i int, latencies *[]time.Duration) {
			for _, data := range saves {
				t0 := time.Now()
				if _, err := pool.Exec(ctx, `UPDATE responses SET exp_data = $2, updated_at = now() WHERE id = $1`, ids[i], data); err != nil {
					b.Error(err)
					return
				}
				*latencies = append(*latencies, time.Since(t0))
			}
		})
		b.ReportMetric(percentile(lat, 0.50), "patch-p50-ms")
		b.ReportMetric(percentile(lat, 0.99), "patch-p99-ms")
	})
}

// BenchmarkColdStart is a function instance's first request: configuration, the handler, the
// lazily built database pool and its first query, through to the first 200 from /healthz.
func BenchmarkColdStart(b *testing.B) {
	pgtest.Pool(b) // creates the test database
	url := pgtest.URL(b)
	for b.Loop() {
		cfg, err := config.Load(func(k string) string {
			return map[string]string{"ENVIRONMENT": "local", "DATABASE_URL": url}[k]
		})
		if err != nil {
			b.Fatal(err)
		}
		in := instance.New(cfg, "bench")
		in.Log = newInstance(b, nil).Log
		h := httpapi.New(in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != 200 {
			b.Fatalf("healthz %d %s", rec.Code, rec.Body)
		}
		if pool, err := in.DB(context.Background()); err == nil {
			pool.Close()
		}
	}
}

// cpuNow is the machine's busy CPU time (from /proc/stat) and this process's own.
func cpuNow() (machine, self time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, self
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, self
}
