-- name: StoreBuild :exec
INSERT INTO builds (request_id, subject, request) VALUES ($1, $2, sqlc.narg(request)) ON CONFLICT DO NOTHING;

-- name: LockBuildByRequest :one
SELECT build_id FROM builds WHERE request_id = $1 FOR UPDATE;

-- name: SetBuildStarted :exec
UPDATE builds
SET build_id = $2, log_url = NULLIF(@log_url::text, ''), updated_at = now(),
    status = CASE WHEN status = 'REQUESTED' THEN 'QUEUED' ELSE status END
WHERE request_id = $1;

-- name: LockBuildStatus :one
SELECT status, request_id::text AS request_id, subject FROM builds WHERE build_id = $1 FOR UPDATE;

-- name: SetBuildStatus :exec
UPDATE builds
SET status = $2, detail = NULLIF(@detail::text, ''), log_url = COALESCE(NULLIF(@log_url::text, ''), log_url),
    finished_at = $3, updated_at = now()
WHERE build_id = $1;

-- name: LockStudyForBuild :one
SELECT s.id, s.name, s.study_type_id, s.is_building,
       coalesce(s.metadata->>'player_repo_url', '')::text AS repo_url,
       coalesce(s.metadata->>'last_known_player_sha', '')::text AS player_ref
FROM studies s WHERE s.id = $1 FOR UPDATE;

-- name: LockPlayerBuild :one
SELECT state FROM player_builds WHERE repo_url = $1 AND sha = $2 FOR UPDATE;

-- name: StartPlayerBuild :exec
-- A new build of (repo, sha), or another try after a failure.
INSERT INTO player_builds (repo_url, sha, state, request_id) VALUES (@repo_url, @sha, 'building', @request_id)
ON CONFLICT (repo_url, sha) DO UPDATE SET state = 'building', request_id = excluded.request_id, log_url = NULL,
    built_at = NULL;

-- name: SetStudyBuild :exec
-- The study's build state, with the commit it pins (a branch resolved once is stored).
UPDATE studies SET built = @built, is_building = @is_building, updated_at = now(),
    metadata = jsonb_set(jsonb_set(metadata, '{player_repo_url}', to_jsonb(@repo_url::text)),
                         '{last_known_player_sha}', to_jsonb(@sha::text))
WHERE id = @id;

-- name: FinishPlayerBuild :many
-- A build ended: its (repo, sha) is built or failed, and so is every study waiting on it.
WITH pb AS (
    UPDATE player_builds SET state = @state, log_url = NULLIF(@log_url::text, ''),
        built_at = CASE WHEN @state::text = 'built' THEN now() END
    WHERE request_id = @request_id::uuid AND state = 'building'
    RETURNING repo_url, sha)
UPDATE studies s SET built = (@state::text = 'built'), is_building = false, updated_at = now()
FROM pb
WHERE s.is_building AND s.study_type_id = 1
  AND s.metadata->>'player_repo_url' = pb.repo_url AND s.metadata->>'last_known_player_sha' = pb.sha
RETURNING s.id, s.name, pb.sha;

-- name: StudyAdminEmails :many
SELECT u.email::text AS email FROM study_researchers r JOIN users u ON u.id = r.user_id
WHERE r.study_id = $1 AND r.grp = 'admin' AND u.is_active ORDER BY u.id;

-- name: StaleBuildRequests :many
-- Build requests stored but never taken up (their publication was lost): sent again.
SELECT request FROM builds
WHERE status = 'REQUESTED' AND build_id IS NULL AND request IS NOT NULL AND created_at < now() - interval '5 minutes'
ORDER BY created_at LIMIT 100;

-- name: ExpireStuckBuilds :many
-- Builds that started but sent no status for two hours (Cloud Build's timeout is far shorter):
-- their status was lost, so they end as expired and what waits on them is freed.
UPDATE builds SET status = 'EXPIRED', finished_at = now(), updated_at = now(),
    detail = 'no status from the builder for two hours'
WHERE status IN ('REQUESTED', 'PENDING', 'QUEUED', 'WORKING') AND build_id IS NOT NULL
  AND updated_at < now() - interval '2 hours'
RETURNING request_id::text AS request_id, subject, coalesce(log_url, '')::text AS log_url;
