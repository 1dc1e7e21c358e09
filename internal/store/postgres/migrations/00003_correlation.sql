-- +goose Up
-- The same logical schema as SQLite's 00003. Times in these tables are
-- milliseconds since the epoch (bigint): the entity index is the largest
-- of them and is compared on time ranges only.
CREATE TABLE correlation_state (
    tenant  text   COLLATE "C" PRIMARY KEY,
    records bigint NOT NULL
);
-- records waiting for correlation, added by the upsert that stores them
CREATE TABLE correlation_queue (
    tenant text   COLLATE "C" NOT NULL,
    ref    bigint NOT NULL,
    PRIMARY KEY (tenant, ref)
);
CREATE TABLE entities (
    tenant text   COLLATE "C" NOT NULL,
    hash   bigint NOT NULL,
    kind   text   NOT NULL,
    value  text   NOT NULL,
    refs   bigint NOT NULL,
    PRIMARY KEY (tenant, hash)
);
-- ref: a finding's id, or an event's id negated
CREATE TABLE entity_refs (
    tenant text   COLLATE "C" NOT NULL,
    hash   bigint NOT NULL,
    time   bigint NOT NULL,
    ref    bigint NOT NULL,
    PRIMARY KEY (tenant, hash, time, ref)
);
CREATE TABLE incidents (
    tenant      text    COLLATE "C" NOT NULL,
    id          text    COLLATE "C" NOT NULL,
    title       text    NOT NULL,
    risk        integer NOT NULL,
    severity_id integer NOT NULL,
    tactics     integer NOT NULL,
    members     integer NOT NULL,
    first_seen  bigint  NOT NULL,
    last_seen   bigint  NOT NULL,
    updated_at  bigint  NOT NULL,
    doc         json    NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX incidents_by_risk ON incidents (tenant, risk DESC, last_seen DESC);
-- pos: the member's place in the incident's time order
CREATE TABLE incident_members (
    tenant   text   COLLATE "C" NOT NULL,
    ref      bigint NOT NULL,
    incident text   COLLATE "C" NOT NULL,
    pos      bigint NOT NULL,
    PRIMARY KEY (tenant, ref)
);
CREATE INDEX incident_members_by_incident ON incident_members (tenant, incident, pos);
CREATE TABLE issue_risks (
    tenant    text    COLLATE "C" NOT NULL,
    issue_key text    COLLATE "C" NOT NULL,
    score     integer NOT NULL,
    doc       json    NOT NULL,
    PRIMARY KEY (tenant, issue_key)
);

-- +goose Down
DROP TABLE issue_risks;
DROP TABLE incident_members;
DROP TABLE incidents;
DROP TABLE entity_refs;
DROP TABLE entities;
DROP TABLE correlation_queue;
DROP TABLE correlation_state;
