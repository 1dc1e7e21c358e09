-- +goose Up
-- who must act on a finding (internal/responsibility), written by the
-- route stage after correlation; responsibility is the attribution as JSON
ALTER TABLE findings ADD COLUMN party TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN area TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN responsibility BLOB;
CREATE INDEX findings_by_party ON findings (tenant, party);
ALTER TABLE issue_risks ADD COLUMN responsibility BLOB;
ALTER TABLE incidents ADD COLUMN party TEXT NOT NULL DEFAULT '';
-- a tenant's contract with its security vendors (YAML, as given)
CREATE TABLE contracts (
    tenant     TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    doc        BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE contracts;
ALTER TABLE incidents DROP COLUMN party;
ALTER TABLE issue_risks DROP COLUMN responsibility;
DROP INDEX findings_by_party;
ALTER TABLE findings DROP COLUMN responsibility;
ALTER TABLE findings DROP COLUMN area;
ALTER TABLE findings DROP COLUMN party;
