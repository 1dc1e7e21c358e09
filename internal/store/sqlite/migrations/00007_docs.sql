-- +goose Up
-- small JSON documents of a kind per tenant (the response engine's runs,
-- approvals, cases, record states)
CREATE TABLE docs (
    kind    TEXT    NOT NULL,
    tenant  TEXT    NOT NULL,
    id      TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    doc     BLOB    NOT NULL,
    PRIMARY KEY (kind, tenant, id)
);
CREATE INDEX docs_in_order ON docs (kind, tenant, seq);

-- +goose Down
DROP TABLE docs;
