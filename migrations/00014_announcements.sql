-- +goose Up
-- Study announcements (Lookit's daily send_announcement_emails, reference §8.3): every (child,
-- study) pair a family was told about. The primary key is what makes a child hear of a study at
-- most once, even when two runs overlap: the second insert of a pair does nothing.
CREATE TABLE study_announcements (
    child_id   bigint      NOT NULL REFERENCES children (id) ON DELETE CASCADE,
    study_id   bigint      NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The email that told the family (email_messages.id, queued in the same transaction); no
    -- foreign key, so pruning old outbox rows never has to look here.
    email_id   uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (child_id, study_id)
);
CREATE INDEX study_announcements_study ON study_announcements (study_id);
CREATE INDEX study_announcements_user ON study_announcements (user_id);

-- Every (family, child, study) the announcements job may announce today:
--   - the study is active and public, and its lab approved to test;
--   - the family is active, not marked as spam, has verified its address and wants new-study email;
--   - the child is not deleted and is eligible: study_eligibility(study, child, current_date) is
--     {Eligible}, its age, criteria and participation tests written out so the planner can join
--     children to studies by age range instead of calling it for every pair (shared/postgres's
--     TestAnnouncementCandidatesAreTheEligiblePairs checks the two agree);
--   - the child has no response to the study at all, previews and sessions that never reached a
--     frame included: the family found the study already. (Lookit skipped only frameplayer
--     responses past consent and external ones, so jsPsych families heard of studies they took.)
--   - the pair was never announced.
-- A SQL function of one SELECT, which the planner inlines into the query that uses it (and may
-- run in parallel); a function rather than a view, so it does not pin the columns it reads.
-- +goose StatementBegin
CREATE FUNCTION announcement_candidates()
RETURNS TABLE (user_id bigint, child_id bigint, study_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT c.user_id, c.id, s.id
    FROM studies s
    JOIN labs l ON l.id = s.lab_id
    JOIN children c
      ON c.birthday BETWEEN current_date - (s.max_age_years * 365 + s.max_age_months * 30 + s.max_age_days)
                        AND current_date - (s.min_age_years * 365 + s.min_age_months * 30 + s.min_age_days)
    JOIN users u ON u.id = c.user_id
    WHERE s.state = 'active' AND s.public AND l.approved_to_test
      AND NOT c.deleted
      AND u.is_active AND u.email_new_studies AND NOT u.is_spam AND u.email_verified_at IS NOT NULL
      AND (s.criteria_ast IS NULL
           OR criteria_matches(s.criteria_ast, current_date - c.birthday, c.gender, c.gestational_age_at_birth,
                               c.existing_conditions, c.languages_spoken))
      -- child_participated once per (child, study) a rule names, hashed, rather than once per
      -- candidate pair and rule.
      AND NOT EXISTS (SELECT 1 FROM study_participation_rules p
                      WHERE p.study_id = s.id
                        AND p.must_have <> ((c.id, p.other_study_id) IN (
                            SELECT r.child_id, r.study_id FROM responses r
                            WHERE r.study_id IN (SELECT o.other_study_id FROM study_participation_rules o)
                              AND child_participated(r.child_id, r.study_id))))
      AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.child_id = c.id AND r.study_id = s.id)
      AND NOT EXISTS (SELECT 1 FROM study_announcements a WHERE a.child_id = c.id AND a.study_id = s.id)
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION announcement_candidates();
DROP TABLE study_announcements;
