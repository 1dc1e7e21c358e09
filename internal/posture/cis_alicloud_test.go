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

const aliPack = "cis-alicloud-2.0"

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

// failingControls imports an aliyun collection and returns the pack's
// controls that fail, and any error results.
func failingControls(t *testing.T, file string, now time.Time) ([]string, []string) {
	t.Helper()
	packs, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := packs.RuleSet(aliPack)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	fails := map[string]bool{}
	var errs []string
	for res, err := range Scan(ctx, rs, inventory.Builtin().Stream(ctx, "", f), ScanOptions{Now: now}) {
		if err != nil {
			t.Fatal(err)
		}
		switch res.Status {
		case StatusFail:
			for _, c := range res.Rule.Frameworks[aliPack] {
				fails[c] = true
			}
			t.Logf("fail: %s %s: %s", res.Rule.ID, res.Resource.UID, res.Message)
		case StatusError:
			errs = append(errs, res.Rule.ID+" "+res.Resource.UID+": "+res.Err.Error())
		}
	}
	out := make([]string, 0, len(fails))
	for c := range fails {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b string) int { return compareControlIDs(a, b) })
	return out, errs
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
// controls those misconfigurations break; the same inventory fixed fails
// none.
func TestAlicloudPackAcceptance(t *testing.T) {
	now := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	want := []string{
		"1.4",        // alice: console access, no MFA
		"2.1",        // the only trail is disabled
		"3.2",        // sg-web: 22 from 0.0.0.0/0
		"4.2",        // d-sys1: attached, unencrypted
		"4.3",        // sg-web again (CIS has SSH twice)
		"5.1", "5.7", // public-assets: ACL public-read
		"6.1", // pgm-app: SSL off
	}
	got, errs := failingControls(t, "packs/"+aliPack+"/testdata/inventory-misconfigured.json", now)
	if !slices.Equal(got, want) {
		t.Errorf("misconfigured inventory fails %v, want %v", got, want)
	}
	if len(errs) > 0 {
		t.Errorf("error results: %v", errs)
	}
	got, errs = failingControls(t, "packs/"+aliPack+"/testdata/inventory-clean.json", now)
	if len(got) != 0 || len(errs) > 0 {
		t.Errorf("clean inventory fails %v, errors %v", got, errs)
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
