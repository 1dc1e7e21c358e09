package nats

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/canopy-sec/canopy/internal/bus"
)

// Defaults.
const (
	DefaultStream        = "CANOPY_INGEST"
	DefaultSubjectPrefix = "canopy.ingest"
	DefaultConsumer      = "canopy-workers"
)

// headerRoom is what a message's headers may take besides the batch: the
// Nats-Msg-Id (the batch ID) and Nats-Expected-Stream headers.
const headerRoom = 16 << 10

// Options configures a [Queue]. URL is required; every other zero field
// takes the default its comment states.
type Options struct {
	// URL is the NATS server, or a comma-separated list of a cluster's
	// servers, e.g. nats://user:password@127.0.0.1:4222. Credentials in it
	// are used but never logged or put in errors.
	URL string
	// Stream is the JetStream stream; default [DefaultStream]. It is
	// created, or updated to these options, by New.
	Stream string
	// SubjectPrefix: batches go to <SubjectPrefix>.<tenant token> (see
	// [SubjectToken]); the stream takes <SubjectPrefix>.>. Default
	// [DefaultSubjectPrefix].
	SubjectPrefix string
	// Consumer is the durable pull consumer shared by every worker of
	// every process; default [DefaultConsumer]. New creates or updates it.
	Consumer string
	// Replicas of the stream; default 1. Use 3 on a cluster.
	Replicas int
	// MaxAge drops batches not consumed within it; default 0, keep them
	// until they are acknowledged.
	MaxAge time.Duration
	// MaxBytes bounds the stream's storage; when it is full, publishing
	// fails instead of dropping old batches. Default 0, no bound.
	MaxBytes int64
	// DuplicateWindow is how long the stream remembers batch IDs to drop a
	// re-published batch; default 2 minutes.
	DuplicateWindow time.Duration
	// AckWait is how long a delivered batch may go unacknowledged (without
	// a progress heartbeat) before it is delivered again; default 2
	// minutes. While a handler runs, the queue sends a heartbeat every
	// AckWait/3, so only a dead or stalled worker lets it expire.
	AckWait time.Duration
	// MaxAckPending bounds the batches delivered and not yet acknowledged,
	// over all workers; default 64.
	MaxAckPending int
	// Workers is how many handlers each Consume call runs concurrently;
	// each fetches one batch at a time. Default 1.
	Workers int
	// MaxInFlight bounds the publications awaiting acknowledgement in one
	// PublishAll call; default 16.
	MaxInFlight int
	// MaxBatchBytes bounds a batch's encoded size; default the smaller of
	// [bus.DefaultMaxBatchBytes] and the server's maximum payload less 16
	// KiB for headers. A larger value than the latter is an error.
	MaxBatchBytes int
	// PollWait is how long one fetch waits for a batch, and so the longest
	// Close waits for idle workers; default 2s.
	PollWait time.Duration
	// RetryBackoff is the delay before a failed batch is delivered again;
	// it doubles with each delivery of the batch, up to RetryBackoffMax.
	// Defaults 1s and 1 minute.
	RetryBackoff, RetryBackoffMax time.Duration
	// PublishAttempts is how many times a publication is tried on
	// transient errors (timeouts, no responders, reconnection); default 5.
	PublishAttempts int
	// Name is the client connection name the server shows; default
	// "canopy".
	Name string
	// ConnOptions are extra nats.go connection options (TLS, credential
	// files); they are applied before the queue's own handlers.
	ConnOptions []natsgo.Option
	// Logger receives the queue's logs; nil discards them.
	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.URL == "" {
		return errors.New("nats: Options.URL is required")
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if o.Consumer == "" {
		o.Consumer = DefaultConsumer
	}
	if err := checkName("Stream", o.Stream); err != nil {
		return err
	}
	if err := checkName("Consumer", o.Consumer); err != nil {
		return err
	}
	if err := checkPrefix(o.SubjectPrefix); err != nil {
		return err
	}
	for name, v := range map[string]int{"Replicas": o.Replicas, "MaxAckPending": o.MaxAckPending, "Workers": o.Workers,
		"MaxInFlight": o.MaxInFlight, "MaxBatchBytes": o.MaxBatchBytes, "PublishAttempts": o.PublishAttempts} {
		if v < 0 {
			return fmt.Errorf("nats: Options.%s is negative (%d)", name, v)
		}
	}
	for name, v := range map[string]time.Duration{"MaxAge": o.MaxAge, "DuplicateWindow": o.DuplicateWindow, "AckWait": o.AckWait,
		"PollWait": o.PollWait, "RetryBackoff": o.RetryBackoff, "RetryBackoffMax": o.RetryBackoffMax} {
		if v < 0 {
			return fmt.Errorf("nats: Options.%s is negative (%v)", name, v)
		}
	}
	if o.MaxBytes < 0 {
		return fmt.Errorf("nats: Options.MaxBytes is negative (%d)", o.MaxBytes)
	}
	setInt := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	setDur := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	setInt(&o.Replicas, 1)
	setInt(&o.MaxAckPending, 64)
	setInt(&o.Workers, 1)
	setInt(&o.MaxInFlight, 16)
	setInt(&o.PublishAttempts, 5)
	setDur(&o.DuplicateWindow, 2*time.Minute)
	setDur(&o.AckWait, 2*time.Minute)
	setDur(&o.PollWait, 2*time.Second)
	setDur(&o.RetryBackoff, time.Second)
	setDur(&o.RetryBackoffMax, time.Minute)
	if o.RetryBackoffMax < o.RetryBackoff {
		o.RetryBackoffMax = o.RetryBackoff
	}
	if o.MaxAge > 0 && o.DuplicateWindow > o.MaxAge {
		o.DuplicateWindow = o.MaxAge
	}
	if o.AckWait < 300*time.Millisecond {
		return fmt.Errorf("nats: Options.AckWait %v is too short for progress heartbeats (at least 300ms)", o.AckWait)
	}
	if o.PollWait < 100*time.Millisecond {
		return fmt.Errorf("nats: Options.PollWait %v is too short (at least 100ms)", o.PollWait)
	}
	if o.Name == "" {
		o.Name = "canopy"
	}
	return nil
}

// Queue is the NATS JetStream [bus.Queue]: batches are messages in a
// file-storage, work-queue stream, consumed through one durable pull
// consumer that every worker shares.
type Queue struct {
	opts     Options
	log      *slog.Logger
	nc       *natsgo.Conn
	js       jetstream.JetStream
	stream   jetstream.Stream
	cons     jetstream.Consumer
	maxBytes int
	connDone chan struct{} // closed when the connection is closed

	mu     sync.Mutex
	closed bool
	stop   chan struct{}  // closed by Close: consumers stop fetching
	active sync.WaitGroup // running Publish, PublishAll and Consume calls
}

// New connects to NATS, creates or updates the stream and the durable
// consumer, and returns the queue. ctx bounds the setup only.
func New(ctx context.Context, opts Options) (*Queue, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	where := redactURL(opts.URL)
	log = log.With("component", "bus", "bus", "nats", "stream", opts.Stream)
	q := &Queue{opts: opts, log: log, stop: make(chan struct{}), connDone: make(chan struct{})}

	copts := append([]natsgo.Option{
		natsgo.Name(opts.Name),
		natsgo.MaxReconnects(-1),
	}, opts.ConnOptions...)
	copts = append(copts,
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			log.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			log.Warn("NATS error", "err", err)
		}),
		natsgo.ClosedHandler(func(*natsgo.Conn) { close(q.connDone) }),
	)
	nc, err := natsgo.Connect(opts.URL, copts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connecting to %s: %w", where, err)
	}
	q.nc = nc
	fail := func(err error) (*Queue, error) {
		nc.Close()
		return nil, err
	}
	limit := int(nc.MaxPayload()) - headerRoom
	switch {
	case q.opts.MaxBatchBytes == 0:
		q.maxBytes = min(bus.DefaultMaxBatchBytes, limit)
	case q.opts.MaxBatchBytes > limit:
		return fail(fmt.Errorf("nats: Options.MaxBatchBytes %d is over what the server accepts (%d: max payload %d less %d for headers)",
			q.opts.MaxBatchBytes, limit, nc.MaxPayload(), headerRoom))
	default:
		q.maxBytes = q.opts.MaxBatchBytes
	}
	q.js, err = jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(4*opts.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return fail(fmt.Errorf("nats: %w", err))
	}
	maxBytes := opts.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1 // no bound
	}
	q.stream, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        opts.Stream,
		Description: "Canopy ingest batches",
		Subjects:    []string{opts.SubjectPrefix + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		MaxAge:      opts.MaxAge,
		MaxBytes:    maxBytes,
		Discard:     jetstream.DiscardNew,
		Duplicates:  opts.DuplicateWindow,
	})
	if err != nil {
		return fail(fmt.Errorf("nats: creating or updating stream %s on %s: %w", opts.Stream, where, err))
	}
	q.cons, err = q.js.CreateOrUpdateConsumer(ctx, opts.Stream, jetstream.ConsumerConfig{
		Durable:       opts.Consumer,
		Description:   "Canopy workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       opts.AckWait,
		MaxAckPending: opts.MaxAckPending,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	})
	if err != nil {
		return fail(fmt.Errorf("nats: creating or updating consumer %s on stream %s: %w", opts.Consumer, opts.Stream, err))
	}
	log.Info("bus ready", "server", nc.ConnectedUrlRedacted(), "consumer", opts.Consumer, "max_batch_bytes", q.maxBytes)
	return q, nil
}

// MaxBatchBytes returns the bound on a batch's encoded size; give it to
// the [bus.Splitter] that makes the batches.
func (q *Queue) MaxBatchBytes() int { return q.maxBytes }

// enter registers a running call; it fails once the queue is closed.
func (q *Queue) enter() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return bus.ErrClosed
	}
	q.active.Add(1)
	return nil
}

func (q *Queue) stopping() bool {
	select {
	case <-q.stop:
		return true
	default:
		return false
	}
}

func (q *Queue) subject(tenant string) string {
	return q.opts.SubjectPrefix + "." + SubjectToken(tenant)
}

// encode validates and encodes b.
func (q *Queue) encode(b bus.Batch) ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if n := bus.EncodedSize(b); n > q.maxBytes {
		return nil, fmt.Errorf("nats: batch %s is %d bytes encoded, over the bound of %d: %w", b.ID, n, q.maxBytes, bus.ErrTooLarge)
	}
	return bus.Marshal(b), nil
}

func (q *Queue) pubOpts(id string) []jetstream.PublishOpt {
	return []jetstream.PublishOpt{jetstream.WithMsgID(id), jetstream.WithExpectStream(q.opts.Stream)}
}

// Publish sends b and waits for the stream's acknowledgement. The batch ID
// is the message ID, so publishing a batch again within the duplicate
// window stores it once.
func (q *Queue) Publish(ctx context.Context, b bus.Batch) error {
	data, err := q.encode(b)
	if err != nil {
		return err
	}
	if err := q.enter(); err != nil {
		return err
	}
	defer q.active.Done()
	return q.publish(ctx, b.ID, q.subject(b.Tenant), data)
}

// transient reports whether a failed publication may succeed if tried
// again.
func transient(err error) bool {
	return errors.Is(err, natsgo.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, natsgo.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, natsgo.ErrConnectionReconnecting) || errors.Is(err, jetstream.ErrAsyncPublishTimeout) ||
		errors.Is(err, jetstream.ErrTooManyStalledMsgs)
}

// publish publishes one encoded batch synchronously, trying again on
// transient errors.
func (q *Queue) publish(ctx context.Context, id, subject string, data []byte) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ack, err := q.js.PublishMsg(ctx, &natsgo.Msg{Subject: subject, Data: data}, q.pubOpts(id)...)
		if err == nil {
			if ack.Duplicate {
				q.log.Debug("batch was already on the stream", "batch", id)
			}
			return nil
		}
		if ctx.Err() != nil || !transient(err) || attempt >= q.opts.PublishAttempts {
			return q.publishErr(id, err)
		}
		q.log.Debug("publish failed, trying again", "batch", id, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return q.publishErr(id, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (q *Queue) publishErr(id string, err error) error {
	if errors.Is(err, natsgo.ErrMaxPayload) || errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum) {
		err = fmt.Errorf("%w: %w", bus.ErrTooLarge, err)
	}
	return fmt.Errorf("nats: publishing batch %s: %w", id, err)
}

// pending is a publication awaiting its acknowledgement.
type pending struct {
	id, subject string
	data        []byte
	ack         jetstream.PubAckFuture
}

// PublishAll publishes asynchronously with at most Options.MaxInFlight
// acknowledgements outstanding. A publication the server did not
// acknowledge is tried again synchronously (the batch ID deduplicates).
func (q *Queue) PublishAll(ctx context.Context, batches iter.Seq[bus.Batch]) error {
	if err := q.enter(); err != nil {
		return err
	}
	defer q.active.Done()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	window := make([]pending, 0, q.opts.MaxInFlight)
	settle := func(p pending) error {
		select {
		case ack := <-p.ack.Ok():
			if ack.Duplicate {
				q.log.Debug("batch was already on the stream", "batch", p.id)
			}
			return nil
		case err := <-p.ack.Err():
			q.log.Debug("async publish failed, publishing synchronously", "batch", p.id, "err", err)
			return q.publish(ctx, p.id, p.subject, p.data)
		case <-ctx.Done():
			return q.publishErr(p.id, ctx.Err())
		}
	}
	for b := range batches {
		data, err := q.encode(b)
		if err != nil {
			return err
		}
		p := pending{id: b.ID, subject: q.subject(b.Tenant), data: data}
		p.ack, err = q.js.PublishMsgAsync(&natsgo.Msg{Subject: p.subject, Data: data}, q.pubOpts(b.ID)...)
		if err != nil {
			if !transient(err) {
				return q.publishErr(b.ID, err)
			}
			if err := q.publish(ctx, p.id, p.subject, p.data); err != nil {
				return err
			}
			continue
		}
		window = append(window, p)
		if len(window) >= q.opts.MaxInFlight {
			if err := settle(window[0]); err != nil {
				return err
			}
			window[0] = pending{}
			window = window[1:]
		}
	}
	for _, p := range window {
		if err := settle(p); err != nil {
			return err
		}
	}
	return nil
}

// Ping checks that the server answers and the stream exists.
func (q *Queue) Ping(ctx context.Context) error {
	if _, err := q.stream.Info(ctx); err != nil {
		return fmt.Errorf("nats: stream %s: %w", q.opts.Stream, err)
	}
	return nil
}

// Close stops the consumers from fetching, waits for running handlers to
// be acknowledged and for running publications to return, then drains and
// closes the connection.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.stop)
	q.mu.Unlock()
	q.active.Wait()
	if err := q.nc.Drain(); err != nil {
		q.nc.Close()
		return fmt.Errorf("nats: draining connection: %w", err)
	}
	<-q.connDone // Drain closes the connection, after its own timeout at worst
	q.log.Info("bus closed")
	return nil
}
