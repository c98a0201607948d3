-- +goose Up
-- Studies, their researchers (Lookit's seven study groups), their log, and the responses families
-- give, as Lookit models them (reference §1.2). The lifecycle rules live in shared/studies and
-- are enforced by shared/postgres, not by which buttons a page shows.

-- Lookit's fixed study type ids; the JSON:API exposes them.
CREATE TABLE study_types (
    id   smallint PRIMARY KEY,
    key  text     NOT NULL UNIQUE,
    name text     NOT NULL UNIQUE
);
INSERT INTO study_types (id, key, name) VALUES
    (1, 'frameplayer', 'Lookit/Ember Frame Player (Default experiment builder)'),
    (2, 'external', 'External Study (Choose this if you are posting a study link rather using an experiment builder)'),
    (3, 'jspsych', 'jsPsych');

CREATE TABLE studies (
    id                       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid                     uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    name                     text        NOT NULL CHECK (name <> ''),
    lab_id                   bigint      NOT NULL REFERENCES labs (id),
    creator_id               bigint      REFERENCES users (id) ON DELETE SET NULL,
    study_type_id            smallint    NOT NULL REFERENCES study_types (id),
    -- Hashed participant ids (issue 5) use the salt; a clone gets a new one.
    salt                     uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    hash_digits              smallint    NOT NULL DEFAULT 6 CHECK (hash_digits BETWEEN 4 AND 52),
    priority                 smallint    NOT NULL DEFAULT 99 CHECK (priority BETWEEN 1 AND 99),
    preview_summary          text        NOT NULL DEFAULT '',
    short_description        text        NOT NULL DEFAULT '',
    purpose                  text        NOT NULL DEFAULT '',
    criteria                 text        NOT NULL DEFAULT '',
    duration                 text        NOT NULL DEFAULT '',
    contact_info             text        NOT NULL DEFAULT '',
    compensation_description text        NOT NULL DEFAULT '',
    image_object             text        NOT NULL DEFAULT '', -- object name in the private bucket
    exit_url                 text        NOT NULL DEFAULT '',
    min_age_years            smallint    NOT NULL DEFAULT 0 CHECK (min_age_years BETWEEN 0 AND 18),
    min_age_months           smallint    NOT NULL DEFAULT 0 CHECK (min_age_months BETWEEN 0 AND 11),
    min_age_days             smallint    NOT NULL DEFAULT 0 CHECK (min_age_days BETWEEN 0 AND 31),
    max_age_years            smallint    NOT NULL DEFAULT 18 CHECK (max_age_years BETWEEN 0 AND 18),
    max_age_months           smallint    NOT NULL DEFAULT 0 CHECK (max_age_months BETWEEN 0 AND 11),
    max_age_days             smallint    NOT NULL DEFAULT 0 CHECK (max_age_days BETWEEN 0 AND 31),
    criteria_expression      text        NOT NULL DEFAULT '',
    -- The parsed expression (shared/eligibility), evaluated in SQL by criteria_matches.
    criteria_ast             jsonb,
    structure                jsonb       NOT NULL DEFAULT '{"frames": {}, "sequence": []}',
    use_generator            boolean     NOT NULL DEFAULT false,
    generator                text        NOT NULL DEFAULT '',
    display_full_screen      boolean     NOT NULL DEFAULT true,
    metadata                 jsonb       NOT NULL DEFAULT '{}',
    state                    text        NOT NULL DEFAULT 'created' CHECK (state IN ('created', 'submitted', 'rejected',
                                 'retracted', 'approved', 'active', 'paused', 'deactivated', 'archived')),
    status_change_date       timestamptz,
    comments                 text        NOT NULL DEFAULT '',
    comments_extra           jsonb       NOT NULL DEFAULT '{}',
    public                   boolean     NOT NULL DEFAULT false,
    shared_preview           boolean     NOT NULL DEFAULT false,
    built                    boolean     NOT NULL DEFAULT false,
    is_building              boolean     NOT NULL DEFAULT false,
    -- Recruitment cap (Lookit's max_responses): tallied_responses counts the responses that count
    -- towards it, kept in the transaction that tallies each one.
    max_responses            integer     CHECK (max_responses > 0),
    tallied_responses        integer     NOT NULL DEFAULT 0 CHECK (tallied_responses >= 0),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (min_age_years * 365 + min_age_months * 30 + min_age_days
           <= max_age_years * 365 + max_age_months * 30 + max_age_days)
);
CREATE INDEX studies_lab ON studies (lab_id);
CREATE INDEX studies_state ON studies (state);

-- Lookit's seven study groups; a researcher is in at most one group of a study.
CREATE TABLE study_researchers (
    study_id   bigint      NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grp        text        NOT NULL CHECK (grp IN ('preview', 'design', 'analysis', 'submission_processor',
                               'researcher', 'manager', 'admin')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (study_id, user_id)
);
CREATE INDEX study_researchers_user ON study_researchers (user_id);

-- Prior-participation rules: the child must (not) have taken part in the other study.
CREATE TABLE study_participation_rules (
    study_id       bigint  NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    other_study_id bigint  NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    must_have      boolean NOT NULL, -- false: must not have participated
    PRIMARY KEY (study_id, other_study_id)
);

CREATE TABLE study_logs (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid       uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    study_id   bigint      NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    user_id    bigint      REFERENCES users (id) ON DELETE SET NULL,
    action     text        NOT NULL,
    extra      jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX study_logs_study ON study_logs (study_id, action);

-- One participation session of a child in a study.
CREATE TABLE responses (
    id                        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid                      uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    study_id                  bigint      NOT NULL REFERENCES studies (id),
    child_id                  bigint      NOT NULL REFERENCES children (id),
    study_type_id             smallint    NOT NULL REFERENCES study_types (id),
    demographic_snapshot_id   bigint      REFERENCES demographic_data (id) ON DELETE SET NULL,
    completed                 boolean     NOT NULL DEFAULT false,
    completed_consent_frame   boolean     NOT NULL DEFAULT false,
    survey_consent            boolean     NOT NULL DEFAULT false,
    exp_data                  jsonb       NOT NULL DEFAULT '{}',
    conditions                jsonb       NOT NULL DEFAULT '{}',
    global_event_timings      jsonb       NOT NULL DEFAULT '[]',
    sequence                  text[]      NOT NULL DEFAULT '{}',
    is_preview                boolean     NOT NULL DEFAULT false,
    recording_method          text        DEFAULT 'pipe',
    -- Computed once, at creation: {"Eligible"} or a sorted mix of Ineligible_… reasons.
    eligibility               text[]      NOT NULL DEFAULT '{}',
    researcher_payment_status text        NOT NULL DEFAULT '' CHECK (researcher_payment_status IN
                                  ('', 'review', 'to_pay', 'do_not_pay', 'paid')),
    researcher_session_status text        NOT NULL DEFAULT '' CHECK (researcher_session_status IN
                                  ('', 'to_schedule', 'scheduled', 'session_attended', 'session_complete',
                                   'follow_up', 'communication_complete', 'withdrawn_closed')),
    researcher_star           boolean     NOT NULL DEFAULT false,
    -- Counted towards the study's max_responses (see studies.tallied_responses).
    tallied                   boolean     NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX responses_study ON responses (study_id, created_at);
CREATE INDEX responses_child ON responses (child_id, study_id);

-- Consent rulings are append-only; the newest one stands.
CREATE TABLE consent_rulings (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid        uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    response_id bigint      NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    action      text        NOT NULL CHECK (action IN ('accepted', 'rejected', 'pending')),
    arbiter_id  bigint      REFERENCES users (id) ON DELETE SET NULL,
    comments    text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_rulings_response ON consent_rulings (response_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE consent_rulings;
DROP TABLE responses;
DROP TABLE study_logs;
DROP TABLE study_participation_rules;
DROP TABLE study_researchers;
DROP TABLE studies;
DROP TABLE study_types;
