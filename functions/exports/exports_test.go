package exports_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ps "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/storage"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	fexports "lookit.dev/platform/functions/exports"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/exports"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/localstack"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/pubsub"
)

// childEnv turns the test binary into the export worker that the test kills mid-way.
const childEnv = "EXPORTS_TEST_WORKER"

const (
	privateBucket = "lookit-private-test"
	responses     = 600
	lease         = 2 * time.Second
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(worker())
	}
	os.Exit(pgtest.Main(m))
}

// configure gives runs a short lease, so a killed run's export is taken over within seconds.
func configure(x *postgres.Exports) { x.Lease, x.Heartbeat = lease, 100*time.Millisecond }

// worker runs RunExport on the emulator's exports subscription with a private bucket that
// accepts bytes slowly, so the export is still being written when the test kills the process.
func worker() int {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	in := instance.New(cfg, "exports-worker")
	fast := in.Private
	in.Private = func(ctx context.Context) (objects.Store, error) {
		st, err := fast(ctx)
		return slowStore{st}, err
	}
	ctx := context.Background()
	c, err := ps.NewClient(ctx, cfg.Project)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	topic, _ := events.TopicByName(events.TopicExports)
	d := &pubsub.Dispatcher{Client: c, Topics: []events.Topic{topic}, Log: in.Log, BackoffScale: 0.01, AckExtension: 10 * time.Second,
		Functions: map[string]pubsub.CloudEventFunc{fexports.Name: fexports.New(in, fexports.Registry(in, configure))}}
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// slowStore takes a file's bytes 4 KB every 50 ms.
type slowStore struct{ objects.Store }

func (s slowStore) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	return s.Store.Put(ctx, key, &slowReader{r}, contentType)
}

type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(50 * time.Millisecond)
	return s.r.Read(p[:min(len(p), 4096)])
}

// recordingPublisher keeps what the finishing run publishes (the email).
type recordingPublisher struct {
	mu   sync.Mutex
	sent []string
}

func (p *recordingPublisher) Publish(_ context.Context, topic string, _ []byte, _ map[string]string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, topic)
	return strconv.Itoa(len(p.sent)), nil
}

func (p *recordingPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

// An export whose run is killed mid-way (SIGKILL: no clean-up, no nack) is delivered again by
// Pub/Sub once its acknowledgement deadline passes (the worker extends it by at most 10 s at a
// time; the emulator has taken 10 to 60 s to redeliver); the new delivery takes over the run's lapsed
// lease, writes the whole file and sends one email. Delivering the message once more changes
// nothing.
func TestKilledExportIsRetriedAndFinishesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a worker process and waits for a redelivery")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pool := pgtest.Pool(t)
	start := time.Now()

	// The emulator, with the exports subscription's acknowledgement deadline at its minimum.
	if os.Getenv("PUBSUB_EMULATOR_HOST") == "" {
		t.Fatal("PUBSUB_EMULATOR_HOST is not set: run the tests with `make test`, which starts the emulator")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	project := "exports-" + hex.EncodeToString(b[:])
	c, err := ps.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := pubsub.EnsureTopology(ctx, c, events.Topics); err != nil {
		t.Fatal(err)
	}
	topic, _ := events.TopicByName(events.TopicExports)
	if _, err := c.SubscriptionAdminClient.UpdateSubscription(ctx, &pubsubpb.UpdateSubscriptionRequest{
		Subscription: &pubsubpb.Subscription{Name: "projects/" + project + "/subscriptions/" + topic.Subscription, AckDeadlineSeconds: 10},
		UpdateMask:   &fieldmaskpb.FieldMask{Paths: []string{"ack_deadline_seconds"}},
	}); err != nil {
		t.Fatalf("ack deadline: %v", err)
	}

	// The private bucket on fake-gcs-server, reachable from the worker process.
	port, err := localstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	gcsAddr := "127.0.0.1:" + strconv.Itoa(port)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: uint16(port),
		PublicHost: gcsAddr, Writer: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: privateBucket})
	t.Setenv("STORAGE_EMULATOR_HOST", gcsAddr) // storage clients read it from the environment

	// A study with 600 responses and the researcher who asks for its overview.
	var studyID, researcherID int64
	if err := pool.QueryRow(ctx, `
		WITH l AS (INSERT INTO labs (name) VALUES ('Export Lab') RETURNING id)
		INSERT INTO studies (name, lab_id, study_type_id) SELECT 'Killed export study', id, 2 FROM l RETURNING id`).Scan(&studyID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, is_researcher) VALUES ('exporter@example.org', true) RETURNING id`).Scan(&researcherID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		WITH u AS (INSERT INTO users (email) VALUES ('export-family@example.org') RETURNING id),
		     c AS (INSERT INTO children (user_id, given_name, birthday, gender) SELECT id, 'Kid', current_date - 500, 'f' FROM u RETURNING id)
		INSERT INTO responses (study_id, child_id, study_type_id, completed, sequence, conditions, exp_data)
		SELECT $1, c.id, 2, true, '{0-start,1-exit}', jsonb_build_object('0-start', jsonb_build_object('n', g)),
		       jsonb_build_object('0-start', jsonb_build_object('frameType', 'DEFAULT', 'note', repeat(md5(g::text), 20)),
		                          '1-exit', jsonb_build_object('frameType', 'EXIT', 'withdrawal', false))
		FROM c, generate_series(1, $2) g`, studyID, responses); err != nil {
		t.Fatal(err)
	}
	x := &postgres.Exports{Pool: pool}
	id, created, err := x.Create(ctx, postgres.ExportRequest{StudyID: studyID, RequestedBy: researcherID, Kind: postgres.ExportDownload,
		Params: postgres.ExportParams{File: "summary_csv"}})
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	pub := pubsub.NewPublisher(c)
	defer pub.Stop()
	req := exports.Request{ExportID: id, Kind: postgres.ExportDownload}
	if _, err := events.PublishJSON(ctx, pub, events.TopicExports, req, nil); err != nil {
		t.Fatal(err)
	}

	// The worker takes the message and starts writing; kill it once progress shows.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	worker := exec.Command(exe, "-test.run=^$")
	worker.Env = append(os.Environ(), childEnv+"=1", "ENVIRONMENT=local", "DATABASE_URL="+pgtest.URL(t),
		"GOOGLE_CLOUD_PROJECT="+project, "STORAGE_EMULATOR_HOST="+gcsAddr, "GCS_PRIVATE_BUCKET="+privateBucket, "LOG_LEVEL=ERROR")
	worker.Stderr = os.Stderr
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	state := func() (string, int, int) {
		var s string
		var done, attempts int
		if err := pool.QueryRow(ctx, `SELECT state, done_items, attempts FROM exports WHERE id = $1`, id).Scan(&s, &done, &attempts); err != nil {
			t.Fatal(err)
		}
		return s, done, attempts
	}
	for {
		s, done, _ := state()
		if s == "running" && done > 0 {
			break
		}
		if ctx.Err() != nil || s == "done" {
			_ = worker.Process.Kill()
			t.Fatalf("the worker never got mid-way: state %s, %d done", s, done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%v: the worker is mid-way; killing it", time.Since(start))
	if err := worker.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = worker.Wait()
	if s, done, attempts := state(); s != "running" || attempts != 1 || done >= responses*2 {
		t.Fatalf("after the kill: state %s, attempts %d, %d done; want a run cut short", s, attempts, done)
	}

	// This process now serves the subscription, as a new instance would.
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"ENVIRONMENT": "local", "DATABASE_URL": pgtest.URL(t), "GOOGLE_CLOUD_PROJECT": project,
			"STORAGE_EMULATOR_HOST": gcsAddr, "GCS_PRIVATE_BUCKET": privateBucket}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	in := instance.New(cfg, "exports-test")
	in.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	in.DB = instance.Value(pool)
	mails := &recordingPublisher{}
	in.Publisher = instance.Value[events.Publisher](mails)
	var deliveries atomic.Int32
	fn := fexports.New(in, fexports.Registry(in, configure))
	d := &pubsub.Dispatcher{Client: c, Topics: []events.Topic{topic}, Log: in.Log, BackoffScale: 0.01,
		Functions: map[string]pubsub.CloudEventFunc{fexports.Name: func(ctx context.Context, e event.Event) error {
			defer deliveries.Add(1)
			err := fn(ctx, e)
			t.Logf("%v: delivered here: %v", time.Since(start), err)
			return err
		}}}
	dctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- d.Run(dctx) }()
	defer func() { stop(); <-ran }()

	for {
		s, _, _ := state()
		if s == "done" {
			break
		}
		if s == "failed" || ctx.Err() != nil {
			t.Fatalf("the export did not finish after the kill: state %s", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%v: done after %d deliveries here", time.Since(start), deliveries.Load())
	var attempts int
	var objectKey, emailID string
	if err := pool.QueryRow(ctx, `SELECT attempts, object_key, email_id::text FROM exports WHERE id = $1`, id).Scan(&attempts, &objectKey, &emailID); err != nil {
		t.Fatal(err)
	}
	if attempts != 2 {
		t.Errorf("attempts %d, want 2 (the killed run and the one that finished)", attempts)
	}
	emails := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM email_messages WHERE kind = 'export_ready' AND 'exporter@example.org' = ANY(to_addresses)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := emails(); n != 1 || mails.count() != 1 {
		t.Errorf("%d emails stored and %d published, want 1 and 1", n, mails.count())
	}
	// The file is whole: the header and one row per response.
	sc, err := storage.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	r, err := sc.Bucket(privateBucket).Object(objectKey).NewReader(ctx)
	if err != nil {
		t.Fatalf("the export's file: %v", err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) != responses+1 {
		t.Fatalf("the file has %d rows (%v), want %d", len(rows), err, responses+1)
	}

	// Pub/Sub delivers the message once more: nothing happens.
	msg, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := events.ToCloudEvent(project, topic.Subscription, events.Message{ID: "again", Topic: topic.Name, Data: msg})
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(ctx, again); err != nil {
		t.Fatalf("the delivery after the export finished: %v", err)
	}
	if s, _, attempts := state(); s != "done" || attempts != 2 || emails() != 1 || mails.count() != 1 {
		t.Errorf("after one more delivery: state %s, attempts %d, %d emails stored, %d published", s, attempts, emails(), mails.count())
	}
}
