package responsibility

import (
	"strconv"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestAttributeIncident(t *testing.T) {
	a := mustAttributor(t, Options{})
	contract := mustContract(t, "contracts/acme.yaml")
	synth := loadRecords(t, "records.json")
	gd := loadRecords(t, "corpus/guardduty/derived-resource-types.jsonl")
	inspector := findRecord(t, loadRecords(t, "corpus/asff/securityhub-inspector-ec2.json"), "CVE-2022-3643")
	probe := findRecord(t, gd, "Unprotected port")
	rds := findRecord(t, synth, "synthetic-rds-engine-cve")
	agent := findRecord(t, synth, "synthetic-vendor-agent-cve")

	member := func(rec ocsf.Record, risk int, ctx Context) Member {
		return Member{UID: rec.SourceUID(), Risk: risk, SeverityID: rec.Common().SeverityID, Attribution: a.Attribute(rec, ctx)}
	}
	none, acme := Context{}, Context{Contract: contract}
	for _, tc := range []struct {
		name     string
		members  []Member
		primary  string
		party    Party
		involved string // "party[ name]:members" joined by ", "
	}{
		{
			name:     "riskiest member decides",
			members:  []Member{member(probe, 40, none), member(inspector, 87, none), member(rds, 60, none)},
			primary:  inspector.SourceUID(),
			party:    Customer,
			involved: "provider:2, customer:2",
		},
		{
			name:     "equal risk: the most severe",
			members:  []Member{{UID: "low", Risk: 50, SeverityID: ocsf.SeverityLow, Attribution: Attribution{Party: Provider, Area: "host_virtualization"}}, {UID: "high", Risk: 50, SeverityID: ocsf.SeverityHigh, Attribution: Attribution{Party: Customer, Area: "data"}}},
			primary:  "high",
			party:    Customer,
			involved: "provider:1, customer:1",
		},
		{
			name:     "equal risk and severity: the first",
			members:  []Member{{UID: "a", Risk: 10, SeverityID: ocsf.SeverityOther, Attribution: Attribution{Party: Provider, Area: "physical_network"}}, {UID: "b", Risk: 10, SeverityID: ocsf.SeverityUnknown, Attribution: Attribution{Party: Customer, Area: "data"}}},
			primary:  "a",
			party:    Provider,
			involved: "provider:1, customer:1",
		},
		{
			name:     "contract: the MSSP and the agent vendor are involved",
			members:  []Member{member(probe, 70, acme), member(agent, 65, acme), member(inspector, 30, acme)},
			primary:  probe.SourceUID(),
			party:    Vendor,
			involved: "customer:3, provider:1, vendor example-mssp:1, vendor sensor-co:1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AttributeIncident(tc.members)
			if got.Primary != tc.primary || got.Party != tc.party {
				t.Errorf("primary %s party %s, want %s %s", got.Primary, got.Party, tc.primary, tc.party)
			}
			var inv []string
			for _, x := range got.Involved {
				s := string(x.Party)
				if x.Party == Vendor {
					s += " " + x.Name
				}
				inv = append(inv, s+":"+strconv.Itoa(x.Members))
			}
			if strings.Join(inv, ", ") != tc.involved {
				t.Errorf("involved %s, want %s", strings.Join(inv, ", "), tc.involved)
			}
			if !strings.HasPrefix(got.Basis, "primary member "+tc.primary+" ") {
				t.Errorf("basis %q", got.Basis)
			}
		})
	}
	if got := AttributeIncident(nil); got.Party != "" || got.Involved != nil {
		t.Errorf("no members: %+v", got)
	}
}

// TestIncidentGolden pins the JSON shape of an incident attribution.
func TestIncidentGolden(t *testing.T) {
	a := mustAttributor(t, Options{})
	contract := mustContract(t, "contracts/acme.yaml")
	gd := loadRecords(t, "corpus/guardduty/derived-resource-types.jsonl")
	var members []Member
	for i, rec := range gd[:4] {
		members = append(members, Member{UID: rec.SourceUID(), Risk: 50 + 10*i, SeverityID: rec.Common().SeverityID, Attribution: a.Attribute(rec, Context{Contract: contract})})
	}
	out := struct {
		Responsibility IncidentAttribution `json:"responsibility"`
	}{AttributeIncident(members)}
	golden(t, "golden/incident.golden.json", indentJSON(t, out))
}

func TestAttributeControl(t *testing.T) {
	a := mustAttributor(t, Options{})
	contract := mustContract(t, "contracts/acme.yaml")
	for _, tc := range []struct {
		name    string
		control Control
		ctx     Context
		party   Party
		model   ServiceModel
		basis   string
		parts   int
	}{
		{"CIS IAM control", Control{ID: "cis-aws-3.0:1.10", Area: "identity_access", ResourceTypes: []string{"AWS::IAM::User"}, Provider: "aws"}, Context{}, Customer, IaaS, "AWS::IAM::User", 0},
		{"network control on security groups", Control{ID: "cis-aws-3.0:5.2", Area: "network_controls", ResourceTypes: []string{"AWS::EC2::NetworkAcl"}, Provider: "aws"}, Context{}, Customer, IaaS, "matrix: network_controls × IaaS → customer", 0},
		{"network control on IaaS and PaaS resources differs", Control{ID: "mlps2-l3:8.2.2.1", Area: "network_controls", ResourceTypes: []string{"AWS::EC2::SecurityGroup", "AWS::RDS::DBInstance"}, Provider: "aws"}, Context{}, Shared, IaaS, "network_controls × PaaS → shared", 3},
		{"data control over several models agrees", Control{ID: "mlps2-l3:8.2.4.5", Area: "data", ResourceTypes: []string{"AWS::S3::Bucket", "AWS::EC2::Volume", "AWS::RDS::DBInstance"}}, Context{}, Customer, IaaS, "data × PaaS → customer", 0},
		{"framework owner wins", Control{ID: "mlps2-l3:8.2.1.1", Area: "physical_datacenter", Owner: Provider}, Context{}, Provider, IaaS, "framework owner provider agrees", 0},
		{"framework owner shared over a customer cell", Control{ID: "mlps2-l3:8.2.4.7", Area: "data", Owner: Shared, ResourceTypes: []string{"ALIYUN::OSS::Bucket"}}, Context{}, Shared, PaaS, "framework owner shared wins over the matrix's customer", 2},
		{"logging control moves to the MSSP", Control{ID: "cis-aws-3.0:3.1", Area: "security_operations", ResourceTypes: []string{"AWS::CloudTrail::Trail"}, Provider: "aws"}, Context{Contract: contract}, Vendor, PaaS, "vendor example-mssp service mdr", 5},
		{"logging control on GCP stays shared", Control{ID: "gcp:logging", Area: "security_operations", ResourceTypes: []string{"google.logging.LogSink"}, Provider: "gcp"}, Context{Contract: contract}, Shared, PaaS, "security_operations × PaaS → shared", 2},
		{"no typed resources: tenant default model", Control{ID: "x", Area: "operating_system"}, Context{DefaultModel: PaaS}, Provider, PaaS, "PaaS (tenant default)", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := a.AttributeControl(tc.control, tc.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Party != tc.party || got.ServiceModel != tc.model || got.Area != tc.control.Area || !strings.Contains(got.Basis, tc.basis) || len(got.Parts) != tc.parts {
				t.Errorf("got %s %s %s, %d parts; want %s %s, %d parts, basis with %q\nbasis: %s\nparts: %+v", got.Party, got.Area, got.ServiceModel, len(got.Parts), tc.party, tc.model, tc.parts, tc.basis, got.Basis, got.Parts)
			}
		})
	}
	if _, err := a.AttributeControl(Control{ID: "x", Area: "nowhere"}, Context{}); err == nil {
		t.Error("unknown area: no error")
	}
	if _, err := a.AttributeControl(Control{ID: "x", Area: "data", Owner: "vendor"}, Context{}); err == nil {
		t.Error("owner vendor: no error")
	}
}
