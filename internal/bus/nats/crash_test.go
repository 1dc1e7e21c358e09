package nats_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/bustest"
	"github.com/canopy-sec/canopy/internal/bus/nats"
)

// crashWorkerEnv, when set to "stream,prefix,consumer", makes the test
// binary a worker process that takes one batch, says so on stdout, and
// hangs until it is killed.
const crashWorkerEnv = "CANOPY_BUS_CRASH_WORKER"

const crashAckWait = 2 * time.Second

func crashOptions(n names) nats.Options {
	o := n.options()
	o.AckWait = crashAckWait
	return o
}

func crashWorker(spec string) int {
	f := strings.Split(spec, ",")
	if len(f) != 3 {
		fmt.Fprintln(os.Stderr, "bad", crashWorkerEnv, spec)
		return 2
	}
	q, err := nats.New(context.Background(), crashOptions(names{stream: f[0], prefix: f[1], consumer: f[2]}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = q.Consume(context.Background(), func(_ context.Context, b bus.Batch) error {
		fmt.Printf("handling %s\n", b.ID)
		select {} // mid-batch, until kill -9
	})
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// TestCrashRedelivery kills a worker process (SIGKILL) while it holds a
// batch: the batch is redelivered to another consumer once AckWait passes
// without the dead worker's heartbeats, and no batch is lost.
func TestCrashRedelivery(t *testing.T) {
	n := newNames(t)
	q := open(t, crashOptions(n))
	var want []string
	for i := range 5 {
		b := bus.Batch{ID: fmt.Sprintf("crash/%d", i+1), JobID: "crash", Tenant: "acme", Seq: i + 1, Findings: bustest.Rows(uint64(i), "acme", 50, 2700)}
		want = append(want, b.ID)
		if err := q.Publish(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashWorkerEnv+"="+strings.Join([]string{n.stream, n.prefix, n.consumer}, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	var held string
	select {
	case l, ok := <-line:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("worker process exited without taking a batch")
		}
		held = strings.TrimPrefix(l, "handling ")
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("worker process took no batch")
	}
	// Outlive a few heartbeats so the kill is truly mid-batch.
	time.Sleep(crashAckWait)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	t.Logf("killed the worker while it held %s", held)

	var mu sync.Mutex
	got := map[string]int{}
	all := make(chan struct{})
	go q.Consume(context.Background(), func(_ context.Context, b bus.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		got[b.ID]++
		if len(got) == len(want) {
			close(all)
		}
		return nil
	})
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("after the crash, got %v, want all of %v (the dead worker held %s)", got, want, held)
	}
	mu.Lock()
	defer mu.Unlock()
	if got[held] != 1 {
		t.Errorf("the batch the dead worker held, %s, was handled %d times here", held, got[held])
	}
	for id, c := range got {
		if c != 1 {
			t.Errorf("%s handled %d times", id, c)
		}
	}
}
