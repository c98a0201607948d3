-- name: KeepPipeWebhookEvent :execrows
-- Affects 0 rows when the same call was kept before (Pipe retries).
INSERT INTO pipe_webhook_events (payload_hash, payload, video_name, study_uuid, response_uuid, frame_id, is_consent)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (payload_hash) DO NOTHING;
