package posture

import (
	"testing"
)

func TestBuiltinPacksLoad(t *testing.T) {
	ps, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.List() {
		c := Coverage(p)
		t.Logf("%s: %d rules; automated %d, manual %d, not expressible %d, missing %d, total %d; reference automated %d/%d",
			p.ID, len(p.Rules), c.Automated, c.Manual, c.NotExpressible, c.Missing, c.Total, c.AutomatedOfReferenceAutomated, c.ReferenceAutomated)
		for _, cc := range c.Controls {
			if cc.Status == CoverageMissing {
				t.Logf("  missing %s %s", cc.Control.ID, cc.Control.Title)
			}
		}
	}
}
