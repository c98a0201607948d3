-- name: RecordReceipt :execrows
-- Affects 1 row on first delivery, 0 on a redelivery.
INSERT INTO event_receipts (handler, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: KeepRejectedEvent :exec
INSERT INTO rejected_events (handler, message_id, topic, attributes, data, reason)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (handler, message_id) DO NOTHING;

-- name: PruneEventReceipts :execrows
DELETE FROM event_receipts WHERE processed_at < now() - interval '8 days';
