-- name: SeedUser :one
INSERT INTO users (email, password_hash, given_name, family_name, nickname, is_researcher, is_site_admin, email_verified_at)
VALUES (@email, @password_hash, @given_name, @family_name, @given_name, @is_researcher, @is_site_admin, now())
ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
RETURNING id;

-- name: SeedTOTP :exec
INSERT INTO totp_devices (user_id, secret, activated_at) VALUES ($1, $2, now())
ON CONFLICT (user_id) DO NOTHING;

-- name: SeedLab :one
INSERT INTO labs (name, slug, institution, principal_investigator_name, contact_email, description, approved_to_test)
VALUES (@name, @slug, @institution, @principal_investigator_name, @contact_email, @description, true)
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id;

-- name: SeedLabMember :exec
INSERT INTO lab_members (lab_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: SeedChild :exec
INSERT INTO children (user_id, given_name, birthday, gender, gestational_age_at_birth, languages_spoken)
SELECT @user_id, @given_name, @birthday, @gender, @gestational_age_at_birth, @languages_spoken
WHERE NOT EXISTS (SELECT 1 FROM children WHERE user_id = @user_id);

-- name: SeedDemographics :exec
INSERT INTO demographic_data (user_id, number_of_children, child_birthdays, number_of_guardians,
                              us_race_ethnicity_identification, age, gender, education_level,
                              annual_income, country, state, density, lookit_referrer)
SELECT @user_id, @number_of_children, @child_birthdays, @number_of_guardians,
       @us_race_ethnicity_identification, @age, @gender, @education_level,
       @annual_income, @country, @state, @density, @lookit_referrer
WHERE NOT EXISTS (SELECT 1 FROM demographic_data WHERE user_id = @user_id);

-- name: SeedStudyID :one
SELECT id FROM studies WHERE lab_id = $1 AND name = $2;

-- name: SeedStudy :one
INSERT INTO studies (name, lab_id, creator_id, study_type_id, state, status_change_date, public, built, preview_summary,
                     short_description, purpose, criteria, duration, compensation_description, min_age_years,
                     max_age_years, structure, metadata, exit_url)
VALUES (@name, @lab_id, @creator_id, @study_type_id, 'active', now(), true, @built, @preview_summary,
        @short_description, @purpose, @criteria, @duration, @compensation_description, 0, 5, @structure, @metadata, @exit_url)
RETURNING id;

-- name: SeedStudyResearcher :exec
INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'admin') ON CONFLICT DO NOTHING;

-- name: SeedStudyLog :exec
INSERT INTO study_logs (study_id, user_id, action, extra) VALUES ($1, $2, 'active', '{"comments":"demo data"}');

-- name: SeedLabID :one
SELECT id FROM labs WHERE slug = $1;
