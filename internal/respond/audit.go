package respond

import "context"

// Auditor records a state change in the tenant's audit chain.
// route.Router.Record has this signature; details are marshalled to JSON.
type Auditor interface {
	Record(ctx context.Context, tenant, actor, action, object string, details any) error
}

// AuditFunc adapts a function to [Auditor].
type AuditFunc func(ctx context.Context, tenant, actor, action, object string, details any) error

// Record implements [Auditor].
func (f AuditFunc) Record(ctx context.Context, tenant, actor, action, object string, details any) error {
	return f(ctx, tenant, actor, action, object, details)
}

// Actions respond records in the audit chain. Object is "approval:<id>",
// "run:<id>", "case:<id>", or the record's ref ("incident:42") for
// decisions. Details is a JSON object with the fields listed; fields
// marked KPI are read by [KPIs]. Every entry's details carry "record" (the
// record's ref) unless said otherwise.
const (
	// ActionDecided: a playbook matched a record and the engine decided.
	// Object: the record. Details: "playbook", "decision" (automatic,
	// approval, skipped, error), "reason", "risk"; "run" or "approval"
	// when one was created.
	ActionDecided = "respond.decided"
	// ActionApprovalRequested: an approval was requested. Details:
	// "playbook", "reason", "options" (ids), "approvers", "case".
	ActionApprovalRequested = "approval.requested"
	// ActionApprovalApproved: an option was approved. Actor: the approver.
	// Details: "option", "note".
	ActionApprovalApproved = "approval.approved"
	// ActionApprovalRejected: the approval was rejected; nothing changed.
	// Actor: who rejected. Details: "reason".
	ActionApprovalRejected = "approval.rejected"
	// ActionRunStarted: a run started. Details (KPI): "mode" (automatic
	// or approved); and "playbook", "option", "approval", "steps" (ids).
	ActionRunStarted = "run.started"
	// ActionStepDone: a step succeeded. Details: "step", "action",
	// "summary", "changed", "reversible".
	ActionStepDone = "run.step_done"
	// ActionStepFailed: a step failed. Details: "step", "action", "error",
	// "partial" (the partial result's summary, if it changed something).
	ActionStepFailed = "run.step_failed"
	// ActionRunCompleted: every step of a run is done. Details: "mode".
	ActionRunCompleted = "run.completed"
	// ActionRunFailed: a run stopped at a failed step. Details: "step",
	// "done" (ids), "pending" (ids).
	ActionRunFailed = "run.failed"
	// ActionRunResumed: a failed or stopped run was resumed. Details:
	// "from" (the step it resumes at).
	ActionRunResumed = "run.resumed"
	// ActionStepRolledBack: a step was reversed. Details: "step",
	// "action".
	ActionStepRolledBack = "run.step_rolled_back"
	// ActionRunRolledBack: every reversible step of a run was reversed.
	// Details: "irreversible" (ids of steps that could not be).
	ActionRunRolledBack = "run.rolled_back"
	// ActionRollbackFailed: reversing a step failed. Details: "step",
	// "action", "error".
	ActionRollbackFailed = "run.rollback_failed"
	// ActionCaseOpened: a case was opened. Details (KPI): "severity",
	// "party", "name", "respond_by", "resolve_by" (RFC 3339).
	ActionCaseOpened = "case.opened"
	// ActionCaseStatus: a case changed status. Details (KPI): "from",
	// "to"; "note".
	ActionCaseStatus = "case.status_changed"
	// ActionCaseAssigned: a case was assigned. Details: "assignee",
	// "previous".
	ActionCaseAssigned = "case.assigned"
	// ActionCaseHandedOff: a case was handed to another party. Details
	// (KPI): "from_party", "from_name", "to_party", "to_name"; "note".
	ActionCaseHandedOff = "case.handed_off"
	// ActionCaseAccepted: the party a case was handed to accepted it.
	// Details (KPI): "party", "name".
	ActionCaseAccepted = "case.accepted"
	// ActionCaseCommented: a comment was added. Details: "text".
	ActionCaseCommented = "case.commented"
	// ActionCaseLinked: a run, an approval or a record was linked to a
	// case. Details: "run", "approval" or "linked" (a record ref).
	ActionCaseLinked = "case.linked"
	// ActionCaseSLABreached: a case passed an SLA deadline. Details (KPI):
	// "sla" (respond or resolve), "due" (RFC 3339).
	ActionCaseSLABreached = "case.sla_breached"
)

// ActorSystem is the actor of what the engine does on its own.
const ActorSystem = "system"
