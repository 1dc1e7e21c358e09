package ingest

import (
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// The LogSeverity ladder: words and numbers (LogSeverity 0–800).
func TestGCPSeverity(t *testing.T) {
	tests := []struct {
		in   any
		want int
	}{
		{"DEFAULT", ocsf.SeverityInformational},
		{"DEBUG", ocsf.SeverityInformational},
		{"INFO", ocsf.SeverityInformational},
		{"NOTICE", ocsf.SeverityInformational},
		{"WARNING", ocsf.SeverityLow},
		{"ERROR", ocsf.SeverityMedium},
		{"CRITICAL", ocsf.SeverityHigh},
		{"ALERT", ocsf.SeverityCritical},
		{"EMERGENCY", ocsf.SeverityFatal},
		{json.Number("0"), ocsf.SeverityInformational},
		{json.Number("300"), ocsf.SeverityInformational},
		{json.Number("400"), ocsf.SeverityLow},
		{json.Number("500"), ocsf.SeverityMedium},
		{json.Number("600"), ocsf.SeverityHigh},
		{json.Number("700"), ocsf.SeverityCritical},
		{json.Number("800"), ocsf.SeverityFatal},
		{nil, ocsf.SeverityUnknown},
		{"LOUD", ocsf.SeverityUnknown},
	}
	for _, tt := range tests {
		if got := gcpSeverity(tt.in); got != tt.want {
			t.Errorf("gcpSeverity(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestGCPActivity(t *testing.T) {
	tests := []struct {
		method string
		want   int
	}{
		{"v1.compute.instances.insert", apiCreate},
		{"google.cloud.run.v1.Services.CreateService", apiCreate},
		{"storage.objects.get", apiRead},
		{"v1.compute.instances.aggregatedList", apiRead},
		{"TagKeys.ListTagKeys", apiRead},
		{"v1.compute.firewalls.patch", apiUpdate},
		{"SetIamPolicy", apiUpdate},
		{"storage.setIamPermissions", apiUpdate},
		{"dns.managedZones.delete", apiDelete},
		{"google.appengine.v1.Firewall.DeleteIngressRule", apiDelete},
		{"iam.roles.update", apiUpdate}, // a permission, when methodName is absent
		{"SignJwt", ocsf.ActivityOther},
		{"google.ssh-serialport.v1.connect", ocsf.ActivityOther},
	}
	for _, tt := range tests {
		if got := gcpActivity(tt.method); got != tt.want {
			t.Errorf("gcpActivity(%q) = %d, want %d", tt.method, got, tt.want)
		}
	}
}

func TestGCPLoginActivity(t *testing.T) {
	tests := []struct {
		method   string
		activity int
		failed   bool
	}{
		{"google.login.LoginService.loginSuccess", 1, false},
		{"google.login.LoginService.loginFailure", 1, true},
		{"google.login.LoginService.logout", 2, false},
		{"google.login.LoginService.suspiciousLogin", ocsf.ActivityOther, false},
	}
	for _, tt := range tests {
		act, failed := gcpLoginActivity(tt.method)
		if act != tt.activity || failed != tt.failed {
			t.Errorf("gcpLoginActivity(%q) = %d, %v; want %d, %v", tt.method, act, failed, tt.activity, tt.failed)
		}
	}
}

func TestGCPIsZone(t *testing.T) {
	for loc, want := range map[string]bool{"us-central1-a": true, "europe-west4-c": true, "us-central1": false, "us": false, "global": false, "asia-east1-": false} {
		if got := gcpIsZone(loc); got != want {
			t.Errorf("gcpIsZone(%q) = %v, want %v", loc, got, want)
		}
	}
}
