-- Suppressed addresses (SendGrid's Event Webhook) and the mailer's per-batch ledger that leaves
-- them out.

-- name: RecordSuppressionEventID :execrows
-- Zero rows: the event was counted before (SendGrid delivered its batch again).
INSERT INTO email_suppression_events (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING;

-- name: UpsertSuppression :exec
-- The reason follows the latest event; first and last times widen to cover the new one.
INSERT INTO email_suppressions AS s (email, reason, first_event_at, last_event_at)
VALUES (@email::citext, @reason, @event_at::timestamptz, @event_at::timestamptz)
ON CONFLICT (email) DO UPDATE
SET reason         = CASE WHEN excluded.last_event_at >= s.last_event_at THEN excluded.reason ELSE s.reason END,
    first_event_at = least(s.first_event_at, excluded.first_event_at),
    last_event_at  = greatest(s.last_event_at, excluded.last_event_at),
    event_count    = s.event_count + 1,
    updated_at     = now();

-- name: SuppressedAmong :many
-- The addresses among the given ones that are suppressed, spelled as given.
SELECT a::text AS email
FROM unnest(@addresses::text[]) AS a
WHERE EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = a::citext);

-- name: StoreEmailForDelivery :exec
INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text, body_html, reply_to, list_unsubscribe)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, @list_unsubscribe::text[])
ON CONFLICT (id) DO NOTHING;

-- name: LockEmailForDelivery :one
SELECT id::text AS id, kind, from_address, to_addresses, subject, body_text, body_html, reply_to,
       list_unsubscribe, status, sent_batches
FROM email_messages WHERE id = $1 FOR UPDATE;

-- name: MarkEmailBatchSent :execrows
-- One batch is done: sent (provider_message_id is its id, or empty) or left out because all of
-- its recipients were suppressed. The first provider id also goes to provider_message_id.
UPDATE email_messages
SET sent_batches         = sent_batches + 1,
    suppressed_count     = suppressed_count + @suppressed::integer,
    provider_message_ids = CASE WHEN @provider_message_id::text = '' THEN provider_message_ids
                                ELSE provider_message_ids || @provider_message_id::text END,
    provider_message_id  = COALESCE(provider_message_id, NULLIF(@provider_message_id::text, ''))
WHERE id = $1 AND sent_batches = @batch::integer;

-- name: FinishEmail :one
-- Every batch is done: sent, or suppressed when no recipient was left to send to.
UPDATE email_messages
SET status = CASE WHEN suppressed_count >= cardinality(to_addresses) THEN 'suppressed' ELSE 'sent' END,
    attempts = attempts + 1, sent_at = now(), last_error = NULL
WHERE id = $1
RETURNING status;
