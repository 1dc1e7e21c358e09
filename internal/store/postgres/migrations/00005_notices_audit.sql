-- +goose Up
-- notices (internal/notify): the columns Due and List select and sort on,
-- the whole notice as JSON in doc; times in nanoseconds since 1970, NULL
-- for a zero time
CREATE TABLE notices (
    id           text COLLATE "C" PRIMARY KEY,
    tenant       text COLLATE "C" NOT NULL,
    party        text COLLATE "C" NOT NULL,
    state        text COLLATE "C" NOT NULL,
    severity     text COLLATE "C" NOT NULL,
    contact      text COLLATE "C" NOT NULL,
    created_at   bigint,
    notified_at  bigint,
    deadline     bigint,
    delivered_at bigint,
    doc          json   NOT NULL
);
CREATE INDEX notices_by_tenant ON notices (tenant, created_at DESC NULLS LAST);
CREATE INDEX notices_open ON notices (notified_at NULLS FIRST, id) WHERE state = 'open';
-- the audit chains (internal/audit), one per tenant: every field as the
-- entry was hashed (details as bytes, never jsonb); time in microseconds
-- since 1970
CREATE TABLE audit_entries (
    tenant       text COLLATE "C" NOT NULL,
    seq          bigint NOT NULL,
    time         bigint NOT NULL,
    entry_tenant text COLLATE "C" NOT NULL,
    actor        text COLLATE "C" NOT NULL,
    action       text COLLATE "C" NOT NULL,
    object       text COLLATE "C" NOT NULL,
    details      bytea,
    prev         bytea  NOT NULL,
    hash         bytea  NOT NULL,
    sig          bytea,
    PRIMARY KEY (tenant, seq)
);

-- +goose Down
DROP TABLE audit_entries;
DROP TABLE notices;
