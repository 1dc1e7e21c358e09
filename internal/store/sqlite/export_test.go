package sqlite

import (
	"context"
	"database/sql"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// MigrateTo brings a new database at path to the schema of a migration
// version, and returns it open, for a test to fill as an older Canopy did.
func MigrateTo(ctx context.Context, path string, version int64) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return nil, err
	}
	_, err = p.UpTo(ctx, version)
	return db, err
}

// SetRiskWalk makes listings by risk walk at most n issues in score order,
// until the returned function restores the walk.
func SetRiskWalk(n int) (restore func()) {
	old := riskWalk
	riskWalk = n
	return func() { riskWalk = old }
}
