package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store/sqlite"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

// TestCountersBackfilled: the migration that adds the counters counts the
// findings and events stored before it.
func TestCountersBackfilled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "canopy.db")
	db, err := sqlite.MigrateTo(ctx, path, 8)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 2, 1, 23, 0, 0, 0, time.UTC)
	for i := range 40 {
		seen := t0.Add(time.Duration(i) * 3 * time.Hour).UnixMilli()
		tenant := []string{"a", "b"}[i%2]
		for _, table := range []string{"findings", "events"} {
			if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id, tenant, fingerprint, class_uid, severity_id, product, format, source_uid, time, first_seen, last_seen, doc_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
				i+1, tenant, fmt.Sprint("fp", i), 2002, i%6, []string{"Trivy", "Prowler", "Inspector"}[i%3], "x/1", "s", seen, seen, seen, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+table[:len(table)-1]+"_docs (id, ocsf) VALUES (?, '{}')", i+1); err != nil {
				t.Fatal(err)
			}
		}
		if i%4 == 0 {
			if _, err := db.ExecContext(ctx, "UPDATE findings SET party = 'customer' WHERE id = ?", i+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	db.Close()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tenant := range []string{"a", "b"} {
		got, err := s.Stats(ctx, tenant, t0.AddDate(0, 0, 2))
		if err != nil {
			t.Fatal(err)
		}
		want := storetest.TallyStats(t, s, tenant, t0.AddDate(0, 0, 2))
		if fmt.Sprint(got) != fmt.Sprint(want) || got.Findings != 20 || got.Events != 20 {
			t.Errorf("tenant %s: Stats = %+v, counted from the records %+v", tenant, got, want)
		}
	}
}
