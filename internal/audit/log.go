package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"
)

// Sink is where a [Log] appends: the store's side of the chain.
// pipeline.AuditChain implements it over internal/store, one chain per
// tenant; audittest.Run checks an implementation against this contract.
type Sink interface {
	// Last returns the entry with the highest Seq, or the zero Entry
	// (Seq 0) when the chain is empty.
	Last(ctx context.Context) (Entry, error)
	// Append stores e, whose Seq is one more than the last entry's. When
	// an entry with e.Seq exists already (another writer appended first)
	// it stores nothing and returns an error wrapping [ErrConflict]. It
	// must store every field exactly: Details byte for byte (not as a
	// re-encoded JSON value such as PostgreSQL jsonb) and Time to the
	// microsecond.
	Append(ctx context.Context, e Entry) error
}

// Reader reads a chain back.
type Reader interface {
	// Entries yields the entries whose Seq is at least from, in Seq
	// order, then stops; a read error is yielded once and ends the
	// sequence.
	Entries(ctx context.Context, from uint64) iter.Seq2[Entry, error]
}

// ErrConflict is returned (wrapped) by [Sink.Append] when the sequence
// number is taken.
var ErrConflict = errors.New("audit: sequence number taken")

// ErrBrokenChain is returned (wrapped) by [Log.Append] when the last
// stored entry does not hash to its Hash: the chain was altered, and
// extending it would bury the evidence.
var ErrBrokenChain = errors.New("audit: the last entry fails its hash")

// Options configure [New].
type Options struct {
	// Sink stores the entries. Required.
	Sink Sink
	// Key signs every entry's Hash; nil: entries are not signed.
	Key ed25519.PrivateKey
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Retries is how often Append retries after [ErrConflict] (another
	// writer took the sequence number). Default: 3.
	Retries int
}

// Log appends events to a hash chain through a [Sink]. It is safe for
// concurrent use; appends through one Log are serialized, and appends
// through several Logs over one store are kept apart by the Sink's
// [ErrConflict].
type Log struct {
	sink    Sink
	key     ed25519.PrivateKey
	now     func() time.Time
	retries int
	mu      sync.Mutex
}

// New returns a Log over opts.Sink.
func New(opts Options) (*Log, error) {
	if opts.Sink == nil {
		return nil, errors.New("audit: options: Sink: missing")
	}
	if opts.Key != nil && len(opts.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("audit: options: Key: want %d bytes, got %d", ed25519.PrivateKeySize, len(opts.Key))
	}
	l := &Log{sink: opts.Sink, key: opts.Key, now: opts.Now, retries: opts.Retries}
	if l.now == nil {
		l.now = time.Now
	}
	if l.retries <= 0 {
		l.retries = 3
	}
	return l, nil
}

// PublicKey returns the public key of the signing key, or nil when the log
// is not signed.
func (l *Log) PublicKey() ed25519.PublicKey {
	if l.key == nil {
		return nil
	}
	return l.key.Public().(ed25519.PublicKey)
}

// Append records ev as the next entry and returns it. The entry's Time is
// the current time in UTC truncated to the microsecond, or the previous
// entry's Time if the clock is behind it, so that time never goes
// backwards along the chain. Before extending the chain Append checks that
// the last entry hashes to its Hash ([ErrBrokenChain] if not). An invalid
// event (no action or actor, details that are not JSON) is an error
// wrapping [ErrInvalid].
func (l *Log) Append(ctx context.Context, ev Event) (Entry, error) {
	if err := ev.validate(); err != nil {
		return Entry{}, err
	}
	details, err := canonicalDetails(ev.Details)
	if err != nil {
		return Entry{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for attempt := 0; ; attempt++ {
		last, err := l.sink.Last(ctx)
		if err != nil {
			return Entry{}, fmt.Errorf("audit: reading the last entry: %w", err)
		}
		if last.Seq > 0 && last.ComputeHash() != last.Hash {
			return Entry{}, fmt.Errorf("%w (entry %d)", ErrBrokenChain, last.Seq)
		}
		e := Entry{
			Seq:     last.Seq + 1,
			Time:    l.now().UTC().Truncate(time.Microsecond),
			Tenant:  ev.Tenant,
			Actor:   ev.Actor,
			Action:  ev.Action,
			Object:  ev.Object,
			Details: details,
			Prev:    last.Hash,
		}
		if e.Time.Before(last.Time) {
			e.Time = last.Time
		}
		e.Hash = e.ComputeHash()
		if l.key != nil {
			e.Sig = ed25519.Sign(l.key, e.Hash[:])
		}
		err = l.sink.Append(ctx, e)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= l.retries {
			return Entry{}, fmt.Errorf("audit: appending entry %d: %w", e.Seq, err)
		}
	}
}

// All returns a sequence over entries already in memory, for [Verify],
// [Export] and [KPIs].
func All(entries []Entry) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for _, e := range entries {
			if !yield(e, nil) {
				return
			}
		}
	}
}
