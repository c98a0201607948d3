// Package postgres opens the platform's PostgreSQL pool (directly or through the Cloud SQL
// connector), applies the embedded migrations, and runs units of work in transactions.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"

	"cloud.google.com/go/cloudsqlconn"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"lookit.dev/platform/migrations"
	"lookit.dev/platform/shared/config"
)

// Open returns a small pool for one function instance. With INSTANCE_CONNECTION_NAME set it dials
// through the Cloud SQL connector with lazy refresh (Cloud Run throttles CPU between requests, which
// breaks background refresh) and, by default, IAM database authentication.
func Open(ctx context.Context, c *config.Config) (*pgxpool.Pool, error) {
	dsn := c.DatabaseURL
	if c.InstanceConnectionName != "" {
		dsn = fmt.Sprintf("user=%s dbname=%s sslmode=disable", quoteDSN(c.DBUser), quoteDSN(c.DBName))
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password: never echo it.
		return nil, fmt.Errorf("postgres: DATABASE_URL is not a valid connection string")
	}
	pc.MaxConns = c.DBMaxConns
	pc.MinConns = 0
	pc.MaxConnIdleTime = c.DBMaxConnIdle
	pc.ConnConfig.RuntimeParams["application_name"] = "lookit"
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	var closeDialer func() error
	if c.InstanceConnectionName != "" {
		opts := []cloudsqlconn.Option{cloudsqlconn.WithLazyRefresh()}
		if c.DBIAMAuth {
			opts = append(opts, cloudsqlconn.WithIAMAuthN())
		}
		d, err := cloudsqlconn.NewDialer(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("postgres: cloud sql dialer: %w", err)
		}
		var dopts []cloudsqlconn.DialOption
		if c.DBPrivateIP {
			dopts = append(dopts, cloudsqlconn.WithPrivateIP())
		}
		name := c.InstanceConnectionName
		pc.ConnConfig.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.Dial(ctx, name, dopts...)
		}
		closeDialer = d.Close
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		if closeDialer != nil {
			_ = closeDialer()
		}
		return nil, fmt.Errorf("postgres: pool: %w", err)
	}
	return pool, nil
}

func quoteDSN(s string) string {
	b := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '\''))
}

// Migrate applies every pending migration under a PostgreSQL advisory lock, so concurrent
// deploy steps or test packages never race on the schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if log != nil {
			log.InfoContext(ctx, "migration applied", slog.Int64("version", r.Source.Version), slog.String("file", r.Source.Path), slog.Duration("took", r.Duration))
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// MigrationStatus reports the current and latest schema versions.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool) (current, latest int64, err error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	return current, latest, nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	files, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}

// Beginner is what InTx needs: a pool, or a connection in tests.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise, so a
// unit of work's state changes land together or not at all.
func InTx(ctx context.Context, db Beginner, fn func(pgx.Tx) error) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// Ping reports whether the database answers a query.
func Ping(ctx context.Context, pool *pgxpool.Pool) error {
	var one int
	if err := pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	if one != 1 {
		return errors.New("postgres: ping: unexpected answer")
	}
	return nil
}
