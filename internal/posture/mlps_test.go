package posture

import (
	"slices"
	"testing"
)

// TestMLPSCoverageByProvider pins which mlps2-l3 items rules automate for
// each provider (packs/mlps2-l3/README.md states the same), and checks that
// an item automated for only some of the pack's providers keeps an
// evidence task for the others.
func TestMLPSCoverageByProvider(t *testing.T) {
	tests := []struct {
		provider string
		want     []string
	}{
		{"aws", []string{
			"L3-ABS2-01", "L3-ABS2-04", "L3-ABS2-05", "L3-ABS2-06", "L3-ABS2-07",
			"L3-CES2-01", "L3-CES2-03", "L3-CES2-05", "L3-CES2-06", "L3-CES2-09", "L3-CES2-10", "L3-CES2-13", "L3-CES2-14",
			"L3-SMC2-03", "L3-SMC2-04",
		}},
		{"alicloud", []string{
			"L3-ABS2-01", "L3-ABS2-04", "L3-ABS2-05", "L3-ABS2-06", "L3-ABS2-07",
			"L3-CES2-01", "L3-CES2-03", "L3-CES2-05", "L3-CES2-06", "L3-CES2-10", "L3-CES2-13", "L3-CES2-14",
			"L3-SMC2-03", "L3-SMC2-04",
		}},
	}
	ps, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	p := ps.Pack(mlpsPack)
	rep := Coverage(p)
	if rep.Automated != 15 || rep.Manual != 31 || rep.NotExpressible != 0 || rep.Missing != 0 {
		t.Errorf("coverage %d automated, %d manual, %d not expressible, %d missing; want 15, 31, 0, 0",
			rep.Automated, rep.Manual, rep.NotExpressible, rep.Missing)
	}
	for _, tc := range tests {
		t.Run(tc.provider, func(t *testing.T) {
			var got []string
			for _, cc := range rep.Controls {
				if slices.Contains(cc.Providers, tc.provider) {
					got = append(got, cc.Control.ID)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("automated items %v, want %v", got, tc.want)
			}
			if n := rep.AutomatedByProvider[tc.provider]; n != len(tc.want) {
				t.Errorf("AutomatedByProvider = %d, want %d", n, len(tc.want))
			}
		})
	}
	for _, cc := range rep.Controls {
		if cc.Status == CoverageAutomated && len(cc.Providers) < len(p.Providers) && cc.Evidence == nil {
			t.Errorf("%s is automated only for %v: it needs an evidence task for the other providers", cc.Control.ID, cc.Providers)
		}
	}
}
