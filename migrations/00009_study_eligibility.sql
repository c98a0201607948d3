-- +goose Up
-- A child's eligibility for a study in one SQL call: the twin of studies.Decide (age, criteria
-- expression, prior participation), for set-based queries ("studies for this child",
-- announcements). shared/postgres's TestDecideAndSQLAgree checks the two on random data.

-- Whether the child took part in the study (studies.Participated): any response to an external
-- study; a response with a reached frame otherwise. Previews count.
-- +goose StatementBegin
CREATE FUNCTION child_participated(child bigint, study bigint)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT EXISTS (SELECT 1 FROM responses r
                   WHERE r.child_id = child AND r.study_id = study
                     AND (r.study_type_id = 2 OR cardinality(r.sequence) > 0))
$$;
-- +goose StatementEnd

-- Lookit's sorted eligibility list: {Eligible} or the reasons, on the given day.
-- +goose StatementBegin
CREATE FUNCTION study_eligibility(study bigint, child bigint, today date)
RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    WITH s AS (
        SELECT st.id, st.criteria_ast,
               st.min_age_years * 365 + st.min_age_months * 30 + st.min_age_days AS min_days,
               st.max_age_years * 365 + st.max_age_months * 30 + st.max_age_days AS max_days
        FROM studies st WHERE st.id = study),
    c AS (
        SELECT ch.id, (today - ch.birthday) AS age_days, ch.gender, ch.gestational_age_at_birth,
               ch.existing_conditions, ch.languages_spoken
        FROM children ch WHERE ch.id = child),
    reasons AS (
        SELECT 'Ineligible_TooYoung' AS r FROM s, c WHERE c.age_days < s.min_days
        UNION ALL
        SELECT 'Ineligible_TooOld' FROM s, c WHERE c.age_days > s.max_days
        UNION ALL
        SELECT 'Ineligible_CriteriaExpression' FROM s, c
        WHERE NOT criteria_matches(s.criteria_ast, c.age_days, c.gender, c.gestational_age_at_birth,
                                   c.existing_conditions, c.languages_spoken)
        UNION ALL
        SELECT 'Ineligible_Participation' FROM s, c
        WHERE EXISTS (SELECT 1 FROM study_participation_rules p WHERE p.study_id = s.id AND
                      p.must_have <> child_participated(c.id, p.other_study_id)))
    SELECT CASE WHEN count(*) = 0 THEN ARRAY['Eligible'] ELSE array_agg(r ORDER BY r COLLATE "C") END FROM reasons
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION study_eligibility(bigint, bigint, date);
DROP FUNCTION child_participated(bigint, bigint);
