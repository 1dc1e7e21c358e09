-- +goose Up
-- the cloud inventory: one row per resource, the normalized resource as JSON
CREATE TABLE resources (
    tenant      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    uid         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    observed_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    doc         BLOB    NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX resources_by_type ON resources (tenant, type, key);
CREATE TABLE scans (
    id          TEXT    PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    packs       TEXT    NOT NULL, -- JSON array
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    resources   INTEGER NOT NULL,
    evaluated   INTEGER NOT NULL,
    passed      INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    errors      INTEGER NOT NULL,
    findings    INTEGER NOT NULL
);
-- the latest scan of each pack, per tenant
CREATE TABLE pack_scans (
    tenant TEXT NOT NULL,
    pack   TEXT NOT NULL,
    scan   TEXT NOT NULL,
    PRIMARY KEY (tenant, pack)
);
CREATE TABLE control_results (
    tenant        TEXT NOT NULL,
    pack          TEXT NOT NULL,
    control       TEXT NOT NULL,
    rule_id       TEXT NOT NULL,
    resource_key  TEXT NOT NULL,
    resource_uid  TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    status        TEXT NOT NULL,
    severity      TEXT NOT NULL,
    message       TEXT NOT NULL
);
CREATE INDEX control_results_by_pack ON control_results (tenant, pack, control);
CREATE TABLE evidence (
    tenant     TEXT    NOT NULL,
    pack       TEXT    NOT NULL,
    control    TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    reference  TEXT    NOT NULL,
    by_whom    TEXT    NOT NULL,
    note       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, pack, control)
);

-- +goose Down
DROP TABLE evidence;
DROP TABLE control_results;
DROP TABLE pack_scans;
DROP TABLE scans;
DROP TABLE resources;
