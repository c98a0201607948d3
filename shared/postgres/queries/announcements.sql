-- name: TryLockAnnouncements :one
-- One announcements run at a time: an overlapping run (another firing) returns false and does
-- nothing. Held until the job's transaction ends.
SELECT pg_try_advisory_xact_lock(hashtext('lookit:study-announcements')::bigint);

-- name: TuneAnnouncements :exec
-- For the rest of the job's transaction: choosing sorts a row per candidate (child, study) pair,
-- hundreds of thousands, which spills to disk at the default work_mem; and JIT compiling the big
-- plan costs about a second and gains nothing.
SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true);

-- name: PickAnnouncements :many
-- Whom one run tells about what (reference §8.3): every family with a candidate pair
-- (announcement_candidates(), 00014) gets one of its studies at random: the least hash of
-- (family, study) under the run's seed, so each study is as likely however many of the family's
-- children it takes. Then each study keeps at most per_study of its families, at random. studies
-- and families limit the run to those (NULL: all). Read-only, so PostgreSQL may run it in parallel.
SELECT user_id::bigint AS user_id, study_id
FROM (
    SELECT user_id, study_id, row_number() OVER (PARTITION BY study_id ORDER BY random()) AS nth_family
    FROM (
        SELECT c.user_id, ((min(ARRAY[hashint8extended((c.study_id << 32) # c.user_id, @seed::bigint), c.study_id]))[2])::bigint AS study_id
        FROM announcement_candidates() AS c (user_id, child_id, study_id)
        WHERE (sqlc.narg('studies')::bigint[] IS NULL OR c.study_id = ANY (sqlc.narg('studies')::bigint[]))
          AND (sqlc.narg('families')::bigint[] IS NULL OR c.user_id = ANY (sqlc.narg('families')::bigint[]))
        GROUP BY c.user_id
    ) family_study
) chosen
WHERE nth_family <= @per_study::integer;

-- name: RecordAnnouncements :many
-- Records the picked (family, study) pairs with every candidate child of the family for the
-- study, one email id per family, and returns what each family's email says. The candidates are
-- looked up again, so a pair an overlapping run recorded first is not announced twice (nor is a
-- family that opted out in between).
WITH picked AS MATERIALIZED ( -- materialized: one email id per family, not per child
    SELECT unnest(@user_ids::bigint[]) AS user_id, unnest(@study_ids::bigint[]) AS study_id, gen_random_uuid() AS email_id
),
announced AS (
    INSERT INTO study_announcements (child_id, study_id, user_id, email_id)
    SELECT c.child_id, c.study_id, c.user_id, p.email_id
    FROM picked p JOIN announcement_candidates() AS c (user_id, child_id, study_id) ON c.user_id = p.user_id AND c.study_id = p.study_id
    ON CONFLICT (child_id, study_id) DO NOTHING
    RETURNING child_id, study_id, user_id, email_id
)
SELECT a.email_id::text AS email_id, u.id AS user_id, u.uuid AS user_uuid, u.email::text AS email, u.nickname, s.uuid::text AS study_uuid,
       s.name AS study_name, s.short_description, l.contact_email,
       array_agg(c.given_name ORDER BY c.birthday DESC, c.id)::text[] AS children
FROM announced a
JOIN users u ON u.id = a.user_id
JOIN children c ON c.id = a.child_id
JOIN studies s ON s.id = a.study_id
JOIN labs l ON l.id = s.lab_id
GROUP BY a.email_id, u.id, s.id, l.id
ORDER BY a.email_id;

-- name: ForgetAnnouncements :execrows
-- Un-records the pairs of emails that could not be queued, so a later run may try again; by
-- family first, which is indexed.
DELETE FROM study_announcements WHERE user_id = ANY (@user_ids::bigint[]) AND email_id = ANY (@email_ids::uuid[]);

-- name: QueueAnnouncementEmails :copyfrom
INSERT INTO email_messages (id, kind, from_address, to_addresses, subject, body_text, body_html, reply_to, list_unsubscribe)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);
