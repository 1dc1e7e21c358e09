package ingest

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestASFFSeverity(t *testing.T) {
	tests := []struct {
		name string
		sev  fields
		want int
	}{
		{"label wins", fields{"Label": "CRITICAL", "Normalized": 10}, ocsf.SeverityCritical},
		{"informational label", fields{"Label": "INFORMATIONAL"}, ocsf.SeverityInformational},
		{"normalized 0", fields{"Normalized": 0.0}, ocsf.SeverityInformational},
		{"normalized 39", fields{"Normalized": 39.0}, ocsf.SeverityLow},
		{"normalized 40", fields{"Normalized": 40.0}, ocsf.SeverityMedium},
		{"normalized 70", fields{"Normalized": 70.0}, ocsf.SeverityHigh},
		{"normalized 90", fields{"Normalized": 90.0}, ocsf.SeverityCritical},
		{"unknown label falls back", fields{"Label": "SEVERE-ISH", "Normalized": 75.0}, ocsf.SeverityHigh},
		{"product 0-10 score", fields{"Product": 8.0}, ocsf.SeverityHigh},
		{"product 0-100 score", fields{"Product": 95.0}, ocsf.SeverityCritical},
		{"nothing", fields{}, ocsf.SeverityUnknown},
	}
	for _, tt := range tests {
		if got, _ := asffSeverity(tt.sev); got != tt.want {
			t.Errorf("%s: severity %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestASFFStatus(t *testing.T) {
	tests := []struct {
		record, workflow, state, compliance string
		want                                int
		activity                            int
	}{
		{"ACTIVE", "NEW", "", "", ocsf.FindingStatusNew, ocsf.ActivityCreate},
		{"ACTIVE", "NOTIFIED", "", "", ocsf.FindingStatusInProgress, ocsf.ActivityCreate},
		{"ACTIVE", "SUPPRESSED", "", "", ocsf.FindingStatusSuppressed, ocsf.ActivityCreate},
		{"ACTIVE", "RESOLVED", "", "", ocsf.FindingStatusResolved, ocsf.ActivityCreate},
		{"ARCHIVED", "NEW", "", "", ocsf.FindingStatusArchived, ocsf.ActivityClose},
		{"", "", "IN_PROGRESS", "", ocsf.FindingStatusInProgress, ocsf.ActivityCreate},
		{"ACTIVE", "", "", "PASSED", ocsf.FindingStatusResolved, ocsf.ActivityCreate},
		{"ACTIVE", "", "", "FAILED", ocsf.FindingStatusNew, ocsf.ActivityCreate},
	}
	for _, tt := range tests {
		f := &ocsf.Finding{}
		f.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
		asffStatus(f, tt.record, tt.workflow, tt.state, tt.compliance)
		if f.StatusID != tt.want || f.ActivityID != tt.activity {
			t.Errorf("%+v: status %d activity %d, want %d %d", tt, f.StatusID, f.ActivityID, tt.want, tt.activity)
		}
	}
}

func TestASFFCompliance(t *testing.T) {
	tests := []struct {
		status    string
		generator string
		pf        map[string]any
		wantID    int
		control   string
		standard  string
	}{
		{"PASSED", "aws-foundational-security-best-practices/v/1.0.0/IAM.5", nil, ocsf.ComplianceStatusPass, "IAM.5", "aws-foundational-security-best-practices/v/1.0.0"},
		{"FAILED", "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.1",
			map[string]any{"StandardsGuideArn": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0", "RuleId": "1.1"},
			ocsf.ComplianceStatusFail, "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.1", "cis-aws-foundations-benchmark/v/1.2.0"},
		{"WARNING", "prowler-iam_root_mfa_enabled", nil, ocsf.ComplianceStatusWarning, "iam_root_mfa_enabled", "Prowler"},
		{"NOT_AVAILABLE", "x", nil, 99, "x", "Prowler"},
	}
	for _, tt := range tests {
		c := asffCompliance(fields{"Status": tt.status}, tt.generator, "Prowler", tt.pf)
		if c.StatusID != tt.wantID || c.Control != tt.control || len(c.Standards) != 1 || c.Standards[0] != tt.standard {
			t.Errorf("%s %s: got %d %q %v, want %d %q %q", tt.status, tt.generator, c.StatusID, c.Control, c.Standards, tt.wantID, tt.control, tt.standard)
		}
	}
}
