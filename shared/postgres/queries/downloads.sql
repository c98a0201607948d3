-- Researcher downloads (issue 8): a study's responses in pages, with everything a download row
-- shows (the download_rows view, which also says whether the data rules of the response views let
-- a response into a download). The caller has authorized the requester for the kind of data.
-- Both queries run in one read-only repeatable-read transaction per download, so every pass over
-- the responses sees the same ones.

-- name: DownloadResponsesByID :many
SELECT v.id, v.uuid::text AS uuid, v.created_at, v.completed, v.eligibility, v.is_preview, v.sequence, v.conditions,
       -- A pass that reads only the exit survey gets only the EXIT frames of an exp_data object
       -- (a tenth of it, typically): most of a download's cost is exp_data's bytes.
       (CASE WHEN @exit_only::boolean AND jsonb_typeof(v.exp_data) = 'object'
             THEN (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}') FROM jsonb_each(v.exp_data) f
                   WHERE f.value->>'frameType' = 'EXIT')
             ELSE v.exp_data END)::jsonb AS exp_data,
       v.global_event_timings, v.researcher_payment_status, v.researcher_session_status, v.researcher_star,
       coalesce(v.ruling, '')::text AS ruling, coalesce(v.ruling_comments, '')::text AS ruling_comments, v.ruled_at,
       coalesce(v.arbiter_name, '')::text AS arbiter_name, v.user_uuid::text AS user_uuid, v.nickname, v.child_id,
       v.child_uuid::text AS child_uuid, v.child_name, v.child_birthday, v.child_gender, v.child_gender_self_describe,
       v.child_gestational_age, v.child_additional_information, v.child_conditions, v.child_languages, v.child_deleted,
       coalesce(v.demo_uuid::text, '')::text AS demo_uuid, v.demo_number_of_children, v.demo_child_birthdays,
       v.demo_number_of_guardians, v.demo_guardians_explanation, v.demo_race, v.demo_race_describe, v.demo_age, v.demo_gender,
       v.demo_gender_self_describe, v.demo_education_level, v.demo_annual_income, v.demo_country, v.demo_state, v.demo_density,
       v.demo_lookit_referrer, v.demo_additional_comments, v.demo_extra, v.demo_created_at
FROM download_rows v
WHERE v.study_id = @study_id AND v.is_preview = @preview AND v.downloadable
  AND (sqlc.narg(response_uuid)::text IS NULL OR v.uuid = sqlc.narg(response_uuid)::text::uuid)
  AND v.id > @after_id
ORDER BY v.id
LIMIT @lim;

-- name: DownloadResponsesByChild :many
SELECT v.id, v.uuid::text AS uuid, v.created_at, v.completed, v.eligibility, v.is_preview, v.sequence, v.conditions,
       -- A pass that reads only the exit survey gets only the EXIT frames of an exp_data object
       -- (a tenth of it, typically): most of a download's cost is exp_data's bytes.
       (CASE WHEN @exit_only::boolean AND jsonb_typeof(v.exp_data) = 'object'
             THEN (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}') FROM jsonb_each(v.exp_data) f
                   WHERE f.value->>'frameType' = 'EXIT')
             ELSE v.exp_data END)::jsonb AS exp_data,
       v.global_event_timings, v.researcher_payment_status, v.researcher_session_status, v.researcher_star,
       coalesce(v.ruling, '')::text AS ruling, coalesce(v.ruling_comments, '')::text AS ruling_comments, v.ruled_at,
       coalesce(v.arbiter_name, '')::text AS arbiter_name, v.user_uuid::text AS user_uuid, v.nickname, v.child_id,
       v.child_uuid::text AS child_uuid, v.child_name, v.child_birthday, v.child_gender, v.child_gender_self_describe,
       v.child_gestational_age, v.child_additional_information, v.child_conditions, v.child_languages, v.child_deleted,
       coalesce(v.demo_uuid::text, '')::text AS demo_uuid, v.demo_number_of_children, v.demo_child_birthdays,
       v.demo_number_of_guardians, v.demo_guardians_explanation, v.demo_race, v.demo_race_describe, v.demo_age, v.demo_gender,
       v.demo_gender_self_describe, v.demo_education_level, v.demo_annual_income, v.demo_country, v.demo_state, v.demo_density,
       v.demo_lookit_referrer, v.demo_additional_comments, v.demo_extra, v.demo_created_at
FROM download_rows v
WHERE v.study_id = @study_id AND v.is_preview = @preview AND v.downloadable
  AND (sqlc.narg(response_uuid)::text IS NULL OR v.uuid = sqlc.narg(response_uuid)::text::uuid)
  AND (v.child_id, v.id) > (@after_child::bigint, @after_id::bigint)
ORDER BY v.child_id, v.id
LIMIT @lim;

-- name: DownloadCount :one
-- How many responses a download would hold: decides between streaming it now and an export job.
SELECT count(*) FROM download_rows v
WHERE v.study_id = @study_id AND v.is_preview = @preview AND v.downloadable
  AND (sqlc.narg(response_uuid)::text IS NULL OR v.uuid = sqlc.narg(response_uuid)::text::uuid);

-- name: DownloadStudy :one
SELECT id, uuid::text AS uuid, name, salt::text AS salt, hash_digits, study_type_id, short_description, purpose,
       criteria, duration, compensation_description, contact_info, structure, use_generator, generator
FROM studies WHERE id = @id;
