package cloud

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
	"github.com/canopy-sec/canopy/internal/risk"
)

const sgARN = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0123456789abcdef0"

func testWorld() *respondtest.World {
	inst := func(id, service string) inventory.Resource {
		return inventory.Resource{Provider: "aws", Account: "111122223333", Region: "eu-west-1", Type: "AWS::EC2::Instance",
			UID: "arn:aws:ec2:eu-west-1:111122223333:instance/" + id, Name: id, Tags: map[string]string{"service": service},
			Relationships: []inventory.Relationship{{Type: "uses", Target: sgARN, TargetType: "AWS::EC2::SecurityGroup"}}}
	}
	return &respondtest.World{
		Resources: map[string][]inventory.Resource{
			testTenant: {
				{Provider: "aws", Account: "111122223333", Region: "eu-west-1", Type: "AWS::EC2::SecurityGroup", UID: sgARN, Name: "web"},
				inst("i-0aaaaaaaaaaaaaaa1", "payments"),
				inst("i-0aaaaaaaaaaaaaaa2", "checkout"),
				{Provider: "aws", Type: "AWS::S3::Bucket", UID: "arn:aws:s3:::exposed-logs", Name: "exposed-logs", Tags: map[string]string{"app": "logging"}},
			},
			"tenant-b": {inst("i-0bbbbbbbbbbbbbbb1", "other")},
		},
		Seen: map[string]map[string][]correlate.Entity{
			testTenant: {testAKIA: {{Kind: "host", Value: "build-runner-7"}, {Kind: "ip", Value: "203.0.113.9"}}},
		},
	}
}

func uids(as []respond.Asset) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.UID)
	}
	return out
}

func TestImpactFromWorld(t *testing.T) {
	w := testWorld()
	rec := respond.Record{Tenant: testTenant, Kind: respond.KindIncident, ID: "1"}
	tests := []struct {
		name       string
		action     respond.Action
		params     string
		targets    []string
		affected   []string
		services   []string
		noteSubstr string
	}{
		{
			name:     "security group known by its ARN: its instances are affected",
			action:   awsRevokeIngress{},
			params:   `{"region":"eu-west-1","account_id":"111122223333","group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`,
			targets:  []string{sgARN},
			affected: []string{"arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1", "arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa2"},
			services: []string{"checkout", "payments"},
		},
		{
			name:       "no account: the plain id, unknown to the inventory",
			action:     awsRevokeIngress{},
			params:     `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`,
			targets:    []string{"sg-0123456789abcdef0"},
			noteSubstr: "does not know sg-0123456789abcdef0",
		},
		{
			name:     "bucket by its ARN",
			action:   awsBlockPublicAccess{},
			params:   `{"bucket":"exposed-logs"}`,
			targets:  []string{"arn:aws:s3:::exposed-logs"},
			services: []string{"logging"},
		},
		{
			name:     "access key: the workloads seen using it",
			action:   awsDeactivateKey{},
			params:   `{"user_name":"alice","access_key_id":"` + testAKIA + `"}`,
			targets:  []string{testAKIA},
			affected: []string{"203.0.113.9", "build-runner-7"},
		},
		{
			name:     "quarantine: the instance and the quarantine group",
			action:   awsQuarantine{},
			params:   `{"region":"eu-west-1","account_id":"111122223333","instance_id":"i-0aaaaaaaaaaaaaaa1","quarantine_group_id":"sg-0123456789abcdef0"}`,
			targets:  []string{"arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1", sgARN},
			affected: []string{"arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa2"},
			services: []string{"checkout", "payments"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := tt.action.Impact(bg, rec, params(t, tt.action, tt.params), w)
			if err != nil {
				t.Fatal(err)
			}
			if im.Action != tt.action.Name() || !slices.Equal(uids(im.Targets), tt.targets) || !slices.Equal(uids(im.Affected), tt.affected) || !slices.Equal(im.Services, tt.services) {
				t.Errorf("Impact targets %v affected %v services %v; want %v %v %v", uids(im.Targets), uids(im.Affected), im.Services, tt.targets, tt.affected, tt.services)
			}
			if tt.noteSubstr != "" && !slices.ContainsFunc(im.Notes, func(n string) bool { return strings.Contains(n, tt.noteSubstr) }) {
				t.Errorf("notes %q lack %q", im.Notes, tt.noteSubstr)
			}
			if im.Rollback == "" || !im.Reversible || im.Summary == "" || !im.Disruption.Valid() {
				t.Errorf("incomplete impact %+v", im)
			}
		})
	}
}

// A world that fails stops the preview with an error naming the action.
func TestImpactWorldError(t *testing.T) {
	boom := errors.New("store down")
	_, err := awsRevokeIngress{}.Impact(bg, respond.Record{Tenant: testTenant}, params(t, awsRevokeIngress{}, `{"group_id":"sg-0123456789abcdef0","protocol":"-1","cidr":"0.0.0.0/0"}`), failingWorld{boom})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), NameAWSRevokeIngress) {
		t.Errorf("Impact error = %v", err)
	}
}

type failingWorld struct{ err error }

func (f failingWorld) Resource(context.Context, string, string) (inventory.Resource, error) {
	return inventory.Resource{}, f.err
}
func (f failingWorld) Referrers(context.Context, string, string) ([]inventory.Resource, error) {
	return nil, f.err
}
func (f failingWorld) SeenUsing(context.Context, string, string) ([]correlate.Entity, error) {
	return nil, f.err
}
func (f failingWorld) Assets(context.Context, string) (risk.AssetContext, error) {
	return risk.AssetContext{}, nil
}
