package cloudtest

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

// The static AWS credentials the double expects in the SigV4
// Authorization header.
const (
	AWSAccessKey = "AKIDCANOPYTEST000001"
	AWSSecretKey = "test-secret"
)

// AWSCall is one request the AWS double received.
type AWSCall struct {
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

// AWSReply is a canned answer: status (default 200) and XML body.
type AWSReply struct {
	Status int
	Body   string
}

// AWS is an httptest server that speaks the wire shapes the AWS SDK uses:
// EC2 and IAM query protocol (form-encoded POST, XML answers) and S3 REST
// XML. Each operation is answered from a queue of canned replies; a call
// with no reply left fails the test. It is safe for concurrent use.
type AWS struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []AWSCall
	replies map[string][]AWSReply
}

// NewAWS starts an AWS double on loopback; it is closed when t ends.
func NewAWS(t testing.TB) *AWS {
	t.Helper()
	f := &AWS{t: t, replies: map[string][]AWSReply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// On queues replies for an operation ("RevokeSecurityGroupIngress",
// "PutPublicAccessBlock" …), answered in order.
func (f *AWS) On(op string, replies ...AWSReply) *AWS {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[op] = append(f.replies[op], replies...)
	return f
}

// Ops returns the operations called so far, in order.
func (f *AWS) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Op)
	}
	return out
}

// Calls returns the calls received so far, in order.
func (f *AWS) Calls() []AWSCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]AWSCall(nil), f.calls...)
}

// Call returns call i (from 0); the test fails if it was not made.
func (f *AWS) Call(i int) AWSCall {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.calls) {
		f.t.Fatalf("call %d not made; calls: %v", i, f.calls)
	}
	return f.calls[i]
}

// URL is the double's base URL, for endpoint overrides.
func (f *AWS) URL() string { return f.srv.URL }

// Server is the underlying httptest server.
func (f *AWS) Server() *httptest.Server { return f.srv }

// Config is an aws.Config with the static test credentials, region
// us-east-1 and no retries; use it with cloud.NewAWSFromConfig and an
// endpoint override of [AWS.URL].
func (f *AWS) Config() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(AWSAccessKey, AWSSecretKey, ""),
		RetryMaxAttempts: 1,
	}
}

var scopeRe = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

// SortedParams renders parameters as "k=v&…", sorted by key, unescaped.
func SortedParams(v url.Values) string {
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

func (f *AWS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := AWSCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Owner: r.Header.Get("X-Amz-Expected-Bucket-Owner")}
	m := scopeRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != AWSAccessKey {
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
		c.Params = SortedParams(form)
	default:
		c.Op = s3Op(r)
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	queue := f.replies[c.Op]
	var rep AWSReply
	ok := len(queue) > 0
	if ok {
		rep, f.replies[c.Op] = queue[0], queue[1:]
	}
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("unexpected call %s (%s %s?%s %s)", c.Op, r.Method, r.URL.Path, r.URL.RawQuery, c.Params)
		rep = AWSReply{Status: 400, Body: EC2ErrorXML("UnexpectedCall", "no reply scripted for "+c.Op)}
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

// s3Op names the S3 REST operation of a request (the subset the actions
// use).
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

// EC2XML is an EC2 query-protocol answer to op with inner as its content.
func EC2XML(op, inner string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-%s</requestId>%s</%sResponse>`, op, op, inner, op)
}

// EC2OK is a 200 reply of [EC2XML].
func EC2OK(op, inner string) AWSReply { return AWSReply{Body: EC2XML(op, inner)} }

// EC2ErrorXML is an EC2 error answer.
func EC2ErrorXML(code, msg string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-err-%s</RequestID></Response>`, code, msg, code)
}

// IAMXML is an IAM query-protocol answer to op with result as its
// content.
func IAMXML(op, result string) string {
	return fmt.Sprintf(`<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">%s<ResponseMetadata><RequestId>req-%s</RequestId></ResponseMetadata></%sResponse>`, op, result, op, op)
}

// IAMErrorXML is an IAM error answer.
func IAMErrorXML(code, msg string) string {
	return fmt.Sprintf(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-err-%s</RequestId></ErrorResponse>`, code, msg, code)
}

// S3ErrorXML is an S3 REST error answer.
func S3ErrorXML(code, msg string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>req-err-%s</RequestId><HostId>host</HostId></Error>`, code, msg, code)
}
