package report

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/canopy-sec/canopy/internal/posture"
)

// Build checks in and builds the report: every reference control of the
// pack with its status, findings and evidence, grouped by section, with
// the score and totals of the framework and of each section.
//
// It returns an *[InputError] (the first problem found) when the pack is
// missing, the coverage is another pack's, the scan time is zero, a result
// names a control the pack does not have or does not automate, lacks its
// rule or resource, or has no valid status, or an evidence entry names a
// control without an evidence task or has an unknown status.
func Build(in Input) (*Report, error) {
	if in.Pack == nil {
		return nil, &InputError{Field: "Pack", Err: errors.New("missing")}
	}
	p := in.Pack
	cov := in.Coverage
	if cov == nil {
		c := posture.Coverage(p)
		cov = &c
	} else if cov.Pack != p.ID || len(cov.Controls) != len(p.Controls) {
		return nil, &InputError{Field: "Coverage", Err: fmt.Errorf("coverage of pack %q (%d controls), not of %q (%d controls)", cov.Pack, len(cov.Controls), p.ID, len(p.Controls))}
	}
	if in.ScanTime.IsZero() {
		return nil, &InputError{Field: "ScanTime", Err: errors.New("missing")}
	}
	byID := map[string]*posture.ControlCoverage{}
	for i := range cov.Controls {
		byID[cov.Controls[i].Control.ID] = &cov.Controls[i]
	}

	results, err := groupResults(p.ID, in.Results, byID)
	if err != nil {
		return nil, err
	}
	evidence := map[string]Evidence{}
	for _, key := range sortedKeys(in.Evidence) {
		e := in.Evidence[key]
		id := strings.TrimPrefix(key, p.ID+":")
		field := fmt.Sprintf("Evidence[%q]", key)
		cc := byID[id]
		switch {
		case cc == nil:
			return nil, &InputError{Field: field, Err: fmt.Errorf("no control %q in pack %s", id, p.ID)}
		case cc.Evidence == nil:
			return nil, &InputError{Field: field, Err: fmt.Errorf("control %s has no evidence task in pack %s", id, p.ID)}
		case e.Status == "":
			e.Status = EvidenceMissing
		case !e.Status.Valid():
			return nil, &InputError{Field: field + ".Status", Err: fmt.Errorf("%q: want missing, submitted, accepted or rejected", e.Status)}
		}
		if _, dup := evidence[id]; dup {
			return nil, &InputError{Field: field, Err: fmt.Errorf("control %s given twice", id)}
		}
		if !e.SubmittedAt.IsZero() {
			e.SubmittedAt = e.SubmittedAt.UTC()
		}
		evidence[id] = e
	}

	rep := &Report{
		FormatVersion: FormatVersion,
		Pack: PackInfo{ID: p.ID, Title: p.Title, Framework: p.Framework,
			Standard: p.Framework.Name + " v" + p.Framework.Version},
		ScanTime: in.ScanTime.UTC(),
		Accounts: []string{},
		Regions:  []string{},
		Sections: []Section{},
	}
	accounts, regions := map[string]bool{}, map[string]bool{}
	for _, rs := range results {
		for _, r := range rs {
			if r.Account != "" {
				accounts[r.Account] = true
			}
			if r.Region != "" {
				regions[r.Region] = true
			}
		}
	}
	rep.Accounts = append(rep.Accounts, sortedKeys(accounts)...)
	rep.Regions = append(rep.Regions, sortedKeys(regions)...)

	sectionIndex := map[string]int{}
	sectionFailing := map[string]map[string]bool{}
	allFailing := map[string]bool{}
	for _, cc := range cov.Controls {
		c := buildControl(cc, results[cc.Control.ID], evidence)
		title, titleZH := cc.Control.Section, ""
		if cc.Control.Category != "" {
			title, titleZH = cc.Control.Category, cc.Control.CategoryZH
		}
		i, ok := sectionIndex[title]
		if !ok {
			i = len(rep.Sections)
			sectionIndex[title] = i
			rep.Sections = append(rep.Sections, Section{Title: title, TitleZH: titleZH, Controls: []Control{}})
			sectionFailing[title] = map[string]bool{}
		}
		s := &rep.Sections[i]
		s.Controls = append(s.Controls, c)
		count(&s.Totals, c)
		count(&rep.Totals, c)
		for _, r := range results[cc.Control.ID] {
			if r.Status == posture.StatusFail {
				sectionFailing[title][resourceKey(r)] = true
				allFailing[resourceKey(r)] = true
			}
		}
	}
	for i := range rep.Sections {
		s := &rep.Sections[i]
		s.Totals.FailingResources = len(sectionFailing[s.Title])
		s.Score = score(s.Totals)
	}
	rep.Totals.FailingResources = len(allFailing)
	rep.Score = score(rep.Totals)
	return rep, nil
}

// groupResults checks the results and groups them by control id, keeping
// the worst status of a repeated (control, rule, resource).
func groupResults(packID string, in []ControlResult, byID map[string]*posture.ControlCoverage) (map[string][]ControlResult, error) {
	type key struct{ control, rule, resource string }
	seen := map[key]int{}
	out := map[string][]ControlResult{}
	for i, r := range in {
		field := fmt.Sprintf("Results[%d]", i)
		r.Control = strings.TrimPrefix(r.Control, packID+":")
		cc := byID[r.Control]
		switch {
		case r.Control == "":
			return nil, &InputError{Field: field + ".Control", Err: errors.New("missing")}
		case cc == nil:
			return nil, &InputError{Field: field + ".Control", Err: fmt.Errorf("no control %q in pack %s (rule %s)", r.Control, packID, r.RuleID)}
		case cc.Status != posture.CoverageAutomated:
			return nil, &InputError{Field: field + ".Control", Err: fmt.Errorf("control %s is %s in pack %s, not automated: rule %s cannot score it", r.Control, cc.Status, packID, r.RuleID)}
		case r.RuleID == "":
			return nil, &InputError{Field: field + ".RuleID", Err: errors.New("missing")}
		case r.ResourceUID == "":
			return nil, &InputError{Field: field + ".ResourceUID", Err: errors.New("missing")}
		case r.Status != posture.StatusPass && r.Status != posture.StatusFail && r.Status != posture.StatusError:
			return nil, &InputError{Field: field + ".Status", Err: fmt.Errorf("%v: want pass, fail or error", r.Status)}
		}
		k := key{r.Control, r.RuleID, resourceKey(r)}
		if j, ok := seen[k]; ok {
			if rank(r.Status) > rank(out[r.Control][j].Status) {
				out[r.Control][j] = r
			}
			continue
		}
		seen[k] = len(out[r.Control])
		out[r.Control] = append(out[r.Control], r)
	}
	return out, nil
}

func buildControl(cc posture.ControlCoverage, results []ControlResult, evidence map[string]Evidence) Control {
	ref := cc.Control
	c := Control{
		ID:       ref.ID,
		Title:    ref.Title,
		TitleZH:  ref.TitleZH,
		Level:    ref.Level,
		Coverage: cc.Status,
		Rules:    cc.Rules,
		Reason:   cc.Reason,
	}
	if ref.Category != "" {
		c.Clause = ref.Section
	}
	if cc.Evidence != nil {
		e := evidence[ref.ID]
		if e.Status == "" {
			e.Status = EvidenceMissing
		}
		c.Evidence = &EvidenceItem{Task: cc.Evidence.Evidence, Responsible: cc.Evidence.Responsible, Evidence: e}
	}
	worst := map[string]posture.Status{}
	for _, r := range results {
		k := resourceKey(r)
		if rank(r.Status) > rank(worst[k]) {
			worst[k] = r.Status
		}
		if r.Status != posture.StatusPass {
			c.Findings = append(c.Findings, ResourceResult{RuleID: r.RuleID, ResourceUID: r.ResourceUID,
				ResourceType: r.ResourceType, ResourceName: r.ResourceName, Account: r.Account, Region: r.Region,
				Status: r.Status, Message: r.Message})
		}
	}
	for _, s := range worst {
		c.Resources.Evaluated++
		switch s {
		case posture.StatusPass:
			c.Resources.Passed++
		case posture.StatusFail:
			c.Resources.Failed++
		case posture.StatusError:
			c.Resources.Errors++
		}
	}
	slices.SortFunc(c.Findings, func(a, b ResourceResult) int {
		return cmp.Or(
			cmp.Compare(rank(b.Status), rank(a.Status)),
			cmp.Compare(a.Account, b.Account),
			cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.ResourceType, b.ResourceType),
			cmp.Compare(a.ResourceUID, b.ResourceUID),
			cmp.Compare(a.RuleID, b.RuleID))
	})
	switch cc.Status {
	case posture.CoverageAutomated:
		switch {
		case c.Resources.Failed > 0:
			c.Status = StatusFailed
		case c.Resources.Errors > 0:
			c.Status = StatusUnknown
		case c.Resources.Passed > 0:
			c.Status = StatusPassed
		default:
			c.Status = StatusNoData
		}
	case posture.CoverageManual:
		c.Status = StatusManual
	case posture.CoverageNotExpressible:
		c.Status = StatusNotExpressible
	default:
		c.Status = StatusNoData
	}
	return c
}

// count adds control c to totals t (all but FailingResources).
func count(t *Totals, c Control) {
	t.Controls++
	switch c.Status {
	case StatusPassed:
		t.Passed++
	case StatusFailed:
		t.Failed++
	case StatusUnknown:
		t.Unknown++
	case StatusNoData:
		t.NoData++
	case StatusManual:
		t.Manual++
	case StatusNotExpressible:
		t.NotExpressible++
	}
	if c.Evidence != nil {
		t.Evidence.Tasks++
		switch c.Evidence.Status {
		case EvidenceMissing:
			t.Evidence.Missing++
		case EvidenceSubmitted:
			t.Evidence.Submitted++
		case EvidenceAccepted:
			t.Evidence.Accepted++
		case EvidenceRejected:
			t.Evidence.Rejected++
		}
	}
}

// score is passed ÷ (passed + failed + unknown), Security Hub's security
// score: a control passes when all its evaluated resources pass, and
// controls without evaluation data are not counted. The percentage is
// rounded to the nearest whole number, halves up.
// https://docs.aws.amazon.com/securityhub/latest/userguide/standards-security-score.html
func score(t Totals) Score {
	s := Score{Passed: t.Passed, Evaluated: t.Passed + t.Failed + t.Unknown}
	if s.Evaluated > 0 {
		pct := (200*s.Passed + s.Evaluated) / (2 * s.Evaluated)
		s.Percent = &pct
	}
	return s
}

// rank orders statuses from best to worst: none, pass, error, fail.
func rank(s posture.Status) int {
	switch s {
	case posture.StatusPass:
		return 1
	case posture.StatusError:
		return 2
	case posture.StatusFail:
		return 3
	}
	return 0
}

func resourceKey(r ControlResult) string {
	return r.Account + "\x00" + r.ResourceType + "\x00" + r.ResourceUID
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
