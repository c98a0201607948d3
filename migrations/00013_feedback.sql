-- +goose Up
-- Researchers' feedback to a family on one response, shown to the family with its past sessions
-- (Lookit's Feedback). Editing keeps the row; the newest text stands.
CREATE TABLE feedback (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid          uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    response_id   bigint      NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    researcher_id bigint      REFERENCES users (id) ON DELETE SET NULL,
    comment       text        NOT NULL CHECK (btrim(comment) <> '' AND length(comment) <= 10000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_response ON feedback (response_id);

-- +goose Down
DROP TABLE feedback;
