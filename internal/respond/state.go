package respond

import (
	"context"
	"time"
)

// RunState is where a run stands.
type RunState string

// The run states.
const (
	// RunRunning: steps are being executed (or the process stopped while
	// executing one: Resume continues).
	RunRunning RunState = "running"
	// RunCompleted: every step is done.
	RunCompleted RunState = "completed"
	// RunFailed: a step failed; the steps before it are done, the failed
	// one is recorded with its error (and, if it changed something, its
	// partial result), the rest are pending. Resume retries the failed
	// step and continues; Rollback reverses what was done.
	RunFailed RunState = "failed"
	// RunRolledBack: every reversible change was reversed.
	RunRolledBack RunState = "rolled_back"
	// RunRollbackFailed: reversing a step failed; the steps after it (in
	// run order) are rolled back, the rest are not. Rollback again
	// retries.
	RunRollbackFailed RunState = "rollback_failed"
)

// StepState is where a step of a run stands.
type StepState string

// The step states.
const (
	StepPending StepState = "pending" // not started
	// StepRunning: Do was called and has not returned (or the process
	// stopped): the step is not done; Resume calls Do again with the
	// same key.
	StepRunning      StepState = "running"
	StepDone         StepState = "done"   // Do succeeded
	StepFailed       StepState = "failed" // Do failed; Result holds any partial change
	StepRolledBack   StepState = "rolled_back"
	StepRollbackFail StepState = "rollback_failed"
	// StepIrreversible: rollback skipped a done step whose result cannot
	// be reversed (a notice sent, a ticket created).
	StepIrreversible StepState = "irreversible"
)

// Mode says how a run came about.
type Mode string

// The run modes.
const (
	ModeAutomatic Mode = "automatic" // the approval rule let the playbook run on its own
	ModeApproved  Mode = "approved"  // an option of an approval was approved
)

// Run is one execution of a list of steps for a record. It is persisted
// after every change so that a stopped process or a failed step leaves a
// state that says exactly what was done.
type Run struct {
	// ID identifies the run.
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Record is the record the run responds to.
	Record Ref `json:"record"`
	// Playbook is the playbook's id; Option the approved option's id (""
	// for automatic runs).
	Playbook string `json:"playbook"`
	Option   string `json:"option,omitempty"`
	// Approval is the approval the run executes, if any; Case the case it
	// is linked to, if any.
	Approval string `json:"approval,omitempty"`
	Case     string `json:"case,omitempty"`
	// Mode is automatic or approved; Actor who started it ("system" or
	// the approver).
	Mode  Mode   `json:"mode"`
	Actor string `json:"actor"`
	// State is the run's state.
	State RunState `json:"state"`
	// Steps are the run's steps, in order, with their rendered parameters
	// and outcomes.
	Steps []StepRun `json:"steps"`
	// Created and Updated are the engine's clock at creation and at the
	// last change.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// StepRun is one step of a [Run].
type StepRun struct {
	// ID and Title come from the playbook; Action is the action's name.
	ID     string `json:"id"`
	Title  string `json:"title,omitempty"`
	Action string `json:"action"`
	// Params are the parameters as rendered from the record (checked
	// against the action's schema again before each call).
	Params Params `json:"params,omitempty"`
	// State is the step's state.
	State StepState `json:"state"`
	// Result is Do's result: set when done, and when failed after a
	// partial change.
	Result *Result `json:"result,omitempty"`
	// Error is the failure of the last attempt (Do or Rollback).
	Error string `json:"error,omitempty"`
	// Attempts counts calls of Do.
	Attempts int `json:"attempts,omitempty"`
	// Started and Ended bound the last attempt.
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
}

// Completed returns the steps that are done.
func (r Run) Completed() []StepRun { return r.stepsIn(StepDone) }

// Pending returns the steps not yet started.
func (r Run) Pending() []StepRun { return r.stepsIn(StepPending) }

// Failed returns the failed step, if any.
func (r Run) Failed() (StepRun, bool) {
	s := r.stepsIn(StepFailed, StepRunning)
	if len(s) == 0 {
		return StepRun{}, false
	}
	return s[0], true
}

func (r Run) stepsIn(states ...StepState) []StepRun {
	var out []StepRun
	for _, s := range r.Steps {
		for _, st := range states {
			if s.State == st {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// ApprovalState is where an approval stands.
type ApprovalState string

// The approval states.
const (
	ApprovalPending  ApprovalState = "pending"  // waiting for a decision
	ApprovalApproved ApprovalState = "approved" // approved; the option's run is executing
	ApprovalRejected ApprovalState = "rejected" // rejected; nothing was changed
	ApprovalExecuted ApprovalState = "executed" // the approved option's run completed
	ApprovalFailed   ApprovalState = "failed"   // the approved option's run failed (see the run)
)

// Approval is a request to approve one of a playbook's options for a
// record: the engine's answer when the record is too risky (or the steps
// too disruptive) to act on its own.
type Approval struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Record is the record as it was when the approval was requested.
	Record Record `json:"record"`
	// Playbook is the playbook's id.
	Playbook string `json:"playbook"`
	// Reason says why approval is needed ("risk 82 is at or above the
	// threshold 40").
	Reason string `json:"reason"`
	// Options are the alternatives, each with its steps and impact.
	Options []OptionPreview `json:"options"`
	// State is the approval's state.
	State ApprovalState `json:"state"`
	// Option is the approved option; DecidedBy who decided; Note the
	// rejection reason or the approver's note.
	Option    string    `json:"option,omitempty"`
	DecidedBy string    `json:"decided_by,omitempty"`
	Note      string    `json:"note,omitempty"`
	Decided   time.Time `json:"decided,omitzero"`
	// Run is the run that executes the approved option; Case the case
	// opened for the record, if any.
	Run  string `json:"run,omitempty"`
	Case string `json:"case,omitempty"`
	// Created is the engine's clock at the request.
	Created time.Time `json:"created"`
}

// OptionPreview is one option of an [Approval] or a dry run: its steps,
// rendered for the record, and what they would change.
type OptionPreview struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Steps are the option's steps with their rendered parameters.
	Steps []StepRun `json:"steps"`
	// Impacts are the steps' impacts, in step order.
	Impacts []Impact `json:"impacts"`
	// Summary sums the impacts up.
	Summary ImpactSummary `json:"summary"`
}

// ImpactSummary sums up the impacts of an option.
type ImpactSummary struct {
	// Affected are every target and affected asset of the option, once
	// each, sorted by UID.
	Affected []Asset `json:"affected"`
	// Services are the business services involved, sorted.
	Services []string `json:"services,omitempty"`
	// Disruption is the highest disruption of the steps.
	Disruption Disruption `json:"disruption"`
	// Reversible is true when every step is.
	Reversible bool `json:"reversible"`
	// Approvers are the parties who must approve, each once.
	Approvers []Approver `json:"approvers"`
}

// RunFilter selects runs for [RunStore.ListRuns]; zero fields match all.
type RunFilter struct {
	Tenant   string
	Record   Ref
	Playbook string
	State    RunState
}

// ApprovalFilter selects approvals for [ApprovalStore.ListApprovals]; zero
// fields match all.
type ApprovalFilter struct {
	Tenant   string
	Record   Ref
	Playbook string
	State    ApprovalState
}

// RunStore persists runs. Store backends implement it; respondtest has an
// in-memory one for tests.
//
// UpdateRun must apply fn atomically: read the run, call fn on a copy,
// write the copy unless fn returns an error (then it returns that error
// and writes nothing). Get and Update return [ErrNotFound] for an unknown
// id or an id of another tenant.
type RunStore interface {
	CreateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, tenant, id string) (Run, error)
	UpdateRun(ctx context.Context, tenant, id string, fn func(*Run) error) (Run, error)
	// ListRuns returns the matching runs, oldest first.
	ListRuns(ctx context.Context, f RunFilter) ([]Run, error)
}

// ApprovalStore persists approvals, with the contract of [RunStore].
type ApprovalStore interface {
	CreateApproval(ctx context.Context, a Approval) error
	GetApproval(ctx context.Context, tenant, id string) (Approval, error)
	UpdateApproval(ctx context.Context, tenant, id string, fn func(*Approval) error) (Approval, error)
	ListApprovals(ctx context.Context, f ApprovalFilter) ([]Approval, error)
}
