-- +goose Up
ALTER TABLE findings ADD COLUMN issue_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN issue_key TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX findings_by_issue ON findings (tenant, issue_key);

-- +goose Down
DROP INDEX findings_by_issue;
ALTER TABLE events DROP COLUMN issue_key;
ALTER TABLE findings DROP COLUMN issue_key;
