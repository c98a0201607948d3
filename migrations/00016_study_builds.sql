-- +goose Up
-- The build request as published, so that one whose publication was lost can be sent again.
ALTER TABLE builds ADD COLUMN request jsonb;

-- +goose Down
ALTER TABLE builds DROP COLUMN request;
