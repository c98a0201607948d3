-- Feedback through the compatibility API: a user sees the feedback on their children's responses
-- and on the consented responses they may read as a researcher (researcher_can_read).

-- name: CompatCountVisibleFeedback :one
SELECT count(*) FROM feedback f
JOIN responses r ON r.id = f.response_id
JOIN children c ON c.id = r.child_id
WHERE c.user_id = @user_id
   OR researcher_can_read(r.id, @rr_all, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all, @rp_studies::bigint[], @rp_labs::bigint[]);

-- name: CompatVisibleFeedback :many
SELECT f.uuid::text FROM feedback f
JOIN responses r ON r.id = f.response_id
JOIN children c ON c.id = r.child_id
WHERE c.user_id = @user_id
   OR researcher_can_read(r.id, @rr_all, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all, @rp_studies::bigint[], @rp_labs::bigint[])
ORDER BY f.created_at DESC, f.id DESC
LIMIT @lim OFFSET @off;

-- name: CompatFeedback :one
-- One feedback row, if the user may see it.
SELECT f.id, f.uuid::text AS uuid, f.comment, r.uuid::text AS response_uuid, r.study_id, s.lab_id, r.is_preview,
       coalesce(u.uuid::text, '')::text AS researcher_uuid
FROM feedback f
JOIN responses r ON r.id = f.response_id
JOIN studies s ON s.id = r.study_id
JOIN children c ON c.id = r.child_id
LEFT JOIN users u ON u.id = f.researcher_id
WHERE f.uuid = @uuid
  AND (c.user_id = @user_id
   OR researcher_can_read(r.id, @rr_all, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all, @rp_studies::bigint[], @rp_labs::bigint[]));

-- name: FeedbackTarget :one
-- The response feedback is left on, if the researcher may read it.
SELECT r.id, r.study_id, s.lab_id, r.is_preview
FROM responses r JOIN studies s ON s.id = r.study_id
WHERE r.uuid = @uuid
  AND researcher_can_read(r.id, @rr_all, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all, @rp_studies::bigint[], @rp_labs::bigint[]);

-- name: InsertFeedback :one
INSERT INTO feedback (response_id, researcher_id, comment) VALUES ($1, $2, $3) RETURNING uuid::text;

-- name: UpdateFeedback :exec
UPDATE feedback SET comment = $2, updated_at = now() WHERE id = $1;
