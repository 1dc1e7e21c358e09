package ocsf

import "strings"

// Version is the OCSF schema version Canopy's records conform to.
const Version = "1.8.0"

// Class uids of the OCSF classes Canopy emits.
const (
	ClassBaseEvent            = 0
	ClassProcessActivity      = 1007
	ClassVulnerabilityFinding = 2002
	ClassComplianceFinding    = 2003
	ClassDetectionFinding     = 2004
	ClassIncidentFinding      = 2005
	ClassDataSecurityFinding  = 2006
	ClassAuthentication       = 3002
	ClassNetworkActivity      = 4001
	ClassHTTPActivity         = 4002
	ClassDNSActivity          = 4003
	ClassAPIActivity          = 6003
)

// Category uids.
const (
	CategorySystem      = 1
	CategoryFindings    = 2
	CategoryIAM         = 3
	CategoryNetwork     = 4
	CategoryApplication = 6
)

// Severity ids (severity_id).
const (
	SeverityUnknown       = 0
	SeverityInformational = 1
	SeverityLow           = 2
	SeverityMedium        = 3
	SeverityHigh          = 4
	SeverityCritical      = 5
	SeverityFatal         = 6
	SeverityOther         = 99
)

// Activity ids shared by the finding classes.
const (
	ActivityCreate = 1
	ActivityUpdate = 2
	ActivityClose  = 3
	ActivityOther  = 99
)

// Finding status ids (status_id of the finding classes).
const (
	FindingStatusNew        = 1
	FindingStatusInProgress = 2
	FindingStatusSuppressed = 3
	FindingStatusResolved   = 4
	FindingStatusArchived   = 5
)

// Event status ids (status_id of the activity classes).
const (
	StatusSuccess = 1
	StatusFailure = 2
)

// Compliance status ids (compliance.status_id).
const (
	ComplianceStatusPass    = 1
	ComplianceStatusWarning = 2
	ComplianceStatusFail    = 3
)

// ClassInfo describes one class Canopy emits: its caption, category and the
// captions of its activities.
type ClassInfo struct {
	UID          int
	Name         string // e.g. "vulnerability_finding"
	Caption      string // e.g. "Vulnerability Finding"
	CategoryUID  int
	Category     string // category caption
	Activities   map[int]string
	StatusLabels map[int]string
}

var (
	findingActivities = map[int]string{0: "Unknown", 1: "Create", 2: "Update", 3: "Close", 99: "Other"}
	findingStatuses   = map[int]string{0: "Unknown", 1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 5: "Archived", 6: "Deleted", 99: "Other"}
	eventStatuses     = map[int]string{0: "Unknown", 1: "Success", 2: "Failure", 99: "Other"}
	crudActivities    = map[int]string{0: "Unknown", 1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"}
)

// classes is read-only after package initialisation.
var classes = map[int]ClassInfo{
	ClassBaseEvent: {ClassBaseEvent, "base_event", "Base Event", 0, "Uncategorized", map[int]string{0: "Unknown", 99: "Other"}, eventStatuses},
	ClassProcessActivity: {ClassProcessActivity, "process_activity", "Process Activity", CategorySystem, "System Activity",
		map[int]string{0: "Unknown", 1: "Launch", 2: "Terminate", 3: "Open", 4: "Inject", 5: "Set User ID", 99: "Other"}, eventStatuses},
	ClassVulnerabilityFinding: {ClassVulnerabilityFinding, "vulnerability_finding", "Vulnerability Finding", CategoryFindings, "Findings", findingActivities, findingStatuses},
	ClassComplianceFinding:    {ClassComplianceFinding, "compliance_finding", "Compliance Finding", CategoryFindings, "Findings", findingActivities, findingStatuses},
	ClassDetectionFinding:     {ClassDetectionFinding, "detection_finding", "Detection Finding", CategoryFindings, "Findings", findingActivities, findingStatuses},
	ClassDataSecurityFinding:  {ClassDataSecurityFinding, "data_security_finding", "Data Security Finding", CategoryFindings, "Findings", findingActivities, findingStatuses},
	ClassIncidentFinding: {ClassIncidentFinding, "incident_finding", "Incident Finding", CategoryFindings, "Findings", findingActivities,
		map[int]string{0: "Unknown", 1: "New", 2: "In Progress", 3: "On Hold", 4: "Resolved", 5: "Closed", 99: "Other"}},
	ClassAuthentication: {ClassAuthentication, "authentication", "Authentication", CategoryIAM, "Identity & Access Management",
		map[int]string{0: "Unknown", 1: "Logon", 2: "Logoff", 3: "Authentication Ticket", 4: "Service Ticket Request", 5: "Service Ticket Renew", 6: "Preauth", 7: "Account Switch", 99: "Other"}, eventStatuses},
	ClassNetworkActivity: {ClassNetworkActivity, "network_activity", "Network Activity", CategoryNetwork, "Network Activity",
		map[int]string{0: "Unknown", 1: "Open", 2: "Close", 3: "Reset", 4: "Fail", 5: "Refuse", 6: "Traffic", 7: "Listen", 99: "Other"}, eventStatuses},
	ClassHTTPActivity: {ClassHTTPActivity, "http_activity", "HTTP Activity", CategoryNetwork, "Network Activity",
		map[int]string{0: "Unknown", 1: "Connect", 2: "Delete", 3: "Get", 4: "Head", 5: "Options", 6: "Post", 7: "Put", 8: "Trace", 9: "Patch", 99: "Other"}, eventStatuses},
	ClassDNSActivity: {ClassDNSActivity, "dns_activity", "DNS Activity", CategoryNetwork, "Network Activity",
		map[int]string{0: "Unknown", 1: "Query", 2: "Response", 6: "Traffic", 99: "Other"}, eventStatuses},
	ClassAPIActivity: {ClassAPIActivity, "api_activity", "API Activity", CategoryApplication, "Application Activity", crudActivities, eventStatuses},
}

// Class returns what Canopy knows of the class with the given uid.
func Class(uid int) (ClassInfo, bool) {
	c, ok := classes[uid]
	return c, ok
}

// IsFinding reports whether the class uid is in the Findings category.
func IsFinding(classUID int) bool { return classUID/1000 == CategoryFindings }

var severityCaptions = [...]string{"Unknown", "Informational", "Low", "Medium", "High", "Critical", "Fatal"}

// SeverityCaption returns the OCSF caption of a severity id.
func SeverityCaption(id int) string {
	if id >= 0 && id < len(severityCaptions) {
		return severityCaptions[id]
	}
	if id == SeverityOther {
		return "Other"
	}
	return "Unknown"
}

// SeverityFromLabel maps a vendor's severity word to a severity id. It knows
// the words used by the supported tools in any letter case (CRITICAL, High,
// moderate, negligible, informational, info, warning, error …); an unknown or
// empty word gives [SeverityUnknown].
func SeverityFromLabel(label string) int {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "critical", "crit", "fatal", "emergency", "alert", "very high", "very-high":
		return SeverityCritical
	case "high", "important", "error", "severe":
		return SeverityHigh
	case "medium", "moderate", "warning", "warn":
		return SeverityMedium
	case "low", "minor", "negligible", "notice", "note":
		return SeverityLow
	case "informational", "info", "information", "none", "debug":
		return SeverityInformational
	}
	return SeverityUnknown
}

// SeverityFromScore maps a 0–10 score (CVSS style, also GuardDuty and
// SARIF security-severity) to a severity id: 0 → Informational, <4 Low,
// <7 Medium, <9 High, else Critical.
func SeverityFromScore(score float64) int {
	switch {
	case score <= 0:
		return SeverityInformational
	case score < 4:
		return SeverityLow
	case score < 7:
		return SeverityMedium
	case score < 9:
		return SeverityHigh
	default:
		return SeverityCritical
	}
}

// SeverityName returns the short lower-case name used on the command line
// and in the API for a severity id ("critical", "high" …).
func SeverityName(id int) string { return strings.ToLower(SeverityCaption(id)) }

// SeverityFromName parses a command-line severity name ("high",
// "informational" or "info" …). ok is false for an unknown name.
func SeverityFromName(name string) (id int, ok bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, c := range severityCaptions {
		if strings.ToLower(c) == n {
			return i, true
		}
	}
	if n == "info" {
		return SeverityInformational, true
	}
	return 0, false
}
