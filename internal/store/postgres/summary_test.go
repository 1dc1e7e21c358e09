package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

// TestStatsUnderConcurrency runs ingest workers with overlapping findings
// (their severities differ, so re-ingests move counts), an attributing
// writer, and readers that compact the counters after almost every read,
// all at once. In the end the counters must agree with the findings
// themselves.
//
// An upsert and an attribution lock the same findings in different orders
// and may deadlock (with or without counters): the loser is retried, as a
// bus worker retries a batch, and its deltas must vanish with it. Readers
// and compactions never fail.
func TestStatsUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	defer s.Close()
	postgres.SetCompactAfter(s, 3)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	products := []string{"Trivy", "Inspector", "Prowler"}
	mk := func(worker, i int) store.Row {
		sev := 1 + (i+worker)%5
		return store.Row{Tenant: "t", Fingerprint: fmt.Sprintf("fp%04d", i), ClassUID: 2002, SeverityID: sev, Product: products[i%3],
			Format: "x/1", SourceUID: fmt.Sprint(i), Title: "x", Time: t0, Seen: t0.AddDate(0, 0, i%4),
			OCSF: fmt.Appendf(nil, `{"severity_id":%d,"w":%d}`, sev, worker)}
	}
	const workers, batches, size = 3, 20, 40
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				var rows []store.Row
				for i := range size {
					rows = append(rows, mk(w, (b*size+i*7+w*13)%(batches*size/2)))
				}
				if err := retry(func() error {
					_, err := applyBatch(ctx, s, fmt.Sprintf("w%d-%d", w, b), rows)
					return err
				}); err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Go(func() { // attributes what exists now and then
		parties := []string{"customer", "provider", "shared"}
		for i := 0; i < 30; i++ {
			p, err := s.Findings(ctx, store.Query{Tenant: "t", Limit: 50})
			if err != nil {
				errs <- err
				return
			}
			var rows []store.Attribution
			for j, r := range p.Records {
				rows = append(rows, store.Attribution{ID: r.ID, Party: parties[(i+j)%3], Doc: json.RawMessage(`{}`)})
			}
			if err := retry(func() error { return s.SetAttributions(ctx, "t", rows) }); err != nil {
				errs <- fmt.Errorf("attributing: %w", err)
				return
			}
		}
	})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Stats(ctx, "t", t0); err != nil {
					errs <- fmt.Errorf("reading: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Stats(ctx, "t", t0)
	if err != nil {
		t.Fatal(err)
	}
	got.Issues, got.RiskBuckets = 0, [10]int64{}
	want := storetest.TallyStats(t, s, "t", t0)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Stats =\n%+v\ncounted from the findings:\n%+v", got, want)
	}
	if want.Findings != batches*size/2 {
		t.Errorf("%d findings, want %d", want.Findings, batches*size/2)
	}
	// the last reads compacted: one row a key is left
	if _, err := s.Stats(ctx, "t", t0); err != nil {
		t.Fatal(err)
	}
	for _, tb := range []string{"finding_counts", "finding_days"} {
		n, err := postgres.DeltaRows(s, tb, "t")
		if err != nil {
			t.Fatal(err)
		}
		if n > 5*3*4 {
			t.Errorf("%s: %d delta rows after compaction, more than its keys", tb, n)
		}
	}
}

// retry runs fn again while it loses a deadlock, at most 10 times.
func retry(fn func() error) error {
	var err error
	for range 10 {
		if err = fn(); err == nil || !strings.Contains(err.Error(), "40P01") {
			return err
		}
	}
	return err
}

// TestCountersBackfilled: the migration that adds the counters counts the
// findings and events stored before it.
func TestCountersBackfilled(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if err := postgres.MigrateTo(ctx, url, 8); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 2, 1, 23, 0, 0, 0, time.UTC)
	for i := range 40 {
		seen := t0.Add(time.Duration(i) * 3 * time.Hour)
		tenant := []string{"a", "b"}[i%2]
		for _, table := range []string{"findings", "events"} {
			if _, err := c.Exec(ctx, "INSERT INTO "+table+" (id, tenant, fingerprint, class_uid, severity_id, product, format, source_uid, time, first_seen, last_seen, doc_hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9,$9,0)",
				i+1, tenant, fmt.Sprint("fp", i), 2002, i%6, []string{"Trivy", "Prowler", "Inspector"}[i%3], "x/1", "s", seen); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, "INSERT INTO "+table[:len(table)-1]+"_docs (id, ocsf) VALUES ($1, '{}')", i+1); err != nil {
				t.Fatal(err)
			}
		}
		if i%4 == 0 {
			if _, err := c.Exec(ctx, "UPDATE findings SET party = 'customer' WHERE id = $1", i+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Close(ctx)
	s, err := postgres.Open(ctx, url)
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
