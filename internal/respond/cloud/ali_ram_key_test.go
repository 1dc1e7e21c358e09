package cloud

import (
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

const testLTAI = "LTAI5tCompromised0001"

func ramKeys(keys ...[2]string) aliReply {
	var list []map[string]any
	for _, k := range keys {
		list = append(list, map[string]any{"AccessKeyId": k[0], "Status": k[1], "CreateDate": "2026-01-02T03:04:05Z"})
	}
	return aliOK(map[string]any{"AccessKeys": map[string]any{"AccessKey": list}})
}

func TestAliDisableKey(t *testing.T) {
	const (
		list    = "UserName=bob"
		disable = "Status=Inactive&UserAccessKeyId=" + testLTAI + "&UserName=bob"
		enable  = "Status=Active&UserAccessKeyId=" + testLTAI + "&UserName=bob"
	)
	tests := []struct {
		name    string
		list    aliReply
		updates []aliReply
		want    string
		wantErr []string
		rbErr   []string
		wantReq [][2]string // op, params
	}{
		{
			name:    "active key disabled, rollback enables it",
			list:    ramKeys([2]string{"LTAI5tOtherKey0000001", "Active"}, [2]string{testLTAI, "Active"}),
			updates: []aliReply{aliOK(nil), aliOK(nil)},
			want:    OutcomeChanged,
			wantReq: [][2]string{{"ListAccessKeys", list}, {"UpdateAccessKey", disable}, {"UpdateAccessKey", enable}},
		},
		{
			name:    "already inactive",
			list:    ramKeys([2]string{testLTAI, "Inactive"}),
			want:    OutcomeAlreadyDone,
			wantReq: [][2]string{{"ListAccessKeys", list}},
		},
		{
			name:    "key not the user's",
			list:    ramKeys([2]string{"LTAI5tOtherKey0000001", "Active"}),
			wantErr: []string{NameAliDisableKey, testLTAI, "ListAccessKeys", "EntityNotExist.User.AccessKey", "not one of RAM user bob's keys"},
			wantReq: [][2]string{{"ListAccessKeys", list}},
		},
		{
			name:    "user missing",
			list:    aliReply{Status: 404, Body: aliErrorJSON("EntityNotExist.User", "The user does not exist.")},
			wantErr: []string{NameAliDisableKey, testLTAI, "ListAccessKeys", "EntityNotExist.User", "The user does not exist.", "request id req-err-EntityNotExist.User"},
			wantReq: [][2]string{{"ListAccessKeys", list}},
		},
		{
			name:    "update refused: error, nothing done",
			list:    ramKeys([2]string{testLTAI, "Active"}),
			updates: []aliReply{{Status: 403, Body: aliErrorJSON("NoPermission", "You are not authorized to do this action. You should be authorized by RAM.")}},
			wantErr: []string{NameAliDisableKey, testLTAI, "UpdateAccessKey", "NoPermission", "authorized by RAM"},
			wantReq: [][2]string{{"ListAccessKeys", list}, {"UpdateAccessKey", disable}},
		},
		{
			name:    "rollback refused is reported",
			list:    ramKeys([2]string{testLTAI, "Active"}),
			updates: []aliReply{aliOK(nil), {Status: 403, Body: aliErrorJSON("NoPermission", "denied")}},
			want:    OutcomeChanged,
			rbErr:   []string{NameAliDisableKey, testLTAI, "UpdateAccessKey", "NoPermission"},
			wantReq: [][2]string{{"ListAccessKeys", list}, {"UpdateAccessKey", disable}, {"UpdateAccessKey", enable}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAliFake(t).on("ListAccessKeys", tt.list).on("UpdateAccessKey", tt.updates...)
			a := aliDisableKey{clients: f.clients(t)}
			res, err := a.Do(bg, call(params(t, a, `{"user_name":"bob","access_key_id":"`+testLTAI+`"}`)))
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
				err := a.Rollback(bg, persisted(t, res))
				if tt.rbErr != nil {
					assertErr(t, err, tt.rbErr...)
				} else if err != nil {
					t.Fatalf("Rollback: %v", err)
				}
			}
			for i, w := range tt.wantReq {
				if c := f.call(i); c.Product != "ram" || c.Op != w[0] || c.Params != w[1] || c.KeyID != aliTestKeyID {
					t.Errorf("request %d: got %+v, want ram %s %s", i, c, w[0], w[1])
				}
			}
			if got := f.ops(); len(got) != len(tt.wantReq) {
				t.Errorf("calls %v, want %d", got, len(tt.wantReq))
			}
		})
	}
}

func TestAliDisableKeyParams(t *testing.T) {
	a := aliDisableKey{}
	for _, raw := range []string{`{"user_name":"bob"}`, `{"user_name":"bob","access_key_id":"STS.abc"}`, `{"user_name":"b o b","access_key_id":"` + testLTAI + `"}`} {
		if _, err := a.Impact(bg, respond.Record{}, rawParams(t, raw), respond.NoWorld{}); err == nil {
			t.Errorf("Impact(%s): no error", raw)
		}
	}
	im, err := a.Impact(bg, respond.Record{}, params(t, a, `{"user_name":"bob","access_key_id":"`+testLTAI+`"}`), respond.NoWorld{})
	if err != nil || im.Disruption != respond.DisruptionHigh || im.Targets[0].UID != testLTAI || !strings.Contains(im.Rollback, "Active") {
		t.Errorf("Impact = %+v, %v", im, err)
	}
}
