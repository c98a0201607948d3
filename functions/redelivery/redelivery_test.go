package redelivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/cloudbuild/apiv1/v2/cloudbuildpb"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/functions/builds"
	"lookit.dev/platform/functions/buildstatus"
	fexports "lookit.dev/platform/functions/exports"
	jobsfn "lookit.dev/platform/functions/jobs"
	"lookit.dev/platform/functions/mailer"
	sharedbuilds "lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/cloudbuild"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/exports"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/s3/s3test"
	"lookit.dev/platform/shared/videos"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// world is one function instance whose outside services count what they are asked to do.
type world struct {
	t       *testing.T
	ctx     context.Context
	pool    *pgxpool.Pool
	in      *instance.Instance
	sent    *countingSender
	builder *countingBuilder
	pub     *recordingPublisher
	buckets videos.Buckets
	deletes *counter
}

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[k]++
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// countingSender is SendGrid: it accepts every email and counts them by id.
type countingSender struct{ counter }

func (s *countingSender) Send(_ context.Context, m mail.Outgoing) (string, error) {
	s.add(m.ID)
	return "sg-" + m.ID, nil
}

// countingBuilder is Cloud Build: it starts every build and counts them by request.
type countingBuilder struct{ counter }

func (b *countingBuilder) Start(_ context.Context, r sharedbuilds.Request) (sharedbuilds.Started, error) {
	b.add(r.RequestID)
	return sharedbuilds.Started{ID: "cb-" + r.RequestID, LogURL: "https://console.cloud.google.com/cloud-build/builds/cb-" + r.RequestID}, nil
}

// recordingPublisher is Pub/Sub: it keeps what is published.
type recordingPublisher struct {
	mu   sync.Mutex
	msgs []struct {
		topic string
		data  []byte
	}
}

func (p *recordingPublisher) Publish(_ context.Context, topic string, data []byte, _ map[string]string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, struct {
		topic string
		data  []byte
	}{topic, bytes.Clone(data)})
	return uuid.NewString(), nil
}

// count is how many messages on topic contain s.
func (p *recordingPublisher) count(topic, s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.msgs {
		if m.topic == topic && bytes.Contains(m.data, []byte(s)) {
			n++
		}
	}
	return n
}

// countingStore counts deletions and stale-upload sweeps of one video bucket.
type countingStore struct {
	videos.Store
	name string
	c    *counter
}

func (s countingStore) Delete(ctx context.Context, key string) error {
	s.c.add(s.name + "/" + key)
	return s.Store.Delete(ctx, key)
}

func (s countingStore) CompleteStaleUploads(ctx context.Context, olderThan time.Duration, now time.Time) (int, error) {
	s.c.add(s.name + " sweep")
	return s.Store.CompleteStaleUploads(ctx, olderThan, now)
}

func newWorld(t *testing.T) *world {
	cfg, err := config.Load(func(k string) string { return map[string]string{"ENVIRONMENT": "local"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ctx: context.Background(), pool: pgtest.Pool(t), sent: &countingSender{}, builder: &countingBuilder{},
		pub: &recordingPublisher{}, deletes: &counter{}}
	f := s3test.New(t, "pipe", "recorder", "jspsych", "private")
	w.buckets = videos.Buckets{Pipe: countingStore{f.Bucket("pipe"), "pipe", w.deletes},
		Recorder: countingStore{f.Bucket("recorder"), "recorder", w.deletes}, JSPsych: countingStore{f.Bucket("jspsych"), "jspsych", w.deletes}}
	w.in = instance.New(cfg, "redelivery-test")
	w.in.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	w.in.DB = instance.Value(w.pool)
	w.in.Mail = instance.Value[mail.Sender](w.sent)
	w.in.Builder = instance.Value[sharedbuilds.Builder](w.builder)
	w.in.Publisher = instance.Value[events.Publisher](w.pub)
	w.in.Videos = instance.Value(w.buckets)
	w.in.Private = instance.Value[objects.Store](f.Bucket("private"))
	return w
}

// deliver hands one message to fn the way Pub/Sub redelivers it: twice at the same time, then
// once more after both finished. Every delivery must be acknowledged.
func (w *world) deliver(fn func(context.Context, event.Event) error, topic string, v any) {
	w.t.Helper()
	w.deliverTolerating(fn, topic, v, nil)
}

// deliverTolerating is deliver for a function that answers a delivery overlapping another
// with a retryable error (tolerated): Pub/Sub redelivers that one later. The delivery after
// both must still succeed.
func (w *world) deliverTolerating(fn func(context.Context, event.Event) error, topic string, v any, tolerated error) {
	w.t.Helper()
	data, err := json.Marshal(v)
	if b, ok := v.([]byte); ok {
		data, err = b, nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	e, err := events.ToCloudEvent("lookit-test", topic+"-sub", events.Message{ID: uuid.NewString(), Topic: topic, Data: data})
	if err != nil {
		w.t.Fatal(err)
	}
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { errs <- fn(w.ctx, e) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && (tolerated == nil || !errors.Is(err, tolerated)) {
			w.t.Fatalf("a delivery on %s failed: %v", topic, err)
		}
	}
	if err := fn(w.ctx, e); err != nil {
		w.t.Fatalf("the delivery after both on %s failed: %v", topic, err)
	}
	var rejected int
	if err := w.pool.QueryRow(w.ctx, `SELECT count(*) FROM rejected_events WHERE message_id = $1`, e.ID()).Scan(&rejected); err != nil {
		w.t.Fatal(err)
	}
	if rejected != 0 {
		w.t.Fatalf("a delivery on %s was rejected", topic)
	}
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.pool.Exec(w.ctx, sql, args...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.pool.QueryRow(w.ctx, sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// buildStudy is a frameplayer study pinning a fresh commit, with an admin; it returns the study
// and its stored build request.
func (w *world) buildStudy(admin string) (int64, sharedbuilds.Request) {
	w.t.Helper()
	sha := strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "")[:40]
	var id int64
	if err := w.pool.QueryRow(w.ctx, `WITH l AS (INSERT INTO labs (name) VALUES ('Redelivery Lab ' || gen_random_uuid()) RETURNING id)
		INSERT INTO studies (name, lab_id, study_type_id, max_age_years, metadata)
		SELECT 'Redelivery study', l.id, 1, 9, jsonb_build_object('player_repo_url', $2::text, 'last_known_player_sha', $1::text) FROM l
		RETURNING id`, sha, postgres.DefaultPlayerRepo).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	w.exec(`WITH u AS (INSERT INTO users (email, is_researcher) VALUES ($2, true) RETURNING id)
		INSERT INTO study_researchers (study_id, user_id, grp) SELECT $1, u.id, 'admin' FROM u`, id, admin)
	b, err := (&postgres.Studies{Pool: w.pool}).RequestStudyBuild(w.ctx, id, 0, "experiments", nil)
	if err != nil || b.Request == nil {
		w.t.Fatalf("build request: %v %+v", err, b)
	}
	return id, *b.Request
}

func TestEveryHandlerHasItsEffectOnce(t *testing.T) {
	w := newWorld(t)
	sendEmail, startBuild, buildStatus, runJob := mailer.New(w.in), builds.New(w.in), buildstatus.New(w.in), jobsfn.New(w.in)

	t.Run("SendEmail", func(t *testing.T) {
		req := mail.Request{ID: uuid.NewString(), Kind: mail.KindPasswordChanged, To: []string{"twice@example.org"},
			Subject: "Your Lookit password was changed", Text: "Changed.\n"}
		w.deliver(sendEmail, events.TopicEmail, req)
		if n := w.sent.get(req.ID); n != 1 {
			t.Errorf("SendGrid got the email %d times", n)
		}
	})

	t.Run("StartBuild and BuildStatus", func(t *testing.T) {
		admin := "admin-" + uuid.NewString()[:8] + "@example.org"
		study, req := w.buildStudy(admin)
		w.deliver(startBuild, events.TopicBuilds, req)
		if n := w.builder.get(req.RequestID); n != 1 {
			t.Fatalf("Cloud Build got %d builds for one request", n)
		}
		status, err := cloudbuild.EncodeStatus(&cloudbuildpb.Build{Id: "cb-" + req.RequestID, Status: cloudbuildpb.Build_SUCCESS,
			LogUrl: "https://console.cloud.google.com/cloud-build/builds/cb-" + req.RequestID})
		if err != nil {
			t.Fatal(err)
		}
		w.deliver(buildStatus, events.TopicCloudBuilds, status)
		built := w.count(`SELECT count(*) FROM studies WHERE id = $1 AND built AND NOT is_building`, study)
		deployed := w.count(`SELECT count(*) FROM study_logs WHERE study_id = $1 AND action = 'deployed'`, study)
		queued := w.count(`SELECT count(*) FROM email_messages WHERE kind = 'runner_built' AND $1 = ANY(to_addresses)`, admin)
		if built != 1 || deployed != 1 || queued != 1 || w.pub.count(events.TopicEmail, admin) != 1 {
			t.Errorf("SUCCESS delivered three times: built %d, deployed logs %d, emails queued %d, published %d; want 1 each",
				built, deployed, queued, w.pub.count(events.TopicEmail, admin))
		}
	})

	t.Run("RunExport", func(t *testing.T) {
		runExport := fexports.New(w.in, fexports.Registry(w.in, nil))
		researcher := "exporter-" + uuid.NewString()[:8] + "@example.org"
		var studyID, researcherID int64
		if err := w.pool.QueryRow(w.ctx, `WITH l AS (INSERT INTO labs (name) VALUES ('Export Lab') RETURNING id)
			INSERT INTO studies (name, lab_id, study_type_id) SELECT 'Export study', l.id, 1 FROM l RETURNING id`).Scan(&studyID); err != nil {
			t.Fatal(err)
		}
		if err := w.pool.QueryRow(w.ctx, `INSERT INTO users (email, is_researcher) VALUES ($1, true) RETURNING id`, researcher).Scan(&researcherID); err != nil {
			t.Fatal(err)
		}
		// Two consented responses, each with a consent video in the recorder bucket.
		var keys []string
		if err := w.pool.QueryRow(w.ctx, `
			WITH u AS (INSERT INTO users (email) VALUES ('export-family-' || gen_random_uuid() || '@example.org') RETURNING id),
			     c AS (INSERT INTO children (user_id, given_name, birthday, gender) SELECT id, 'Kid', current_date - 400, 'm' FROM u RETURNING id),
			     r AS (INSERT INTO responses (study_id, child_id, study_type_id, completed, completed_consent_frame)
			           SELECT $1, c.id, 1, true, true FROM c, generate_series(1, 2) RETURNING id),
			     cr AS (INSERT INTO consent_rulings (response_id, action) SELECT id, 'accepted' FROM r),
			     v AS (INSERT INTO videos (s3_timestamp, frame_id, full_name, bucket, study_id, response_id, is_consent_footage)
			           SELECT now(), '1-video-consent', 'consent-' || gen_random_uuid() || '.webm', 'recorder', $1, r.id, true FROM r
			           RETURNING full_name)
			SELECT array_agg(full_name) FROM v`, studyID).Scan(&keys); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if err := w.buckets.Recorder.Put(w.ctx, k, strings.NewReader("consent video"), "video/webm"); err != nil {
				t.Fatal(err)
			}
		}
		x := &postgres.Exports{Pool: w.pool}
		for _, tc := range []struct {
			kind   string
			params postgres.ExportParams
		}{
			{postgres.ExportDownload, postgres.ExportParams{File: "summary_csv"}},
			{postgres.ExportVideoArchive, postgres.ExportParams{ConsentOnly: true}},
		} {
			id, _, err := x.Create(w.ctx, postgres.ExportRequest{StudyID: studyID, RequestedBy: researcherID, Kind: tc.kind, Params: tc.params})
			if err != nil {
				t.Fatal(err)
			}
			w.deliverTolerating(runExport, events.TopicExports, exports.Request{ExportID: id, Kind: tc.kind}, postgres.ErrExportBusy)
			var state string
			var attempts int
			if err := w.pool.QueryRow(w.ctx, `SELECT state, attempts FROM exports WHERE id = $1`, id).Scan(&state, &attempts); err != nil {
				t.Fatal(err)
			}
			emails := w.count(`SELECT count(*) FROM email_messages e JOIN exports x ON x.email_id = e.id WHERE x.id = $1`, id)
			if state != "done" || attempts != 1 || emails != 1 {
				t.Errorf("%s delivered three times: state %s after %d runs, %d emails; want done after 1 run, 1 email", tc.kind, state, attempts, emails)
			}
		}
		if n := w.count(`SELECT count(*) FROM email_messages WHERE kind = 'export_ready' AND $1 = ANY(to_addresses)`, researcher); n != 2 || w.pub.count(events.TopicEmail, researcher) != 2 {
			t.Errorf("two exports: %d emails queued, %d published; want 2 and 2", n, w.pub.count(events.TopicEmail, researcher))
		}
	})

	// Each job, with something for it to do where it has an effect to count.
	key := "withdrawn-" + uuid.NewString() + ".webm"
	if err := w.buckets.Recorder.Put(w.ctx, key, strings.NewReader("video"), "video/webm"); err != nil {
		t.Fatal(err)
	}
	w.exec(`INSERT INTO video_deletions (bucket, object_key, reason, delete_after) VALUES ('recorder', $1, 'withdrawn', now() - interval '1 minute')`, key)

	unsent := uuid.NewString()
	w.exec(`INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text, body_html, reply_to, created_at)
		VALUES ($1, 'password_changed', 'bot@example.org', ARRAY['lost@example.org'], 'Changed', 'Changed.', '', '', now() - interval '1 hour')`, unsent)

	_, stale := w.buildStudy("stale-admin-" + uuid.NewString()[:8] + "@example.org")
	w.exec(`UPDATE builds SET created_at = now() - interval '1 hour' WHERE request_id = $1`, stale.RequestID)

	var lostExport string
	if err := w.pool.QueryRow(w.ctx, `WITH l AS (INSERT INTO labs (name) VALUES ('Lost export lab') RETURNING id),
		s AS (INSERT INTO studies (name, lab_id, study_type_id) SELECT 'Lost export', l.id, 2 FROM l RETURNING id)
		INSERT INTO exports (study_id, kind, params, request_key, file_name, created_at)
		SELECT s.id, 'download', '{"file": "summary_csv"}', gen_random_uuid()::text, 'Lost-export_all-responses.csv', now() - interval '1 hour' FROM s
		RETURNING id::text`).Scan(&lostExport); err != nil {
		t.Fatal(err)
	}

	family := "family-" + uuid.NewString()[:8] + "@example.org"
	w.exec(`WITH l AS (INSERT INTO labs (name, contact_email, approved_to_test) VALUES ('Announcing Lab', 'lab@lab.example.org', true) RETURNING id)
		INSERT INTO studies (name, lab_id, study_type_id, state, public, short_description, max_age_years)
		SELECT 'Baby Physics', l.id, 1, 'active', true, 'What babies know about falling', 5 FROM l`)
	w.exec(`WITH u AS (INSERT INTO users (email, nickname, email_verified_at) VALUES ($1, 'Parent', now()) RETURNING id)
		INSERT INTO children (user_id, given_name, birthday, gender, languages_spoken) SELECT u.id, 'Ada', current_date - 400, 'f', 1 FROM u`, family)

	effects := map[string]func(t *testing.T){
		jobs.DeleteDueVideos: func(t *testing.T) {
			if n := w.deletes.get("recorder/" + key); n != 1 {
				t.Errorf("the withdrawn video was deleted %d times", n)
			}
		},
		jobs.CompleteStaleUploads: func(t *testing.T) {
			if r, j := w.deletes.get("recorder sweep"), w.deletes.get("jspsych sweep"); r != 1 || j != 1 {
				t.Errorf("stale uploads swept %d and %d times", r, j)
			}
		},
		jobs.RetryUnsentEmails: func(t *testing.T) {
			if n := w.pub.count(events.TopicEmail, unsent); n != 1 {
				t.Errorf("the unsent email was published %d times", n)
			}
		},
		jobs.StaleBuilds: func(t *testing.T) {
			if n := w.pub.count(events.TopicBuilds, stale.RequestID); n != 1 {
				t.Errorf("the lost build request was published %d times", n)
			}
		},
		jobs.StaleExports: func(t *testing.T) {
			if n := w.pub.count(events.TopicExports, lostExport); n != 1 {
				t.Errorf("the lost export was published %d times", n)
			}
		},
		jobs.StudyAnnouncements: func(t *testing.T) {
			queued := w.count(`SELECT count(*) FROM email_messages WHERE kind = 'study_announcement' AND $1 = ANY(to_addresses)`, family)
			if queued != 1 || w.pub.count(events.TopicEmail, family) != 1 {
				t.Errorf("announcement queued %d times, published %d", queued, w.pub.count(events.TopicEmail, family))
			}
		},
	}
	for job := range jobs.Schedule {
		t.Run("RunJob "+job, func(t *testing.T) {
			before := w.count(`SELECT count(*) FROM job_runs WHERE job = $1`, job)
			w.deliver(runJob, events.TopicJobs, jobs.Request{Job: job})
			if n := w.count(`SELECT count(*) FROM job_runs WHERE job = $1 AND finished_at IS NOT NULL`, job) - before; n != 1 {
				t.Errorf("one firing ran %d times", n)
			}
			if check := effects[job]; check != nil {
				check(t)
			}
		})
	}
}
