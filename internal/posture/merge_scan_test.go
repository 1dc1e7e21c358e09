package posture

import (
	"context"
	"iter"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// TestScanMergedInputs scans an AWS Config snapshot together with the IAM
// credential report. Merged with inventory.MergeStreams, the user both
// describe is one resource on which the credential rules (from the report)
// and the policy rules (from AWS Config) all give their result, once each;
// read one after the other, the same user is two partial resources.
func TestScanMergedInputs(t *testing.T) {
	const (
		config = "inventory/testdata/aws-config/snapshot.json"
		report = "inventory/testdata/aws-credential-report/report.csv"
		alice  = "arn:aws:iam::123456789012:user/alice"
	)
	// rule → status on alice; the first three read the credential report,
	// the other two AWS Config's policies (alice has an inline "*" on "*").
	want := map[string]Status{
		"aws-iam-user-console-mfa":        StatusPass,
		"aws-iam-user-unused-credentials": StatusPass,
		"aws-iam-access-key-rotation":     StatusPass,
		"aws-iam-user-no-direct-policies": StatusFail,
		"aws-iam-principal-no-full-admin": StatusFail,
	}
	tests := []struct {
		name      string
		merge     bool
		resources int // distinct resources alice's results are on
	}{
		{"merged", true, 1},
		{"unmerged", false, 2},
	}
	ps, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ps.RuleSet("cis-aws-3.0", mlpsPack)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var streams []iter.Seq2[*inventory.Resource, error]
			for _, file := range []string{config, report} {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				streams = append(streams, inventory.Builtin().Stream(ctx, "", f))
			}
			input := func(yield func(*inventory.Resource, error) bool) {
				for _, s := range streams {
					for r, err := range s {
						if !yield(r, err) {
							return
						}
					}
				}
			}
			if tc.merge {
				input = inventory.MergeStreams(streams...)
			}
			got := map[string][]Status{}
			var on []*inventory.Resource
			for res, err := range Scan(ctx, rules, input, ScanOptions{Now: now}) {
				if err != nil {
					t.Fatal(err)
				}
				if res.Resource.UID != alice {
					continue
				}
				got[res.Rule.ID] = append(got[res.Rule.ID], res.Status)
				if !slices.Contains(on, res.Resource) {
					on = append(on, res.Resource)
				}
			}
			if len(on) != tc.resources {
				t.Errorf("alice's results are on %d resources, want %d", len(on), tc.resources)
			}
			for rule, status := range want {
				if !slices.Equal(got[rule], []Status{status}) {
					t.Errorf("%s on alice: %v, want [%s]", rule, got[rule], status)
				}
			}
		})
	}
}
