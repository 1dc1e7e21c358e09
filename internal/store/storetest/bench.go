package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// BenchUpsert is the store benchmark every implementation runs: 100,000
// findings of about 2.7 KB of OCSF JSON each (the size the Trivy mapping
// produces) written in batches of 1,000 in one transaction, into a new
// store ("new") and again as duplicates ("duplicates"). open must return a
// new, empty store; it is not timed.
func BenchUpsert(b *testing.B, open func(b *testing.B) store.Store) {
	const n = 100_000
	blob := []byte(`{"x":"` + strings.Repeat("a", 2700) + `"}`)
	rows := make([]store.Row, n)
	now := time.Now()
	for i := range rows {
		rows[i] = store.Row{Tenant: "default", Fingerprint: fmt.Sprintf("%032x", i*7919), ClassUID: 2002, SeverityID: i % 6,
			Product: "Trivy", Format: "trivy/1", SourceUID: fmt.Sprint(i), ResourceUID: "img", Title: "CVE", Time: now, Seen: now, OCSF: blob}
	}
	write := func(b *testing.B, s store.Store) {
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
