package pipeline_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/audit/audittest"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

// TestAuditChainConformance runs the audit Sink/Reader suite on a
// tenant's chain and on the system-wide chain, on both backends.
func TestAuditChainConformance(t *testing.T) {
	for _, b := range backends {
		for _, tenant := range []string{"acme", ""} {
			t.Run(fmt.Sprintf("%s/tenant=%q", b.name, tenant), func(t *testing.T) {
				audittest.Run(t, func(t *testing.T) audittest.Store {
					st, _ := b.open(t)
					return pipeline.AuditChain(st, tenant)
				})
			})
		}
	}
}

// stepClock returns a clock that advances by step on every call.
func stepClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

// appendEvents appends n events to the tenant's chain through an
// audit.Log.
func appendEvents(t *testing.T, st store.AuditLog, tenant string, key ed25519.PrivateKey, n int) {
	t.Helper()
	log, err := audit.New(audit.Options{Sink: pipeline.AuditChain(st, tenant), Key: key,
		Now: stepClock(time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.UTC), 1500*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	actions := []string{audit.ActionFindingAttributed, audit.ActionNoticeSent, audit.ActionNoticeAcked, audit.ActionFindingResolved}
	for i := range n {
		details := fmt.Sprintf(`{ "notice": "n%d", "party": "customer", "severity": "high", "zh": "云 %d" }`, i/4, i)
		if _, err := log.Append(context.Background(), audit.Event{Tenant: tenant, Actor: "system", Action: actions[i%4],
			Object: fmt.Sprintf("finding:%d", i/4), Details: json.RawMessage(details)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditTamperingInTheDatabase alters stored chains with raw SQL, as
// someone with write access to the database could, and checks that
// audit.Verify over the store names the first bad entry and why: on
// SQLite and PostgreSQL, for unsigned and signed chains. Each case
// tampers with a chain of its own tenant; the other tenants' chains must
// still verify.
func TestAuditTamperingInTheDatabase(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	const entries = 20
	type want struct {
		seq    uint64
		reason audit.Reason
	}
	tests := []struct {
		name     string
		tamper   func(t *testing.T, db rawDB, st store.AuditLog, tenant string)
		unsigned want
		signed   want
	}{
		{
			name: "edit an actor",
			tamper: func(t *testing.T, db rawDB, _ store.AuditLog, tenant string) {
				db.exec(t, fmt.Sprintf("UPDATE audit_entries SET actor = 'mallory' WHERE tenant = '%s' AND seq = 7", tenant))
			},
			unsigned: want{7, audit.ReasonHashMismatch},
			signed:   want{7, audit.ReasonHashMismatch},
		},
		{
			name: "edit details",
			tamper: func(t *testing.T, db rawDB, _ store.AuditLog, tenant string) {
				db.exec(t, fmt.Sprintf(`UPDATE audit_entries SET details = %s WHERE tenant = '%s' AND seq = 12`,
					db.bytes([]byte(`{"notice":"n2","party":"provider","severity":"high","zh":"云 11"}`)), tenant))
			},
			unsigned: want{12, audit.ReasonHashMismatch},
			signed:   want{12, audit.ReasonHashMismatch},
		},
		{
			name: "delete an entry",
			tamper: func(t *testing.T, db rawDB, _ store.AuditLog, tenant string) {
				db.exec(t, fmt.Sprintf("DELETE FROM audit_entries WHERE tenant = '%s' AND seq = 7", tenant))
			},
			unsigned: want{8, audit.ReasonSeqGap},
			signed:   want{8, audit.ReasonSeqGap},
		},
		{
			name: "swap the seq of two entries",
			tamper: func(t *testing.T, db rawDB, _ store.AuditLog, tenant string) {
				for _, q := range []string{
					"UPDATE audit_entries SET seq = 1000005 WHERE tenant = '%s' AND seq = 5",
					"UPDATE audit_entries SET seq = 5 WHERE tenant = '%s' AND seq = 9",
					"UPDATE audit_entries SET seq = 9 WHERE tenant = '%s' AND seq = 1000005",
				} {
					db.exec(t, fmt.Sprintf(q, tenant))
				}
			},
			unsigned: want{5, audit.ReasonHashMismatch},
			signed:   want{5, audit.ReasonHashMismatch},
		},
		{
			name: "edit an actor and re-hash the entry",
			tamper: func(t *testing.T, db rawDB, st store.AuditLog, tenant string) {
				e := entry(t, st, tenant, 7)
				e.Actor = "mallory"
				h := e.ComputeHash()
				db.exec(t, fmt.Sprintf("UPDATE audit_entries SET actor = 'mallory', hash = %s WHERE tenant = '%s' AND seq = 7", db.bytes(h[:]), tenant))
			},
			unsigned: want{8, audit.ReasonBrokenLink},
			signed:   want{7, audit.ReasonBadSignature},
		},
		{
			name: "move an entry to another tenant's chain",
			tamper: func(t *testing.T, db rawDB, _ store.AuditLog, tenant string) {
				db.exec(t, fmt.Sprintf("UPDATE audit_entries SET tenant = '%s-elsewhere' WHERE tenant = '%s' AND seq = 15", tenant, tenant))
			},
			unsigned: want{16, audit.ReasonSeqGap},
			signed:   want{16, audit.ReasonSeqGap},
		},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, db := b.open(t)
			ctx := context.Background()
			tenant := func(i int, signed bool) string { return fmt.Sprintf("case%d-signed=%v", i, signed) }
			for i := range tests {
				for _, signed := range []bool{false, true} {
					k := ed25519.PrivateKey(nil)
					if signed {
						k = key
					}
					appendEvents(t, st, tenant(i, signed), k, entries)
				}
			}
			appendEvents(t, st, "untouched", key, entries)
			for i, tt := range tests {
				for _, signed := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/signed=%v", tt.name, signed), func(t *testing.T) {
						tn := tenant(i, signed)
						p, w := ed25519.PublicKey(nil), tt.unsigned
						if signed {
							p, w = pub, tt.signed
						}
						if _, err := audit.Verify(pipeline.AuditChain(st, tn).Entries(ctx, 1), p); err != nil {
							t.Fatalf("before tampering: %v", err)
						}
						tt.tamper(t, db, st, tn)
						_, err := audit.Verify(pipeline.AuditChain(st, tn).Entries(ctx, 1), p)
						var verr *audit.VerifyError
						if !errors.As(err, &verr) {
							t.Fatalf("Verify after tampering = %v, want a *VerifyError", err)
						}
						if verr.Seq != w.seq || verr.Reason != w.reason {
							t.Errorf("Verify = %v; want entry %d: %s", err, w.seq, w.reason)
						}
					})
				}
			}
			if h, err := audit.Verify(pipeline.AuditChain(st, "untouched").Entries(ctx, 1), pub); err != nil || h.Count != entries {
				t.Errorf("a chain nobody touched: %+v, %v", h, err)
			}
		})
	}
}

// entry reads one stored entry of the tenant's chain.
func entry(t *testing.T, st store.AuditLog, tenant string, seq uint64) audit.Entry {
	t.Helper()
	for e, err := range pipeline.AuditChain(st, tenant).Entries(context.Background(), seq) {
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	t.Fatalf("no entry %d", seq)
	return audit.Entry{}
}

// TestAuditChainConcurrentLogs appends through several audit.Logs over
// one tenant's chain at once, as several processes would: the store's
// conflicts make them retry, and the chain has every entry once and
// verifies.
func TestAuditChainConcurrentLogs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			ctx := context.Background()
			const logs, each = 3, 15
			var wg sync.WaitGroup
			for i := range logs {
				log, err := audit.New(audit.Options{Sink: pipeline.AuditChain(st, "acme"), Retries: logs * each})
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					for j := range each {
						if _, err := log.Append(ctx, audit.Event{Tenant: "acme", Actor: fmt.Sprintf("worker-%d", i), Action: audit.ActionNoticeSent,
							Object: fmt.Sprintf("notice:%d-%d", i, j)}); err != nil {
							t.Errorf("Append: %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			h, err := audit.Verify(pipeline.AuditChain(st, "acme").Entries(ctx, 1), nil)
			if err != nil || h.Count != logs*each {
				t.Fatalf("Verify = %+v, %v; want %d entries", h, err, logs*each)
			}
			seen := map[string]bool{}
			for e, err := range pipeline.AuditChain(st, "acme").Entries(ctx, 1) {
				if err != nil {
					t.Fatal(err)
				}
				if seen[e.Object] {
					t.Errorf("%s recorded twice", e.Object)
				}
				seen[e.Object] = true
			}
		})
	}
}

// TestAuditChainConflictWrapsBoth: a taken sequence number is
// audit.ErrConflict to an audit.Log and store.ErrConflict underneath.
func TestAuditChainConflictWrapsBoth(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			ctx := context.Background()
			appendEvents(t, st, "acme", nil, 2)
			c := pipeline.AuditChain(st, "acme")
			e := entry(t, st, "acme", 2)
			err := c.Append(ctx, e)
			if !errors.Is(err, audit.ErrConflict) || !errors.Is(err, store.ErrConflict) {
				t.Errorf("appending entry 2 again: %v; want audit.ErrConflict and store.ErrConflict", err)
			}
			if c.Tenant() != "acme" {
				t.Errorf("Tenant() = %q", c.Tenant())
			}
			// text PostgreSQL cannot keep as it is is refused, not altered
			bad := e
			bad.Seq, bad.Prev, bad.Actor = 3, e.Hash, "nul\x00actor"
			bad.Hash = bad.ComputeHash()
			if err := c.Append(ctx, bad); err == nil || errors.Is(err, audit.ErrConflict) {
				t.Errorf("appending an actor with a NUL character: %v; want a refusal", err)
			}
		})
	}
}
