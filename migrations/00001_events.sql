-- +goose Up
-- Pub/Sub delivers at least once. A handler records the message it processed here in the same
-- transaction as its effect, so a redelivered message finds its receipt and has no second effect.
CREATE TABLE event_receipts (
    handler      text        NOT NULL,
    message_id   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (handler, message_id)
);
CREATE INDEX event_receipts_processed_at ON event_receipts (processed_at);

-- Messages a handler acknowledged without acting on them because they can never succeed
-- (malformed payload, unknown kind). Kept so that nothing acknowledged is lost.
CREATE TABLE rejected_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handler     text        NOT NULL,
    message_id  text        NOT NULL,
    topic       text        NOT NULL,
    attributes  jsonb       NOT NULL DEFAULT '{}',
    data        bytea       NOT NULL,
    reason      text        NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (handler, message_id)
);

-- Every email the platform sends. A message's key makes a redelivered send request a no-op once
-- the provider accepted it.
CREATE TABLE email_messages (
    id                  uuid        PRIMARY KEY,
    kind                text        NOT NULL,
    from_address        text        NOT NULL,
    to_addresses        text[]      NOT NULL CHECK (cardinality(to_addresses) BETWEEN 1 AND 1000),
    subject             text        NOT NULL,
    body_text           text        NOT NULL,
    body_html           text        NOT NULL DEFAULT '',
    status              text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts            integer     NOT NULL DEFAULT 0,
    provider_message_id text,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);

-- Runs of scheduled jobs (Cloud Scheduler → Pub/Sub), one row per scheduled firing.
CREATE TABLE job_runs (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text        NOT NULL,
    message_id  text        NOT NULL UNIQUE,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     jsonb       NOT NULL DEFAULT '{}'
);

-- Builds delegated to Cloud Build (or the local builder). request_id is the key of the request
-- message; status follows Cloud Build's and never moves back from a terminal state.
CREATE TABLE builds (
    request_id  uuid        PRIMARY KEY,
    subject     text        NOT NULL,
    build_id    text        UNIQUE,
    status      text        NOT NULL DEFAULT 'REQUESTED',
    log_url     text,
    detail      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- +goose Down
DROP TABLE builds;
DROP TABLE job_runs;
DROP TABLE email_messages;
DROP TABLE rejected_events;
DROP TABLE event_receipts;
