-- name: QueueEmail :exec
-- The outbox: an email is stored in the transaction of the change that causes it, then published;
-- the retry-unsent-emails job republishes what was stored but never sent.
INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text, body_html, reply_to)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: UnsentEmails :many
SELECT id::text AS id, kind, to_addresses, subject, body_text, body_html, reply_to
FROM email_messages
WHERE status = 'pending' AND created_at < now() - interval '10 minutes' AND created_at > now() - interval '3 days'
ORDER BY created_at
LIMIT 500;

-- name: CreateUser :one
INSERT INTO users (email, password_hash, nickname, is_researcher)
VALUES (@email::citext, @password_hash, @nickname, @is_researcher)
ON CONFLICT (email) DO NOTHING
RETURNING id;

-- name: FindUserIDByEmail :one
SELECT id, email::text AS email, is_active FROM users WHERE email = @email::citext;

-- name: CreateEmailToken :exec
INSERT INTO email_tokens (token_hash, user_id, purpose, new_email, expires_at)
VALUES (@token_hash, @user_id, @purpose, sqlc.narg(new_email)::citext, @expires_at);

-- name: UseEmailToken :one
-- Marks the token used and returns it, once: a second use finds nothing.
UPDATE email_tokens SET used_at = now()
WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
RETURNING user_id, COALESCE(new_email::text, '')::text AS new_email;

-- name: InvalidateEmailTokens :exec
UPDATE email_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL;

-- name: MarkEmailVerified :exec
UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()) WHERE id = $1;

-- name: ChangeUserEmail :exec
UPDATE users SET email = @email::citext, email_verified_at = now() WHERE id = @id;

-- name: DeleteUserSessions :exec
DELETE FROM sessions WHERE user_id = $1;

-- name: DeleteOtherSessions :exec
DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2;

-- name: PasswordHashOf :one
SELECT password_hash, email::text AS email, is_researcher FROM users WHERE id = $1;
