-- +goose Up
-- Addresses the mailer no longer sends to: SendGrid's signed Event Webhook reported a hard bounce,
-- a spam report, or a drop for one of those (or for an invalid address). One row per address,
-- whatever its case; the reason is that of the latest event. Nothing from the provider's event is
-- kept but its kind and time: the SMTP response can quote the address.
CREATE TABLE email_suppressions (
    email          citext      PRIMARY KEY CHECK (length(email) BETWEEN 3 AND 254 AND position('@' in email) > 1),
    reason         text        NOT NULL CHECK (reason IN ('bounce', 'blocked', 'spamreport', 'invalid')),
    first_event_at timestamptz NOT NULL,
    last_event_at  timestamptz NOT NULL,
    event_count    integer     NOT NULL DEFAULT 1 CHECK (event_count > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The provider's ids (sg_event_id) of the events counted above, so that a batch SendGrid delivers
-- again counts nothing twice. It holds no address.
CREATE TABLE email_suppression_events (
    event_id    text        PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 200),
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The mailer sends an email's recipients in batches of at most 1,000 (SendGrid's personalization
-- limit), the n-th batch being to_addresses[1000n+1 : 1000n+1000], and counts each batch as it
-- goes so a retry after a failure part-way resumes with the first unsent batch. A recipient
-- suppressed when their batch goes out is left out and counted; an email whose recipients were all
-- suppressed ends 'suppressed'. list_unsubscribe is empty or, parallel to to_addresses, each
-- recipient's one-click unsubscribe URL (family-facing mail).
ALTER TABLE email_messages
    DROP CONSTRAINT email_messages_to_addresses_check,
    ADD CONSTRAINT email_messages_to_addresses_check CHECK (cardinality(to_addresses) BETWEEN 1 AND 10000),
    DROP CONSTRAINT email_messages_status_check,
    ADD CONSTRAINT email_messages_status_check CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
    ADD COLUMN list_unsubscribe     text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN sent_batches         integer NOT NULL DEFAULT 0,
    ADD COLUMN suppressed_count     integer NOT NULL DEFAULT 0,
    ADD COLUMN provider_message_ids text[]  NOT NULL DEFAULT '{}',
    ADD CONSTRAINT email_messages_list_unsubscribe_check
        CHECK (cardinality(list_unsubscribe) IN (0, cardinality(to_addresses)));

-- +goose Down
UPDATE email_messages SET status = 'failed', last_error = 'every recipient was suppressed' WHERE status = 'suppressed';
ALTER TABLE email_messages
    DROP CONSTRAINT email_messages_list_unsubscribe_check,
    DROP COLUMN provider_message_ids,
    DROP COLUMN suppressed_count,
    DROP COLUMN sent_batches,
    DROP COLUMN list_unsubscribe,
    DROP CONSTRAINT email_messages_status_check,
    ADD CONSTRAINT email_messages_status_check CHECK (status IN ('pending', 'sent', 'failed')),
    DROP CONSTRAINT email_messages_to_addresses_check,
    ADD CONSTRAINT email_messages_to_addresses_check CHECK (cardinality(to_addresses) BETWEEN 1 AND 1000);
DROP TABLE email_suppression_events;
DROP TABLE email_suppressions;
