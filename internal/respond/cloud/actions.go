package cloud

import (
	"context"
	"errors"
	"fmt"

	"github.com/canopy-sec/canopy/internal/respond"
)

// Options says where the cloud actions get their clients. Each tenant acts
// with its own credentials: the functions are given the tenant of the call
// and return the clients to use for it. Credentials come from the
// providers' standard chains (see NewAWS and NewAlibaba); this package
// never stores or logs them.
type Options struct {
	// AWS returns the AWS clients of a tenant; nil leaves the AWS actions
	// out.
	AWS func(ctx context.Context, tenant string) (*AWS, error)
	// Alibaba returns the Alibaba Cloud clients of a tenant; nil leaves
	// the Alibaba Cloud actions out.
	Alibaba func(ctx context.Context, tenant string) (*Alibaba, error)
}

// Actions returns the cloud actions for respond.NewRegistry or
// Registry.With, for the providers opts configures.
func Actions(opts Options) []respond.Action {
	var out []respond.Action
	if opts.AWS != nil {
		f := awsFor(opts.AWS)
		out = append(out,
			awsRevokeIngress{clients: f},
			awsBlockPublicAccess{clients: f},
			awsDeactivateKey{clients: f},
			awsQuarantine{clients: f},
		)
	}
	if opts.Alibaba != nil {
		f := aliFor(opts.Alibaba)
		out = append(out,
			aliRevokeRule{clients: f},
			aliDisableKey{clients: f},
		)
	}
	return out
}

// AWSForAll gives every tenant the same AWS clients (one account, or one
// set of credentials allowed into every tenant's accounts).
func AWSForAll(a *AWS) func(context.Context, string) (*AWS, error) {
	return func(context.Context, string) (*AWS, error) { return a, nil }
}

// AlibabaForAll gives every tenant the same Alibaba Cloud clients.
func AlibabaForAll(a *Alibaba) func(context.Context, string) (*Alibaba, error) {
	return func(context.Context, string) (*Alibaba, error) { return a, nil }
}

var errNoClients = errors.New("no clients configured")

// awsFor gives the AWS clients of a tenant.
type awsFor func(ctx context.Context, tenant string) (*AWS, error)

func (f awsFor) get(ctx context.Context, tenant string) (*AWS, error) {
	if f == nil {
		return nil, fmt.Errorf("aws: %w", errNoClients)
	}
	a, err := f(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("aws clients of tenant %q: %w", tenant, err)
	}
	if a == nil {
		return nil, fmt.Errorf("aws clients of tenant %q: %w", tenant, errNoClients)
	}
	return a, nil
}

func (f awsFor) ec2(ctx context.Context, tenant, region string) (EC2API, error) {
	a, err := f.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return a.EC2(region)
}

func (f awsFor) s3(ctx context.Context, tenant, region string) (S3API, error) {
	a, err := f.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return a.S3(region)
}

func (f awsFor) iam(ctx context.Context, tenant string) (IAMAPI, error) {
	a, err := f.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return a.IAM(), nil
}
