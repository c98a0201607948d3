-- +goose Up
-- What a download row shows of a response, and what its filters read (issue 8). The two page
-- queries of shared/postgres/queries/downloads.sql differ only in their keyset order. The view
-- is a plain join, which PostgreSQL inlines, so their keyset conditions still use the
-- responses_download_by_* indexes.
CREATE VIEW download_rows AS
SELECT r.id, r.uuid, r.study_id, r.is_preview, r.child_id, r.created_at, r.completed, r.eligibility, r.sequence,
       r.conditions, r.exp_data, r.global_event_timings,
       r.researcher_payment_status, r.researcher_session_status, r.researcher_star,
       -- The data rules of the response views: a response of the study's own type and, for a
       -- study run here (not external), a completed consent frame with an accepted ruling.
       (r.study_type_id = s.study_type_id AND (s.study_type_id = 2 OR (r.completed_consent_frame AND cc.action = 'accepted'))) AS downloadable,
       cc.action AS ruling, cc.comments AS ruling_comments, cc.created_at AS ruled_at,
       btrim(a.given_name || ' ' || a.family_name) AS arbiter_name,
       u.uuid AS user_uuid, u.nickname,
       c.uuid AS child_uuid, c.given_name AS child_name, c.birthday AS child_birthday, c.gender AS child_gender,
       c.gender_self_describe AS child_gender_self_describe, c.gestational_age_at_birth AS child_gestational_age,
       c.additional_information AS child_additional_information, c.existing_conditions AS child_conditions,
       c.languages_spoken AS child_languages, c.deleted AS child_deleted,
       d.uuid AS demo_uuid, d.number_of_children AS demo_number_of_children, d.child_birthdays AS demo_child_birthdays,
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
LEFT JOIN demographic_data d ON d.id = r.demographic_snapshot_id;

-- +goose Down
DROP VIEW download_rows;
