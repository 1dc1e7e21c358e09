package posture

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"
)

func TestPerRuleTiming(t *testing.T) {
	if os.Getenv("PERRULE") == "" {
		t.Skip()
	}
	ps, _ := BuiltinPacks()
	all, _ := ps.RuleSet()
	res := syntheticInventory(t, 100_000)
	type row struct {
		id    string
		per   time.Duration
		n     int
	}
	var rows []row
	for _, r := range all.Rules() {
		one, _ := NewRuleSet(r)
		n := 0
		start := time.Now()
		for range Scan(context.Background(), one, Resources(res), ScanOptions{}) {
			n++
		}
		d := time.Since(start)
		if n > 0 {
			rows = append(rows, row{r.ID, d / time.Duration(n), n})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].per*time.Duration(rows[i].n) > rows[j].per*time.Duration(rows[j].n) })
	for _, r := range rows {
		t.Logf("%-45s %8d results %8v/result total %v", r.id, r.n, r.per, r.per*time.Duration(r.n))
	}
}
