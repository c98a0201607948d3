-- Queries of the Lookit-compatible JSON:API (shared/httpapi compat*.go).

-- name: CompatStudy :one
SELECT s.id, s.uuid::text AS uuid, s.lab_id, s.name, s.short_description, s.purpose, s.criteria, s.duration,
       s.contact_info, s.image_object, s.structure, s.generator, s.use_generator, s.display_full_screen, s.exit_url,
       s.state, s.public, s.shared_preview, s.study_type_id
FROM studies s WHERE s.uuid = $1;

-- name: CompatChild :one
SELECT c.id, c.uuid::text AS uuid, c.user_id, u.uuid::text AS user_uuid, c.given_name, c.birthday, c.gender,
       c.gestational_age_at_birth, c.additional_information, c.existing_conditions, c.languages_spoken, c.deleted
FROM children c JOIN users u ON u.id = c.user_id
WHERE c.uuid = $1;

-- name: CompatResponse :one
SELECT r.id, r.uuid::text AS uuid, r.study_id, r.child_id, r.study_type_id, r.completed, r.completed_consent_frame,
       r.survey_consent, r.exp_data, r.conditions, r.global_event_timings, r.sequence, r.is_preview,
       r.recording_method, r.eligibility, r.created_at, r.updated_at,
       c.uuid::text AS child_uuid, c.user_id AS family_id, s.uuid::text AS study_uuid, s.salt::text AS study_salt,
       s.hash_digits, s.lab_id
FROM responses r JOIN children c ON c.id = r.child_id JOIN studies s ON s.id = r.study_id
WHERE r.uuid = $1;

-- name: CompatChildResponses :many
-- A child's responses to a study, most recently modified first (the runner's past sessions), each
-- as CompatResponse reads it: a page in one round trip.
SELECT r.id, r.uuid::text AS uuid, r.study_id, r.child_id, r.study_type_id, r.completed, r.completed_consent_frame,
       r.survey_consent, r.exp_data, r.conditions, r.global_event_timings, r.sequence, r.is_preview,
       r.recording_method, r.eligibility, r.created_at, r.updated_at,
       c.uuid::text AS child_uuid, c.user_id AS family_id, s.uuid::text AS study_uuid, s.salt::text AS study_salt,
       s.hash_digits, s.lab_id
FROM responses r JOIN children c ON c.id = r.child_id JOIN studies s ON s.id = r.study_id
WHERE r.study_id = @study_id AND c.uuid = @child_uuid AND c.user_id = @family_id
ORDER BY r.updated_at DESC, r.id DESC
LIMIT @lim OFFSET @off;

-- name: CompatCountChildResponses :one
SELECT count(*) FROM responses r JOIN children c ON c.id = r.child_id
WHERE r.study_id = @study_id AND c.uuid = @child_uuid AND c.user_id = @family_id;

-- name: LockResponseForSave :one
SELECT r.id, r.study_type_id, r.conditions, r.global_event_timings, r.sequence, r.completed,
       r.completed_consent_frame, r.survey_consent, r.tallied, r.is_preview, r.eligibility,
       -- The frame data is large; a save needs only how many jsPsych trials are stored.
       CASE WHEN r.study_type_id = 3 AND jsonb_typeof(r.exp_data) = 'array' THEN jsonb_array_length(r.exp_data) ELSE 0 END::integer AS stored_trials,
       coalesce((SELECT c.action FROM consent_rulings c WHERE c.response_id = r.id
                 ORDER BY c.created_at DESC, c.id DESC LIMIT 1), 'pending') AS ruling
FROM responses r WHERE r.id = $1 FOR NO KEY UPDATE;

-- name: SaveResponse :exec
-- The runner re-sends the whole record after every frame: whole-field last write wins.
UPDATE responses SET conditions = @conditions, global_event_timings = @global_event_timings,
    exp_data = coalesce(sqlc.narg(exp_data)::jsonb, exp_data), sequence = @sequence, completed = @completed, completed_consent_frame = @completed_consent_frame,
    survey_consent = @survey_consent, updated_at = now()
WHERE id = @id;

-- name: ResponseExpData :one
SELECT exp_data FROM responses WHERE id = $1;

-- name: CompatResponseMeta :one
-- What a save needs to know before it starts (no frame data: it is large).
SELECT r.id, r.uuid::text AS uuid, r.study_id, r.child_id, r.study_type_id, r.is_preview, r.recording_method,
       r.eligibility, r.created_at, c.uuid::text AS child_uuid, c.user_id AS family_id, s.uuid::text AS study_uuid,
       s.salt::text AS study_salt, s.hash_digits, s.lab_id
FROM responses r JOIN children c ON c.id = r.child_id JOIN studies s ON s.id = r.study_id
WHERE r.uuid = $1;

-- name: MarkConsentFootage :execrows
-- The response's last frame is a consent frame: its videos are consent footage.
UPDATE videos SET is_consent_footage = true WHERE response_id = $1 AND frame_id = $2 AND NOT is_consent_footage;

-- name: ScheduleWithdrawnVideos :execrows
-- The family withdrew: every non-consent video's object is deleted in 7 days …
INSERT INTO video_deletions (bucket, object_key, reason, delete_after)
SELECT bucket, full_name, 'withdrawn', now() + interval '7 days' FROM videos WHERE response_id = $1 AND NOT is_consent_footage
ON CONFLICT (bucket, object_key) DO NOTHING;

-- name: DeleteWithdrawnVideos :execrows
-- … and its row goes now.
DELETE FROM videos WHERE response_id = $1 AND NOT is_consent_footage;

-- name: CompatResponseConsented :one
SELECT response_consented($1::bigint);

-- name: CompatVisibleResponses :many
-- The flat response list: the caller's children's responses, and consented responses of the
-- studies where the caller holds real-data (rr) or preview-data (rp) permission (authz.Holding).
SELECT r.uuid::text AS uuid FROM responses r JOIN children c ON c.id = r.child_id
WHERE (c.user_id = @user_id
       OR researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[]))
ORDER BY r.updated_at DESC, r.id DESC
LIMIT @lim OFFSET @off;

-- name: CompatCountVisibleResponses :one
SELECT count(*) FROM responses r JOIN children c ON c.id = r.child_id
WHERE (c.user_id = @user_id
       OR researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[]));

-- name: CompatChildVisible :one
-- Whether a researcher may see a child: it has a consented response they may read.
SELECT EXISTS (SELECT 1 FROM responses r WHERE r.child_id = @child_id AND researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[]));

-- name: CompatStudies :many
-- Active public studies for everyone; for researchers also studies shared for preview and those
-- where they hold read-details permission (given as authz.Holding). Newest-modified first.
SELECT s.uuid::text AS uuid FROM studies s
WHERE (s.state = 'active' AND s.public)
   OR (@researcher::boolean AND (s.shared_preview OR @rd_all::boolean OR s.id = ANY(@rd_studies::bigint[]) OR s.lab_id = ANY(@rd_labs::bigint[])))
ORDER BY s.updated_at DESC, s.id DESC
LIMIT @lim OFFSET @off;

-- name: CompatCountStudies :one
SELECT count(*) FROM studies s
WHERE (s.state = 'active' AND s.public)
   OR (@researcher::boolean AND (s.shared_preview OR @rd_all::boolean OR s.id = ANY(@rd_studies::bigint[]) OR s.lab_id = ANY(@rd_labs::bigint[])));

-- name: CompatLabs :many
SELECT id, uuid::text AS uuid, name, institution, principal_investigator_name, lab_website, description, approved_to_test
FROM labs WHERE approved_to_test ORDER BY name LIMIT @lim OFFSET @off;

-- name: CompatCountLabs :one
SELECT count(*) FROM labs WHERE approved_to_test;

-- name: CompatLab :one
SELECT id, uuid::text AS uuid, name, institution, principal_investigator_name, lab_website, description, approved_to_test
FROM labs WHERE uuid = $1 AND approved_to_test;

-- name: CompatVisibleChildren :many
-- The caller's children and the children of consented responses they may read as a researcher;
-- owner_uuid narrows it to one parent's (/users/{uuid}/children/).
SELECT c.uuid::text AS uuid FROM children c
WHERE (c.user_id = @user_id
   OR EXISTS (SELECT 1 FROM responses r WHERE r.child_id = c.id AND researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[])))
  AND (sqlc.narg(owner_uuid)::uuid IS NULL OR c.user_id = (SELECT u.id FROM users u WHERE u.uuid = sqlc.narg(owner_uuid)::uuid))
ORDER BY c.birthday DESC, c.id
LIMIT @lim OFFSET @off;

-- name: CompatCountVisibleChildren :one
SELECT count(*) FROM children c
WHERE (c.user_id = @user_id
   OR EXISTS (SELECT 1 FROM responses r WHERE r.child_id = c.id AND researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[])))
  AND (sqlc.narg(owner_uuid)::uuid IS NULL OR c.user_id = (SELECT u.id FROM users u WHERE u.uuid = sqlc.narg(owner_uuid)::uuid));

-- name: FastSaveResponse :one
-- The common save in one statement, addressed as the runner addresses it: a frameplayer response
-- of the family's own child (and of the child and study the save names, if it names them) whose
-- place in the cap does not change (tallied already equals its validity after the save). It
-- returns what the answer describes, so that a save is one round trip. Zero rows: take the full
-- path, which finds out why.
UPDATE responses r SET conditions = coalesce(sqlc.narg(conditions)::jsonb, r.conditions),
    global_event_timings = coalesce(sqlc.narg(global_event_timings)::jsonb, r.global_event_timings),
    exp_data = coalesce(sqlc.narg(exp_data)::jsonb, r.exp_data),
    sequence = coalesce(sqlc.narg(sequence)::text[], r.sequence),
    completed = coalesce(sqlc.narg(completed)::boolean, r.completed),
    completed_consent_frame = coalesce(sqlc.narg(completed_consent_frame)::boolean, r.completed_consent_frame),
    survey_consent = coalesce(sqlc.narg(survey_consent)::boolean, r.survey_consent),
    updated_at = now()
FROM children c, studies s
WHERE r.uuid = @uuid AND c.id = r.child_id AND s.id = r.study_id AND c.user_id = @family_id
  AND (sqlc.narg(child_uuid)::text IS NULL OR c.uuid::text = sqlc.narg(child_uuid)::text)
  AND (sqlc.narg(study_uuid)::text IS NULL OR s.uuid::text = sqlc.narg(study_uuid)::text)
  AND r.study_type_id <> 3
  AND r.tallied = (NOT r.is_preview AND r.eligibility = ARRAY['Eligible']
      AND (r.study_type_id = 2 OR (coalesce(sqlc.narg(completed)::boolean, r.completed)
           AND coalesce(sqlc.narg(completed_consent_frame)::boolean, r.completed_consent_frame)
           AND coalesce((SELECT cr.action FROM consent_rulings cr WHERE cr.response_id = r.id
                         ORDER BY cr.created_at DESC, cr.id DESC LIMIT 1), 'pending') <> 'rejected')))
RETURNING r.id, r.uuid::text AS uuid, r.study_id, r.child_id, r.study_type_id, r.completed, r.completed_consent_frame,
       r.survey_consent, r.conditions, r.global_event_timings, r.is_preview, r.recording_method, r.eligibility,
       r.created_at, r.updated_at, c.uuid::text AS child_uuid, c.user_id AS family_id, s.uuid::text AS study_uuid,
       s.salt::text AS study_salt, s.hash_digits, s.lab_id;

-- name: CompatVisibleUsers :many
-- The caller and the parents of consented responses they may read as a researcher.
SELECT u.uuid::text AS uuid FROM users u
WHERE u.is_active AND (u.id = @user_id OR EXISTS (SELECT 1 FROM children c JOIN responses r ON r.child_id = c.id
    WHERE c.user_id = u.id AND researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[])))
  AND (sqlc.narg(pick_uuid)::uuid IS NULL OR u.uuid = sqlc.narg(pick_uuid)::uuid)
ORDER BY u.id LIMIT @lim OFFSET @off;

-- name: CompatCountVisibleUsers :one
SELECT count(*) FROM users u
WHERE u.is_active AND (u.id = @user_id OR EXISTS (SELECT 1 FROM children c JOIN responses r ON r.child_id = c.id
    WHERE c.user_id = u.id AND researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[])));

-- name: CompatUser :one
SELECT id, uuid::text AS uuid, given_name, middle_name, family_name, nickname, is_active, is_researcher,
       email_next_session, email_new_studies, email_study_updates, email_response_questions, created_at
FROM users WHERE uuid = $1;

-- name: CompatVisibleDemographics :many
-- The caller's demographic rows and the snapshots of consented responses they may read;
-- pick_uuid narrows it to one row, owner_uuid to one parent's (/users/{uuid}/demographics/).
SELECT d.uuid::text AS uuid FROM demographic_data d
WHERE (d.user_id = @user_id OR EXISTS (SELECT 1 FROM responses r WHERE r.demographic_snapshot_id = d.id
    AND researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[])))
  AND (sqlc.narg(pick_uuid)::uuid IS NULL OR d.uuid = sqlc.narg(pick_uuid)::uuid)
  AND (sqlc.narg(owner_uuid)::uuid IS NULL OR d.user_id = (SELECT u.id FROM users u WHERE u.uuid = sqlc.narg(owner_uuid)::uuid))
ORDER BY d.created_at DESC, d.id DESC LIMIT @lim OFFSET @off;

-- name: CompatCountVisibleDemographics :one
SELECT count(*) FROM demographic_data d
WHERE (d.user_id = @user_id OR EXISTS (SELECT 1 FROM responses r WHERE r.demographic_snapshot_id = d.id
    AND researcher_can_read(r.id, @rr_all::boolean, @rr_studies::bigint[], @rr_labs::bigint[], @rp_all::boolean, @rp_studies::bigint[], @rp_labs::bigint[])))
  AND (sqlc.narg(owner_uuid)::uuid IS NULL OR d.user_id = (SELECT u.id FROM users u WHERE u.uuid = sqlc.narg(owner_uuid)::uuid));

-- name: CompatDemographics :one
SELECT d.id, d.uuid::text AS uuid, coalesce(d.user_id, 0)::bigint AS user_id, d.number_of_children, d.child_birthdays,
       d.number_of_guardians, d.number_of_guardians_explanation, d.us_race_ethnicity_identification,
       d.us_race_ethnicity_identification_describe, d.age, d.gender, d.education_level, d.annual_income,
       d.lookit_referrer, d.additional_comments, d.country, d.state, d.density, d.extra, d.created_at
FROM demographic_data d WHERE d.uuid = $1;
