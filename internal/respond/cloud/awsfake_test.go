package cloud

import (
	"net/http/httptest"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond/cloud/cloudtest"
)

// The AWS wire double lives in cloudtest (so that other packages' tests
// can drive the real actions too); these names keep this package's tests
// short.

// testAccessKey is the static test credential the double expects in the
// SigV4 Authorization header.
const testAccessKey = cloudtest.AWSAccessKey

type (
	awsCall  = cloudtest.AWSCall
	awsReply = cloudtest.AWSReply
)

// awsFake is the cloudtest AWS double with this package's clients.
type awsFake struct {
	*cloudtest.AWS
	srv *httptest.Server
}

func newAWSFake(t *testing.T) *awsFake {
	t.Helper()
	f := cloudtest.NewAWS(t)
	return &awsFake{AWS: f, srv: f.Server()}
}

// on queues replies for an operation, answered in order.
func (f *awsFake) on(op string, replies ...awsReply) *awsFake {
	f.On(op, replies...)
	return f
}

func (f *awsFake) ops() []string { return f.Ops() }

func (f *awsFake) call(i int) awsCall { return f.Call(i) }

// aws is an AWS whose clients talk to the double, with static test
// credentials and no retries.
func (f *awsFake) aws() *AWS {
	return NewAWSFromConfig(f.Config(), AWSOptions{Endpoint: f.URL()})
}

// clients gives every tenant the double's AWS.
func (f *awsFake) clients() awsFor { return awsFor(AWSForAll(f.aws())) }

var (
	ec2XML      = cloudtest.EC2XML
	ec2ErrorXML = cloudtest.EC2ErrorXML
	iamXML      = cloudtest.IAMXML
	iamErrorXML = cloudtest.IAMErrorXML
	s3ErrorXML  = cloudtest.S3ErrorXML
)
