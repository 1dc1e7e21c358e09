package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
)

// A notice to the tenant's MSSP and its acknowledgement, recorded in a
// signed chain, exported as an evidence bundle and verified offline with
// the public key alone.
func ExampleLog() {
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // a real deployment loads its key
	sink := &memSink{}                                            // a real deployment passes its store
	clock := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	log, err := audit.New(audit.Options{Sink: sink, Key: key, Now: func() time.Time { clock = clock.Add(7 * time.Minute); return clock }})
	if err != nil {
		panic(err)
	}
	for _, ev := range []audit.Event{
		{Tenant: "acme", Actor: "router", Action: audit.ActionNoticeSent, Object: "finding:8f14",
			Details: json.RawMessage(`{"notice":"n-1","party":"vendor","name":"example-mssp","severity":"high"}`)},
		{Tenant: "acme", Actor: "vendor:example-mssp", Action: audit.ActionNoticeAcked, Object: "finding:8f14",
			Details: json.RawMessage(`{"notice":"n-1"}`)},
	} {
		e, err := log.Append(ctx, ev)
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Seq, e.Action, e.Time.Format(time.Kitchen))
	}

	var bundle bytes.Buffer
	if _, err := audit.Export(&bundle, sink.Entries(ctx, 1), time.Time{}, log.PublicKey()); err != nil {
		panic(err)
	}
	head, err := audit.VerifyBundle(&bundle, log.PublicKey())
	fmt.Println(head.FirstSeq, head.LastSeq, head.Count, err)

	kpis, _ := audit.KPIs(sink.Entries(ctx, 1))
	fmt.Printf("%s %s %s: acknowledged in %v\n", kpis[0].Party, kpis[0].Name, kpis[0].Severity, kpis[0].Acknowledge.Median)
	// Output:
	// 1 notice.sent 8:07AM
	// 2 notice.acked 8:14AM
	// 1 2 2 <nil>
	// vendor example-mssp high: acknowledged in 7m0s
}
