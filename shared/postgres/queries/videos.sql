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
-- The family is the child's, for the family's own playback of its sessions.
SELECT v.full_name, v.bucket, v.is_consent_footage, r.is_preview, v.study_id, s.lab_id,
       response_consented(r.id)::boolean AS consented, c.user_id AS family_id
FROM videos v JOIN responses r ON r.id = v.response_id JOIN studies s ON s.id = v.study_id
JOIN children c ON c.id = r.child_id
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

-- name: KeepPipeCallAndTarget :one
-- One round trip for a Pipe webhook call: keep the call (kept = 0 when it was kept before) and
-- read the response it names, with what deciding the recording's consent needs: its frame's
-- frameType, the last frame and its id (a withdrawal), and the row's version, which FileVideo
-- checks so that a save in between sends the filing down the locked path.
WITH k AS (
    INSERT INTO pipe_webhook_events (payload_hash, payload, video_name, study_uuid, response_uuid, frame_id, is_consent)
    VALUES (@payload_hash, @payload, @video_name, @study_uuid, @response_uuid, @frame_id, @is_consent)
    ON CONFLICT (payload_hash) DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM k)::int AS kept, coalesce(t.response_id, 0)::bigint AS response_id,
       coalesce(t.study_id, 0)::bigint AS study_id, coalesce(t.study_type_id, 0)::smallint AS study_type_id,
       coalesce(t.frame_type, '')::text AS frame_type, coalesce(t.last_frame, 'null')::jsonb AS last_frame,
       coalesce(t.last_id, '')::text AS last_id, coalesce(t.row_version, '')::text AS row_version
FROM (SELECT 1) AS one LEFT JOIN (
    SELECT r.id AS response_id, r.study_id, r.study_type_id,
           CASE WHEN jsonb_typeof(r.exp_data) = 'object' THEN r.exp_data -> @frame_id::text ->> 'frameType' END AS frame_type,
           CASE WHEN jsonb_typeof(r.exp_data) = 'array' THEN r.exp_data -> -1
                ELSE r.exp_data -> r.sequence[cardinality(r.sequence)] END AS last_frame,
           r.sequence[cardinality(r.sequence)] AS last_id,
           r.xmin::text AS row_version
    FROM responses r JOIN studies s ON s.id = r.study_id
    WHERE r.uuid = @response_uuid::uuid AND s.uuid = @study_uuid::uuid) AS t ON true;

-- name: FileVideo :one
-- The common filing in one statement: the response is locked (shared, as LockResponseForVideo)
-- and must still be the version the decision was made on; locked = 0 sends the caller down the
-- locked transaction. No video: the recording was filed before.
WITH r AS (SELECT rr.id FROM responses rr WHERE rr.id = @response_id AND rr.xmin::text = @row_version::text FOR SHARE),
     ins AS (
    INSERT INTO videos (s3_timestamp, pipe_name, pipe_numeric_id, frame_id, full_name, bucket, study_id, response_id,
                        is_consent_footage)
    SELECT @s3_timestamp, sqlc.narg(pipe_name), sqlc.narg(pipe_numeric_id), @frame_id, @full_name, @bucket, @study_id,
           r.id, @is_consent_footage FROM r
    ON CONFLICT DO NOTHING
    RETURNING id, uuid::text AS uuid, is_consent_footage),
     ev AS (UPDATE pipe_webhook_events SET processed_at = now()
            WHERE payload_hash = sqlc.narg(pipe_event) AND processed_at IS NULL AND EXISTS (SELECT 1 FROM r))
SELECT (SELECT count(*) FROM r)::int AS locked, ins.id, ins.uuid, ins.is_consent_footage
FROM (SELECT 1) AS one LEFT JOIN ins ON true;
