-- name: CreateStudy :one
INSERT INTO studies (name, lab_id, creator_id, study_type_id, preview_summary, short_description, purpose, criteria,
    duration, contact_info, compensation_description, exit_url, priority, min_age_years, min_age_months, min_age_days,
    max_age_years, max_age_months, max_age_days, criteria_expression, criteria_ast, public, shared_preview,
    display_full_screen, max_responses, structure, use_generator, generator, metadata)
VALUES (@name, @lab_id, @creator_id, @study_type_id, @preview_summary, @short_description, @purpose, @criteria,
    @duration, @contact_info, @compensation_description, @exit_url, @priority, @min_age_years, @min_age_months,
    @min_age_days, @max_age_years, @max_age_months, @max_age_days, @criteria_expression, @criteria_ast, @public,
    @shared_preview, @display_full_screen, @max_responses, @structure, @use_generator, @generator, @metadata)
RETURNING id, uuid::text AS uuid;

-- name: UpdateStudy :exec
UPDATE studies SET name = @name, preview_summary = @preview_summary, short_description = @short_description,
    purpose = @purpose, criteria = @criteria, duration = @duration, contact_info = @contact_info,
    compensation_description = @compensation_description, exit_url = @exit_url, priority = @priority,
    min_age_years = @min_age_years, min_age_months = @min_age_months, min_age_days = @min_age_days,
    max_age_years = @max_age_years, max_age_months = @max_age_months, max_age_days = @max_age_days,
    criteria_expression = @criteria_expression, criteria_ast = @criteria_ast, public = @public,
    shared_preview = @shared_preview, display_full_screen = @display_full_screen, max_responses = @max_responses,
    structure = @structure, use_generator = @use_generator, generator = @generator, metadata = @metadata,
    built = @built, is_building = @is_building, updated_at = now()
WHERE id = @id;

-- name: LockStudy :one
-- Transitions, edits and the response tally of one study are serialized on its row. NO KEY
-- UPDATE, so that rows referencing the study (rules, responses) can still be inserted meanwhile:
-- FOR UPDATE would block their foreign-key checks and deadlock two studies naming each other.
SELECT s.id, s.uuid::text AS uuid, s.name, s.lab_id, s.study_type_id, s.state, s.built, s.is_building,
       s.max_responses, s.tallied_responses, s.structure, s.use_generator, s.generator, s.metadata,
       l.approved_to_test AS lab_approved, l.contact_email AS lab_contact_email
FROM studies s JOIN labs l ON l.id = s.lab_id
WHERE s.id = $1 FOR NO KEY UPDATE OF s;

-- name: StudyIDByUUID :one
SELECT id, lab_id FROM studies WHERE uuid = $1;

-- name: FindStudy :one
SELECT s.*, s.uuid::text AS uuid_text, l.uuid::text AS lab_uuid, l.name AS lab_name,
       (SELECT count(*) FROM responses r WHERE r.study_id = s.id AND NOT r.is_preview) AS responses,
       (SELECT count(*) FROM responses r WHERE r.study_id = s.id AND r.is_preview) AS preview_responses
FROM studies s JOIN labs l ON l.id = s.lab_id
WHERE s.id = $1;

-- name: SetStudyState :exec
UPDATE studies SET state = @state, status_change_date = now(), comments = @comments,
    comments_extra = @comments_extra, updated_at = now()
WHERE id = @id;

-- name: LogStudy :exec
INSERT INTO study_logs (study_id, user_id, action, extra) VALUES (@study_id, @user_id, @action, @extra);

-- name: StudyLogs :many
SELECT l.uuid::text AS uuid, l.action, l.extra, l.created_at, coalesce(u.email, '') AS user_email
FROM study_logs l LEFT JOIN users u ON u.id = l.user_id
WHERE l.study_id = $1 ORDER BY l.created_at DESC, l.id DESC LIMIT 200;

-- name: StatusChangers :many
-- Holders of CHANGE_STUDY_STATUS on a study: members of the given groups and lab roles.
SELECT DISTINCT u.email FROM users u
WHERE u.is_active AND (
    u.id IN (SELECT r.user_id FROM study_researchers r WHERE r.study_id = @study_id AND r.grp = ANY(@groups::text[]))
    OR u.id IN (SELECT m.user_id FROM lab_members m JOIN studies s ON s.lab_id = m.lab_id
                WHERE s.id = @study_id AND m.role = ANY(@lab_roles::text[])))
ORDER BY u.email LIMIT 1000;

-- name: AddStudyResearcher :exec
INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)
ON CONFLICT (study_id, user_id) DO UPDATE SET grp = excluded.grp;

-- name: StudyResearcher :one
SELECT grp FROM study_researchers WHERE study_id = $1 AND user_id = $2;

-- name: CountStudyAdmins :one
SELECT count(*) FROM study_researchers r JOIN users u ON u.id = r.user_id
WHERE r.study_id = $1 AND r.grp = 'admin' AND u.is_active;

-- name: RemoveStudyResearcher :execrows
DELETE FROM study_researchers WHERE study_id = $1 AND user_id = $2;

-- name: StudyResearchers :many
SELECT u.uuid::text AS uuid, u.email, u.given_name, u.family_name, r.grp, r.created_at
FROM study_researchers r JOIN users u ON u.id = r.user_id
WHERE r.study_id = $1 ORDER BY u.email;

-- name: UserStudyGroups :many
SELECT study_id, grp FROM study_researchers WHERE user_id = $1;

-- name: LockLabStudiesOf :many
-- The studies of a lab a researcher is in, locked in id order, with whether the researcher is
-- their last active admin: leaving the lab must not leave a study without an admin.
SELECT s.id, s.name, r.grp = 'admin' AND (SELECT count(*) FROM study_researchers a JOIN users u ON u.id = a.user_id
        WHERE a.study_id = s.id AND a.grp = 'admin' AND u.is_active) <= 1 AS last_admin
FROM studies s JOIN study_researchers r ON r.study_id = s.id AND r.user_id = @user_id
WHERE s.lab_id = @lab_id
ORDER BY s.id
FOR NO KEY UPDATE OF s;

-- name: LabMemberForShare :one
-- A membership read that holds until commit: removing the member waits for it.
SELECT m.role, u.is_researcher FROM lab_members m JOIN users u ON u.id = m.user_id
WHERE m.lab_id = $1 AND m.user_id = $2 FOR SHARE OF m;

-- name: RemoveFromLabStudies :exec
-- Leaving a lab ends one's place in its studies (Lookit's removal does the same).
DELETE FROM study_researchers WHERE user_id = @user_id AND study_id IN (SELECT id FROM studies WHERE lab_id = @lab_id);

-- name: ListResearcherStudies :many
-- The studies a researcher may read: by study group, lab umbrella, or as a site admin.
SELECT s.id, s.uuid::text AS uuid, s.name, s.state, s.study_type_id, s.public, s.priority, s.max_responses,
       s.tallied_responses, s.built, s.created_at, s.status_change_date, l.uuid::text AS lab_uuid, l.name AS lab_name,
       coalesce(r.grp, '') AS my_group,
       (SELECT count(*) FROM responses x WHERE x.study_id = s.id AND NOT x.is_preview) AS responses,
       (SELECT count(*) FROM responses x WHERE x.study_id = s.id AND x.is_preview) AS preview_responses
FROM studies s JOIN labs l ON l.id = s.lab_id
LEFT JOIN study_researchers r ON r.study_id = s.id AND r.user_id = @user_id
WHERE (@site_admin::boolean
       OR r.user_id IS NOT NULL
       OR s.lab_id IN (SELECT m.lab_id FROM lab_members m WHERE m.user_id = @user_id AND m.role = ANY(@umbrella_roles::text[])))
  AND (s.state <> 'archived' OR @include_archived::boolean)
ORDER BY s.created_at DESC, s.id DESC;

-- name: AddParticipationRule :exec
INSERT INTO study_participation_rules (study_id, other_study_id, must_have) VALUES ($1, $2, $3)
ON CONFLICT (study_id, other_study_id) DO UPDATE SET must_have = excluded.must_have;

-- name: ClearParticipationRules :exec
DELETE FROM study_participation_rules WHERE study_id = $1;

-- name: CloneStudy :one
INSERT INTO studies (name, lab_id, creator_id, study_type_id, hash_digits, priority, preview_summary, short_description,
    purpose, criteria, duration, contact_info, compensation_description, image_object, exit_url, min_age_years,
    min_age_months, min_age_days, max_age_years, max_age_months, max_age_days, criteria_expression, criteria_ast,
    structure, use_generator, generator, display_full_screen, metadata, public, shared_preview, max_responses)
SELECT left('Copy of ' || name, 255), @lab_id, @creator_id, study_type_id, hash_digits, priority, preview_summary,
    short_description, purpose, criteria, duration, contact_info, compensation_description, image_object, exit_url,
    min_age_years, min_age_months, min_age_days, max_age_years, max_age_months, max_age_days, criteria_expression,
    criteria_ast, structure, use_generator, generator, display_full_screen, metadata, false, shared_preview, max_responses
FROM studies o WHERE o.id = @id
RETURNING id, uuid::text AS uuid;

-- name: ResponseStudy :one
SELECT study_id FROM responses WHERE id = $1;

-- name: ResponseForTally :one
SELECT r.id, r.tallied, r.is_preview, r.eligibility, r.completed, r.completed_consent_frame, r.study_type_id,
       coalesce((SELECT c.action FROM consent_rulings c WHERE c.response_id = r.id
                 ORDER BY c.created_at DESC, c.id DESC LIMIT 1), 'pending') AS ruling
FROM responses r WHERE r.id = $1 FOR NO KEY UPDATE;

-- name: SetResponseTallied :exec
UPDATE responses SET tallied = $2 WHERE id = $1;

-- name: AddToTally :one
UPDATE studies SET tallied_responses = tallied_responses + @delta::integer WHERE id = @id RETURNING tallied_responses;

-- name: PublicStudies :many
-- Active, discoverable studies for families, by priority; with a child, only those it is eligible
-- for (study_eligibility, the SQL twin of studies.Decide).
SELECT s.uuid::text AS uuid, s.name, s.study_type_id, s.preview_summary, s.short_description, s.purpose, s.criteria,
       s.duration, s.compensation_description, s.min_age_years, s.min_age_months, s.min_age_days, s.max_age_years,
       s.max_age_months, s.max_age_days, s.priority, coalesce(l.slug, '') AS lab_slug, l.name AS lab_name,
       l.institution AS lab_institution, coalesce(s.metadata->>'scheduled', '') = 'true' AS scheduled
FROM studies s JOIN labs l ON l.id = s.lab_id
WHERE s.state = 'active' AND s.public
  AND (@child_id::bigint = 0 OR study_eligibility(s.id, @child_id::bigint, current_date) = ARRAY['Eligible'])
  AND (@lab_slug::text = '' OR l.slug = @lab_slug::text)
ORDER BY s.priority, s.created_at DESC, s.id;

-- name: LockStudyForResponse :one
SELECT s.id, s.state, s.study_type_id FROM studies s WHERE s.id = $1 FOR NO KEY UPDATE;

-- name: FamilyChild :one
SELECT id FROM children WHERE uuid = $1 AND user_id = $2 AND NOT deleted;

-- name: LatestDemographicsID :one
SELECT id FROM demographic_data WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1;

-- name: InsertResponse :one
-- A jsPsych response's data is a list of trials from the start (Lookit creates it with []).
INSERT INTO responses (study_id, child_id, study_type_id, demographic_snapshot_id, is_preview, recording_method, eligibility,
                       exp_data)
VALUES (@study_id, @child_id, @study_type_id, @demographic_snapshot_id, @is_preview, @recording_method,
        study_eligibility(@study_id, @child_id, current_date),
        CASE WHEN @study_type_id::smallint = 3 THEN '[]'::jsonb ELSE '{}'::jsonb END)
RETURNING id, uuid::text AS uuid, eligibility;

-- name: PublicLab :one
SELECT uuid::text AS uuid, name, coalesce(slug, '') AS slug, institution, principal_investigator_name, lab_website, description
FROM labs WHERE slug = $1 AND approved_to_test;

-- name: StudyParticipationRules :many
SELECT o.uuid::text AS uuid, p.must_have FROM study_participation_rules p JOIN studies o ON o.id = p.other_study_id
WHERE p.study_id = $1 ORDER BY o.uuid;

-- name: SetStudyImage :exec
UPDATE studies SET image_object = $2, updated_at = now() WHERE id = $1;
