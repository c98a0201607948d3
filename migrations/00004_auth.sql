-- +goose Up
-- Server-side sessions: functions keep no memory between requests. Only the SHA-256 of the
-- session cookie is stored, so a database leak yields no usable session.
CREATE TABLE sessions (
    id_hash          bytea       PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token       text        NOT NULL,
    two_factor_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    user_agent       text        NOT NULL DEFAULT '',
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API tokens for scripts. The key is shown once; only its SHA-256 is kept.
CREATE TABLE api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid         uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix       text        NOT NULL,
    key_hash     bytea       NOT NULL UNIQUE,
    scope        text        NOT NULL CHECK (scope IN ('read', 'read-write')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    UNIQUE (user_id, name)
);

-- Single-use emailed tokens: email verification, password reset, email change.
CREATE TABLE email_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    new_email  citext,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

-- Failed log-in attempts per account and per client address, shared by every instance.
-- key is 'account:<sha256 of the lower-cased email>' or 'ip:<address>' (never the email itself).
CREATE TABLE login_throttle (
    key          text        PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);

-- Researchers' single-use TOTP recovery codes (SHA-256 of the normalised code).
CREATE TABLE recovery_codes (
    user_id   bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash text        NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- The last accepted TOTP step, so a code can never be replayed.
ALTER TABLE totp_devices ADD COLUMN last_used_step bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE totp_devices DROP COLUMN last_used_step;
DROP TABLE recovery_codes;
DROP TABLE login_throttle;
DROP TABLE email_tokens;
DROP TABLE api_tokens;
DROP TABLE sessions;
