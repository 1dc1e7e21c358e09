package correlate

import (
	"slices"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestTacticData: the embedded data parses; every mapped tactic exists; every
// cited technique exists in technique-to-tactics.json and lists that tactic;
// every tactic technique-to-tactics.json names is in the kill chain.
func TestTacticData(t *testing.T) {
	tt, err := parseTactics(tacticsYAML, techniqueJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(tt.tactics) != 14 {
		t.Errorf("%d tactics, want the 14 of ATT&CK Enterprise", len(tt.tactics))
	}
	var d tacticData
	if err := yaml.UnmarshalWithOptions(tacticsYAML, &d, yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	sections := map[string][]mappingRule{
		"api_operations": d.APIOperations, "api_prefixes": d.APIPrefixes, "guardduty_types": d.GuardDutyTypes,
		"guardduty_prefixes": d.GuardDutyPrefixes, "suricata_categories": d.SuricataCategories,
	}
	for name, rules := range sections {
		for i, r := range rules {
			tc, ok := tt.byKey[r.Tactic]
			if !ok {
				t.Errorf("%s[%d]: unknown tactic %q", name, i, r.Tactic)
			}
			if r.Technique == "" {
				if name != "guardduty_prefixes" {
					t.Errorf("%s[%d] %v: no technique cited", name, i, r.Match)
				}
				continue
			}
			if _, ok := tt.techniques[r.Technique]; !ok {
				t.Errorf("%s[%d]: unknown technique %s", name, i, r.Technique)
			}
			if !slices.Contains(tt.techniqueTactics(r.Technique), tc) {
				t.Errorf("%s[%d] %v: ATT&CK does not list %s under %s", name, i, r.Match, r.Technique, r.Tactic)
			}
		}
	}
	for tech, names := range tt.techniques {
		for _, n := range names {
			if _, ok := tt.byKey[n]; !ok {
				t.Errorf("%s: tactic %q not in the kill chain", tech, n)
			}
		}
	}
	for _, bad := range []string{"tactics: [{id: TA0001}]", "tactics: []\nextra: 1", "tactics: []\napi_operations: [{match: [X], tactic: nope}]"} {
		if _, err := parseTactics([]byte(bad), techniqueJSON); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
