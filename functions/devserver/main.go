// Command devserver runs the whole platform on one machine (make run): every function in one
// process at the paths the production load balancer routes to them, with local stand-ins for
// Cloud SQL, Pub/Sub, GCS, S3, SendGrid and Cloud Build. Environment variables switch each part
// to Google's emulators or the real services.
//
//	devserver [serve]                 the local platform (make run)
//	devserver migrate                 apply migrations to the configured database (make migrate)
//	devserver with-services -- CMD…   run CMD with a throwaway PostgreSQL and the Pub/Sub
//	                                  emulator (make test)
//	devserver totp                    the demo researchers' current TOTP code (DEMO_TOTP_SECRET)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"lookit.dev/platform/shared/totp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var code int
	switch cmd {
	case "serve":
		code = serve(ctx, localEnv(os.Getenv))
	case "migrate":
		code = migrate(ctx, os.Getenv)
	case "with-services":
		code = withServices(ctx, args)
	case "totp":
		code = demoCode(localEnv(os.Getenv))
	default:
		fmt.Fprintf(os.Stderr, "devserver: unknown command %q (serve, migrate, with-services, totp)\n", cmd)
		code = 2
	}
	os.Exit(code)
}

// demoCode prints the current code of the demo researchers' authenticator, for logging in to
// make run from a terminal.
func demoCode(getenv func(string) string) int {
	code, err := totp.Code(getenv("DEMO_TOTP_SECRET"), time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserver: DEMO_TOTP_SECRET:", err)
		return 1
	}
	fmt.Println(code)
	return 0
}
