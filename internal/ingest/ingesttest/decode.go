package ingesttest

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Decode runs a tool output file through the built-in decoders (its format
// recognised from the content) and returns its records; any error fails tb.
func Decode(tb testing.TB, path string) []ocsf.Record {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	f, r, err := ingest.Builtin().Open("", bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var out []ocsf.Record
	if err := f.Decode(context.Background(), r, func(rec ocsf.Record) error { out = append(out, rec); return nil }); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}
