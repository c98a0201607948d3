-- Export jobs (issue 8): a download or video archive made on the exports topic. The row is the
-- job's idempotency key and lease: a delivery leases it (attempts is the fencing token), beats
-- its heartbeat while it works, and finishes it with the email in one transaction; a redelivery
-- finds it done, or running under a live lease, and does nothing.

-- name: UnfinishedExport :one
-- The same request, still queued or running: asking twice does not make the file twice.
SELECT id::text AS id FROM exports WHERE request_key = @request_key AND state IN ('queued', 'running')
ORDER BY created_at DESC LIMIT 1;

-- name: InsertExport :one
INSERT INTO exports (study_id, requested_by, kind, params, request_key, file_name)
VALUES (@study_id, @requested_by, @kind, @params, @request_key, @file_name)
RETURNING id::text AS id;

-- name: GetExport :one
SELECT e.id::text AS id, e.study_id, s.lab_id, s.uuid::text AS study_uuid, s.name AS study_name, e.requested_by,
       coalesce(u.email::text, '')::text AS requester_email, coalesce(u.is_active, false)::boolean AS requester_active,
       e.kind, e.params, e.file_name, e.state, e.done_items, e.total_items, e.object_key, e.bytes, e.error,
       e.attempts, e.skipped, e.skipped_count, e.created_at, e.finished_at
FROM exports e JOIN studies s ON s.id = e.study_id LEFT JOIN users u ON u.id = e.requested_by
WHERE e.id = @id;

-- name: ListExports :many
SELECT e.id::text AS id, e.kind, e.params, e.file_name, e.state, e.done_items, e.total_items, e.bytes, e.error,
       e.skipped, e.skipped_count, e.created_at, e.finished_at
FROM exports e WHERE e.study_id = @study_id AND e.requested_by = @requested_by
ORDER BY e.created_at DESC LIMIT 50;

-- name: LeaseExport :one
-- Takes the export for one run: queued, or running under a lease that ran out (its run died).
UPDATE exports SET state = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()),
                   heartbeat_at = now(), done_items = 0
WHERE id = @id AND (state = 'queued' OR (state = 'running' AND heartbeat_at < now() - make_interval(secs => @lease_seconds::float8)))
RETURNING attempts;

-- name: ExportHeartbeat :execrows
UPDATE exports SET heartbeat_at = now(), done_items = @done_items, total_items = @total_items
WHERE id = @id AND state = 'running' AND attempts = @attempt;

-- name: FinishExport :execrows
UPDATE exports SET state = 'done', heartbeat_at = now(), finished_at = now(), object_key = @object_key, bytes = @bytes,
                   done_items = @done_items, total_items = @done_items, skipped = @skipped, skipped_count = @skipped_count,
                   email_id = sqlc.narg(email_id)::text::uuid
WHERE id = @id AND state = 'running' AND attempts = @attempt;

-- name: FailExport :execrows
UPDATE exports SET state = 'failed', finished_at = now(), error = @error, email_id = sqlc.narg(email_id)::text::uuid
WHERE id = @id AND state IN ('queued', 'running') AND attempts = @attempt;

-- name: StaleExports :many
-- Exports to publish again: queued for a while (their publication was lost) or running under a
-- lease that ran out (their run died and Pub/Sub gave up on it).
SELECT id::text AS id, kind FROM exports
WHERE (state = 'queued' AND created_at < now() - make_interval(secs => @queued_seconds::float8))
   OR (state = 'running' AND heartbeat_at < now() - make_interval(secs => @lease_seconds::float8))
ORDER BY created_at LIMIT 100;

-- name: ArchiveVideos :many
-- The videos of a video archive, in a stable order (the archive's name hashes the names in
-- order): consent videos of the study's responses of the kind, or every video of its consented
-- responses; optionally those whose name contains match.
SELECT v.full_name, v.bucket, v.s3_timestamp
FROM videos v
JOIN responses r ON r.id = v.response_id
JOIN studies s ON s.id = r.study_id
LEFT JOIN current_consent cc ON cc.response_id = r.id
WHERE v.study_id = @study_id AND r.is_preview = @preview AND r.study_type_id = s.study_type_id
  AND (CASE WHEN @consent_only::boolean THEN v.is_consent_footage
            ELSE r.completed_consent_frame AND cc.action = 'accepted' END)
  AND (@match::text = '' OR strpos(v.full_name, @match::text) > 0)
ORDER BY v.full_name;
