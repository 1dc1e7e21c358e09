package inproc

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/canopy-sec/canopy/internal/bus"
)

// Options configures a [Queue]. The zero value is valid.
type Options struct {
	// Capacity bounds the batches held at once, queued or being handled
	// (including those waiting for a retry); Publish blocks while it is
	// reached. Default 64.
	Capacity int
	// Workers is how many handlers each Consume call runs concurrently.
	// Default 1.
	Workers int
	// MaxBatchBytes bounds a batch's encoded size ([bus.EncodedSize]), as
	// on the durable bus, so that what works here works there. Default
	// [bus.DefaultMaxBatchBytes].
	MaxBatchBytes int
	// RetryBackoff is the delay before a failed batch is delivered again;
	// it doubles with each failure of the batch, up to RetryBackoffMax.
	// Defaults 1s and 1 minute.
	RetryBackoff, RetryBackoffMax time.Duration
	// Logger receives the queue's logs; nil discards them.
	Logger *slog.Logger
}

// item is a batch on the queue with its delivery count.
type item struct {
	b        bus.Batch
	failures int
}

// Queue is the in-process [bus.Queue]: a bounded channel between the
// goroutines of one process. It is not durable: batches still queued when
// the process stops are lost.
type Queue struct {
	opts  Options
	log   *slog.Logger
	slots chan struct{} // one per batch held; bounds Publish
	items chan item     // capacity = Capacity: sending never blocks once a slot is held

	mu        sync.Mutex
	closed    bool
	closing   chan struct{} // closed by Close: consumers stop taking items
	consumers sync.WaitGroup
	timers    map[*time.Timer]struct{} // pending retries
}

// New returns an empty queue.
func New(opts Options) (*Queue, error) {
	for name, v := range map[string]int{"Capacity": opts.Capacity, "Workers": opts.Workers, "MaxBatchBytes": opts.MaxBatchBytes} {
		if v < 0 {
			return nil, fmt.Errorf("inproc: Options.%s is negative (%d)", name, v)
		}
	}
	if opts.RetryBackoff < 0 || opts.RetryBackoffMax < 0 {
		return nil, errors.New("inproc: Options.RetryBackoff and RetryBackoffMax must not be negative")
	}
	if opts.Capacity == 0 {
		opts.Capacity = 64
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	if opts.MaxBatchBytes == 0 {
		opts.MaxBatchBytes = bus.DefaultMaxBatchBytes
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = time.Second
	}
	if opts.RetryBackoffMax == 0 {
		opts.RetryBackoffMax = time.Minute
	}
	if opts.RetryBackoffMax < opts.RetryBackoff {
		opts.RetryBackoffMax = opts.RetryBackoff
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{
		opts:    opts,
		log:     log.With("component", "bus", "bus", "inproc"),
		slots:   make(chan struct{}, opts.Capacity),
		items:   make(chan item, opts.Capacity),
		closing: make(chan struct{}),
		timers:  map[*time.Timer]struct{}{},
	}, nil
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// Publish queues b, waiting for room while the queue is full. It returns
// once b is queued: in process memory, not on disk.
func (q *Queue) Publish(ctx context.Context, b bus.Batch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if n := bus.EncodedSize(b); n > q.opts.MaxBatchBytes {
		return fmt.Errorf("inproc: batch %s is %d bytes encoded, over MaxBatchBytes %d: %w", b.ID, n, q.opts.MaxBatchBytes, bus.ErrTooLarge)
	}
	if q.isClosed() {
		return bus.ErrClosed
	}
	select {
	case q.slots <- struct{}{}:
	case <-q.closing:
		return bus.ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("inproc: publishing batch %s: %w", b.ID, ctx.Err())
	}
	q.items <- item{b: b}
	return nil
}

// PublishAll publishes each batch in turn; Publish returns as soon as a
// batch is queued, so there is nothing to wait for in between.
func (q *Queue) PublishAll(ctx context.Context, batches iter.Seq[bus.Batch]) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inproc: %w", err)
	}
	for b := range batches {
		if err := q.Publish(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// Consume runs Options.Workers handlers until ctx is done or the queue is
// closed. A batch whose handler fails goes back on the queue after the
// retry backoff; one whose handler was interrupted by ctx goes back at
// once.
func (q *Queue) Consume(ctx context.Context, h bus.Handler) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return bus.ErrClosed
	}
	q.consumers.Add(1)
	q.mu.Unlock()
	defer q.consumers.Done()

	var wg sync.WaitGroup
	for range q.opts.Workers {
		wg.Go(func() { q.work(ctx, h) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

func (q *Queue) work(ctx context.Context, h bus.Handler) {
	for {
		// Stop first when asked to, so that a closing queue takes no more.
		select {
		case <-ctx.Done():
			return
		case <-q.closing:
			return
		default:
		}
		select {
		case <-ctx.Done():
			return
		case <-q.closing:
			return
		case it := <-q.items:
			q.handle(ctx, h, it)
		}
	}
}

func (q *Queue) handle(ctx context.Context, h bus.Handler, it item) {
	err := h(ctx, it.b)
	switch {
	case err == nil:
		<-q.slots // acknowledged: free its place
		q.log.Debug("batch done", "batch", it.b.ID, "tenant", it.b.Tenant)
	case errors.Is(err, bus.ErrPoison):
		<-q.slots
		q.log.Error("batch dropped", "batch", it.b.ID, "tenant", it.b.Tenant, "err", err)
	case ctx.Err() != nil:
		q.items <- it // interrupted: back at once, for the next consumer
	default:
		it.failures++
		d := backoff(q.opts.RetryBackoff, q.opts.RetryBackoffMax, it.failures)
		q.log.Warn("batch failed, will retry", "batch", it.b.ID, "tenant", it.b.Tenant, "failures", it.failures, "retry_in", d, "err", err)
		q.mu.Lock()
		var t *time.Timer
		t = time.AfterFunc(d, func() {
			q.mu.Lock()
			delete(q.timers, t)
			q.mu.Unlock()
			q.items <- it
		})
		q.timers[t] = struct{}{}
		q.mu.Unlock()
	}
}

// backoff returns base doubled failures-1 times, capped at max.
func backoff(base, max time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Close stops the consumers from taking batches, waits for the running
// handlers to return, and makes Consume return nil. Batches still queued
// are dropped, with a logged warning. Publish and Consume fail with
// [bus.ErrClosed] afterwards.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.closing)
	for t := range q.timers {
		t.Stop()
	}
	retrying := len(q.timers)
	q.mu.Unlock()
	q.consumers.Wait()
	if n := len(q.items) + retrying; n > 0 {
		q.log.Warn("queue closed with batches not handled", "batches", n)
	}
	return nil
}

// Ping reports whether the queue is open.
func (q *Queue) Ping(ctx context.Context) error {
	if q.isClosed() {
		return bus.ErrClosed
	}
	return nil
}
