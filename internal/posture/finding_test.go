package posture

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/dedup"
	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/ocsf/ocsfschema"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

var (
	schemaOnce sync.Once
	schema     *ocsfschema.Schema
	schemaErr  error
)

func loadSchema(t testing.TB) *ocsfschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		schema, schemaErr = ocsfschema.Load(os.DirFS(filepath.Join("..", "ocsf", "ocsfschema", "testdata", "schema")))
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schema
}

// validateFindings fails t for every OCSF schema problem of fs.
func validateFindings(t testing.TB, fs []*ocsf.ComplianceFinding) {
	t.Helper()
	s := loadSchema(t)
	for i, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		problems, err := s.ValidateJSON(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("finding %d (%s): %s", i, f.Compliance.Control, p)
		}
	}
}

const publicBucketRule = `rules:
  - id: test-s3-public-access-block
    title: S3 bucket blocks public access
    description: All four settings are on.
    severity: high
    provider: aws
    resource_types: ["AWS::S3::Bucket"]
    check: resource.attributes.?public_access_block.?block_public_acls.orValue(false)
    message: '"bucket " + resource.name + " allows public ACLs"'
    remediation: Turn Block Public Access on.
    references: ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"]
    frameworks:
      cis-aws-3.0: ["2.1.4"]
      mlps2-l3: [L3-CES2-09]
    responsibility_area: data
`

// TestFindings checks the OCSF mapping of pass, fail and error results and
// that a failure joins Prowler's and Security Hub's findings on the same
// control and bucket.
func TestFindings(t *testing.T) {
	rules, err := ParseRules("inline.yaml", []byte(publicBucketRule))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := NewRuleSet(rules...)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	resources := []*inventory.Resource{
		{Provider: "aws", Account: "123456789012", Region: "eu-west-1", Type: "AWS::S3::Bucket",
			UID: "arn:aws:s3:::acme-customer-exports", Name: "acme-customer-exports", Tags: map[string]string{"env": "prod"},
			Attributes: map[string]any{"public_access_block": map[string]any{"block_public_acls": false}}, Source: "aws-config:snapshot.json"},
		{Provider: "aws", Account: "123456789012", Region: "eu-west-1", Type: "AWS::S3::Bucket",
			UID: "arn:aws:s3:::closed", Name: "closed", Attributes: map[string]any{"public_access_block": map[string]any{"block_public_acls": true}}},
		{Provider: "aws", Account: "123456789012", Region: "eu-west-1", Type: "AWS::S3::Bucket",
			UID: "arn:aws:s3:::odd", Name: "odd", Attributes: map[string]any{"public_access_block": map[string]any{"block_public_acls": "yes"}}},
	}
	var all []*ocsf.ComplianceFinding
	byStatus := map[Status][]*ocsf.ComplianceFinding{}
	for res, err := range Scan(context.Background(), rs, Resources(resources), ScanOptions{Now: now}) {
		if err != nil {
			t.Fatal(err)
		}
		fs := NewFindings(res, FindingOptions{ProductVersion: "test"})
		if len(fs) != 2 {
			t.Fatalf("%d findings for %s, want one per control", len(fs), res.Resource.UID)
		}
		all = append(all, fs...)
		byStatus[res.Status] = append(byStatus[res.Status], fs...)
	}
	validateFindings(t, all)
	if len(byStatus[StatusPass]) != 2 || len(byStatus[StatusFail]) != 2 || len(byStatus[StatusError]) != 2 {
		t.Fatalf("findings by status: %d pass, %d fail, %d error", len(byStatus[StatusPass]), len(byStatus[StatusFail]), len(byStatus[StatusError]))
	}
	fail := byStatus[StatusFail][0]
	if fail.Compliance.Control != "cis-aws-3.0:2.1.4" || byStatus[StatusFail][1].Compliance.Control != "mlps2-l3:L3-CES2-09" {
		t.Errorf("controls %q, %q", fail.Compliance.Control, byStatus[StatusFail][1].Compliance.Control)
	}
	if fail.Metadata.Product.Name != "Canopy Posture" || fail.Compliance.StatusID != ocsf.ComplianceStatusFail ||
		fail.StatusID != ocsf.FindingStatusNew || fail.Message != "bucket acme-customer-exports allows public ACLs" ||
		fail.Time != now.UnixMilli() || fail.SeverityID != ocsf.SeverityHigh {
		t.Errorf("failure finding: %+v", fail)
	}
	if p := byStatus[StatusPass][0]; p.Compliance.StatusID != ocsf.ComplianceStatusPass || p.StatusID != ocsf.FindingStatusResolved {
		t.Errorf("pass finding: compliance %d, status %d", p.Compliance.StatusID, p.StatusID)
	}
	if e := byStatus[StatusError][0]; e.Compliance.StatusID != 99 || e.StatusDetail == "" {
		t.Errorf("error finding: compliance %d, detail %q", e.Compliance.StatusID, e.StatusDetail)
	}

	want := "control|cis-aws-3.0:2.1.4|arn:aws:s3:::acme-customer-exports"
	if k := dedup.IssueKey(fail); k != want {
		t.Errorf("IssueKey = %q, want %q", k, want)
	}
	for _, file := range []string{"prowler5-s3-public-bucket.ocsf.json", "securityhub-s3.8-public-bucket.asff.json"} {
		recs := ingesttest.Decode(t, filepath.Join("..", "dedup", "testdata", file))
		if k := dedup.IssueKey(recs[0]); k != want {
			t.Errorf("%s: IssueKey = %q, want %q (the same issue as ours)", file, k, want)
		}
	}
}
