-- +goose Up
-- Counters kept by the database itself, so that a tenant's summary
-- (internal/store: Summaries) never scans its findings: triggers on
-- findings and events change them in the statement that changes a record,
-- whatever writes it (upserts, attributions, imports). SQLite has a single
-- writer, so each row's trigger simply adds to one counter row.
--
-- findings per (tenant, severity, product, party); party '' = not attributed
CREATE TABLE finding_counts (
    tenant      TEXT    NOT NULL,
    severity_id INTEGER NOT NULL,
    product     TEXT    NOT NULL,
    party       TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (tenant, severity_id, product, party)
) WITHOUT ROWID;
-- new findings per (tenant, UTC day of first_seen, severity); day counts
-- days since 1970-01-01
CREATE TABLE finding_days (
    tenant      TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    severity_id INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (tenant, day, severity_id)
) WITHOUT ROWID;
-- events per tenant
CREATE TABLE event_counts (
    tenant TEXT    PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER findings_counted AFTER INSERT ON findings BEGIN
    INSERT INTO finding_counts (tenant, severity_id, product, party, n) VALUES (new.tenant, new.severity_id, new.product, new.party, 1)
        ON CONFLICT (tenant, severity_id, product, party) DO UPDATE SET n = n + 1;
    INSERT INTO finding_days (tenant, day, severity_id, n) VALUES (new.tenant, new.first_seen / 86400000, new.severity_id, 1)
        ON CONFLICT (tenant, day, severity_id) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER findings_uncounted AFTER DELETE ON findings BEGIN
    UPDATE finding_counts SET n = n - 1
        WHERE tenant = old.tenant AND severity_id = old.severity_id AND product = old.product AND party = old.party;
    UPDATE finding_days SET n = n - 1
        WHERE tenant = old.tenant AND day = old.first_seen / 86400000 AND severity_id = old.severity_id;
END;
-- +goose StatementEnd
-- an upsert sets severity_id on every re-ingest: the WHEN clause keeps an
-- unchanged row from touching the counters
-- +goose StatementBegin
CREATE TRIGGER findings_recounted AFTER UPDATE OF tenant, severity_id, product, party ON findings
WHEN old.tenant IS NOT new.tenant OR old.severity_id IS NOT new.severity_id OR old.product IS NOT new.product OR old.party IS NOT new.party
BEGIN
    UPDATE finding_counts SET n = n - 1
        WHERE tenant = old.tenant AND severity_id = old.severity_id AND product = old.product AND party = old.party;
    INSERT INTO finding_counts (tenant, severity_id, product, party, n) VALUES (new.tenant, new.severity_id, new.product, new.party, 1)
        ON CONFLICT (tenant, severity_id, product, party) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER findings_redated AFTER UPDATE OF tenant, severity_id, first_seen ON findings
WHEN old.tenant IS NOT new.tenant OR old.severity_id IS NOT new.severity_id OR old.first_seen / 86400000 IS NOT new.first_seen / 86400000
BEGIN
    UPDATE finding_days SET n = n - 1
        WHERE tenant = old.tenant AND day = old.first_seen / 86400000 AND severity_id = old.severity_id;
    INSERT INTO finding_days (tenant, day, severity_id, n) VALUES (new.tenant, new.first_seen / 86400000, new.severity_id, 1)
        ON CONFLICT (tenant, day, severity_id) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER events_counted AFTER INSERT ON events BEGIN
    INSERT INTO event_counts (tenant, n) VALUES (new.tenant, 1) ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER events_uncounted AFTER DELETE ON events BEGIN
    UPDATE event_counts SET n = n - 1 WHERE tenant = old.tenant;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER events_recounted AFTER UPDATE OF tenant ON events WHEN old.tenant IS NOT new.tenant BEGIN
    UPDATE event_counts SET n = n - 1 WHERE tenant = old.tenant;
    INSERT INTO event_counts (tenant, n) VALUES (new.tenant, 1) ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- what the store held before this migration
INSERT INTO finding_counts (tenant, severity_id, product, party, n)
    SELECT tenant, severity_id, product, party, count(*) FROM findings GROUP BY tenant, severity_id, product, party;
INSERT INTO finding_days (tenant, day, severity_id, n)
    SELECT tenant, first_seen / 86400000, severity_id, count(*) FROM findings GROUP BY tenant, first_seen / 86400000, severity_id;
INSERT INTO event_counts (tenant, n) SELECT tenant, count(*) FROM events GROUP BY tenant;

-- the risk distribution of a tenant's issues is counted by score ranges
-- on this index
CREATE INDEX issue_risks_by_score ON issue_risks (tenant, score);

-- +goose Down
DROP INDEX issue_risks_by_score;
DROP TRIGGER events_recounted;
DROP TRIGGER events_uncounted;
DROP TRIGGER events_counted;
DROP TRIGGER findings_redated;
DROP TRIGGER findings_recounted;
DROP TRIGGER findings_uncounted;
DROP TRIGGER findings_counted;
DROP TABLE event_counts;
DROP TABLE finding_days;
DROP TABLE finding_counts;
