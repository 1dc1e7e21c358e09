package notify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Store persists notices. pipeline.NoticeStore backs it with internal/store
// (SQLite or PostgreSQL); [MemoryStore] serves tests and single-process
// use. notifytest.Run checks an implementation against MemoryStore's
// behaviour.
//
// Implementations must be safe for concurrent use. Update is the only
// write to an existing notice and must be atomic (a transaction with the
// row locked, or a compare-and-swap loop), so that an acknowledgement and
// an escalation racing on one notice cannot lose either.
type Store interface {
	// Create stores a new notice; it returns an error wrapping [ErrExists]
	// when the ID is taken.
	Create(ctx context.Context, n Notice) error
	// Get returns the notice with the given ID, or an error wrapping
	// [ErrNotFound].
	Get(ctx context.Context, id string) (Notice, error)
	// Update reads the notice, calls fn on a copy and stores the copy if fn
	// returns nil, all atomically; it returns the stored notice. An error
	// from fn aborts the update and is returned as is; a missing notice
	// gives an error wrapping [ErrNotFound].
	Update(ctx context.Context, id string, fn func(*Notice) error) (Notice, error)
	// Due returns the open notices that need the escalator's attention at
	// now: a non-zero Deadline at or before now, or a zero DeliveredAt (the
	// current contact has not been reached yet). Order: oldest
	// NotifiedAt first.
	Due(ctx context.Context, now time.Time) ([]Notice, error)
	// List returns the notices matching f, newest first.
	List(ctx context.Context, f Filter) ([]Notice, error)
}

// Filter selects notices for [Store.List]. Empty fields match anything.
type Filter struct {
	// Tenant, Party and State select notices with that value.
	Tenant string
	Party  string
	State  State
	// Limit bounds the result; 0 means no limit.
	Limit int
}

func (f Filter) match(n Notice) bool {
	return (f.Tenant == "" || n.Tenant == f.Tenant) &&
		(f.Party == "" || n.Party == f.Party) &&
		(f.State == "" || n.State == f.State)
}

// MemoryStore is an in-memory [Store]. It is safe for concurrent use and
// keeps nothing across restarts. The zero value is ready to use.
type MemoryStore struct {
	mu      sync.Mutex
	notices map[string]Notice
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Create implements [Store].
func (s *MemoryStore) Create(_ context.Context, n Notice) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notices == nil {
		s.notices = map[string]Notice{}
	}
	if _, ok := s.notices[n.ID]; ok {
		return fmt.Errorf("notify: notice %s: %w", n.ID, ErrExists)
	}
	s.notices[n.ID] = n.clone()
	return nil
}

// Get implements [Store].
func (s *MemoryStore) Get(_ context.Context, id string) (Notice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notices[id]
	if !ok {
		return Notice{}, fmt.Errorf("notify: notice %s: %w", id, ErrNotFound)
	}
	return n.clone(), nil
}

// Update implements [Store].
func (s *MemoryStore) Update(_ context.Context, id string, fn func(*Notice) error) (Notice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notices[id]
	if !ok {
		return Notice{}, fmt.Errorf("notify: notice %s: %w", id, ErrNotFound)
	}
	c := n.clone()
	if err := fn(&c); err != nil {
		return Notice{}, err
	}
	c.ID = id
	s.notices[id] = c.clone()
	return c, nil
}

// Due implements [Store].
func (s *MemoryStore) Due(_ context.Context, now time.Time) ([]Notice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Notice
	for _, n := range s.notices {
		if n.State == StateOpen && (n.DeliveredAt.IsZero() || n.Overdue(now)) {
			out = append(out, n.clone())
		}
	}
	slices.SortFunc(out, func(a, b Notice) int {
		return cmp.Or(a.NotifiedAt.Compare(b.NotifiedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// List implements [Store].
func (s *MemoryStore) List(_ context.Context, f Filter) ([]Notice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Notice
	for _, n := range s.notices {
		if f.match(n) {
			out = append(out, n.clone())
		}
	}
	slices.SortFunc(out, func(a, b Notice) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
