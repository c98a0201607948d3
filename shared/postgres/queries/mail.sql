-- name: StoreEmail :exec
INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text, body_html, reply_to)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO NOTHING;

-- name: LockEmail :one
SELECT id::text AS id, kind, from_address, to_addresses, subject, body_text, body_html, reply_to, status
FROM email_messages WHERE id = $1 FOR UPDATE;

-- name: MarkEmailSent :exec
UPDATE email_messages
SET status = 'sent', attempts = attempts + 1, sent_at = now(),
    provider_message_id = NULLIF(@provider_message_id::text, ''), last_error = NULL
WHERE id = $1;

-- name: MarkEmailRefused :exec
UPDATE email_messages SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1;

-- name: RecordEmailAttempt :exec
UPDATE email_messages SET attempts = attempts + 1, last_error = $2 WHERE id = $1 AND status = 'pending';
