-- name: ListLabs :many
-- Every lab for researchers (to find one to join), approved ones for everyone else.
SELECT l.id, l.uuid::text AS uuid, l.name, coalesce(l.slug, '') AS slug, l.institution, l.principal_investigator_name,
       l.contact_email, l.contact_phone, l.lab_website, l.description, l.irb_contact_info, l.approved_to_test,
       l.approved_at, l.created_at, coalesce(m.role, '') AS my_role,
       (SELECT count(*) FROM lab_members c WHERE c.lab_id = l.id AND c.role <> 'requested') AS member_count
FROM labs l LEFT JOIN lab_members m ON m.lab_id = l.id AND m.user_id = @user_id
WHERE l.approved_to_test OR @all_labs::boolean
ORDER BY l.name;

-- name: FindLab :one
SELECT l.id, l.uuid::text AS uuid, l.name, coalesce(l.slug, '') AS slug, l.institution, l.principal_investigator_name,
       l.contact_email, l.contact_phone, l.lab_website, l.description, l.irb_contact_info, l.approved_to_test,
       l.approved_at, l.created_at, coalesce(m.role, '') AS my_role,
       (SELECT count(*) FROM lab_members c WHERE c.lab_id = l.id AND c.role <> 'requested') AS member_count
FROM labs l LEFT JOIN lab_members m ON m.lab_id = l.id AND m.user_id = @user_id
WHERE l.uuid = @uuid;

-- name: LabIDByUUID :one
SELECT id FROM labs WHERE uuid = $1;

-- name: LockLab :one
-- Membership changes of one lab are serialized on its row, so two admins demoting each other at
-- once cannot both succeed.
SELECT id, uuid::text AS uuid, name, contact_email, approved_to_test FROM labs WHERE id = $1 FOR NO KEY UPDATE;

-- name: CreateLab :one
INSERT INTO labs (name, slug, institution, principal_investigator_name, contact_email, contact_phone, lab_website,
                  description, irb_contact_info, created_by)
VALUES (@name, nullif(@slug::text, ''), @institution, @principal_investigator_name, @contact_email, @contact_phone,
        @lab_website, @description, @irb_contact_info, @created_by)
RETURNING id, uuid::text AS uuid, created_at;

-- name: UpdateLab :execrows
UPDATE labs SET name = @name, slug = nullif(@slug::text, ''), institution = @institution,
       principal_investigator_name = @principal_investigator_name, contact_email = @contact_email,
       contact_phone = @contact_phone, lab_website = @lab_website, description = @description,
       irb_contact_info = @irb_contact_info
WHERE id = @id;

-- name: SetLabApproval :one
-- Returns the approval before the change, so that only a real change is logged and emailed.
UPDATE labs n SET approved_to_test = @approved,
       approved_at = CASE WHEN @approved::boolean THEN coalesce(o.approved_at, now()) ELSE NULL END
FROM labs o WHERE n.id = o.id AND n.id = @id
RETURNING o.approved_to_test AS was_approved;

-- name: LabMember :one
SELECT m.role, u.email, u.is_researcher FROM lab_members m JOIN users u ON u.id = m.user_id
WHERE m.lab_id = $1 AND m.user_id = $2;

-- name: UserIDByUUID :one
SELECT id, email, is_researcher, given_name, family_name FROM users WHERE uuid = $1 AND is_active;

-- name: CountLabAdmins :one
SELECT count(*) FROM lab_members m JOIN users u ON u.id = m.user_id WHERE m.lab_id = $1 AND m.role = 'admin' AND u.is_active;

-- name: UpsertLabMember :exec
INSERT INTO lab_members (lab_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (lab_id, user_id) DO UPDATE SET role = excluded.role, updated_at = now();

-- name: InsertJoinRequest :execrows
INSERT INTO lab_members (lab_id, user_id, role) VALUES ($1, $2, 'requested')
ON CONFLICT (lab_id, user_id) DO NOTHING;

-- name: DeleteLabMember :execrows
DELETE FROM lab_members WHERE lab_id = $1 AND user_id = $2;

-- name: LogLab :exec
INSERT INTO lab_log (lab_id, actor_id, user_id, action, from_role, to_role)
VALUES (@lab_id, @actor_id, @user_id, @action, @from_role, @to_role);

-- name: LabAdminEmails :many
SELECT u.email FROM lab_members m JOIN users u ON u.id = m.user_id
WHERE m.lab_id = $1 AND m.role = 'admin' AND u.is_active ORDER BY u.email;

-- name: SiteAdminEmails :many
SELECT email FROM users WHERE is_site_admin AND is_active ORDER BY email LIMIT 1000;

-- name: ListLabMembers :many
SELECT u.uuid::text AS uuid, u.email, u.given_name, u.family_name, m.role, m.created_at
FROM lab_members m JOIN users u ON u.id = m.user_id
WHERE m.lab_id = $1
ORDER BY CASE m.role WHEN 'requested' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 WHEN 'readonly' THEN 3 ELSE 4 END, u.email;

-- name: AutoJoinLabs :many
-- Labs every new researcher joins (Lookit's Demo and Sandbox labs).
SELECT id, auto_join_role FROM labs WHERE auto_join_role IS NOT NULL;
