-- +goose Up
-- the cloud inventory: one row per resource, the normalized resource as JSON
CREATE TABLE resources (
    tenant      text COLLATE "C" NOT NULL,
    key         text COLLATE "C" NOT NULL,
    provider    text COLLATE "C" NOT NULL,
    account     text COLLATE "C" NOT NULL,
    region      text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    uid         text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    source      text COLLATE "C" NOT NULL,
    observed_at bigint NOT NULL,
    updated_at  bigint NOT NULL,
    doc         json    NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX resources_by_type ON resources (tenant, type, key);
CREATE TABLE scans (
    id          text COLLATE "C" PRIMARY KEY,
    tenant      text COLLATE "C" NOT NULL,
    packs       text COLLATE "C" NOT NULL, -- JSON array
    started_at  bigint NOT NULL,
    finished_at bigint NOT NULL,
    resources   bigint NOT NULL,
    evaluated   bigint NOT NULL,
    passed      bigint NOT NULL,
    failed      bigint NOT NULL,
    errors      bigint NOT NULL,
    findings    bigint NOT NULL
);
-- the latest scan of each pack, per tenant
CREATE TABLE pack_scans (
    tenant text COLLATE "C" NOT NULL,
    pack   text COLLATE "C" NOT NULL,
    scan   text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, pack)
);
CREATE TABLE control_results (
    tenant        text COLLATE "C" NOT NULL,
    pack          text COLLATE "C" NOT NULL,
    control       text COLLATE "C" NOT NULL,
    rule_id       text COLLATE "C" NOT NULL,
    resource_key  text COLLATE "C" NOT NULL,
    resource_uid  text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    resource_name text COLLATE "C" NOT NULL,
    account       text COLLATE "C" NOT NULL,
    region        text COLLATE "C" NOT NULL,
    status        text COLLATE "C" NOT NULL,
    severity      text COLLATE "C" NOT NULL,
    message       text COLLATE "C" NOT NULL
);
CREATE INDEX control_results_by_pack ON control_results (tenant, pack, control);
CREATE TABLE evidence (
    tenant     text COLLATE "C" NOT NULL,
    pack       text COLLATE "C" NOT NULL,
    control    text COLLATE "C" NOT NULL,
    status     text COLLATE "C" NOT NULL,
    reference  text COLLATE "C" NOT NULL,
    by_whom    text COLLATE "C" NOT NULL,
    note       text COLLATE "C" NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (tenant, pack, control)
);

-- +goose Down
DROP TABLE evidence;
DROP TABLE control_results;
DROP TABLE pack_scans;
DROP TABLE scans;
DROP TABLE resources;
