package respond

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"
)

// Options configures an [Engine].
type Options struct {
	// Playbooks are the playbooks the engine evaluates, in order. They
	// must have been loaded against Actions.
	Playbooks []*Playbook
	// Actions holds the actions steps name. Required.
	Actions *Registry
	// Runs, Approvals and Cases persist the engine's state. Required.
	Runs      RunStore
	Approvals ApprovalStore
	Cases     CaseStore
	// Audit records every decision, approval, step, rollback and case
	// change. Required.
	Audit Auditor
	// World backs impact previews. Default [NoWorld].
	World World
	// SLA gives case deadlines. Default [DefaultSLAPolicy].
	SLA *SLAPolicy
	// Threshold is the risk from which playbooks that set none ask for
	// approval. Default [DefaultThreshold]; playbooks that want 0 ("always
	// ask") say so themselves.
	Threshold int
	// StaleAfter is how long a run may stay "running" without a change
	// before Resume treats it as stopped (its process died). Default 10m.
	StaleAfter time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// NewID returns a new random ID (prefixed by the engine with "run-",
	// "apr-", "case-"). Default: 16 random hex digits.
	NewID func() string
	// Logger receives lifecycle events. Nil discards.
	Logger *slog.Logger
}

// Engine decides and carries out responses: it matches records against
// playbooks, runs low-risk responses on its own, asks for approval of
// high-risk ones with an impact preview, executes approved options, resumes
// and rolls back runs, and keeps cases.
//
// An Engine is safe for concurrent use. It keeps no state of its own:
// everything is in the stores, whose Update methods serialize changes to
// one object (an approval is executed once even if approved twice at the
// same time).
type Engine struct {
	opts Options
}

// New checks opts, applies the defaults and returns an Engine.
func New(opts Options) (*Engine, error) {
	var missing []string
	if opts.Actions == nil {
		missing = append(missing, "Actions")
	}
	if opts.Runs == nil {
		missing = append(missing, "Runs")
	}
	if opts.Approvals == nil {
		missing = append(missing, "Approvals")
	}
	if opts.Cases == nil {
		missing = append(missing, "Cases")
	}
	if opts.Audit == nil {
		missing = append(missing, "Audit")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("respond: engine: %s required", strings.Join(missing, ", "))
	}
	for _, p := range opts.Playbooks {
		if p == nil || p.trigger == nil {
			return nil, errors.New("respond: engine: playbooks must be loaded with ParsePlaybooks, LoadDir or Builtin")
		}
		for _, steps := range p.stepLists() {
			for _, s := range steps {
				if _, ok := opts.Actions.Lookup(s.Action); !ok {
					return nil, fmt.Errorf("respond: engine: playbook %s: step %s: action %q is not in Actions", p.ID, s.ID, s.Action)
				}
			}
		}
	}
	if opts.World == nil {
		opts.World = NoWorld{}
	}
	if opts.SLA == nil {
		p := DefaultSLAPolicy()
		opts.SLA = &p
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = randomID
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{opts: opts}, nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (p *Playbook) stepLists() [][]Step {
	out := [][]Step{p.Steps}
	for _, o := range p.Options {
		out = append(out, o.Steps)
	}
	return out
}

// Playbooks returns the engine's playbooks.
func (e *Engine) Playbooks() []*Playbook { return slices.Clone(e.opts.Playbooks) }

func (e *Engine) now() time.Time { return e.opts.Now().UTC() }

// Now returns the engine's clock reading, in UTC.
func (e *Engine) Now() time.Time { return e.now() }

// Outcome is what the engine decided for one playbook.
type Outcome string

// The outcomes.
const (
	OutcomeAutomatic Outcome = "automatic" // the steps ran on their own
	OutcomeApproval  Outcome = "approval"  // an approval was requested
	OutcomeSkipped   Outcome = "skipped"   // the record already has a run or approval from the playbook
	OutcomeError     Outcome = "error"     // the playbook could not be applied (its steps do not fit the record)
)

// Decision is the engine's answer for one matching playbook.
type Decision struct {
	Playbook string  `json:"playbook"`
	Outcome  Outcome `json:"outcome"`
	// Reason says why.
	Reason string `json:"reason"`
	// Run is the automatic run (Outcome automatic); its State says
	// whether it completed.
	Run *Run `json:"run,omitempty"`
	// Approval is the approval requested (Outcome approval).
	Approval *Approval `json:"approval,omitempty"`
	// Error is the failure of the run's step or of the playbook, if any.
	Error string `json:"error,omitempty"`
}

// Evaluation is the engine's answer for one record.
type Evaluation struct {
	Record    Ref        `json:"record"`
	Decisions []Decision `json:"decisions"`
	// Case is the case opened or linked for the record, if any.
	Case *Case `json:"case,omitempty"`
}

// Evaluate matches rec against the playbooks and acts on each one that
// matches: a playbook whose approval rule allows it runs its steps at once
// (each step's outcome recorded; a failing step stops the run and leaves it
// resumable); otherwise an [Approval] is requested with the options and
// their impacts, and a case is opened (for incidents, or when the playbook
// says so). A playbook that already has a run or an approval for the record
// is skipped: a playbook responds to a record once.
//
// A failed step is reported in its Decision, not as an error; the error is
// for what stopped the evaluation (a store, the audit log, a trigger that
// could not be evaluated), joined across playbooks.
func (e *Engine) Evaluate(ctx context.Context, rec Record) (Evaluation, error) {
	if err := checkRecord(rec); err != nil {
		return Evaluation{}, err
	}
	ev := Evaluation{Record: rec.Ref()}
	matched, err := Matching(ctx, e.opts.Playbooks, rec)
	errs := []error{}
	if err != nil {
		errs = append(errs, fmt.Errorf("respond: %s: %w", rec.Ref(), err))
	}
	for _, p := range matched {
		d, c, err := e.decide(ctx, p, rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("respond: %s: playbook %s: %w", rec.Ref(), p.ID, err))
		}
		if d.Outcome != "" {
			ev.Decisions = append(ev.Decisions, d)
		}
		if c != nil {
			ev.Case = c
		}
	}
	return ev, errors.Join(errs...)
}

func checkRecord(rec Record) error {
	switch {
	case rec.Tenant == "":
		return errors.New("respond: record: tenant missing")
	case !rec.Kind.valid():
		return fmt.Errorf("respond: record: kind %q: want incident, issue or finding", rec.Kind)
	case rec.ID == "":
		return errors.New("respond: record: id missing")
	}
	return nil
}

// decide acts on one matching playbook.
func (e *Engine) decide(ctx context.Context, p *Playbook, rec Record) (Decision, *Case, error) {
	d := Decision{Playbook: p.ID}
	prev, err := e.previous(ctx, p, rec)
	if err != nil {
		return Decision{}, nil, err
	}
	if prev != "" {
		d.Outcome, d.Reason = OutcomeSkipped, "already handled by "+prev
		return d, nil, e.audit(ctx, rec.Tenant, ActorSystem, ActionDecided, rec.Ref().String(), decidedDetails(rec, d))
	}
	plan, err := e.plan(ctx, p, rec)
	if err != nil {
		return Decision{}, nil, err
	}
	if !plan.approval {
		if plan.err != nil {
			d.Outcome, d.Reason, d.Error = OutcomeError, plan.reason, plan.err.Error()
			return d, nil, e.audit(ctx, rec.Tenant, ActorSystem, ActionDecided, rec.Ref().String(), decidedDetails(rec, d))
		}
		run := e.newRun(rec, p.ID, "", "", ModeAutomatic, ActorSystem, plan.auto.Steps)
		var c *Case
		if p.OpenCase == "always" {
			cs, err := e.caseFor(ctx, rec, ActorSystem)
			if err != nil {
				return Decision{}, nil, err
			}
			c, run.Case = &cs, cs.ID
		}
		d.Outcome, d.Reason = OutcomeAutomatic, plan.reason
		dd := decidedDetails(rec, d)
		dd["run"] = run.ID
		if err := e.audit(ctx, rec.Tenant, ActorSystem, ActionDecided, rec.Ref().String(), dd); err != nil {
			return Decision{}, nil, err
		}
		if err := e.opts.Runs.CreateRun(ctx, run); err != nil {
			return Decision{}, nil, fmt.Errorf("create run: %w", err)
		}
		if c != nil {
			cs, err := e.linkCase(ctx, rec.Tenant, c.ID, ActorSystem, "run", run.ID)
			if err != nil {
				return Decision{}, nil, err
			}
			c = &cs
		}
		run, err := e.execute(ctx, run, true)
		d.Run = &run
		var se *StepError
		if errors.As(err, &se) {
			d.Error = se.Error()
			err = nil
		}
		return d, c, err
	}
	a := Approval{ID: "apr-" + e.opts.NewID(), Tenant: rec.Tenant, Record: rec, Playbook: p.ID, Reason: plan.reason,
		Options: plan.options, State: ApprovalPending, Created: e.now()}
	var c *Case
	if p.OpenCase != "never" && (rec.Kind == KindIncident || p.OpenCase == "always") {
		cs, err := e.caseFor(ctx, rec, ActorSystem)
		if err != nil {
			return Decision{}, nil, err
		}
		c, a.Case = &cs, cs.ID
	}
	d.Outcome, d.Reason = OutcomeApproval, plan.reason
	dd := decidedDetails(rec, d)
	dd["approval"] = a.ID
	if err := e.audit(ctx, rec.Tenant, ActorSystem, ActionDecided, rec.Ref().String(), dd); err != nil {
		return Decision{}, nil, err
	}
	if err := e.opts.Approvals.CreateApproval(ctx, a); err != nil {
		return Decision{}, nil, fmt.Errorf("create approval: %w", err)
	}
	var ids []string
	var approvers []string
	for _, o := range a.Options {
		ids = append(ids, o.ID)
		for _, ap := range o.Summary.Approvers {
			if !slices.Contains(approvers, ap.String()) {
				approvers = append(approvers, ap.String())
			}
		}
	}
	if err := e.audit(ctx, rec.Tenant, ActorSystem, ActionApprovalRequested, "approval:"+a.ID, map[string]any{
		"record": rec.Ref().String(), "playbook": p.ID, "reason": a.Reason, "options": ids, "approvers": approvers, "case": a.Case}); err != nil {
		return Decision{}, nil, err
	}
	if c != nil {
		cs, err := e.linkCase(ctx, rec.Tenant, c.ID, ActorSystem, "approval", a.ID)
		if err != nil {
			return Decision{}, nil, err
		}
		c = &cs
	}
	d.Approval = &a
	e.opts.Logger.Info("approval requested", "tenant", rec.Tenant, "record", rec.Ref().String(), "playbook", p.ID, "approval", a.ID)
	return d, c, nil
}

func decidedDetails(rec Record, d Decision) map[string]any {
	m := map[string]any{"record": rec.Ref().String(), "playbook": d.Playbook, "decision": string(d.Outcome), "reason": d.Reason, "risk": rec.Risk}
	if d.Error != "" {
		m["error"] = d.Error
	}
	return m
}

// previous names an approval or run the playbook already has for rec.
func (e *Engine) previous(ctx context.Context, p *Playbook, rec Record) (string, error) {
	as, err := e.opts.Approvals.ListApprovals(ctx, ApprovalFilter{Tenant: rec.Tenant, Record: rec.Ref(), Playbook: p.ID})
	if err != nil {
		return "", fmt.Errorf("list approvals: %w", err)
	}
	if len(as) > 0 {
		return fmt.Sprintf("approval %s (%s)", as[0].ID, as[0].State), nil
	}
	rs, err := e.opts.Runs.ListRuns(ctx, RunFilter{Tenant: rec.Tenant, Record: rec.Ref(), Playbook: p.ID})
	if err != nil {
		return "", fmt.Errorf("list runs: %w", err)
	}
	if len(rs) > 0 {
		return fmt.Sprintf("run %s (%s)", rs[0].ID, rs[0].State), nil
	}
	return "", nil
}

// plan is what the engine would do with a playbook for a record.
type plan struct {
	approval bool
	reason   string
	// auto is the automatic run's steps and impacts (when !approval).
	auto OptionPreview
	// options are the options offered for approval (when approval).
	options []OptionPreview
	// err is why the automatic steps cannot be applied (when !approval).
	err error
}

// plan decides between running automatically and asking for approval, and
// previews the steps or options.
func (e *Engine) plan(ctx context.Context, p *Playbook, rec Record) (plan, error) {
	threshold := p.threshold(e.opts.Threshold)
	var pl plan
	switch {
	case p.Approval.Always:
		pl.approval, pl.reason = true, "the playbook always asks for approval"
	case rec.Risk >= threshold:
		pl.approval, pl.reason = true, fmt.Sprintf("risk %d is at or above the threshold %d", rec.Risk, threshold)
	case len(p.Steps) == 0:
		pl.approval, pl.reason = true, fmt.Sprintf("risk %d is below the threshold %d, but the playbook has only options", rec.Risk, threshold)
	default:
		auto, err := e.preview(ctx, rec, Option{ID: "steps", Title: p.Title, Steps: p.Steps})
		if err != nil {
			return plan{}, err
		}
		if bad := auto.Error(); bad != nil {
			pl.auto = auto
			pl.reason, pl.err = fmt.Sprintf("risk %d is below the threshold %d, but the steps do not fit the record", rec.Risk, threshold), bad
			return pl, nil
		}
		if max := p.maxAuto(); auto.Summary.Disruption.Rank() > max.Rank() {
			pl.approval = true
			pl.reason = fmt.Sprintf("risk %d is below the threshold %d, but the steps' disruption (%s) is above %s", rec.Risk, threshold, auto.Summary.Disruption, max)
		} else {
			pl.auto = auto
			pl.reason = fmt.Sprintf("risk %d is below the threshold %d and the disruption is %s", rec.Risk, threshold, auto.Summary.Disruption)
			return pl, nil
		}
	}
	opts := p.Options
	if len(opts) == 0 {
		opts = []Option{{ID: "steps", Title: p.Title, Description: p.Description, Steps: p.Steps}}
	}
	for _, o := range opts {
		pv, err := e.preview(ctx, rec, o)
		if err != nil {
			return plan{}, err
		}
		pl.options = append(pl.options, pv)
	}
	return pl, nil
}

// Error returns the first step problem of the preview (parameters that do
// not fit the record), or nil.
func (o OptionPreview) Error() error {
	for _, s := range o.Steps {
		if s.Error != "" {
			return &StepError{Step: s.ID, Action: s.Action, Err: errors.New(s.Error)}
		}
	}
	return nil
}

// preview renders an option's steps for rec and computes their impacts.
// A step whose parameters do not fit is kept with its Error set.
func (e *Engine) preview(ctx context.Context, rec Record, o Option) (OptionPreview, error) {
	pv := OptionPreview{ID: o.ID, Title: o.Title, Description: o.Description}
	sum := ImpactSummary{Disruption: DisruptionNone, Reversible: true}
	seen := map[string]bool{}
	for i := range o.Steps {
		s := &o.Steps[i]
		a, ok := e.opts.Actions.Lookup(s.Action)
		if !ok {
			return OptionPreview{}, fmt.Errorf("step %s: action %q is not registered", s.ID, s.Action)
		}
		sr := StepRun{ID: s.ID, Title: s.Title, Action: s.Action, State: StepPending}
		raw, typed, err := s.render(rec, a)
		if err != nil {
			sr.Error = err.Error()
			pv.Steps = append(pv.Steps, sr)
			continue
		}
		sr.Params = raw
		pv.Steps = append(pv.Steps, sr)
		imp, err := a.Impact(ctx, rec, typed, e.opts.World)
		if err != nil {
			return OptionPreview{}, fmt.Errorf("step %s (%s): impact: %w", s.ID, s.Action, err)
		}
		imp.Action, imp.Step = s.Action, s.ID
		if imp.Approver.Party == "" {
			imp.Approver = Approver{Party: rec.Party, Name: rec.PartyName}
			if imp.Approver.Party == "" {
				imp.Approver.Party = "customer"
			}
		}
		if !imp.Disruption.Valid() {
			imp.Disruption = DisruptionHigh
			imp.Notes = append(imp.Notes, "the action gave no valid disruption class: counted as high")
		}
		pv.Impacts = append(pv.Impacts, imp)
		if imp.Disruption.Rank() > sum.Disruption.Rank() {
			sum.Disruption = imp.Disruption
		}
		sum.Reversible = sum.Reversible && imp.Reversible
		for _, as := range [][]Asset{imp.Targets, imp.Affected} {
			for _, x := range as {
				if !seen[x.UID] {
					seen[x.UID] = true
					sum.Affected = append(sum.Affected, x)
				}
			}
		}
		if !slices.Contains(sum.Approvers, imp.Approver) {
			sum.Approvers = append(sum.Approvers, imp.Approver)
		}
	}
	sort.Slice(sum.Affected, func(i, j int) bool { return sum.Affected[i].UID < sum.Affected[j].UID })
	sum.Services = services(sum.Affected)
	pv.Summary = sum
	return pv, nil
}

func (e *Engine) newRun(rec Record, playbook, option, approval string, mode Mode, actor string, steps []StepRun) Run {
	now := e.now()
	r := Run{ID: "run-" + e.opts.NewID(), Tenant: rec.Tenant, Record: rec.Ref(), Playbook: playbook, Option: option,
		Approval: approval, Mode: mode, Actor: actor, State: RunRunning, Created: now, Updated: now}
	for _, s := range steps {
		s.State, s.Result, s.Error, s.Attempts = StepPending, nil, "", 0
		r.Steps = append(r.Steps, s)
	}
	return r
}

// StepError is the failure of one step of a run.
type StepError struct {
	Run    string // the run's id ("" in previews)
	Step   string // the step's id
	Action string // the action's name
	Err    error
}

func (e *StepError) Error() string {
	s := "step " + e.Step + " (" + e.Action + "): " + e.Err.Error()
	if e.Run != "" {
		s = "run " + e.Run + ": " + s
	}
	return s
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

func stepIDs(steps []StepRun, states ...StepState) []string {
	ids := []string{}
	for _, s := range steps {
		if len(states) == 0 || slices.Contains(states, s.State) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// execute runs the run's steps from the first one not done. It records
// each step before and after calling the action, so that the stored run
// never shows a step as done that is not. A failed step stops the run
// (state failed) and is returned as a *StepError.
func (e *Engine) execute(ctx context.Context, run Run, start bool) (Run, error) {
	if start {
		if err := e.audit(ctx, run.Tenant, run.Actor, ActionRunStarted, "run:"+run.ID, map[string]any{
			"record": run.Record.String(), "playbook": run.Playbook, "mode": string(run.Mode), "option": run.Option,
			"approval": run.Approval, "steps": stepIDs(run.Steps)}); err != nil {
			return run, err
		}
	}
	for i := range run.Steps {
		if run.Steps[i].State == StepDone {
			continue
		}
		if err := ctx.Err(); err != nil {
			return run, err
		}
		step := run.Steps[i]
		a, ok := e.opts.Actions.Lookup(step.Action)
		if !ok {
			return e.failStep(ctx, run, i, nil, fmt.Errorf("action %q is not registered", step.Action))
		}
		typed, err := a.Params().Check(step.Params)
		if err != nil {
			return e.failStep(ctx, run, i, nil, err)
		}
		now := e.now()
		run, err = e.opts.Runs.UpdateRun(ctx, run.Tenant, run.ID, func(r *Run) error {
			s := &r.Steps[i]
			s.State, s.Attempts, s.Started, s.Ended, s.Error = StepRunning, s.Attempts+1, now, time.Time{}, ""
			r.State, r.Updated = RunRunning, now
			return nil
		})
		if err != nil {
			return run, fmt.Errorf("run %s: step %s: %w", run.ID, step.ID, err)
		}
		call := Call{Tenant: run.Tenant, Record: run.Record, Run: run.ID, Step: step.ID, Key: run.ID + "/" + step.ID,
			Actor: run.Actor, Params: typed, Now: now}
		res, err := a.Do(ctx, call)
		if err != nil {
			var pe *PartialError
			var partial *Result
			if errors.As(err, &pe) {
				r := pe.Result
				r.Action = step.Action
				partial = &r
			}
			return e.failStep(ctx, run, i, partial, err)
		}
		res.Action = step.Action
		end := e.now()
		run, err = e.opts.Runs.UpdateRun(ctx, run.Tenant, run.ID, func(r *Run) error {
			s := &r.Steps[i]
			s.State, s.Result, s.Ended, s.Error = StepDone, &res, end, ""
			r.Updated = end
			return nil
		})
		if err != nil {
			return run, fmt.Errorf("run %s: step %s: done, but not recorded: %w", run.ID, step.ID, err)
		}
		if err := e.audit(ctx, run.Tenant, run.Actor, ActionStepDone, "run:"+run.ID, map[string]any{
			"record": run.Record.String(), "step": step.ID, "action": step.Action, "summary": res.Summary,
			"changed": res.Changed, "reversible": res.Reversible()}); err != nil {
			return run, err
		}
	}
	end := e.now()
	run, err := e.opts.Runs.UpdateRun(ctx, run.Tenant, run.ID, func(r *Run) error {
		r.State, r.Updated = RunCompleted, end
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("run %s: %w", run.ID, err)
	}
	if err := e.audit(ctx, run.Tenant, run.Actor, ActionRunCompleted, "run:"+run.ID, map[string]any{
		"record": run.Record.String(), "mode": string(run.Mode)}); err != nil {
		return run, err
	}
	if err := e.settleApproval(ctx, run); err != nil {
		return run, err
	}
	e.opts.Logger.Info("run completed", "tenant", run.Tenant, "run", run.ID, "playbook", run.Playbook)
	return run, nil
}

// failStep records step i of run as failed (with its partial result, if
// any) and the run as failed.
func (e *Engine) failStep(ctx context.Context, run Run, i int, partial *Result, cause error) (Run, error) {
	step := run.Steps[i]
	end := e.now()
	run, err := e.opts.Runs.UpdateRun(ctx, run.Tenant, run.ID, func(r *Run) error {
		s := &r.Steps[i]
		s.State, s.Error, s.Ended = StepFailed, cause.Error(), end
		if partial != nil {
			s.Result = partial
		}
		r.State, r.Updated = RunFailed, end
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("run %s: step %s failed (%v), and the failure was not recorded: %w", run.ID, step.ID, cause, err)
	}
	d := map[string]any{"record": run.Record.String(), "step": step.ID, "action": step.Action, "error": cause.Error()}
	if partial != nil {
		d["partial"] = partial.Summary
	}
	if err := e.audit(ctx, run.Tenant, run.Actor, ActionStepFailed, "run:"+run.ID, d); err != nil {
		return run, err
	}
	if err := e.audit(ctx, run.Tenant, run.Actor, ActionRunFailed, "run:"+run.ID, map[string]any{
		"record": run.Record.String(), "step": step.ID, "done": stepIDs(run.Steps, StepDone), "pending": stepIDs(run.Steps, StepPending)}); err != nil {
		return run, err
	}
	if err := e.settleApproval(ctx, run); err != nil {
		return run, err
	}
	e.opts.Logger.Warn("run failed", "tenant", run.Tenant, "run", run.ID, "step", step.ID, "error", cause)
	return run, &StepError{Run: run.ID, Step: step.ID, Action: step.Action, Err: cause}
}

// settleApproval moves the approval a run executes to executed or failed.
func (e *Engine) settleApproval(ctx context.Context, run Run) error {
	if run.Approval == "" {
		return nil
	}
	state := ApprovalExecuted
	if run.State == RunFailed {
		state = ApprovalFailed
	}
	_, err := e.opts.Approvals.UpdateApproval(ctx, run.Tenant, run.Approval, func(a *Approval) error {
		a.State = state
		return nil
	})
	if err != nil {
		return fmt.Errorf("approval %s: %w", run.Approval, err)
	}
	return nil
}

// Approve approves option of approval id and executes its steps, exactly
// as previewed (the parameters rendered when the approval was requested).
// Only a pending approval can be approved; an option whose steps did not
// fit the record cannot. It returns the run; a failed step is returned as
// a *StepError with the run (resumable).
func (e *Engine) Approve(ctx context.Context, tenant, id, option, by, note string) (Run, error) {
	if by == "" {
		return Run{}, errors.New("respond: approve: approver missing")
	}
	var opt OptionPreview
	now := e.now()
	a, err := e.opts.Approvals.UpdateApproval(ctx, tenant, id, func(a *Approval) error {
		if a.State != ApprovalPending {
			return fmt.Errorf("%w: approval %s is %s", ErrState, a.ID, a.State)
		}
		i := slices.IndexFunc(a.Options, func(o OptionPreview) bool { return o.ID == option })
		if i < 0 {
			return fmt.Errorf("%w %q (approval %s offers %s)", ErrUnknownOption, option, a.ID, strings.Join(optionIDs(a.Options), ", "))
		}
		opt = a.Options[i]
		if err := opt.Error(); err != nil {
			return fmt.Errorf("%w: option %s cannot be applied: %v", ErrState, option, err)
		}
		a.State, a.Option, a.DecidedBy, a.Note, a.Decided = ApprovalApproved, option, by, note, now
		return nil
	})
	if err != nil {
		return Run{}, fmt.Errorf("respond: approve %s: %w", id, err)
	}
	// revert puts the approval back to pending when nothing was started
	// (the audit record or the run could not be written), so that it can
	// be decided again.
	revert := func(cause error) error {
		_, err := e.opts.Approvals.UpdateApproval(ctx, tenant, id, func(x *Approval) error {
			if x.State == ApprovalApproved && x.Run == "" && x.DecidedBy == by {
				x.State, x.Option, x.DecidedBy, x.Note, x.Decided = ApprovalPending, "", "", "", time.Time{}
			}
			return nil
		})
		return errors.Join(cause, err)
	}
	if err := e.audit(ctx, tenant, by, ActionApprovalApproved, "approval:"+id, map[string]any{
		"record": a.Record.Ref().String(), "playbook": a.Playbook, "option": option, "note": note}); err != nil {
		return Run{}, revert(err)
	}
	run := e.newRun(a.Record, a.Playbook, option, a.ID, ModeApproved, by, opt.Steps)
	run.Case = a.Case
	if err := e.opts.Runs.CreateRun(ctx, run); err != nil {
		return Run{}, revert(fmt.Errorf("respond: approve %s: create run: %w", id, err))
	}
	if _, err := e.opts.Approvals.UpdateApproval(ctx, tenant, id, func(x *Approval) error {
		x.Run = run.ID
		return nil
	}); err != nil {
		return Run{}, fmt.Errorf("respond: approve %s: %w", id, err)
	}
	if a.Case != "" {
		if _, err := e.linkCase(ctx, tenant, a.Case, by, "run", run.ID); err != nil {
			return Run{}, err
		}
	}
	return e.execute(ctx, run, true)
}

func optionIDs(os []OptionPreview) []string {
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	return ids
}

// Reject rejects a pending approval. Nothing is executed or changed but
// the approval's state.
func (e *Engine) Reject(ctx context.Context, tenant, id, by, reason string) (Approval, error) {
	if by == "" {
		return Approval{}, errors.New("respond: reject: actor missing")
	}
	now := e.now()
	a, err := e.opts.Approvals.UpdateApproval(ctx, tenant, id, func(a *Approval) error {
		if a.State != ApprovalPending {
			return fmt.Errorf("%w: approval %s is %s", ErrState, a.ID, a.State)
		}
		a.State, a.DecidedBy, a.Note, a.Decided = ApprovalRejected, by, reason, now
		return nil
	})
	if err != nil {
		return Approval{}, fmt.Errorf("respond: reject %s: %w", id, err)
	}
	return a, e.audit(ctx, tenant, by, ActionApprovalRejected, "approval:"+id, map[string]any{
		"record": a.Record.Ref().String(), "playbook": a.Playbook, "reason": reason})
}

// Resume continues a failed run, or a run left running by a process that
// stopped (no change for Options.StaleAfter): it calls the failed (or
// interrupted) step again — with the same idempotency key — and the
// pending ones after it.
func (e *Engine) Resume(ctx context.Context, tenant, id, by string) (Run, error) {
	now := e.now()
	from := ""
	run, err := e.opts.Runs.UpdateRun(ctx, tenant, id, func(r *Run) error {
		switch {
		case r.State == RunFailed:
		case r.State == RunRunning && now.Sub(r.Updated) >= e.opts.StaleAfter:
		case r.State == RunRunning:
			return fmt.Errorf("%w: run %s is running (last change %s)", ErrState, r.ID, r.Updated.Format(time.RFC3339))
		default:
			return fmt.Errorf("%w: run %s is %s", ErrState, r.ID, r.State)
		}
		for _, s := range r.Steps {
			if s.State != StepDone {
				from = s.ID
				break
			}
		}
		r.State, r.Updated = RunRunning, now
		return nil
	})
	if err != nil {
		return Run{}, fmt.Errorf("respond: resume %s: %w", id, err)
	}
	if run.Approval != "" {
		if _, err := e.opts.Approvals.UpdateApproval(ctx, tenant, run.Approval, func(a *Approval) error {
			a.State = ApprovalApproved
			return nil
		}); err != nil {
			return run, fmt.Errorf("respond: resume %s: approval %s: %w", id, run.Approval, err)
		}
	}
	if err := e.audit(ctx, tenant, by, ActionRunResumed, "run:"+id, map[string]any{"record": run.Record.String(), "from": from}); err != nil {
		return run, err
	}
	return e.execute(ctx, run, false)
}

// Rollback reverses a run's changes in reverse order: every done step, and
// a failed step that changed something (its partial result). A step whose
// result cannot be reversed (a notice, a ticket) is marked irreversible
// and skipped. A rollback that fails stops (state rollback_failed) and is
// returned as a *StepError; Rollback again retries from there. Pending
// steps stay pending.
func (e *Engine) Rollback(ctx context.Context, tenant, id, by string) (Run, error) {
	run, err := e.opts.Runs.GetRun(ctx, tenant, id)
	if err != nil {
		return Run{}, fmt.Errorf("respond: rollback %s: %w", id, err)
	}
	switch run.State {
	case RunCompleted, RunFailed, RunRollbackFailed:
	default:
		return run, fmt.Errorf("respond: rollback %s: %w: run is %s", id, ErrState, run.State)
	}
	var irreversible []string
	for i := len(run.Steps) - 1; i >= 0; i-- {
		s := run.Steps[i]
		switch {
		case s.State == StepDone && s.Result != nil && !s.Result.Reversible():
			irreversible = append(irreversible, s.ID)
			if run, err = e.setStep(ctx, run, i, StepIrreversible, ""); err != nil {
				return run, err
			}
			continue
		case s.State == StepDone, s.State == StepRollbackFail, s.State == StepFailed && s.Result != nil && s.Result.Reversible():
		default:
			if s.State == StepIrreversible {
				irreversible = append(irreversible, s.ID)
			}
			continue
		}
		if s.Result == nil {
			continue
		}
		a, ok := e.opts.Actions.Lookup(s.Action)
		var rbErr error
		if !ok {
			rbErr = fmt.Errorf("action %q is not registered", s.Action)
		} else {
			rbErr = a.Rollback(ctx, *s.Result)
		}
		if rbErr != nil {
			if run, err = e.setStep(ctx, run, i, StepRollbackFail, rbErr.Error()); err != nil {
				return run, err
			}
			run, err = e.opts.Runs.UpdateRun(ctx, tenant, id, func(r *Run) error {
				r.State, r.Updated = RunRollbackFailed, e.now()
				return nil
			})
			if err != nil {
				return run, fmt.Errorf("respond: rollback %s: %w", id, err)
			}
			if err := e.audit(ctx, tenant, by, ActionRollbackFailed, "run:"+id, map[string]any{
				"record": run.Record.String(), "step": s.ID, "action": s.Action, "error": rbErr.Error()}); err != nil {
				return run, err
			}
			return run, &StepError{Run: id, Step: s.ID, Action: s.Action, Err: fmt.Errorf("rollback: %w", rbErr)}
		}
		if run, err = e.setStep(ctx, run, i, StepRolledBack, ""); err != nil {
			return run, err
		}
		if err := e.audit(ctx, tenant, by, ActionStepRolledBack, "run:"+id, map[string]any{
			"record": run.Record.String(), "step": s.ID, "action": s.Action}); err != nil {
			return run, err
		}
	}
	run, err = e.opts.Runs.UpdateRun(ctx, tenant, id, func(r *Run) error {
		r.State, r.Updated = RunRolledBack, e.now()
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("respond: rollback %s: %w", id, err)
	}
	slices.Reverse(irreversible)
	return run, e.audit(ctx, tenant, by, ActionRunRolledBack, "run:"+id, map[string]any{
		"record": run.Record.String(), "irreversible": irreversible})
}

func (e *Engine) setStep(ctx context.Context, run Run, i int, st StepState, msg string) (Run, error) {
	now := e.now()
	out, err := e.opts.Runs.UpdateRun(ctx, run.Tenant, run.ID, func(r *Run) error {
		r.Steps[i].State, r.Steps[i].Error = st, msg
		r.Updated = now
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("respond: run %s: step %s: %w", run.ID, run.Steps[i].ID, err)
	}
	return out, nil
}

// Run returns a run.
func (e *Engine) Run(ctx context.Context, tenant, id string) (Run, error) {
	return e.opts.Runs.GetRun(ctx, tenant, id)
}

// Approval returns an approval.
func (e *Engine) Approval(ctx context.Context, tenant, id string) (Approval, error) {
	return e.opts.Approvals.GetApproval(ctx, tenant, id)
}

func (e *Engine) audit(ctx context.Context, tenant, actor, action, object string, details any) error {
	if err := e.opts.Audit.Record(ctx, tenant, actor, action, object, details); err != nil {
		return fmt.Errorf("respond: audit %s %s: %w", action, object, err)
	}
	return nil
}

// Runs lists the runs f selects, oldest first; f.Tenant is required.
func (e *Engine) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	if f.Tenant == "" {
		return nil, errors.New("respond: runs: tenant missing")
	}
	return e.opts.Runs.ListRuns(ctx, f)
}

// Approvals lists the approvals f selects, oldest first; f.Tenant is
// required.
func (e *Engine) Approvals(ctx context.Context, f ApprovalFilter) ([]Approval, error) {
	if f.Tenant == "" {
		return nil, errors.New("respond: approvals: tenant missing")
	}
	return e.opts.Approvals.ListApprovals(ctx, f)
}

// Cases lists the cases f selects, oldest first; f.Tenant is required.
func (e *Engine) Cases(ctx context.Context, f CaseFilter) ([]Case, error) {
	if f.Tenant == "" {
		return nil, errors.New("respond: cases: tenant missing")
	}
	return e.opts.Cases.ListCases(ctx, f)
}

// ResumeStale resumes the tenant's runs left running by a process that
// stopped (no change for Options.StaleAfter), as by, and returns them as
// they ended. A run that fails again stays failed (its error is joined to
// the returned error); failed runs are left for a person to resume.
func (e *Engine) ResumeStale(ctx context.Context, tenant, by string) ([]Run, error) {
	runs, err := e.Runs(ctx, RunFilter{Tenant: tenant, State: RunRunning})
	if err != nil {
		return nil, err
	}
	now := e.now()
	var out []Run
	var errs []error
	for _, r := range runs {
		if now.Sub(r.Updated) < e.opts.StaleAfter {
			continue
		}
		run, err := e.Resume(ctx, tenant, r.ID, by)
		if errors.Is(err, ErrState) {
			continue // another process took it
		}
		if run.ID != "" {
			out = append(out, run)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}
