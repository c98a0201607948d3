-- name: VideoTarget :one
-- The response a recording names, which must belong to the study it names.
SELECT r.id, r.study_id, (r.study_type_id = 3 OR r.recording_method = 'jspsych')::boolean AS jspsych
FROM responses r JOIN studies s ON s.id = r.study_id
WHERE r.uuid = @response_uuid::uuid AND s.uuid = @study_uuid::uuid;

-- name: LockResponseForVideo :one
-- Shared lock: a save of the same response (which locks it for update and then marks its consent
-- frame's videos) runs wholly before or wholly after the filing of a video, so the video is
-- consent footage whichever arrives first.
SELECT r.study_type_id, r.exp_data, r.sequence FROM responses r WHERE r.id = $1 FOR SHARE;

-- name: InsertVideo :one
-- No row: the recording was filed before (a repeated webhook or upload notice).
INSERT INTO videos (s3_timestamp, pipe_name, pipe_numeric_id, frame_id, full_name, bucket, study_id, response_id,
                    is_consent_footage)
VALUES (@s3_timestamp, sqlc.narg(pipe_name), sqlc.narg(pipe_numeric_id), @frame_id, @full_name, @bucket, @study_id,
        @response_id, @is_consent_footage)
ON CONFLICT DO NOTHING
RETURNING id, uuid::text AS uuid, is_consent_footage;

-- name: VideoByFullName :one
SELECT id, uuid::text AS uuid, response_id, is_consent_footage FROM videos WHERE full_name = $1;

-- name: ScheduleVideoDeletion :exec
INSERT INTO video_deletions (bucket, object_key, reason, delete_after)
VALUES (@bucket, @object_key, @reason, now() + make_interval(secs => @after_seconds::double precision))
ON CONFLICT (bucket, object_key) DO NOTHING;

-- name: MarkPipeEventProcessed :exec
UPDATE pipe_webhook_events SET processed_at = now() WHERE payload_hash = $1 AND processed_at IS NULL;

-- name: ClaimDueVideoDeletions :many
-- Rows locked until the run's transaction ends; an overlapping run skips them.
SELECT id, bucket, object_key FROM video_deletions
WHERE deleted_at IS NULL AND delete_after <= now()
ORDER BY delete_after, id LIMIT $1 FOR UPDATE SKIP LOCKED;

-- name: MarkVideoDeletionsDone :exec
UPDATE video_deletions SET deleted_at = now() WHERE id = ANY(@ids::bigint[]);

-- name: VideoForAccess :one
-- What deciding who may watch a video needs (authz.WatchVideo), and where it is.
SELECT v.full_name, v.bucket, v.is_consent_footage, r.is_preview, v.study_id, s.lab_id,
       response_consented(r.id)::boolean AS consented
FROM videos v JOIN responses r ON r.id = v.response_id JOIN studies s ON s.id = v.study_id
WHERE v.uuid = $1;

-- name: SchedulePreviewVideoDeletions :execrows
-- Deleting a study's preview data: its videos' objects go in 7 days, as withdrawn ones do.
INSERT INTO video_deletions (bucket, object_key, reason, delete_after)
SELECT v.bucket, v.full_name, 'preview', now() + make_interval(secs => @after_seconds::double precision)
FROM videos v JOIN responses r ON r.id = v.response_id
WHERE r.study_id = @study_id AND r.is_preview
ON CONFLICT (bucket, object_key) DO NOTHING;

-- name: DeletePreviewResponses :execrows
-- Their rows (videos, consent rulings and feedback with them) go at once.
DELETE FROM responses WHERE study_id = $1 AND is_preview;
