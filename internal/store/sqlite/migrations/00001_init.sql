-- +goose Up
CREATE TABLE findings (
    id           INTEGER PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL UNIQUE,
    class_uid    INTEGER NOT NULL,
    severity_id  INTEGER NOT NULL,
    product      TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    source_uid   TEXT    NOT NULL,
    resource_uid TEXT    NOT NULL DEFAULT '',
    title        TEXT    NOT NULL DEFAULT '',
    time         INTEGER NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    count        INTEGER NOT NULL DEFAULT 1,
    doc_hash     INTEGER NOT NULL
);
-- the OCSF JSON lives apart, so that re-ingesting an unchanged record
-- rewrites only the small row above
CREATE TABLE finding_docs (
    id   INTEGER PRIMARY KEY,
    ocsf BLOB    NOT NULL
);
CREATE INDEX findings_by_severity ON findings (tenant, severity_id DESC, id);
CREATE INDEX findings_by_class ON findings (tenant, class_uid);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL UNIQUE,
    class_uid    INTEGER NOT NULL,
    severity_id  INTEGER NOT NULL,
    product      TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    source_uid   TEXT    NOT NULL,
    resource_uid TEXT    NOT NULL DEFAULT '',
    title        TEXT    NOT NULL DEFAULT '',
    time         INTEGER NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    count        INTEGER NOT NULL DEFAULT 1,
    doc_hash     INTEGER NOT NULL
);
-- the OCSF JSON lives apart, so that re-ingesting an unchanged record
-- rewrites only the small row above
CREATE TABLE event_docs (
    id   INTEGER PRIMARY KEY,
    ocsf BLOB    NOT NULL
);
CREATE INDEX events_by_time ON events (tenant, time DESC, id);

CREATE TABLE tokens (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE applied_batches (
    id         TEXT    PRIMARY KEY,
    applied_at INTEGER NOT NULL
);

CREATE TABLE jobs (
    id               TEXT    PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    format           TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    batches          INTEGER NOT NULL,
    batches_done     INTEGER NOT NULL DEFAULT 0,
    records          INTEGER NOT NULL DEFAULT 0,
    findings_new     INTEGER NOT NULL DEFAULT 0,
    findings_updated INTEGER NOT NULL DEFAULT 0,
    events           INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- +goose Down
DROP TABLE jobs;
DROP TABLE applied_batches;
DROP TABLE tokens;
DROP TABLE event_docs;
DROP TABLE events;
DROP TABLE finding_docs;
DROP TABLE findings;
