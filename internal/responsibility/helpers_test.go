package responsibility

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// loadRecords decodes a file under testdata/: records.json holds OCSF
// records as stored; anything else is tool output for the ingest decoders.
func loadRecords(t *testing.T, name string) []ocsf.Record {
	t.Helper()
	path := filepath.Join("testdata", name)
	if name != "records.json" {
		return ingesttest.Decode(t, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]ocsf.Record, len(raws))
	for i, raw := range raws {
		if out[i], err = ocsf.Decode(raw); err != nil {
			t.Fatalf("%s: record %d: %v", path, i, err)
		}
	}
	return out
}

// findRecord returns the first record whose uid or title contains s.
func findRecord(t *testing.T, recs []ocsf.Record, s string) ocsf.Record {
	t.Helper()
	for _, r := range recs {
		if strings.Contains(r.SourceUID(), s) || strings.Contains(r.Title(), s) {
			return r
		}
	}
	t.Fatalf("no record with %q in its uid or title", s)
	return nil
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustContract(t *testing.T, name string) *Contract {
	t.Helper()
	c, err := ParseContract(name, bytes.NewReader(readFile(t, name)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustAttributor(t *testing.T, opts Options) *Attributor {
	t.Helper()
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n%s", path, got)
	}
}

func indentJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// explicitFinding returns a compliance finding about a resource of the
// given type that names its area in unmapped.responsibility_area.
func explicitFinding(area, resourceType string) ocsf.Record {
	f := &ocsf.ComplianceFinding{}
	f.SetClass(ocsf.ClassComplianceFinding, ocsf.ActivityCreate, "")
	f.SetSeverity(ocsf.SeverityMedium, "")
	f.FindingInfo = ocsf.FindingInfo{UID: "explicit-" + area, Title: "explicit " + area}
	f.Resources = []ocsf.ResourceDetails{{UID: "r-1", Type: resourceType}}
	f.AddUnmapped("responsibility_area", area)
	return f
}
