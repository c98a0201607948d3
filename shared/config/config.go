// Package config reads the platform's configuration from the environment into one typed struct and
// validates it, so that a missing or malformed variable stops a process with a message naming it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Environment names the deployment the process runs in. Local mode enables the /_dev/ routes and
// relaxes cookie security; every other value is treated as a real deployment.
type Environment string

const (
	Local      Environment = "local"
	Staging    Environment = "staging"
	Production Environment = "production"
)

// Config is every setting the platform reads. Fields are grouped by the part they configure; the
// env tag documents the variable name and is what Describe lists.
type Config struct {
	Environment Environment `env:"ENVIRONMENT"`
	Host        string      `env:"HOST"`
	Port        int         `env:"PORT"`
	// BaseURL is the public origin families and researchers use (links in emails, redirects).
	BaseURL  *url.URL   `env:"BASE_URL"`
	LogLevel slog.Level `env:"LOG_LEVEL"`
	// Project is the Google Cloud project that owns topics and buckets.
	Project string `env:"GOOGLE_CLOUD_PROJECT"`

	// Database: DATABASE_URL, or the Cloud SQL connector when InstanceConnectionName is set.
	DatabaseURL            string        `env:"DATABASE_URL"`
	InstanceConnectionName string        `env:"INSTANCE_CONNECTION_NAME"`
	DBUser                 string        `env:"DB_USER"`
	DBName                 string        `env:"DB_NAME"`
	DBIAMAuth              bool          `env:"DB_IAM_AUTH"`
	DBPrivateIP            bool          `env:"DB_PRIVATE_IP"`
	DBMaxConns             int32         `env:"DB_MAX_CONNS"`
	DBMaxConnIdle          time.Duration `env:"DB_MAX_CONN_IDLE"`

	// Google Cloud Storage buckets: built study runners (served behind Cloud CDN) and private
	// files (exports, study images before publication).
	ExperimentsBucket string `env:"GCS_EXPERIMENTS_BUCKET"`
	PrivateBucket     string `env:"GCS_PRIVATE_BUCKET"`
	StorageEmulator   string `env:"STORAGE_EMULATOR_HOST"`

	// S3 holds participant video. Endpoint is empty for AWS itself.
	S3Endpoint    string `env:"S3_ENDPOINT"`
	S3Region      string `env:"S3_REGION"`
	S3VideoBucket string `env:"S3_VIDEO_BUCKET"`
	S3PipeBucket  string `env:"S3_PIPE_BUCKET"`
	// S3JSPsychBucket holds jsPsych studies' recordings.
	S3JSPsychBucket string `env:"S3_JSPSYCH_BUCKET"`

	// The experiment runner uploads session video from the browser straight to S3VideoBucket with
	// this key, written into every runner page (public by design, as in Lookit: give it only
	// s3:PutObject and the multipart calls on that bucket).
	RecordingAccessKeyID     string `env:"RECORDING_ACCESS_KEY_ID"`
	RecordingSecretAccessKey string `env:"RECORDING_SECRET_ACCESS_KEY"`
	// RunnerSentryDSN reports the experiment runner's browser errors to Sentry (optional).
	RunnerSentryDSN string `env:"RUNNER_SENTRY_DSN"`

	PubSubEmulator string `env:"PUBSUB_EMULATOR_HOST"`

	// Email through SendGrid's v3 API. SendGridHost is empty for SendGrid itself.
	SendGridAPIKey string `env:"SENDGRID_API_KEY"`
	SendGridHost   string `env:"SENDGRID_HOST"`
	EmailFrom      string `env:"EMAIL_FROM"`
	// SendGridWebhookPublicKey verifies SendGrid's signed Event Webhook (bounces, blocks, spam
	// reports): the base64 DER ECDSA public key SendGrid shows. Empty: the endpoint refuses.
	SendGridWebhookPublicKey string `env:"SENDGRID_WEBHOOK_PUBLIC_KEY"`
	// AnnouncementsPerStudy caps how many families one run of the study announcements job tells
	// about one study (Lookit's 50).
	AnnouncementsPerStudy int `env:"ANNOUNCEMENTS_PER_STUDY"`
	// DownloadStreamMax is the most responses a download streams straight from the API; larger
	// downloads run as export jobs, so no request runs into the function's time limit.
	DownloadStreamMax int `env:"DOWNLOAD_STREAM_MAX_RESPONSES"`

	// Study builds on Cloud Build.
	BuilderImage        string `env:"BUILDER_IMAGE"`
	BuildRegion         string `env:"BUILD_REGION"`
	BuildServiceAccount string `env:"BUILD_SERVICE_ACCOUNT"`
	// GitHub's API resolves a study's runner branch to a commit; the token (optional) raises
	// GitHub's rate limit.
	GitHubAPIURL string `env:"GITHUB_API_URL"`
	GitHubToken  string `env:"GITHUB_TOKEN"`

	// PipeWebhookKey authenticates the Pipe recording service's webhook (HMAC-SHA1 signature).
	PipeWebhookKey string `env:"PIPE_WEBHOOK_KEY"`
	// PipeWebhookURL is the webhook URL exactly as configured in Pipe, which Pipe signs; rebuilding
	// it from proxied requests is fragile. Empty: BASE_URL + /exp/renamevideo/.
	PipeWebhookURL string `env:"PIPE_WEBHOOK_URL"`
	// VideoHookSecret authenticates the S3 upload hook (POST /api/v1/video/, HMAC-SHA256).
	VideoHookSecret string `env:"VIDEO_HOOK_SECRET"`

	// Signs links that act without a session (one-click unsubscribe).
	SecretKey string `env:"SECRET_KEY"`

	// Demo data for local mode only.
	DemoPassword   string `env:"DEMO_PASSWORD"`
	DemoTOTPSecret string `env:"DEMO_TOTP_SECRET"`
	// A prebuilt experiment runner (its dist/ folder) and the commit it was built from, which
	// make run registers for the demo frameplayer study.
	FrameplayerDist string `env:"FRAMEPLAYER_DIST"`
	FrameplayerSHA  string `env:"FRAMEPLAYER_SHA"`
}

// Error lists every problem found, each naming its variable.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "configuration: " + strings.Join(e.Problems, "; ")
}

// Load reads and validates the configuration. getenv is os.Getenv in production and a map lookup
// in tests, so tests never mutate the process environment.
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{}
	c.Environment = Environment(r.str("ENVIRONMENT", "production"))
	switch c.Environment {
	case Local, Staging, Production:
	default:
		r.fail("ENVIRONMENT", "must be one of local, staging, production")
	}
	local := c.Environment == Local
	c.Host = r.str("HOST", "")
	c.Port = r.intRange("PORT", 8080, 1, 65535)
	c.BaseURL = r.url("BASE_URL", fmt.Sprintf("http://127.0.0.1:%d", c.Port))
	c.LogLevel = r.level("LOG_LEVEL", slog.LevelInfo)
	c.Project = r.str("GOOGLE_CLOUD_PROJECT", ifLocal(local, "lookit-local"))

	c.DatabaseURL = r.str("DATABASE_URL", "")
	c.InstanceConnectionName = r.str("INSTANCE_CONNECTION_NAME", "")
	if n := strings.Count(c.InstanceConnectionName, ":"); c.InstanceConnectionName != "" && n != 2 && n != 3 { // 3: domain-scoped projects (example.com:proj)
		r.fail("INSTANCE_CONNECTION_NAME", "must look like project:region:instance")
	}
	c.DBUser = r.str("DB_USER", "")
	c.DBName = r.str("DB_NAME", "lookit")
	c.DBIAMAuth = r.boolean("DB_IAM_AUTH", true)
	c.DBPrivateIP = r.boolean("DB_PRIVATE_IP", false)
	c.DBMaxConns = int32(r.intRange("DB_MAX_CONNS", 2, 1, 50))
	c.DBMaxConnIdle = r.duration("DB_MAX_CONN_IDLE", 5*time.Minute)

	c.ExperimentsBucket = r.str("GCS_EXPERIMENTS_BUCKET", ifLocal(local, "lookit-experiments"))
	c.PrivateBucket = r.str("GCS_PRIVATE_BUCKET", ifLocal(local, "lookit-private"))
	c.StorageEmulator = r.str("STORAGE_EMULATOR_HOST", "")

	c.S3Endpoint = r.str("S3_ENDPOINT", "")
	if c.S3Endpoint != "" {
		r.check("S3_ENDPOINT", c.S3Endpoint, validHTTPURL)
	}
	c.S3Region = r.str("S3_REGION", "us-east-1")
	c.S3VideoBucket = r.str("S3_VIDEO_BUCKET", ifLocal(local, "lookit-videos"))
	c.S3PipeBucket = r.str("S3_PIPE_BUCKET", ifLocal(local, "lookit-pipe"))
	c.S3JSPsychBucket = r.str("S3_JSPSYCH_BUCKET", ifLocal(local, "lookit-jspsych"))
	c.RecordingAccessKeyID = r.str("RECORDING_ACCESS_KEY_ID", ifLocal(local, "local"))
	c.RecordingSecretAccessKey = r.str("RECORDING_SECRET_ACCESS_KEY", ifLocal(local, "local"))
	c.RunnerSentryDSN = r.str("RUNNER_SENTRY_DSN", "")
	if c.RunnerSentryDSN != "" {
		r.check("RUNNER_SENTRY_DSN", c.RunnerSentryDSN, validHTTPURL)
	}

	c.PubSubEmulator = r.str("PUBSUB_EMULATOR_HOST", "")

	c.SendGridAPIKey = r.str("SENDGRID_API_KEY", "")
	c.SendGridHost = r.str("SENDGRID_HOST", "")
	if c.SendGridHost != "" {
		r.check("SENDGRID_HOST", c.SendGridHost, validHTTPURL)
	}
	c.EmailFrom = r.str("EMAIL_FROM", ifLocal(local, "Lookit <lookit-bot@example.org>"))
	c.SendGridWebhookPublicKey = r.str("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
	c.AnnouncementsPerStudy = r.intRange("ANNOUNCEMENTS_PER_STUDY", 50, 1, 10000)
	c.DownloadStreamMax = r.intRange("DOWNLOAD_STREAM_MAX_RESPONSES", 2000, 0, 1000000)

	c.BuilderImage = r.str("BUILDER_IMAGE", ifLocal(local, "local/lookit-builder"))
	c.BuildRegion = r.str("BUILD_REGION", "global")
	c.BuildServiceAccount = r.str("BUILD_SERVICE_ACCOUNT", "")
	c.GitHubAPIURL = r.str("GITHUB_API_URL", "https://api.github.com")
	r.check("GITHUB_API_URL", c.GitHubAPIURL, validHTTPURL)
	c.GitHubToken = r.str("GITHUB_TOKEN", "")

	c.PipeWebhookKey = r.str("PIPE_WEBHOOK_KEY", "")
	c.PipeWebhookURL = r.str("PIPE_WEBHOOK_URL", "")
	if c.PipeWebhookURL != "" {
		r.check("PIPE_WEBHOOK_URL", c.PipeWebhookURL, validHTTPURL)
	}
	c.VideoHookSecret = r.str("VIDEO_HOOK_SECRET", "")

	c.SecretKey = r.str("SECRET_KEY", ifLocal(local, LocalSecretKey))
	switch {
	case c.SecretKey == "":
	case len(c.SecretKey) < 32:
		r.fail("SECRET_KEY", "must be at least 32 characters (e.g. openssl rand -base64 48)")
	case !local && c.SecretKey == LocalSecretKey:
		r.fail("SECRET_KEY", "is the published local key; generate a new one outside local mode")
	}

	c.DemoPassword = r.str("DEMO_PASSWORD", "")
	c.DemoTOTPSecret = r.str("DEMO_TOTP_SECRET", "")
	if c.DemoTOTPSecret != "" {
		r.check("DEMO_TOTP_SECRET", c.DemoTOTPSecret, validBase32Secret)
	}
	c.FrameplayerDist = r.str("FRAMEPLAYER_DIST", "")
	c.FrameplayerSHA = r.str("FRAMEPLAYER_SHA", "")
	switch {
	case c.FrameplayerSHA != "" && !shaPattern.MatchString(c.FrameplayerSHA):
		r.fail("FRAMEPLAYER_SHA", "must be the full 40-character lower-case commit SHA the runner was built from")
	case c.FrameplayerDist != "" && c.FrameplayerSHA == "":
		r.fail("FRAMEPLAYER_SHA", "is required with FRAMEPLAYER_DIST: the commit the runner was built from")
	}
	if len(r.problems) > 0 {
		return nil, &Error{Problems: r.problems}
	}
	return c, nil
}

// Need names a part of the platform a process uses; Require checks that the variables that part
// needs are set, so each function asks only for what it uses.
type Need int

const (
	NeedDatabase Need = iota
	NeedPubSub
	NeedStorage
	NeedS3
	NeedMail
	NeedBuilds
	NeedPipe
	NeedVideoHook
	NeedSecretKey
	NeedRunner
)

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// LocalSecretKey is SECRET_KEY in local mode. It is public, so it is refused anywhere else.
const LocalSecretKey = "local-only-secret-key-never-use-it-in-production"

// Require reports every variable a needed part lacks.
func (c *Config) Require(needs ...Need) error {
	var problems []string
	missing := func(name, why string) { problems = append(problems, name+" is required "+why) }
	for _, n := range needs {
		switch n {
		case NeedDatabase:
			if c.DatabaseURL == "" && c.InstanceConnectionName == "" {
				missing("DATABASE_URL", "(or INSTANCE_CONNECTION_NAME with DB_USER)")
			}
			if c.InstanceConnectionName != "" && c.DBUser == "" {
				missing("DB_USER", "with INSTANCE_CONNECTION_NAME")
			}
		case NeedPubSub:
			if c.Project == "" {
				missing("GOOGLE_CLOUD_PROJECT", "to publish to Pub/Sub")
			}
		case NeedStorage:
			if c.ExperimentsBucket == "" {
				missing("GCS_EXPERIMENTS_BUCKET", "for study runner archives")
			}
			if c.PrivateBucket == "" {
				missing("GCS_PRIVATE_BUCKET", "for private files")
			}
		case NeedS3:
			if c.S3VideoBucket == "" {
				missing("S3_VIDEO_BUCKET", "for participant video")
			}
			if c.S3PipeBucket == "" {
				missing("S3_PIPE_BUCKET", "for the Pipe recorder's video")
			}
			if c.S3JSPsychBucket == "" {
				missing("S3_JSPSYCH_BUCKET", "for jsPsych studies' video")
			}
		case NeedRunner:
			if c.S3VideoBucket == "" {
				missing("S3_VIDEO_BUCKET", "for the experiment runner's video uploads")
			}
			if c.RecordingAccessKeyID == "" || c.RecordingSecretAccessKey == "" {
				missing("RECORDING_ACCESS_KEY_ID and RECORDING_SECRET_ACCESS_KEY", "for the experiment runner's video uploads")
			}
		case NeedMail:
			if c.SendGridAPIKey == "" {
				missing("SENDGRID_API_KEY", "to send email")
			}
			if c.EmailFrom == "" {
				missing("EMAIL_FROM", "to send email")
			}
		case NeedBuilds:
			if c.BuilderImage == "" {
				missing("BUILDER_IMAGE", "to build study runners")
			}
		case NeedSecretKey:
			if c.SecretKey == "" {
				missing("SECRET_KEY", "to sign unsubscribe links")
			}
		case NeedPipe:
			if c.PipeWebhookKey == "" {
				missing("PIPE_WEBHOOK_KEY", "to authenticate the Pipe webhook")
			}
		case NeedVideoHook:
			if c.VideoHookSecret == "" {
				missing("VIDEO_HOOK_SECRET", "to authenticate the S3 upload hook")
			}
		}
	}
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	return nil
}

// PipeWebhook is the URL Pipe signs its webhook calls with.
func (c *Config) PipeWebhook() string {
	if c.PipeWebhookURL != "" {
		return c.PipeWebhookURL
	}
	return strings.TrimSuffix(c.BaseURL.String(), "/") + "/exp/renamevideo/"
}

// IsLocal reports whether the process runs in local mode (make run, tests).
func (c *Config) IsLocal() bool { return c.Environment == Local }

// Addr is the listen address of a local server.
func (c *Config) Addr() string { return fmt.Sprintf("%s:%d", c.Host, c.Port) }

func ifLocal(local bool, v string) string {
	if local {
		return v
	}
	return ""
}

type reader struct {
	getenv   func(string) string
	problems []string
}

func (r *reader) fail(name, msg string) {
	r.problems = append(r.problems, name+" "+msg)
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) check(name, v string, valid func(string) error) {
	if err := valid(v); err != nil {
		r.fail(name, err.Error())
	}
}

func (r *reader) intRange(name string, def, lo, hi int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("must be an integer from %d to %d, got %q", lo, hi, v))
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("must be true or false, got %q", v))
		return def
	}
	return b
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, fmt.Sprintf("must be a duration such as 5m, got %q", v))
		return def
	}
	return d
}

func (r *reader) url(name, def string) *url.URL {
	v := r.str(name, def)
	if err := validHTTPURL(v); err != nil {
		r.fail(name, err.Error())
		return nil
	}
	u, _ := url.Parse(strings.TrimRight(v, "/"))
	return u
}

func (r *reader) level(name string, def slog.Level) slog.Level {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, fmt.Sprintf("must be DEBUG, INFO, WARN or ERROR, got %q", v))
		return def
	}
	return l
}

func validHTTPURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http(s) URL such as http://127.0.0.1:8080, got " + strconv.Quote(v))
	}
	return nil
}

func validBase32Secret(v string) error {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	if len(v) < 16 {
		return errors.New("must be a base32 secret of at least 16 characters")
	}
	for _, ch := range strings.TrimRight(v, "=") {
		if !strings.ContainsRune(alphabet, ch) {
			return errors.New("must be base32 (A–Z, 2–7)")
		}
	}
	return nil
}
