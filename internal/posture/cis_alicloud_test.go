package posture

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/goccy/go-yaml"
)

const (
	aliPack  = "cis-alicloud-2.0"
	mlpsPack = "mlps2-l3"
)

// TestAlicloudPackCases runs packs/cis-alicloud-2.0/testdata/cases.yaml:
// every rule of the pack has a passing and a failing case.
func TestAlicloudPackCases(t *testing.T) {
	packs, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("packs/" + aliPack + "/testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Now      time.Time `yaml:"now"`
		Defaults struct {
			Provider, Account, Region string
		} `yaml:"defaults"`
		Cases []struct {
			Rule      string                `yaml:"rule"`
			Expect    string                `yaml:"expect"`
			Resources []*inventory.Resource `yaml:"resources"`
		} `yaml:"cases"`
	}
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{}
	for i, c := range doc.Cases {
		r := packRule(packs.Pack(aliPack), c.Rule)
		if r == nil {
			t.Errorf("case %d: rule %q is not in the pack", i+1, c.Rule)
			continue
		}
		if seen[c.Rule] == nil {
			seen[c.Rule] = map[string]bool{}
		}
		seen[c.Rule][c.Expect] = true
		rs, err := NewRuleSet(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range c.Resources {
			if res.Provider == "" {
				res.Provider = doc.Defaults.Provider
			}
			if res.Account == "" {
				res.Account = doc.Defaults.Account
			}
			if res.Region == "" && !strings.HasPrefix(res.Type, "ALIYUN::RAM::") && res.Type != inventory.AccountType("alicloud") {
				res.Region = doc.Defaults.Region
			}
			res.Attributes = inventory.NormalizeAttributes(res.Attributes)
		}
		checked := c.Resources[0].UID
		if r.Scope == ScopeAccount {
			checked = inventory.AccountUID("alicloud", doc.Defaults.Account)
		}
		got := "skip"
		var msg string
		for res, err := range Scan(context.Background(), rs, Resources(c.Resources), ScanOptions{Now: doc.Now}) {
			if err != nil {
				t.Fatal(err)
			}
			if res.Resource.UID == checked {
				got, msg = res.Status.String(), res.Message
				if res.Err != nil {
					msg = res.Err.Error()
				}
			}
		}
		if got != c.Expect {
			t.Errorf("case %d (%s): got %s (%s), want %s", i+1, c.Rule, got, msg, c.Expect)
		}
	}
	for _, r := range packs.Pack(aliPack).Rules {
		if !seen[r.ID]["pass"] || !seen[r.ID]["fail"] {
			t.Errorf("rule %s: needs a passing and a failing case in cases.yaml", r.ID)
		}
	}
}

// failingControls imports an aliyun collection, scans it with the CIS
// Alibaba Cloud and MLPS packs, and returns each pack's failing controls
// (sorted), any error results, and the ids of the rules that gave a result.
func failingControls(t *testing.T, file string, now time.Time) (fails map[string][]string, errs []string, evaluated map[string]bool) {
	t.Helper()
	packs, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := packs.RuleSet(aliPack, mlpsPack)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	failed := map[string]map[string]bool{}
	evaluated = map[string]bool{}
	for res, err := range Scan(ctx, rs, inventory.Builtin().Stream(ctx, "", f), ScanOptions{Now: now}) {
		if err != nil {
			t.Fatal(err)
		}
		evaluated[res.Rule.ID] = true
		switch res.Status {
		case StatusFail:
			for pack, controls := range res.Rule.Frameworks {
				if failed[pack] == nil {
					failed[pack] = map[string]bool{}
				}
				for _, c := range controls {
					failed[pack][c] = true
				}
			}
			t.Logf("fail: %s %s: %s", res.Rule.ID, res.Resource.UID, res.Message)
		case StatusError:
			errs = append(errs, res.Rule.ID+" "+res.Resource.UID+": "+res.Err.Error())
		}
	}
	fails = map[string][]string{}
	for pack, set := range failed {
		for c := range set {
			fails[pack] = append(fails[pack], c)
		}
		slices.SortFunc(fails[pack], compareControlIDs)
	}
	return fails, errs, evaluated
}

func compareControlIDs(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) - len(pb[i])
		}
		if c := strings.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return len(pa) - len(pb)
}

// TestAlicloudPackAcceptance: an inventory with known misconfigurations
// (public bucket, console user without MFA, SSH open to the internet,
// unencrypted disk, ActionTrail off, RDS without SSL) fails exactly the
// CIS controls and MLPS items those misconfigurations break; the same
// inventory fixed fails none. Both inventories hold the facts of every
// Alibaba Cloud rule that names mlps2-l3, so each of them gives a result.
func TestAlicloudPackAcceptance(t *testing.T) {
	now := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	packs, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want map[string][]string // pack → failing controls
	}{
		{"inventory-clean.json", map[string][]string{}},
		{"inventory-misconfigured.json", map[string][]string{
			aliPack: {
				"1.4",        // alice: console access, no MFA
				"2.1",        // the only trail is disabled
				"3.2",        // sg-web: 22 from 0.0.0.0/0
				"4.2",        // d-sys1: attached, unencrypted
				"4.3",        // sg-web again (CIS has SSH twice)
				"5.1", "5.7", // public-assets: ACL public-read
				"6.1", // pgm-app: SSL off
			},
			mlpsPack: {
				"L3-ABS2-01", // sg-web (SSH from the internet), public-assets (not network-restricted)
				"L3-ABS2-07", // no trail logs privileged operations
				"L3-CES2-01", // alice: console without MFA
				"L3-CES2-03", // sg-web
				"L3-CES2-05", // no trail records VM creation
				"L3-CES2-13", // d-sys1 unencrypted
				"L3-SMC2-03", // no trail collects audit data
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, errs, evaluated := failingControls(t, "packs/"+aliPack+"/testdata/"+tc.file, now)
			for _, pack := range []string{aliPack, mlpsPack} {
				if !slices.Equal(got[pack], tc.want[pack]) {
					t.Errorf("%s: failing controls %v, want %v", pack, got[pack], tc.want[pack])
				}
			}
			if len(errs) > 0 {
				t.Errorf("error results: %v", errs)
			}
			for _, r := range packs.Pack(mlpsPack).Rules {
				if r.Provider == "alicloud" && !evaluated[r.ID] {
					t.Errorf("rule %s (%s) gave no result: the inventory lacks its facts", r.ID, r.File)
				}
			}
		})
	}
}

// TestAlicloudPackCoverage pins the pack's coverage of the benchmark.
func TestAlicloudPackCoverage(t *testing.T) {
	packs, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	rep := Coverage(packs.Pack(aliPack))
	if rep.Missing != 0 || rep.Total != 85 {
		t.Errorf("coverage %+v: every one of the 85 controls needs rules, an evidence task or a reason", rep)
	}
	if rep.ReferenceAutomated != 41 || rep.AutomatedOfReferenceAutomated < 37 {
		t.Errorf("automated %d of %d benchmark-automated controls, want ≥ 90%%", rep.AutomatedOfReferenceAutomated, rep.ReferenceAutomated)
	}
}

func packRule(p *Pack, id string) *Rule {
	for _, r := range p.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}
