package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// notice returns an open, delivered notice created and notified at at,
// with a deadline an hour later.
func notice(id, tenant, party string, at time.Time) store.NoticeRow {
	return store.NoticeRow{ID: id, Tenant: tenant, Party: party, State: store.NoticeOpen, Severity: "high", Contact: "duty",
		CreatedAt: at, NotifiedAt: at, Deadline: at.Add(time.Hour), DeliveredAt: at,
		Doc: json.RawMessage(fmt.Sprintf(`{"id":%q,"tenant":%q,"n":0}`, id, tenant))}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// sameNotice compares rows field by field, times with Equal and docs by
// value.
func sameNotice(got, want store.NoticeRow) bool {
	return got.ID == want.ID && got.Tenant == want.Tenant && got.Party == want.Party && got.State == want.State &&
		got.Severity == want.Severity && got.Contact == want.Contact && got.CreatedAt.Equal(want.CreatedAt) &&
		got.NotifiedAt.Equal(want.NotifiedAt) && got.Deadline.Equal(want.Deadline) && got.DeliveredAt.Equal(want.DeliveredAt) &&
		sameJSON(got.Doc, want.Doc)
}

func noticeIDs(ns []store.NoticeRow) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// testNotices: a notice round-trips field by field (times to the
// nanosecond, in UTC, zero times staying zero); a taken ID is ErrExists,
// a missing one ErrNotFound.
func testNotices(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	n := notice("n-1", "t1", "customer", at)
	n.Doc = json.RawMessage(`{"id":"n-1","title":"云主机 <b>&</b>","links":[{"title":"a","url":"https://x.example/?a=1&b=2"}],"n":1.5}`)
	if err := s.CreateNotice(ctx, n); err != nil {
		t.Fatal(err)
	}
	got, err := s.Notice(ctx, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	if !sameNotice(got, n) {
		t.Fatalf("Notice = %+v\nwant %+v", got, n)
	}
	if got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond() != 123456789 {
		t.Errorf("CreatedAt = %s, want UTC to the nanosecond", got.CreatedAt.Format(time.RFC3339Nano))
	}

	zero := notice("n-2", "t1", "customer", at)
	zero.Deadline, zero.DeliveredAt = time.Time{}, time.Time{}
	if err := s.CreateNotice(ctx, zero); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Notice(ctx, "n-2"); err != nil || !got.Deadline.IsZero() || !got.DeliveredAt.IsZero() {
		t.Fatalf("zero times read back as %+v, %v", got, err)
	}

	dup := notice("n-1", "t2", "provider", at.Add(time.Hour))
	if err := s.CreateNotice(ctx, dup); !errors.Is(err, store.ErrExists) {
		t.Fatalf("creating a taken ID: err = %v, want ErrExists", err)
	}
	if got, _ := s.Notice(ctx, "n-1"); !sameNotice(got, n) {
		t.Errorf("a refused create changed the stored notice: %+v", got)
	}
	if _, err := s.Notice(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Notice(nope): err = %v, want ErrNotFound", err)
	}
	if l, err := s.ListNotices(ctx, store.NoticeQuery{Tenant: "t2"}); err != nil || len(l) != 0 {
		t.Errorf("tenant t2 lists %v, %v; want none", noticeIDs(l), err)
	}
	if l, err := s.ListNotices(ctx, store.NoticeQuery{Tenant: "t1"}); err != nil || len(l) != 2 {
		t.Errorf("tenant t1 lists %v, %v; want 2", noticeIDs(l), err)
	}
}

// testNoticeUpdate: UpdateNotice writes what fn returns, keeps the ID,
// writes nothing when fn fails and returns fn's error as it is.
func testNoticeUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	n := notice("n-1", "t1", "customer", at)
	if err := s.CreateNotice(ctx, n); err != nil {
		t.Fatal(err)
	}
	later := at.Add(15 * time.Minute)
	want := n
	want.State, want.Contact, want.NotifiedAt, want.Deadline, want.DeliveredAt = "acknowledged", "lead", later, time.Time{}, time.Time{}
	want.Doc = json.RawMessage(`{"id":"n-1","n":1}`)
	got, err := s.UpdateNotice(ctx, "n-1", func(cur store.NoticeRow) (store.NoticeRow, error) {
		if !sameNotice(cur, n) {
			t.Errorf("fn got %+v, want %+v", cur, n)
		}
		next := want
		next.ID = "renamed" // ignored
		return next, nil
	})
	if err != nil || !sameNotice(got, want) {
		t.Fatalf("UpdateNotice = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.Notice(ctx, "n-1"); err != nil || !sameNotice(got, want) {
		t.Fatalf("after UpdateNotice: %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.Notice(ctx, "renamed"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("fn's ID was used: %v", err)
	}

	boom := errors.New("boom")
	_, err = s.UpdateNotice(ctx, "n-1", func(cur store.NoticeRow) (store.NoticeRow, error) {
		cur.State = "open"
		return cur, boom
	})
	if err != boom {
		t.Errorf("fn's error came back as %v, want it as it is", err)
	}
	if got, _ := s.Notice(ctx, "n-1"); !sameNotice(got, want) {
		t.Errorf("a failed update wrote %+v", got)
	}

	called := false
	_, err = s.UpdateNotice(ctx, "nope", func(cur store.NoticeRow) (store.NoticeRow, error) { called = true; return cur, nil })
	if !errors.Is(err, store.ErrNotFound) || called {
		t.Errorf("updating a missing notice: err = %v, fn called %v; want ErrNotFound, not called", err, called)
	}
	// the store works after a failed update (no transaction left open)
	if _, err := s.UpdateNotice(ctx, "n-1", func(cur store.NoticeRow) (store.NoticeRow, error) { return cur, nil }); err != nil {
		t.Errorf("updating after failures: %v", err)
	}
}

// testNoticeUpdateAtomic: concurrent read-modify-writes of one notice
// lose nothing.
func testNoticeUpdateAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateNotice(ctx, notice("n-1", "t1", "customer", t0)); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdateNotice(ctx, "n-1", func(cur store.NoticeRow) (store.NoticeRow, error) {
					var doc struct {
						ID     string `json:"id"`
						Tenant string `json:"tenant"`
						N      int    `json:"n"`
					}
					if err := json.Unmarshal(cur.Doc, &doc); err != nil {
						return cur, err
					}
					doc.N++
					b, err := json.Marshal(doc)
					cur.Doc = b
					cur.NotifiedAt = cur.NotifiedAt.Add(time.Second)
					return cur, err
				})
				if err != nil {
					t.Errorf("UpdateNotice: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Notice(ctx, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"id":"n-1","tenant":"t1","n":%d}`, workers*each); !sameJSON(got.Doc, []byte(want)) {
		t.Errorf("after %d concurrent increments: %s, want %s", workers*each, got.Doc, want)
	}
	if want := t0.Add(workers * each * time.Second); !got.NotifiedAt.Equal(want) {
		t.Errorf("NotifiedAt = %s, want %s", got.NotifiedAt, want)
	}
}

// testNoticesDue: due are the open notices of every tenant that are
// undelivered or at or past their deadline, to the nanosecond, oldest
// NotifiedAt first, then by ID.
func testNoticesDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := t0.Add(24 * time.Hour)
	mk := func(id, tenant string, notified time.Time, state string, deadline, delivered time.Time) store.NoticeRow {
		n := notice(id, tenant, "customer", notified)
		n.State, n.Deadline, n.DeliveredAt = state, deadline, delivered
		return n
	}
	const acked = "acknowledged"
	rows := []store.NoticeRow{
		mk("undelivered", "t1", t0.Add(3*time.Hour), store.NoticeOpen, now.Add(time.Hour), time.Time{}),
		mk("undelivered-no-deadline", "t2", t0.Add(2*time.Hour), store.NoticeOpen, time.Time{}, time.Time{}),
		mk("overdue", "t1", t0.Add(time.Hour), store.NoticeOpen, now.Add(-time.Nanosecond), t0),
		mk("deadline-now", "t2", t0.Add(time.Hour), store.NoticeOpen, now, t0), // ties with overdue on NotifiedAt
		mk("deadline-in-1ns", "t1", t0, store.NoticeOpen, now.Add(time.Nanosecond), t0),
		mk("no-deadline", "t1", t0, store.NoticeOpen, time.Time{}, t0),
		mk("acked-overdue", "t1", t0, acked, now.Add(-time.Hour), time.Time{}),
		mk("exhausted-overdue", "t1", t0, "exhausted", now.Add(-time.Hour), t0),
		mk("early", "t1", t0.Add(-time.Hour).Add(time.Microsecond/2), store.NoticeOpen, t0, t0),
	}
	for _, r := range rows {
		if err := s.CreateNotice(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.DueNotices(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"early", "deadline-now", "overdue", "undelivered-no-deadline", "undelivered"}
	if got := noticeIDs(due); !slices.Equal(got, want) {
		t.Errorf("DueNotices = %v, want %v", got, want)
	}
	if len(due) > 0 && !sameNotice(due[0], rows[len(rows)-1]) {
		t.Errorf("due notice read back as %+v", due[0])
	}
	// delivered: no longer due
	if _, err := s.UpdateNotice(ctx, "undelivered", func(n store.NoticeRow) (store.NoticeRow, error) { n.DeliveredAt = now; return n, nil }); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueNotices(ctx, now)
	if got := noticeIDs(due); !slices.Equal(got, want[:4]) {
		t.Errorf("after delivering: DueNotices = %v, want %v", got, want[:4])
	}
	if due, err := s.DueNotices(ctx, t0.Add(-2*time.Hour)); err != nil || !slices.Equal(noticeIDs(due), []string{"undelivered-no-deadline"}) {
		t.Errorf("DueNotices(earlier) = %v, %v", noticeIDs(due), err)
	}
}

// testNoticesList: listings are newest CreatedAt first, then by ID
// (byte-wise), filtered by tenant, party and state, limited.
func testNoticesList(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(id, tenant, party, state string, created time.Time) store.NoticeRow {
		n := notice(id, tenant, party, created)
		n.State = state
		return n
	}
	for _, r := range []store.NoticeRow{
		mk("a", "t1", "customer", store.NoticeOpen, t0),
		mk("B", "t1", "provider", "acknowledged", t0.Add(2*time.Hour)),
		mk("b", "t1", "customer", store.NoticeOpen, t0.Add(2*time.Hour)),
		mk("c", "t1", "customer", "acknowledged", t0.Add(time.Hour+time.Nanosecond)),
		mk("d", "t1", "customer", store.NoticeOpen, t0.Add(time.Hour)),
		mk("e", "t2", "customer", store.NoticeOpen, t0.Add(3*time.Hour)),
		mk("f", "t1", "vendor", store.NoticeOpen, time.Time{}), // never created: last
	} {
		if err := s.CreateNotice(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		q    store.NoticeQuery
		want []string
	}{
		{store.NoticeQuery{}, []string{"e", "B", "b", "c", "d", "a", "f"}},
		{store.NoticeQuery{Tenant: "t1"}, []string{"B", "b", "c", "d", "a", "f"}},
		{store.NoticeQuery{Tenant: "t1", Limit: 3}, []string{"B", "b", "c"}},
		{store.NoticeQuery{Tenant: "t1", Party: "customer"}, []string{"b", "c", "d", "a"}},
		{store.NoticeQuery{Tenant: "t1", Party: "customer", State: store.NoticeOpen}, []string{"b", "d", "a"}},
		{store.NoticeQuery{State: "acknowledged"}, []string{"B", "c"}},
		{store.NoticeQuery{Party: "customer", Limit: 2}, []string{"e", "b"}},
		{store.NoticeQuery{Tenant: "t3"}, []string{}},
		{store.NoticeQuery{Tenant: "t1", Party: "provider", State: store.NoticeOpen}, []string{}},
	}
	for _, tt := range tests {
		got, err := s.ListNotices(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if ids := noticeIDs(got); !slices.Equal(ids, tt.want) {
			t.Errorf("ListNotices(%+v) = %v, want %v", tt.q, ids, tt.want)
		}
	}
	got, _ := s.ListNotices(ctx, store.NoticeQuery{Tenant: "t2"})
	if len(got) != 1 || !bytes.Contains(got[0].Doc, []byte(`"e"`)) || got[0].Tenant != "t2" {
		t.Errorf("t2's notice read back as %+v", got)
	}
}
