-- The experiment runner's builds and what serving a study's runner page needs.

-- name: RegisterPlayerBuild :exec
INSERT INTO player_builds (repo_url, sha, state, built_at) VALUES ($1, $2, 'built', now())
ON CONFLICT (repo_url, sha) DO UPDATE SET state = 'built', built_at = coalesce(player_builds.built_at, now());

-- name: RunnerStudy :one
-- The study a runner page is for, with the build of the commit it pins (built is false while
-- that commit has no finished build).
SELECT s.id, s.lab_id, s.study_type_id, s.state, s.shared_preview,
       coalesce(s.metadata->>'player_repo_url', '')::text AS player_repo_url,
       coalesce(s.metadata->>'last_known_player_sha', '')::text AS player_sha,
       coalesce(pb.state = 'built', false)::boolean AS player_built
FROM studies s
LEFT JOIN player_builds pb ON pb.repo_url = s.metadata->>'player_repo_url'
                          AND pb.sha = s.metadata->>'last_known_player_sha'
WHERE s.uuid = $1;

-- name: PinStudyPlayer :execrows
-- Points a study at a registered build (make run's FRAMEPLAYER_SHA for the demo study).
UPDATE studies
SET metadata = jsonb_set(metadata, '{last_known_player_sha}', to_jsonb(sqlc.arg(sha)::text)),
    built = true, is_building = false, updated_at = now()
WHERE id = sqlc.arg(study_id) AND study_type_id = 1 AND metadata->>'player_repo_url' = sqlc.arg(repo_url)::text;

-- name: JsPsychStudy :one
-- What a jsPsych study page needs: the study's rules, its code, and what hashes the child's id.
SELECT s.id, s.uuid::text AS uuid, s.lab_id, s.study_type_id, s.state, s.shared_preview, s.name, s.exit_url,
       s.salt::text AS salt, s.hash_digits, coalesce(s.metadata->>'experiment', '')::text AS experiment
FROM studies s WHERE s.uuid = $1;
