-- +goose Up
-- Lookit stores gestational age at birth as a 0–17 scale, not weeks: 0 "under 24 weeks",
-- 1–16 are 24–39 weeks (weeks = value + 23), 17 "40 or more weeks"; NULL is no answer
-- (shared/accounts). 00002 allowed 0–40, which would misread imported Lookit values.
ALTER TABLE children DROP CONSTRAINT children_gestational_age_at_birth_check;
-- Rows written under 00002's reading held weeks: move them onto the scale.
UPDATE children SET gestational_age_at_birth = CASE
        WHEN gestational_age_at_birth < 24 THEN 0
        WHEN gestational_age_at_birth >= 40 THEN 17
        ELSE gestational_age_at_birth - 23
    END
WHERE gestational_age_at_birth > 17;
ALTER TABLE children ADD CONSTRAINT children_gestational_age_at_birth_check
    CHECK (gestational_age_at_birth BETWEEN 0 AND 17);
COMMENT ON COLUMN children.gestational_age_at_birth IS
    'Lookit scale: 0 under 24 weeks; 1-16 = 24-39 weeks (value + 23); 17 = 40 or more; NULL no answer';

-- +goose Down
ALTER TABLE children DROP CONSTRAINT children_gestational_age_at_birth_check;
ALTER TABLE children ADD CONSTRAINT children_gestational_age_at_birth_check
    CHECK (gestational_age_at_birth BETWEEN 0 AND 40);
