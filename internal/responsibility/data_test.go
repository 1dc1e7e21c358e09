package responsibility

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// TestBuiltinMatrixMatchesReference reads the embedded reference with a
// generic decoder and checks that the matrix holds exactly its cells and
// duties.
func TestBuiltinMatrixMatchesReference(t *testing.T) {
	var ref struct {
		Areas []struct {
			ID     string
			Matrix map[string]struct {
				Party   string
				Note    string
				Sources []string
			}
		}
		VendorDeliveryModes struct {
			Modes []struct {
				ID, ZH string
				Split  yaml.MapSlice
			}
		} `yaml:"vendor_delivery_modes"`
	}
	if err := yaml.Unmarshal(matrixYAML, &ref); err != nil {
		t.Fatal(err)
	}
	m := BuiltinMatrix()
	if got := len(m.Areas()); got != 13 || len(ref.Areas) != 13 {
		t.Errorf("%d areas in the matrix, %d in the reference; want 13", got, len(ref.Areas))
	}
	for i, ra := range ref.Areas {
		a := m.Areas()[i]
		if a.ID != ra.ID {
			t.Errorf("area %d: %s, reference %s", i, a.ID, ra.ID)
		}
		for _, model := range ServiceModels() {
			rc, c := ra.Matrix[string(model)], a.Cells[model]
			if string(c.Party) != rc.Party || c.Note != rc.Note || !slices.Equal(c.Sources, rc.Sources) || c.Override != "" {
				t.Errorf("%s × %s: %+v, reference %+v", a.ID, model, c, rc)
			}
		}
	}
	if len(m.Modes()) != 3 {
		t.Errorf("%d modes, want 3", len(m.Modes()))
	}
	for i, rm := range ref.VendorDeliveryModes.Modes {
		v, ok := m.Mode(rm.ZH)
		if !ok || v.ID != rm.ID || len(v.Duties) != len(rm.Split) {
			t.Errorf("mode %d (%s %s): got %+v", i, rm.ID, rm.ZH, v)
			continue
		}
		for j, item := range rm.Split {
			if v.Duties[j].ID != item.Key {
				t.Errorf("mode %s duty %d: %s, reference %v", v.ID, j, v.Duties[j].ID, item.Key)
			}
		}
	}
}

// TestEmbeddedMatrixIsTheReference compares the embedded copy with
// shared/reference/shared-responsibility.yaml when the checkout sits beside
// it (it is copied, never retyped).
func TestEmbeddedMatrixIsTheReference(t *testing.T) {
	for _, dir := range []string{"../../../shared/reference", "../../../../shared/reference"} {
		data, err := os.ReadFile(filepath.Join(dir, MatrixFile))
		if err != nil {
			continue
		}
		if !bytes.Equal(data, matrixYAML) {
			t.Fatalf("data/%s differs from %s: copy it again", MatrixFile, filepath.Join(dir, MatrixFile))
		}
		return
	}
	t.Skip("shared/reference not found beside the checkout")
}

func TestSharedCellsHaveParts(t *testing.T) {
	m := BuiltinMatrix()
	for _, a := range m.Areas() {
		for _, model := range ServiceModels() {
			c := a.Cells[model]
			if (c.Party == Shared) != (len(c.Parts) == 2) {
				t.Errorf("%s × %s: party %s, parts %+v", a.ID, model, c.Party, c.Parts)
			}
			if len(c.Parts) == 2 && (c.Parts[0].Party != Provider || c.Parts[1].Party != Customer) {
				t.Errorf("%s × %s: parts %+v: want provider then customer", a.ID, model, c.Parts)
			}
		}
	}
	parts, err := builtinParts()
	if err != nil {
		t.Fatal(err)
	}
	for area, byModel := range parts {
		for model := range byModel {
			if c, ok := m.Cell(area, model); !ok || c.Party != Shared {
				t.Errorf("parts.yaml: %s × %s is not a shared cell of the matrix", area, model)
			}
		}
	}
}

func TestDutiesNameAreas(t *testing.T) {
	m := BuiltinMatrix()
	duties, err := builtinDuties()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, v := range m.Modes() {
		for _, d := range v.Duties {
			used[d.ID] = true
		}
	}
	for id, d := range duties {
		if !used[id] {
			t.Errorf("vendor-duties.yaml: %s is a duty of no mode", id)
		}
		for _, a := range append(slices.Clone(d.estateLeads), d.estatePart...) {
			if _, ok := m.Area(a); !ok && a != "*" {
				t.Errorf("vendor-duties.yaml: %s: %q is not an area", id, a)
			}
		}
	}
	// The 7x24 MSSP mode must be able to take security operations; the
	// software-only modes must not.
	for mode, can := range map[string]bool{"cloud_software_plus_managed_service": true, "cloud_software": false, "cloud_service": false} {
		v, _ := m.Mode(mode)
		if got := vendorLeads(leadingDuties(v, "security_operations", "")); got != can {
			t.Errorf("mode %s: vendor leads security_operations = %v, want %v", mode, got, can)
		}
	}
}

func TestCatalogLookup(t *testing.T) {
	c := BuiltinCatalog()
	for _, tc := range []struct {
		typ, provider string
		name          string
		model         ServiceModel
		category      string
	}{
		{"AWS::EC2::Instance", "", "AWS::EC2::Instance", IaaS, "compute"},
		{"AwsEc2Instance", "AWS", "AWS::EC2::Instance", IaaS, "compute"},
		{"AWS_EC2_INSTANCE", "aws", "AWS::EC2::Instance", IaaS, "compute"},
		{"AWS::RDS::DBInstance", "", "AWS::RDS::DBInstance", PaaS, "database"},
		{"AwsRdsDbInstance", "", "AWS::RDS::DBInstance", PaaS, "database"},
		{"AWS::Lambda::Function", "", "AWS::Lambda::Function", PaaS, "serverless"},
		{"AwsS3Bucket", "", "AWS::S3::Bucket", PaaS, "storage"},
		{"AWS::IAM::User", "", "AWS::IAM::User", "", "identity"},
		{"AWS::IAM::OIDCProvider", "", "AWS::IAM::*", "", "identity"},
		{"AWS::EC2::CapacityReservation", "", "AWS::EC2::*", IaaS, "compute"},
		{"ALIYUN::ECS::Instance", "Alibaba Cloud", "ALIYUN::ECS::Instance", IaaS, "compute"},
		{"ALIYUN::RDS::DBInstance", "alicloud", "ALIYUN::RDS::DBInstance", PaaS, "database"},
		{"ALIYUN::OSS::Bucket", "", "ALIYUN::OSS::Bucket", PaaS, "storage"},
		{"ALIYUN::RAM::User", "", "ALIYUN::RAM::User", "", "identity"},
		{"google.compute.Instance", "GCP", "google.compute.Instance", IaaS, "compute"},
		{"compute.googleapis.com/Instance", "", "compute.googleapis.com/Instance", IaaS, "compute"},
		{"google.cloud.sql.Instance", "", "google.cloud.sql.Instance", PaaS, "database"},
		{"Microsoft.Compute/virtualMachines", "Azure", "Microsoft.Compute/virtualMachines", IaaS, "compute"},
		{"microsoft.sql/servers", "", "Microsoft.Sql/servers", PaaS, "database"},
		{"Microsoft.Web/sites", "", "Microsoft.Web/sites", PaaS, "application"},
		{"Microsoft.SomethingNew/things", "azure", "Microsoft.*", PaaS, "application"},
		{"Pod", "", "Pod", IaaS, "workload"},
		{"/Pod", "", "Pod", IaaS, "workload"},
		{"apps/Deployment", "", "Deployment", IaaS, "workload"},
		{"pods", "", "Pod", IaaS, "workload"},
		{"Kubernetes pods", "AWS", "Pod", IaaS, "workload"},
		{"clusterrolebindings", "", "ClusterRoleBinding", "", "identity"},
		{"networkpolicies", "", "NetworkPolicy", IaaS, "network"},
		{"Service", "", "Service", IaaS, "network"},
		{"Service", "kubernetes", "Service", IaaS, "network"},
		{"Service", "GCP", "Service", "", "account"},
		{"container_image", "", "Container Image", IaaS, "container_image"},
		{"Container Image", "", "Container Image", IaaS, "container_image"},
		{"Wazuh agent", "", "Wazuh agent", IaaS, "compute"},
		{"SharePoint Site", "", "SharePoint Site", SaaS, "saas_app"},
		{"terraform", "", "terraform", "", "iac"},
	} {
		got, ok := c.Lookup(tc.typ, tc.provider)
		if !ok || got.Name != tc.name || got.Model != tc.model || got.Category != tc.category {
			t.Errorf("Lookup(%q, %q) = %+v, %v; want %s %s %s", tc.typ, tc.provider, got, ok, tc.name, tc.model, tc.category)
		}
	}
	for _, tc := range []struct{ typ, provider string }{
		{"Other", ""}, {"", ""}, {"AWS::EC2::Instance", "azure"}, {"FirewallRule", "azure"}, {"Microsoft.Compute/virtualMachines", "aws"},
	} {
		if got, ok := c.Lookup(tc.typ, tc.provider); ok {
			t.Errorf("Lookup(%q, %q) = %+v; want none", tc.typ, tc.provider, got)
		}
	}
	for _, tc := range []struct {
		uid, provider string
		model         ServiceModel
		category      string
	}{
		{"arn:aws:s3:::hr-exports", "", PaaS, "storage"},
		{"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc1234def567890", "", IaaS, "compute"},
		{"arn:aws:iam::111122223333:user/alice", "", "", "identity"},
		{"arn:aws-cn:rds:cn-north-1:111122223333:db:orders", "", PaaS, "database"},
		{"acs:ecs:cn-hangzhou:123:instance/i-bp1", "", IaaS, "compute"},
		{"//storage.googleapis.com/bucket", "gcp", PaaS, "storage"},
		{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "", IaaS, "compute"},
		{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv", "", PaaS, "key_management"},
	} {
		got, ok := c.LookupUID(tc.uid, tc.provider)
		if !ok || got.Model != tc.model || got.Category != tc.category || got.Name != "" {
			t.Errorf("LookupUID(%q) = %+v, %v; want %s %s", tc.uid, got, ok, tc.model, tc.category)
		}
	}
}

// TestCorpusResourceTypesKnown checks that every resource type the ingest
// decoders put in a finding's resources[] (as their golden files show) is
// in the catalogue, except the few that say nothing about the resource.
func TestCorpusResourceTypesKnown(t *testing.T) {
	goldens, _ := filepath.Glob("../ingest/testdata/*/*.golden.json")
	if len(goldens) == 0 {
		t.Skip("no ingest golden files")
	}
	unknowable := map[string]bool{"Other": true, "": true}
	c := BuiltinCatalog()
	seen := map[string]bool{}
	for _, g := range goldens {
		data, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		var recs []struct {
			ClassUID int `json:"class_uid"`
			Cloud    *struct {
				Provider string `json:"provider"`
			} `json:"cloud"`
			Resources []struct {
				Type string `json:"type"`
			} `json:"resources"`
		}
		if err := json.Unmarshal(data, &recs); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		for _, r := range recs {
			if !ocsf.IsFinding(r.ClassUID) {
				continue
			}
			provider := ""
			if r.Cloud != nil {
				provider = r.Cloud.Provider
			}
			for _, res := range r.Resources {
				key := provider + "|" + res.Type
				if seen[key] || unknowable[res.Type] {
					continue
				}
				seen[key] = true
				if _, ok := c.Lookup(res.Type, provider); !ok {
					t.Errorf("%s: resource type %q (cloud %q) is not in the catalogue", filepath.Base(g), res.Type, provider)
				}
			}
		}
	}
	if len(seen) < 40 {
		t.Errorf("only %d resource types seen", len(seen))
	}
}

func TestNormalizeProvider(t *testing.T) {
	for in, want := range map[string]string{"AWS": "aws", "Amazon Web Services": "aws", "Alibaba Cloud": "alibaba", "alicloud": "alibaba",
		"aliyun": "alibaba", "GCP": "gcp", "Google Cloud": "gcp", "Azure": "azure", "Microsoft Azure": "azure", "k8s": "kubernetes", "": "", "Huawei Cloud": "huaweicloud"} {
		if got := NormalizeProvider(in); got != want {
			t.Errorf("NormalizeProvider(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"acme-sensor-*", "acme-sensor-agent", true},
		{"acme-sensor-*", "ACME-Sensor-Agent", true},
		{"acme-sensor-*", "acme-sensor", false},
		{"*sensor*", "registry.example.com/acme/sensor:4.2", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"managed-by=sensor-co", "managed-by=sensor-co", true},
		{"managed-by=*", "owner=x", false},
	} {
		if got := glob(tc.p, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
	if !strings.Contains(kindList(), "vulnerability") {
		t.Error(kindList())
	}
}
