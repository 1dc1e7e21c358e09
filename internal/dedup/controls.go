package dedup

import (
	_ "embed"
	"encoding/json"
	"sort"
	"strings"
	"sync"
)

// controls.json maps Prowler checks to CIS controls (generated from the CIS
// reference data); securityhub-cis.json maps Security Hub controls to CIS
// AWS 3.0 controls (kept by hand).
var (
	//go:embed controls.json
	prowlerControlsJSON []byte
	//go:embed securityhub-cis.json
	securityHubControlsJSON []byte
)

// controlTables are read once and never changed.
type controlTables struct {
	benchmarks  []string                       // sorted, for a stable choice
	prowler     map[string]map[string][]string // benchmark → check → CIS ids
	securityHub map[string]string              // lower-case control → CIS AWS id
	shBenchmark string
}

var tables = sync.OnceValue(func() *controlTables {
	t := &controlTables{}
	var p struct {
		Benchmarks map[string]map[string][]string `json:"benchmarks"`
	}
	var sh struct {
		Benchmark string            `json:"benchmark"`
		Controls  map[string]string `json:"controls"`
	}
	// both files are embedded and checked by tests: an error is a build defect
	if err := json.Unmarshal(prowlerControlsJSON, &p); err != nil {
		panic("dedup: controls.json: " + err.Error())
	}
	if err := json.Unmarshal(securityHubControlsJSON, &sh); err != nil {
		panic("dedup: securityhub-cis.json: " + err.Error())
	}
	t.prowler, t.shBenchmark = p.Benchmarks, sh.Benchmark
	t.securityHub = make(map[string]string, len(sh.Controls))
	for c, id := range sh.Controls {
		t.securityHub[strings.ToLower(c)] = id
	}
	for b := range p.Benchmarks {
		t.benchmarks = append(t.benchmarks, b)
	}
	sort.Strings(t.benchmarks)
	return t
})

// CanonicalControl names a control the way every tool that checks it can
// share: "cis-aws-3.0:2.1.4" for Security Hub's S3.8 and Prowler's
// s3_bucket_level_public_access_block alike. A control no table knows is
// returned unchanged.
func CanonicalControl(control string) string {
	t := tables()
	check := strings.ToLower(control)
	if id, ok := t.securityHub[check]; ok {
		return t.shBenchmark + ":" + id
	}
	for _, b := range t.benchmarks {
		if ids := t.prowler[b][check]; len(ids) > 0 {
			return b + ":" + ids[0]
		}
	}
	return control
}
