package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/inproc"
	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

func waitJob(t *testing.T, s store.Jobs, tenant, id string) store.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := s.Job(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == store.JobDone {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not done: %+v", id, j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEnqueueAndApply ingests through a queue with two workers, then again,
// and checks a redelivered batch changes nothing.
func TestEnqueueAndApply(t *testing.T) {
	p, s := newPipeline(t)
	q, err := inproc.New(inproc.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var applied atomic.Int64
	var last atomic.Pointer[bus.Batch]
	go q.Consume(ctx, func(ctx context.Context, b bus.Batch) error {
		applied.Add(1)
		last.Store(&b)
		return pipeline.Apply(ctx, s, b)
	})
	data, _ := os.ReadFile("testdata/image-alpine-3.10.json")
	job, err := p.Enqueue(ctx, pipeline.Input{Name: "alpine.json", R: bytes.NewReader(data)}, s, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	if job.Batches < 1 || job.Format != "trivy" {
		t.Fatalf("job %+v", job)
	}
	done := waitJob(t, s, "default", job.ID)
	if done.Records != job.Records || done.FindingsNew != job.Records || done.BatchesDone != job.Batches {
		t.Fatalf("done job %+v, enqueued %+v", done, job)
	}
	job2, err := p.Enqueue(ctx, pipeline.Input{Name: "alpine.json", R: bytes.NewReader(data)}, s, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	done2 := waitJob(t, s, "default", job2.ID)
	if done2.FindingsNew != 0 || done2.FindingsUpdated != job.Records {
		t.Errorf("re-ingest job %+v", done2)
	}
	// a redelivery of an applied batch changes nothing
	if err := pipeline.Apply(ctx, s, *last.Load()); err != nil {
		t.Fatal(err)
	}
	page, _ := s.Findings(ctx, store.Query{Tenant: "default"})
	if len(page.Records) != job.Records {
		t.Fatalf("%d findings, want %d", len(page.Records), job.Records)
	}
	for _, r := range page.Records {
		if r.Count != 2 {
			t.Errorf("finding %d count %d, want 2", r.ID, r.Count)
		}
	}
}

// TestEnqueueBadInputPublishesNothing: a truncated input fails before any
// batch or job exists.
func TestEnqueueBadInputPublishesNothing(t *testing.T) {
	p, s := newPipeline(t)
	q, _ := inproc.New(inproc.Options{})
	var published atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Consume(ctx, func(ctx context.Context, b bus.Batch) error { published.Add(1); return nil })
	data, _ := os.ReadFile("testdata/image-alpine-3.10.json")
	_, err := p.Enqueue(ctx, pipeline.Input{Name: "cut.json", R: bytes.NewReader(data[:len(data)*3/4])}, s, q, 0)
	var re *ingest.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a RecordError", err)
	}
	time.Sleep(50 * time.Millisecond)
	if published.Load() != 0 {
		t.Errorf("%d batches published from a bad input", published.Load())
	}
}
