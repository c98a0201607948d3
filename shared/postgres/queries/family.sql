-- name: ListChildren :many
SELECT uuid::text AS uuid, given_name, birthday, gender, gender_self_describe, gestational_age_at_birth,
       additional_information, existing_conditions, languages_spoken, deleted
FROM children WHERE user_id = $1 AND NOT deleted
ORDER BY birthday DESC, id;

-- name: FindChild :one
SELECT user_id, uuid::text AS uuid, given_name, birthday, gender, gender_self_describe, gestational_age_at_birth,
       additional_information, existing_conditions, languages_spoken, deleted
FROM children WHERE uuid = $1 AND NOT deleted;

-- name: CreateChild :exec
INSERT INTO children (uuid, user_id, given_name, birthday, gender, gender_self_describe, gestational_age_at_birth,
                      additional_information, existing_conditions, languages_spoken)
VALUES (@uuid, @user_id, @given_name, @birthday, @gender, @gender_self_describe, @gestational_age_at_birth,
        @additional_information, @existing_conditions, @languages_spoken);

-- name: UpdateChild :execrows
UPDATE children SET given_name = @given_name, gender = @gender, gender_self_describe = @gender_self_describe,
       gestational_age_at_birth = @gestational_age_at_birth, additional_information = @additional_information,
       existing_conditions = @existing_conditions, languages_spoken = @languages_spoken
WHERE uuid = @uuid AND user_id = @user_id AND NOT deleted;

-- name: DeleteChild :execrows
UPDATE children SET deleted = true WHERE uuid = $1 AND user_id = $2 AND NOT deleted;

-- name: LatestDemographics :one
SELECT id, uuid::text AS uuid, number_of_children, child_birthdays, number_of_guardians, number_of_guardians_explanation,
       us_race_ethnicity_identification, us_race_ethnicity_identification_describe, age, gender, gender_self_describe,
       education_level, annual_income, country, state, density, lookit_referrer, additional_comments, extra, created_at
FROM demographic_data WHERE user_id = $1
ORDER BY created_at DESC, id DESC LIMIT 1;

-- name: AddDemographics :one
-- Demographics are versioned: every save is a new row pointing at the one it replaces.
INSERT INTO demographic_data (user_id, previous_id, number_of_children, child_birthdays, number_of_guardians,
    number_of_guardians_explanation, us_race_ethnicity_identification, us_race_ethnicity_identification_describe,
    age, gender, gender_self_describe, education_level, annual_income, country, state, density, lookit_referrer,
    additional_comments, extra)
VALUES (@user_id, (SELECT d.id FROM demographic_data d WHERE d.user_id = @user_id ORDER BY d.created_at DESC, d.id DESC LIMIT 1),
    @number_of_children, @child_birthdays, @number_of_guardians, @number_of_guardians_explanation,
    @us_race_ethnicity_identification, @us_race_ethnicity_identification_describe, @age, @gender, @gender_self_describe,
    @education_level, @annual_income, @country, @state, @density, @lookit_referrer, @additional_comments, @extra)
RETURNING uuid::text AS uuid, created_at;

-- name: SetEmailPreferences :exec
UPDATE users SET email_next_session = $2, email_new_studies = $3, email_study_updates = $4, email_response_questions = $5
WHERE id = $1;

-- name: UnsubscribeAll :execrows
-- One-click unsubscribe: every optional email off (account email continues).
UPDATE users SET email_next_session = false, email_new_studies = false, email_study_updates = false,
       email_response_questions = false
WHERE uuid = $1;
