package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/canopy-sec/canopy/internal/bus/nats"
)

// TestMain runs the crash test's worker when the test binary is started as
// one (see TestCrashRedelivery); otherwise it runs the tests.
func TestMain(m *testing.M) {
	if spec := os.Getenv(crashWorkerEnv); spec != "" {
		os.Exit(crashWorker(spec))
	}
	os.Exit(m.Run())
}

// serverURL is the NATS server the tests use: $CANOPY_TEST_NATS, else the
// local one.
func serverURL() string {
	if u := os.Getenv("CANOPY_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// needServer skips the test when no NATS server answers, or fails it on CI.
func needServer(tb testing.TB) string {
	tb.Helper()
	u := serverURL()
	host := "127.0.0.1:4222"
	if p, err := url.Parse(strings.Split(u, ",")[0]); err == nil && p.Host != "" {
		host = p.Host
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		msg := "no NATS server with JetStream at " + host + " ($CANOPY_TEST_NATS): " + err.Error()
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	c.Close()
	return u
}

// names are a test's own stream, subject prefix and consumer.
type names struct{ stream, prefix, consumer string }

// newNames returns fresh names and deletes the stream (with its consumer)
// when the test ends.
func newNames(tb testing.TB) names {
	tb.Helper()
	u := needServer(tb)
	var b [6]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	n := names{stream: "CANOPY_TEST_" + strings.ToUpper(id), prefix: "canopytest." + id, consumer: "workers-" + id}
	tb.Cleanup(func() {
		nc, err := natsgo.Connect(u)
		if err != nil {
			tb.Logf("cleanup: %v", err)
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, n.stream); err != nil {
			tb.Logf("cleanup: deleting stream %s: %v", n.stream, err)
		}
	})
	return n
}

func (n names) options() nats.Options {
	return nats.Options{
		URL:             serverURL(),
		Stream:          n.stream,
		SubjectPrefix:   n.prefix,
		Consumer:        n.consumer,
		AckWait:         30 * time.Second,
		PollWait:        300 * time.Millisecond,
		RetryBackoff:    10 * time.Millisecond,
		RetryBackoffMax: 50 * time.Millisecond,
	}
}

// open returns a queue with the given options, closed when the test ends.
func open(tb testing.TB, opts nats.Options) *nats.Queue {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := nats.New(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { q.Close() })
	return q
}

// jsFor returns a JetStream client of its own, for inspecting the stream.
func jsFor(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	nc, err := natsgo.Connect(serverURL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}
