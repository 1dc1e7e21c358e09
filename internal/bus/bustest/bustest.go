package bustest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/store"
)

// wait bounds every wait in the suite; reaching it means a hang, not
// slowness.
const wait = 60 * time.Second

// Run runs the suite. The suite consumes while it publishes more than a few
// batches, so queues may bound what they hold. newQueue must return a new,
// empty queue for each call,
// configured with one handler per Consume call, a retry backoff of at most
// 100ms, and the default batch size bound ([bus.DefaultMaxBatchBytes]).
// The suite closes the queues it gets.
func Run(t *testing.T, newQueue func(t *testing.T) bus.Queue) {
	tests := []struct {
		name string
		fn   func(t *testing.T, q bus.Queue)
	}{
		{"RoundTrip", testRoundTrip},
		{"RejectsInvalid", testRejects},
		{"PublishAll", testPublishAll},
		{"PublishAllStopsAtFailure", testPublishAllStops},
		{"AckOnlyAfterSuccess", testRetry},
		{"PoisonIsDropped", testPoison},
		{"TwoConsumersShare", testTwoConsumers},
		{"LargeBatches", testLarge},
		{"CloseDrains", testCloseDrains},
		{"CancelRedelivers", testCancel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(t)
			t.Cleanup(func() { q.Close() })
			tt.fn(t, q)
		})
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 600_000_007, time.UTC)

func batch(job string, seq int, rows ...store.Row) bus.Batch {
	return bus.Batch{ID: job + "/" + strconv.Itoa(seq), JobID: job, Tenant: "acme", Seq: seq, Findings: rows}
}

// recorder collects what handlers saw.
type recorder struct {
	mu      sync.Mutex
	calls   map[string]int // handler calls per batch id
	got     map[string]bus.Batch
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]int{}, got: map[string]bus.Batch{}, changed: make(chan struct{}, 1)}
}

// record notes a call and returns how many calls the batch had, this one
// included.
func (r *recorder) record(b bus.Batch, ok bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[b.ID]++
	if ok {
		if _, dup := r.got[b.ID]; dup {
			r.got[b.ID+"#dup"] = b
		}
		r.got[b.ID] = b
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return r.calls[b.ID]
}

// waitFor waits until cond holds (under the lock) or fails the test.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (r *recorder) waitAll(t *testing.T, ids ...string) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("%d batches", len(ids)), func() bool {
		for _, id := range ids {
			if _, ok := r.got[id]; !ok {
				return false
			}
		}
		return true
	})
}

// consume runs q.Consume in the background until the test ends; the
// returned function stops it and returns Consume's error.
func consume(t *testing.T, q bus.Queue, h bus.Handler) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, h) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(wait):
				err = errors.New("Consume did not return after its context was cancelled")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func publish(t *testing.T, q bus.Queue, bs ...bus.Batch) {
	t.Helper()
	for _, b := range bs {
		if err := q.Publish(context.Background(), b); err != nil {
			t.Fatalf("Publish %s: %v", b.ID, err)
		}
	}
}

// Diff returns "" when a and b carry the same batch, else what differs.
// Nil and empty slices are equal; times compare as instants.
func Diff(a, b bus.Batch) string {
	if a.ID != b.ID || a.JobID != b.JobID || a.Tenant != b.Tenant || a.Seq != b.Seq || a.Total != b.Total {
		return fmt.Sprintf("header %q %q %q %d/%d, want %q %q %q %d/%d",
			a.ID, a.JobID, a.Tenant, a.Seq, a.Total, b.ID, b.JobID, b.Tenant, b.Seq, b.Total)
	}
	if d := diffRows("finding", a.Findings, b.Findings); d != "" {
		return d
	}
	return diffRows("event", a.Events, b.Events)
}

func diffRows(kind string, a, b []store.Row) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d %ss, want %d", len(a), kind, len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Time.Equal(y.Time) || !x.Seen.Equal(y.Seen) || !bytes.Equal(x.OCSF, y.OCSF) {
			return fmt.Sprintf("%s %d: time %v seen %v ocsf %q, want %v %v %q", kind, i, x.Time, x.Seen, x.OCSF, y.Time, y.Seen, y.OCSF)
		}
		x.Time, x.Seen, x.OCSF = y.Time, y.Seen, nil
		y.OCSF = nil
		if !reflect.DeepEqual(x, y) {
			return fmt.Sprintf("%s %d: %+v, want %+v", kind, i, x, y)
		}
	}
	return ""
}

func testRoundTrip(t *testing.T, q bus.Queue) {
	r := store.Row{
		Tenant: "acme", Fingerprint: "fp1", ClassUID: 2002, SeverityID: 4, Product: "Trivy", Format: "trivy/1",
		SourceUID: "CVE-2026-0001", ResourceUID: "pkg:deb/openssl", Title: "Ünïcode ✓ title", Time: t0, Seen: t0.Add(time.Second),
		OCSF: []byte(`{"class_uid":2002,"message":"quote \" backslash \\ nul \u0000"}`),
	}
	odd := store.Row{Tenant: "acme", Fingerprint: "fp2", ClassUID: -1, SeverityID: 0} // zero times, no OCSF
	ev := r
	ev.Fingerprint, ev.ClassUID = "ev1", 6003
	want := []bus.Batch{
		{ID: "job-1/1", JobID: "job-1", Tenant: "acme", Seq: 1, Findings: []store.Row{r, odd}, Events: []store.Row{ev}},
		{ID: "job-1/2", JobID: "job-1", Tenant: "acme", Seq: 2, Total: 3, Events: []store.Row{ev}},
		{ID: "job-1/3", JobID: "job-1", Tenant: "tenant with spaces.and.dots*>", Seq: 3, Total: 3, Findings: []store.Row{r}},
	}
	rec := newRecorder()
	consume(t, q, func(ctx context.Context, b bus.Batch) error { rec.record(b, true); return nil })
	publish(t, q, want...)
	rec.waitAll(t, "job-1/1", "job-1/2", "job-1/3")
	for _, w := range want {
		if d := Diff(rec.got[w.ID], w); d != "" {
			t.Errorf("batch %s: %s", w.ID, d)
		}
	}
}

func testRejects(t *testing.T, q bus.Queue) {
	ctx := context.Background()
	for _, b := range []bus.Batch{
		{JobID: "j", Tenant: "acme", Seq: 1},
		{ID: "j/1", Tenant: "acme", Seq: 1},
		{ID: "j/1", JobID: "j", Seq: 1},
	} {
		if err := q.Publish(ctx, b); err == nil {
			t.Errorf("Publish(%+v) accepted an invalid batch", b)
		}
	}
	big := batch("big", 1, Rows(1, "acme", 3*bus.DefaultMaxBatchBytes/(64<<10)+1, 64<<10)...)
	if err := q.Publish(ctx, big); !errors.Is(err, bus.ErrTooLarge) {
		t.Errorf("Publish of a %d-byte batch: %v, want ErrTooLarge", bus.EncodedSize(big), err)
	}
	if err := q.PublishAll(ctx, func(yield func(bus.Batch) bool) { yield(big) }); !errors.Is(err, bus.ErrTooLarge) {
		t.Errorf("PublishAll of a %d-byte batch: %v, want ErrTooLarge", bus.EncodedSize(big), err)
	}
}

func testPublishAll(t *testing.T, q bus.Queue) {
	rows := Rows(2, "acme", 200, 500)
	var ids []string
	seq := func(yield func(bus.Batch) bool) {
		for i := range 100 {
			b := batch("all", i+1, rows[2*i:2*i+2]...)
			ids = append(ids, b.ID)
			if !yield(b) {
				return
			}
		}
	}
	rec := newRecorder()
	consume(t, q, func(ctx context.Context, b bus.Batch) error { rec.record(b, true); return nil })
	if err := q.PublishAll(context.Background(), seq); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 100 {
		t.Fatalf("PublishAll pulled %d batches, want 100", len(ids))
	}
	rec.waitAll(t, ids...)
	for i, id := range ids {
		if d := Diff(rec.got[id], batch("all", i+1, rows[2*i:2*i+2]...)); d != "" {
			t.Errorf("batch %s: %s", id, d)
		}
	}
}

func testPublishAllStops(t *testing.T, q bus.Queue) {
	pulled := 0
	seq := func(yield func(bus.Batch) bool) {
		for i := range 10 {
			pulled++
			b := batch("stop", i+1)
			if i == 3 {
				b.Tenant = "" // invalid
			}
			if !yield(b) {
				return
			}
		}
	}
	if err := q.PublishAll(context.Background(), seq); err == nil {
		t.Fatal("PublishAll accepted an invalid batch")
	}
	if pulled != 4 {
		t.Errorf("PublishAll pulled %d batches after the failure, want it to stop at 4", pulled)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.PublishAll(ctx, func(yield func(bus.Batch) bool) { yield(batch("stop", 11)) }); !errors.Is(err, context.Canceled) {
		t.Errorf("PublishAll with a cancelled context: %v", err)
	}
}

func testRetry(t *testing.T, q bus.Queue) {
	rec := newRecorder()
	consume(t, q, func(ctx context.Context, b bus.Batch) error {
		rec.mu.Lock()
		n := rec.calls[b.ID]
		rec.mu.Unlock()
		if n < 2 {
			rec.record(b, false)
			return fmt.Errorf("transient failure %d", n+1)
		}
		rec.record(b, true)
		return nil
	})
	publish(t, q, batch("retry", 1), batch("retry", 2), batch("retry", 3))
	rec.waitAll(t, "retry/1", "retry/2", "retry/3")
	// one more batch behind them: once it is through, an early ack would
	// have shown as a missing retry, a late one as a duplicate
	publish(t, q, batch("retry", 4))
	rec.waitAll(t, "retry/4")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, id := range []string{"retry/1", "retry/2", "retry/3"} {
		if rec.calls[id] != 3 {
			t.Errorf("%s: %d handler calls, want 3 (two failures, one success)", id, rec.calls[id])
		}
		if _, dup := rec.got[id+"#dup"]; dup {
			t.Errorf("%s: delivered again after the handler succeeded", id)
		}
	}
}

func testPoison(t *testing.T, q bus.Queue) {
	rec := newRecorder()
	consume(t, q, func(ctx context.Context, b bus.Batch) error {
		if b.JobID == "poison" {
			rec.record(b, false)
			return fmt.Errorf("job %s is gone: %w", b.JobID, bus.ErrPoison)
		}
		rec.record(b, true)
		return nil
	})
	publish(t, q, batch("poison", 1))
	rec.waitFor(t, "the poison batch", func() bool { return rec.calls["poison/1"] > 0 })
	publish(t, q, batch("ok", 1))
	rec.waitAll(t, "ok/1")
	time.Sleep(500 * time.Millisecond) // several retry backoffs
	publish(t, q, batch("ok", 2))
	rec.waitAll(t, "ok/2")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := rec.calls["poison/1"]; n != 1 {
		t.Errorf("poison batch handled %d times, want once", n)
	}
}

func testTwoConsumers(t *testing.T, q bus.Queue) {
	const n = 100
	var ids []string
	var bs []bus.Batch
	for i := range n {
		b := batch("two", i+1, Rows(uint64(i), "acme", 3, 300)...)
		bs = append(bs, b)
		ids = append(ids, b.ID)
	}
	rec := newRecorder()
	// Each consumer's first handler call waits until the other consumer
	// has started one, so both must have taken a share of the work.
	var entered [2]chan struct{}
	var once [2]sync.Once
	per := [2]map[string]bool{{}, {}}
	for i := range 2 {
		entered[i] = make(chan struct{})
	}
	for i := range 2 {
		consume(t, q, func(ctx context.Context, b bus.Batch) error {
			first := false
			once[i].Do(func() { close(entered[i]); first = true })
			if first {
				select {
				case <-entered[1-i]:
				case <-time.After(wait):
					return errors.New("the other consumer got no batch")
				}
			}
			rec.mu.Lock()
			per[i][b.ID] = true
			rec.mu.Unlock()
			rec.record(b, true)
			return nil
		})
	}
	publish(t, q, bs...)
	rec.waitAll(t, ids...)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(per[0]) == 0 || len(per[1]) == 0 {
		t.Errorf("work not shared: %d and %d batches", len(per[0]), len(per[1]))
	}
	for i, id := range ids {
		if d := Diff(rec.got[id], bs[i]); d != "" {
			t.Errorf("batch %s: %s", id, d)
		}
	}
	t.Logf("consumers handled %d and %d batches", len(per[0]), len(per[1]))
}

func testLarge(t *testing.T, q bus.Queue) {
	rows := Rows(7, "acme", 1500, 2700)
	for i := 0; i < len(rows); i += 97 {
		rows[i].OCSF = bytes.Repeat([]byte(`{"k":"`+strconv.Itoa(i)+`"}`), 3000) // tens of KB
	}
	sp, err := bus.NewSplitter(bus.SplitOptions{JobID: "large", Tenant: "acme", MaxRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	var want []bus.Batch
	for i, r := range rows {
		b, ok, err := sp.Add(r, i%5 != 0)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			want = append(want, b)
		}
	}
	if b, ok := sp.Flush(); ok {
		want = append(want, b)
	}
	if len(want) < 4 {
		t.Fatalf("%d batches, want the byte bound to cut at least 4", len(want))
	}
	var ids []string
	for _, b := range want {
		if n := bus.EncodedSize(b); n > bus.DefaultMaxBatchBytes || b.Len() > 500 {
			t.Fatalf("batch %s: %d rows, %d bytes", b.ID, b.Len(), n)
		}
		ids = append(ids, b.ID)
	}
	rec := newRecorder()
	consume(t, q, func(ctx context.Context, b bus.Batch) error { rec.record(b, true); return nil })
	if err := q.PublishAll(context.Background(), slicesSeq(want)); err != nil {
		t.Fatal(err)
	}
	rec.waitAll(t, ids...)
	total := 0
	for _, w := range want {
		if d := Diff(rec.got[w.ID], w); d != "" {
			t.Errorf("batch %s: %s", w.ID, d)
		}
		total += w.Len()
	}
	if total != len(rows) {
		t.Errorf("%d rows delivered, want %d", total, len(rows))
	}
}

func slicesSeq(bs []bus.Batch) iter.Seq[bus.Batch] {
	return func(yield func(bus.Batch) bool) {
		for _, b := range bs {
			if !yield(b) {
				return
			}
		}
	}
}

func testCloseDrains(t *testing.T, q bus.Queue) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var finished sync.WaitGroup
	finished.Add(1)
	var handlerCtxErr error
	consumeDone := make(chan error, 1)
	go func() {
		consumeDone <- q.Consume(context.Background(), func(ctx context.Context, b bus.Batch) error {
			close(entered)
			<-release
			handlerCtxErr = ctx.Err()
			finished.Done()
			return nil
		})
	}()
	publish(t, q, batch("drain", 1))
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("handler not called")
	}
	closed := make(chan error, 1)
	go func() { closed <- q.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a handler was running", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Close did not return after the handler did")
	}
	finished.Wait()
	if handlerCtxErr != nil {
		t.Errorf("Close cancelled the running handler's context: %v", handlerCtxErr)
	}
	select {
	case err := <-consumeDone:
		if err != nil {
			t.Errorf("Consume after Close returned %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Consume did not return after Close")
	}
	if err := q.Publish(context.Background(), batch("drain", 2)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if err := q.Consume(context.Background(), func(context.Context, bus.Batch) error { return nil }); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Consume after Close: %v, want ErrClosed", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testCancel(t *testing.T, q bus.Queue) {
	entered := make(chan struct{})
	stop := consume(t, q, func(ctx context.Context, b bus.Batch) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	})
	publish(t, q, batch("cancel", 1))
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("handler not called")
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Consume after its context was cancelled: %v, want context.Canceled", err)
	}
	rec := newRecorder()
	consume(t, q, func(ctx context.Context, b bus.Batch) error { rec.record(b, true); return nil })
	rec.waitAll(t, "cancel/1")
}
