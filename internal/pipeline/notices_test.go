package pipeline_test

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/notify/notifytest"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// backend opens fresh stores of one kind, and reaches under them with raw
// SQL for tests that tamper with what a store wrote.
type backend struct {
	name string
	open func(t *testing.T) (store.Store, rawDB)
}

// rawDB runs SQL on a store's database behind its back.
type rawDB struct {
	exec func(t *testing.T, query string)
	// bytes writes b as an SQL literal of the dialect.
	bytes func(b []byte) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (store.Store, rawDB) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "canopy.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, rawDB{
			exec: func(t *testing.T, q string) {
				t.Helper()
				if _, err := s.DB().ExecContext(context.Background(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			},
			bytes: func(b []byte) string { return "X'" + hex.EncodeToString(b) + "'" },
		}
	}},
	{"postgres", func(t *testing.T) (store.Store, rawDB) {
		url := pgtest.NewDatabase(t)
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, rawDB{
			exec: func(t *testing.T, q string) {
				t.Helper()
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				if _, err := conn.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			},
			bytes: func(b []byte) string { return `'\x` + hex.EncodeToString(b) + `'::bytea` },
		}
	}},
}

// TestNoticeStoreConformance holds the store-backed notify.Store to
// MemoryStore's behaviour, on both backends.
func TestNoticeStoreConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			notifytest.Run(t, func(t *testing.T) notify.Store {
				st, _ := b.open(t)
				return pipeline.NoticeStore(st)
			})
		})
	}
}

// TestNoticeOpenState: the store selects due notices by notify's open
// state.
func TestNoticeOpenState(t *testing.T) {
	if store.NoticeOpen != string(notify.StateOpen) {
		t.Fatalf("store.NoticeOpen = %q, notify.StateOpen = %q", store.NoticeOpen, notify.StateOpen)
	}
}

// recordingChannel accepts every notice and remembers whom it reached.
type recordingChannel struct {
	mu      sync.Mutex
	reached []string
}

func (c *recordingChannel) Name() string { return "chat" }
func (c *recordingChannel) Kind() string { return "test" }
func (c *recordingChannel) Send(_ context.Context, n notify.Notice, to notify.Contact) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reached = append(c.reached, n.ID+"->"+to.ID)
	return nil
}

// TestEscalationOverStores runs the escalation flow (notify, escalate
// past the deadline, exhaust the chain, acknowledge) on notices kept in
// each backend, with two escalators sharing the store as two processes
// would: each due notice escalates once.
func TestEscalationOverStores(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			ctx := context.Background()
			ch := &recordingChannel{}
			var mu sync.Mutex
			next := 0
			newEscalator := func() *notify.Escalator {
				esc, err := notify.NewEscalator(notify.Options{
					Store: pipeline.NoticeStore(st),
					Policy: &notify.Policy{Deadlines: notify.DefaultDeadlines(), Parties: map[string]notify.Party{
						"acme": {ID: "acme", Kind: notify.PartyCustomer, Chain: []notify.Contact{
							{ID: "oncall", Channels: []string{"chat"}}, {ID: "ciso", Channels: []string{"chat"}}}},
					}},
					Channels: map[string]notify.Channel{"chat": ch},
					NewID: func() string {
						mu.Lock()
						defer mu.Unlock()
						next++
						return "n" + string(rune('0'+next))
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				return esc
			}
			one, two := newEscalator(), newEscalator()
			start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
			for _, sev := range []notify.Severity{notify.SeverityCritical, notify.SeverityHigh} {
				if _, err := one.Notify(ctx, notify.Request{Tenant: "acme", Party: "acme", Severity: sev,
					Subject: notify.Subject{Kind: notify.SubjectIncident, ID: "INC-42"}, Title: "Credential exfiltration"}, start); err != nil {
					t.Fatal(err)
				}
			}
			// critical (15m) is overdue at 16m, high (1h) is not; both
			// escalators tick at once
			var wg sync.WaitGroup
			reps := make([]notify.TickReport, 2)
			for i, esc := range []*notify.Escalator{one, two} {
				wg.Go(func() {
					rep, err := esc.Tick(ctx, start.Add(16*time.Minute))
					if err != nil {
						t.Errorf("Tick: %v", err)
					}
					reps[i] = rep
				})
			}
			wg.Wait()
			if got := append(slices.Clone(reps[0].Escalated), reps[1].Escalated...); !slices.Equal(got, []string{"n1"}) {
				t.Errorf("escalated %v, want n1 once", got)
			}
			if rep, err := two.Tick(ctx, start.Add(40*time.Minute)); err != nil || !slices.Equal(rep.Exhausted, []string{"n1"}) {
				t.Errorf("second tick: %+v, %v; want n1 exhausted", rep, err)
			}
			if n, err := two.Ack(ctx, "n2", "oncall@acme.example", "looking", start.Add(41*time.Minute)); err != nil || n.State != notify.StateAcknowledged {
				t.Fatalf("Ack = %+v, %v", n, err)
			}
			if rep, err := one.Tick(ctx, start.Add(3*time.Hour)); err != nil || len(rep.Escalated)+len(rep.Exhausted) != 0 {
				t.Errorf("tick after the acknowledgement: %+v, %v; want nothing", rep, err)
			}
			list, err := pipeline.NoticeStore(st).List(ctx, notify.Filter{Tenant: "acme"})
			if err != nil || len(list) != 2 {
				t.Fatalf("List = %v, %v", list, err)
			}
			states := map[string]notify.State{}
			for _, n := range list {
				states[n.ID] = n.State
			}
			if states["n1"] != notify.StateExhausted || states["n2"] != notify.StateAcknowledged {
				t.Errorf("states = %v", states)
			}
			ch.mu.Lock()
			defer ch.mu.Unlock()
			slices.Sort(ch.reached)
			if want := []string{"n1->ciso", "n1->oncall", "n2->oncall"}; !slices.Equal(ch.reached, want) {
				t.Errorf("reached %v, want %v", ch.reached, want)
			}
		})
	}
}
