-- name: FindUserForLogin :one
SELECT u.id, u.uuid::text AS uuid, u.email::text AS email, u.password_hash, u.is_active, u.is_researcher,
       u.is_site_admin, u.email_verified_at,
       (t.activated_at IS NOT NULL)::boolean AS totp_active
FROM users u LEFT JOIN totp_devices t ON t.user_id = u.id
WHERE u.email = @email::citext;

-- name: SetPasswordHash :exec
UPDATE users SET password_hash = $2 WHERE id = $1;

-- name: RecordLogin :exec
UPDATE users SET last_login_at = now() WHERE id = $1;

-- name: CreateSession :exec
INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, user_agent, two_factor_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: FindSession :one
-- The session and the facts authorization needs about its user.
SELECT s.user_id, s.csrf_token, s.two_factor_at, s.expires_at, s.last_seen_at,
       u.uuid::text AS user_uuid, u.email::text AS email, u.is_active, u.is_researcher, u.is_site_admin
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = $1 AND s.expires_at > now();

-- name: TouchSession :exec
UPDATE sessions SET last_seen_at = now(), expires_at = GREATEST(expires_at, @expires_at::timestamptz)
WHERE id_hash = $1;

-- name: MarkSessionTwoFactor :exec
UPDATE sessions SET two_factor_at = now() WHERE id_hash = $1;

-- name: DeleteSession :exec
DELETE FROM sessions WHERE id_hash = $1;

-- name: ListSessions :many
SELECT id_hash, created_at, last_seen_at, expires_at, user_agent, two_factor_at
FROM sessions WHERE user_id = $1 AND expires_at > now()
ORDER BY last_seen_at DESC;

-- name: DeleteUserSession :execrows
DELETE FROM sessions WHERE user_id = $1 AND id_hash = $2;

-- name: DeleteExpiredSessions :execrows
DELETE FROM sessions WHERE expires_at < now();

-- name: ThrottleState :one
SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1;

-- name: RecordLoginFailure :one
-- Counts a failure in the current window (a new window starts when the old one is over) and
-- locks the key once the limit is reached.
INSERT INTO login_throttle AS t (key, failures, window_start)
VALUES (@key, 1, now())
ON CONFLICT (key) DO UPDATE SET
    failures     = CASE WHEN t.window_start < now() - @period::interval THEN 1 ELSE t.failures + 1 END,
    window_start = CASE WHEN t.window_start < now() - @period::interval THEN now() ELSE t.window_start END
RETURNING failures;

-- name: LockThrottle :exec
UPDATE login_throttle SET locked_until = now() + @lock_for::interval WHERE key = @key;

-- name: ClearThrottle :exec
DELETE FROM login_throttle WHERE key = $1;

-- name: FindTOTP :one
SELECT secret, activated_at, last_used_step FROM totp_devices WHERE user_id = $1 FOR UPDATE;

-- name: UseTOTPStep :exec
UPDATE totp_devices SET last_used_step = $2 WHERE user_id = $1;

-- name: UseRecoveryCode :execrows
UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL;

-- name: FindUserByID :one
SELECT id, uuid::text AS uuid, email::text AS email, given_name, middle_name, family_name, nickname,
       is_active, is_researcher, is_site_admin, email_verified_at,
       email_next_session, email_new_studies, email_study_updates, email_response_questions, created_at
FROM users WHERE id = $1;

-- name: UserMemberships :many
SELECT lab_id, role FROM lab_members WHERE user_id = $1 AND role <> 'requested';

-- name: CreateAPIToken :one
INSERT INTO api_tokens (user_id, name, prefix, key_hash, scope, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING uuid::text AS uuid, created_at;

-- name: FindAPIToken :one
SELECT t.id, t.user_id, t.scope, u.is_active, u.is_researcher, u.is_site_admin
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.key_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now();

-- name: TouchAPIToken :exec
UPDATE api_tokens SET last_used_at = now()
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '5 minutes');

-- name: ListAPITokens :many
SELECT uuid::text AS uuid, name, prefix, scope, created_at, expires_at, last_used_at
FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
ORDER BY created_at DESC;

-- name: RevokeAPIToken :execrows
UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND uuid = $2 AND revoked_at IS NULL;

-- name: StartTOTPEnrolment :execrows
-- A new secret replaces a pending one; an activated device is only replaced by re-enrolment.
INSERT INTO totp_devices (user_id, secret) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, activated_at = NULL, last_used_step = 0, created_at = now()
WHERE totp_devices.activated_at IS NULL OR @replace_active::boolean;

-- name: ActivateTOTP :exec
UPDATE totp_devices SET activated_at = now(), last_used_step = $2 WHERE user_id = $1;

-- name: DeleteRecoveryCodes :exec
DELETE FROM recovery_codes WHERE user_id = $1;

-- name: AddRecoveryCode :exec
INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2);

-- name: DeleteSpentEmailTokens :execrows
-- Emailed tokens a day past their use or expiry: no link can use them any more.
DELETE FROM email_tokens WHERE coalesce(used_at, expires_at) < now() - interval '1 day';

-- name: DeleteOldAPITokens :execrows
-- API tokens revoked or expired 30 days ago; until then their owners still see them listed.
DELETE FROM api_tokens WHERE coalesce(revoked_at, expires_at) < now() - interval '30 days';

-- name: DeleteStaleThrottles :execrows
-- Log-in throttles whose window and lock ended a day ago count nothing any more.
DELETE FROM login_throttle
WHERE window_start < now() - interval '1 day' AND coalesce(locked_until, window_start) < now() - interval '1 day';
