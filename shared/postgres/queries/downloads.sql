-- Researcher downloads (issue 8): a study's responses in pages, with everything a download row
-- shows. The caller has authorized the requester for the kind of data (real or preview); these
-- queries add the data rules of the response views: a response of the study's own type, and for
-- studies run on the platform (not external) a completed consent frame with an accepted ruling.
-- Both queries run in one read-only repeatable-read transaction per download, so every pass over
-- the responses sees the same ones.

-- name: DownloadResponsesByID :many
SELECT r.id, r.uuid::text AS uuid, r.created_at, r.completed, r.eligibility, r.is_preview, r.sequence,
       r.conditions,
       -- A pass that reads only the exit survey gets only the EXIT frames of an exp_data object
       -- (a tenth of it, typically): most of a download's cost is exp_data's bytes.
       (CASE WHEN @exit_only::boolean AND jsonb_typeof(r.exp_data) = 'object'
             THEN (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}') FROM jsonb_each(r.exp_data) f
                   WHERE f.value->>'frameType' = 'EXIT')
             ELSE r.exp_data END)::jsonb AS exp_data,
       r.global_event_timings,
       r.researcher_payment_status, r.researcher_session_status, r.researcher_star,
       coalesce(cc.action, '')::text AS ruling, coalesce(cc.comments, '')::text AS ruling_comments, cc.created_at AS ruled_at,
       coalesce(btrim(a.given_name || ' ' || a.family_name), '')::text AS arbiter_name,
       u.uuid::text AS user_uuid, u.nickname, r.child_id,
       c.uuid::text AS child_uuid, c.given_name AS child_name, c.birthday AS child_birthday, c.gender AS child_gender,
       c.gender_self_describe AS child_gender_self_describe, c.gestational_age_at_birth AS child_gestational_age,
       c.additional_information AS child_additional_information, c.existing_conditions AS child_conditions,
       c.languages_spoken AS child_languages, c.deleted AS child_deleted,
       coalesce(d.uuid::text, '')::text AS demo_uuid, d.number_of_children AS demo_number_of_children, d.child_birthdays AS demo_child_birthdays,
       d.number_of_guardians AS demo_number_of_guardians, d.number_of_guardians_explanation AS demo_guardians_explanation,
       d.us_race_ethnicity_identification AS demo_race, d.us_race_ethnicity_identification_describe AS demo_race_describe,
       d.age AS demo_age, d.gender AS demo_gender, d.gender_self_describe AS demo_gender_self_describe,
       d.education_level AS demo_education_level, d.annual_income AS demo_annual_income, d.country AS demo_country,
       d.state AS demo_state, d.density AS demo_density, d.lookit_referrer AS demo_lookit_referrer,
       d.additional_comments AS demo_additional_comments, d.extra AS demo_extra, d.created_at AS demo_created_at
FROM responses r
JOIN studies s ON s.id = r.study_id
JOIN children c ON c.id = r.child_id
JOIN users u ON u.id = c.user_id
LEFT JOIN LATERAL (SELECT cr.action, cr.comments, cr.created_at, cr.arbiter_id FROM consent_rulings cr
                   WHERE cr.response_id = r.id ORDER BY cr.created_at DESC, cr.id DESC LIMIT 1) cc ON true
LEFT JOIN users a ON a.id = cc.arbiter_id
LEFT JOIN demographic_data d ON d.id = r.demographic_snapshot_id
WHERE r.study_id = @study_id AND r.is_preview = @preview AND r.study_type_id = s.study_type_id
  AND (s.study_type_id = 2 OR (r.completed_consent_frame AND cc.action = 'accepted'))
  AND (sqlc.narg(response_uuid)::text IS NULL OR r.uuid = sqlc.narg(response_uuid)::text::uuid)
  AND r.id > @after_id
ORDER BY r.id
LIMIT @lim;

-- name: DownloadResponsesByChild :many
SELECT r.id, r.uuid::text AS uuid, r.created_at, r.completed, r.eligibility, r.is_preview, r.sequence,
       r.conditions,
       -- A pass that reads only the exit survey gets only the EXIT frames of an exp_data object
       -- (a tenth of it, typically): most of a download's cost is exp_data's bytes.
       (CASE WHEN @exit_only::boolean AND jsonb_typeof(r.exp_data) = 'object'
             THEN (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}') FROM jsonb_each(r.exp_data) f
                   WHERE f.value->>'frameType' = 'EXIT')
             ELSE r.exp_data END)::jsonb AS exp_data,
       r.global_event_timings,
       r.researcher_payment_status, r.researcher_session_status, r.researcher_star,
       coalesce(cc.action, '')::text AS ruling, coalesce(cc.comments, '')::text AS ruling_comments, cc.created_at AS ruled_at,
       coalesce(btrim(a.given_name || ' ' || a.family_name), '')::text AS arbiter_name,
       u.uuid::text AS user_uuid, u.nickname, r.child_id,
       c.uuid::text AS child_uuid, c.given_name AS child_name, c.birthday AS child_birthday, c.gender AS child_gender,
       c.gender_self_describe AS child_gender_self_describe, c.gestational_age_at_birth AS child_gestational_age,
       c.additional_information AS child_additional_information, c.existing_conditions AS child_conditions,
       c.languages_spoken AS child_languages, c.deleted AS child_deleted,
       coalesce(d.uuid::text, '')::text AS demo_uuid, d.number_of_children AS demo_number_of_children, d.child_birthdays AS demo_child_birthdays,
       d.number_of_guardians AS demo_number_of_guardians, d.number_of_guardians_explanation AS demo_guardians_explanation,
       d.us_race_ethnicity_identification AS demo_race, d.us_race_ethnicity_identification_describe AS demo_race_describe,
       d.age AS demo_age, d.gender AS demo_gender, d.gender_self_describe AS demo_gender_self_describe,
       d.education_level AS demo_education_level, d.annual_income AS demo_annual_income, d.country AS demo_country,
       d.state AS demo_state, d.density AS demo_density, d.lookit_referrer AS demo_lookit_referrer,
       d.additional_comments AS demo_additional_comments, d.extra AS demo_extra, d.created_at AS demo_created_at
FROM responses r
JOIN studies s ON s.id = r.study_id
JOIN children c ON c.id = r.child_id
JOIN users u ON u.id = c.user_id
LEFT JOIN LATERAL (SELECT cr.action, cr.comments, cr.created_at, cr.arbiter_id FROM consent_rulings cr
                   WHERE cr.response_id = r.id ORDER BY cr.created_at DESC, cr.id DESC LIMIT 1) cc ON true
LEFT JOIN users a ON a.id = cc.arbiter_id
LEFT JOIN demographic_data d ON d.id = r.demographic_snapshot_id
WHERE r.study_id = @study_id AND r.is_preview = @preview AND r.study_type_id = s.study_type_id
  AND (s.study_type_id = 2 OR (r.completed_consent_frame AND cc.action = 'accepted'))
  AND (sqlc.narg(response_uuid)::text IS NULL OR r.uuid = sqlc.narg(response_uuid)::text::uuid)
  AND (r.child_id, r.id) > (@after_child::bigint, @after_id::bigint)
ORDER BY r.child_id, r.id
LIMIT @lim;

-- name: DownloadCount :one
-- How many responses a download would hold: decides between streaming it now and an export job.
SELECT count(*) FROM responses r
JOIN studies s ON s.id = r.study_id
LEFT JOIN LATERAL (SELECT cr.action FROM consent_rulings cr
                   WHERE cr.response_id = r.id ORDER BY cr.created_at DESC, cr.id DESC LIMIT 1) cc ON true
WHERE r.study_id = @study_id AND r.is_preview = @preview AND r.study_type_id = s.study_type_id
  AND (s.study_type_id = 2 OR (r.completed_consent_frame AND cc.action = 'accepted'))
  AND (sqlc.narg(response_uuid)::text IS NULL OR r.uuid = sqlc.narg(response_uuid)::text::uuid);

-- name: DownloadStudy :one
SELECT id, uuid::text AS uuid, name, salt::text AS salt, hash_digits, study_type_id, short_description, purpose,
       criteria, duration, compensation_description, contact_info, structure, use_generator, generator
FROM studies WHERE id = @id;
