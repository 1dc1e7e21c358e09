package correlate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

// decode decodes a tool output from internal/ingest/testdata with the
// built-in formats.
func decode(t testing.TB, name string) []ocsf.Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "ingest", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, r, err := ingest.Builtin().Open("", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []ocsf.Record
	if err := f.Decode(context.Background(), r, func(rec ocsf.Record) error { out = append(out, rec); return nil }); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}
