// Package responsibility attributes every finding, incident and posture
// control to the party that must act on it — the cloud provider, the
// customer, a third-party security vendor, or provider and customer
// together — and says why, citing the shared-responsibility matrix, the
// rule that classified the finding and the contract clause that moved it.
//
// # Place in the flow
//
// Attribution belongs to the route stage: it reads OCSF records
// (internal/ocsf) after scoring and gives the router (notices, SLAs) a
// party per record. It knows no store, API or I/O beyond the io.Readers
// handed to its loaders; every function is pure, and every type is
// immutable once built and safe for concurrent use. Callers store the
// [Attribution] beside the record (key "responsibility" in API output).
//
// # Data
//
// All the knowledge is data, embedded from data/ (see data/README.md):
//
//   - shared-responsibility.yaml, a verbatim copy of
//     shared/reference/shared-responsibility.yaml: 13 areas × IaaS/PaaS/SaaS
//     → provider, customer or shared, with notes and sources, and the three
//     vendor delivery modes (云服务, 云软件, 云软件+服务托管) with who holds
//     each duty. Loaded by [ParseMatrix]; [BuiltinMatrix] returns it. A user
//     override in the same schema merges over it ([Matrix.Override]).
//   - parts.yaml: each party's part of the matrix's shared cells.
//   - vendor-duties.yaml: what each vendor-mode duty covers — estate areas
//     or, for findings about the vendor's own product, finding kinds.
//   - resource-types.yaml: resource type → service model, category and
//     default area, for AWS, Alibaba Cloud (ROS), Google Cloud, Azure,
//     Kubernetes, SaaS and the artifact types scanners report
//     ([Catalog]); the spellings the ingest decoders emit (CloudFormation,
//     ASFF "AwsEc2Instance", SCC "google.compute.Instance", "Container
//     Image", "Wazuh agent" …) all resolve, and untyped resources resolve by
//     uid (ARNs, GCP full resource names, Azure resource ids).
//   - rules.yaml: finding → area rules, first match wins ([RuleSet]).
//
// A tenant's agreements with security vendors are a [Contract]
// ([ParseContract]), passed to attribution in a [Context].
//
// # Deciding
//
// [Attributor.Attribute] takes the area from an explicit area on the
// record, else from the rules, else from the resource type; the service
// model from the resource type, else the tenant's default, else IaaS; and
// the party from the matrix cell area × model. Explicit areas are read, in
// this order of precedence, from:
//
//   - unmapped.responsibility_area (or unmapped.responsibility.area): a
//     string area id set by whoever built the record;
//   - compliance.category of a Compliance Finding when it holds an area id:
//     Canopy's posture findings put their rule's responsibility_area there;
//   - a finding_info.types entry "responsibility_area:<id>".
//
// A value that is not an area id is ignored, and the basis says so.
// A contract then may move the finding to a vendor. The [Attribution]'s
// Basis records each step in words, e.g.
//
//	rule os-package-vulnerability (vulnerable operating-system package);
//	AwsEc2Instance (AWS::EC2::Instance) is IaaS;
//	matrix: operating_system × IaaS → customer (azure, aws, alibaba)
//
// [AttributeIncident] attributes an incident from its members'
// attributions (the riskiest member is primary; every party with a part is
// listed), and [Attributor.AttributeControl] a posture control.
//
// # Not its job
//
// Sending notices, tracking acknowledgements and SLAs (internal/respond,
// with internal/audit keeping the record), storing attributions
// (internal/store), and classifying data (internal/datagrade).
package responsibility
