package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
)

// BenchmarkUpsert writes 100,000 findings of about 2.7 KB of OCSF JSON each
// (the size the Trivy mapping produces) in batches of 1,000 in one
// transaction, into a new database and again as duplicates; the same load
// as the SQLite store's BenchmarkUpsert. Each iteration gets a fresh
// database (not timed).
//
//	go test ./internal/store/postgres -run XXX -bench Upsert -benchtime 3x
func BenchmarkUpsert(b *testing.B) {
	const n = 100_000
	blob := []byte(`{"x":"` + strings.Repeat("a", 2700) + `"}`)
	rows := make([]store.Row, n)
	now := time.Now()
	for i := range rows {
		rows[i] = store.Row{Tenant: "default", Fingerprint: fmt.Sprintf("%032x", i*7919), ClassUID: 2002, SeverityID: i % 6,
			Product: "Trivy", Format: "trivy/1", SourceUID: fmt.Sprint(i), ResourceUID: "img", Title: "CVE", Time: now, Seen: now, OCSF: blob}
	}
	write := func(b *testing.B, s *postgres.Store) {
		ctx := context.Background()
		a, err := s.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i += 1000 {
			if _, err := a.UpsertFindings(ctx, rows[i:i+1000]); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	for _, phase := range []string{"new", "duplicates"} {
		b.Run(phase, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := open(b)
				if phase == "duplicates" {
					write(b, s)
				}
				b.StartTimer()
				write(b, s)
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
