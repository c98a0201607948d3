// Package pgtest gives each test package its own fresh PostgreSQL database, created from the
// migrations on the real server the harness started (make test sets TEST_DATABASE_URL). There
// is no mock of the database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/postgres"
)

var (
	mu     sync.Mutex
	pool   *pgxpool.Pool
	dbURL  string
	dbName string
)

// Main runs the package's tests and drops its database afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if pool != nil {
		pool.Close()
		if err := drop(dbName); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: drop %s: %v\n", dbName, err)
		}
	}
	return code
}

// Pool returns the package's migrated database, creating it on first use. Without
// TEST_DATABASE_URL the test fails with a message saying how to run it.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if pool != nil {
		return pool
	}
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		tb.Fatal("TEST_DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL and the Pub/Sub emulator")
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	url := withDatabase(admin, name)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"ENVIRONMENT": "local", "DATABASE_URL": url, "DB_MAX_CONNS": "10"}[k]
	})
	if err != nil {
		tb.Fatalf("pgtest: config: %v", err)
	}
	p, err := postgres.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	if err := postgres.Migrate(ctx, p, nil); err != nil {
		p.Close()
		tb.Fatalf("pgtest: migrate: %v", err)
	}
	pool, dbURL, dbName = p, url, name
	return pool
}

// URL returns the connection URL of the package's database (after Pool).
func URL(tb testing.TB) string {
	Pool(tb)
	return dbURL
}

func withDatabase(url, name string) string {
	// TEST_DATABASE_URL is postgres://user@host:port/postgres?params from the harness.
	i := strings.LastIndex(url, "/")
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return url[:i+1] + name + q
}

func drop(name string) error {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, os.Getenv("TEST_DATABASE_URL"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}
