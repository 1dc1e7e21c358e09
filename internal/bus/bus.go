package bus

import (
	"context"
	"errors"
	"iter"

	"github.com/canopy-sec/canopy/internal/store"
)

// Batch is one message on the bus: a bounded slice of one ingest job's
// records, for one tenant. Workers apply a batch in one store transaction
// and claim its ID there (store.Appender.Claim), which makes a redelivered
// batch harmless.
type Batch struct {
	// ID identifies the batch across redeliveries and re-publications; it
	// is the deduplication key on the bus and the claim key in the store.
	// A [Splitter] makes it JobID + "/" + Seq.
	ID string
	// JobID is the ingest job the batch belongs to.
	JobID string
	// Tenant owns every row of the batch.
	Tenant string
	// Seq is the batch's position in its job, from 1.
	Seq int
	// Total is the number of batches in the job when it was known as this
	// batch was made, else 0. A [Splitter] sets it on the job's last batch.
	Total int
	// Findings are upserted as findings, Events as events.
	Findings, Events []store.Row
}

// Len returns the number of rows in b.
func (b Batch) Len() int { return len(b.Findings) + len(b.Events) }

// Validate reports whether b can be published: it needs an ID, a job ID and
// a tenant.
func (b Batch) Validate() error {
	switch {
	case b.ID == "":
		return errors.New("bus: batch without an ID")
	case b.JobID == "":
		return errors.New("bus: batch " + b.ID + " without a job ID")
	case b.Tenant == "":
		return errors.New("bus: batch " + b.ID + " without a tenant")
	}
	return nil
}

// Handler applies one batch. It returns nil only once the batch is
// committed; the queue then acknowledges it. Any other return makes the
// queue deliver the batch again later (to this or another worker), after a
// backoff, except an error wrapping [ErrPoison]. A handler must tolerate
// redelivery of a batch it already committed: when store.Appender.Claim
// reports the batch as applied, it rolls back and returns nil. It should
// return promptly when ctx is done.
type Handler func(ctx context.Context, b Batch) error

// Queue carries batches from ingest to workers with at-least-once delivery.
// Its methods are safe for concurrent use.
type Queue interface {
	// Publish returns once b is durably accepted by the queue (for
	// JetStream: after the publish acknowledgement) or with an error. It
	// blocks while the queue is full. The queue takes ownership of b's
	// slices: the caller must not modify them afterwards. A batch whose
	// encoded size exceeds the queue's bound fails with [ErrTooLarge].
	Publish(ctx context.Context, b Batch) error
	// PublishAll publishes every batch batches yields, with a bounded
	// number of publications awaiting acknowledgement, and returns once all
	// are accepted, or at the first failure, after which it stops
	// iterating. On failure some batches may have been accepted; publishing
	// them again with the same IDs is harmless.
	PublishAll(ctx context.Context, batches iter.Seq[Batch]) error
	// Consume delivers batches to h until ctx is done (it then returns
	// ctx.Err()) or the queue is closed (it then returns nil), running the
	// queue's configured number of handlers concurrently. A batch is
	// acknowledged only after h returned nil for it. Consume may be called
	// more than once, concurrently: the calls share the work. Cancelling ctx
	// also cancels the context of running handlers; to let them finish, call
	// Close instead.
	Consume(ctx context.Context, h Handler) error
	// Close drains the queue: it stops fetching, waits for the running
	// handlers to return and be acknowledged, makes Consume return, and
	// releases the connection. Later calls fail with [ErrClosed].
	Close() error
}

var (
	// ErrClosed is returned by a closed [Queue].
	ErrClosed = errors.New("bus: queue closed")
	// ErrTooLarge is returned for a batch, or a single row, that does not
	// fit the encoded size bound.
	ErrTooLarge = errors.New("bus: batch too large")
	// ErrPoison marks a batch that can never be applied. A [Handler]
	// returning an error that wraps it makes the queue drop the batch with
	// a logged error instead of redelivering it; the queue does the same
	// with a message it cannot decode.
	ErrPoison = errors.New("bus: poison batch")
	// ErrCorrupt is returned by [Unmarshal] for data that is not an encoded
	// batch.
	ErrCorrupt = errors.New("bus: corrupt batch")
)
