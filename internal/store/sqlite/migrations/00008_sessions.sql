-- +goose Up
-- the web console's sign-in sessions and one-time sign-in links; hash is
-- the hex SHA-256 of the secret, token_hash the API token's hash; times in
-- milliseconds since 1970. Not tenant data: never exported or copied.
CREATE TABLE sessions (
    hash       TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('session', 'link')),
    token_hash TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
