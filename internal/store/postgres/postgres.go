package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/canopy-sec/canopy/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the session advisory lock that serializes migrations
// when several Canopy processes start at once; any constant works as long as
// nothing else in the database uses it.
const migrationLockID int64 = 0x2a9c1f37

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// conn is the connection string, kept only to remove its passwords
	// from error messages; never logged or returned.
	conn string
	// compactAfter is how many delta rows of a counter make Stats compact
	// them (defaultCompactAfter; tests lower it).
	compactAfter int64
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Exporter = (*Store)(nil)
	_ store.Importer = (*Store)(nil)
)

// Open connects to the database named by conn (a postgres:// URL, or a
// keyword/value string; pgxpool parameters such as pool_max_conns are
// honoured), brings its schema up to date and opens the connection pool.
// Migrations run first, on a connection of their own under an advisory
// lock, so that several processes may start at once and the pool never
// caches statements described against an older schema. Errors never quote
// a password.
func Open(ctx context.Context, conn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid connection string: %w", scrub(err, conn))
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "canopy"
	}
	if err := migrate(ctx, cfg.ConnConfig.Copy()); err != nil {
		return nil, fmt.Errorf("postgres: opening %s: %w", Redact(conn), scrub(err, conn))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting to %s: %w", Redact(conn), scrub(err, conn))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting to %s: %w", Redact(conn), scrub(err, conn))
	}
	return &Store{pool: pool, conn: conn, compactAfter: defaultCompactAfter}, nil
}

// migrate applies the embedded migrations through database/sql on its own
// connections, which are closed before the serving pool opens.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) (err error) {
	db := stdlib.OpenDB(*cfg)
	defer func() { err = errors.Join(err, db.Close()) }()
	var enc string
	if err := db.QueryRowContext(ctx, "SHOW server_encoding").Scan(&enc); err != nil {
		return err
	}
	if enc != "UTF8" {
		return fmt.Errorf("the database's encoding is %s; Canopy needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')", enc)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	if _, err = p.Up(ctx); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", s.scrub(err))
	}
	return nil
}

// Close closes the pool. It waits until every transaction begun with
// [Store.Begin] or [Store.Import] has ended with Commit or Rollback.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// scrub removes the connection's passwords from an error's message.
func (s *Store) scrub(err error) error { return scrub(err, s.conn) }

// ms truncates t to what the store keeps: milliseconds, in UTC.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
