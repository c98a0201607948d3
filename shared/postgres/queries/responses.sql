-- Queries of a response's creation that are not in studies.sql.

-- name: ShareStudyForResponse :one
-- LockStudyForResponse for a creation that cannot change the study's tally: FOR SHARE still keeps
-- transitions and tallies (FOR NO KEY UPDATE) out until it commits, but lets the sessions of one
-- study start in parallel.
SELECT s.id, s.state, s.study_type_id FROM studies s WHERE s.id = $1 FOR SHARE;
