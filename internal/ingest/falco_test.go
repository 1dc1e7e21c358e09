package ingest

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestFalcoPriority(t *testing.T) {
	tests := []struct {
		priority string
		want     int
		caption  string
	}{
		{"Emergency", ocsf.SeverityCritical, "Critical"},
		{"ALERT", ocsf.SeverityCritical, "Critical"},
		{"Critical", ocsf.SeverityCritical, "Critical"},
		{"CRITICAL", ocsf.SeverityCritical, "Critical"},
		{"Error", ocsf.SeverityHigh, "High"},
		{"warning", ocsf.SeverityMedium, "Medium"},
		{"Notice", ocsf.SeverityLow, "Low"},
		{"Informational", ocsf.SeverityInformational, "Informational"},
		{"info", ocsf.SeverityInformational, "Informational"},
		{"Debug", ocsf.SeverityInformational, "Informational"},
		{"Urgent", ocsf.SeverityOther, "Urgent"},
		{"", ocsf.SeverityUnknown, "Unknown"},
	}
	for _, tt := range tests {
		f := fields{"rule": "r", "priority": tt.priority}
		d, err := mapFalco(f, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if d.SeverityID != tt.want || d.Severity != tt.caption {
			t.Errorf("priority %q: severity %d %q, want %d %q", tt.priority, d.SeverityID, d.Severity, tt.want, tt.caption)
		}
	}
}

func TestIsTechniqueID(t *testing.T) {
	for s, want := range map[string]bool{"T1059": true, "T1059.004": true, "T105": false, "T1059.04": false, "t1059": false, "TA0002": false, "T1059x004": false} {
		if got := isTechniqueID(s); got != want {
			t.Errorf("isTechniqueID(%q) = %v", s, got)
		}
	}
}
