package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	ps "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/pstest"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"lookit.dev/platform/functions/api"
	fbuilds "lookit.dev/platform/functions/builds"
	"lookit.dev/platform/functions/buildstatus"
	fexports "lookit.dev/platform/functions/exports"
	fjobs "lookit.dev/platform/functions/jobs"
	"lookit.dev/platform/functions/mailer"
	"lookit.dev/platform/functions/pipewebhook"
	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/cloudbuild"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/demo"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/gcs"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/localstack"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/mailsink"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/pubsub"
	"lookit.dev/platform/shared/runner"
	"lookit.dev/platform/shared/s3"
)

// stack collects what serve started, to stop it in reverse order.
type stack struct{ stops []func() }

func (s *stack) defer_(f func()) { s.stops = append(s.stops, f) }
func (s *stack) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

const localDir = ".local"

// jsPsychDist is what make jspsych builds: jsPsych, its plugins and the data client.
const jsPsychDist = "frontend/jspsych/dist"

func serve(ctx context.Context, getenv func(string) string) int {
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "devserver: %v\n", err)
		return 2
	}
	log := logging.New(os.Stdout, cfg.LogLevel, cfg.Project, "devserver")
	var st stack
	defer st.stop()
	if err := run(ctx, cfg, log, &st); err != nil {
		logging.Error(ctx, log, "devserver failed", err)
		fmt.Fprintf(os.Stderr, "devserver: %v\n", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, cfg *config.Config, log *slog.Logger, st *stack) error {
	started := time.Now()
	banner := []string{}
	say := func(format string, args ...any) { banner = append(banner, fmt.Sprintf(format, args...)) }

	// PostgreSQL: a cluster under .local/ unless a database is configured.
	if cfg.DatabaseURL == "" && cfg.InstanceConnectionName == "" {
		pg, err := startLocalPostgres(ctx)
		if err != nil {
			return err
		}
		st.defer_(pg.Stop)
		cfg.DatabaseURL = pg.URL("lookit")
		say("PostgreSQL   %s (data in %s)", cfg.DatabaseURL, pg.Dir)
	}
	pool, err := postgres.Open(ctx, cfg)
	if err != nil {
		return err
	}
	st.defer_(pool.Close)
	if err := postgres.Migrate(ctx, pool, log); err != nil {
		return err
	}
	if cfg.IsLocal() {
		if err := demo.Seed(ctx, pool, cfg.DemoPassword, cfg.DemoTOTPSecret); err != nil {
			return err
		}
		say("Demo users   %s, %s, %s (password DEMO_PASSWORD)", demo.AdminEmail, demo.ResearcherEmail, demo.ParentEmail)
	}

	// Pub/Sub: in-process fake unless the emulator (or the real service) is configured.
	psClient, where, err := pubsubClient(ctx, cfg, st)
	if err != nil {
		return err
	}
	if err := pubsub.EnsureTopology(ctx, psClient, events.Topics); err != nil {
		return err
	}
	say("Pub/Sub      %s", where)
	publisher := pubsub.NewPublisher(psClient)
	st.defer_(publisher.Stop)

	// GCS and S3 stand-ins on loopback ports, so tools and browsers can reach them too.
	if cfg.StorageEmulator == "" {
		addr, stop, err := startFakeGCS()
		if err != nil {
			return err
		}
		st.defer_(stop)
		cfg.StorageEmulator = addr
		os.Setenv("STORAGE_EMULATOR_HOST", addr) // read by the storage client
	}
	say("GCS          http://%s (buckets %s, %s)", cfg.StorageEmulator, cfg.ExperimentsBucket, cfg.PrivateBucket)
	if cfg.S3Endpoint == "" {
		endpoint, stop, err := startFakeS3()
		if err != nil {
			return err
		}
		st.defer_(stop)
		cfg.S3Endpoint = endpoint
		os.Setenv("AWS_ACCESS_KEY_ID", "local")
		os.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	}
	say("S3           %s (buckets %s, %s, %s)", cfg.S3Endpoint, cfg.S3VideoBucket, cfg.S3PipeBucket, cfg.S3JSPsychBucket)

	sink := &mailsink.Sink{}
	if cfg.SendGridHost == "" && cfg.IsLocal() {
		// Never mail real people from a laptop by accident: local mode uses the sink unless
		// SENDGRID_HOST names a real endpoint.
		cfg.SendGridHost = cfg.BaseURL.String() + "/_dev/sendgrid"
		say("Mail sink    %s/_dev/mail", cfg.BaseURL)
	}

	in := instance.New(cfg, "devserver")
	in.DB = instance.Value(pool)
	in.Publisher = instance.Value[events.Publisher](publisher)
	in.Builder = instance.Value[builds.Builder](&cloudbuild.Local{Publisher: publisher, Script: localBuildScript(),
		Upload: func(ctx context.Context, dir, sha string) error {
			store, err := in.Experiments(ctx)
			if err != nil {
				return err
			}
			_, err = runner.Upload(ctx, store, os.DirFS(dir), sha)
			return err
		}})
	if err := ensureBuckets(ctx, in, cfg); err != nil {
		return err
	}
	if err := seedDemoResponses(ctx, in, pool, say); err != nil { // after the buckets: it puts demo videos
		return err
	}
	if err := useRunner(ctx, in, pool, say); err != nil {
		return err
	}
	if _, err := os.Stat(jsPsychDist + "/jspsych.js"); err == nil {
		say("jsPsych      %s from %s", httpapi.JsPsychStatic, jsPsychDist)
	} else {
		say("jsPsych      missing: run make jspsych (jsPsych study pages load it from %s)", httpapi.JsPsychStatic)
	}

	mux := http.NewServeMux()
	apiHandler := httpapi.New(in)
	for _, p := range []string{"/api/", "/studies/", "/exp/", "/healthz"} {
		mux.Handle(p, apiHandler)
	}
	mux.Handle(pipewebhook.Path, pipewebhook.New(in))
	// Cloud CDN serves runner builds from the experiments bucket in production.
	mux.Handle("/frameplayer/", runner.Assets(in.Experiments, log))
	// jsPsych for jsPsych study pages (make jspsych); the static bucket behind Cloud CDN in production.
	mux.Handle(httpapi.JsPsychStatic, http.StripPrefix(httpapi.JsPsychStatic, http.FileServer(http.Dir(jsPsychDist))))
	if cfg.IsLocal() {
		mux.Handle("GET /_dev/mail", sink.ListHandler())
		mux.Handle("/_dev/sendgrid/v3/mail/send", sink.SendHandler())
		mux.Handle("POST /_dev/publish/{topic}", publishHandler(in, publisher))
	}
	mux.Handle("/", frontend("frontend/dist"))

	dispatcher := &pubsub.Dispatcher{
		Client: psClient,
		Topics: events.Topics,
		Functions: map[string]pubsub.CloudEventFunc{
			mailer.Name:      mailer.New(in),
			fjobs.Name:       fjobs.New(in),
			fbuilds.Name:     fbuilds.New(in),
			buildstatus.Name: buildstatus.New(in),
			fexports.Name:    fexports.New(in, fexports.Registry(in, nil)),
		},
		Log:          log,
		BackoffScale: 0.1,
	}
	dctx, cancelDispatch := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := dispatcher.Run(dctx); err != nil {
			logging.Error(dctx, log, "pub/sub dispatcher stopped", err)
		}
	}()
	st.defer_(func() { cancelDispatch(); wg.Wait() })

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set PORT to use another port)", cfg.Addr(), err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(os.Stderr, "\nLookit platform (%s) ready in %s at http://%s\n", cfg.Environment, time.Since(started).Round(time.Millisecond), ln.Addr())
	for _, l := range banner {
		fmt.Fprintln(os.Stderr, "  "+l)
	}
	fmt.Fprintln(os.Stderr, "  Functions    API (/api/, /studies/, /exp/, /healthz), PipeWebhook ("+pipewebhook.Path+"),")
	fmt.Fprintln(os.Stderr, "               SendEmail, RunJob, StartBuild, BuildStatus, RunExport (Pub/Sub)")
	fmt.Fprintln(os.Stderr, "Press Ctrl-C to stop.")
	log.Info("devserver ready", slog.String("addr", ln.Addr().String()), slog.String("function", api.Name))

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	}
	fmt.Fprintln(os.Stderr, "\nstopping…")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func startLocalPostgres(ctx context.Context) (*localstack.Postgres, error) {
	dir, err := filepath.Abs(filepath.Join(localDir, "postgres"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(localDir, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(localDir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	pg, err := localstack.StartPostgres(ctx, dir, logFile)
	if err != nil {
		return nil, err
	}
	if err := pg.CreateDatabase(ctx, "lookit"); err != nil {
		pg.Stop()
		return nil, fmt.Errorf("create database: %w", err)
	}
	return pg, nil
}

func pubsubClient(ctx context.Context, cfg *config.Config, st *stack) (*ps.Client, string, error) {
	if cfg.PubSubEmulator != "" || !cfg.IsLocal() {
		c, err := ps.NewClient(ctx, cfg.Project)
		if err != nil {
			return nil, "", fmt.Errorf("pubsub: %w", err)
		}
		st.defer_(func() { c.Close() })
		where := "Google Cloud project " + cfg.Project
		if cfg.PubSubEmulator != "" {
			where = "emulator at " + cfg.PubSubEmulator
		}
		return c, where, nil
	}
	srv := pstest.NewServer()
	st.defer_(func() { srv.Close() })
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, "", fmt.Errorf("pstest: %w", err)
	}
	c, err := ps.NewClient(ctx, cfg.Project, option.WithGRPCConn(conn))
	if err != nil {
		return nil, "", fmt.Errorf("pubsub: %w", err)
	}
	st.defer_(func() { c.Close() })
	return c, "in-process (pstest) at " + srv.Addr, nil
}

func startFakeGCS() (string, func(), error) {
	port, err := localstack.FreePort()
	if err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Port: uint16(port), PublicHost: addr, Writer: io.Discard,
	})
	if err != nil {
		return "", nil, fmt.Errorf("fake gcs: %w", err)
	}
	return addr, srv.Stop, nil
}

func startFakeS3() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("fake s3: %w", err)
	}
	srv := &http.Server{Handler: gofakes3.New(s3mem.New()).Server(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

func ensureBuckets(ctx context.Context, in *instance.Instance, cfg *config.Config) error {
	sc, err := storage.NewClient(ctx)
	if err != nil {
		return fmt.Errorf("storage client: %w", err)
	}
	defer sc.Close()
	for _, b := range []string{cfg.ExperimentsBucket, cfg.PrivateBucket} {
		if err := gcs.EnsureBucket(ctx, sc, cfg.Project, b); err != nil {
			return err
		}
	}
	c, err := s3.NewClient(ctx, s3.Options{Region: cfg.S3Region, Endpoint: cfg.S3Endpoint})
	if err != nil {
		return err
	}
	for _, b := range []string{cfg.S3VideoBucket, cfg.S3PipeBucket, cfg.S3JSPsychBucket} {
		if err := s3.EnsureBucket(ctx, c, b); err != nil {
			return err
		}
	}
	return nil
}

// useRunner registers the prebuilt experiment runner in FRAMEPLAYER_DIST (or, with
// FRAMEPLAYER_SHA alone, a build already in the experiments bucket) for the demo frameplayer
// study, so a lab can run frameplayer studies offline.
func useRunner(ctx context.Context, in *instance.Instance, pool *pgxpool.Pool, say func(string, ...any)) error {
	cfg := in.Config
	if cfg.FrameplayerSHA == "" {
		say("Runner       none (set FRAMEPLAYER_DIST and FRAMEPLAYER_SHA to serve a prebuilt experiment runner)")
		return nil
	}
	store, err := in.Experiments(ctx)
	if err != nil {
		return err
	}
	sha := cfg.FrameplayerSHA
	where := "gs://" + cfg.ExperimentsBucket + "/" + runner.Prefix(sha)
	if cfg.FrameplayerDist != "" {
		n, err := runner.Upload(ctx, store, os.DirFS(cfg.FrameplayerDist), sha)
		if err != nil {
			return fmt.Errorf("FRAMEPLAYER_DIST %s: %w", cfg.FrameplayerDist, err)
		}
		where = fmt.Sprintf("%s (%d files)", cfg.FrameplayerDist, n)
	} else if body, err := store.Get(ctx, runner.IndexObject(sha)); err != nil {
		return fmt.Errorf("FRAMEPLAYER_SHA %s: no build in %s (set FRAMEPLAYER_DIST to its dist/ folder): %w", sha, where, err)
	} else {
		body.Close()
	}
	if !cfg.IsLocal() { // no demo study: studies pin the commit themselves
		if err := postgres.RegisterPlayerBuild(ctx, pool, demo.PlayerRepo, sha, 0); err != nil {
			return err
		}
		say("Runner       %s, commit %s, registered", where, sha[:12])
		return nil
	}
	if err := demo.UseRunner(ctx, pool, sha); err != nil {
		return err
	}
	say("Runner       %s, commit %s, for %q", where, sha[:12], demo.FrameplayerStudy)
	return nil
}

// publishHandler lets a developer publish to a topic by hand, e.g. to fire a scheduled job:
// curl -X POST localhost:8080/_dev/publish/scheduled-jobs -d '{"job":"prune-event-receipts"}'
func publishHandler(in *instance.Instance, p events.Publisher) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		topic := r.PathValue("topic")
		if _, ok := events.TopicByName(topic); !ok {
			http.Error(w, "unknown topic "+strconv.Quote(topic), http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body over 1 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		id, err := p.Publish(r.Context(), topic, body, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"message_id\":%q}\n", id)
	})
}

// frontend serves the built SPA when there is one (unknown paths get index.html so client-side
// routes work), and otherwise a page pointing at what runs.
func frontend(dir string) http.Handler {
	index := filepath.Join(dir, "index.html")
	if _, err := os.Stat(index); err == nil {
		files := http.FileServer(http.Dir(dir))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := os.Stat(filepath.Join(dir, filepath.Clean("/"+r.URL.Path))); errors.Is(err, os.ErrNotExist) {
				http.ServeFile(w, r, index)
				return
			}
			files.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Lookit (local)</title><h1>Lookit platform, local</h1>
<p>The researcher and family app is not built yet (frontend/dist is missing).</p>
<ul><li><a href="/healthz">/healthz</a></li><li><a href="/_dev/mail">/_dev/mail</a>: email sent by the platform</li></ul>`)
	})
}

// localBuildScript is the builder script of this checkout, when make run starts from it.
func localBuildScript() string {
	p, err := filepath.Abs("infra/builder/build.sh")
	if err != nil {
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
