package respond_test

import (
	"context"
	"fmt"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
)

// A low-risk finding runs its playbook on its own; a high-risk one waits
// for approval.
func ExampleEngine_Evaluate() {
	ctx := context.Background()
	mem := respondtest.NewMemory()
	clock := respondtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	acts, _ := respond.RecordActions(respond.RecordActionOptions{Records: mem})
	reg, _ := respond.NewRegistry(acts...)
	pbs, err := respond.ParsePlaybooks("tag.yaml", []byte(`
id: tag-exposed
title: Tag internet-exposed findings
trigger: '"internet_exposed" in record.labels'
approval: {threshold: 50}
steps:
  - action: record.tag
    params: {tags: [exposed, "risk-{{ .record.risk }}"]}
`), reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, _ := respond.New(respond.Options{Playbooks: pbs, Actions: reg, Runs: mem, Approvals: mem, Cases: mem,
		Audit: respondtest.NewAudit(clock.Now), Now: clock.Now})
	for _, risk := range []int{30, 70} {
		rec := respond.Record{Tenant: "acme", Kind: respond.KindFinding, ID: fmt.Sprint("f-", risk), Risk: risk, Severity: "medium",
			Labels: []string{"internet_exposed"}, Entities: []correlate.Entity{{Kind: correlate.KindIP, Value: "203.0.113.9"}}}
		ev, err := eng.Evaluate(ctx, rec)
		if err != nil {
			fmt.Println(err)
			return
		}
		d := ev.Decisions[0]
		fmt.Printf("risk %d: %s (%s)\n", risk, d.Outcome, d.Reason)
		if d.Run != nil {
			fmt.Println("  tags:", mem.Record("acme", rec.Ref()).Tags)
		}
	}
	// Output:
	// risk 30: automatic (risk 30 is below the threshold 50 and the disruption is none)
	//   tags: [exposed risk-30]
	// risk 70: approval (risk 70 is at or above the threshold 50)
}
