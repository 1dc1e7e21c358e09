package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// auditRow returns entry seq of the tenant's chain; the store does not
// check hashes, so any 32 bytes do.
func auditRow(tenant string, seq uint64, at time.Time) store.AuditRow {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", tenant, seq))
	p := sha256.Sum256(fmt.Appendf(nil, "%s/%d", tenant, seq-1))
	return store.AuditRow{Tenant: tenant, Seq: seq, Time: at, EntryTenant: tenant, Actor: "system", Action: "finding.attributed",
		Object: fmt.Sprintf("finding:%d", seq), Details: fmt.Appendf(nil, `{"n":%d}`, seq), Prev: p[:], Hash: h[:]}
}

// sameAudit compares rows byte for byte, Time to the microsecond.
func sameAudit(got, want store.AuditRow) bool {
	return got.Tenant == want.Tenant && got.Seq == want.Seq && got.Time.Equal(want.Time) && got.EntryTenant == want.EntryTenant &&
		got.Actor == want.Actor && got.Action == want.Action && got.Object == want.Object && bytes.Equal(got.Details, want.Details) &&
		bytes.Equal(got.Prev, want.Prev) && bytes.Equal(got.Hash, want.Hash) && bytes.Equal(got.Sig, want.Sig)
}

func readAudit(t *testing.T, s store.AuditLog, tenant string, from uint64) []store.AuditRow {
	t.Helper()
	var out []store.AuditRow
	for r, err := range s.AuditEntries(context.Background(), tenant, from) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// testAudit: entries round-trip byte for byte (details as written, not
// as re-encoded JSON; time to the microsecond, in UTC); a taken sequence
// number is ErrConflict and changes nothing; chains are per tenant.
func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	if last, err := s.AuditLast(ctx, "t1"); err != nil || last.Seq != 0 {
		t.Fatalf("AuditLast of an empty chain = %+v, %v; want the zero row", last, err)
	}
	if got := readAudit(t, s, "t1", 1); len(got) != 0 {
		t.Fatalf("AuditEntries of an empty chain yielded %d rows", len(got))
	}
	at := time.Date(2026, 5, 1, 8, 0, 0, 123456000, time.UTC)
	var rows []store.AuditRow
	for i := range uint64(5) {
		r := auditRow("t1", i+1, at.Add(time.Duration(i)*time.Microsecond))
		rows = append(rows, r)
	}
	rows[1].Details = []byte(`{"z":1,"a":1.50,"e":1e3,"html":"<b>&</b>","u":"\u00e9t\u00e9","zh":"云软件+服务托管"}`)
	rows[2].Details = nil
	rows[2].EntryTenant = "" // a system-wide action in t1's chain
	rows[3].Sig = bytes.Repeat([]byte{0xa5}, 64)
	rows[4].Actor, rows[4].Object = "vendor:example-mssp ✓", "incident:ø"
	rows[4].Details = []byte(`null`)
	for _, r := range rows {
		if err := s.AuditAppend(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	last, err := s.AuditLast(ctx, "t1")
	if err != nil || !sameAudit(last, rows[4]) {
		t.Fatalf("AuditLast = %+v, %v; want %+v", last, err, rows[4])
	}
	got := readAudit(t, s, "t1", 0)
	if len(got) != len(rows) {
		t.Fatalf("AuditEntries(0) yielded %d rows, want %d", len(got), len(rows))
	}
	for i := range got {
		if !sameAudit(got[i], rows[i]) {
			t.Errorf("entry %d read back as\n%+v\nwant\n%+v", rows[i].Seq, got[i], rows[i])
		}
		if got[i].Time.Location() != time.UTC {
			t.Errorf("entry %d: time in %s, want UTC", rows[i].Seq, got[i].Time.Location())
		}
	}
	if got[2].Details != nil || got[0].Sig != nil {
		t.Errorf("empty details and signature read back as %q and %x, want nil", got[2].Details, got[0].Sig)
	}
	if got := readAudit(t, s, "t1", 4); len(got) != 2 || got[0].Seq != 4 {
		t.Errorf("AuditEntries(4) yielded %d rows", len(got))
	}
	for range s.AuditEntries(ctx, "t1", 1) {
		break // stopping early must be fine
	}

	taken := auditRow("t1", 3, at.Add(time.Hour))
	taken.Actor = "mallory"
	if err := s.AuditAppend(ctx, taken); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("appending a taken seq: err = %v, want ErrConflict", err)
	}
	if got := readAudit(t, s, "t1", 3); len(got) == 0 || !sameAudit(got[0], rows[2]) {
		t.Errorf("a refused append changed entry 3: %+v", got)
	}

	// another tenant's chain starts at 1 and sees nothing of t1's
	if last, _ := s.AuditLast(ctx, "t2"); last.Seq != 0 {
		t.Errorf("t2's chain starts with t1's entry %d", last.Seq)
	}
	other := auditRow("t2", 1, at)
	if err := s.AuditAppend(ctx, other); err != nil {
		t.Fatalf("entry 1 of another tenant's chain: %v", err)
	}
	if got := readAudit(t, s, "t2", 1); len(got) != 1 || !sameAudit(got[0], other) {
		t.Errorf("t2's chain = %+v", got)
	}
	if last, _ := s.AuditLast(ctx, "t1"); last.Seq != 5 {
		t.Errorf("t1's last entry is %d after t2 appended, want 5", last.Seq)
	}
	// the system-wide chain is a chain of its own
	if err := s.AuditAppend(ctx, auditRow("", 1, at)); err != nil {
		t.Fatalf("entry 1 of the system-wide chain: %v", err)
	}
	if got := readAudit(t, s, "", 1); len(got) != 1 || got[0].Tenant != "" {
		t.Errorf("the system-wide chain = %+v", got)
	}
}

// testAuditRefused: rows that cannot be stored exactly are refused, by
// both backends alike.
func testAuditRefused(t *testing.T, s store.Store) {
	ctx := context.Background()
	tests := []struct {
		name string
		edit func(*store.AuditRow)
	}{
		{"seq 0", func(r *store.AuditRow) { r.Seq = 0 }},
		{"seq beyond int64", func(r *store.AuditRow) { r.Seq = 1 << 63 }},
		{"short hash", func(r *store.AuditRow) { r.Hash = r.Hash[:31] }},
		{"no prev", func(r *store.AuditRow) { r.Prev = nil }},
		{"NUL in actor", func(r *store.AuditRow) { r.Actor = "a\x00b" }},
		{"invalid UTF-8 in object", func(r *store.AuditRow) { r.Object = "\xff" }},
		{"NUL in the entry's tenant", func(r *store.AuditRow) { r.EntryTenant = "t\x00" }},
	}
	for _, tt := range tests {
		r := auditRow("t1", 1, t0)
		tt.edit(&r)
		if err := s.AuditAppend(ctx, r); err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: AuditAppend = %v, want an error other than ErrConflict", tt.name, err)
		}
	}
	if got := readAudit(t, s, "t1", 0); len(got) != 0 {
		t.Errorf("refused rows were stored: %+v", got)
	}
}

// testAuditPaging: a chain longer than a page streams whole, in order,
// from any sequence number.
func testAuditPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 1234
	for i := range uint64(n) {
		if err := s.AuditAppend(ctx, auditRow("t1", i+1, t0.Add(time.Duration(i)*time.Microsecond))); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := s.AuditAppend(ctx, auditRow("t2", i/100+1, t0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, from := range []uint64{0, 1, 500, 501, 1000, 1001, n, n + 1} {
		got := readAudit(t, s, "t1", from)
		first := max(from, 1)
		if want := n + 1 - int(first); len(got) != want {
			t.Errorf("AuditEntries(%d) yielded %d rows, want %d", from, len(got), want)
			continue
		}
		for i, r := range got {
			if want := auditRow("t1", first+uint64(i), t0.Add(time.Duration(first-1+uint64(i))*time.Microsecond)); !sameAudit(r, want) {
				t.Errorf("AuditEntries(%d): row %d is entry %d %+v, want %+v", from, i, r.Seq, r, want)
				break
			}
		}
	}
	seen := 0
	for _, err := range s.AuditEntries(ctx, "t1", 1) {
		if err != nil {
			t.Fatal(err)
		}
		if seen++; seen == 700 {
			break // in the second page
		}
	}
	if last, err := s.AuditLast(ctx, "t1"); err != nil || last.Seq != n {
		t.Errorf("AuditLast = %d, %v; want %d", last.Seq, err, n)
	}
	if got := readAudit(t, s, "t2", 1); len(got) != 13 {
		t.Errorf("t2's chain has %d entries, want 13", len(got))
	}
}
