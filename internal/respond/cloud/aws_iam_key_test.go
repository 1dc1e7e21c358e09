package cloud

import (
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

const testAKIA = "AKIAIOSFODNN7EXAMPLE"

func listKeysXML(truncated bool, marker string, keys ...[2]string) string {
	var b strings.Builder
	b.WriteString("<ListAccessKeysResult><AccessKeyMetadata>")
	for _, k := range keys {
		b.WriteString("<member><UserName>alice</UserName><AccessKeyId>" + k[0] + "</AccessKeyId><Status>" + k[1] + "</Status><CreateDate>2026-01-02T03:04:05Z</CreateDate></member>")
	}
	b.WriteString("</AccessKeyMetadata>")
	if truncated {
		b.WriteString("<IsTruncated>true</IsTruncated><Marker>" + marker + "</Marker>")
	} else {
		b.WriteString("<IsTruncated>false</IsTruncated>")
	}
	b.WriteString("</ListAccessKeysResult>")
	return iamXML("ListAccessKeys", b.String())
}

func TestAWSDeactivateKey(t *testing.T) {
	const (
		list       = "Action=ListAccessKeys&UserName=alice&Version=2010-05-08"
		deactivate = "AccessKeyId=" + testAKIA + "&Action=UpdateAccessKey&Status=Inactive&UserName=alice&Version=2010-05-08"
		reactivate = "AccessKeyId=" + testAKIA + "&Action=UpdateAccessKey&Status=Active&UserName=alice&Version=2010-05-08"
	)
	updated := awsReply{Body: iamXML("UpdateAccessKey", "")}
	tests := []struct {
		name    string
		lists   []awsReply
		updates []awsReply
		want    string   // outcome of Do
		wantErr []string // Do's error
		rbErr   []string // Rollback's error
		wantReq []string // every request, in order
	}{
		{
			name:    "active key deactivated, rollback reactivates",
			lists:   []awsReply{{Body: listKeysXML(false, "", [2]string{"AKIAOTHERKEY00000000", "Active"}, [2]string{testAKIA, "Active"})}},
			updates: []awsReply{updated, updated},
			want:    OutcomeChanged,
			wantReq: []string{list, deactivate, reactivate},
		},
		{
			name:    "key on the second page",
			lists:   []awsReply{{Body: listKeysXML(true, "page-2", [2]string{"AKIAOTHERKEY00000000", "Active"})}, {Body: listKeysXML(false, "", [2]string{testAKIA, "Active"})}},
			updates: []awsReply{updated, updated},
			want:    OutcomeChanged,
			wantReq: []string{list, "Action=ListAccessKeys&Marker=page-2&UserName=alice&Version=2010-05-08", deactivate, reactivate},
		},
		{
			name:    "already inactive: no update, rollback leaves it inactive",
			lists:   []awsReply{{Body: listKeysXML(false, "", [2]string{testAKIA, "Inactive"})}},
			want:    OutcomeAlreadyDone,
			wantReq: []string{list},
		},
		{
			name:    "key not the user's",
			lists:   []awsReply{{Body: listKeysXML(false, "", [2]string{"AKIAOTHERKEY00000000", "Active"})}},
			wantErr: []string{NameAWSDeactivateKey, testAKIA, "ListAccessKeys", "NoSuchEntity", "not one of user alice's keys"},
			wantReq: []string{list},
		},
		{
			name:    "user missing",
			lists:   []awsReply{{Status: 404, Body: iamErrorXML("NoSuchEntity", "The user with name alice cannot be found.")}},
			wantErr: []string{NameAWSDeactivateKey, testAKIA, "ListAccessKeys", "NoSuchEntity", "alice cannot be found", "request id req-ListAccessKeys"},
			wantReq: []string{list},
		},
		{
			name:    "update refused: error, nothing done",
			lists:   []awsReply{{Body: listKeysXML(false, "", [2]string{testAKIA, "Active"})}},
			updates: []awsReply{{Status: 403, Body: iamErrorXML("AccessDenied", "User is not authorized to perform: iam:UpdateAccessKey")}},
			wantErr: []string{NameAWSDeactivateKey, testAKIA, "UpdateAccessKey", "AccessDenied", "iam:UpdateAccessKey"},
			wantReq: []string{list, deactivate},
		},
		{
			name:    "rollback refused is reported",
			lists:   []awsReply{{Body: listKeysXML(false, "", [2]string{testAKIA, "Active"})}},
			updates: []awsReply{updated, {Status: 409, Body: iamErrorXML("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")}},
			want:    OutcomeChanged,
			rbErr:   []string{NameAWSDeactivateKey, testAKIA, "UpdateAccessKey", "LimitExceeded"},
			wantReq: []string{list, deactivate, reactivate},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAWSFake(t).on("ListAccessKeys", tt.lists...).on("UpdateAccessKey", tt.updates...)
			a := awsDeactivateKey{clients: f.clients()}
			res, err := a.Do(bg, call(params(t, a, `{"user_name":"alice","access_key_id":"`+testAKIA+`"}`)))
			if tt.wantErr != nil {
				assertErr(t, err, tt.wantErr...)
				if res.Undo != nil {
					t.Errorf("failed Do reported %+v", res)
				}
			} else {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if outcome(res) != tt.want {
					t.Fatalf("outcome %s, want %s (%s)", outcome(res), tt.want, res.Summary)
				}
				err = a.Rollback(bg, persisted(t, res))
				if tt.rbErr != nil {
					assertErr(t, err, tt.rbErr...)
				} else if err != nil {
					t.Fatalf("Rollback: %v", err)
				}
			}
			for i, want := range tt.wantReq {
				if c := f.call(i); c.Service != "iam" || c.Params != want {
					t.Errorf("request %d:\n got %s %s\nwant iam %s", i, c.Service, c.Params, want)
				}
			}
			if n := len(f.ops()); n != len(tt.wantReq) {
				t.Errorf("%d calls %v, want %d", n, f.ops(), len(tt.wantReq))
			}
		})
	}
}

func TestAWSDeactivateKeyParams(t *testing.T) {
	a := awsDeactivateKey{}
	for _, raw := range []string{
		`{"access_key_id":"` + testAKIA + `"}`,
		`{"user_name":"alice","access_key_id":"ASIAIOSFODNN7EXAMPLE"}`,
		`{"user_name":"alice; drop","access_key_id":"` + testAKIA + `"}`,
	} {
		if _, err := a.Impact(bg, respond.Record{}, rawParams(t, raw), respond.NoWorld{}); err == nil {
			t.Errorf("Impact(%s): no error", raw)
		}
	}
	im, err := a.Impact(bg, respond.Record{}, params(t, a, `{"user_name":"alice","access_key_id":"`+testAKIA+`"}`), respond.NoWorld{})
	if err != nil || im.Disruption != respond.DisruptionHigh || im.Targets[0].UID != testAKIA || !im.Reversible {
		t.Errorf("Impact = %+v, %v", im, err)
	}
}
