package cloud

import (
	"net/http/httptest"
	"testing"

	"github.com/aliyun/credentials-go/credentials"

	"github.com/canopy-sec/canopy/internal/respond/cloud/cloudtest"
)

// The Alibaba Cloud wire double lives in cloudtest; these names keep this
// package's tests short.

const (
	aliTestKeyID  = cloudtest.AliKeyID
	aliTestSecret = cloudtest.AliSecret
)

type (
	aliCall  = cloudtest.AliCall
	aliReply = cloudtest.AliReply
)

// aliFake is the cloudtest Alibaba Cloud double with this package's
// clients.
type aliFake struct {
	*cloudtest.Alibaba
	srv *httptest.Server
}

func newAliFake(t *testing.T) *aliFake {
	t.Helper()
	f := cloudtest.NewAlibaba(t)
	return &aliFake{Alibaba: f, srv: f.Server()}
}

func (f *aliFake) on(op string, replies ...aliReply) *aliFake {
	f.On(op, replies...)
	return f
}

func (f *aliFake) ops() []string { return f.Ops() }

func (f *aliFake) call(i int) aliCall { return f.Call(i) }

var (
	aliErrorJSON = cloudtest.AliErrorJSON
	aliOK        = cloudtest.AliOK
)

func testAliCredential(t *testing.T) credentials.Credential {
	t.Helper()
	c, err := cloudtest.AliCredential()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// alibaba is an Alibaba whose clients talk to the double with the static
// test AccessKey.
func (f *aliFake) alibaba(t *testing.T) *Alibaba {
	t.Helper()
	a, err := NewAlibaba(AlibabaOptions{RegionID: "cn-hangzhou", ECSEndpoint: f.URL(), RAMEndpoint: f.URL(), Credential: f.Credential()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *aliFake) clients(t *testing.T) aliFor { return aliFor(AlibabaForAll(f.alibaba(t))) }
