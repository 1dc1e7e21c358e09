package ingest

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestCloudTrailActivity(t *testing.T) {
	tests := []struct {
		op    string
		id    int
		other string
	}{
		{"CreateUser", 1, ""}, {"PutBucketPolicy", 1, ""}, {"RunInstances", 1, ""}, {"AttachUserPolicy", 1, ""},
		{"AddPermission20150331v2", 1, ""}, {"AuthorizeSecurityGroupIngress", 1, ""},
		{"GetSecretValue", 2, ""}, {"ListBuckets", 2, ""}, {"DescribeInstances", 2, ""}, {"HeadObject", 2, ""},
		{"UpdateLoginProfile", 3, ""}, {"ModifySnapshotAttribute", 3, ""}, {"SetIdentityPoolRoles", 3, ""},
		{"DisableEbsEncryptionByDefault", 3, ""},
		{"DeleteTrail", 4, ""}, {"RemovePermission", 4, ""}, {"DetachRolePolicy", 4, ""}, {"TerminateInstances", 4, ""},
		{"ConsoleLogin", ocsf.ActivityOther, "ConsoleLogin"}, {"AssumeRole", ocsf.ActivityOther, "AssumeRole"},
		{"StopLogging", ocsf.ActivityOther, "StopLogging"}, {"Decrypt", ocsf.ActivityOther, "Decrypt"},
		{"Settle", ocsf.ActivityOther, "Settle"}, // a verb must end at a word boundary
		{"Getaway", ocsf.ActivityOther, "Getaway"},
	}
	for _, tt := range tests {
		id, other := cloudTrailActivity(tt.op)
		if id != tt.id || other != tt.other {
			t.Errorf("cloudTrailActivity(%q) = %d, %q; want %d, %q", tt.op, id, other, tt.id, tt.other)
		}
	}
}

func TestCanonicalIP(t *testing.T) {
	tests := map[string]string{
		"1.2.3.4":           "1.2.3.4",
		"075.050.255.67":    "75.50.255.67",
		"08.1.250.216":      "8.1.250.216",
		"2001:0db8::1":      "2001:db8::1",
		"256.1.1.1":         "",
		"ec2.amazonaws.com": "",
		"AWS Internal":      "",
		"":                  "",
		"1.2.3":             "",
		"0001.2.3.4":        "",
	}
	for in, want := range tests {
		if got := canonicalIP(in); got != want {
			t.Errorf("canonicalIP(%q) = %q, want %q", in, got, want)
		}
	}
}
