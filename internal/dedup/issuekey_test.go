package dedup_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/dedup"
	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

// TestSameCVESameImageAcrossTools: Trivy and Amazon Inspector (through
// Security Hub) report CVE-2023-2650 in openssl of the same ECR image; both
// findings get one issue key, and Trivy's other CVE another.
func TestSameCVESameImageAcrossTools(t *testing.T) {
	trivy := ingesttest.Decode(t, "testdata/trivy-ecr-repo-os.json")
	inspector := ingesttest.Decode(t, "testdata/inspector-ecr-cve-2023-2650.asff.json")
	if len(trivy) != 2 || len(inspector) != 1 {
		t.Fatalf("decoded %d and %d records", len(trivy), len(inspector))
	}
	kt, ki := dedup.IssueKey(trivy[0]), dedup.IssueKey(inspector[0])
	want := "vuln|cve-2023-2650|openssl@1.1.1n-0+deb11u4|sha256:af965ef68c78374a5f987fce98c0ddfa45801df2395bf012c50b863e65978d74"
	if kt != want || ki != want {
		t.Errorf("issue keys\ntrivy     %s\ninspector %s\nwant      %s", kt, ki, want)
	}
	if other := dedup.IssueKey(trivy[1]); other == want || other == "" {
		t.Errorf("another CVE got key %q", other)
	}
	if trivy[0].SourceUID() == inspector[0].SourceUID() {
		t.Error("the two sources' findings must stay distinct")
	}
}

func TestIssueKey(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 20, 0, 0, time.UTC)
	detection := func(rule, host string, tm time.Time) *ocsf.DetectionFinding {
		f := &ocsf.DetectionFinding{}
		f.Metadata.Product.Name = "Falco"
		f.Time = tm.UnixMilli()
		f.FindingInfo.Analytic = ocsf.NewAnalytic(ocsf.AnalyticTypeRule, rule, rule)
		f.Device = &ocsf.Device{Hostname: host}
		return f
	}
	compliance := func(control, resource string) *ocsf.ComplianceFinding {
		f := &ocsf.ComplianceFinding{}
		f.Compliance.Control = control
		f.Resources = []ocsf.ResourceDetails{{UID: resource}}
		return f
	}
	vuln := func(cve, pkg, version, release, resource string) *ocsf.VulnerabilityFinding {
		f := &ocsf.VulnerabilityFinding{}
		f.Vulnerabilities = []ocsf.Vulnerability{{CVE: &ocsf.CVE{UID: cve}, AffectedPackages: []ocsf.AffectedPackage{{Name: pkg, Version: version, Release: release}}}}
		f.Resources = []ocsf.ResourceDetails{{UID: resource}}
		return f
	}
	tests := []struct {
		name string
		a, b ocsf.Record
		same bool
	}{
		{"same alert, same hour", detection("Terminal shell in container", "node-1", at), detection("Terminal shell in container", "node-1", at.Add(30*time.Minute)), true},
		{"same alert, next hour", detection("Terminal shell in container", "node-1", at), detection("Terminal shell in container", "node-1", at.Add(time.Hour)), false},
		{"same alert, other host", detection("Terminal shell in container", "node-1", at), detection("Terminal shell in container", "node-2", at), false},
		{"same control and resource", compliance("s3.8", "arn:aws:s3:::logs"), compliance("S3.8", "arn:aws:s3:::logs"), true},
		{"same control, other resource", compliance("s3.8", "arn:aws:s3:::logs"), compliance("s3.8", "arn:aws:s3:::web"), false},
		{"epoch and release normalized", vuln("CVE-1", "curl", "0:7.88.1", "10+deb12u5", "img"), vuln("CVE-1", "curl", "7.88.1-10+deb12u5", "", "img"), true},
		{"other version", vuln("CVE-1", "curl", "7.88.1-10", "", "img"), vuln("CVE-1", "curl", "7.88.1-11", "", "img"), false},
		{"digest inside a name", vuln("CVE-1", "curl", "1", "", "reg/app@sha256:"+sixtyfour('a')), vuln("CVE-1", "curl", "1", "", "arn:aws:ecr:r:1:repository/app/sha256:"+sixtyfour('a')), true},
	}
	for _, tt := range tests {
		ka, kb := dedup.IssueKey(tt.a), dedup.IssueKey(tt.b)
		if ka == "" || kb == "" {
			t.Errorf("%s: empty key (%q, %q)", tt.name, ka, kb)
		}
		if (ka == kb) != tt.same {
			t.Errorf("%s: keys %q and %q, want same=%v", tt.name, ka, kb, tt.same)
		}
	}
	if k := dedup.IssueKey(&ocsf.APIActivity{}); k != "" {
		t.Errorf("an event got issue key %q", k)
	}
}

func sixtyfour(c byte) string { return string(bytes.Repeat([]byte{c}, 64)) }

// TestSamePublicBucketAcrossTools: Security Hub's S3.8 and Prowler's
// bucket-level public access check, failing on the same bucket, are one
// issue: both become CIS AWS 3.0 control 2.1.4.
func TestSamePublicBucketAcrossTools(t *testing.T) {
	sh := ingesttest.Decode(t, "testdata/securityhub-s3.8-public-bucket.asff.json")
	pr := ingesttest.Decode(t, "testdata/prowler5-s3-public-bucket.ocsf.json")
	if len(sh) != 1 || len(pr) != 1 {
		t.Fatalf("decoded %d and %d", len(sh), len(pr))
	}
	want := "control|cis-aws-3.0:2.1.4|arn:aws:s3:::acme-customer-exports"
	if a, b := dedup.IssueKey(sh[0]), dedup.IssueKey(pr[0]); a != want || b != want {
		t.Errorf("issue keys\nsecurity hub %s\nprowler      %s\nwant         %s", a, b, want)
	}
}

func TestCanonicalControl(t *testing.T) {
	for in, want := range map[string]string{
		"S3.8":                                  "cis-aws-3.0:2.1.4",
		"s3.8":                                  "cis-aws-3.0:2.1.4",
		"s3_account_level_public_access_blocks": "cis-aws-3.0:2.1.4",
		"iam_root_mfa_enabled":                  "cis-aws-3.0:1.5",
		"IAM.9":                                 "cis-aws-3.0:1.5",
		"actiontrail_multi_region_enabled":      "cis-alicloud-2.0:2.1",
		"KSV-0001":                              "KSV-0001",
	} {
		if got := dedup.CanonicalControl(in); got != want {
			t.Errorf("CanonicalControl(%q) = %q, want %q", in, got, want)
		}
	}
}
