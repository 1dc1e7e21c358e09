package inventory

import (
	"fmt"
	"strings"
	"time"
)

// Resource is one object of a cloud or cluster inventory.
type Resource struct {
	// Provider is "aws", "alicloud", "gcp", "azure" or "kubernetes".
	Provider string `json:"provider"`
	// Account is the cloud account (AWS account id, Alibaba Cloud UID,
	// project, subscription) or the cluster name.
	Account string `json:"account,omitempty"`
	// Region is the region (or zone), "" for global resources.
	Region string `json:"region,omitempty"`
	// Type is the resource type in the provider's own naming:
	// AWS CloudFormation/Config types ("AWS::S3::Bucket"), Alibaba Cloud ROS
	// types ("ALIYUN::OSS::Bucket"), Kubernetes "<group>/<Kind>" with the
	// core group empty ("/Pod", "apps/Deployment").
	Type string `json:"type"`
	// UID identifies the resource within the provider: an ARN, an Alibaba
	// Cloud ARN ("acs:…") or instance id, a Kubernetes
	// "<namespace>/<kind>/<name>". Provider+Account+Type+UID is unique.
	UID string `json:"uid"`
	// Name is the human name, if any.
	Name string `json:"name,omitempty"`
	// Tags are the resource's tags or labels.
	Tags map[string]string `json:"tags,omitempty"`
	// Attributes is the resource's configuration as the source described
	// it, normalized to one shape per type (see the importers' docs); rules
	// read it as `resource.attributes`.
	Attributes map[string]any `json:"attributes"`
	// Relationships name other resources by UID.
	Relationships []Relationship `json:"relationships,omitempty"`
	// Source names the importer and input that produced the resource,
	// e.g. "aws-config:snapshot.json".
	Source string `json:"source,omitempty"`
	// ObservedAt is when the source observed the configuration; zero if
	// it did not say.
	ObservedAt time.Time `json:"observed_at,omitzero"`
}

// Relationship links a resource to another one.
type Relationship struct {
	// Type is the relation, e.g. "attached_to", "member_of", "contains",
	// "uses".
	Type string `json:"type"`
	// Target is the other resource's UID.
	Target string `json:"target"`
	// TargetType is the other resource's type, when known.
	TargetType string `json:"target_type,omitempty"`
}

// Key returns a string that identifies r within a tenant's inventory.
func (r *Resource) Key() string {
	return strings.Join([]string{r.Provider, r.Account, r.Type, r.UID}, "|")
}

// Validate checks the fields every resource needs.
func (r *Resource) Validate() error {
	switch {
	case r.Provider == "":
		return fmt.Errorf("provider: missing")
	case r.Type == "":
		return fmt.Errorf("type: missing")
	case r.UID == "":
		return fmt.Errorf("uid: missing")
	}
	return nil
}
