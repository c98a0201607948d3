-- Generated demo families and their sessions for make run (shared/demo SeedResponses). Each insert
-- takes the rows built in Go as one JSON array (jsonb_to_recordset) and finds the rows it points
-- at by their natural keys (a user's email, a child's or response's uuid), so a whole table goes
-- in one statement without reading ids back.

-- name: DemoDataLock :exec
-- Serializes demo seeders (two dev servers on one database) until the transaction ends.
SELECT pg_advisory_xact_lock(hashtext('lookit:demo-data')::bigint);

-- name: DemoFamiliesExist :one
SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE '%@' || @domain::text)::boolean;

-- name: DemoStudy :one
SELECT s.id, s.uuid::text AS uuid, s.study_type_id
FROM studies s JOIN labs l ON l.id = s.lab_id
WHERE l.slug = @lab_slug AND s.name = @name;

-- name: DemoInsertUsers :execrows
INSERT INTO users (uuid, email, given_name, family_name, nickname, email_verified_at, last_login_at,
                   email_new_studies, email_next_session, created_at)
SELECT t.uuid, t.email, t.given_name, t.family_name, t.nickname, t.created_at, t.last_login_at,
       t.email_new_studies, t.email_next_session, t.created_at
FROM jsonb_to_recordset(@rows::jsonb) AS t(uuid uuid, email text, given_name text, family_name text, nickname text,
     last_login_at timestamptz, email_new_studies boolean, email_next_session boolean, created_at timestamptz)
ORDER BY t.email;

-- name: DemoInsertChildren :execrows
INSERT INTO children (uuid, user_id, given_name, birthday, gender, gestational_age_at_birth, additional_information,
                      existing_conditions, languages_spoken, created_at)
SELECT t.uuid, u.id, t.given_name, t.birthday, t.gender, t.gestational_age_at_birth, t.additional_information,
       t.existing_conditions, t.languages_spoken, t.created_at
FROM jsonb_to_recordset(@rows::jsonb) AS t(uuid uuid, user_email text, given_name text, birthday date, gender text,
     gestational_age_at_birth smallint, additional_information text, existing_conditions bigint, languages_spoken bigint,
     created_at timestamptz)
JOIN users u ON u.email = t.user_email
ORDER BY t.created_at;

-- name: DemoInsertDemographics :execrows
-- A family that already has demographics (the demo researcher, say) keeps them.
INSERT INTO demographic_data (user_id, number_of_children, child_birthdays, number_of_guardians,
                              number_of_guardians_explanation, us_race_ethnicity_identification, age, gender,
                              education_level, annual_income, country, state, density, lookit_referrer,
                              additional_comments, created_at)
SELECT u.id, t.number_of_children, t.child_birthdays, t.number_of_guardians, t.number_of_guardians_explanation,
       t.us_race_ethnicity_identification, t.age, t.gender, t.education_level, t.annual_income, t.country, t.state,
       t.density, t.lookit_referrer, t.additional_comments, t.created_at
FROM jsonb_to_recordset(@rows::jsonb) AS t(user_email text, number_of_children text, child_birthdays date[],
     number_of_guardians text, number_of_guardians_explanation text, us_race_ethnicity_identification text[], age text,
     gender text, education_level text, annual_income text, country text, state text, density text,
     lookit_referrer text, additional_comments text, created_at timestamptz)
JOIN users u ON u.email = t.user_email
WHERE NOT EXISTS (SELECT 1 FROM demographic_data d WHERE d.user_id = u.id)
ORDER BY t.created_at;

-- name: DemoInsertResponses :execrows
-- Eligibility as the platform decides it at creation (study_eligibility on the session's day), and
-- the family's latest demographics as the snapshot.
INSERT INTO responses (uuid, study_id, child_id, study_type_id, demographic_snapshot_id, completed,
                       completed_consent_frame, exp_data, conditions, global_event_timings, sequence, is_preview,
                       recording_method, eligibility, researcher_payment_status, researcher_session_status,
                       researcher_star, created_at, updated_at)
SELECT t.uuid, s.id, c.id, s.study_type_id,
       (SELECT d.id FROM demographic_data d WHERE d.user_id = c.user_id ORDER BY d.created_at DESC, d.id DESC LIMIT 1),
       t.completed, t.completed_consent_frame, t.exp_data, t.conditions, t.global_event_timings, t.sequence,
       t.is_preview, t.recording_method, study_eligibility(s.id, c.id, t.created_at::date), t.payment_status,
       t.session_status, t.star, t.created_at, t.updated_at
FROM jsonb_to_recordset(@rows::jsonb) AS t(uuid uuid, study_id bigint, child_uuid uuid, completed boolean,
     completed_consent_frame boolean, exp_data jsonb, conditions jsonb, global_event_timings jsonb, sequence text[],
     is_preview boolean, recording_method text, payment_status text, session_status text, star boolean,
     created_at timestamptz, updated_at timestamptz)
JOIN studies s ON s.id = t.study_id
JOIN children c ON c.uuid = t.child_uuid
ORDER BY t.created_at;

-- name: DemoInsertRulings :execrows
INSERT INTO consent_rulings (response_id, action, arbiter_id, comments, created_at)
SELECT r.id, t.action, u.id, t.comments, t.created_at
FROM jsonb_to_recordset(@rows::jsonb) AS t(response_uuid uuid, action text, arbiter_email text, comments text,
     created_at timestamptz)
JOIN responses r ON r.uuid = t.response_uuid
LEFT JOIN users u ON u.email = t.arbiter_email
ORDER BY t.created_at;

-- name: DemoInsertVideos :execrows
INSERT INTO videos (created_at, s3_timestamp, pipe_name, pipe_numeric_id, frame_id, full_name, bucket, study_id,
                    response_id, is_consent_footage)
SELECT t.created_at, t.s3_timestamp, t.pipe_name, t.pipe_numeric_id, t.frame_id, t.full_name, t.bucket, r.study_id,
       r.id, t.is_consent_footage
FROM jsonb_to_recordset(@rows::jsonb) AS t(response_uuid uuid, created_at timestamptz, s3_timestamp timestamptz,
     pipe_name text, pipe_numeric_id bigint, frame_id text, full_name text, bucket text, is_consent_footage boolean)
JOIN responses r ON r.uuid = t.response_uuid
ORDER BY t.created_at;

-- name: DemoInsertFeedback :execrows
INSERT INTO feedback (response_id, researcher_id, comment, created_at, updated_at)
SELECT r.id, u.id, t.comment, t.created_at, t.created_at
FROM jsonb_to_recordset(@rows::jsonb) AS t(response_uuid uuid, researcher_email text, comment text,
     created_at timestamptz)
JOIN responses r ON r.uuid = t.response_uuid
LEFT JOIN users u ON u.email = t.researcher_email
ORDER BY t.created_at;

-- name: DemoTally :exec
-- Counts the new responses towards their studies' caps as the tally would (shared/postgres
-- validForCap): not a preview, eligible, and for studies run here completed, past the consent
-- frame and not rejected.
WITH counted AS (
    UPDATE responses r SET tallied = true
    WHERE r.uuid = ANY(@response_uuids::uuid[]) AND NOT r.tallied AND NOT r.is_preview
      AND r.eligibility = ARRAY['Eligible']
      AND (r.study_type_id = 2 OR (r.completed AND r.completed_consent_frame
           AND coalesce((SELECT cc.action FROM current_consent cc WHERE cc.response_id = r.id), 'pending') <> 'rejected'))
    RETURNING r.study_id)
UPDATE studies s SET tallied_responses = s.tallied_responses + n.n
FROM (SELECT study_id, count(*)::integer AS n FROM counted GROUP BY study_id) n
WHERE s.id = n.study_id;

-- name: DemoVideos :many
-- The videos of the generated sessions: the generated families' and those of the preview child.
SELECT v.bucket, v.full_name
FROM videos v
JOIN responses r ON r.id = v.response_id
JOIN children c ON c.id = r.child_id
JOIN users u ON u.id = c.user_id
WHERE u.email LIKE '%@' || @domain::text OR c.uuid = @preview_child::uuid
ORDER BY v.id;
