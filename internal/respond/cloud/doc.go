// Package cloud holds the containment actions of internal/respond that
// change a cloud estate through the providers' official SDKs: AWS (EC2,
// S3, IAM through aws-sdk-go-v2) and Alibaba Cloud (ECS through
// ecs-20140526, RAM through the darabonba-openapi client).
//
// # Place in the flow
//
// respond runs playbooks; their steps name actions of a respond.Registry.
// [Actions] returns this package's actions for the providers configured in
// [Options], to be added with Registry.With. Each is a respond.Action:
//
//	aws.ec2.revoke_security_group_rule      RevokeSecurityGroupIngress; rollback AuthorizeSecurityGroupIngress
//	aws.s3.block_public_access              GetPublicAccessBlock + PutPublicAccessBlock; rollback Put previous / DeletePublicAccessBlock
//	aws.iam.deactivate_access_key           ListAccessKeys + UpdateAccessKey Inactive; rollback Active
//	aws.ec2.quarantine_instance             DescribeInstances + CreateTags + ModifyInstanceAttribute Groups
//	                                        (+ DescribeSecurityGroups / CreateSecurityGroup / RevokeSecurityGroupEgress);
//	                                        rollback ModifyInstanceAttribute previous groups, DeleteTags, DeleteSecurityGroup
//	alicloud.ecs.revoke_security_group_rule DescribeSecurityGroupAttribute + RevokeSecurityGroup; rollback AuthorizeSecurityGroup
//	alicloud.ram.disable_access_key         ListAccessKeys + UpdateAccessKey Status=Inactive; rollback Active
//
// The parameters of each are in its Params schema (see README.md); every
// id parameter has a pattern, so a rendered template can only ever be an
// id. Do checks the parameters again (Do may be called directly) and
// refuses what the schema cannot express (exactly one source of a rule,
// port ranges by protocol) before any API call.
//
// # Results and rollback
//
// Do returns, in Result.Undo, everything Rollback needs (the tenant, the
// region, the rule as it was, the previous configuration, status or
// groups) as JSON-friendly values, read back after the run is stored.
// Result.Output["outcome"] is [OutcomeChanged] or [OutcomeAlreadyDone]:
// an action whose target is already in the wanted state (the rule already
// absent, the key already inactive, the bucket already blocked, the
// instance already in quarantine) changes nothing, says so, and its
// rollback changes nothing either — Canopy never grants back access it did
// not itself take away. A run resumed after a crash may call Do again:
// the second call then finds the target contained and reports it as
// already done; the quarantine records the previous groups in an instance
// tag ([QuarantineTag]) so that such a resumed run still rolls back to
// them.
//
// A failed call returns an [*APIError] naming the action, the resource,
// the API operation and the provider's error code, message and request
// id, and no result. The quarantine, whose Do makes several changes,
// returns a respond.PartialError carrying what it changed when a later
// call fails.
//
// # Credentials and endpoints
//
// Each call uses the clients of its tenant: [Options] maps a tenant to an
// [*AWS] and an [*Alibaba]. [NewAWS] loads the standard AWS credential
// chain (config.LoadDefaultConfig: environment, shared files, SSO, web
// identity, container and instance roles); [NewAlibaba] the Alibaba Cloud
// default credential provider chain (environment, OIDC role, CLI profile,
// ECS RAM role, credentials URI). The package never stores credentials
// beyond the SDKs' own caches and never logs them. Every endpoint can be
// overridden ([AWSOptions], [AlibabaOptions]): the tests run the real SDKs
// against httptest servers on loopback that speak the wire protocols — EC2
// and IAM query (form POST, XML answers), S3 REST XML, and Alibaba Cloud
// RPC with ACS3-HMAC-SHA256 signatures, which the test server verifies.
package cloud
