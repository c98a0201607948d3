-- +goose Up
-- Families and researchers share one users table, as in Lookit; the email is the login and is
-- unique without regard to case.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id                       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid                     uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    email                    citext      NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254 AND position('@' in email) > 1),
    password_hash            text        NOT NULL DEFAULT '',
    given_name               text        NOT NULL DEFAULT '',
    middle_name              text        NOT NULL DEFAULT '',
    family_name              text        NOT NULL DEFAULT '',
    nickname                 text        NOT NULL DEFAULT '',
    time_zone                text        NOT NULL DEFAULT '',
    locale                   text        NOT NULL DEFAULT '',
    is_active                boolean     NOT NULL DEFAULT true,
    is_researcher            boolean     NOT NULL DEFAULT false,
    is_site_admin            boolean     NOT NULL DEFAULT false,
    email_verified_at        timestamptz,
    email_next_session       boolean     NOT NULL DEFAULT true,
    email_new_studies        boolean     NOT NULL DEFAULT true,
    email_study_updates      boolean     NOT NULL DEFAULT true,
    email_response_questions boolean     NOT NULL DEFAULT true,
    is_spam                  boolean     NOT NULL DEFAULT false,
    admin_comments           text        NOT NULL DEFAULT '',
    last_login_at            timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now()
);

-- TOTP second factor for researchers (RFC 6238); the secret is base32.
CREATE TABLE totp_devices (
    user_id      bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       text        NOT NULL,
    activated_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE labs (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid               uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    name               text        NOT NULL UNIQUE CHECK (name <> ''),
    slug               text        UNIQUE,
    institution        text        NOT NULL DEFAULT '',
    principal_investigator_name text NOT NULL DEFAULT '',
    contact_email      text        NOT NULL DEFAULT '',
    contact_phone      text        NOT NULL DEFAULT '',
    lab_website        text        NOT NULL DEFAULT '',
    description        text        NOT NULL DEFAULT '',
    irb_contact_info   text        NOT NULL DEFAULT '',
    approved_to_test   boolean     NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- A researcher's role in a lab; 'requested' is a pending join request.
CREATE TABLE lab_members (
    lab_id     bigint      NOT NULL REFERENCES labs (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('requested', 'guest', 'readonly', 'member', 'admin')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lab_id, user_id)
);
CREATE INDEX lab_members_user ON lab_members (user_id);

CREATE TABLE children (
    id                       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid                     uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    user_id                  bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    given_name               text        NOT NULL CHECK (given_name <> ''),
    birthday                 date        NOT NULL,
    gender                   text        NOT NULL CHECK (gender IN ('m', 'f', 'o', 'na')),
    gender_self_describe     text        NOT NULL DEFAULT '',
    -- Lookit's 0–17 scale (see 00005 and shared/accounts); NULL is no answer.
    gestational_age_at_birth smallint    CHECK (gestational_age_at_birth BETWEEN 0 AND 40),
    additional_information   text        NOT NULL DEFAULT '',
    -- Lookit's BitFields, in Lookit's bit order (see shared/accounts when it lands).
    existing_conditions      bigint      NOT NULL DEFAULT 0,
    languages_spoken         bigint      NOT NULL DEFAULT 0,
    deleted                  boolean     NOT NULL DEFAULT false,
    created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX children_user ON children (user_id) WHERE NOT deleted;

-- Demographics are versioned: every save inserts a row pointing at the one it replaces.
CREATE TABLE demographic_data (
    id                                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid                              uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    user_id                           bigint      REFERENCES users (id) ON DELETE CASCADE,
    previous_id                       bigint      REFERENCES demographic_data (id) ON DELETE SET NULL,
    number_of_children                text        NOT NULL DEFAULT '',
    child_birthdays                   date[]      NOT NULL DEFAULT '{}',
    number_of_guardians               text        NOT NULL DEFAULT '',
    number_of_guardians_explanation   text        NOT NULL DEFAULT '',
    us_race_ethnicity_identification  text[]      NOT NULL DEFAULT '{}',
    us_race_ethnicity_identification_describe text NOT NULL DEFAULT '',
    age                               text        NOT NULL DEFAULT '',
    gender                            text        NOT NULL DEFAULT '',
    gender_self_describe              text        NOT NULL DEFAULT '',
    education_level                   text        NOT NULL DEFAULT '',
    annual_income                     text        NOT NULL DEFAULT '',
    country                           text        NOT NULL DEFAULT '',
    state                             text        NOT NULL DEFAULT '',
    density                           text        NOT NULL DEFAULT '',
    lookit_referrer                   text        NOT NULL DEFAULT '',
    additional_comments               text        NOT NULL DEFAULT '',
    extra                             jsonb       NOT NULL DEFAULT '{}',
    created_at                        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX demographic_data_user_created ON demographic_data (user_id, created_at DESC);

-- +goose Down
DROP TABLE demographic_data;
DROP TABLE children;
DROP TABLE lab_members;
DROP TABLE labs;
DROP TABLE totp_devices;
DROP TABLE users;
