-- +goose Up
-- Lookit's "consented" response, which researchers' views and the compatibility API show: the
-- consent frame was completed and the newest consent ruling accepts it.
-- +goose StatementBegin
CREATE FUNCTION response_consented(response bigint)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT r.completed_consent_frame AND coalesce(
        (SELECT c.action FROM consent_rulings c WHERE c.response_id = r.id ORDER BY c.created_at DESC, c.id DESC LIMIT 1),
        'pending') = 'accepted'
    FROM responses r WHERE r.id = response
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION response_consented(bigint);
