package config_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/config"
)

// env returns a getenv backed by m, so no test touches the process environment.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func load(t *testing.T, m map[string]string) *config.Config {
	t.Helper()
	c, err := config.Load(env(m))
	if err != nil {
		t.Fatalf("Load(%v): %v", m, err)
	}
	return c
}

// problems returns the problems of a *config.Error, failing the test for any other error.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return ce.Problems
}

func TestLocalDefaults(t *testing.T) {
	c := load(t, map[string]string{"ENVIRONMENT": "local"})
	if !c.IsLocal() || c.Environment != config.Local {
		t.Fatalf("Environment = %q, IsLocal = %v", c.Environment, c.IsLocal())
	}
	if c.Port != 8080 || c.Host != "" || c.Addr() != ":8080" {
		t.Errorf("Port %d Host %q Addr %q", c.Port, c.Host, c.Addr())
	}
	if c.BaseURL == nil || c.BaseURL.String() != "http://127.0.0.1:8080" {
		t.Errorf("BaseURL = %v", c.BaseURL)
	}
	if c.LogLevel != slog.LevelInfo {
		t.Errorf("LogLevel = %v", c.LogLevel)
	}
	strs := map[string][2]string{
		"GOOGLE_CLOUD_PROJECT":   {c.Project, "lookit-local"},
		"DB_NAME":                {c.DBName, "lookit"},
		"GCS_EXPERIMENTS_BUCKET": {c.ExperimentsBucket, "lookit-experiments"},
		"GCS_PRIVATE_BUCKET":     {c.PrivateBucket, "lookit-private"},
		"S3_REGION":              {c.S3Region, "us-east-1"},
		"S3_VIDEO_BUCKET":        {c.S3VideoBucket, "lookit-videos"},
		"S3_PIPE_BUCKET":         {c.S3PipeBucket, "lookit-pipe"},
		"EMAIL_FROM":             {c.EmailFrom, "Lookit <lookit-bot@example.org>"},
		"BUILDER_IMAGE":          {c.BuilderImage, "local/lookit-builder"},
		"BUILD_REGION":           {c.BuildRegion, "global"},
		"DATABASE_URL":           {c.DatabaseURL, ""},
		"SENDGRID_API_KEY":       {c.SendGridAPIKey, ""},
	}
	for name, gw := range strs {
		if gw[0] != gw[1] {
			t.Errorf("%s = %q, want %q", name, gw[0], gw[1])
		}
	}
	if !c.DBIAMAuth || c.DBPrivateIP || c.DBMaxConns != 2 || c.DBMaxConnIdle != 5*time.Minute {
		t.Errorf("DB defaults: IAM %v private %v max %d idle %v", c.DBIAMAuth, c.DBPrivateIP, c.DBMaxConns, c.DBMaxConnIdle)
	}
}

func TestProductionIsTheDefaultAndHasNoLocalDefaults(t *testing.T) {
	c := load(t, map[string]string{})
	if c.Environment != config.Production || c.IsLocal() {
		t.Fatalf("Environment = %q, IsLocal = %v; want production", c.Environment, c.IsLocal())
	}
	// Resource names that only make sense locally must not be invented for a real deployment.
	for name, v := range map[string]string{
		"GOOGLE_CLOUD_PROJECT":   c.Project,
		"GCS_EXPERIMENTS_BUCKET": c.ExperimentsBucket,
		"GCS_PRIVATE_BUCKET":     c.PrivateBucket,
		"S3_VIDEO_BUCKET":        c.S3VideoBucket,
		"S3_PIPE_BUCKET":         c.S3PipeBucket,
		"EMAIL_FROM":             c.EmailFrom,
		"BUILDER_IMAGE":          c.BuilderImage,
	} {
		if v != "" {
			t.Errorf("production %s = %q, want empty", name, v)
		}
	}
	// Defaults that are the same everywhere still apply.
	if c.Port != 8080 || c.DBName != "lookit" || c.S3Region != "us-east-1" || c.BuildRegion != "global" {
		t.Errorf("shared defaults: port %d db %q region %q build region %q", c.Port, c.DBName, c.S3Region, c.BuildRegion)
	}
	if c := load(t, map[string]string{"ENVIRONMENT": "staging"}); c.Environment != config.Staging || c.IsLocal() || c.Project != "" {
		t.Errorf("staging: Environment %q IsLocal %v Project %q", c.Environment, c.IsLocal(), c.Project)
	}
}

func TestExplicitValuesAreParsed(t *testing.T) {
	c := load(t, map[string]string{
		"ENVIRONMENT":              "staging",
		"HOST":                     "  0.0.0.0  ",
		"PORT":                     "9000",
		"BASE_URL":                 "https://lookit.example.org/",
		"LOG_LEVEL":                "debug",
		"GOOGLE_CLOUD_PROJECT":     "proj",
		"INSTANCE_CONNECTION_NAME": "proj:us-east1:db",
		"DB_USER":                  "svc@proj.iam",
		"DB_IAM_AUTH":              "false",
		"DB_PRIVATE_IP":            "1",
		"DB_MAX_CONNS":             "50",
		"DB_MAX_CONN_IDLE":         "90s",
		"S3_ENDPOINT":              "http://127.0.0.1:9000",
		"SENDGRID_HOST":            "https://sink.example.org",
		"DEMO_TOTP_SECRET":         "JBSWY3DPEHPK3PXP",
	})
	if c.Host != "0.0.0.0" || c.Port != 9000 || c.Addr() != "0.0.0.0:9000" {
		t.Errorf("Host %q Port %d Addr %q", c.Host, c.Port, c.Addr())
	}
	if c.BaseURL.String() != "https://lookit.example.org" {
		t.Errorf("BaseURL = %q; the trailing slash should be dropped", c.BaseURL)
	}
	if c.LogLevel != slog.LevelDebug {
		t.Errorf("LogLevel = %v", c.LogLevel)
	}
	if c.DBIAMAuth || !c.DBPrivateIP || c.DBMaxConns != 50 || c.DBMaxConnIdle != 90*time.Second {
		t.Errorf("DB: IAM %v private %v max %d idle %v", c.DBIAMAuth, c.DBPrivateIP, c.DBMaxConns, c.DBMaxConnIdle)
	}
	if c.InstanceConnectionName != "proj:us-east1:db" || c.S3Endpoint != "http://127.0.0.1:9000" ||
		c.SendGridHost != "https://sink.example.org" || c.DemoTOTPSecret != "JBSWY3DPEHPK3PXP" {
		t.Errorf("values not kept: %+v", c)
	}
}

func TestBaseURLDefaultFollowsPort(t *testing.T) {
	c := load(t, map[string]string{"PORT": "8123"})
	if got := c.BaseURL.String(); got != "http://127.0.0.1:8123" {
		t.Errorf("BaseURL = %q", got)
	}
}

func TestLogLevels(t *testing.T) {
	for in, want := range map[string]slog.Level{"DEBUG": slog.LevelDebug, "info": slog.LevelInfo, "WARN": slog.LevelWarn, "error": slog.LevelError} {
		if c := load(t, map[string]string{"LOG_LEVEL": in}); c.LogLevel != want {
			t.Errorf("LOG_LEVEL=%s: %v, want %v", in, c.LogLevel, want)
		}
	}
}

func TestEveryMalformedVariableIsNamed(t *testing.T) {
	cases := []struct{ name, value string }{
		{"ENVIRONMENT", "dev"},
		{"PORT", "abc"},
		{"PORT", "0"},
		{"PORT", "65536"},
		{"BASE_URL", "ftp://x"},
		{"BASE_URL", "lookit.example.org"},
		{"BASE_URL", "http://"},
		{"LOG_LEVEL", "loud"},
		{"INSTANCE_CONNECTION_NAME", "bad"},
		{"INSTANCE_CONNECTION_NAME", "project:instance"},
		{"DB_IAM_AUTH", "maybe"},
		{"DB_PRIVATE_IP", "yes please"},
		{"DB_MAX_CONNS", "0"},
		{"DB_MAX_CONNS", "51"},
		{"DB_MAX_CONNS", "two"},
		{"DB_MAX_CONN_IDLE", "5"},
		{"DB_MAX_CONN_IDLE", "-1m"},
		{"S3_ENDPOINT", "localhost:9000"},
		{"SENDGRID_HOST", "ftp://sendgrid"},
		{"SECRET_KEY", "too short to sign with"},
		{"SECRET_KEY", config.LocalSecretKey},
		{"DEMO_TOTP_SECRET", "short"},
		{"DEMO_TOTP_SECRET", "jbswy3dpehpk3pxp"},
		{"DEMO_TOTP_SECRET", "JBSWY3DPEHPK3PX1"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			c, err := config.Load(env(map[string]string{tc.name: tc.value}))
			if err == nil {
				t.Fatalf("accepted, got %+v", c)
			}
			if c != nil {
				t.Errorf("Load returned a config alongside the error")
			}
			ps := problems(t, err)
			if len(ps) != 1 {
				t.Fatalf("problems = %q, want exactly one", ps)
			}
			if !strings.HasPrefix(ps[0], tc.name+" ") {
				t.Errorf("problem %q does not name %s", ps[0], tc.name)
			}
			if !strings.Contains(err.Error(), tc.name) || !strings.HasPrefix(err.Error(), "configuration: ") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestProblemQuotesTheBadValue(t *testing.T) {
	_, err := config.Load(env(map[string]string{"PORT": "abc", "LOG_LEVEL": "loud", "BASE_URL": "ftp://x"}))
	msg := err.Error()
	for _, v := range []string{`"abc"`, `"loud"`, `"ftp://x"`} {
		if !strings.Contains(msg, v) {
			t.Errorf("error %q does not quote %s", msg, v)
		}
	}
}

func TestSeveralProblemsAreReportedTogether(t *testing.T) {
	_, err := config.Load(env(map[string]string{
		"ENVIRONMENT":              "dev",
		"PORT":                     "abc",
		"DB_MAX_CONNS":             "0",
		"LOG_LEVEL":                "loud",
		"BASE_URL":                 "ftp://x",
		"INSTANCE_CONNECTION_NAME": "bad",
		"DEMO_TOTP_SECRET":         "short",
	}))
	ps := problems(t, err)
	want := []string{"ENVIRONMENT", "PORT", "DB_MAX_CONNS", "LOG_LEVEL", "BASE_URL", "INSTANCE_CONNECTION_NAME", "DEMO_TOTP_SECRET"}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems %q, want %d", len(ps), ps, len(want))
	}
	for _, name := range want {
		found := false
		for _, p := range ps {
			if strings.HasPrefix(p, name+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem names %s in %q", name, ps)
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Error() does not mention %s", name)
		}
	}
}

func TestBlankValuesFallBackToDefaults(t *testing.T) {
	c := load(t, map[string]string{"PORT": "   ", "ENVIRONMENT": " local ", "LOG_LEVEL": "\t"})
	if c.Port != 8080 || c.Environment != config.Local || c.LogLevel != slog.LevelInfo {
		t.Errorf("Port %d Environment %q LogLevel %v", c.Port, c.Environment, c.LogLevel)
	}
}

func TestRequire(t *testing.T) {
	production := func(extra map[string]string) *config.Config {
		return load(t, extra)
	}
	cases := []struct {
		name    string
		env     map[string]string
		need    config.Need
		missing []string // variables the error must name; none means Require succeeds
	}{
		{"database missing", nil, config.NeedDatabase, []string{"DATABASE_URL"}},
		{"database url", map[string]string{"DATABASE_URL": "postgres://x/y"}, config.NeedDatabase, nil},
		{"cloud sql without user", map[string]string{"INSTANCE_CONNECTION_NAME": "p:r:i"}, config.NeedDatabase, []string{"DB_USER"}},
		{"cloud sql with user", map[string]string{"INSTANCE_CONNECTION_NAME": "p:r:i", "DB_USER": "u"}, config.NeedDatabase, nil},
		{"pubsub missing", nil, config.NeedPubSub, []string{"GOOGLE_CLOUD_PROJECT"}},
		{"pubsub", map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}, config.NeedPubSub, nil},
		{"storage missing", nil, config.NeedStorage, []string{"GCS_EXPERIMENTS_BUCKET", "GCS_PRIVATE_BUCKET"}},
		{"storage half", map[string]string{"GCS_EXPERIMENTS_BUCKET": "e"}, config.NeedStorage, []string{"GCS_PRIVATE_BUCKET"}},
		{"storage", map[string]string{"GCS_EXPERIMENTS_BUCKET": "e", "GCS_PRIVATE_BUCKET": "p"}, config.NeedStorage, nil},
		{"s3 missing", nil, config.NeedS3, []string{"S3_VIDEO_BUCKET", "S3_PIPE_BUCKET", "S3_JSPSYCH_BUCKET"}},
		{"s3", map[string]string{"S3_VIDEO_BUCKET": "v", "S3_PIPE_BUCKET": "p", "S3_JSPSYCH_BUCKET": "j"}, config.NeedS3, nil},
		{"video hook missing", nil, config.NeedVideoHook, []string{"VIDEO_HOOK_SECRET"}},
		{"video hook", map[string]string{"VIDEO_HOOK_SECRET": "s"}, config.NeedVideoHook, nil},
		{"mail missing", nil, config.NeedMail, []string{"SENDGRID_API_KEY", "EMAIL_FROM"}},
		{"mail no key", map[string]string{"EMAIL_FROM": "a@b.c"}, config.NeedMail, []string{"SENDGRID_API_KEY"}},
		{"mail", map[string]string{"EMAIL_FROM": "a@b.c", "SENDGRID_API_KEY": "k"}, config.NeedMail, nil},
		{"builds missing", nil, config.NeedBuilds, []string{"BUILDER_IMAGE"}},
		{"builds", map[string]string{"BUILDER_IMAGE": "img"}, config.NeedBuilds, nil},
		{"pipe missing", nil, config.NeedPipe, []string{"PIPE_WEBHOOK_KEY"}},
		{"pipe", map[string]string{"PIPE_WEBHOOK_KEY": "k"}, config.NeedPipe, nil},
		{"secret key missing", nil, config.NeedSecretKey, []string{"SECRET_KEY"}},
		{"secret key", map[string]string{"SECRET_KEY": strings.Repeat("k", 32)}, config.NeedSecretKey, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := production(tc.env).Require(tc.need)
			if len(tc.missing) == 0 {
				if err != nil {
					t.Fatalf("Require: %v", err)
				}
				return
			}
			ps := problems(t, err)
			if len(ps) != len(tc.missing) {
				t.Fatalf("problems %q, want ones naming %q", ps, tc.missing)
			}
			for i, name := range tc.missing {
				if !strings.HasPrefix(ps[i], name+" is required") {
					t.Errorf("problem %q does not name %s", ps[i], name)
				}
			}
		})
	}
}

func TestRequireReportsEveryNeedTogether(t *testing.T) {
	c := load(t, nil)
	err := c.Require(config.NeedDatabase, config.NeedPubSub, config.NeedStorage, config.NeedS3, config.NeedMail, config.NeedBuilds, config.NeedPipe)
	ps := problems(t, err)
	for _, name := range []string{"DATABASE_URL", "GOOGLE_CLOUD_PROJECT", "GCS_EXPERIMENTS_BUCKET", "GCS_PRIVATE_BUCKET",
		"S3_VIDEO_BUCKET", "SENDGRID_API_KEY", "EMAIL_FROM", "BUILDER_IMAGE", "PIPE_WEBHOOK_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Require error does not name %s: %q", name, ps)
		}
	}
	if len(ps) != 11 {
		t.Errorf("got %d problems, want 11: %q", len(ps), ps)
	}
	if err := c.Require(); err != nil {
		t.Errorf("Require() with no needs: %v", err)
	}
}

func TestLocalDefaultsSatisfyLocalNeeds(t *testing.T) {
	c := load(t, map[string]string{"ENVIRONMENT": "local"})
	if err := c.Require(config.NeedPubSub, config.NeedStorage, config.NeedS3, config.NeedBuilds); err != nil {
		t.Errorf("local defaults do not satisfy their needs: %v", err)
	}
	// Secrets are never defaulted, even locally.
	err := c.Require(config.NeedMail, config.NeedPipe)
	ps := problems(t, err)
	if len(ps) != 2 || !strings.HasPrefix(ps[0], "SENDGRID_API_KEY") || !strings.HasPrefix(ps[1], "PIPE_WEBHOOK_KEY") {
		t.Errorf("problems = %q", ps)
	}
}
