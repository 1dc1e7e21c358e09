package console

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/web"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestIncidentCharts: the kill chain, timeline and entity graph of an
// incident, in both languages, against golden files.
func TestIncidentCharts(t *testing.T) {
	b, err := os.ReadFile("testdata/incident.json")
	if err != nil {
		t.Fatal(err)
	}
	var in incident
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	cat, err := loadCatalogs(web.Messages())
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range languages {
		lg := cat[code]
		got := map[string]any{"killchain": killChain(in)}
		for name, option := range map[string]string{"timeline": chartTimeline(lg, in), "graph": chartGraph(lg, in)} {
			var v any
			if err := json.Unmarshal([]byte(option), &v); err != nil {
				t.Fatalf("%s %s: not JSON: %v", code, name, err)
			}
			got[name] = v
		}
		out, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "incident-charts."+code+".golden.json")
		if *update {
			if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(out)) {
			t.Errorf("%s: charts differ from %s (go test -run IncidentCharts -update rewrites it):\n%s", code, golden, out)
		}
	}
	// the kill chain is in ATT&CK order and counts the members of each tactic
	chain := killChain(in)
	if len(chain) != 2 || chain[0].ID != "TA0006" || chain[0].Members != 1 || chain[1].ID != "TA0007" || chain[1].Members != 1 {
		t.Errorf("kill chain %+v", chain)
	}
}
