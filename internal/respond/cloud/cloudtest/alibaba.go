package cloudtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/credentials-go/credentials"
)

// The static Alibaba Cloud AccessKey the double verifies signatures with.
const (
	AliKeyID  = "LTAI5tCanopyTestKey01"
	AliSecret = "canopy-test-secret"
)

// AliCall is one request the Alibaba Cloud double received.
type AliCall struct {
	Product string // "ecs" (2014-05-26) or "ram" (2015-05-01), from x-acs-version
	Op      string // x-acs-action
	Params  string // query and form parameters, sorted "k=v&…", unescaped
	KeyID   string // the AccessKey id of the signature
}

// AliReply is a canned answer: status (default 200) and JSON body.
type AliReply struct {
	Status int
	Body   string
}

// Alibaba is an httptest server speaking the Alibaba Cloud RPC wire shape
// the SDK uses: the action and version in x-acs-action / x-acs-version,
// parameters in the query (flattened: Permissions.1.IpProtocol), an
// ACS3-HMAC-SHA256 signature in Authorization, JSON answers, errors as
// {"Code","Message","RequestId"} with a 4xx/5xx status. It verifies each
// signature with [AliSecret]. It is safe for concurrent use.
type Alibaba struct {
	t       testing.TB
	srv     *httptest.Server
	secret  string
	mu      sync.Mutex
	calls   []AliCall
	replies map[string][]AliReply
}

// NewAlibaba starts an Alibaba Cloud double on loopback; it is closed
// when t ends.
func NewAlibaba(t testing.TB) *Alibaba {
	t.Helper()
	f := &Alibaba{t: t, secret: AliSecret, replies: map[string][]AliReply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// On queues replies for an action, answered in order.
func (f *Alibaba) On(op string, replies ...AliReply) *Alibaba {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[op] = append(f.replies[op], replies...)
	return f
}

// Ops returns the actions called so far, in order.
func (f *Alibaba) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Op)
	}
	return out
}

// Calls returns the calls received so far, in order.
func (f *Alibaba) Calls() []AliCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]AliCall(nil), f.calls...)
}

// Call returns call i (from 0); the test fails if it was not made.
func (f *Alibaba) Call(i int) AliCall {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.calls) {
		f.t.Fatalf("call %d not made; calls: %+v", i, f.calls)
	}
	return f.calls[i]
}

// URL is the double's base URL, for endpoint overrides.
func (f *Alibaba) URL() string { return f.srv.URL }

// Server is the underlying httptest server.
func (f *Alibaba) Server() *httptest.Server { return f.srv }

// Credential returns the static test AccessKey as an SDK credential.
func (f *Alibaba) Credential() credentials.Credential {
	f.t.Helper()
	c, err := AliCredential()
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// AliCredential returns the static test AccessKey ([AliKeyID],
// [AliSecret]) as an SDK credential.
func AliCredential() (credentials.Credential, error) {
	return credentials.NewCredential(&credentials.Config{Type: dara.String("access_key"),
		AccessKeyId: dara.String(AliKeyID), AccessKeySecret: dara.String(AliSecret)})
}

var acs3Re = regexp.MustCompile(`^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$`)

// acs3Escape is the percent-encoding of the ACS3 canonical query string.
func acs3Escape(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// verify checks the ACS3-HMAC-SHA256 signature of r (Alibaba Cloud's V3
// signature: canonical request of method, path, sorted query, signed
// headers and payload hash; HMAC-SHA256 of its SHA-256 with the secret).
func (f *Alibaba) verify(r *http.Request, body []byte) (keyID string, err error) {
	m := acs3Re.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", fmt.Errorf("authorization %q is not ACS3-HMAC-SHA256", r.Header.Get("Authorization"))
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("x-acs-content-sha256"); got != hex.EncodeToString(sum[:]) {
		return "", fmt.Errorf("x-acs-content-sha256 %q does not match the body", got)
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cq []string
	for _, k := range keys {
		cq = append(cq, acs3Escape(k)+"="+acs3Escape(q.Get(k)))
	}
	signed := strings.Split(m[2], ";")
	var ch strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		ch.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	for _, must := range []string{"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		if !strings.Contains(";"+m[2]+";", ";"+must+";") {
			return "", fmt.Errorf("header %s is not signed (%s)", must, m[2])
		}
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := r.Method + "\n" + path + "\n" + strings.Join(cq, "&") + "\n" + ch.String() + "\n" + m[2] + "\n" + hex.EncodeToString(sum[:])
	h := sha256.Sum256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(f.secret))
	mac.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(h[:])))
	if want := hex.EncodeToString(mac.Sum(nil)); want != m[3] {
		return "", fmt.Errorf("signature mismatch for canonical request:\n%s", canonical)
	}
	return m[1], nil
}

func (f *Alibaba) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := AliCall{Op: r.Header.Get("x-acs-action")}
	switch r.Header.Get("x-acs-version") {
	case "2014-05-26":
		c.Product = "ecs"
	case "2015-05-01":
		c.Product = "ram"
	default:
		c.Product = "unknown version " + r.Header.Get("x-acs-version")
	}
	keyID, err := f.verify(r, body)
	if err != nil {
		f.t.Errorf("%s: %v", c.Op, err)
	}
	c.KeyID = keyID
	params := r.URL.Query()
	if len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			f.t.Errorf("%s: body %q: %v", c.Op, body, err)
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	c.Params = SortedParams(params)
	f.mu.Lock()
	f.calls = append(f.calls, c)
	queue := f.replies[c.Op]
	var rep AliReply
	ok := len(queue) > 0
	if ok {
		rep, f.replies[c.Op] = queue[0], queue[1:]
	}
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("unexpected call %s %s", c.Op, c.Params)
		rep = AliReply{Status: 400, Body: AliErrorJSON("UnexpectedCall", "no reply scripted")}
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

// AliErrorJSON is an Alibaba Cloud error answer.
func AliErrorJSON(code, msg string) string {
	b, _ := json.Marshal(map[string]string{"RequestId": "req-err-" + code, "HostId": "ecs.aliyuncs.com", "Code": code, "Message": msg,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + code})
	return string(b)
}

// AliOK is a 200 answer with v (nil: empty) and a RequestId.
func AliOK(v map[string]any) AliReply {
	if v == nil {
		v = map[string]any{}
	}
	v["RequestId"] = "req-ok"
	b, _ := json.Marshal(v)
	return AliReply{Body: string(b)}
}
