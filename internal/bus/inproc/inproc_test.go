package inproc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/bustest"
	"github.com/canopy-sec/canopy/internal/bus/inproc"
)

func newQueue(t *testing.T, opts inproc.Options) *inproc.Queue {
	t.Helper()
	q, err := inproc.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestQueue(t *testing.T) {
	bustest.Run(t, func(t *testing.T) bus.Queue {
		return newQueue(t, inproc.Options{RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 50 * time.Millisecond})
	})
}

func TestPublishBlocksWhenFull(t *testing.T) {
	q := newQueue(t, inproc.Options{Capacity: 2})
	b := func(seq int) bus.Batch {
		return bus.Batch{ID: "j/" + string(rune('0'+seq)), JobID: "j", Tenant: "t", Seq: seq}
	}
	ctx := context.Background()
	for i := range 2 {
		if err := q.Publish(ctx, b(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := q.Publish(short, b(3)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish on a full queue: %v, want it to block until the deadline", err)
	}
	// Taking one batch and acknowledging it makes room.
	got := make(chan bus.Batch, 3)
	go q.Consume(ctx, func(_ context.Context, b bus.Batch) error { got <- b; return nil })
	if err := q.Publish(ctx, b(3)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		<-got
	}
}

func TestWorkersRunConcurrently(t *testing.T) {
	q := newQueue(t, inproc.Options{Workers: 3})
	ctx := context.Background()
	in := make(chan struct{})
	release := make(chan struct{})
	go q.Consume(ctx, func(context.Context, bus.Batch) error {
		in <- struct{}{}
		<-release
		return nil
	})
	for i := range 3 {
		if err := q.Publish(ctx, bus.Batch{ID: "w/" + string(rune('1'+i)), JobID: "w", Tenant: "t", Seq: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		<-in // three handlers are running at once
	}
	close(release)
}

func TestOptionsValidated(t *testing.T) {
	if _, err := inproc.New(inproc.Options{Workers: -1}); err == nil {
		t.Error("negative Workers accepted")
	}
}
