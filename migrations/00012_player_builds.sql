-- +goose Up
-- Experiment runner (ember-lookit-frameplayer) builds. A production build depends only on the
-- commit, so there is one per (repository, commit SHA), shared by every study that pins that
-- commit; its files live in the experiments bucket under frameplayer/<sha>/ (shared/runner).
-- Cloud Build makes them (issue 7's Builds function), or an operator registers a prebuilt one
-- (make run's FRAMEPLAYER_DIST).
CREATE TABLE player_builds (
    repo_url   text        NOT NULL CHECK (repo_url ~ '^https://'),
    sha        text        NOT NULL CHECK (sha ~ '^[0-9a-f]{40}$'),
    state      text        NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'built', 'failed')),
    -- The build request (builds.request_id) when Cloud Build made it; NULL when registered.
    request_id uuid        REFERENCES builds (request_id) ON DELETE SET NULL,
    log_url    text,
    created_at timestamptz NOT NULL DEFAULT now(),
    built_at   timestamptz,
    PRIMARY KEY (repo_url, sha),
    CHECK ((state = 'built') = (built_at IS NOT NULL))
);

-- +goose Down
DROP TABLE player_builds;
