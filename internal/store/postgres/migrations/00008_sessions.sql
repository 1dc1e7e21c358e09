-- +goose Up
-- The same logical schema as SQLite's 00008.
CREATE TABLE sessions (
    hash       text        COLLATE "C" PRIMARY KEY,
    kind       text        COLLATE "C" NOT NULL CHECK (kind IN ('session', 'link')),
    token_hash text        COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
