package posture

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// TestAcceptance imports test inventories (Canopy JSON Lines) through the
// importer registry, scans them with every built-in pack and checks which
// controls fail, per pack: exactly the planted misconfigurations, and none
// for the clean account. No rule may end in an error on these complete
// inventories, and every finding must be valid OCSF.
func TestAcceptance(t *testing.T) {
	tests := []struct {
		file string
		want map[string][]string // pack → failing controls
	}{
		{"testdata/acceptance/clean.jsonl", map[string][]string{}},
		{"testdata/acceptance/misconfigured.jsonl", map[string][]string{
			// root without MFA, public bucket, unencrypted volume, single-region trail, SSH open to the world
			"cis-aws-3.0": {"1.5", "2.1.4", "2.2.1", "3.1", "5.2"},
			"mlps2-l3":    {"L3-ABS2-01", "L3-ABS2-07", "L3-CES2-01", "L3-CES2-03", "L3-CES2-05", "L3-CES2-13", "L3-SMC2-03"},
		}},
	}
	ps, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ps.RuleSet("cis-aws-3.0", "mlps2-l3")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ctx := context.Background()
			failed := map[string][]string{}
			var findings []*ocsf.ComplianceFinding
			results := 0
			for res, err := range Scan(ctx, rules, inventory.Builtin().Stream(ctx, "", f), ScanOptions{Now: now}) {
				if err != nil {
					t.Fatal(err)
				}
				results++
				if res.Status == StatusError {
					t.Errorf("%s on %s: %v", res.Rule.ID, res.Resource.UID, res.Err)
				}
				if res.Status == StatusFail {
					t.Logf("fail: %s on %s: %s", res.Rule.ID, res.Resource.UID, res.Message)
					for pack, controls := range res.Rule.Frameworks {
						for _, c := range controls {
							if !slices.Contains(failed[pack], c) {
								failed[pack] = append(failed[pack], c)
							}
						}
					}
				}
				findings = append(findings, NewFindings(res, FindingOptions{})...)
			}
			if results < 50 {
				t.Errorf("only %d results", results)
			}
			for _, pack := range []string{"cis-aws-3.0", "mlps2-l3"} {
				got, want := failed[pack], tc.want[pack]
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: failing controls %s, want %s", pack, strings.Join(got, " "), strings.Join(want, " "))
				}
			}
			validateFindings(t, findings)
		})
	}
}
