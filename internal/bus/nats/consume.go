package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/canopy-sec/canopy/internal/bus"
)

// Consume runs Options.Workers workers until ctx is done or the queue is
// closed. Each worker fetches one batch, runs h with progress heartbeats,
// and then acknowledges the batch (h returned nil), terminates it (it does
// not decode, or h's error wraps [bus.ErrPoison]), or asks for its
// redelivery: at once if ctx was cancelled meanwhile, else after the retry
// backoff. A batch still in transit when ctx is cancelled is delivered
// again after AckWait. Consume returns an error when the consumer is gone
// from the server.
func (q *Queue) Consume(ctx context.Context, h bus.Handler) error {
	if err := q.enter(); err != nil {
		return err
	}
	defer q.active.Done()
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range q.opts.Workers {
		wg.Go(func() {
			if err := q.work(wctx, h); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := context.Cause(wctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// consumerCheckEvery is how often an idle worker asks the server whether
// its consumer still exists.
const consumerCheckEvery = 5 * time.Second

// fatal reports whether a fetch error means the consumer cannot go on.
func fatal(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrConsumerDoesNotExist) || errors.Is(err, natsgo.ErrConnectionClosed) ||
		errors.Is(err, jetstream.ErrConnectionClosed)
}

// work is one worker: fetch a batch, handle it, repeat.
func (q *Queue) work(ctx context.Context, h bus.Handler) error {
	degraded := false
	lastCheck := time.Now()
	for {
		if q.stopping() || ctx.Err() != nil {
			return nil
		}
		// A pull that reaches the server after the consumer was deleted
		// may just time out rather than fail: ask the server now and then
		// whether the consumer still exists.
		if time.Since(lastCheck) >= consumerCheckEvery {
			lastCheck = time.Now()
			ictx, icancel := context.WithTimeout(ctx, q.opts.PollWait)
			_, err := q.cons.Info(ictx)
			icancel()
			if err != nil && fatal(err) && !q.stopping() && ctx.Err() == nil {
				return fmt.Errorf("nats: consumer %s on stream %s: %w", q.opts.Consumer, q.opts.Stream, err)
			}
		}
		// The fetch is not cancelled by Close: a batch that arrives while
		// the queue closes is handed back at once (Nak) rather than left
		// to wait for AckWait.
		fctx, cancel := context.WithTimeout(ctx, q.opts.PollWait)
		mb, err := q.cons.Fetch(1, jetstream.FetchContext(fctx))
		if err == nil {
			for m := range mb.Messages() {
				if q.stopping() {
					m.Nak()
					continue
				}
				q.handle(ctx, m, h)
			}
			err = mb.Error()
			if fctx.Err() != nil {
				err = nil // the poll ended, or ctx did
			}
		}
		cancel()
		if err == nil {
			if degraded {
				q.log.Info("fetching batches again")
				degraded = false
			}
			continue
		}
		if q.stopping() || ctx.Err() != nil {
			return nil
		}
		if fatal(err) {
			return fmt.Errorf("nats: consumer %s on stream %s: %w", q.opts.Consumer, q.opts.Stream, err)
		}
		if !degraded {
			q.log.Warn("fetching batches failed, retrying", "err", err)
			degraded = true
		}
		select {
		case <-ctx.Done():
		case <-q.stop:
		case <-time.After(q.opts.PollWait):
		}
	}
}

// handle runs h on one message and settles the message.
func (q *Queue) handle(ctx context.Context, m jetstream.Msg, h bus.Handler) {
	var seq, deliveries uint64 = 0, 1
	if md, err := m.Metadata(); err == nil {
		seq, deliveries = md.Sequence.Stream, md.NumDelivered
	}
	b, err := bus.Unmarshal(m.Data())
	if err != nil {
		q.log.Error("undecodable message dropped", "subject", m.Subject(), "stream_seq", seq, "msg_id", m.Headers().Get(jetstream.MsgIDHeader), "err", err)
		q.settle(m, "term", m.Term)
		return
	}
	stop := q.heartbeat(m, b.ID)
	err = h(ctx, b)
	stop()
	log := q.log.With("batch", b.ID, "tenant", b.Tenant, "deliveries", deliveries)
	switch {
	case err == nil:
		// Acknowledge even if ctx ended meanwhile: the batch is committed.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := m.DoubleAck(actx); err != nil {
			log.Warn("acknowledgement failed; the batch will be delivered again", "err", err)
			return
		}
		log.Debug("batch done", "rows", b.Len())
	case errors.Is(err, bus.ErrPoison):
		log.Error("batch dropped", "err", err)
		q.settle(m, "term", m.Term)
	case ctx.Err() != nil:
		log.Info("batch interrupted, handing it back", "err", err)
		q.settle(m, "nak", m.Nak)
	default:
		d := backoff(q.opts.RetryBackoff, q.opts.RetryBackoffMax, int(deliveries))
		log.Warn("batch failed, will retry", "retry_in", d, "err", err)
		q.settle(m, "nak", func() error { return m.NakWithDelay(d) })
	}
}

// settle sends a negative acknowledgement or termination; if it is lost,
// AckWait redelivers the batch, so a failure is only logged.
func (q *Queue) settle(m jetstream.Msg, what string, f func() error) {
	if err := f(); err != nil {
		q.log.Warn("could not "+what+" a message; it will be delivered again after AckWait", "subject", m.Subject(), "err", err)
	}
}

// heartbeat tells the server every AckWait/3 that the batch is in
// progress, until stop is called.
func (q *Queue) heartbeat(m jetstream.Msg, id string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(q.opts.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := m.InProgress(); err != nil {
					q.log.Debug("progress heartbeat failed", "batch", id, "err", err)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// backoff returns base doubled deliveries-1 times, capped at max.
func backoff(base, max time.Duration, deliveries int) time.Duration {
	d := base
	for i := 1; i < deliveries && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
