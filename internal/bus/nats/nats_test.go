package nats_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/bustest"
	"github.com/canopy-sec/canopy/internal/bus/nats"
	"github.com/canopy-sec/canopy/internal/store"
)

func TestQueue(t *testing.T) {
	needServer(t)
	bustest.Run(t, func(t *testing.T) bus.Queue {
		return open(t, newNames(t).options())
	})
}

func TestSubjectToken(t *testing.T) {
	for in, want := range map[string]string{
		"":             "~",
		"acme":         "acme",
		"Acme-Corp_2":  "Acme-Corp_2",
		"a.b":          "a~2Eb",
		"a b*>":        "a~20b~2A~3E",
		"~":            "~7E",
		"münchen":      "m~C3~BCnchen",
		"tenant\x00\n": "tenant~00~0A",
	} {
		if got := nats.SubjectToken(in); got != want {
			t.Errorf("SubjectToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	ctx := context.Background()
	for name, o := range map[string]nats.Options{
		"no URL":        {},
		"stream dot":    {URL: "nats://127.0.0.1:1", Stream: "A.B"},
		"consumer *":    {URL: "nats://127.0.0.1:1", Consumer: "w*"},
		"prefix >":      {URL: "nats://127.0.0.1:1", SubjectPrefix: "canopy.>"},
		"prefix empty":  {URL: "nats://127.0.0.1:1", SubjectPrefix: "canopy..x"},
		"negative":      {URL: "nats://127.0.0.1:1", Workers: -1},
		"short AckWait": {URL: "nats://127.0.0.1:1", AckWait: time.Millisecond},
	} {
		if _, err := nats.New(ctx, o); err == nil || strings.Contains(err.Error(), "connecting") {
			t.Errorf("%s: err = %v, want an options error", name, err)
		}
	}
}

func TestCredentialsNotInErrors(t *testing.T) {
	// Nothing listens on port 1: connecting fails, and the error names the
	// server without the secrets.
	for _, u := range []string{"nats://alice:s3cr3t@127.0.0.1:1", "nats://s3cr3t@127.0.0.1:1,nats://bob:s3cr3t@127.0.0.1:2"} {
		_, err := nats.New(context.Background(), nats.Options{URL: u})
		if err == nil {
			t.Fatal("connected to port 1")
		}
		t.Logf("New: %v", err)
		if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("error %q leaks the secret or does not name the server", err)
		}
	}
}

func TestMaxBatchBytesOverServerLimit(t *testing.T) {
	o := newNames(t).options()
	o.MaxBatchBytes = 64 << 20
	if _, err := nats.New(context.Background(), o); err == nil || !strings.Contains(err.Error(), "MaxBatchBytes") {
		t.Fatalf("MaxBatchBytes over the server's max payload: %v", err)
	}
	o.MaxBatchBytes = 0
	q := open(t, o)
	if q.MaxBatchBytes() > bus.DefaultMaxBatchBytes || q.MaxBatchBytes() < 512<<10 {
		t.Errorf("MaxBatchBytes() = %d", q.MaxBatchBytes())
	}
}

func batch(job string, seq int, rows ...store.Row) bus.Batch {
	return bus.Batch{ID: job + "/" + string(rune('0'+seq)), JobID: job, Tenant: "acme", Seq: seq, Findings: rows}
}

// streamMsgs returns how many messages the test's stream holds.
func streamMsgs(t *testing.T, n names) uint64 {
	t.Helper()
	s, err := jsFor(t).Stream(context.Background(), n.stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// waitEmpty waits until the stream holds no message: with work-queue
// retention, every batch was acknowledged or terminated.
func waitEmpty(t *testing.T, n names) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for streamMsgs(t, n) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stream still holds %d messages", streamMsgs(t, n))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRepublishIsDeduplicated(t *testing.T) {
	n := newNames(t)
	q := open(t, n.options())
	b := batch("dup", 1, bustest.Rows(1, "acme", 3, 200)...)
	for range 3 {
		if err := q.Publish(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.PublishAll(context.Background(), func(yield func(bus.Batch) bool) { yield(b) }); err != nil {
		t.Fatal(err)
	}
	if got := streamMsgs(t, n); got != 1 {
		t.Errorf("stream holds %d messages after publishing one batch four times, want 1", got)
	}
}

func TestPoisonMessageTerminated(t *testing.T) {
	n := newNames(t)
	q := open(t, n.options())
	nc, err := natsgo.Connect(serverURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Not a batch, and a batch of a future encoding version.
	for _, data := range [][]byte{[]byte(`{"not":"a batch"}`), {0xCB, 9, 0}} {
		if _, err := nc.Request(n.prefix+".acme", data, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Publish(context.Background(), batch("good", 1)); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Consume(ctx, func(_ context.Context, b bus.Batch) error { got <- b.ID; return nil })
	if id := <-got; id != "good/1" {
		t.Fatalf("handler got %q", id)
	}
	waitEmpty(t, n) // terminated, not waiting for redelivery
	select {
	case id := <-got:
		t.Errorf("handler got %q again", id)
	default:
	}
}

func TestAckedBatchesLeaveStream(t *testing.T) {
	n := newNames(t)
	q := open(t, n.options())
	var bs []bus.Batch
	for i := range 5 {
		bs = append(bs, batch("acked", i+1))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	done := make(chan struct{})
	go q.Consume(context.Background(), func(_ context.Context, b bus.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		seen[b.ID]++
		if len(seen) == 5 {
			close(done)
		}
		return nil
	})
	if err := q.PublishAll(context.Background(), func(yield func(bus.Batch) bool) {
		for _, b := range bs {
			if !yield(b) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	waitEmpty(t, n)
}

func TestTwoProcessesShareTheConsumer(t *testing.T) {
	n := newNames(t)
	qa, qb := open(t, n.options()), open(t, n.options())
	var mu sync.Mutex
	per := map[*nats.Queue]int{}
	seen := map[string]int{}
	all := make(chan struct{})
	const total = 60
	// Each queue's first handler waits until the other has one, so both
	// must take part.
	var first [2]sync.Once
	entered := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	for i, q := range []*nats.Queue{qa, qb} {
		go q.Consume(context.Background(), func(_ context.Context, b bus.Batch) error {
			isFirst := false
			first[i].Do(func() { close(entered[i]); isFirst = true })
			if isFirst {
				<-entered[1-i]
			}
			mu.Lock()
			defer mu.Unlock()
			per[q]++
			seen[b.ID]++
			if len(seen) == total {
				close(all)
			}
			return nil
		})
	}
	rows := bustest.Rows(5, "acme", 2, 300)
	for i := range total {
		b := bus.Batch{ID: "share/" + string(rune('A'+i)), JobID: "share", Tenant: "acme", Seq: i + 1, Events: rows}
		if err := qa.Publish(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		t.Fatal("not every batch was handled")
	}
	mu.Lock()
	defer mu.Unlock()
	if per[qa] == 0 || per[qb] == 0 {
		t.Errorf("work not shared: %d and %d", per[qa], per[qb])
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s handled %d times", id, c)
		}
	}
}

func TestHeartbeatKeepsLongBatch(t *testing.T) {
	n := newNames(t)
	o := n.options()
	o.AckWait = time.Second
	slow, other := open(t, o), open(t, o)
	entered := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	go slow.Consume(context.Background(), func(_ context.Context, b bus.Batch) error {
		close(entered)
		<-release
		close(done)
		return nil
	})
	if err := slow.Publish(context.Background(), batch("long", 1)); err != nil {
		t.Fatal(err)
	}
	<-entered
	stolen := make(chan string, 1)
	go other.Consume(context.Background(), func(_ context.Context, b bus.Batch) error { stolen <- b.ID; return nil })
	// Four AckWaits: without heartbeats the batch would be redelivered.
	select {
	case id := <-stolen:
		t.Fatalf("batch %s redelivered while its handler was running", id)
	case <-time.After(4 * time.Second):
	}
	close(release)
	<-done
	waitEmpty(t, n)
}

func TestConsumeFailsWhenConsumerDeleted(t *testing.T) {
	n := newNames(t)
	q := open(t, n.options())
	errc := make(chan error, 1)
	go func() { errc <- q.Consume(context.Background(), func(context.Context, bus.Batch) error { return nil }) }()
	if err := jsFor(t).DeleteConsumer(context.Background(), n.stream, n.consumer); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		t.Logf("Consume: %v", err)
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("Consume returned %v, want the consumer's loss", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Consume kept running without its consumer")
	}
}

// TestConsumeFailsWhenConsumerDeletedBeforeFetch: a consumer deleted
// before the worker's pull reaches the server (so that no pending pull is
// told) is still noticed, by the worker's periodic check.
func TestConsumeFailsWhenConsumerDeletedBeforeFetch(t *testing.T) {
	n := newNames(t)
	q := open(t, n.options())
	if err := jsFor(t).DeleteConsumer(context.Background(), n.stream, n.consumer); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- q.Consume(context.Background(), func(context.Context, bus.Batch) error { return nil }) }()
	select {
	case err := <-errc:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("Consume returned %v, want the consumer's loss", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Consume kept running without its consumer")
	}
}
