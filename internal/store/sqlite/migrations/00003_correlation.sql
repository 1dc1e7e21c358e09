-- +goose Up
-- how far each tenant's records are correlated
CREATE TABLE correlation_state (
    tenant  TEXT    PRIMARY KEY,
    records INTEGER NOT NULL
);
-- records waiting for correlation, added by the upsert that stores them
-- (ref: a finding's id, or an event's id negated)
CREATE TABLE correlation_queue (
    tenant TEXT    NOT NULL,
    ref    INTEGER NOT NULL,
    PRIMARY KEY (tenant, ref)
) WITHOUT ROWID;
-- the entity index: which records name which entity, and how many do
CREATE TABLE entities (
    tenant TEXT    NOT NULL,
    hash   INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    refs   INTEGER NOT NULL,
    PRIMARY KEY (tenant, hash)
) WITHOUT ROWID;
-- ref: a finding's id, or an event's id negated
CREATE TABLE entity_refs (
    tenant TEXT    NOT NULL,
    hash   INTEGER NOT NULL,
    time   INTEGER NOT NULL,
    ref    INTEGER NOT NULL,
    PRIMARY KEY (tenant, hash, time, ref)
) WITHOUT ROWID;
CREATE TABLE incidents (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    risk        INTEGER NOT NULL,
    severity_id INTEGER NOT NULL,
    tactics     INTEGER NOT NULL,
    members     INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    doc         BLOB    NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX incidents_by_risk ON incidents (tenant, risk DESC, last_seen DESC);
-- pos: the member's place in the incident's time order
CREATE TABLE incident_members (
    tenant   TEXT    NOT NULL,
    ref      INTEGER NOT NULL,
    incident TEXT    NOT NULL,
    pos      INTEGER NOT NULL,
    PRIMARY KEY (tenant, ref)
) WITHOUT ROWID;
CREATE INDEX incident_members_by_incident ON incident_members (tenant, incident, pos);
CREATE TABLE issue_risks (
    tenant    TEXT    NOT NULL,
    issue_key TEXT    NOT NULL,
    score     INTEGER NOT NULL,
    doc       BLOB    NOT NULL,
    PRIMARY KEY (tenant, issue_key)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE issue_risks;
DROP TABLE incident_members;
DROP TABLE incidents;
DROP TABLE entity_refs;
DROP TABLE entities;
DROP TABLE correlation_queue;
DROP TABLE correlation_state;
