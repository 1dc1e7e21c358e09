package bus_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/bustest"
	"github.com/canopy-sec/canopy/internal/bus/inproc"
)

// An ingest node cuts a job's rows into bounded batches and publishes
// them; a worker applies each batch and returns nil once it is committed.
func Example() {
	q, err := inproc.New(inproc.Options{})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Worker side: in Canopy the handler begins a store transaction,
	// claims b.ID, upserts b.Findings and b.Events, adds to the job,
	// commits, and returns nil (also when the claim says "already
	// applied", after rolling back).
	var mu sync.Mutex
	rows := 0
	done := make(chan struct{})
	go q.Consume(ctx, func(ctx context.Context, b bus.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		rows += b.Len()
		if b.Total > 0 && b.Seq == b.Total {
			close(done) // the last batch; batches arrive in order only here
		}
		return nil
	})

	// Ingest side: 2500 rows of about 2.7 KB of OCSF each.
	sp, err := bus.NewSplitter(bus.SplitOptions{JobID: "job-1", Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	err = q.PublishAll(ctx, func(yield func(bus.Batch) bool) {
		for _, r := range bustest.Rows(1, "acme", 2500, 2700) {
			b, ok, err := sp.Add(r, true)
			if err != nil {
				panic(err) // a single row over the size bound: report it
			}
			if ok && !yield(b) {
				return
			}
		}
		if b, ok := sp.Flush(); ok {
			yield(b)
		}
	})
	if err != nil {
		panic(err)
	}
	<-done
	q.Close()
	fmt.Println(sp.Batches(), "batches,", rows, "rows")
	// Output: 7 batches, 2500 rows
}
