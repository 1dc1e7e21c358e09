package posture

import (
	"context"
	"strings"
	"testing"
)

// TestPackCases runs the cases every pack ships and checks that every
// rule defined in the AWS and MLPS pack folders has at least one passing
// and one failing case (other packs check their own rules).
func TestPackCases(t *testing.T) {
	ps, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	results, err := ps.Test(context.Background(), PacksFS())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{}
	for _, r := range results {
		c := r.Case
		if !r.OK() {
			t.Errorf("%s line %d (%s): got %s, want %s: %s", c.Rule, c.Line, c.Name, r.Got, c.Expect, r.Message)
		}
		if seen[c.Rule] == nil {
			seen[c.Rule] = map[string]bool{}
		}
		seen[c.Rule][r.Got] = true
	}
	for _, rule := range ps.Rules() {
		if !strings.HasPrefix(rule.File, "cis-aws-3.0/") && !strings.HasPrefix(rule.File, "mlps2-l3/") {
			continue
		}
		if !seen[rule.ID]["pass"] || !seen[rule.ID]["fail"] {
			t.Errorf("rule %s (%s): needs a passing and a failing case (has %v)", rule.ID, rule.File, seen[rule.ID])
		}
	}
}

// TestCoverage checks that every reference control of the AWS and MLPS
// packs is automated, manual or not expressible, and that the CIS AWS pack
// automates at least 90 % of the controls the benchmark marks automated.
func TestCoverage(t *testing.T) {
	ps, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"cis-aws-3.0", "mlps2-l3"} {
		p := ps.Pack(id)
		if p == nil {
			t.Fatalf("no pack %s", id)
		}
		c := Coverage(p)
		if c.Missing > 0 {
			for _, cc := range c.Controls {
				if cc.Status == CoverageMissing {
					t.Errorf("%s: control %s (%s) is neither automated, manual nor not expressible", p.ID, cc.Control.ID, cc.Control.Title)
				}
			}
		}
		if c.Automated+c.Manual+c.NotExpressible+c.Missing != c.Total || c.Total != len(p.Controls) {
			t.Errorf("%s: totals do not add up: %+v", p.ID, c)
		}
		if c.ReferenceAutomated > 0 && c.AutomatedOfReferenceAutomated*10 < c.ReferenceAutomated*9 {
			t.Errorf("%s: %d of %d automated controls have rules, want 90 %%", p.ID, c.AutomatedOfReferenceAutomated, c.ReferenceAutomated)
		}
	}
	cis := ps.Pack("cis-aws-3.0")
	if cis == nil || len(cis.Controls) != 62 {
		t.Fatalf("cis-aws-3.0: want 62 controls")
	}
	m := ps.Pack("mlps2-l3")
	if m == nil || len(m.Controls) != 46 {
		t.Fatalf("mlps2-l3: want 46 items")
	}
	// MLPS items carry the standard's Chinese control name and their
	// category (reports group by it); the first item is 8.2.1.1 a).
	for _, c := range m.Controls {
		if c.TitleZH == "" || c.Category == "" || c.CategoryZH == "" {
			t.Errorf("mlps2-l3: %s: title_zh %q, category %q, category_zh %q: want all three", c.ID, c.TitleZH, c.Category, c.CategoryZH)
		}
	}
	if c := m.Controls[0]; c.Category != "8.2.1 Physical environment" || c.CategoryZH != "安全物理环境" || c.TitleZH != "基础设施位置" {
		t.Errorf("mlps2-l3: first item %+v", c)
	}
}
