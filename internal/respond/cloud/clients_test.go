package cloud

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/canopy-sec/canopy/internal/respond"
)

const revokeSSH = `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`

// NewAWS resolves credentials and region through the standard chain: here
// the environment (shared files pointed at nothing, instance metadata
// off, so nothing leaves loopback).
func TestNewAWSStandardChain(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "ap-southeast-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := newAWSFake(t).on("RevokeSecurityGroupIngress", ok("RevokeSecurityGroupIngress", "<return>true</return>"))
	a, err := NewAWS(bg, AWSOptions{Endpoint: f.srv.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	act := awsRevokeIngress{clients: awsFor(AWSForAll(a))}
	if _, err := act.Do(bg, call(params(t, act, revokeSSH))); err != nil {
		t.Fatal(err)
	}
	if c := f.call(0); c.Region != "ap-southeast-1" || c.Service != "ec2" {
		t.Errorf("signed for %s/%s, want ap-southeast-1/ec2", c.Region, c.Service)
	}
}

// NewAlibaba without a credential uses the default provider chain: here
// its first link, the environment.
func TestNewAlibabaDefaultChain(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", aliTestKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", aliTestSecret)
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	f := newAliFake(t).on("ListAccessKeys", ramKeys([2]string{testLTAI, "Inactive"}))
	a, err := NewAlibaba(AlibabaOptions{RAMEndpoint: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	act := aliDisableKey{clients: aliFor(AlibabaForAll(a))}
	if _, err := act.Do(bg, call(params(t, act, `{"user_name":"bob","access_key_id":"`+testLTAI+`"}`))); err != nil {
		t.Fatal(err)
	}
	if c := f.call(0); c.KeyID != aliTestKeyID {
		t.Errorf("signed with %q", c.KeyID)
	}
}

func TestClientConfigErrors(t *testing.T) {
	// No region anywhere.
	f := newAWSFake(t)
	noRegion := NewAWSFromConfig(aws.Config{Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, "s", "")}, AWSOptions{Endpoint: f.srv.URL})
	act := awsRevokeIngress{clients: awsFor(AWSForAll(noRegion))}
	_, err := act.Do(bg, call(params(t, act, revokeSSH)))
	assertErr(t, err, NameAWSRevokeIngress, "no region")

	// A bad endpoint override.
	bad, err := NewAlibaba(AlibabaOptions{RegionID: "cn-hangzhou", ECSEndpoint: "ftp://127.0.0.1:1", Credential: testAliCredential(t)})
	if err != nil {
		t.Fatal(err)
	}
	ali := aliRevokeRule{clients: aliFor(AlibabaForAll(bad))}
	_, err = ali.Do(bg, call(params(t, ali, `{"security_group_id":"`+aliSG+`","rule_id":"sgr-bp1sshopen00001"}`)))
	assertErr(t, err, NameAliRevokeRule, aliSG, "endpoint")

	// No Alibaba region.
	noAliRegion, _ := NewAlibaba(AlibabaOptions{Credential: testAliCredential(t)})
	ali = aliRevokeRule{clients: aliFor(AlibabaForAll(noAliRegion))}
	_, err = ali.Do(bg, call(params(t, ali, `{"security_group_id":"`+aliSG+`","rule_id":"sgr-bp1sshopen00001"}`)))
	assertErr(t, err, "no region")
	if ops := f.ops(); len(ops) != 0 {
		t.Errorf("calls made: %v", ops)
	}
}

// Each call uses the clients of its tenant; rollback uses the tenant
// recorded by Do.
func TestTenantClients(t *testing.T) {
	f := newAWSFake(t).
		on("RevokeSecurityGroupIngress", ok("RevokeSecurityGroupIngress", "<return>true</return>")).
		on("AuthorizeSecurityGroupIngress", ok("AuthorizeSecurityGroupIngress", "<return>true</return>"))
	var mu sync.Mutex
	var asked []string
	denied := errors.New("no credentials for this tenant")
	opts := Options{AWS: func(_ context.Context, tenant string) (*AWS, error) {
		mu.Lock()
		asked = append(asked, tenant)
		mu.Unlock()
		if tenant != testTenant {
			return nil, denied
		}
		return f.aws(), nil
	}}
	var act respond.Action
	for _, a := range Actions(opts) {
		if a.Name() == NameAWSRevokeIngress {
			act = a
		}
	}
	other := call(params(t, act, revokeSSH))
	other.Tenant = "tenant-b"
	_, err := act.Do(bg, other)
	if !errors.Is(err, denied) || !strings.Contains(err.Error(), `tenant "tenant-b"`) {
		t.Errorf("Do for tenant-b = %v", err)
	}
	res, err := act.Do(bg, call(params(t, act, revokeSSH)))
	if err != nil {
		t.Fatal(err)
	}
	if err := act.Rollback(bg, persisted(t, res)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tenant-b", testTenant, testTenant}; !slices.Equal(asked, want) {
		t.Errorf("clients asked for %v, want %v", asked, want)
	}
	if got := f.ops(); len(got) != 2 {
		t.Errorf("calls %v", got)
	}
}

func TestActions(t *testing.T) {
	if got := Actions(Options{}); len(got) != 0 {
		t.Errorf("no providers: %d actions", len(got))
	}
	all := Actions(Options{AWS: AWSForAll(&AWS{}), Alibaba: AlibabaForAll(&Alibaba{})})
	reg, err := respond.NewRegistry(all...)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{NameAliDisableKey, NameAliRevokeRule, NameAWSQuarantine, NameAWSRevokeIngress, NameAWSDeactivateKey, NameAWSBlockPublicAccess}
	slices.Sort(want)
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	if got := Actions(Options{Alibaba: AlibabaForAll(&Alibaba{})}); len(got) != 2 {
		t.Errorf("Alibaba only: %d actions", len(got))
	}
	// Rollback of a result without Undo is not reversible.
	for _, a := range all {
		if err := a.Rollback(bg, respond.Result{Action: a.Name()}); !errors.Is(err, respond.ErrNotReversible) {
			t.Errorf("%s: Rollback without Undo = %v", a.Name(), err)
		}
	}
}
