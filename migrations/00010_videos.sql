-- +goose Up
-- Participant video, as Lookit's Video model (reference §1.2): one row per recorded file. The
-- rows come from the video hooks (issue 6); the experiment runner's saves mark consent footage and
-- withdrawals delete session video (shared/postgres SaveResponse).
CREATE TABLE videos (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid               uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    s3_timestamp       timestamptz NOT NULL,
    pipe_name          text        UNIQUE,
    pipe_numeric_id    bigint,
    frame_id           text        NOT NULL DEFAULT '',
    full_name          text        NOT NULL UNIQUE, -- the object key, with its extension
    -- Which bucket holds it (§1.2): Pipe's, the recorder's (RecordRTC uploads) or jsPsych's.
    bucket             text        NOT NULL CHECK (bucket IN ('pipe', 'recorder', 'jspsych')),
    study_id           bigint      NOT NULL REFERENCES studies (id),
    response_id        bigint      NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    is_consent_footage boolean     NOT NULL DEFAULT false
);
CREATE INDEX videos_response ON videos (response_id, frame_id);
CREATE INDEX videos_consent ON videos (study_id) WHERE is_consent_footage;

-- Storage objects to delete later: withdrawn and preview video goes 7 days after its row
-- (Lookit's countdown), so a mistaken withdrawal can still be recovered by operators.
CREATE TABLE video_deletions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket       text        NOT NULL CHECK (bucket IN ('pipe', 'recorder', 'jspsych')),
    object_key   text        NOT NULL,
    reason       text        NOT NULL,
    delete_after timestamptz NOT NULL,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bucket, object_key)
);
CREATE INDEX video_deletions_due ON video_deletions (delete_after) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE video_deletions;
DROP TABLE videos;
