package cloud

import (
	"errors"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

const aliSG = "sg-bp1canopytest0001"

func aliPerm(id, proto, ports, src, policy, prio, desc string) map[string]any {
	return map[string]any{"SecurityGroupRuleId": id, "Direction": "ingress", "IpProtocol": proto, "PortRange": ports, "SourceCidrIp": src,
		"Policy": policy, "Priority": prio, "NicType": "intranet", "Description": desc, "CreateTime": "2026-01-02T03:04:05Z"}
}

func aliDescribe(next string, perms ...map[string]any) aliReply {
	body := map[string]any{"SecurityGroupId": aliSG, "RegionId": "cn-hangzhou", "VpcId": "vpc-bp1test", "InnerAccessPolicy": "Accept",
		"Permissions": map[string]any{"Permission": perms}}
	if next != "" {
		body["NextToken"] = next
	}
	return aliOK(body)
}

var (
	sshOpen   = aliPerm("sgr-bp1sshopen00001", "TCP", "22/22", "0.0.0.0/0", "Accept", "1", "ssh from anywhere")
	sshOffice = aliPerm("sgr-bp1sshoffice001", "TCP", "22/22", "10.0.0.0/8", "Accept", "1", "")
	httpsOpen = aliPerm("sgr-bp1httpsopen001", "TCP", "443/443", "0.0.0.0/0", "Accept", "1", "")
)

func TestAliRevokeRule(t *testing.T) {
	const (
		describe  = "Direction=ingress&RegionId=cn-hangzhou&SecurityGroupId=" + aliSG
		revokeSSH = "RegionId=cn-hangzhou&SecurityGroupId=" + aliSG + "&SecurityGroupRuleId.1=sgr-bp1sshopen00001"
		// The rule whole, as read before revoking: priority, policy, NIC type and description come back.
		authorizeSSH = "Permissions.1.Description=ssh from anywhere&Permissions.1.IpProtocol=TCP&Permissions.1.NicType=intranet&Permissions.1.Policy=accept&Permissions.1.PortRange=22/22&Permissions.1.Priority=1&Permissions.1.SourceCidrIp=0.0.0.0/0&RegionId=cn-hangzhou&SecurityGroupId=" + aliSG
		bySpec       = `{"security_group_id":"` + aliSG + `","ip_protocol":"tcp","port_range":"22/22","source_cidr_ip":"0.0.0.0/0"}`
	)
	type req struct{ op, params string }
	tests := []struct {
		name     string
		params   string
		replies  map[string][]aliReply
		want     string
		wantErr  []string
		rbErr    []string
		wantReqs []req
	}{
		{
			name:   "by protocol, ports and source: only the open rule; rollback re-adds it whole",
			params: bySpec,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("", sshOffice, sshOpen, httpsOpen), aliDescribe("", sshOffice, httpsOpen)},
				"RevokeSecurityGroup":            {aliOK(nil)},
				"AuthorizeSecurityGroup":         {aliOK(nil)},
			},
			want: OutcomeChanged,
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}, {"RevokeSecurityGroup", revokeSSH},
				{"DescribeSecurityGroupAttribute", describe}, {"AuthorizeSecurityGroup", authorizeSSH}},
		},
		{
			name:   "by rule id, rules on two pages",
			params: `{"region_id":"cn-hangzhou","security_group_id":"` + aliSG + `","rule_id":"sgr-bp1sshopen00001"}`,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("page-2", sshOffice), aliDescribe("", sshOpen), aliDescribe("", sshOffice)},
				"RevokeSecurityGroup":            {aliOK(nil)},
				"AuthorizeSecurityGroup":         {aliOK(nil)},
			},
			want: OutcomeChanged,
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}, {"DescribeSecurityGroupAttribute", "Direction=ingress&NextToken=page-2&RegionId=cn-hangzhou&SecurityGroupId=" + aliSG},
				{"RevokeSecurityGroup", revokeSSH}, {"DescribeSecurityGroupAttribute", describe}, {"AuthorizeSecurityGroup", authorizeSSH}},
		},
		{
			name:   "rule without an id (older API answer): revoked by its permission",
			params: `{"security_group_id":"` + aliSG + `","ip_protocol":"all","port_range":"-1/-1","source_group_id":"sg-bp1peergroup0001","policy":"accept","priority":5}`,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("", map[string]any{"Direction": "ingress", "IpProtocol": "ALL", "PortRange": "-1/-1",
					"SourceGroupId": "sg-bp1peergroup0001", "Policy": "Accept", "Priority": "5", "NicType": "intranet"}, sshOpen), aliDescribe("", sshOpen)},
				"RevokeSecurityGroup":    {aliOK(nil)},
				"AuthorizeSecurityGroup": {aliOK(nil)},
			},
			want: OutcomeChanged,
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe},
				{"RevokeSecurityGroup", "Permissions.1.IpProtocol=ALL&Permissions.1.NicType=intranet&Permissions.1.Policy=accept&Permissions.1.PortRange=-1/-1&Permissions.1.Priority=5&Permissions.1.SourceGroupId=sg-bp1peergroup0001&RegionId=cn-hangzhou&SecurityGroupId=" + aliSG},
				{"DescribeSecurityGroupAttribute", describe},
				{"AuthorizeSecurityGroup", "Permissions.1.IpProtocol=ALL&Permissions.1.NicType=intranet&Permissions.1.Policy=accept&Permissions.1.PortRange=-1/-1&Permissions.1.Priority=5&Permissions.1.SourceGroupId=sg-bp1peergroup0001&RegionId=cn-hangzhou&SecurityGroupId=" + aliSG}},
		},
		{
			name:   "no matching rule: already done, rollback adds nothing",
			params: bySpec,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("", sshOffice, httpsOpen)},
			},
			want:     OutcomeAlreadyDone,
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}},
		},
		{
			name:   "rule revoked meanwhile (RuleNotExist): already done",
			params: bySpec,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("", sshOpen)},
				"RevokeSecurityGroup":            {{Status: 400, Body: aliErrorJSON("InvalidSecurityGroupRule.RuleNotExist", "The specified security group rule does not exist.")}},
			},
			want:     OutcomeAlreadyDone,
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}, {"RevokeSecurityGroup", revokeSSH}},
		},
		{
			name:   "rule back already at rollback: nothing authorized",
			params: bySpec,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("", sshOpen), aliDescribe("", aliPerm("sgr-bp1readded00001", "tcp", "22/22", "0.0.0.0/0", "accept", "1", ""))},
				"RevokeSecurityGroup":            {aliOK(nil)},
			},
			want:     OutcomeChanged,
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}, {"RevokeSecurityGroup", revokeSSH}, {"DescribeSecurityGroupAttribute", describe}},
		},
		{
			name:   "unknown group: clear error",
			params: bySpec,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {{Status: 404, Body: aliErrorJSON("InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist.")}},
			},
			wantErr:  []string{NameAliRevokeRule, aliSG, "DescribeSecurityGroupAttribute", "InvalidSecurityGroupId.NotFound", "does not exist", "request id req-err-InvalidSecurityGroupId.NotFound"},
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}},
		},
		{
			name:   "revoke refused: error, nothing done",
			params: bySpec,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("", sshOpen)},
				"RevokeSecurityGroup":            {{Status: 403, Body: aliErrorJSON("Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM.")}},
			},
			wantErr:  []string{NameAliRevokeRule, aliSG, "RevokeSecurityGroup", "Forbidden.RAM", "not authorized"},
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}, {"RevokeSecurityGroup", revokeSSH}},
		},
		{
			name:   "rollback refused is reported",
			params: bySpec,
			replies: map[string][]aliReply{
				"DescribeSecurityGroupAttribute": {aliDescribe("", sshOpen), aliDescribe("")},
				"RevokeSecurityGroup":            {aliOK(nil)},
				"AuthorizeSecurityGroup":         {{Status: 400, Body: aliErrorJSON("QuotaExceed.SecurityGroupRule", "The maximum number of rules in the security group is exceeded.")}},
			},
			want:  OutcomeChanged,
			rbErr: []string{NameAliRevokeRule, aliSG, "AuthorizeSecurityGroup", "QuotaExceed.SecurityGroupRule"},
			wantReqs: []req{{"DescribeSecurityGroupAttribute", describe}, {"RevokeSecurityGroup", revokeSSH},
				{"DescribeSecurityGroupAttribute", describe}, {"AuthorizeSecurityGroup", authorizeSSH}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAliFake(t)
			for op, rs := range tt.replies {
				f.on(op, rs...)
			}
			a := aliRevokeRule{clients: f.clients(t)}
			res, err := a.Do(bg, call(params(t, a, tt.params)))
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
				if tt.want == OutcomeChanged && (len(res.Changed) != 1 || res.Changed[0] != aliSG || !strings.Contains(res.Summary, "revoked from "+aliSG)) {
					t.Errorf("result %+v", res)
				}
				err := a.Rollback(bg, persisted(t, res))
				if tt.rbErr != nil {
					assertErr(t, err, tt.rbErr...)
				} else if err != nil {
					t.Fatalf("Rollback: %v", err)
				}
			}
			for i, w := range tt.wantReqs {
				if c := f.call(i); c.Product != "ecs" || c.Op != w.op || c.Params != w.params {
					t.Errorf("request %d:\n got %s %s %s\nwant ecs %s %s", i, c.Product, c.Op, c.Params, w.op, w.params)
				}
			}
			if got := f.ops(); len(got) != len(tt.wantReqs) {
				t.Errorf("calls %v, want %d", got, len(tt.wantReqs))
			}
		})
	}
}

func TestAliRevokeRuleParams(t *testing.T) {
	a := aliRevokeRule{}
	for raw, want := range map[string]string{
		`{"security_group_id":"` + aliSG + `"}`:                                                                                                        "give rule_id",
		`{"security_group_id":"` + aliSG + `","rule_id":"sgr-bp1sshopen00001","ip_protocol":"tcp"}`:                                                    "excludes",
		`{"security_group_id":"` + aliSG + `","ip_protocol":"tcp","port_range":"22/22"}`:                                                               "exactly one source",
		`{"security_group_id":"` + aliSG + `","ip_protocol":"tcp","port_range":"22/22","source_cidr_ip":"0.0.0.0/0","source_group_id":"sg-abcdefgh1"}`: "exactly one source",
		`{"security_group_id":"` + aliSG + `","ip_protocol":"tcp","port_range":"0/22","source_cidr_ip":"0.0.0.0/0"}`:                                   "1-65535",
		`{"security_group_id":"` + aliSG + `","ip_protocol":"all","port_range":"1/22","source_cidr_ip":"0.0.0.0/0"}`:                                   "-1/-1",
		`{"security_group_id":"` + aliSG + `","ip_protocol":"tcp","port_range":"22/22","source_cidr_ip":"999.0.0.0/8"}`:                                "not an address",
		`{"security_group_id":"` + aliSG + `","ip_protocol":"tcp","port_range":"22/22","ipv6_source_cidr_ip":"10::1/300"}`:                             "not an address",
		`{"security_group_id":"` + aliSG + `","ip_protocol":"tcp","port_range":"22/22","source_cidr_ip":"0.0.0.0/0","priority":101}`:                   "priority",
		`{"security_group_id":"bad","ip_protocol":"tcp","port_range":"22/22","source_cidr_ip":"0.0.0.0/0"}`:                                            "security_group_id",
	} {
		_, err := a.Impact(bg, respond.Record{}, rawParams(t, raw), respond.NoWorld{})
		if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), want) {
			t.Errorf("Impact(%s) = %v, want ErrInvalidParams mentioning %q", raw, err, want)
		}
	}
	im, err := a.Impact(bg, respond.Record{}, params(t, a, `{"region_id":"cn-hangzhou","account_id":"1234567890123456","security_group_id":"`+aliSG+`","ip_protocol":"TCP","port_range":"22/22","source_cidr_ip":"0.0.0.0/0"}`), respond.NoWorld{})
	if err != nil || im.Targets[0].UID != aliSG || im.Disruption != respond.DisruptionMedium || !strings.Contains(im.Summary, "tcp 22/22 from 0.0.0.0/0") {
		t.Errorf("Impact = %+v, %v", im, err)
	}
}
