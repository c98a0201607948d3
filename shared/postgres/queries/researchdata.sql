-- Researcher data views (issue 8). The route has authorized the caller on the study for the kind
-- of data asked (real or preview); these queries add the data rules: a response of the study's
-- own type, of that kind, and, for studies run on the platform (not external), consented.

-- name: StudyResponsePage :many
-- One page of a study's responses, newest (or oldest) first, after the keyset cursor.
SELECT r.id, r.uuid::text AS uuid, r.created_at, r.completed, r.completed_consent_frame, r.is_preview, r.eligibility,
       r.researcher_payment_status, r.researcher_session_status, r.researcher_star, r.sequence,
       c.uuid::text AS child_uuid, c.given_name AS child_name, c.birthday AS child_birthday,
       u.uuid::text AS user_uuid, u.nickname,
       (CASE WHEN s.study_type_id = 2 THEN 'not_applicable' ELSE coalesce(cc.action, 'pending') END)::text AS ruling, cc.created_at AS ruled_at,
       (SELECT count(*) FROM videos v WHERE v.response_id = r.id)::integer AS videos
FROM responses r
JOIN studies s ON s.id = r.study_id
JOIN children c ON c.id = r.child_id
JOIN users u ON u.id = c.user_id
LEFT JOIN current_consent cc ON cc.response_id = r.id
WHERE r.study_id = @study_id AND r.is_preview = @preview AND r.study_type_id = s.study_type_id
  AND (s.study_type_id = 2 OR (r.completed_consent_frame AND cc.action = 'accepted'))
  AND (sqlc.narg(completed)::boolean IS NULL OR r.completed = sqlc.narg(completed))
  AND (sqlc.narg(since)::timestamptz IS NULL OR r.created_at >= sqlc.narg(since))
  AND (sqlc.narg(until)::timestamptz IS NULL OR r.created_at < sqlc.narg(until))
  AND (sqlc.narg(child_ids)::bigint[] IS NULL OR r.child_id = ANY(sqlc.narg(child_ids)::bigint[]))
  AND (sqlc.narg(payment_status)::text IS NULL OR r.researcher_payment_status = sqlc.narg(payment_status))
  AND (sqlc.narg(session_status)::text IS NULL OR r.researcher_session_status = sqlc.narg(session_status))
  AND (sqlc.narg(star)::boolean IS NULL OR r.researcher_star = sqlc.narg(star))
  AND (sqlc.narg(after_at)::timestamptz IS NULL
       OR (NOT @oldest::boolean AND (r.created_at, r.id) < (sqlc.narg(after_at)::timestamptz, @after_id::bigint))
       OR (@oldest::boolean AND (r.created_at, r.id) > (sqlc.narg(after_at)::timestamptz, @after_id::bigint)))
ORDER BY CASE WHEN @oldest::boolean THEN r.created_at END ASC, CASE WHEN @oldest::boolean THEN r.id END ASC,
         r.created_at DESC, r.id DESC
LIMIT @lim;

-- name: StudyChildren :many
-- The children with a response to the study, to match a hashed id against.
SELECT DISTINCT c.id, c.uuid::text AS uuid FROM responses r JOIN children c ON c.id = r.child_id WHERE r.study_id = @study_id;

-- name: StudyHashing :one
SELECT uuid::text AS uuid, salt::text AS salt, hash_digits, study_type_id, name FROM studies WHERE id = @id;

-- name: ResponseForResearcher :one
-- One response with what authorizes reading it: its study, lab, kind and whether it is
-- consented (or of an external study, which has no consent frame).
SELECT r.id, r.uuid::text AS uuid, r.study_id, s.lab_id, r.is_preview, r.created_at, r.completed, r.completed_consent_frame,
       r.eligibility, r.sequence, r.conditions, r.exp_data, r.global_event_timings,
       r.researcher_payment_status, r.researcher_session_status, r.researcher_star,
       (r.study_type_id = s.study_type_id AND (s.study_type_id = 2 OR (r.completed_consent_frame AND coalesce(cc.action, '') = 'accepted')))::boolean AS readable,
       (s.study_type_id = 2)::boolean AS external,
       s.uuid::text AS study_uuid, s.salt::text AS study_salt, s.hash_digits,
       c.uuid::text AS child_uuid, c.given_name AS child_name, c.birthday AS child_birthday,
       u.uuid::text AS user_uuid, u.nickname
FROM responses r
JOIN studies s ON s.id = r.study_id
JOIN children c ON c.id = r.child_id
JOIN users u ON u.id = c.user_id
LEFT JOIN current_consent cc ON cc.response_id = r.id
WHERE r.uuid = @uuid;

-- name: ResponseVideos :many
SELECT v.uuid::text AS uuid, v.full_name, v.frame_id, v.is_consent_footage, v.created_at
FROM videos v WHERE v.response_id = @response_id ORDER BY v.created_at, v.id;

-- name: ResponseRulings :many
-- A response's consent rulings, newest first: the first one stands.
SELECT cr.uuid::text AS uuid, cr.action, cr.comments, cr.created_at, coalesce(u.email::text, '')::text AS arbiter
FROM consent_rulings cr LEFT JOIN users u ON u.id = cr.arbiter_id
WHERE cr.response_id = @response_id ORDER BY cr.created_at DESC, cr.id DESC;

-- name: SetResearcherFields :one
UPDATE responses SET
    researcher_payment_status = coalesce(sqlc.narg(payment_status)::text, researcher_payment_status),
    researcher_session_status = coalesce(sqlc.narg(session_status)::text, researcher_session_status),
    researcher_star = coalesce(sqlc.narg(star)::boolean, researcher_star),
    updated_at = now()
WHERE id = @id
RETURNING researcher_payment_status, researcher_session_status, researcher_star;

-- name: ConsentQueue :many
-- The consent manager: a study's responses of one kind with a completed consent frame, newest
-- first, with the standing ruling. hide_accepted_before hides responses accepted before then
-- (Lookit hid those accepted over three weeks ago; here it is a filter the caller sets).
SELECT r.id, r.uuid::text AS uuid, r.created_at, r.completed, r.is_preview,
       c.uuid::text AS child_uuid, c.given_name AS child_name, c.birthday AS child_birthday,
       u.uuid::text AS user_uuid, u.nickname,
       coalesce(cc.action, 'pending')::text AS ruling, coalesce(cc.comments, '')::text AS comments, cc.created_at AS ruled_at,
       coalesce(a.email::text, '')::text AS arbiter
FROM responses r
JOIN studies s ON s.id = r.study_id
JOIN children c ON c.id = r.child_id
JOIN users u ON u.id = c.user_id
LEFT JOIN current_consent cc ON cc.response_id = r.id
LEFT JOIN users a ON a.id = cc.arbiter_id
WHERE r.study_id = @study_id AND r.is_preview = @preview AND r.completed_consent_frame AND r.study_type_id = s.study_type_id
  AND (sqlc.narg(ruling)::text IS NULL OR coalesce(cc.action, 'pending') = sqlc.narg(ruling))
  AND (sqlc.narg(hide_accepted_before)::timestamptz IS NULL
       OR coalesce(cc.action, 'pending') <> 'accepted' OR cc.created_at >= sqlc.narg(hide_accepted_before))
  AND (sqlc.narg(after_at)::timestamptz IS NULL OR (r.created_at, r.id) < (sqlc.narg(after_at)::timestamptz, @after_id::bigint))
ORDER BY r.created_at DESC, r.id DESC
LIMIT @lim;

-- name: ConsentVideos :many
-- The consent footage of these responses.
SELECT v.response_id, v.uuid::text AS uuid, v.full_name, v.created_at
FROM videos v WHERE v.response_id = ANY(@response_ids::bigint[]) AND v.is_consent_footage
ORDER BY v.response_id, v.created_at, v.id;

-- name: RecordRulings :many
-- Appends one ruling per listed response of the study and kind that has a completed consent
-- frame; an empty action repeats the standing one (a comment alone). Returns what was ruled.
WITH wanted AS (
    SELECT unnest(@response_uuids::uuid[]) AS response_uuid, unnest(@actions::text[]) AS action, unnest(@comments::text[]) AS comments
), targets AS (
    SELECT r.id, r.uuid, CASE WHEN w.action = '' THEN coalesce(cc.action, 'pending') ELSE w.action END AS action, w.comments
    FROM wanted w
    JOIN responses r ON r.uuid = w.response_uuid
    JOIN studies s ON s.id = r.study_id
    LEFT JOIN current_consent cc ON cc.response_id = r.id
    WHERE r.study_id = @study_id AND r.is_preview = @preview AND r.completed_consent_frame AND r.study_type_id = s.study_type_id
)
INSERT INTO consent_rulings (response_id, action, arbiter_id, comments)
SELECT t.id, t.action, @arbiter_id, t.comments FROM targets t
RETURNING response_id, action;

-- name: ResponseFeedback :many
SELECT f.uuid::text AS uuid, f.comment, f.created_at, f.updated_at FROM feedback f WHERE f.response_id = @response_id ORDER BY f.created_at, f.id;

-- name: AddResponseFeedback :one
-- A researcher's feedback on a response, with what the family's email needs.
WITH f AS (
    INSERT INTO feedback (response_id, researcher_id, comment) VALUES (@response_id, @researcher_id, @comment)
    RETURNING uuid, created_at, response_id
)
SELECT f.uuid::text AS uuid, f.created_at, s.name AS study_name, u.email::text AS family_email,
       u.email_response_questions, u.is_active, c.given_name AS child_name
FROM f
JOIN responses r ON r.id = f.response_id
JOIN studies s ON s.id = r.study_id
JOIN children c ON c.id = r.child_id
JOIN users u ON u.id = c.user_id;

-- name: FeedbackResponse :one
-- The response feedback belongs to, to authorize editing it.
SELECT f.id, r.study_id, s.lab_id, r.is_preview
FROM feedback f JOIN responses r ON r.id = f.response_id JOIN studies s ON s.id = r.study_id
WHERE f.uuid = @uuid;

-- name: EditResponseFeedback :one
UPDATE feedback SET comment = @comment, updated_at = now() WHERE uuid = @uuid
RETURNING uuid::text AS uuid, comment, created_at, updated_at;

-- name: PastSessions :many
-- A family's past sessions, newest first (Lookit's past studies): responses to studies run here
-- once the consent frame was completed, and every response to an external study.
SELECT r.id, r.uuid::text AS uuid, r.created_at, r.completed, s.uuid::text AS study_uuid, s.name AS study_name,
       s.study_type_id, s.state AS study_state, c.uuid::text AS child_uuid, c.given_name AS child_name,
       coalesce(cc.action, '')::text AS ruling
FROM responses r
JOIN children c ON c.id = r.child_id
JOIN studies s ON s.id = r.study_id
LEFT JOIN current_consent cc ON cc.response_id = r.id
WHERE c.user_id = @user_id AND NOT r.is_preview
  AND (s.study_type_id = 2 OR r.completed_consent_frame)
  AND (sqlc.narg(after_at)::timestamptz IS NULL OR (r.created_at, r.id) < (sqlc.narg(after_at)::timestamptz, @after_id::bigint))
ORDER BY r.created_at DESC, r.id DESC
LIMIT @lim;

-- name: FeedbackOnResponses :many
SELECT f.response_id, f.uuid::text AS uuid, f.comment, f.created_at, f.updated_at
FROM feedback f WHERE f.response_id = ANY(@response_ids::bigint[]) ORDER BY f.response_id, f.created_at, f.id;

-- name: VideosOfResponses :many
-- The videos of a family's past sessions, to play them back.
SELECT v.response_id, v.uuid::text AS uuid, v.full_name, v.frame_id, v.is_consent_footage, v.created_at
FROM videos v WHERE v.response_id = ANY(@response_ids::bigint[]) ORDER BY v.response_id, v.created_at, v.id;
