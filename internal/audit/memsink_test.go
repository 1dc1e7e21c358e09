package audit_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/canopy-sec/canopy/internal/audit"
)

// memSink is an in-memory Sink and Reader FOR THIS PACKAGE'S TESTS ONLY.
// Real chains live in the store (internal/store implements audit.Sink);
// nothing outside these tests may use it.
type memSink struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memSink) Last(ctx context.Context) (audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) == 0 {
		return audit.Entry{}, nil
	}
	return clone(m.entries[len(m.entries)-1]), nil
}

func (m *memSink) Append(ctx context.Context, e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if want := uint64(len(m.entries)) + 1; e.Seq != want {
		if e.Seq < want {
			return fmt.Errorf("memsink: entry %d: %w", e.Seq, audit.ErrConflict)
		}
		return fmt.Errorf("memsink: entry %d: the next entry is %d", e.Seq, want)
	}
	m.entries = append(m.entries, clone(e))
	return nil
}

func (m *memSink) Entries(ctx context.Context, from uint64) iter.Seq2[audit.Entry, error] {
	return func(yield func(audit.Entry, error) bool) {
		m.mu.Lock()
		snapshot := slices.Clone(m.entries)
		m.mu.Unlock()
		for _, e := range snapshot {
			if e.Seq < from {
				continue
			}
			if err := ctx.Err(); err != nil {
				yield(audit.Entry{}, err)
				return
			}
			if !yield(clone(e), nil) {
				return
			}
		}
	}
}

func clone(e audit.Entry) audit.Entry {
	e.Details = slices.Clone(e.Details)
	e.Sig = slices.Clone(e.Sig)
	return e
}
