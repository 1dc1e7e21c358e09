// Package inventory is the cloud inventory model of posture checking: a
// [Resource] is one cloud or Kubernetes object (a bucket, a security group,
// a RAM user, a Deployment …) normalized from whatever described it (AWS
// Config, Terraform, kubectl, the aliyun CLI, Canopy's own JSON Lines).
//
// Importers are a registry like the ingest formats: each sniffs its input
// and streams resources to a callback. The posture rule engine
// (internal/posture) evaluates rules over resources; the store keeps them.
package inventory
