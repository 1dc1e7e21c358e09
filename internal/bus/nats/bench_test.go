package nats_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/bustest"
)

// BenchmarkJetStream publishes 100k rows (about 2.7 KB of OCSF each), cut
// by a Splitter into batches of at most 1000 rows and DefaultMaxBatchBytes
// (so about 380 rows, 1 MiB, a message), with PublishAll, while 1 or 2
// consumers (each its own connection, like separate processes, one handler
// each) decode them; one op is the whole 100k rows, published and
// consumed. The handler only counts rows, so the figures are the bus's
// ceiling, not the store's. Against the local nats-server:
//
//	go test ./internal/bus/nats -run '^$' -bench JetStream -benchtime 5x -count 3
func BenchmarkJetStream(b *testing.B) {
	const rows, perBatch = 100_000, 1000
	tmpl := bustest.Rows(1, "acme", perBatch, 2700)
	for _, consumers := range []int{1, 2} {
		b.Run(fmt.Sprintf("consumers=%d", consumers), func(b *testing.B) {
			n := newNames(b)
			o := n.options()
			o.PollWait = time.Second
			pub := open(b, o)
			var got atomic.Int64
			target := make(chan struct{}, 1)
			var want atomic.Int64
			handler := func(_ context.Context, bt bus.Batch) error {
				if got.Add(int64(bt.Len())) == want.Load() {
					target <- struct{}{}
				}
				return nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range consumers {
				go open(b, o).Consume(ctx, handler)
			}
			var bytes, pubTime, batches int64
			run := 0
			b.ReportAllocs()
			for b.Loop() {
				run++
				want.Add(rows)
				start := time.Now()
				sp, err := bus.NewSplitter(bus.SplitOptions{JobID: fmt.Sprintf("bench-%d", run), Tenant: "acme", MaxRows: perBatch, MaxBatchBytes: pub.MaxBatchBytes()})
				if err != nil {
					b.Fatal(err)
				}
				var sent, made int64
				err = pub.PublishAll(context.Background(), func(yield func(bus.Batch) bool) {
					for i := range rows {
						bt, ok, err := sp.Add(tmpl[i%perBatch], true)
						if err != nil {
							b.Error(err)
							return
						}
						if ok {
							sent += int64(bus.EncodedSize(bt))
							made++
							if !yield(bt) {
								return
							}
						}
					}
					if bt, ok := sp.Flush(); ok {
						sent += int64(bus.EncodedSize(bt))
						made++
						yield(bt)
					}
				})
				if err != nil {
					b.Fatal(err)
				}
				pubTime += int64(time.Since(start))
				bytes, batches = sent, made
				<-target
			}
			b.SetBytes(bytes)
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(rows*run)/sec, "rows/s")
			b.ReportMetric(float64(rows*run)/time.Duration(pubTime).Seconds(), "publish-rows/s")
			b.ReportMetric(float64(rows)/float64(batches), "rows/batch")
		})
	}
}
