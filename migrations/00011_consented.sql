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

-- Whether a researcher may read a response: consented, of the study's own type, and in a study
-- where they hold real-data permission (preview-data for previews). The holdings are
-- authz.Subject.Holding's: every study, these studies, or every study of these labs.
-- +goose StatementBegin
CREATE FUNCTION researcher_can_read(response bigint, rr_all boolean, rr_studies bigint[], rr_labs bigint[],
                                    rp_all boolean, rp_studies bigint[], rp_labs bigint[])
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT r.study_type_id = s.study_type_id AND response_consented(r.id)
       AND CASE WHEN r.is_preview THEN rp_all OR r.study_id = ANY(rp_studies) OR s.lab_id = ANY(rp_labs)
                ELSE rr_all OR r.study_id = ANY(rr_studies) OR s.lab_id = ANY(rr_labs) END
    FROM responses r JOIN studies s ON s.id = r.study_id WHERE r.id = response
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION researcher_can_read(bigint, boolean, bigint[], bigint[], boolean, bigint[], bigint[]);
DROP FUNCTION response_consented(bigint);
