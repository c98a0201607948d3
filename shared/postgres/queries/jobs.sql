-- name: StartJobRun :one
-- Returns no row when this firing already has a run.
INSERT INTO job_runs (job, message_id) VALUES ($1, $2)
ON CONFLICT (message_id) DO NOTHING
RETURNING id;

-- name: FinishJobRun :exec
UPDATE job_runs SET finished_at = now(), outcome = $2 WHERE id = $1;
