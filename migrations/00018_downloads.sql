-- +goose Up
-- Downloads and exports read a study's responses of one kind (real or preview) in pages, by
-- response id or by child then response id (the children overview groups a child's responses).
-- Both pages seek straight to their keyset position with these.
CREATE INDEX responses_download_by_id ON responses (study_id, is_preview, id);
CREATE INDEX responses_download_by_child ON responses (study_id, is_preview, child_id, id);

-- Responses an export could not write (malformed data): "uuid: reason", the first 100, and how
-- many there were; the researcher sees them with the export.
ALTER TABLE exports ADD COLUMN skipped text[] NOT NULL DEFAULT '{}',
                    ADD COLUMN skipped_count integer NOT NULL DEFAULT 0;
-- The stale-exports job finds queued exports whose publication was lost and runs whose lease ran out.
CREATE INDEX exports_unfinished ON exports (created_at) WHERE state IN ('queued', 'running');

-- +goose Down
DROP INDEX exports_unfinished;
ALTER TABLE exports DROP COLUMN skipped_count, DROP COLUMN skipped;
DROP INDEX responses_download_by_child;
DROP INDEX responses_download_by_id;
