package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/jobs"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// prune-sessions deletes what can no longer authenticate anyone and keeps everything else.
func TestPruneSessionsJob(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	var user int64
	if err := pool.QueryRow(ctx, `INSERT INTO users (email) VALUES ($1) RETURNING id`, "prune-"+uuid.NewString()[:8]+"@example.org").Scan(&user); err != nil {
		t.Fatal(err)
	}
	tag := uuid.NewString()[:8]
	for _, q := range []string{
		`INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES
			(decode(md5('gone` + tag + `'), 'hex'), $1, 'c', now() - interval '3 days', now() - interval '1 hour'),
			(decode(md5('live` + tag + `'), 'hex'), $1, 'c', now(), now() + interval '1 hour')`,
		`INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at, used_at) VALUES
			(decode(md5('used` + tag + `'), 'hex'), $1, 'verify_email', now() - interval '3 days', now() + interval '1 day', now() - interval '2 days'),
			(decode(md5('expired` + tag + `'), 'hex'), $1, 'reset_password', now() - interval '3 days', now() - interval '2 days', NULL),
			(decode(md5('fresh` + tag + `'), 'hex'), $1, 'reset_password', now() - interval '1 hour', now() - interval '10 minutes', NULL)`,
		`INSERT INTO api_tokens (user_id, name, prefix, key_hash, scope, created_at, expires_at, revoked_at) VALUES
			($1, 'old', 'p', decode(md5('old` + tag + `'), 'hex'), 'read', now() - interval '90 days', now() - interval '31 days', NULL),
			($1, 'revoked', 'p', decode(md5('rev` + tag + `'), 'hex'), 'read', now() - interval '90 days', now() + interval '9 days', now() - interval '40 days'),
			($1, 'recent', 'p', decode(md5('rec` + tag + `'), 'hex'), 'read', now() - interval '20 days', now() - interval '2 days', NULL)`,
	} {
		if _, err := pool.Exec(ctx, q, user); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES
		('account:old`+tag+`', 5, now() - interval '3 days', now() - interval '2 days'),
		('account:locked`+tag+`', 5, now() - interval '3 days', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewJobs(pool, nil).Run(ctx, "prune-"+tag, jobs.Request{Job: jobs.PruneSessions}); err != nil {
		t.Fatal(err)
	}
	var sessions, emailTokens, apiTokens, throttles []string
	for _, c := range []struct {
		q   string
		out *[]string
	}{
		{`SELECT CASE WHEN expires_at > now() THEN 'live' ELSE 'gone' END FROM sessions WHERE user_id = $1 ORDER BY 1`, &sessions},
		{`SELECT purpose FROM email_tokens WHERE user_id = $1 ORDER BY 1`, &emailTokens},
		{`SELECT name FROM api_tokens WHERE user_id = $1 ORDER BY 1`, &apiTokens},
		{`SELECT key FROM login_throttle WHERE key LIKE '%` + tag + `' ORDER BY 1`, &throttles},
	} {
		rows, err := pool.Query(ctx, c.q, func() []any {
			if c.out == &throttles {
				return nil
			}
			return []any{user}
		}()...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			*c.out = append(*c.out, s)
		}
	}
	if len(sessions) != 1 || sessions[0] != "live" {
		t.Errorf("sessions left %v, want the live one", sessions)
	}
	if len(emailTokens) != 1 {
		t.Errorf("email tokens left %v, want the one expired 10 minutes ago", emailTokens)
	}
	if len(apiTokens) != 1 || apiTokens[0] != "recent" {
		t.Errorf("API tokens left %v, want the recently expired one", apiTokens)
	}
	if len(throttles) != 1 || throttles[0] != "account:locked"+tag {
		t.Errorf("throttles left %v, want the one still locking", throttles)
	}
}
