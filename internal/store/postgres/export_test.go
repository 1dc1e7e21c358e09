package postgres

import (
	"context"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// SetCompactAfter makes Stats compact a counter of more than n delta rows.
func SetCompactAfter(s *Store, n int64) { s.compactAfter = n }

// DeltaRows returns how many delta rows the tenant has in a counter table.
func DeltaRows(s *Store, table, tenant string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE tenant = $1", tenant).Scan(&n)
	return n, err
}

// MigrateTo brings the database at url to the schema of a migration
// version, for a test to fill as an older Canopy did.
func MigrateTo(ctx context.Context, url string, version int64) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// VacuumAnalyze vacuums and analyses the whole database, as autovacuum
// would in time.
func VacuumAnalyze(ctx context.Context, s *Store) error {
	_, err := s.pool.Exec(ctx, "VACUUM (ANALYZE)")
	return err
}

// SetRiskWalk makes listings by risk walk at most n issues in score order,
// until the returned function restores the walk.
func SetRiskWalk(n int) (restore func()) {
	old := riskWalk
	riskWalk = n
	return func() { riskWalk = old }
}
