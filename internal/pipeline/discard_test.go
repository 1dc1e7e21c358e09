package pipeline_test

import (
	"bytes"
	"context"
	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"testing"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

type discard struct{ bytes int }

func (d *discard) Begin(context.Context) (store.Appender, error) { return d, nil }
func (d *discard) UpsertFindings(_ context.Context, rows []store.Row) (store.UpsertResult, error) {
	for _, r := range rows {
		d.bytes += len(r.OCSF)
	}
	return store.UpsertResult{New: len(rows)}, nil
}
func (d *discard) UpsertEvents(_ context.Context, rows []store.Row) (store.UpsertResult, error) {
	return store.UpsertResult{New: len(rows)}, nil
}
func (d *discard) Commit() error   { return nil }
func (d *discard) Rollback() error { return nil }

// BenchmarkDecodeOnly measures decode, map, fingerprint and marshal without a store.
func BenchmarkDecodeOnly(b *testing.B) {
	var buf bytes.Buffer
	ingesttest.TrivyReport(&buf, 100_000)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	d := &discard{}
	p, _ := pipeline.New(pipeline.Options{Store: d})
	for b.Loop() {
		d.bytes = 0
		if _, err := p.Ingest(context.Background(), pipeline.Input{Name: "gen", R: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "findings/s")
	b.ReportMetric(float64(d.bytes)/100_000, "ocsf-bytes/finding")
}
func (d *discard) Claim(context.Context, string) (bool, error) { return true, nil }
func (d *discard) AddToJob(context.Context, string, store.JobProgress) error {
	return nil
}
