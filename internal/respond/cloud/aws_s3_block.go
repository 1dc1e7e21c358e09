package cloud

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/canopy-sec/canopy/internal/respond"
)

// NameAWSBlockPublicAccess is the registry name of the S3 public access
// block action.
const NameAWSBlockPublicAccess = "aws.s3.block_public_access"

// awsBlockPublicAccess puts an S3 bucket's public access block
// (PutPublicAccessBlock). It reads the previous configuration first
// (GetPublicAccessBlock) and never weakens it: each setting ends on if it
// was on before or is asked for. Rollback puts the previous configuration
// back, or deletes the block (DeletePublicAccessBlock) if there was none.
type awsBlockPublicAccess struct {
	clients awsFor
}

// Name implements respond.Action.
func (awsBlockPublicAccess) Name() string { return NameAWSBlockPublicAccess }

// Params implements respond.Action.
func (awsBlockPublicAccess) Params() respond.Schema {
	return respond.Schema{
		{Name: "region", Pattern: patAWSRegion, Doc: "the bucket's region; default: the configured region"},
		{Name: "bucket", Required: true, Pattern: `[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]`, Doc: "the bucket name"},
		{Name: "expected_bucket_owner", Pattern: patAWSAccount, Doc: "fail unless the bucket belongs to this account"},
		{Name: "block_public_acls", Type: respond.ParamBool, Default: true, Doc: "refuse new public ACLs"},
		{Name: "ignore_public_acls", Type: respond.ParamBool, Default: true, Doc: "ignore existing public ACLs"},
		{Name: "block_public_policy", Type: respond.ParamBool, Default: true, Doc: "refuse public bucket policies"},
		{Name: "restrict_public_buckets", Type: respond.ParamBool, Default: true, Doc: "restrict access under a public policy to the owner's account and AWS services"},
	}
}

// AWSPublicAccessBlock is an S3 public access block configuration.
type AWSPublicAccessBlock struct {
	BlockPublicAcls       bool `json:"block_public_acls"`
	IgnorePublicAcls      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

func (c AWSPublicAccessBlock) or(o AWSPublicAccessBlock) AWSPublicAccessBlock {
	return AWSPublicAccessBlock{
		BlockPublicAcls:       c.BlockPublicAcls || o.BlockPublicAcls,
		IgnorePublicAcls:      c.IgnorePublicAcls || o.IgnorePublicAcls,
		BlockPublicPolicy:     c.BlockPublicPolicy || o.BlockPublicPolicy,
		RestrictPublicBuckets: c.RestrictPublicBuckets || o.RestrictPublicBuckets,
	}
}

func (c AWSPublicAccessBlock) sdk() *s3types.PublicAccessBlockConfiguration {
	return &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls:       aws.Bool(c.BlockPublicAcls),
		IgnorePublicAcls:      aws.Bool(c.IgnorePublicAcls),
		BlockPublicPolicy:     aws.Bool(c.BlockPublicPolicy),
		RestrictPublicBuckets: aws.Bool(c.RestrictPublicBuckets),
	}
}

func (c AWSPublicAccessBlock) String() string {
	var on []string
	for _, s := range []struct {
		name string
		v    bool
	}{{"BlockPublicAcls", c.BlockPublicAcls}, {"IgnorePublicAcls", c.IgnorePublicAcls}, {"BlockPublicPolicy", c.BlockPublicPolicy}, {"RestrictPublicBuckets", c.RestrictPublicBuckets}} {
		if s.v {
			on = append(on, s.name)
		}
	}
	if len(on) == 0 {
		return "nothing blocked"
	}
	return strings.Join(on, "+")
}

type awsBlockPublicAccessUndo struct {
	Tenant        string                `json:"tenant"`
	Region        string                `json:"region,omitempty"`
	Bucket        string                `json:"bucket"`
	ExpectedOwner string                `json:"expected_bucket_owner,omitempty"`
	Unchanged     bool                  `json:"unchanged,omitempty"`
	Previous      *AWSPublicAccessBlock `json:"previous"` // nil: there was no block
}

type awsBlockPublicAccessParams struct {
	region, bucket, owner string
	want                  AWSPublicAccessBlock
}

func (a awsBlockPublicAccess) params(params respond.Params) (awsBlockPublicAccessParams, error) {
	p, err := checkParams(a, params)
	if err != nil {
		return awsBlockPublicAccessParams{}, err
	}
	out := awsBlockPublicAccessParams{
		region: p.String("region"),
		bucket: p.String("bucket"),
		owner:  p.String("expected_bucket_owner"),
		want: AWSPublicAccessBlock{
			BlockPublicAcls:       p.Bool("block_public_acls"),
			IgnorePublicAcls:      p.Bool("ignore_public_acls"),
			BlockPublicPolicy:     p.Bool("block_public_policy"),
			RestrictPublicBuckets: p.Bool("restrict_public_buckets"),
		},
	}
	if out.want == (AWSPublicAccessBlock{}) {
		return out, invalid(a.Name(), "at least one of block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets must be true")
	}
	return out, nil
}

// Impact implements respond.Action.
func (a awsBlockPublicAccess) Impact(ctx context.Context, rec respond.Record, params respond.Params, world respond.World) (respond.Impact, error) {
	p, err := a.params(params)
	if err != nil {
		return respond.Impact{}, err
	}
	im := respond.Impact{
		Action:     a.Name(),
		Summary:    fmt.Sprintf("Block public access to S3 bucket %s (%s, added to whatever the bucket already blocks).", p.bucket, p.want),
		Disruption: respond.DisruptionMedium,
		Reversible: true,
		Rollback:   fmt.Sprintf("put back the public access block configuration %s had before (read with GetPublicAccessBlock), or delete the block if it had none", p.bucket),
		Notes:      []string{"anything served publicly from the bucket (static website, public downloads) stops being reachable anonymously; the account-level block is not changed"},
	}
	return impactOf(ctx, world, rec.Tenant, im, target{uids: []string{"arn:aws:s3:::" + p.bucket, p.bucket}})
}

// Do implements respond.Executor. A bucket that already blocks what is
// asked is reported as already done, and its rollback changes nothing.
func (a awsBlockPublicAccess) Do(ctx context.Context, call respond.Call) (respond.Result, error) {
	p, err := a.params(call.Params)
	if err != nil {
		return respond.Result{}, err
	}
	client, err := a.clients.s3(ctx, call.Tenant, p.region)
	if err != nil {
		return respond.Result{}, fmt.Errorf("%s %s: %w", a.Name(), p.bucket, err)
	}
	owner := optString(p.owner)
	got, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(p.bucket), ExpectedBucketOwner: owner})
	undo := awsBlockPublicAccessUndo{Tenant: call.Tenant, Region: p.region, Bucket: p.bucket, ExpectedOwner: p.owner}
	switch {
	case err != nil && awsCode(err) == "NoSuchPublicAccessBlockConfiguration":
	case err != nil:
		return respond.Result{}, awsError(a.Name(), p.bucket, "GetPublicAccessBlock", err)
	case got.PublicAccessBlockConfiguration != nil:
		c := got.PublicAccessBlockConfiguration
		undo.Previous = &AWSPublicAccessBlock{
			BlockPublicAcls:       aws.ToBool(c.BlockPublicAcls),
			IgnorePublicAcls:      aws.ToBool(c.IgnorePublicAcls),
			BlockPublicPolicy:     aws.ToBool(c.BlockPublicPolicy),
			RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets),
		}
	}
	want := p.want
	if undo.Previous != nil {
		want = want.or(*undo.Previous)
		if want == *undo.Previous {
			undo.Unchanged = true
			return done(a.Name(), OutcomeAlreadyDone, fmt.Sprintf("bucket %s already blocks %s", p.bucket, undo.Previous), nil, nil, undo)
		}
	}
	if _, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket:                         aws.String(p.bucket),
		ExpectedBucketOwner:            owner,
		PublicAccessBlockConfiguration: want.sdk(),
	}); err != nil {
		return respond.Result{}, awsError(a.Name(), p.bucket, "PutPublicAccessBlock", err)
	}
	before := "no public access block"
	if undo.Previous != nil {
		before = undo.Previous.String()
	}
	return done(a.Name(), OutcomeChanged, fmt.Sprintf("bucket %s now blocks %s (before: %s)", p.bucket, want, before),
		[]string{"arn:aws:s3:::" + p.bucket}, nil, undo)
}

// Rollback implements respond.Executor.
func (a awsBlockPublicAccess) Rollback(ctx context.Context, res respond.Result) error {
	var undo awsBlockPublicAccessUndo
	if err := fromUndo(a.Name(), res.Undo, &undo); err != nil {
		return err
	}
	if undo.Bucket == "" {
		return fmt.Errorf("%s: rollback: state names no bucket", a.Name())
	}
	if undo.Unchanged {
		return nil
	}
	client, err := a.clients.s3(ctx, undo.Tenant, undo.Region)
	if err != nil {
		return fmt.Errorf("%s %s: rollback: %w", a.Name(), undo.Bucket, err)
	}
	owner := optString(undo.ExpectedOwner)
	if undo.Previous == nil {
		_, err := client.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(undo.Bucket), ExpectedBucketOwner: owner})
		if err != nil && awsCode(err) != "NoSuchPublicAccessBlockConfiguration" {
			return awsError(a.Name(), undo.Bucket, "DeletePublicAccessBlock", err)
		}
		return nil
	}
	if _, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket:                         aws.String(undo.Bucket),
		ExpectedBucketOwner:            owner,
		PublicAccessBlockConfiguration: undo.Previous.sdk(),
	}); err != nil {
		return awsError(a.Name(), undo.Bucket, "PutPublicAccessBlock", err)
	}
	return nil
}

// optString is nil for "", else a pointer to s.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
