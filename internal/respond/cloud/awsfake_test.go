package cloud

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// testAccessKey is the static test credential the doubles expect in the
// SigV4 Authorization header.
const testAccessKey = "AKIDCANOPYTEST000001"

// awsCall is one request the AWS double received.
type awsCall struct {
	Service string // signing service from the SigV4 credential scope: ec2, iam, s3
	Region  string // signing region from the credential scope
	Op      string // query protocol: the Action parameter; S3: the REST operation name
	Params  string // query protocol: the form parameters, sorted "k=v&…", unescaped
	Method  string
	Path    string
	Query   string // raw query string (S3)
	Body    string
	Owner   string // S3: the x-amz-expected-bucket-owner header
}

// awsReply is a canned answer: status and XML body.
type awsReply struct {
	Status int
	Body   string
}

// awsFake is an httptest server that speaks the wire shapes the AWS SDK
// uses: EC2 and IAM query protocol (form-encoded POST, XML answers) and
// S3 REST XML. Each operation is answered from a queue of canned replies;
// a call with no reply left fails the test.
type awsFake struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []awsCall
	replies map[string][]awsReply
}

func newAWSFake(t *testing.T) *awsFake {
	t.Helper()
	f := &awsFake{t: t, replies: map[string][]awsReply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// on queues replies for an operation, answered in order.
func (f *awsFake) on(op string, replies ...awsReply) *awsFake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[op] = append(f.replies[op], replies...)
	return f
}

func (f *awsFake) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Op)
	}
	return out
}

func (f *awsFake) call(i int) awsCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.calls) {
		f.t.Fatalf("call %d not made; calls: %v", i, f.calls)
	}
	return f.calls[i]
}

var scopeRe = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

func sortedParams(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, val := range v[k] {
			parts = append(parts, k+"="+val)
		}
	}
	return strings.Join(parts, "&")
}

func (f *awsFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := awsCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Owner: r.Header.Get("X-Amz-Expected-Bucket-Owner")}
	m := scopeRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != testAccessKey {
		f.t.Errorf("request %s %s not signed with the test credential: Authorization=%q", r.Method, r.URL, r.Header.Get("Authorization"))
	} else {
		c.Region, c.Service = m[2], m[3]
	}
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			f.t.Errorf("bad form body %q: %v", body, err)
		}
		c.Op = form.Get("Action")
		c.Params = sortedParams(form)
	default:
		c.Op = s3Op(r)
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	queue := f.replies[c.Op]
	var rep awsReply
	ok := len(queue) > 0
	if ok {
		rep, f.replies[c.Op] = queue[0], queue[1:]
	}
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("unexpected call %s (%s %s?%s %s)", c.Op, r.Method, r.URL.Path, r.URL.RawQuery, c.Params)
		rep = awsReply{Status: 400, Body: ec2ErrorXML("UnexpectedCall", "no reply scripted for "+c.Op)}
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amz-request-id", "req-"+c.Op)
	w.Header().Set("x-amzn-RequestId", "req-"+c.Op)
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

// s3Op names the S3 REST operation of a request (the subset used here).
func s3Op(r *http.Request) string {
	q := r.URL.Query()
	if _, ok := q["publicAccessBlock"]; ok {
		switch r.Method {
		case http.MethodGet:
			return "GetPublicAccessBlock"
		case http.MethodPut:
			return "PutPublicAccessBlock"
		case http.MethodDelete:
			return "DeletePublicAccessBlock"
		}
	}
	return r.Method + " " + r.URL.Path
}

// aws is an AWS whose clients talk to the double, with static test
// credentials and no retries.
func (f *awsFake) aws() *AWS {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, "test-secret", ""),
		RetryMaxAttempts: 1,
	}
	return NewAWSFromConfig(cfg, AWSOptions{Endpoint: f.srv.URL})
}

func ec2XML(op, inner string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-%s</requestId>%s</%sResponse>`, op, op, inner, op)
}

func ec2ErrorXML(code, msg string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-err-%s</RequestID></Response>`, code, msg, code)
}

func iamXML(op, result string) string {
	return fmt.Sprintf(`<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">%s<ResponseMetadata><RequestId>req-%s</RequestId></ResponseMetadata></%sResponse>`, op, result, op, op)
}

func iamErrorXML(code, msg string) string {
	return fmt.Sprintf(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-err-%s</RequestId></ErrorResponse>`, code, msg, code)
}

func s3ErrorXML(code, msg string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>req-err-%s</RequestId><HostId>host</HostId></Error>`, code, msg, code)
}

// clients gives every tenant the double's AWS.
func (f *awsFake) clients() awsFor { return awsFor(AWSForAll(f.aws())) }
