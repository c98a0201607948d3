package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/localstack"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/postgres"
)

// migrate applies the migrations to the configured database, or to the .local cluster when none
// is configured.
func migrate(ctx context.Context, getenv func(string) string) int {
	cfg, err := config.Load(localEnv(getenv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "devserver: %v\n", err)
		return 2
	}
	log := logging.New(os.Stdout, cfg.LogLevel, cfg.Project, "migrate")
	if cfg.DatabaseURL == "" && cfg.InstanceConnectionName == "" {
		pg, err := startLocalPostgres(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "devserver: %v\n", err)
			return 1
		}
		defer pg.Stop()
		cfg.DatabaseURL = pg.URL("lookit")
	}
	pool, err := postgres.Open(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "devserver: %v\n", err)
		return 1
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool, log); err != nil {
		fmt.Fprintf(os.Stderr, "devserver: %v\n", err)
		return 1
	}
	cur, latest, err := postgres.MigrationStatus(ctx, pool)
	if err != nil {
		fmt.Fprintf(os.Stderr, "devserver: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "schema at version %d (latest %d)\n", cur, latest)
	return 0
}

// withServices runs a command with a throwaway PostgreSQL cluster (TEST_DATABASE_URL, the
// superuser's URL: tests create their own databases) and Google's Pub/Sub emulator
// (PUBSUB_EMULATOR_HOST), and stops both afterwards, whatever the command did.
func withServices(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: devserver with-services -- COMMAND [ARGS…]")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "with-services: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "lookit-test-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	pgLog, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return fail(err)
	}
	pg, err := localstack.StartPostgres(ctx, filepath.Join(dir, "pg"), pgLog)
	if err != nil {
		return fail(err)
	}
	defer pg.Stop()
	fmt.Fprintf(os.Stderr, "with-services: PostgreSQL %s\n", pg.URL("postgres"))
	env := append(os.Environ(), "TEST_DATABASE_URL="+pg.URL("postgres"))

	if host := os.Getenv("PUBSUB_EMULATOR_HOST"); host != "" {
		fmt.Fprintf(os.Stderr, "with-services: Pub/Sub emulator already at %s\n", host)
	} else {
		emLog, err := os.Create(filepath.Join(dir, "pubsub-emulator.log"))
		if err != nil {
			return fail(err)
		}
		em, err := localstack.StartEmulator(ctx, emLog)
		if err != nil {
			return fail(err)
		}
		defer em.Stop()
		fmt.Fprintf(os.Stderr, "with-services: Pub/Sub emulator %s\n", em.Host)
		env = append(env, "PUBSUB_EMULATOR_HOST="+em.Host)
	}

	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		return fail(err)
	}
	return 0
}
