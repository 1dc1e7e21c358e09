package respond

import (
	"context"
	"fmt"
)

// DryRun is what playbooks would do for a record, without doing it.
type DryRun struct {
	Record  Ref            `json:"record"`
	Results []DryRunResult `json:"results"`
}

// DryRunResult is what one playbook would do.
type DryRunResult struct {
	Playbook string `json:"playbook"`
	File     string `json:"file"`
	// Matched says whether the trigger matches the record.
	Matched bool `json:"matched"`
	// Outcome is automatic, approval or error when matched; "" otherwise.
	Outcome Outcome `json:"outcome,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	// Steps previews the automatic run (Outcome automatic or error).
	Steps *OptionPreview `json:"steps,omitempty"`
	// Options previews the options an approval would offer.
	Options []OptionPreview `json:"options,omitempty"`
	// Error is why the trigger could not be evaluated or the steps do not
	// fit the record.
	Error string `json:"error,omitempty"`
}

// Test is a dry run of one playbook file (as `canopy playbooks test`
// runs it): it loads the file against the engine's actions, evaluates
// every playbook's trigger against rec and, for those that match, says
// whether they would run on their own or ask for approval, with the steps
// or options and their impacts from the engine's World. Nothing is
// executed, stored or audited. A file that does not load is an error
// listing every problem.
func (e *Engine) Test(ctx context.Context, file string, data []byte, rec Record) (DryRun, error) {
	pbs, err := ParsePlaybooks(file, data, e.opts.Actions)
	if err != nil {
		return DryRun{}, err
	}
	return e.dryRun(ctx, pbs, rec)
}

// Preview is a dry run of the engine's own playbooks for rec; see
// [Engine.Test].
func (e *Engine) Preview(ctx context.Context, rec Record) (DryRun, error) {
	return e.dryRun(ctx, e.opts.Playbooks, rec)
}

func (e *Engine) dryRun(ctx context.Context, pbs []*Playbook, rec Record) (DryRun, error) {
	if err := checkRecord(rec); err != nil {
		return DryRun{}, err
	}
	out := DryRun{Record: rec.Ref()}
	for _, p := range pbs {
		r := DryRunResult{Playbook: p.ID, File: p.File}
		ok, err := p.Matches(rec)
		if err != nil {
			r.Outcome, r.Error = OutcomeError, err.Error()
			out.Results = append(out.Results, r)
			continue
		}
		r.Matched = ok
		if !ok {
			out.Results = append(out.Results, r)
			continue
		}
		pl, err := e.plan(ctx, p, rec)
		if err != nil {
			return DryRun{}, fmt.Errorf("respond: test %s: playbook %s: %w", rec.Ref(), p.ID, err)
		}
		r.Reason = pl.reason
		switch {
		case pl.approval:
			r.Outcome, r.Options = OutcomeApproval, pl.options
		case pl.err != nil:
			auto := pl.auto
			r.Outcome, r.Error, r.Steps = OutcomeError, pl.err.Error(), &auto
		default:
			auto := pl.auto
			r.Outcome, r.Steps = OutcomeAutomatic, &auto
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}
