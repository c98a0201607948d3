package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/benchmem"
	"lookit.dev/platform/shared/downloads"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// The study sizes of BenchmarkResponsesCSV, and the families whose children take part in both.
var responsesCSVSizes = []struct {
	name string
	n    int
}{{"10k", 10_000}, {"100k", 100_000}}

const (
	csvBenchFamilies = 2_000
	// csvBenchMinFreeBytes is the free space the benchmark wants where the cluster keeps its
	// data: 1.1 GB of exp_data (less once compressed), its WAL, and room to spare.
	csvBenchMinFreeBytes = 4 << 30
)

// BenchmarkResponsesCSV exports a study's responses as Lookit's summary CSV (the response
// overview) at two study sizes, 10,000 and 100,000 responses of a study run on the platform,
// each with about 10 KB of frameplayer exp_data and an accepted consent ruling.
//
// "ours" is the whole download path: Downloads.StudyInfo, then Downloads.Read (one read-only
// repeatable-read transaction, pages of 250 responses) feeding downloads.Write, which reads the
// responses twice (the header's keys, then the rows), into a writer that counts and discards.
// "ceiling" is one `COPY (…) TO STDOUT (FORMAT csv)` of the same rows and joined columns — the
// DownloadResponsesByID query itself (read from queries/downloads.sql) without its keyset page —
// through pgx into the same kind of writer: what reading the data once costs the database and
// the wire.
//
// Metrics: responses/s; MB/s of the data read, taking the ceiling's CSV as the common data size
// (csv-MB); ours' output size (out-MB); ratio, ours' throughput over the ceiling's (the ceiling
// runs first); peak-RSS-MB, the kernel's high-water mark of this process's resident set over the
// timed run (reset before it), and peak-heap-MB, the Go heap's highest point above where it
// started (benchmem). The ceiling line also shows how much the responses take on disk: disk-MB
// is what loading this size added to pg_total_relation_size('responses') (heap, TOAST and
// indexes), expdata-disk-MB the stored (compressed) exp_data, expdata-MB its text, and
// responses-table-MB the whole table with both sizes loaded.
func BenchmarkResponsesCSV(b *testing.B) {
	pool := pgtest.Pool(b)
	data := loadResponsesCSVBench(b, pool)
	ctx := context.Background()
	for i, size := range responsesCSVSizes {
		st := &data.studies[i]
		b.Run(size.name, func(b *testing.B) {
			b.Run("ceiling", func(b *testing.B) {
				conn, err := pool.Acquire(ctx)
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Release()
				var w countingWriter
				mem := benchmem.Start()
				for b.Loop() {
					w.n = 0
					tag, err := conn.Conn().PgConn().CopyTo(ctx, &w, st.copySQL)
					if err != nil {
						b.Fatal(err)
					}
					if tag.RowsAffected() != int64(st.n) {
						b.Fatalf("COPY wrote %d rows, want %d", tag.RowsAffected(), st.n)
					}
				}
				mem.Report(b)
				st.ceilingBytes = w.n
				st.ceilingNsPerOp = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				reportThroughput(b, st.n, w.n)
				b.ReportMetric(float64(w.n)/1e6, "csv-MB")
				b.ReportMetric(st.diskBytes/1e6, "disk-MB")
				b.ReportMetric(st.expDataDiskBytes/1e6, "expdata-disk-MB")
				b.ReportMetric(st.expDataTextBytes/1e6, "expdata-MB")
				b.ReportMetric(data.tableBytes/1e6, "responses-table-MB")
			})
			b.Run("ours", func(b *testing.B) {
				dl := &postgres.Downloads{Pool: pool}
				scope := postgres.DownloadScope{StudyID: st.id}
				var w countingWriter
				mem := benchmem.Start()
				for b.Loop() {
					w.n = 0
					info, _, err := dl.StudyInfo(ctx, st.id)
					if err != nil {
						b.Fatal(err)
					}
					var res downloads.Result
					err = dl.Read(ctx, scope, nil, func(ctx context.Context, src downloads.Source) error {
						var err error
						res, err = downloads.Write(ctx, &w, downloads.SummaryFile, info, downloads.DefaultOptions(), src)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					if res.Responses != st.n || res.SkippedCount != 0 {
						b.Fatalf("wrote %d responses and skipped %d (%v), want %d", res.Responses, res.SkippedCount, res.Skipped, st.n)
					}
				}
				mem.Report(b)
				if st.ceilingBytes == 0 { // the ceiling was filtered out (-bench): measure its size untimed
					st.ceilingBytes = copySize(b, pool, st)
				}
				reportThroughput(b, st.n, st.ceilingBytes)
				b.ReportMetric(float64(w.n)/1e6, "out-MB")
				if st.ceilingNsPerOp > 0 {
					oursNsPerOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					b.ReportMetric(st.ceilingNsPerOp/oursNsPerOp, "ratio")
				} else {
					b.Log("no ratio: the ceiling did not run in this process")
				}
			})
		})
	}
}

// reportThroughput reports responses/s and MB/s of data bytes per operation.
func reportThroughput(b *testing.B, responses int, data int64) {
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(responses)*float64(b.N)/s, "responses/s")
	b.ReportMetric(float64(data)*float64(b.N)/1e6/s, "MB/s")
}

// copySize is the byte count of the ceiling's COPY, read untimed.
func copySize(b *testing.B, pool *pgxpool.Pool, st *csvBenchStudy) int64 {
	b.Helper()
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	var w countingWriter
	if _, err := conn.Conn().PgConn().CopyTo(context.Background(), &w, st.copySQL); err != nil {
		b.Fatal(err)
	}
	return w.n
}

// countingWriter counts what it is given and keeps none of it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// csvBenchData is what loadResponsesCSVBench loaded, once per process.
type csvBenchData struct {
	studies    []csvBenchStudy // as responsesCSVSizes
	tableBytes float64         // pg_total_relation_size('responses') at the end of loading
}

type csvBenchStudy struct {
	id      int64
	n       int
	copySQL string // the ceiling's COPY statement
	// On disk, measured after loading (see BenchmarkResponsesCSV).
	diskBytes, expDataDiskBytes, expDataTextBytes float64
	// Filled by the ceiling for ours.
	ceilingBytes   int64
	ceilingNsPerOp float64
}

var (
	csvBenchOnce sync.Once
	csvBench     *csvBenchData
	csvBenchSkip string // why the benchmark cannot run here, if it cannot
	csvBenchErr  error
)

// loadResponsesCSVBench loads both studies the first time it is called in the process; later
// calls (-count, or the benchmark run again) find them loaded.
func loadResponsesCSVBench(b *testing.B, pool *pgxpool.Pool) *csvBenchData {
	b.Helper()
	csvBenchOnce.Do(func() {
		ctx := context.Background()
		if free, dir, ok := clusterFreeBytes(ctx, pool); !ok {
			b.Logf("could not find the cluster's data directory (%s) to check its free space; loading anyway", dir)
		} else if free < csvBenchMinFreeBytes {
			csvBenchSkip = fmt.Sprintf("only %.1f GB free where the test cluster keeps its data (%s); the benchmark loads "+
				"about 1.1 GB of responses and wants %.0f GB free", float64(free)/1e9, dir, float64(csvBenchMinFreeBytes)/(1<<30))
			return
		}
		start := time.Now()
		csvBench, csvBenchErr = seedResponsesCSVBench(ctx, pool)
		if csvBenchErr == nil {
			b.Logf("loaded %d families and studies of %d and %d responses in %s", csvBenchFamilies,
				csvBench.studies[0].n, csvBench.studies[1].n, time.Since(start).Round(time.Millisecond))
		}
	})
	if csvBenchSkip != "" {
		b.Skip(csvBenchSkip)
	}
	if csvBenchErr != nil {
		b.Fatalf("loading the responses: %v", csvBenchErr)
	}
	return csvBench
}

// clusterFreeBytes returns the free space of the file system of the cluster's data directory,
// which the harness's server has on this machine. ok is false if it cannot be found.
func clusterFreeBytes(ctx context.Context, pool *pgxpool.Pool) (free uint64, dir string, ok bool) {
	if err := pool.QueryRow(ctx, `SHOW data_directory`).Scan(&dir); err != nil {
		return 0, err.Error(), false
	}
	// The directory itself may be closed to this user; the file system is the same above it.
	for d := dir; ; d = filepath.Dir(d) {
		var fs syscall.Statfs_t
		if syscall.Statfs(d, &fs) == nil {
			return fs.Bavail * uint64(fs.Bsize), dir, true
		}
		if d == filepath.Dir(d) {
			return 0, dir, false
		}
	}
}

// seedResponsesCSVBench loads the families (set-based SQL), then each study's responses (COPY
// from generated rows) with their consent rulings, and settles the tables with VACUUM ANALYZE.
func seedResponsesCSVBench(ctx context.Context, pool *pgxpool.Pool) (*csvBenchData, error) {
	tag := uuid.NewString()[:8]
	var lab, arbiter int64
	var kids []csvBenchChild
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO labs (name, contact_email, approved_to_test)
			VALUES ('Downloads Bench Lab ' || $1, 'dl-bench-' || $1 || '@lab.example.org', true) RETURNING id`, tag).Scan(&lab); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO users (email, given_name, family_name, is_researcher, email_verified_at)
			VALUES ('dl-bench-' || $1 || '-arbiter@lab.example.org', 'Rita', 'Researcher', true, now()) RETURNING id`, tag).Scan(&arbiter); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT setseed(0.31)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO users (email, nickname, given_name, family_name, email_verified_at, created_at)
			SELECT 'dl-bench-' || $1 || '-' || g || '@example.org',
			       (ARRAY['Mom','Dad','Sam','Alex','Jo','Chris','Pat'])[1 + g % 7] || ' ' || g,
			       'Parent', 'Family' || g, now(), now() - interval '2 years'
			FROM generate_series(1, $2::integer) g`, tag, csvBenchFamilies); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO children (user_id, given_name, birthday, gender, gestational_age_at_birth,
				additional_information, existing_conditions, languages_spoken)
			SELECT u.id, (ARRAY['Ada','Ben','Cleo','Dev','Eli','Fay','Gus','Hana'])[1 + ((u.id + k) % 8)::integer] || k,
			       current_date - (90 + random() * 1800)::integer, (ARRAY['m','f','o','na'])[1 + (random() * 3)::integer],
			       CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 17)::smallint END,
			       CASE WHEN random() < 0.3 THEN 'Twin; born a little early.' ELSE '' END,
			       CASE WHEN random() < 0.1 THEN (random() * 31)::bigint ELSE 0 END,
			       CASE WHEN random() < 0.7 THEN 1 ELSE (random() * 63)::bigint END
			FROM users u, generate_series(1, 1 + (u.id % 2)::integer) k
			WHERE u.email LIKE 'dl-bench-' || $1 || '-%@example.org'`, tag); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO demographic_data (user_id, number_of_children, child_birthdays, number_of_guardians,
				us_race_ethnicity_identification, age, gender, education_level, annual_income, country, state, density,
				lookit_referrer, additional_comments, created_at)
			SELECT u.id, (1 + (random() * 3)::integer)::text, ARRAY[current_date - (100 + random() * 1500)::integer]::date[],
			       (ARRAY['1','2','2','2','3','varies'])[1 + (random() * 5)::integer],
			       (ARRAY['{white}','{asian}','{black}','{hisp}','{white,hisp}'])[1 + (random() * 4)::integer]::text[],
			       (ARRAY['25-29','30-34','35-39','40-44'])[1 + (random() * 3)::integer], (ARRAY['f','m','o','na'])[1 + (random() * 3)::integer],
			       (ARRAY['hs','col','bach','grad','prof'])[1 + (random() * 4)::integer], ((3 + (random() * 15)::integer) * 10000)::text,
			       'US', (ARRAY['MA','CA','NY','TX','WA'])[1 + (random() * 4)::integer], (ARRAY['urban','suburban','rural'])[1 + (random() * 2)::integer],
			       CASE WHEN random() < 0.5 THEN 'A friend told me' ELSE '' END, '', now() - interval '1 year'
			FROM users u WHERE u.email LIKE 'dl-bench-' || $1 || '-%@example.org'`, tag); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT c.id, c.birthday, d.id FROM children c JOIN users u ON u.id = c.user_id
			JOIN demographic_data d ON d.user_id = u.id WHERE u.email LIKE 'dl-bench-' || $1 || '-%@example.org' ORDER BY c.id`, tag)
		if err != nil {
			return err
		}
		kids, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (csvBenchChild, error) {
			var k csvBenchChild
			return k, r.Scan(&k.id, &k.birthday, &k.demographics)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("families: %w", err)
	}
	copyTemplate, err := ceilingQuery()
	if err != nil {
		return nil, err
	}
	data := &csvBenchData{}
	for i, size := range responsesCSVSizes {
		before, err := responsesTableBytes(ctx, pool)
		if err != nil {
			return nil, err
		}
		st := csvBenchStudy{n: size.n}
		var studyUUID string
		err = postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state, public, short_description)
				VALUES ($1, $2, 1, 'active', true, 'How babies look at pictures.') RETURNING id, uuid::text`,
				fmt.Sprintf("Downloads bench %s %s", size.name, tag), lab).Scan(&st.id, &studyUUID); err != nil {
				return err
			}
			gen := newSessionGen(uint64(i), st.id, studyUUID, kids, size.n)
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"responses"}, gen.columns(), pgx.CopyFromFunc(gen.next))
			if err != nil {
				return err
			}
			if n != int64(size.n) {
				return fmt.Errorf("copied %d responses, want %d", n, size.n)
			}
			// The consent manager's ruling: accepted by the lab's researcher a few days after.
			_, err = tx.Exec(ctx, `INSERT INTO consent_rulings (response_id, action, arbiter_id, comments, created_at)
				SELECT id, 'accepted', $2, CASE WHEN id % 17 = 0 THEN 'Consent confirmed by email.' ELSE '' END,
				       created_at + interval '3 days' + (id % 1000) * interval '1 minute'
				FROM responses WHERE study_id = $1`, st.id, arbiter)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("study of %s responses: %w", size.name, err)
		}
		for _, table := range []string{"responses", "consent_rulings", "children", "users", "demographic_data", "studies"} {
			if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
				return nil, fmt.Errorf("vacuum %s: %w", table, err)
			}
		}
		after, err := responsesTableBytes(ctx, pool)
		if err != nil {
			return nil, err
		}
		st.diskBytes = after - before
		if err := pool.QueryRow(ctx, `SELECT sum(pg_column_size(exp_data))::float8, sum(octet_length(exp_data::text))::float8
			FROM responses WHERE study_id = $1`, st.id).Scan(&st.expDataDiskBytes, &st.expDataTextBytes); err != nil {
			return nil, err
		}
		st.copySQL = strings.ReplaceAll(copyTemplate, "@study_id", strconv.FormatInt(st.id, 10))
		data.studies = append(data.studies, st)
		data.tableBytes = after
	}
	return data, nil
}

func responsesTableBytes(ctx context.Context, pool *pgxpool.Pool) (float64, error) {
	var n float64
	err := pool.QueryRow(ctx, `SELECT pg_total_relation_size('responses')::float8`).Scan(&n)
	return n, err
}

// ceilingQuery returns the ceiling's COPY statement with "@study_id" still in it: the
// DownloadResponsesByID query of queries/downloads.sql, for every real response of the study at
// once (no single response, no keyset page, whole exp_data), so that the ceiling reads every
// row ours reads.
func ceilingQuery() (string, error) {
	src, err := os.ReadFile("queries/downloads.sql")
	if err != nil {
		return "", err
	}
	_, q, ok := strings.Cut(string(src), "-- name: DownloadResponsesByID :many\n")
	if !ok {
		return "", fmt.Errorf("queries/downloads.sql has no DownloadResponsesByID")
	}
	q, _, ok = strings.Cut(q, ";")
	if !ok {
		return "", fmt.Errorf("DownloadResponsesByID does not end")
	}
	for _, r := range [][2]string{
		{"@preview", "false"},
		// The whole rows, exp_data included: the ceiling is the fastest way to get the study's
		// responses out of PostgreSQL; that ours needs less of exp_data is ours to exploit.
		{"@exit_only::boolean", "false"},
		{"sqlc.narg(response_uuid)::text", "NULL::text"},
		{"@after_id", "0"},
		{"LIMIT @lim", ""},
	} {
		if !strings.Contains(q, r[0]) {
			return "", fmt.Errorf("DownloadResponsesByID has changed: no %q in it; update the ceiling", r[0])
		}
		q = strings.ReplaceAll(q, r[0], r[1])
	}
	if rest := strings.ReplaceAll(q, "@study_id", ""); strings.Contains(rest, "@") || strings.Contains(rest, "sqlc.") {
		return "", fmt.Errorf("DownloadResponsesByID has parameters the ceiling does not fill: %s", q)
	}
	return "COPY (" + strings.TrimSpace(q) + ") TO STDOUT (FORMAT csv)", nil
}

type csvBenchChild struct {
	id, demographics int64
	birthday         time.Time
}

// sessionGen generates a study's responses as the frameplayer records them: a video
// configuration frame, a video consent, instructions, 4 to 6 test trials and the exit survey
// (a tenth of the families leave before it), each frame with its eventTimings (recorder and
// video events with their stream times and video ids) and its answers. Every value that varies
// in real sessions (times, ids, choices, reaction times, feedback) varies here, from a seeded
// generator, so the data is the same from run to run but compresses only as much as real
// session data: about 10 KB of JSON per response.
type sessionGen struct {
	rng   *rand.Rand
	id    int64  // the study's
	study string // its uuid
	kids  []csvBenchChild
	n, i  int
	start time.Time
	w     jsonWriter
}

func newSessionGen(seed uint64, id int64, study string, kids []csvBenchChild, n int) *sessionGen {
	return &sessionGen{rng: rand.New(rand.NewPCG(seed, 0x5e5510)), id: id, study: study, kids: kids, n: n,
		start: time.Now().UTC().AddDate(-1, 0, 0).Truncate(time.Second)}
}

func (g *sessionGen) columns() []string {
	return []string{"uuid", "study_id", "child_id", "study_type_id", "demographic_snapshot_id", "completed",
		"completed_consent_frame", "exp_data", "conditions", "global_event_timings", "sequence", "eligibility",
		"researcher_payment_status", "researcher_session_status", "researcher_star", "created_at", "updated_at"}
}

var (
	benchTrialEvents = []string{"exp-lookit-images-audio:startRecording", "exp-lookit-images-audio:videoStarted",
		"exp-lookit-images-audio:trialStart", "exp-lookit-images-audio:lookAway", "exp-lookit-images-audio:lookBack",
		"exp-lookit-images-audio:clickImage", "exp-lookit-images-audio:audioStarted", "exp-lookit-images-audio:stoppingCapture"}
	benchImages   = []string{"cat", "dog", "ball", "shoe", "apple", "truck", "duck", "spoon", "cup", "hat", "bird", "fish"}
	benchFeedback = []string{"", "", "", "My daughter loved the pictures!", "He got a bit fussy near the end, sorry.",
		"The video froze once but came back.", "We had to pause because the dog barked.", "Fun! Can we do another one?",
		"She kept pointing at the screen and naming the animals."}
)

// next returns the next response's row, nil after the last.
func (g *sessionGen) next() ([]any, error) {
	if g.i == g.n {
		return nil, nil
	}
	i := g.i
	g.i++
	r := g.rng
	kid := g.kids[r.IntN(len(g.kids))]
	id := uuid.New()
	resp := id.String()
	created := g.start.Add(time.Duration(i) * 365 * 24 * time.Hour / time.Duration(g.n)).Add(time.Duration(r.IntN(60_000)) * time.Millisecond)
	clock := created
	trials := 4 + r.IntN(3)
	finished := r.IntN(10) != 0
	frames := []string{"0-video-config", "1-video-consent", "2-instructions"}
	for t := 1; t <= trials; t++ {
		frames = append(frames, "3-test-trials-"+strconv.Itoa(t))
	}
	if finished {
		frames = append(frames, "4-exit-survey")
	}

	w := &g.w
	w.reset()
	tick := func(maxMS int) time.Time {
		clock = clock.Add(time.Duration(300+r.IntN(maxMS)) * time.Millisecond)
		return clock
	}
	videoID := func(frame string) string {
		return "videoStream_" + g.study + "_" + frame + "_" + resp + "_" + strconv.FormatInt(clock.UnixMilli(), 10) + "_" + strconv.Itoa(1000+r.IntN(9000))
	}
	event := func(typ, video string, stream float64) {
		w.open('{')
		w.kstr("eventType", typ)
		w.kstr("timestamp", tick(4000).Format("2006-01-02T15:04:05.000Z"))
		if video != "" {
			w.kfloat("streamTime", stream, 3)
			w.kstr("videoId", video)
		}
		w.close('}')
	}

	w.open('{')
	// Video configuration: no recording.
	w.key(frames[0])
	w.open('{')
	w.kstr("frameType", "DEFAULT")
	w.key("eventTimings")
	w.open('[')
	event("exp-video-config:recorderReady", "", 0)
	event("exp-video-config:nextFrame", "", 0)
	w.close(']')
	w.close('}')
	// Video consent: the consent recording.
	w.key(frames[1])
	w.open('{')
	w.kstr("frameType", "CONSENT")
	video := videoID(frames[1])
	w.key("eventTimings")
	w.open('[')
	stream := 0.0
	for _, e := range []string{"recorderReady", "startRecording", "clickedRecordButton", "stoppingCapture", "nextFrame"} {
		event("exp-lookit-video-consent:"+e, video, stream)
		stream += 1 + r.Float64()*20
	}
	w.close(']')
	w.kstr("videoId", video)
	w.key("videoList")
	w.open('[')
	w.str(video)
	w.close(']')
	w.close('}')
	// Instructions.
	w.key(frames[2])
	w.open('{')
	w.kstr("frameType", "DEFAULT")
	w.key("eventTimings")
	w.open('[')
	event("exp-lookit-instructions:nextFrame", "", 0)
	w.close(']')
	w.kbool("confirmedAudio", r.IntN(20) != 0)
	w.close('}')
	// Test trials: a recording each, looking and choosing events.
	for t := 1; t <= trials; t++ {
		frame := frames[2+t]
		w.key(frame)
		w.open('{')
		w.kstr("frameType", "DEFAULT")
		video := videoID(frame)
		w.key("eventTimings")
		w.open('[')
		stream := 0.0
		for range 3 + r.IntN(4) {
			event(benchTrialEvents[r.IntN(len(benchTrialEvents))], video, stream)
			stream += r.Float64() * 8
		}
		w.close(']')
		left, right := benchImages[r.IntN(len(benchImages))], benchImages[r.IntN(len(benchImages))]
		w.kstr("videoId", video)
		w.key("videoList")
		w.open('[')
		w.str(video)
		w.close(']')
		w.key("images")
		w.open('{')
		w.kstr("left", "img/"+left+"_"+strconv.Itoa(r.IntN(20))+".jpg")
		w.kstr("right", "img/"+right+"_"+strconv.Itoa(r.IntN(20))+".jpg")
		w.close('}')
		w.kstr("selectedImage", []string{"left", "right", "none"}[r.IntN(3)])
		w.kfloat("reactionTime", 300+r.Float64()*4000, 1)
		w.key("lookingTimes")
		w.open('[')
		for range 3 {
			w.float(r.Float64()*10, 3)
		}
		w.close(']')
		w.kint("trialNumber", t)
		w.kbool("correct", r.IntN(2) == 0)
		w.close('}')
	}
	// Exit survey.
	if finished {
		w.key("4-exit-survey")
		w.open('{')
		w.kstr("frameType", "EXIT")
		w.key("eventTimings")
		w.open('[')
		event("exp-lookit-exit-survey:nextFrame", "", 0)
		w.close(']')
		w.kstr("birthDate", kid.birthday.Add(time.Duration(4+r.IntN(2))*time.Hour).Format("2006-01-02T15:04:05.000Z"))
		w.kstr("databraryShare", []string{"yes", "no"}[r.IntN(2)])
		w.kstr("useOfMedia", []string{"private", "scientific", "public"}[r.IntN(3)])
		w.kbool("withdrawal", r.IntN(50) == 0)
		w.kstr("feedback", benchFeedback[r.IntN(len(benchFeedback))])
		w.close('}')
	}
	w.close('}')
	expData := json.RawMessage(append([]byte(nil), w.b...))

	conditions := fmt.Sprintf(`{"3-test-trials": {"conditionNum": %d, "parameterSet": {"SIDE": %q, "SET": "set%d"}}}`,
		r.IntN(4), []string{"left", "right"}[r.IntN(2)], r.IntN(3))
	payment := []string{"", "", "to_pay", "paid", "review"}[r.IntN(5)]
	return []any{id, g.id, kid.id, int16(1), kid.demographics, finished, true, expData, json.RawMessage(conditions),
		json.RawMessage(`[]`), frames, []string{"Eligible"}, payment, "", r.IntN(20) == 0, created, clock}, nil
}

// jsonWriter appends JSON whose strings need no escaping (the generator's are plain ASCII).
type jsonWriter struct {
	b     []byte
	comma bool
}

func (w *jsonWriter) reset() { w.b, w.comma = w.b[:0], false }

func (w *jsonWriter) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = false
}

func (w *jsonWriter) open(c byte) { w.sep(); w.b = append(w.b, c) }

func (w *jsonWriter) close(c byte) { w.b = append(w.b, c); w.comma = true }

func (w *jsonWriter) key(k string) {
	w.sep()
	w.b = append(append(append(w.b, '"'), k...), '"', ':')
}

func (w *jsonWriter) str(s string) {
	w.sep()
	w.b = append(append(append(w.b, '"'), s...), '"')
	w.comma = true
}

func (w *jsonWriter) float(f float64, prec int) {
	w.sep()
	w.b = strconv.AppendFloat(w.b, f, 'f', prec, 64)
	w.comma = true
}

func (w *jsonWriter) kstr(k, s string)                  { w.key(k); w.str(s) }
func (w *jsonWriter) kfloat(k string, f float64, p int) { w.key(k); w.float(f, p) }

func (w *jsonWriter) kint(k string, n int) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.comma = true
}

func (w *jsonWriter) kbool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
	w.comma = true
}
