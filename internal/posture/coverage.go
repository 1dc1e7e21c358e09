package posture

import "slices"

// CoverageStatus says how a pack covers one reference control.
type CoverageStatus string

// The coverage statuses.
const (
	// CoverageAutomated: at least one rule checks the control.
	CoverageAutomated CoverageStatus = "automated"
	// CoverageManual: people check it; the pack says which evidence.
	CoverageManual CoverageStatus = "manual"
	// CoverageNotExpressible: inventory data cannot express it; the pack
	// says why.
	CoverageNotExpressible CoverageStatus = "not_expressible"
	// CoverageMissing: the pack says nothing about the control (a defect
	// of the pack; the built-in packs have none).
	CoverageMissing CoverageStatus = "missing"
)

// ControlCoverage is how a pack covers one reference control.
type ControlCoverage struct {
	Control ReferenceControl `json:"control"`
	Status  CoverageStatus   `json:"status"`
	// Rules are the ids of the rules that check it.
	Rules []string `json:"rules,omitempty"`
	// Providers are the providers whose resources those rules check,
	// sorted: a control of a multi-cloud pack may be automated for one
	// provider and left to evidence for another.
	Providers []string `json:"providers,omitempty"`
	// Evidence is the evidence task of a manual control (also set for an
	// automated control whose rules check only part of it).
	Evidence *ManualControl `json:"evidence,omitempty"`
	// Reason says why a control is not expressible.
	Reason string `json:"reason,omitempty"`
}

// CoverageReport is the coverage of one pack.
type CoverageReport struct {
	Pack     string            `json:"pack"`
	Controls []ControlCoverage `json:"controls"`
	// Totals per status, and the number of controls.
	Automated      int `json:"automated"`
	Manual         int `json:"manual"`
	NotExpressible int `json:"not_expressible"`
	Missing        int `json:"missing"`
	Total          int `json:"total"`
	// AutomatedByProvider counts, per provider, the controls that at least
	// one rule over that provider's resources checks.
	AutomatedByProvider map[string]int `json:"automated_by_provider,omitempty"`
	// ReferenceAutomated is the number of controls the reference marks as
	// automated (CIS assessment status); AutomatedOfReferenceAutomated is
	// how many of those the pack automates.
	ReferenceAutomated            int `json:"reference_automated"`
	AutomatedOfReferenceAutomated int `json:"automated_of_reference_automated"`
}

// Coverage reports, for each control of p's reference, whether p
// automates it (≥ 1 rule), leaves it to people with an evidence task, or
// cannot express it (with the reason), and the totals.
func Coverage(p *Pack) CoverageReport {
	rep := CoverageReport{Pack: p.ID, Total: len(p.Controls)}
	rules := map[string][]string{}
	providers := map[string][]string{}
	for _, r := range p.Rules {
		for _, c := range r.Frameworks[p.ID] {
			rules[c] = append(rules[c], r.ID)
			if !slices.Contains(providers[c], r.Provider) {
				providers[c] = append(providers[c], r.Provider)
			}
		}
	}
	for _, c := range p.Controls {
		cc := ControlCoverage{Control: c, Rules: rules[c.ID], Providers: providers[c.ID]}
		slices.Sort(cc.Providers)
		for _, pr := range cc.Providers {
			if rep.AutomatedByProvider == nil {
				rep.AutomatedByProvider = map[string]int{}
			}
			rep.AutomatedByProvider[pr]++
		}
		for i := range p.Manual {
			if string(p.Manual[i].Control) == c.ID {
				cc.Evidence = &p.Manual[i]
			}
		}
		for _, n := range p.NotExpressible {
			if string(n.Control) == c.ID {
				cc.Reason = n.Reason
			}
		}
		switch {
		case len(cc.Rules) > 0:
			cc.Status = CoverageAutomated
			rep.Automated++
		case cc.Evidence != nil:
			cc.Status = CoverageManual
			rep.Manual++
		case cc.Reason != "":
			cc.Status = CoverageNotExpressible
			rep.NotExpressible++
		default:
			cc.Status = CoverageMissing
			rep.Missing++
		}
		if c.Assessment == "automated" {
			rep.ReferenceAutomated++
			if cc.Status == CoverageAutomated {
				rep.AutomatedOfReferenceAutomated++
			}
		}
		rep.Controls = append(rep.Controls, cc)
	}
	return rep
}
