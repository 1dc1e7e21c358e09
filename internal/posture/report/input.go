package report

import (
	"fmt"
	"time"

	"github.com/canopy-sec/canopy/internal/posture"
)

// Input is what a compliance report is built from. A caller fills it from
// stored data or from a live scan; [Build] checks it.
type Input struct {
	// Pack is the pack reported on. Required.
	Pack *posture.Pack
	// Coverage is the pack's coverage. Default (nil): posture.Coverage(Pack).
	// When set, it must be the coverage of Pack.
	Coverage *posture.CoverageReport
	// Results are the scan results that map to the pack's controls, one per
	// (control, rule, resource). Their order does not matter; a repeated
	// (control, rule, resource) counts once, with its worst status.
	Results []ControlResult
	// ScanTime is when the results were produced (for stored results, the
	// scan they come from). Required; written in UTC.
	ScanTime time.Time
	// Evidence is the evidence status of the controls with an evidence
	// task, by control id ("1.1", or the canonical "cis-aws-3.0:1.1"). A
	// control without an entry has status missing. An entry for a control
	// without an evidence task is an error.
	Evidence map[string]Evidence
}

// ControlResult is one result of a rule on a resource, for one control of
// the pack: the row a store keeps for the report. [ControlResults] makes
// them from [posture.Result] values.
type ControlResult struct {
	// Control is the control id within the pack ("2.1.4"); the canonical
	// form "<pack id>:<control id>" is accepted too. Required.
	Control string `json:"control"`
	// RuleID is the rule that produced the result. Required.
	RuleID string `json:"rule_id"`
	// ResourceUID identifies the checked resource (an ARN, an Alibaba
	// Cloud ARN or id; the account resource's uid for account-scope
	// rules). Required.
	ResourceUID  string `json:"resource_uid"`
	ResourceType string `json:"resource_type,omitempty"`
	ResourceName string `json:"resource_name,omitempty"`
	Account      string `json:"account,omitempty"`
	Region       string `json:"region,omitempty"`
	// Status is pass, fail or error.
	Status posture.Status `json:"status"`
	// Message explains a failure or an error.
	Message string `json:"message,omitempty"`
}

// EvidenceStatus is the state of a manual control's evidence.
type EvidenceStatus string

// The evidence statuses.
const (
	// EvidenceMissing: nothing submitted yet (the default).
	EvidenceMissing EvidenceStatus = "missing"
	// EvidenceSubmitted: submitted, not reviewed yet.
	EvidenceSubmitted EvidenceStatus = "submitted"
	// EvidenceAccepted: reviewed and accepted.
	EvidenceAccepted EvidenceStatus = "accepted"
	// EvidenceRejected: reviewed and rejected; new evidence is needed.
	EvidenceRejected EvidenceStatus = "rejected"
)

// Valid reports whether s is one of the four evidence statuses.
func (s EvidenceStatus) Valid() bool {
	switch s {
	case EvidenceMissing, EvidenceSubmitted, EvidenceAccepted, EvidenceRejected:
		return true
	}
	return false
}

// Evidence is the evidence status of one manual control.
type Evidence struct {
	// Status is missing, submitted, accepted or rejected; "" means missing.
	Status EvidenceStatus `json:"status"`
	// Reference says where the evidence is: a document id, a file name, a
	// URL, a ticket.
	Reference string `json:"reference,omitempty"`
	// SubmittedBy is who submitted it.
	SubmittedBy string `json:"submitted_by,omitempty"`
	// SubmittedAt is when; written in UTC.
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
}

// ControlResults returns the rows of results for pack packID: one per
// control of packID that each result's rule maps to (the rule's
// frameworks[packID]); results whose rule does not map to the pack give
// none.
func ControlResults(packID string, results []posture.Result) []ControlResult {
	var out []ControlResult
	for _, r := range results {
		out = AppendControlResults(out, packID, r)
	}
	return out
}

// AppendControlResults appends the rows of one result for pack packID to
// dst and returns the extended slice, as [ControlResults] does; use it on
// the stream [posture.Scan] yields. A result without rule or resource
// gives none.
func AppendControlResults(dst []ControlResult, packID string, r posture.Result) []ControlResult {
	if r.Rule == nil || r.Resource == nil {
		return dst
	}
	for _, c := range r.Rule.Frameworks[packID] {
		dst = append(dst, ControlResult{
			Control:      c,
			RuleID:       r.Rule.ID,
			ResourceUID:  r.Resource.UID,
			ResourceType: r.Resource.Type,
			ResourceName: r.Resource.Name,
			Account:      r.Resource.Account,
			Region:       r.Resource.Region,
			Status:       r.Status,
			Message:      r.Message,
		})
	}
	return dst
}

// InputError is a problem with an [Input]: the field (and the index of a
// result or the key of an evidence entry) and what is wrong.
type InputError struct {
	// Field is "Pack", "Coverage", "ScanTime", "Results[i]" or
	// "Evidence[control]", with a sub-field where it helps.
	Field string
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("report: input: %s: %v", e.Field, e.Err) }

func (e *InputError) Unwrap() error { return e.Err }
