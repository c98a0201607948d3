-- Researchers' messages to a study's participants (Lookit's Contact Participants).

-- name: StudyParticipants :many
-- The families with any response to the study, with their email preferences.
SELECT u.id, u.uuid::text AS uuid, u.nickname, u.email::text AS email, u.is_active, u.is_spam,
       u.email_next_session, u.email_study_updates, u.email_response_questions
FROM users u
WHERE EXISTS (SELECT 1 FROM responses r JOIN children c ON c.id = r.child_id WHERE r.study_id = @study_id AND c.user_id = u.id)
ORDER BY u.id;

-- name: StudyContact :one
SELECT s.name, coalesce(l.contact_email::text, '')::text AS contact_email
FROM studies s JOIN labs l ON l.id = s.lab_id WHERE s.id = @id;

-- name: InsertResearcherMessage :one
INSERT INTO researcher_messages (study_id, sender_id, kind, subject, body)
VALUES (@study_id, @sender_id, @kind, @subject, @body)
RETURNING id, uuid::text AS uuid, created_at;

-- name: InsertMessageRecipients :exec
INSERT INTO researcher_message_recipients (message_id, user_id, email_id)
SELECT @message_id, unnest(@user_ids::bigint[]), @email_id;

-- name: StudyMessages :many
-- A study's messages, newest first; with user_id, only those sent to that family.
SELECT m.id, m.uuid::text AS uuid, m.kind, m.subject, m.body, m.created_at, coalesce(s.email::text, '')::text AS sender,
       (SELECT count(*) FROM researcher_message_recipients x WHERE x.message_id = m.id)::integer AS recipients
FROM researcher_messages m LEFT JOIN users s ON s.id = m.sender_id
WHERE m.study_id = @study_id
  AND (sqlc.narg(user_id)::bigint IS NULL
       OR EXISTS (SELECT 1 FROM researcher_message_recipients x WHERE x.message_id = m.id AND x.user_id = sqlc.narg(user_id)))
ORDER BY m.created_at DESC, m.id DESC
LIMIT @lim;
