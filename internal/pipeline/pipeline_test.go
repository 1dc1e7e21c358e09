package pipeline_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

func newPipeline(t testing.TB) (*pipeline.Pipeline, *sqlite.Store) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "canopy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := pipeline.New(pipeline.Options{Store: s, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

func TestIngestTwiceDeduplicates(t *testing.T) {
	p, s := newPipeline(t)
	ctx := context.Background()
	data, err := os.ReadFile("testdata/image-alpine-3.10.json")
	if err != nil {
		t.Fatal(err)
	}
	r1, err := p.Ingest(ctx, pipeline.Input{Name: "a.json", R: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Format != "trivy" || r1.Records == 0 || r1.FindingsNew != r1.Records || r1.FindingsUpdated != 0 {
		t.Fatalf("first ingest = %+v", r1)
	}
	r2, err := p.Ingest(ctx, pipeline.Input{Name: "a.json", R: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if r2.FindingsNew != 0 || r2.FindingsUpdated != r1.Records {
		t.Fatalf("second ingest = %+v, want all updated", r2)
	}
	n, _, _ := s.Counts(ctx, "default")
	if int(n) != r1.Records {
		t.Errorf("findings = %d, want %d", n, r1.Records)
	}
	page, _ := s.Findings(ctx, store.Query{Tenant: "default"})
	for _, r := range page.Records {
		if r.Count != 2 {
			t.Errorf("finding %d count = %d, want 2", r.ID, r.Count)
		}
	}
	// another tenant gets its own copies
	r3, err := p.Ingest(ctx, pipeline.Input{Name: "a.json", Tenant: "other", R: bytes.NewReader(data)})
	if err != nil || r3.FindingsNew != r1.Records {
		t.Errorf("other tenant = %+v, %v", r3, err)
	}
}

func TestFailedInputWritesNothing(t *testing.T) {
	p, s := newPipeline(t)
	ctx := context.Background()
	data, _ := os.ReadFile("testdata/image-alpine-3.10.json")
	cut := data[:len(data)*3/4]
	_, err := p.Ingest(ctx, pipeline.Input{Name: "cut.json", R: bytes.NewReader(cut)})
	var re *ingest.RecordError
	if !errors.As(err, &re) || re.Record < 1 {
		t.Fatalf("err = %v, want a RecordError naming a record", err)
	}
	if !strings.HasPrefix(err.Error(), "ingest cut.json: trivy: record ") {
		t.Errorf("message %q does not name file, format and record", err)
	}
	if n, _, _ := s.Counts(ctx, "default"); n != 0 {
		t.Errorf("%d findings stored from a failed input", n)
	}
}

func TestUnknownContent(t *testing.T) {
	p, _ := newPipeline(t)
	_, err := p.Ingest(context.Background(), pipeline.Input{Name: "x", R: strings.NewReader(`{"hello":1}`)})
	if !errors.Is(err, ingest.ErrUnknownFormat) {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkIngestTrivy100k ingests a generated 100,000-vulnerability Trivy
// report into a fresh SQLite store, then again (all duplicates).
//
//	go test ./internal/pipeline -run XXX -bench IngestTrivy100k -benchtime 3x -count 3
func BenchmarkIngestTrivy100k(b *testing.B) {
	var buf bytes.Buffer
	ingesttest.TrivyReport(&buf, 100_000)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for _, phase := range []string{"new", "reingest"} {
		b.Run(phase, func(b *testing.B) {
			var total, elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "canopy.db"))
				if err != nil {
					b.Fatal(err)
				}
				p, _ := pipeline.New(pipeline.Options{Store: s})
				if phase == "reingest" {
					if _, err := p.Ingest(context.Background(), pipeline.Input{Name: "gen", R: bytes.NewReader(data)}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				res, err := p.Ingest(context.Background(), pipeline.Input{Name: "gen", R: bytes.NewReader(data)})
				elapsed = time.Since(start)
				total += elapsed
				b.StopTimer()
				if err != nil || res.Records != 100_000 {
					b.Fatalf("%+v %v", res, err)
				}
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(100_000*b.N)/total.Seconds(), "findings/s")
		})
	}
}

// TestWriteGeneratedReport writes the benchmark's generated report to the
// file named by $CANOPY_GEN_TRIVY (skipped otherwise), so that a whole
// `canopy ingest` run can be measured:
//
//	CANOPY_GEN_TRIVY=/tmp/trivy-100k.json go test ./internal/pipeline -run TestWriteGeneratedReport
//	/usr/bin/time -v canopy ingest --data /tmp/perf /tmp/trivy-100k.json
func TestWriteGeneratedReport(t *testing.T) {
	path := os.Getenv("CANOPY_GEN_TRIVY")
	if path == "" {
		t.Skip("CANOPY_GEN_TRIVY not set")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ingesttest.TrivyReport(w, 100_000)
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
}

// TestWriteGeneratedEvents writes n generated CloudTrail events (JSON Lines)
// to the file named by $CANOPY_GEN_CLOUDTRAIL (skipped otherwise), for the
// correlation benchmark:
//
//	CANOPY_GEN_CLOUDTRAIL=/tmp/ct-1m.jsonl go test ./internal/pipeline -run TestWriteGeneratedEvents
//	canopy ingest --data /tmp/corr /tmp/ct-1m.jsonl
//	/usr/bin/time -f "%e s %M KB" canopy incidents --data /tmp/corr --limit 5
func TestWriteGeneratedEvents(t *testing.T) {
	path := os.Getenv("CANOPY_GEN_CLOUDTRAIL")
	if path == "" {
		t.Skip("CANOPY_GEN_CLOUDTRAIL not set")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ingesttest.CloudTrailEvents(w, 1_000_000)
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
}
