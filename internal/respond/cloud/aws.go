package cloud

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AWSOptions configures the AWS clients. The zero value uses the standard
// credential chain and the region of the environment or shared config.
type AWSOptions struct {
	// Region is the default region; an action's "region" parameter
	// overrides it. Empty: AWS_REGION / the shared config.
	Region string
	// Endpoint overrides the endpoint of every service (a test server,
	// LocalStack, a VPC endpoint proxy). The per-service fields below
	// take precedence over it.
	Endpoint    string
	EC2Endpoint string
	S3Endpoint  string
	IAMEndpoint string
	// S3PathStyle addresses buckets as https://host/bucket rather than
	// https://bucket.host; needed for endpoints that are plain addresses.
	// It is on whenever an S3 endpoint override is set.
	S3PathStyle bool
	// Credentials overrides the standard credential chain (tests use
	// static credentials). Credentials are never stored by this package
	// beyond the SDK's own cache, nor logged.
	Credentials aws.CredentialsProvider
	// HTTPClient overrides the SDK's HTTP client.
	HTTPClient *http.Client
	// MaxAttempts overrides the SDK retryer's attempt count (0: default 3).
	MaxAttempts int
}

// AWS builds per-region service clients from one aws.Config.
type AWS struct {
	cfg  aws.Config
	opts AWSOptions
}

// NewAWS loads the configuration with config.LoadDefaultConfig (the
// standard credential chain: environment, shared files, SSO, web identity,
// container and instance roles) and applies opts.
func NewAWS(ctx context.Context, opts AWSOptions) (*AWS, error) {
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		lo = append(lo, config.WithCredentialsProvider(opts.Credentials))
	}
	if opts.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(opts.HTTPClient))
	}
	if opts.MaxAttempts > 0 {
		lo = append(lo, config.WithRetryMaxAttempts(opts.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("aws: load configuration: %w", err)
	}
	return NewAWSFromConfig(cfg, opts), nil
}

// NewAWSFromConfig uses an already loaded aws.Config; the endpoint
// options of opts still apply.
func NewAWSFromConfig(cfg aws.Config, opts AWSOptions) *AWS {
	return &AWS{cfg: cfg, opts: opts}
}

func (a *AWS) region(r string) (string, error) {
	if r != "" {
		return r, nil
	}
	if a.cfg.Region != "" {
		return a.cfg.Region, nil
	}
	return "", fmt.Errorf("no region: set the action's region parameter, AWSOptions.Region or AWS_REGION")
}

func pick(specific, general string) string {
	if specific != "" {
		return specific
	}
	return general
}

// EC2 returns an EC2 client for region (empty: the default region).
func (a *AWS) EC2(region string) (EC2API, error) {
	r, err := a.region(region)
	if err != nil {
		return nil, err
	}
	ep := pick(a.opts.EC2Endpoint, a.opts.Endpoint)
	return ec2.NewFromConfig(a.cfg, func(o *ec2.Options) {
		o.Region = r
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	}), nil
}

// S3 returns an S3 client for region (empty: the default region).
func (a *AWS) S3(region string) (S3API, error) {
	r, err := a.region(region)
	if err != nil {
		return nil, err
	}
	ep := pick(a.opts.S3Endpoint, a.opts.Endpoint)
	return s3.NewFromConfig(a.cfg, func(o *s3.Options) {
		o.Region = r
		o.UsePathStyle = a.opts.S3PathStyle || ep != ""
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	}), nil
}

// IAM returns an IAM client. IAM is global; requests are signed for the
// default region (or us-east-1 when there is none).
func (a *AWS) IAM() IAMAPI {
	ep := pick(a.opts.IAMEndpoint, a.opts.Endpoint)
	return iam.NewFromConfig(a.cfg, func(o *iam.Options) {
		if o.Region == "" {
			o.Region = "us-east-1"
		}
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}

// EC2API is the part of the EC2 client the actions use.
type EC2API interface {
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(context.Context, *ec2.RevokeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	ModifyInstanceAttribute(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	DeleteSecurityGroup(context.Context, *ec2.DeleteSecurityGroupInput, ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(context.Context, *ec2.DeleteTagsInput, ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
}

// S3API is the part of the S3 client the actions use.
type S3API interface {
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	DeletePublicAccessBlock(context.Context, *s3.DeletePublicAccessBlockInput, ...func(*s3.Options)) (*s3.DeletePublicAccessBlockOutput, error)
}

// IAMAPI is the part of the IAM client the actions use.
type IAMAPI interface {
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
}
