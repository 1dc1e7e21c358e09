-- +goose Up
-- The same logical schema as SQLite's 00006.
ALTER TABLE findings ADD COLUMN party text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN area text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN responsibility json;
CREATE INDEX findings_by_party ON findings (tenant, party);
ALTER TABLE issue_risks ADD COLUMN responsibility json;
ALTER TABLE incidents ADD COLUMN party text COLLATE "C" NOT NULL DEFAULT '';
CREATE TABLE contracts (
    tenant     text   COLLATE "C" PRIMARY KEY,
    name       text   NOT NULL,
    doc        bytea  NOT NULL,
    updated_at bigint NOT NULL
);

-- +goose Down
DROP TABLE contracts;
ALTER TABLE incidents DROP COLUMN party;
ALTER TABLE issue_risks DROP COLUMN responsibility;
DROP INDEX findings_by_party;
ALTER TABLE findings DROP COLUMN responsibility;
ALTER TABLE findings DROP COLUMN area;
ALTER TABLE findings DROP COLUMN party;
