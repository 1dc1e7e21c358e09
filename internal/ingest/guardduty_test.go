package ingest

import (
	"reflect"
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestGuardDutySeverity(t *testing.T) {
	tests := []struct {
		severity float64
		want     int
	}{
		{1.0, ocsf.SeverityLow}, {3.9, ocsf.SeverityLow},
		{4.0, ocsf.SeverityMedium}, {6.9, ocsf.SeverityMedium},
		{7.0, ocsf.SeverityHigh}, {8.9, ocsf.SeverityHigh},
		{9.0, ocsf.SeverityCritical}, {10.0, ocsf.SeverityCritical},
	}
	for _, tt := range tests {
		f := fields{"id": "x", "type": "Recon:EC2/PortProbeUnprotectedPort", "severity": tt.severity}
		d, err := mapGuardDuty(f)
		if err != nil {
			t.Fatal(err)
		}
		if d.SeverityID != tt.want {
			t.Errorf("severity %v → %d, want %d", tt.severity, d.SeverityID, tt.want)
		}
	}
}

func TestCamelKeys(t *testing.T) {
	in := map[string]any{
		"AccountId":       "1",
		"S3BucketDetails": []any{map[string]any{"Arn": "a"}},
		"Service": map[string]any{"Action": map[string]any{"AwsApiCallAction": map[string]any{
			"AffectedResources": map[string]any{"AWS::IAM::Role": "r"}}}},
		"detail-type": "GuardDuty Finding",
	}
	want := map[string]any{
		"accountId":       "1",
		"s3BucketDetails": []any{map[string]any{"arn": "a"}},
		"service": map[string]any{"action": map[string]any{"awsApiCallAction": map[string]any{
			"affectedResources": map[string]any{"AWS::IAM::Role": "r"}}}},
		"detail-type": "GuardDuty Finding",
	}
	if got := camelKeys(in); !reflect.DeepEqual(got, want) {
		t.Errorf("camelKeys = %v\nwant %v", got, want)
	}
}

func TestTacticFromName(t *testing.T) {
	tests := map[string]string{
		"PrivilegeEscalation":        "TA0004",
		"privilege-escalation":       "TA0004",
		"Privilege Escalation":       "TA0004",
		"PRIVILEGE_ESCALATION":       "TA0004",
		"mitre_privilege_escalation": "TA0004",
		"Command and Control":        "TA0011",
		"InitialAccess":              "TA0001",
		"Recon":                      "",
		"UnauthorizedAccess":         "",
	}
	for name, want := range tests {
		got, ok := tacticFromName(name)
		if ok != (want != "") || got.UID != want {
			t.Errorf("tacticFromName(%q) = %v %v, want %q", name, got, ok, want)
		}
	}
}
