package audittest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
)

// Store is what a backend implements for the audit log.
type Store interface {
	audit.Sink
	audit.Reader
}

// Run checks the Store that open returns (a new, empty chain each call).
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("Conflict", func(t *testing.T) { testConflict(t, open(t)) })
}

// events have details that JSON tools like to rewrite: key order, escapes,
// number forms, non-ASCII text.
var events = []audit.Event{
	{Tenant: "acme", Actor: "system", Action: audit.ActionFindingAttributed, Object: "finding:1",
		Details: json.RawMessage(`{"party":"customer","area":"operating_system","basis":"matrix: operating_system × IaaS → customer"}`)},
	{Tenant: "acme", Actor: "router", Action: audit.ActionNoticeSent, Object: "finding:1",
		Details: json.RawMessage(`{ "z": 1, "a": 1.50, "e": 1e3, "html": "<b>&</b>", "u": "\u00e9t\u00e9", "zh": "云软件+服务托管" }`)},
	{Tenant: "acme", Actor: "vendor:example-mssp", Action: audit.ActionNoticeAcked, Object: "finding:1"},
	{Tenant: "", Actor: "admin", Action: audit.ActionMatrixChanged, Object: "matrix", Details: json.RawMessage(`[1,2,3]`)},
	{Tenant: "acme", Actor: "alice", Action: audit.ActionFindingResolved, Object: "finding:1", Details: json.RawMessage(`null`)},
}

func testEmpty(t *testing.T, s Store) {
	ctx := context.Background()
	last, err := s.Last(ctx)
	if err != nil || last.Seq != 0 {
		t.Fatalf("Last on an empty chain = %+v, %v; want the zero entry", last, err)
	}
	for e, err := range s.Entries(ctx, 1) {
		t.Fatalf("Entries on an empty chain yielded %+v, %v", e, err)
	}
}

func testRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	clock := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	log, err := audit.New(audit.Options{Sink: s, Key: key, Now: func() time.Time { clock = clock.Add(1500 * time.Millisecond); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	var written []audit.Entry
	for _, ev := range events {
		e, err := log.Append(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, e)
	}
	last, err := s.Last(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Last", last, written[len(written)-1])
	var read []audit.Entry
	for e, err := range s.Entries(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, e)
	}
	if len(read) != len(written) {
		t.Fatalf("Entries(1) yielded %d entries, want %d", len(read), len(written))
	}
	for i := range read {
		same(t, "Entries", read[i], written[i])
	}
	n := 0
	for e, err := range s.Entries(ctx, 3) {
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Entries(3)", e, written[2+n])
		n++
	}
	if n != 3 {
		t.Errorf("Entries(3) yielded %d entries, want 3", n)
	}
	for range s.Entries(ctx, 1) {
		break // stopping early must be fine
	}
	if _, err := audit.Verify(s.Entries(ctx, 1), key.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("the stored chain does not verify: %v", err)
	}
}

func same(t *testing.T, what string, got, want audit.Entry) {
	t.Helper()
	if got.Seq != want.Seq || !got.Time.Equal(want.Time) || got.Tenant != want.Tenant || got.Actor != want.Actor ||
		got.Action != want.Action || got.Object != want.Object || !bytes.Equal(got.Details, want.Details) ||
		got.Prev != want.Prev || got.Hash != want.Hash || !bytes.Equal(got.Sig, want.Sig) {
		t.Errorf("%s: entry %d read back as\n%+v\nwant\n%+v", what, want.Seq, got, want)
	}
	if got.ComputeHash() != want.Hash {
		t.Errorf("%s: entry %d read back no longer hashes to its hash (details %q, time %s)", what, want.Seq, got.Details, got.Time.Format(time.RFC3339Nano))
	}
}

func testConflict(t *testing.T, s Store) {
	ctx := context.Background()
	log, err := audit.New(audit.Options{Sink: s})
	if err != nil {
		t.Fatal(err)
	}
	first, err := log.Append(ctx, events[0])
	if err != nil {
		t.Fatal(err)
	}
	again := first
	again.Actor = "mallory"
	again.Hash = again.ComputeHash()
	if err := s.Append(ctx, again); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("appending a second entry 1: %v; want audit.ErrConflict", err)
	}
	last, err := s.Last(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "after a conflict", last, first)
}
