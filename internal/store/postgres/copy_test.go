package postgres_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

// TestCopyAcrossBackends copies a filled store to the other backend and
// back, through store.Exporter and store.Importer, and compares contents.
func TestCopyAcrossBackends(t *testing.T) {
	ctx := context.Background()
	openSQLite := func(t *testing.T) store.Store {
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "canopy.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	openPG := func(t *testing.T) store.Store { return open(t) }
	tests := []struct {
		name string
		path []func(*testing.T) store.Store
	}{
		{"sqlite-postgres-sqlite", []func(*testing.T) store.Store{openSQLite, openPG, openSQLite}},
		{"postgres-sqlite-postgres", []func(*testing.T) store.Store{openPG, openSQLite, openPG}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := tt.path[0](t)
			defer first.Close()
			storetest.Fill(t, first)
			src := first
			for _, open := range tt.path[1:] {
				dst := open(t)
				defer dst.Close()
				copyStore(t, src.(store.Exporter), dst.(store.Importer))
				storetest.SameContents(t, first, dst)
				src = dst
			}
		})
	}
}

func copyStore(t *testing.T, src store.Exporter, dst store.Importer) {
	t.Helper()
	ctx := context.Background()
	l, err := dst.Import(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Export(ctx, func(r store.TableRows) error { return l.Load(ctx, r) }); err != nil {
		l.Rollback(ctx)
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want, _ := src.TableCounts(ctx)
	got, _ := dst.TableCounts(ctx)
	for _, tb := range store.Tables() {
		if want[tb] != got[tb] {
			t.Errorf("%s: %d rows copied to %d", tb, want[tb], got[tb])
		}
	}
}
