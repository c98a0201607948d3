-- +goose Up
-- Verified Pipe webhook calls, kept before any processing so that a recording Pipe reported is
-- never lost; a repeated call (Pipe retries) is stored once.
CREATE TABLE pipe_webhook_events (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload_hash bytea       NOT NULL UNIQUE,
    payload      jsonb       NOT NULL,
    video_name   text        NOT NULL,
    study_uuid   uuid        NOT NULL,
    response_uuid uuid       NOT NULL,
    frame_id     text        NOT NULL,
    is_consent   boolean     NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX pipe_webhook_events_unprocessed ON pipe_webhook_events (received_at) WHERE processed_at IS NULL;

-- +goose Down
DROP TABLE pipe_webhook_events;
