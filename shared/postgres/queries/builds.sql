-- name: StoreBuild :exec
INSERT INTO builds (request_id, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: LockBuildByRequest :one
SELECT build_id FROM builds WHERE request_id = $1 FOR UPDATE;

-- name: SetBuildStarted :exec
UPDATE builds
SET build_id = $2, log_url = NULLIF(@log_url::text, ''), updated_at = now(),
    status = CASE WHEN status = 'REQUESTED' THEN 'QUEUED' ELSE status END
WHERE request_id = $1;

-- name: LockBuildStatus :one
SELECT status FROM builds WHERE build_id = $1 FOR UPDATE;

-- name: SetBuildStatus :exec
UPDATE builds
SET status = $2, detail = NULLIF(@detail::text, ''), log_url = COALESCE(NULLIF(@log_url::text, ''), log_url),
    finished_at = $3, updated_at = now()
WHERE build_id = $1;
