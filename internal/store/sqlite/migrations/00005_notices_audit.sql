-- +goose Up
-- notices (internal/notify): the columns Due and List select and sort on,
-- the whole notice as JSON in doc; times in nanoseconds since 1970, NULL
-- for a zero time
CREATE TABLE notices (
    id           TEXT    PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    party        TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    severity     TEXT    NOT NULL,
    contact      TEXT    NOT NULL,
    created_at   INTEGER,
    notified_at  INTEGER,
    deadline     INTEGER,
    delivered_at INTEGER,
    doc          BLOB    NOT NULL
);
CREATE INDEX notices_by_tenant ON notices (tenant, created_at);
CREATE INDEX notices_open ON notices (notified_at, id) WHERE state = 'open';
-- the audit chains (internal/audit), one per tenant: every field as the
-- entry was hashed; time in microseconds since 1970
CREATE TABLE audit_entries (
    tenant       TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    time         INTEGER NOT NULL,
    entry_tenant TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    object       TEXT    NOT NULL,
    details      BLOB,
    prev         BLOB    NOT NULL,
    hash         BLOB    NOT NULL,
    sig          BLOB,
    PRIMARY KEY (tenant, seq)
);

-- +goose Down
DROP TABLE audit_entries;
DROP TABLE notices;
