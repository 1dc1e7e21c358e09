package ingest

import (
	"errors"
	"os"
	"testing"
)

// fuzzFormat fuzzes one decoder, seeded from its testdata: no panic, every
// error a *RecordError, and every record it emits has a source uid.
func fuzzFormat(f *testing.F, name string) {
	format, ok := Builtin().Lookup(name)
	if !ok {
		f.Fatalf("no format %q", name)
	}
	seeds := 0
	for _, path := range caseFiles(f, name) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			data = data[:64<<10]
		}
		f.Add(data)
		seeds++
	}
	if seeds == 0 {
		f.Fatalf("format %s has no seeds", name)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := decodeAll(t, format, data)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("%s: error %v is %T, want *RecordError", name, err, err)
			}
			return
		}
		for i, r := range recs {
			if r.SourceUID() == "" {
				t.Fatalf("%s: record %d has no source uid", name, i+1)
			}
		}
	})
}

// fuzzTargets names the fuzz target of every format; TestFuzzTargets keeps
// it complete.
var fuzzTargets = map[string]func(*testing.F){
	"alibaba-actiontrail": FuzzAlibabaActionTrail,
	"asff":                FuzzASFF,
	"azure-activity":      FuzzAzureActivity,
	"cloudtrail":          FuzzCloudTrail,
	"falco":               FuzzFalco,
	"gcp-audit":           FuzzGCPAudit,
	"gcp-scc":             FuzzGCPSCC,
	"grype":               FuzzGrype,
	"guardduty":           FuzzGuardDuty,
	"k8s-audit":           FuzzK8sAudit,
	"prowler":             FuzzProwler,
	"sarif":               FuzzSARIF,
	"suricata-eve":        FuzzSuricataEVE,
	"trivy":               FuzzTrivy,
	"wazuh":               FuzzWazuh,
}

func TestFuzzTargets(t *testing.T) {
	for _, name := range Builtin().Names() {
		if fuzzTargets[name] == nil {
			t.Errorf("format %s has no fuzz target: add Fuzz<Format> to fuzz_test.go", name)
		}
	}
}

func FuzzAlibabaActionTrail(f *testing.F) { fuzzFormat(f, "alibaba-actiontrail") }
func FuzzASFF(f *testing.F)               { fuzzFormat(f, "asff") }
func FuzzAzureActivity(f *testing.F)      { fuzzFormat(f, "azure-activity") }
func FuzzCloudTrail(f *testing.F)         { fuzzFormat(f, "cloudtrail") }
func FuzzFalco(f *testing.F)              { fuzzFormat(f, "falco") }
func FuzzGCPAudit(f *testing.F)           { fuzzFormat(f, "gcp-audit") }
func FuzzGCPSCC(f *testing.F)             { fuzzFormat(f, "gcp-scc") }
func FuzzGrype(f *testing.F)              { fuzzFormat(f, "grype") }
func FuzzGuardDuty(f *testing.F)          { fuzzFormat(f, "guardduty") }
func FuzzK8sAudit(f *testing.F)           { fuzzFormat(f, "k8s-audit") }
func FuzzProwler(f *testing.F)            { fuzzFormat(f, "prowler") }
func FuzzSARIF(f *testing.F)              { fuzzFormat(f, "sarif") }
func FuzzSuricataEVE(f *testing.F)        { fuzzFormat(f, "suricata-eve") }
func FuzzTrivy(f *testing.F)              { fuzzFormat(f, "trivy") }
func FuzzWazuh(f *testing.F)              { fuzzFormat(f, "wazuh") }
