package cloud

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/credentials-go/credentials"
)

// AlibabaOptions configures the Alibaba Cloud clients.
type AlibabaOptions struct {
	// RegionID is the default region; an action's region_id parameter
	// overrides it.
	RegionID string
	// ECSEndpoint and RAMEndpoint override the service endpoints: a host
	// ("ecs-cn-hangzhou.aliyuncs.com", "ram.aliyuncs.com") or a URL whose
	// scheme sets the protocol ("http://127.0.0.1:8080" for a test
	// server). Empty: the SDK's regional ECS endpoint and ram.aliyuncs.com.
	ECSEndpoint string
	RAMEndpoint string
	// Credential overrides the default credential provider chain (tests
	// use a static AccessKey). This package never stores or logs it.
	Credential credentials.Credential
}

// Alibaba builds Alibaba Cloud service clients sharing one credential.
type Alibaba struct {
	opts AlibabaOptions
	cred credentials.Credential
}

// NewAlibaba returns clients using opts.Credential or, when it is nil,
// the Alibaba Cloud default credential provider chain (environment
// variables ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN, OIDC
// role, the CLI profile and credentials file, the ECS instance RAM role,
// a credentials URI). Credentials are resolved at the first call.
func NewAlibaba(opts AlibabaOptions) (*Alibaba, error) {
	cred := opts.Credential
	if cred == nil {
		c, err := credentials.NewCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("alibaba cloud: credential chain: %w", err)
		}
		cred = c
	}
	return &Alibaba{opts: opts, cred: cred}, nil
}

// config is the SDK client configuration for an endpoint override.
func (a *Alibaba) config(region, endpoint string) (*openapi.Config, error) {
	cfg := &openapi.Config{Credential: a.cred}
	if region != "" {
		cfg.RegionId = dara.String(region)
	}
	if endpoint == "" {
		return cfg, nil
	}
	if !strings.Contains(endpoint, "://") {
		cfg.Endpoint = dara.String(endpoint)
		return cfg, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("endpoint %q: want a host or an http(s) URL", endpoint)
	}
	cfg.Endpoint = dara.String(u.Host)
	cfg.Protocol = dara.String(strings.ToUpper(u.Scheme))
	// The SDK honours HTTP_PROXY unless the host is listed in NO_PROXY:
	// keep a loopback endpoint on loopback.
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
		cfg.NoProxy = dara.String(u.Host)
	}
	return cfg, nil
}

func (a *Alibaba) region(r string) (string, error) {
	if r != "" {
		return r, nil
	}
	if a.opts.RegionID != "" {
		return a.opts.RegionID, nil
	}
	return "", fmt.Errorf("no region: set the action's region_id parameter or AlibabaOptions.RegionID")
}

// ECS returns an ECS client for region (empty: the default region).
func (a *Alibaba) ECS(region string) (ECSAPI, string, error) {
	r, err := a.region(region)
	if err != nil {
		return nil, "", err
	}
	cfg, err := a.config(r, a.opts.ECSEndpoint)
	if err != nil {
		return nil, "", fmt.Errorf("ecs client: %w", err)
	}
	c, err := ecs.NewClient(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("ecs client: %w", err)
	}
	return c, r, nil
}

// RAM returns a RAM client (API version 2015-05-01, a global service).
func (a *Alibaba) RAM() (RAMAPI, error) {
	ep := a.opts.RAMEndpoint
	if ep == "" {
		ep = "ram.aliyuncs.com"
	}
	cfg, err := a.config("", ep)
	if err != nil {
		return nil, fmt.Errorf("ram client: %w", err)
	}
	c, err := openapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("ram client: %w", err)
	}
	return ramClient{c}, nil
}

// ECSAPI is the part of the ECS client the actions use.
type ECSAPI interface {
	DescribeSecurityGroupAttributeWithContext(context.Context, *ecs.DescribeSecurityGroupAttributeRequest, *dara.RuntimeOptions) (*ecs.DescribeSecurityGroupAttributeResponse, error)
	RevokeSecurityGroupWithContext(context.Context, *ecs.RevokeSecurityGroupRequest, *dara.RuntimeOptions) (*ecs.RevokeSecurityGroupResponse, error)
	AuthorizeSecurityGroupWithContext(context.Context, *ecs.AuthorizeSecurityGroupRequest, *dara.RuntimeOptions) (*ecs.AuthorizeSecurityGroupResponse, error)
}

// RAMAPI is the part of the RAM API (2015-05-01) the actions use. The
// module proxy serves no RAM or IMS SDK module (ram-20150501 and
// ims-20190815 are refused), so the calls go through the official generic
// OpenAPI client (darabonba-openapi CallApi), with the same signing,
// endpoint and error handling as the product SDKs.
type RAMAPI interface {
	ListAccessKeys(ctx context.Context, userName string) ([]RAMAccessKey, error)
	UpdateAccessKey(ctx context.Context, userName, accessKeyID, status string) error
}

// RAMAccessKey is one access key of a RAM user.
type RAMAccessKey struct {
	AccessKeyID string `json:"AccessKeyId"`
	Status      string `json:"Status"`
	CreateDate  string `json:"CreateDate"`
}

type ramClient struct{ c *openapi.Client }

func ramParams(action string) *openapi.Params {
	return &openapi.Params{
		Action:      dara.String(action),
		Version:     dara.String("2015-05-01"),
		Protocol:    dara.String("HTTPS"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
}

func (r ramClient) call(ctx context.Context, action string, query map[string]*string) (map[string]any, error) {
	res, err := r.c.CallApiWithCtx(ctx, ramParams(action), &openapi.OpenApiRequest{Query: query}, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, _ := res["body"].(map[string]any)
	return body, nil
}

func (r ramClient) ListAccessKeys(ctx context.Context, userName string) ([]RAMAccessKey, error) {
	body, err := r.call(ctx, "ListAccessKeys", map[string]*string{"UserName": dara.String(userName)})
	if err != nil {
		return nil, err
	}
	var out struct {
		AccessKeys struct {
			AccessKey []RAMAccessKey `json:"AccessKey"`
		} `json:"AccessKeys"`
	}
	if err := mapInto(body, &out); err != nil {
		return nil, fmt.Errorf("decode ListAccessKeys answer: %w", err)
	}
	return out.AccessKeys.AccessKey, nil
}

func (r ramClient) UpdateAccessKey(ctx context.Context, userName, accessKeyID, status string) error {
	_, err := r.call(ctx, "UpdateAccessKey", map[string]*string{
		"UserName":        dara.String(userName),
		"UserAccessKeyId": dara.String(accessKeyID),
		"Status":          dara.String(status),
	})
	return err
}

// aliFor gives the Alibaba Cloud clients of a tenant.
type aliFor func(ctx context.Context, tenant string) (*Alibaba, error)

func (f aliFor) get(ctx context.Context, tenant string) (*Alibaba, error) {
	if f == nil {
		return nil, fmt.Errorf("alibaba cloud: %w", errNoClients)
	}
	a, err := f(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("alibaba cloud clients of tenant %q: %w", tenant, err)
	}
	if a == nil {
		return nil, fmt.Errorf("alibaba cloud clients of tenant %q: %w", tenant, errNoClients)
	}
	return a, nil
}

func (f aliFor) ecs(ctx context.Context, tenant, region string) (ECSAPI, string, error) {
	a, err := f.get(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	return a.ECS(region)
}

func (f aliFor) ram(ctx context.Context, tenant string) (RAMAPI, error) {
	a, err := f.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return a.RAM()
}
