-- +goose Up
-- Labs as Lookit runs them: created pending, approved to test by a site admin, members by
-- request, every membership change logged and emailed.
ALTER TABLE labs
    ADD COLUMN created_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN approved_at    timestamptz,
    -- Lookit adds every new researcher to its "Demo lab" (read-only) and "Sandbox lab" (guest)
    -- by name; here a lab says so itself.
    ADD COLUMN auto_join_role text CHECK (auto_join_role IN ('guest', 'readonly')),
    ADD CONSTRAINT labs_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64);
-- The contact address is the Reply-To of the lab's family mail; Lookit keeps it unique.
CREATE UNIQUE INDEX labs_contact_email ON labs (lower(contact_email)) WHERE contact_email <> '';

-- Every change to a lab's approval and membership: who did what to whom.
CREATE TABLE lab_log (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lab_id     bigint      NOT NULL REFERENCES labs (id) ON DELETE CASCADE,
    actor_id   bigint      REFERENCES users (id) ON DELETE SET NULL,
    user_id    bigint      REFERENCES users (id) ON DELETE SET NULL,
    action     text        NOT NULL CHECK (action IN ('created', 'edited', 'approved', 'unapproved',
                               'join_requested', 'role_changed', 'removed', 'request_declined', 'auto_joined')),
    from_role  text,
    to_role    text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lab_log_lab ON lab_log (lab_id, created_at);

-- Family-facing mail answers to the lab's contact address.
ALTER TABLE email_messages ADD COLUMN reply_to text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE email_messages DROP COLUMN reply_to;
DROP TABLE lab_log;
DROP INDEX labs_contact_email;
ALTER TABLE labs DROP CONSTRAINT labs_slug_format, DROP COLUMN auto_join_role, DROP COLUMN approved_at,
    DROP COLUMN created_by;
