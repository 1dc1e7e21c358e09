// Package respondtest holds in-memory implementations of internal/respond's
// interfaces, for tests only: the stores ([Memory]), the estate ([World]),
// a clock, an audit recorder over a real hash chain, a notifier, and fake
// actions that record their calls. None of it is meant for production: the
// stores keep everything in memory and never forget.
package respondtest

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/risk"
)

// Memory is an in-memory [respond.RunStore], [respond.ApprovalStore],
// [respond.CaseStore] and [respond.RecordStore]. Values are copied through
// JSON on the way in and out, as a database would, so tests see what a
// persisted value looks like (numbers in Params come back as float64).
// It is safe for concurrent use. For tests only.
type Memory struct {
	mu        sync.Mutex
	runs      []*stored
	approvals []*stored
	cases     []*stored
	records   map[string][]byte
}

type stored struct {
	tenant, id string
	data       []byte
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{records: map[string][]byte{}} }

func roundTrip[T any](v T) (T, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	var out T
	err = json.Unmarshal(b, &out)
	return out, b, err
}

func decode[T any](b []byte) T {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		panic(err) // written by Memory itself
	}
	return v
}

func create[T any](m *Memory, list *[]*stored, tenant, id string, v T) error {
	_, b, err := roundTrip(v)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range *list {
		if s.tenant == tenant && s.id == id {
			return fmt.Errorf("%s: exists", id)
		}
	}
	*list = append(*list, &stored{tenant: tenant, id: id, data: b})
	return nil
}

func get[T any](m *Memory, list []*stored, tenant, id string) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range list {
		if s.tenant == tenant && s.id == id {
			return decode[T](s.data), nil
		}
	}
	var zero T
	return zero, fmt.Errorf("%s: %w", id, respond.ErrNotFound)
}

func update[T any](m *Memory, list []*stored, tenant, id string, fn func(*T) error) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var zero T
	for _, s := range list {
		if s.tenant == tenant && s.id == id {
			v := decode[T](s.data)
			if err := fn(&v); err != nil {
				return zero, err
			}
			out, b, err := roundTrip(v)
			if err != nil {
				return zero, err
			}
			s.data = b
			return out, nil
		}
	}
	return zero, fmt.Errorf("%s: %w", id, respond.ErrNotFound)
}

func list[T any](m *Memory, l []*stored, keep func(T) bool) []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []T
	for _, s := range l {
		v := decode[T](s.data)
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// CreateRun implements [respond.RunStore].
func (m *Memory) CreateRun(_ context.Context, r respond.Run) error {
	return create(m, &m.runs, r.Tenant, r.ID, r)
}

// GetRun implements [respond.RunStore].
func (m *Memory) GetRun(_ context.Context, tenant, id string) (respond.Run, error) {
	return get[respond.Run](m, m.runs, tenant, id)
}

// UpdateRun implements [respond.RunStore].
func (m *Memory) UpdateRun(_ context.Context, tenant, id string, fn func(*respond.Run) error) (respond.Run, error) {
	return update(m, m.runs, tenant, id, fn)
}

// ListRuns implements [respond.RunStore].
func (m *Memory) ListRuns(_ context.Context, f respond.RunFilter) ([]respond.Run, error) {
	return list(m, m.runs, func(r respond.Run) bool {
		return (f.Tenant == "" || r.Tenant == f.Tenant) && (f.Record == respond.Ref{} || r.Record == f.Record) &&
			(f.Playbook == "" || r.Playbook == f.Playbook) && (f.State == "" || r.State == f.State)
	}), nil
}

// CreateApproval implements [respond.ApprovalStore].
func (m *Memory) CreateApproval(_ context.Context, a respond.Approval) error {
	return create(m, &m.approvals, a.Tenant, a.ID, a)
}

// GetApproval implements [respond.ApprovalStore].
func (m *Memory) GetApproval(_ context.Context, tenant, id string) (respond.Approval, error) {
	return get[respond.Approval](m, m.approvals, tenant, id)
}

// UpdateApproval implements [respond.ApprovalStore].
func (m *Memory) UpdateApproval(_ context.Context, tenant, id string, fn func(*respond.Approval) error) (respond.Approval, error) {
	return update(m, m.approvals, tenant, id, fn)
}

// ListApprovals implements [respond.ApprovalStore].
func (m *Memory) ListApprovals(_ context.Context, f respond.ApprovalFilter) ([]respond.Approval, error) {
	return list(m, m.approvals, func(a respond.Approval) bool {
		return (f.Tenant == "" || a.Tenant == f.Tenant) && (f.Record == respond.Ref{} || a.Record.Ref() == f.Record) &&
			(f.Playbook == "" || a.Playbook == f.Playbook) && (f.State == "" || a.State == f.State)
	}), nil
}

// CreateCase implements [respond.CaseStore].
func (m *Memory) CreateCase(_ context.Context, c respond.Case) error {
	return create(m, &m.cases, c.Tenant, c.ID, c)
}

// GetCase implements [respond.CaseStore].
func (m *Memory) GetCase(_ context.Context, tenant, id string) (respond.Case, error) {
	return get[respond.Case](m, m.cases, tenant, id)
}

// UpdateCase implements [respond.CaseStore].
func (m *Memory) UpdateCase(_ context.Context, tenant, id string, fn func(*respond.Case) error) (respond.Case, error) {
	return update(m, m.cases, tenant, id, fn)
}

// ListCases implements [respond.CaseStore].
func (m *Memory) ListCases(_ context.Context, f respond.CaseFilter) ([]respond.Case, error) {
	return list(m, m.cases, func(c respond.Case) bool {
		return (f.Tenant == "" || c.Tenant == f.Tenant) && (f.Record == respond.Ref{} || slices.Contains(c.Records, f.Record)) &&
			(f.Status == "" || c.Status == f.Status) && (!f.Open || c.Status.Open())
	}), nil
}

// UpdateRecord implements [respond.RecordStore]; every record is known.
func (m *Memory) UpdateRecord(_ context.Context, tenant string, ref respond.Ref, fn func(*respond.RecordState) error) (respond.RecordState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := tenant + "|" + ref.String()
	var st respond.RecordState
	if b, ok := m.records[key]; ok {
		st = decode[respond.RecordState](b)
	}
	if err := fn(&st); err != nil {
		return respond.RecordState{}, err
	}
	out, b, err := roundTrip(st)
	if err != nil {
		return respond.RecordState{}, err
	}
	m.records[key] = b
	return out, nil
}

// Record returns a record's state (the zero state if none).
func (m *Memory) Record(tenant string, ref respond.Ref) respond.RecordState {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.records[tenant+"|"+ref.String()]; ok {
		return decode[respond.RecordState](b)
	}
	return respond.RecordState{}
}

// World is an in-memory [respond.World]. Fill its fields before use; it is
// read-only afterwards. For tests only.
type World struct {
	// Resources by tenant.
	Resources map[string][]inventory.Resource
	// Seen maps tenant → access key → entities seen using it.
	Seen map[string]map[string][]correlate.Entity
	// AssetRules are the asset context's rules (every tenant).
	AssetRules []risk.AssetRule
}

// Resource implements [respond.World].
func (w *World) Resource(_ context.Context, tenant, uid string) (inventory.Resource, error) {
	for _, r := range w.Resources[tenant] {
		if r.UID == uid {
			return r, nil
		}
	}
	return inventory.Resource{}, fmt.Errorf("%s: %w", uid, respond.ErrUnknown)
}

// Referrers implements [respond.World].
func (w *World) Referrers(_ context.Context, tenant, uid string) ([]inventory.Resource, error) {
	var out []inventory.Resource
	for _, r := range w.Resources[tenant] {
		for _, rel := range r.Relationships {
			if rel.Target == uid {
				out = append(out, r)
				break
			}
		}
	}
	return out, nil
}

// SeenUsing implements [respond.World].
func (w *World) SeenUsing(_ context.Context, tenant, key string) ([]correlate.Entity, error) {
	return w.Seen[tenant][key], nil
}

// Assets implements [respond.World].
func (w *World) Assets(context.Context, string) (risk.AssetContext, error) {
	return risk.NewAssetContext(w.AssetRules...)
}

// Clock is a settable clock. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Audit is a [respond.Auditor] that appends to a real audit.Log (one hash
// chain per tenant) kept in memory, with times from its clock.
type Audit struct {
	mu     sync.Mutex
	clock  func() time.Time
	logs   map[string]*audit.Log
	sinks  map[string]*sink
	tenant []string
	// Fail, when set, is returned by Record for the actions it names.
	Fail map[string]error
}

// NewAudit returns an Audit reading time from clock.
func NewAudit(clock func() time.Time) *Audit {
	return &Audit{clock: clock, logs: map[string]*audit.Log{}, sinks: map[string]*sink{}}
}

// Record implements [respond.Auditor].
func (a *Audit) Record(ctx context.Context, tenant, actor, action, object string, details any) error {
	a.mu.Lock()
	if err := a.Fail[action]; err != nil {
		a.mu.Unlock()
		return err
	}
	l := a.logs[tenant]
	if l == nil {
		s := &sink{}
		var err error
		l, err = audit.New(audit.Options{Sink: s, Now: a.clock})
		if err != nil {
			a.mu.Unlock()
			return err
		}
		a.logs[tenant], a.sinks[tenant] = l, s
		a.tenant = append(a.tenant, tenant)
	}
	a.mu.Unlock()
	var raw json.RawMessage
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return err
		}
		raw = b
	}
	_, err := l.Append(ctx, audit.Event{Tenant: tenant, Actor: actor, Action: action, Object: object, Details: raw})
	return err
}

// Entries returns the tenant's chain.
func (a *Audit) Entries(tenant string) []audit.Entry {
	a.mu.Lock()
	s := a.sinks[tenant]
	a.mu.Unlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

// Seq returns the tenant's chain as the sequence [respond.KPIs] reads.
func (a *Audit) Seq(tenant string) iter.Seq2[audit.Entry, error] {
	return audit.All(a.Entries(tenant))
}

// Actions lists the actions of the tenant's entries, in order.
func (a *Audit) Actions(tenant string) []string {
	var out []string
	for _, e := range a.Entries(tenant) {
		out = append(out, e.Action)
	}
	return out
}

type sink struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (s *sink) Last(context.Context) (audit.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return audit.Entry{}, nil
	}
	return s.entries[len(s.entries)-1], nil
}

func (s *sink) Append(_ context.Context, e audit.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) > 0 && s.entries[len(s.entries)-1].Seq >= e.Seq {
		return audit.ErrConflict
	}
	s.entries = append(s.entries, e)
	return nil
}

// Notifier is a [respond.Notifier] that records requests and returns
// notices numbered n-1, n-2 … For tests only.
type Notifier struct {
	mu       sync.Mutex
	Requests []notify.Request
	// Err, when set, is returned by Notify (with no notice).
	Err error
}

// Notify implements [respond.Notifier].
func (n *Notifier) Notify(_ context.Context, req notify.Request, now time.Time) (notify.Notice, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Err != nil {
		return notify.Notice{}, n.Err
	}
	n.Requests = append(n.Requests, req)
	return notify.Notice{ID: fmt.Sprintf("n-%d", len(n.Requests)), Tenant: req.Tenant, Subject: req.Subject,
		Party: req.Party, Severity: req.Severity, Title: req.Title, CreatedAt: now}, nil
}
