-- +goose Up
-- Researcher data (issue 8): the consent manager's listing, researchers' messages to families,
-- and exports that run on the exports topic.

-- The consent manager lists a study's responses with a completed consent frame, newest first.
CREATE INDEX responses_consent_queue ON responses (study_id, is_preview, created_at DESC, id DESC)
    WHERE completed_consent_frame;
-- The standing ruling of each response (the newest one), in one place for every view
-- (consent_rulings_response serves it).
CREATE VIEW current_consent AS
SELECT DISTINCT ON (response_id) response_id, action, arbiter_id, comments, created_at
FROM consent_rulings
ORDER BY response_id, created_at DESC, id DESC;

-- Researchers' messages to families who took part in a study (Lookit's Contact Participants).
-- The kind decides who may receive it: transactional to every participant, the others only to
-- families whose preference allows it.
CREATE TABLE researcher_messages (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid       uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    study_id   bigint      NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    sender_id  bigint      REFERENCES users (id) ON DELETE SET NULL,
    kind       text        NOT NULL CHECK (kind IN ('transactional', 'study_update', 'next_session', 'response_questions')),
    subject    text        NOT NULL CHECK (btrim(subject) <> '' AND length(subject) <= 200),
    body       text        NOT NULL CHECK (btrim(body) <> '' AND length(body) <= 20000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX researcher_messages_study ON researcher_messages (study_id, created_at DESC);

CREATE TABLE researcher_message_recipients (
    message_id bigint NOT NULL REFERENCES researcher_messages (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_id   uuid   NOT NULL REFERENCES email_messages (id),
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX researcher_message_recipients_user ON researcher_message_recipients (user_id);

-- Exports: files built by the RunExport function into the private bucket. The row is the
-- idempotency record of the exports topic's message (its id is the message's export_id): a
-- redelivery finds it done and does nothing; a killed run is picked up again by the next
-- delivery. An identical request (request_key) reuses a finished file.
CREATE TABLE exports (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    study_id     bigint      NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    requested_by bigint      REFERENCES users (id) ON DELETE SET NULL,
    kind         text        NOT NULL,
    params       jsonb       NOT NULL DEFAULT '{}',
    request_key  text        NOT NULL,
    file_name    text        NOT NULL,
    state        text        NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    done_items   integer     NOT NULL DEFAULT 0,
    total_items  integer,
    object_key   text,
    bytes        bigint,
    error        text        NOT NULL DEFAULT '',
    attempts     integer     NOT NULL DEFAULT 0,
    email_id     uuid        REFERENCES email_messages (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    heartbeat_at timestamptz,
    finished_at  timestamptz
);
CREATE INDEX exports_study ON exports (study_id, created_at DESC);
CREATE INDEX exports_reuse ON exports (request_key, finished_at DESC) WHERE state = 'done';

-- +goose Down
DROP TABLE exports;
DROP TABLE researcher_message_recipients;
DROP TABLE researcher_messages;
DROP VIEW current_consent;
DROP INDEX responses_consent_queue;
