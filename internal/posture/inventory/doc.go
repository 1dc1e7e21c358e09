// Package inventory is the cloud inventory model of posture checking: a
// [Resource] is one cloud or Kubernetes object (a bucket, a security group,
// a RAM user, a Deployment …) normalized from whatever described it (AWS
// Config, Terraform, kubectl, the aliyun CLI, Canopy's own JSON Lines).
//
// Importers are a registry like the ingest formats: each [Importer] sniffs
// its input ([Registry.Open], [Registry.Sniff]) and streams resources to a
// callback ([Emit]); [Registry.Stream] turns one into the iterator
// posture.Scan reads. [Builtin] holds aws-config, terraform and
// canopy-jsonl (and the Alibaba Cloud and Kubernetes importers). Errors
// about a record are [*RecordError] values naming the importer, record,
// position and field; syntax errors end the input.
//
// Attributes have one documented shape per resource type whatever the
// source (README.md for AWS, README-alicloud.md for Alibaba Cloud): rules
// rely on it. [NormalizeValue] brings decoded JSON or YAML numbers to the
// int64/float64 rules expect. The account pseudo-resource
// ([AccountType], [NewAccount]) carries account-wide facts.
//
// The posture rule engine (internal/posture) evaluates rules over
// resources; the store keeps them. Importers hold no state between calls
// and may run concurrently.
package inventory
