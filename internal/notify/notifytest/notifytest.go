// Package notifytest checks an implementation of notify.Store against its
// contract, which notify.MemoryStore defines: [Run] creates, reads,
// updates (concurrently too), selects due notices and lists them, and
// compares every result with what MemoryStore gives. Times are compared as
// instants (a store may return them in another location, without a
// monotonic reading) and an empty Links as none; everything else must
// come back as it was stored. It is used only by tests.
package notifytest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/notify"
)

// Run checks the Store that open returns (a new, empty store each call).
func Run(t *testing.T, open func(t *testing.T) notify.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s notify.Store)
	}{
		{"CreateAndGet", testCreateGet},
		{"Copies", testCopies},
		{"Update", testUpdate},
		{"UpdateIsAtomic", testUpdateAtomic},
		{"Due", testDue},
		{"List", testList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))

// sample returns an open notice with every field set, created and
// notified at at.
func sample(id, tenant, party string, at time.Time) notify.Notice {
	return notify.Notice{
		ID: id, Tenant: tenant, Party: party, From: "provider-x", Contact: "duty",
		Subject:  notify.Subject{Kind: notify.SubjectAdvisory, ID: "ADV-2026-014", Category: notify.AdvisoryPlatformVulnerability, URL: "https://status.example/adv/14"},
		Severity: notify.SeverityHigh, Title: "云主机 kernel <patch> & reboot", Body: "line one\nline \"two\"\t✓",
		Links:     []notify.Link{{Title: "runbook", URL: "https://wiki.example/rb?a=1&b=2"}, {Title: "console", URL: "https://console.example/n/" + id}},
		AckURL:    "https://canopy.example/notices/" + id + "/ack",
		CreatedAt: at, NotifiedAt: at, Deadline: at.Add(time.Hour), DeliveredAt: at.Add(time.Second),
		DeliveryError: "", EscalationLevel: 0, State: notify.StateOpen,
	}
}

// norm makes equal notices compare equal with reflect.DeepEqual: times in
// UTC without a monotonic reading, empty Links as nil.
func norm(n notify.Notice) notify.Notice {
	for _, p := range []*time.Time{&n.CreatedAt, &n.NotifiedAt, &n.Deadline, &n.DeliveredAt, &n.AckedAt} {
		*p = p.UTC()
	}
	if len(n.Links) == 0 {
		n.Links = nil
	}
	return n
}

func same(t *testing.T, what string, got, want notify.Notice) {
	t.Helper()
	if !reflect.DeepEqual(norm(got), norm(want)) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func ids(ns []notify.Notice) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

func testCreateGet(t *testing.T, s notify.Store) {
	ctx := context.Background()
	n := sample("n-1", "acme", "customer", t0)
	n.AckedAt, n.AckedBy, n.AckNote, n.EscalationLevel, n.DeliveryError = t0.Add(time.Minute), "alice", "on it", 2, "smtp: 450"
	if err := s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Get", got, n)
	if got.CreatedAt.Nanosecond() != t0.Nanosecond() {
		t.Errorf("CreatedAt = %s, want it to the nanosecond", got.CreatedAt.Format(time.RFC3339Nano))
	}

	bare := notify.Notice{ID: "n-2", Tenant: "acme", State: notify.StateOpen}
	if err := s.Create(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "n-2"); err != nil {
		t.Fatal(err)
	} else {
		same(t, "Get of a notice with zero fields", got, bare)
	}

	dup := sample("n-1", "other", "provider", t0.Add(time.Hour))
	if err := s.Create(ctx, dup); !errors.Is(err, notify.ErrExists) {
		t.Fatalf("creating a taken ID: err = %v, want ErrExists", err)
	}
	if got, _ := s.Get(ctx, "n-1"); !reflect.DeepEqual(norm(got), norm(n)) {
		t.Errorf("a refused Create changed the notice: %+v", got)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("Get(nope): err = %v, want ErrNotFound", err)
	}
}

// testCopies: the store shares no memory with its callers.
func testCopies(t *testing.T, s notify.Store) {
	ctx := context.Background()
	n := sample("n-1", "acme", "customer", t0)
	want := sample("n-1", "acme", "customer", t0)
	if err := s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.Links[0].Title = "changed by the caller after Create"
	got, err := s.Get(ctx, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "after the caller changed its notice", got, want)
	got.Links[0].Title = "changed by the caller after Get"
	if again, _ := s.Get(ctx, "n-1"); !reflect.DeepEqual(norm(again), norm(want)) {
		t.Errorf("changing what Get returned changed the store: %+v", again)
	}
	boom := errors.New("boom")
	_, err = s.Update(ctx, "n-1", func(n *notify.Notice) error {
		n.Links[0].Title = "changed by a failed update"
		return boom
	})
	if err != boom {
		t.Fatalf("Update: err = %v, want fn's error as it is", err)
	}
	if again, _ := s.Get(ctx, "n-1"); !reflect.DeepEqual(norm(again), norm(want)) {
		t.Errorf("a failed update changed the store: %+v", again)
	}
}

func testUpdate(t *testing.T, s notify.Store) {
	ctx := context.Background()
	n := sample("n-1", "acme", "customer", t0)
	if err := s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	var seen notify.Notice
	acked := t0.Add(10 * time.Minute)
	got, err := s.Update(ctx, "n-1", func(m *notify.Notice) error {
		seen = *m
		m.State, m.AckedAt, m.AckedBy, m.AckNote = notify.StateAcknowledged, acked, "alice", "on it"
		m.Links = append(m.Links, notify.Link{Title: "ticket", URL: "https://tickets.example/1"})
		m.ID = "renamed" // ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "what fn was given", seen, n)
	want := n
	want.State, want.AckedAt, want.AckedBy, want.AckNote = notify.StateAcknowledged, acked, "alice", "on it"
	want.Links = append(slices.Clone(n.Links), notify.Link{Title: "ticket", URL: "https://tickets.example/1"})
	same(t, "Update's result", got, want)
	if got, err := s.Get(ctx, "n-1"); err != nil {
		t.Fatal(err)
	} else {
		same(t, "Get after Update", got, want)
	}
	if _, err := s.Get(ctx, "renamed"); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("fn's ID was used: Get(renamed): %v", err)
	}

	called := false
	_, err = s.Update(ctx, "nope", func(*notify.Notice) error { called = true; return nil })
	if !errors.Is(err, notify.ErrNotFound) || called {
		t.Errorf("updating a missing notice: err = %v, fn called %v; want ErrNotFound, not called", err, called)
	}
	// an error of fn's own making that wraps a sentinel comes back as it is
	mine := fmt.Errorf("escalating: %w", notify.ErrAlreadyAcknowledged)
	if _, err := s.Update(ctx, "n-1", func(*notify.Notice) error { return mine }); err != mine {
		t.Errorf("Update: err = %v, want fn's error as it is", err)
	}
	if got, _ := s.Get(ctx, "n-1"); !reflect.DeepEqual(norm(got), norm(want)) {
		t.Errorf("a failed update changed the notice: %+v", got)
	}
}

// testUpdateAtomic: concurrent updates of one notice lose nothing.
func testUpdateAtomic(t *testing.T, s notify.Store) {
	ctx := context.Background()
	if err := s.Create(ctx, sample("n-1", "acme", "customer", t0)); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := s.Update(ctx, "n-1", func(n *notify.Notice) error {
					n.EscalationLevel++
					n.NotifiedAt = n.NotifiedAt.Add(time.Second)
					return nil
				}); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Get(ctx, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.EscalationLevel != workers*each || !got.NotifiedAt.Equal(t0.Add(workers*each*time.Second)) {
		t.Errorf("after %d concurrent updates: level %d, notified at %s; want %d, %s", workers*each, got.EscalationLevel,
			got.NotifiedAt, workers*each, t0.Add(workers*each*time.Second))
	}
}

// testDue: due are the open notices of every tenant that are undelivered
// or at or past their deadline (to the nanosecond), oldest NotifiedAt
// first, then by ID.
func testDue(t *testing.T, s notify.Store) {
	ctx := context.Background()
	now := t0.Add(24 * time.Hour)
	mk := func(id, tenant string, notified time.Time, state notify.State, deadline, delivered time.Time) notify.Notice {
		n := sample(id, tenant, "customer", notified)
		n.State, n.Deadline, n.DeliveredAt = state, deadline, delivered
		return n
	}
	all := []notify.Notice{
		mk("undelivered", "acme", t0.Add(3*time.Hour), notify.StateOpen, now.Add(time.Hour), time.Time{}),
		mk("undelivered-no-deadline", "globex", t0.Add(2*time.Hour), notify.StateOpen, time.Time{}, time.Time{}),
		mk("overdue", "acme", t0.Add(time.Hour), notify.StateOpen, now.Add(-time.Nanosecond), t0),
		mk("deadline-now", "globex", t0.Add(time.Hour), notify.StateOpen, now, t0),
		mk("deadline-in-1ns", "acme", t0, notify.StateOpen, now.Add(time.Nanosecond), t0),
		mk("no-deadline", "acme", t0, notify.StateOpen, time.Time{}, t0),
		mk("acked-overdue", "acme", t0, notify.StateAcknowledged, now.Add(-time.Hour), time.Time{}),
		mk("exhausted-overdue", "acme", t0, notify.StateExhausted, now.Add(-time.Hour), time.Time{}),
		mk("early", "acme", t0.Add(-time.Hour+time.Nanosecond), notify.StateOpen, t0, t0),
	}
	for _, n := range all {
		if err := s.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.Due(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"early", "deadline-now", "overdue", "undelivered-no-deadline", "undelivered"}
	if got := ids(due); !slices.Equal(got, want) {
		t.Fatalf("Due = %v, want %v", got, want)
	}
	same(t, "a due notice", due[0], all[len(all)-1])
	if _, err := s.Update(ctx, "undelivered", func(n *notify.Notice) error { n.DeliveredAt = now; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "overdue", func(n *notify.Notice) error { n.State = notify.StateAcknowledged; return nil }); err != nil {
		t.Fatal(err)
	}
	due, _ = s.Due(ctx, now)
	if got, want := ids(due), []string{"early", "deadline-now", "undelivered-no-deadline"}; !slices.Equal(got, want) {
		t.Errorf("after a delivery and an acknowledgement: Due = %v, want %v", got, want)
	}
	due, _ = s.Due(ctx, t0.Add(-2*time.Hour))
	if got, want := ids(due), []string{"undelivered-no-deadline"}; !slices.Equal(got, want) {
		t.Errorf("Due(earlier) = %v, want %v", got, want)
	}
}

// testList: newest CreatedAt first, then by ID; filters by tenant, party
// and state; Limit 0 means all.
func testList(t *testing.T, s notify.Store) {
	ctx := context.Background()
	mk := func(id, tenant, party string, state notify.State, created time.Time) notify.Notice {
		n := sample(id, tenant, party, created)
		n.State = state
		return n
	}
	for _, n := range []notify.Notice{
		mk("a", "acme", "customer", notify.StateOpen, t0),
		mk("B", "acme", "provider", notify.StateAcknowledged, t0.Add(2*time.Hour)),
		mk("b", "acme", "customer", notify.StateOpen, t0.Add(2*time.Hour)),
		mk("c", "acme", "customer", notify.StateExhausted, t0.Add(time.Hour+time.Nanosecond)),
		mk("d", "acme", "customer", notify.StateOpen, t0.Add(time.Hour)),
		mk("e", "globex", "customer", notify.StateOpen, t0.Add(3*time.Hour)),
		mk("f", "acme", "vendor", notify.StateOpen, time.Time{}),
	} {
		if err := s.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		f    notify.Filter
		want []string
	}{
		{notify.Filter{}, []string{"e", "B", "b", "c", "d", "a", "f"}},
		{notify.Filter{Tenant: "acme"}, []string{"B", "b", "c", "d", "a", "f"}},
		{notify.Filter{Tenant: "acme", Limit: 3}, []string{"B", "b", "c"}},
		{notify.Filter{Tenant: "acme", Limit: -1}, []string{"B", "b", "c", "d", "a", "f"}},
		{notify.Filter{Tenant: "acme", Party: "customer"}, []string{"b", "c", "d", "a"}},
		{notify.Filter{Tenant: "acme", Party: "customer", State: notify.StateOpen}, []string{"b", "d", "a"}},
		{notify.Filter{State: notify.StateExhausted}, []string{"c"}},
		{notify.Filter{Party: "customer", Limit: 2}, []string{"e", "b"}},
		{notify.Filter{Tenant: "initech"}, []string{}},
	}
	for _, tt := range tests {
		got, err := s.List(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tt.want) {
			t.Errorf("List(%+v) = %v, want %v", tt.f, ids(got), tt.want)
		}
	}
	got, _ := s.List(ctx, notify.Filter{Tenant: "globex"})
	if len(got) == 1 {
		same(t, "a listed notice", got[0], mk("e", "globex", "customer", notify.StateOpen, t0.Add(3*time.Hour)))
	}
}
