package responsibility_test

import (
	"fmt"
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/responsibility"
)

// An OS package vulnerability on an EC2 instance is the customer's; a
// detection on the same instance is shared until a contract gives it to
// the tenant's MSSP.
func ExampleAttributor_Attribute() {
	a, err := responsibility.New(responsibility.Options{})
	if err != nil {
		panic(err)
	}
	vuln := &ocsf.VulnerabilityFinding{}
	vuln.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
	vuln.SetCloud(&ocsf.Cloud{Provider: "AWS", Account: &ocsf.Account{UID: "111122223333"}})
	vuln.FindingInfo = ocsf.FindingInfo{UID: "f-1", Title: "CVE-2024-6387 in openssh-server"}
	vuln.Resources = []ocsf.ResourceDetails{{UID: "i-0abc1234def567890", Type: "AwsEc2Instance"}}
	vuln.Vulnerabilities = []ocsf.Vulnerability{{CVE: &ocsf.CVE{UID: "CVE-2024-6387"},
		AffectedPackages: []ocsf.AffectedPackage{{Name: "openssh-server", Version: "1:9.2p1-2", TypeID: ocsf.PackageTypeOS}}}}
	at := a.Attribute(vuln, responsibility.Context{})
	fmt.Println(at.Party, at.Area, at.ServiceModel)
	fmt.Println(strings.ReplaceAll(at.Basis, "; ", "\n"))

	det := &ocsf.DetectionFinding{}
	det.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
	det.SetCloud(&ocsf.Cloud{Provider: "AWS"})
	det.FindingInfo = ocsf.FindingInfo{UID: "f-2", Title: "SSH brute force against i-0abc1234def567890"}
	det.Resources = vuln.Resources
	contract, err := responsibility.ParseContract("acme.yaml", strings.NewReader(`
schema_version: 1
tenant: acme
vendors:
  - id: example-mssp
    name: Example MSSP
    services:
      - id: mdr
        name: 7x24 managed detection and response
        mode: 云软件+服务托管
        clause: MSA §3.1
        areas: [security_operations]
`), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Attribute(det, responsibility.Context{}).Party)
	withMSSP := a.Attribute(det, responsibility.Context{Contract: contract})
	fmt.Println(withMSSP.Party)
	for _, p := range withMSSP.Parts {
		fmt.Printf("  %s %s: %s\n", p.Party, p.Name, p.Duty)
	}
	// Output:
	// customer operating_system IaaS
	// rule os-package-vulnerability (vulnerable operating-system package)
	// AwsEc2Instance (AWS::EC2::Instance) is IaaS
	// matrix: operating_system × IaaS → customer (azure, aws, alibaba)
	// shared
	// vendor
	//   vendor example-mssp: operate and tune detection day to day (day_to_day_operation_and_tuning)
	//   vendor example-mssp: triage alerts and respond to them per contract/SLA (alert_triage_and_response)
	//   customer : decides on business-impacting actions (alert_triage_and_response)
	//   customer : authorise the vendor's access to the estate (access_authorisation_for_vendor)
	//   provider AWS: monitors and audits the layers it controls, and exposes audit trails of its own operations on customer resources
}
