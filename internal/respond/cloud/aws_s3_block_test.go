package cloud

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

func pabXML(acls, ignore, policy, restrict bool) string {
	return "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
		xmlBool("BlockPublicAcls", acls) + xmlBool("IgnorePublicAcls", ignore) +
		xmlBool("BlockPublicPolicy", policy) + xmlBool("RestrictPublicBuckets", restrict) +
		"</PublicAccessBlockConfiguration>"
}

func xmlBool(name string, v bool) string {
	if v {
		return "<" + name + ">true</" + name + ">"
	}
	return "<" + name + ">false</" + name + ">"
}

// putConfig parses the body of a PutPublicAccessBlock request.
func putConfig(t *testing.T, c awsCall) AWSPublicAccessBlock {
	t.Helper()
	var x struct {
		XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
		BlockPublicAcls       *bool
		IgnorePublicAcls      *bool
		BlockPublicPolicy     *bool
		RestrictPublicBuckets *bool
	}
	if err := xml.Unmarshal([]byte(c.Body), &x); err != nil {
		t.Fatalf("PutPublicAccessBlock body %q: %v", c.Body, err)
	}
	if x.BlockPublicAcls == nil || x.IgnorePublicAcls == nil || x.BlockPublicPolicy == nil || x.RestrictPublicBuckets == nil {
		t.Fatalf("PutPublicAccessBlock body %q does not set all four settings", c.Body)
	}
	return AWSPublicAccessBlock{*x.BlockPublicAcls, *x.IgnorePublicAcls, *x.BlockPublicPolicy, *x.RestrictPublicBuckets}
}

func TestAWSBlockPublicAccess(t *testing.T) {
	all := AWSPublicAccessBlock{true, true, true, true}
	noBlock := awsReply{Status: 404, Body: s3ErrorXML("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")}
	tests := []struct {
		name    string
		params  string
		get     awsReply
		put     *awsReply
		wantPut AWSPublicAccessBlock
		want    string
		wantErr []string
		// rollback: the operation expected (none when ""), and the
		// configuration it puts back
		rbOp  string
		rbPut AWSPublicAccessBlock
	}{
		{
			name:    "no block before: put all four, rollback deletes the block",
			params:  `{"bucket":"exposed-logs"}`,
			get:     noBlock,
			put:     &awsReply{},
			wantPut: all,
			want:    OutcomeChanged,
			rbOp:    "DeletePublicAccessBlock",
		},
		{
			name:    "partial block before: never weakened, rollback restores it",
			params:  `{"bucket":"exposed-logs","block_public_acls":false,"ignore_public_acls":false}`,
			get:     awsReply{Body: pabXML(true, false, false, false)},
			put:     &awsReply{},
			wantPut: AWSPublicAccessBlock{true, false, true, true},
			want:    OutcomeChanged,
			rbOp:    "PutPublicAccessBlock",
			rbPut:   AWSPublicAccessBlock{true, false, false, false},
		},
		{
			name:   "already blocked: nothing put, rollback changes nothing",
			params: `{"bucket":"exposed-logs"}`,
			get:    awsReply{Body: pabXML(true, true, true, true)},
			want:   OutcomeAlreadyDone,
		},
		{
			name:    "bucket missing is a clear error",
			params:  `{"bucket":"exposed-logs"}`,
			get:     awsReply{Status: 404, Body: s3ErrorXML("NoSuchBucket", "The specified bucket does not exist")},
			wantErr: []string{NameAWSBlockPublicAccess, "exposed-logs", "GetPublicAccessBlock", "NoSuchBucket", "does not exist"},
		},
		{
			name:    "put refused: error, nothing reported as done",
			params:  `{"bucket":"exposed-logs"}`,
			get:     noBlock,
			put:     &awsReply{Status: 403, Body: s3ErrorXML("AccessDenied", "Access Denied")},
			wantPut: all,
			wantErr: []string{NameAWSBlockPublicAccess, "exposed-logs", "PutPublicAccessBlock", "AccessDenied", "request id req-PutPublicAccessBlock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAWSFake(t).on("GetPublicAccessBlock", tt.get)
			if tt.put != nil {
				f.on("PutPublicAccessBlock", *tt.put)
			}
			switch tt.rbOp {
			case "DeletePublicAccessBlock":
				f.on("DeletePublicAccessBlock", awsReply{Status: 204})
			case "PutPublicAccessBlock":
				f.on("PutPublicAccessBlock", awsReply{})
			}
			a := awsBlockPublicAccess{clients: f.clients()}
			res, err := a.Do(bg, call(params(t, a, tt.params)))
			get := f.call(0)
			if get.Service != "s3" || get.Method != "GET" || get.Path != "/exposed-logs" || !strings.Contains(get.Query, "publicAccessBlock") {
				t.Errorf("first call = %+v, want signed GET /exposed-logs?publicAccessBlock", get)
			}
			wantOps := []string{"GetPublicAccessBlock"}
			if tt.put != nil {
				wantOps = append(wantOps, "PutPublicAccessBlock")
				put := f.call(1)
				if put.Method != "PUT" || put.Path != "/exposed-logs" || !strings.Contains(put.Query, "publicAccessBlock") {
					t.Errorf("put call = %+v", put)
				}
				if got := putConfig(t, put); got != tt.wantPut {
					t.Errorf("put %+v, want %+v", got, tt.wantPut)
				}
			}
			if tt.wantErr != nil {
				assertErr(t, err, tt.wantErr...)
				if res.Undo != nil || res.Summary != "" {
					t.Errorf("failed Do reported %+v", res)
				}
				if got := f.ops(); strings.Join(got, ",") != strings.Join(wantOps, ",") {
					t.Errorf("calls = %v, want %v", got, wantOps)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if outcome(res) != tt.want {
				t.Fatalf("outcome %s, want %s (%s)", outcome(res), tt.want, res.Summary)
			}
			if err := a.Rollback(bg, persisted(t, res)); err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			if tt.rbOp != "" {
				wantOps = append(wantOps, tt.rbOp)
				rb := f.call(len(wantOps) - 1)
				if rb.Path != "/exposed-logs" || !strings.Contains(rb.Query, "publicAccessBlock") {
					t.Errorf("rollback call = %+v", rb)
				}
				if tt.rbOp == "PutPublicAccessBlock" {
					if got := putConfig(t, rb); got != tt.rbPut {
						t.Errorf("rollback put %+v, want %+v", got, tt.rbPut)
					}
				} else if rb.Method != "DELETE" {
					t.Errorf("rollback method %s, want DELETE", rb.Method)
				}
			}
			if got := f.ops(); strings.Join(got, ",") != strings.Join(wantOps, ",") {
				t.Errorf("calls = %v, want %v", got, wantOps)
			}
		})
	}
}

func TestAWSBlockPublicAccessExpectedOwner(t *testing.T) {
	f := newAWSFake(t).
		on("GetPublicAccessBlock", awsReply{Status: 404, Body: s3ErrorXML("NoSuchPublicAccessBlockConfiguration", "none")}).
		on("PutPublicAccessBlock", awsReply{}).
		on("DeletePublicAccessBlock", awsReply{Status: 204})
	a := awsBlockPublicAccess{clients: f.clients()}
	res, err := a.Do(bg, call(params(t, a, `{"bucket":"exposed-logs","expected_bucket_owner":"111122223333","region":"eu-central-1"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(bg, persisted(t, res)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if c := f.call(i); c.Owner != "111122223333" {
			t.Errorf("call %d (%s) sent expected owner %q", i, c.Op, c.Owner)
		}
	}
	if len(res.Changed) != 1 || res.Changed[0] != "arn:aws:s3:::exposed-logs" {
		t.Errorf("Changed = %v", res.Changed)
	}
}

func TestAWSBlockPublicAccessParams(t *testing.T) {
	a := awsBlockPublicAccess{}
	for _, raw := range []string{
		`{}`,
		`{"bucket":"Bad_Bucket"}`,
		`{"bucket":"ok-bucket","block_public_acls":false,"ignore_public_acls":false,"block_public_policy":false,"restrict_public_buckets":false}`,
		`{"bucket":"ok-bucket","expected_bucket_owner":"me"}`,
	} {
		if _, err := a.Impact(bg, respond.Record{}, rawParams(t, raw), respond.NoWorld{}); err == nil {
			t.Errorf("Impact(%s): no error", raw)
		}
	}
	im, err := a.Impact(bg, respond.Record{}, params(t, a, `{"bucket":"ok-bucket"}`), respond.NoWorld{})
	if err != nil || im.Targets[0].UID != "ok-bucket" || !im.Reversible || !strings.Contains(im.Summary, "BlockPublicAcls+IgnorePublicAcls+BlockPublicPolicy+RestrictPublicBuckets") {
		t.Errorf("Impact = %+v, %v", im, err)
	}
}
