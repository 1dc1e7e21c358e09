package report

import (
	"time"

	"github.com/canopy-sec/canopy/internal/posture"
)

// FormatVersion is the version of the report's JSON fields and CSV
// columns. It changes when a field or column changes meaning or goes
// away, not when one is added.
const FormatVersion = 1

// Report is the compliance report of one pack, built by [Build]. Its JSON
// form is what [WriteJSON] writes (README.md documents each field).
type Report struct {
	// FormatVersion is [FormatVersion].
	FormatVersion int `json:"format_version"`
	// Pack names the pack and the framework it checks.
	Pack PackInfo `json:"pack"`
	// ScanTime is when the results were produced, in UTC.
	ScanTime time.Time `json:"scan_time"`
	// Accounts and Regions are those the results mention, sorted.
	Accounts []string `json:"accounts"`
	Regions  []string `json:"regions"`
	// Score is the framework's score (see the package documentation).
	Score Score `json:"score"`
	// Totals count the controls by status, the failing resources and the
	// evidence tasks by evidence status.
	Totals Totals `json:"totals"`
	// Sections hold the controls, in the reference's order.
	Sections []Section `json:"sections"`
}

// PackInfo names a pack and its framework.
type PackInfo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Framework is the standard's name and version.
	Framework posture.Framework `json:"framework"`
	// Standard is the standard's display name, "<name> v<version>".
	Standard string `json:"standard"`
}

// Score is passed ÷ evaluated over a set of controls, as AWS Security Hub
// computes a standard's security score (see the package documentation).
type Score struct {
	// Passed is the number of controls whose evaluated resources all pass.
	Passed int `json:"passed"`
	// Evaluated is the number of controls with evaluation data: passed,
	// failed and unknown.
	Evaluated int `json:"evaluated"`
	// Percent is 100 × Passed ÷ Evaluated rounded to the nearest whole
	// number (halves up); nil (JSON null) when Evaluated is 0.
	Percent *int `json:"percent"`
}

// Totals count controls by status, failing resources and evidence.
type Totals struct {
	Controls       int `json:"controls"`
	Passed         int `json:"passed"`
	Failed         int `json:"failed"`
	Unknown        int `json:"unknown"`
	NoData         int `json:"no_data"`
	Manual         int `json:"manual"`
	NotExpressible int `json:"not_expressible"`
	// FailingResources is the number of distinct resources (account, type,
	// uid) failing at least one control.
	FailingResources int `json:"failing_resources"`
	// Evidence counts the controls with an evidence task by evidence
	// status.
	Evidence EvidenceTotals `json:"evidence"`
}

// EvidenceTotals count evidence tasks by status.
type EvidenceTotals struct {
	Tasks     int `json:"tasks"`
	Missing   int `json:"missing"`
	Submitted int `json:"submitted"`
	Accepted  int `json:"accepted"`
	Rejected  int `json:"rejected"`
}

// Section is one section of the reference (a CIS section such as
// "1 Identity and Access Management", an MLPS category such as
// "8.2.1 Physical environment") with its controls.
type Section struct {
	Title string `json:"title"`
	// TitleZH is the section's Chinese name (MLPS), else "".
	TitleZH  string    `json:"title_zh,omitempty"`
	Score    Score     `json:"score"`
	Totals   Totals    `json:"totals"`
	Controls []Control `json:"controls"`
}

// ControlStatus is the status of one control in a report.
type ControlStatus string

// The control statuses; the package documentation defines each.
const (
	StatusPassed         ControlStatus = "passed"
	StatusFailed         ControlStatus = "failed"
	StatusUnknown        ControlStatus = "unknown"
	StatusNoData         ControlStatus = "no_data"
	StatusManual         ControlStatus = "manual"
	StatusNotExpressible ControlStatus = "not_expressible"
)

// Label returns the status as a reader sees it: "Passed", "No data" ….
func (s ControlStatus) Label() string {
	switch s {
	case StatusPassed:
		return "Passed"
	case StatusFailed:
		return "Failed"
	case StatusUnknown:
		return "Unknown"
	case StatusNoData:
		return "No data"
	case StatusManual:
		return "Manual"
	case StatusNotExpressible:
		return "Not expressible"
	}
	return string(s)
}

// Control is one reference control with its status.
type Control struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// TitleZH is the Chinese name of the standard's control (MLPS).
	TitleZH string `json:"title_zh,omitempty"`
	// Clause is the item's place in an MLPS reference, e.g.
	// "8.2.1.1 Infrastructure location a)"; "" for CIS.
	Clause string `json:"clause,omitempty"`
	// Level is the CIS profile level (1 or 2); 0 for MLPS.
	Level int `json:"level,omitempty"`
	// Coverage is how the pack covers the control: automated, manual,
	// not_expressible or missing.
	Coverage posture.CoverageStatus `json:"coverage"`
	Status   ControlStatus          `json:"status"`
	// Rules are the ids of the pack's rules that check the control.
	Rules []string `json:"rules,omitempty"`
	// Resources count the distinct resources evaluated for the control
	// and their worst result.
	Resources ResourceCounts `json:"resources"`
	// Findings are the results that are not passes: failures first, then
	// errors, each sorted by account, region, resource type, uid and rule.
	Findings []ResourceResult `json:"findings,omitempty"`
	// Evidence is the control's evidence task and its status, if it has
	// one (every manual control; some automated ones).
	Evidence *EvidenceItem `json:"evidence,omitempty"`
	// Reason says why a not-expressible control cannot be checked.
	Reason string `json:"reason,omitempty"`
}

// ResourceCounts count distinct resources by their worst result on a
// control (a resource failing one rule and passing another failed).
type ResourceCounts struct {
	Evaluated int `json:"evaluated"`
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Errors    int `json:"errors"`
}

// ResourceResult is one failing or erroring result of a rule on a
// resource.
type ResourceResult struct {
	RuleID       string         `json:"rule_id"`
	ResourceUID  string         `json:"resource_uid"`
	ResourceType string         `json:"resource_type,omitempty"`
	ResourceName string         `json:"resource_name,omitempty"`
	Account      string         `json:"account,omitempty"`
	Region       string         `json:"region,omitempty"`
	Status       posture.Status `json:"status"`
	Message      string         `json:"message,omitempty"`
}

// EvidenceItem is a control's evidence task and the state of its
// evidence.
type EvidenceItem struct {
	// Task says what evidence to collect.
	Task string `json:"task"`
	// Responsible is provider, customer or shared.
	Responsible string `json:"responsible"`
	// Evidence is the evidence's status (never "": missing when none was
	// given), reference, submitter and time.
	Evidence
}
