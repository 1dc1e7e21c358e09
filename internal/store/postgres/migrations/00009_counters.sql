-- +goose Up
-- The counters of SQLite's 00009, kept without hot rows: concurrent ingest
-- transactions must not wait for each other's counter row locks (held to
-- commit, and a source of deadlocks between workers). So statement-level
-- triggers read the statement's transition tables and append one delta
-- row per key the statement changed; no counter row is ever updated by a
-- writer. A count is the sum of its key's deltas. The store compacts a
-- tenant's deltas (one statement: delete them and insert their sums) when
-- a read finds too many.
--
-- findings per (tenant, severity, product, party); party '' = not attributed
CREATE TABLE finding_counts (
    tenant      text    COLLATE "C" NOT NULL,
    severity_id integer NOT NULL,
    product     text    NOT NULL,
    party       text    COLLATE "C" NOT NULL,
    n           bigint  NOT NULL
);
CREATE INDEX finding_counts_by_tenant ON finding_counts (tenant);
-- new findings per (tenant, UTC day of first_seen, severity)
CREATE TABLE finding_days (
    tenant      text    COLLATE "C" NOT NULL,
    day         date    NOT NULL,
    severity_id integer NOT NULL,
    n           bigint  NOT NULL
);
CREATE INDEX finding_days_by_tenant ON finding_days (tenant, day);
-- events per tenant
CREATE TABLE event_counts (
    tenant text   COLLATE "C" NOT NULL,
    n      bigint NOT NULL
);
CREATE INDEX event_counts_by_tenant ON event_counts (tenant);

-- +goose StatementBegin
CREATE FUNCTION findings_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finding_counts (tenant, severity_id, product, party, n)
        SELECT tenant, severity_id, product, party, count(*) FROM new_rows GROUP BY tenant, severity_id, product, party;
    INSERT INTO finding_days (tenant, day, severity_id, n)
        SELECT tenant, (first_seen AT TIME ZONE 'UTC')::date, severity_id, count(*) FROM new_rows
        GROUP BY tenant, (first_seen AT TIME ZONE 'UTC')::date, severity_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION findings_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finding_counts (tenant, severity_id, product, party, n)
        SELECT tenant, severity_id, product, party, -count(*) FROM old_rows GROUP BY tenant, severity_id, product, party;
    INSERT INTO finding_days (tenant, day, severity_id, n)
        SELECT tenant, (first_seen AT TIME ZONE 'UTC')::date, severity_id, -count(*) FROM old_rows
        GROUP BY tenant, (first_seen AT TIME ZONE 'UTC')::date, severity_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- An update (a re-ingest, an attribution) moves a row from its old keys to
-- its new ones: -1 for each old row, +1 for each new one, summed by key;
-- the keys of rows that did not change sum to 0 and append nothing. (No
-- join of the old and new rows: transition tables have no statistics, and
-- the planner's nested loop over them is quadratic.)
-- +goose StatementBegin
CREATE FUNCTION findings_recounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finding_counts (tenant, severity_id, product, party, n)
        SELECT tenant, severity_id, product, party, sum(d) FROM (
            SELECT tenant, severity_id, product, party, -1 AS d FROM old_rows
            UNION ALL
            SELECT tenant, severity_id, product, party, 1 FROM new_rows
        ) c GROUP BY tenant, severity_id, product, party HAVING sum(d) <> 0;
    INSERT INTO finding_days (tenant, day, severity_id, n)
        SELECT tenant, day, severity_id, sum(d) FROM (
            SELECT tenant, (first_seen AT TIME ZONE 'UTC')::date AS day, severity_id, -1 AS d FROM old_rows
            UNION ALL
            SELECT tenant, (first_seen AT TIME ZONE 'UTC')::date, severity_id, 1 FROM new_rows
        ) c GROUP BY tenant, day, severity_id HAVING sum(d) <> 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION events_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_counts (tenant, n) SELECT tenant, count(*) FROM new_rows GROUP BY tenant;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION events_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_counts (tenant, n) SELECT tenant, -count(*) FROM old_rows GROUP BY tenant;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- A trigger with transition tables serves one event and takes no column
-- list, so findings_recounted runs for every update of findings (each
-- re-ingest) and appends nothing when no key changed. Events have no
-- update trigger: their only key, tenant, is part of their fingerprint and
-- no statement changes it, and such a trigger would capture every row of
-- every event re-ingest for nothing.
CREATE TRIGGER findings_counted AFTER INSERT ON findings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION findings_counted();
CREATE TRIGGER findings_uncounted AFTER DELETE ON findings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION findings_uncounted();
CREATE TRIGGER findings_recounted AFTER UPDATE ON findings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION findings_recounted();
CREATE TRIGGER events_counted AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_counted();
CREATE TRIGGER events_uncounted AFTER DELETE ON events REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_uncounted();

-- what the store held before this migration
INSERT INTO finding_counts (tenant, severity_id, product, party, n)
    SELECT tenant, severity_id, product, party, count(*) FROM findings GROUP BY tenant, severity_id, product, party;
INSERT INTO finding_days (tenant, day, severity_id, n)
    SELECT tenant, (first_seen AT TIME ZONE 'UTC')::date, severity_id, count(*) FROM findings
    GROUP BY tenant, (first_seen AT TIME ZONE 'UTC')::date, severity_id;
INSERT INTO event_counts (tenant, n) SELECT tenant, count(*) FROM events GROUP BY tenant;

-- the risk distribution of a tenant's issues is counted by score ranges
-- on this index
CREATE INDEX issue_risks_by_score ON issue_risks (tenant, score);

-- +goose Down
DROP INDEX issue_risks_by_score;
DROP TRIGGER events_uncounted ON events;
DROP TRIGGER events_counted ON events;
DROP TRIGGER findings_recounted ON findings;
DROP TRIGGER findings_uncounted ON findings;
DROP TRIGGER findings_counted ON findings;
DROP FUNCTION events_uncounted();
DROP FUNCTION events_counted();
DROP FUNCTION findings_recounted();
DROP FUNCTION findings_uncounted();
DROP FUNCTION findings_counted();
DROP TABLE event_counts;
DROP TABLE finding_days;
DROP TABLE finding_counts;
