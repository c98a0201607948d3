package main

// localDefaults are the values make run uses for variables left unset; .env.example documents
// the same values (a test keeps the two in step).
var localDefaults = map[string]string{
	"ENVIRONMENT":       "local",
	"HOST":              "127.0.0.1",
	"PORT":              "8080",
	"LOG_LEVEL":         "INFO",
	"DEMO_PASSWORD":     "lookit-demo-password",
	"DEMO_TOTP_SECRET":  "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
	"SENDGRID_API_KEY":  "SG.local-mail-sink",
	"EMAIL_FROM":        "Lookit Local <lookit-bot@example.org>",
	"PIPE_WEBHOOK_KEY":  "local-pipe-webhook-key",
	"VIDEO_HOOK_SECRET": "local-video-hook-secret",
}

// localEnv returns getenv with local defaults for unset variables.
func localEnv(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return localDefaults[k]
	}
}
