-- +goose Up
-- A party's findings are listed most severe first (store.Query.Party): this
-- index gives them in that order, as findings_by_severity does for the
-- tenant. It covers the uses of the (tenant, party) index it replaces.
DROP INDEX findings_by_party;
CREATE INDEX findings_by_party ON findings (tenant, party, severity_id DESC, id);
-- Listings by risk (store.Query.ByRisk) walk issue_risks_by_score backward
-- and join each issue's findings through findings_by_issue: with the
-- columns they include, both are index-only scans (the severity and party
-- filters too) while the visibility map is current. The score index's
-- range counts (Stats) keep using its key columns.
DROP INDEX findings_by_issue;
CREATE INDEX findings_by_issue ON findings (tenant, issue_key) INCLUDE (id, severity_id, party);
DROP INDEX issue_risks_by_score;
CREATE INDEX issue_risks_by_score ON issue_risks (tenant, score) INCLUDE (issue_key);

-- +goose Down
DROP INDEX issue_risks_by_score;
CREATE INDEX issue_risks_by_score ON issue_risks (tenant, score);
DROP INDEX findings_by_issue;
CREATE INDEX findings_by_issue ON findings (tenant, issue_key);
DROP INDEX findings_by_party;
CREATE INDEX findings_by_party ON findings (tenant, party);
