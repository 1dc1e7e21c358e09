package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
)

// TestBundleKeepsDetails checks that details JSON tools like to rewrite
// survive a bundle round trip byte for byte.
func TestBundleKeepsDetails(t *testing.T) {
	sink := &memSink{}
	log, _ := audit.New(audit.Options{Sink: sink, Key: key1, Now: stepClock(t0, time.Second)})
	for _, d := range []string{`null`, `"<b>&amp;</b>"`, `{"z":1,"a":[1.50,1e3,-0],"u":"\u00e9\u2028","zh":"云软件"}`, `true`, ``} {
		if _, err := log.Append(context.Background(), audit.Event{Actor: "a", Action: "x", Details: json.RawMessage(d)}); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := audit.Export(&b, audit.All(sink.entries), time.Time{}, pub1); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyBundle(&b, pub1); err != nil {
		t.Fatal(err)
	}
}
