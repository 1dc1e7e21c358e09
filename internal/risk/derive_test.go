package risk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/risk"
)

func TestFromFindings(t *testing.T) {
	now := time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
	ctx, err := risk.LoadAssetContext(strings.NewReader(`
assets:
  - name: prod
    tier: high
    tags: {env: prod}
  - name: payments images
    tier: crown-jewel
    uid: ["arn:aws:ecr:*:repository/repo-gomod/*"]
`))
	if err != nil {
		t.Fatal(err)
	}
	kev, err := risk.NewKEV("CVE-2022-22965")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		kev  risk.KEV
		want func(t *testing.T, in risk.Input)
	}{
		{"inspector ecr ExploitAvailable", "../ingest/testdata/asff/securityhub-inspector-ecr.json", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "severity", in.SeverityID, 5)
			check(t, "cvss", in.CVSS, 9.8)
			check(t, "exploit", in.ExploitKnown, true)
			check(t, "exploit source", in.ExploitSource, "is_exploit_available: CVE-2022-32149")
			check(t, "epss", in.EPSS, 0.0014)
			check(t, "exposed", in.InternetExposed, false)
			check(t, "tier", in.AssetTier, risk.TierCrownJewel)
		}},
		{"guardduty root makes bucket public", "testdata/guardduty-root-public-bucket.jsonl", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "privilege", in.Privilege, risk.PrivilegeRoot)
			check(t, "exposed", in.InternetExposed, true)
			check(t, "reason", in.ExposureReason, "public bucket (effective permission PUBLIC) on arn:aws:s3:::example-bucket")
			check(t, "tier", in.AssetTier, risk.TierHigh)
			check(t, "last seen", in.LastSeen, time.Date(2024, 5, 2, 8, 0, 0, 0, time.UTC))
		}},
		{"guardduty iam user is not privileged", "../ingest/testdata/guardduty/derived-resource-types.jsonl", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "privilege", in.Privilege, risk.PrivilegeNone)
			check(t, "exploit", in.ExploitKnown, false)
		}},
		{"guardduty ec2 public ip", "../ingest/testdata/guardduty/eventbridge-derived-from-asff.json", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "exposed", in.InternetExposed, true)
			check(t, "reason", in.ExposureReason, "public IP 1.2.2.2 on i-1234567890")
			check(t, "tactics", in.Tactics, 1)
		}},
		{"prowler public bucket", "../dedup/testdata/prowler5-s3-public-bucket.ocsf.json", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "exposed", in.InternetExposed, true)
			check(t, "reason", in.ExposureReason, "failed check s3_bucket_level_public_access_block")
		}},
		{"security hub S3.8", "../dedup/testdata/securityhub-s3.8-public-bucket.asff.json", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "exposed", in.InternetExposed, true)
		}},
		{"trivy spring4shell cvss 9.8 in KEV", "../ingest/testdata/trivy/image-spring4shell-jre11.json", kev, func(t *testing.T, in risk.Input) {
			check(t, "severity", in.SeverityID, 5)
			check(t, "cvss", in.CVSS, 9.8)
			check(t, "exploit", in.ExploitKnown, true)
			check(t, "exploit source", in.ExploitSource, "KEV: CVE-2022-22965")
			check(t, "exposed", in.InternetExposed, false)
			check(t, "tier", in.AssetTier, risk.TierUnknown)
		}},
		{"trivy spring4shell without KEV", "../ingest/testdata/trivy/image-spring4shell-jre11.json", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "exploit", in.ExploitKnown, false)
		}},
		{"passed checks are ignored", "../ingest/testdata/asff/securityhub-fsbp-config.json", risk.KEV{}, func(t *testing.T, in risk.Input) {
			check(t, "severity", in.SeverityID, 0)
			check(t, "last seen", in.LastSeen.IsZero(), true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := risk.FromFindings(ingesttest.Decode(t, tt.path), ctx, tt.kev, now)
			check(t, "as of", in.AsOf, now)
			tt.want(t, in)
			r := risk.Score(in, risk.DefaultWeights())
			assertSums(t, r)
		})
	}
}

func TestFromFindingsAdminAndTactics(t *testing.T) {
	admin := &ocsf.User{Name: "alice"}
	admin.SetType(ocsf.UserTypeAdmin, "")
	d := &ocsf.DetectionFinding{Evidences: []ocsf.Evidence{{Actor: &ocsf.Actor{User: admin}}}}
	d.SeverityID = 4
	d.FindingInfo.Attacks = []ocsf.Attack{
		{Tactic: &ocsf.Tactic{UID: "TA0001", Name: "Initial Access"}},
		{Tactics: []ocsf.Tactic{{UID: "ta0001"}, {UID: "TA0003"}, {Name: "Impact"}}},
	}
	events := &ocsf.APIActivity{}
	in := risk.FromFindings([]ocsf.Record{d, events}, risk.AssetContext{}, risk.KEV{}, time.Time{})
	check(t, "privilege", in.Privilege, risk.PrivilegeAdmin)
	check(t, "principal", in.Principal, "alice")
	check(t, "tactics", in.Tactics, 3)
	check(t, "severity", in.SeverityID, 4)
}

func check[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
