-- +goose Up
-- A party's findings are listed most severe first (store.Query.Party): this
-- index gives them in that order, as findings_by_severity does for the
-- tenant, instead of walking the tenant's findings by severity until enough
-- of the party's turn up (all of them, for a party with none). It covers
-- the uses of the (tenant, party) index it replaces.
DROP INDEX findings_by_party;
CREATE INDEX findings_by_party ON findings (tenant, party, severity_id DESC, id);
-- Listings by risk (store.Query.ByRisk) join the findings of each scored
-- issue through this index; with severity and party in it, those filters
-- are decided without reading the findings' rows.
DROP INDEX findings_by_issue;
CREATE INDEX findings_by_issue ON findings (tenant, issue_key, severity_id, party);

-- +goose Down
DROP INDEX findings_by_issue;
CREATE INDEX findings_by_issue ON findings (tenant, issue_key);
DROP INDEX findings_by_party;
CREATE INDEX findings_by_party ON findings (tenant, party);
