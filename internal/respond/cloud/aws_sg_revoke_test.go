package cloud

import (
	"errors"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

const revokeOK = `<return>true</return><revokedSecurityGroupRuleSet><item><groupId>sg-0123456789abcdef0</groupId><securityGroupRuleId>sgr-0f00</securityGroupRuleId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><cidrIpv4>0.0.0.0/0</cidrIpv4></item></revokedSecurityGroupRuleSet>`

func TestAWSRevokeIngressValidate(t *testing.T) {
	f := newAWSFake(t)
	a := awsRevokeIngress{clients: f.clients()}
	tests := []struct {
		name, params, wantErr string
	}{
		{"tcp cidr", `{"group_id":"sg-11111111","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`, ""},
		{"all protocols from a group", `{"group_id":"sg-11111111","protocol":"all","source_group_id":"sg-22222222"}`, ""},
		{"icmp any", `{"group_id":"sg-11111111","protocol":"icmp","from_port":-1,"to_port":-1,"cidr":"10.0.0.0/8"}`, ""},
		{"prefix list", `{"group_id":"sg-11111111","protocol":"udp","from_port":53,"to_port":53,"prefix_list_id":"pl-11111111"}`, ""},
		{"ipv6", `{"group_id":"sg-11111111","protocol":"tcp","from_port":443,"to_port":443,"ipv6_cidr":"::/0"}`, ""},
		{"protocol number", `{"group_id":"sg-11111111","protocol":"50","cidr":"10.0.0.0/8"}`, ""},
		{"no group", `{"protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`, "group_id"},
		{"not a group id", `{"group_id":"i-1","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`, "group_id"},
		{"no protocol", `{"group_id":"sg-11111111","cidr":"0.0.0.0/0"}`, "protocol: required"},
		{"bad protocol", `{"group_id":"sg-11111111","protocol":"sctp-ish","cidr":"0.0.0.0/0"}`, "protocol"},
		{"tcp without ports", `{"group_id":"sg-11111111","protocol":"tcp","cidr":"0.0.0.0/0"}`, "from_port"},
		{"reversed ports", `{"group_id":"sg-11111111","protocol":"tcp","from_port":90,"to_port":80,"cidr":"0.0.0.0/0"}`, "from_port"},
		{"port too big", `{"group_id":"sg-11111111","protocol":"tcp","from_port":1,"to_port":70000,"cidr":"0.0.0.0/0"}`, "from_port"},
		{"all with ports", `{"group_id":"sg-11111111","protocol":"-1","from_port":1,"to_port":2,"cidr":"0.0.0.0/0"}`, "no ports"},
		{"no source", `{"group_id":"sg-11111111","protocol":"-1"}`, "exactly one source"},
		{"two sources", `{"group_id":"sg-11111111","protocol":"-1","cidr":"0.0.0.0/0","source_group_id":"sg-22222222"}`, "exactly one source"},
		{"bad cidr", `{"group_id":"sg-11111111","protocol":"-1","cidr":"0.0.0.0"}`, "cidr"},
		{"v6 in cidr", `{"group_id":"sg-11111111","protocol":"-1","cidr":"::/0"}`, "does not match"},
		{"bad v4 cidr", `{"group_id":"sg-11111111","protocol":"-1","cidr":"300.0.0.0/8"}`, "not an IPv4 CIDR"},
		{"owner without group", `{"group_id":"sg-11111111","protocol":"-1","cidr":"0.0.0.0/0","source_group_owner_id":"1"}`, "source_group_owner_id"},
		{"unknown parameter", `{"group_id":"sg-11111111","protocol":"-1","cidr":"0.0.0.0/0","cdir":"x"}`, "unknown parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Impact(bg, respond.Record{Tenant: testTenant}, rawParams(t, tt.params), respond.NoWorld{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Impact: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), NameAWSRevokeIngress) {
				t.Fatalf("Impact error = %v, want ErrInvalidParams naming the action and mentioning %q", err, tt.wantErr)
			}
			// Do refuses the same parameters without calling AWS.
			if _, err := a.Do(bg, call(rawParams(t, tt.params))); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Do error = %v, want ErrInvalidParams", err)
			}
			if ops := f.ops(); len(ops) != 0 {
				t.Fatalf("invalid parameters reached AWS: %v", ops)
			}
		})
	}
}

func TestAWSRevokeIngress(t *testing.T) {
	tests := []struct {
		name    string
		params  string
		revoke  awsReply
		wantReq string
		want    string
		wantErr []string // substrings of Do's error; nil: success
		// rollback
		authorize   *awsReply
		wantAuthReq string
		wantRbErr   []string
	}{
		{
			name:        "ipv4 rule revoked and restored with its description",
			params:      `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0","description":"ssh from anywhere"}`,
			revoke:      awsReply{Body: ec2XML("RevokeSecurityGroupIngress", revokeOK)},
			wantReq:     "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			want:        OutcomeChanged,
			authorize:   &awsReply{Body: ec2XML("AuthorizeSecurityGroupIngress", `<return>true</return>`)},
			wantAuthReq: "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.IpRanges.1.Description=ssh from anywhere&IpPermissions.1.ToPort=22&Version=2016-11-15",
		},
		{
			name:        "source group with owner",
			params:      `{"region":"eu-west-1","group_id":"sg-0123456789abcdef0","protocol":"all","source_group_id":"sg-0fedcba9876543210","source_group_owner_id":"123456789012"}`,
			revoke:      awsReply{Body: ec2XML("RevokeSecurityGroupIngress", `<return>true</return>`)},
			wantReq:     "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.Groups.1.GroupId=sg-0fedcba9876543210&IpPermissions.1.Groups.1.UserId=123456789012&IpPermissions.1.IpProtocol=-1&Version=2016-11-15",
			want:        OutcomeChanged,
			authorize:   &awsReply{Body: ec2XML("AuthorizeSecurityGroupIngress", `<return>true</return>`)},
			wantAuthReq: "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.Groups.1.GroupId=sg-0fedcba9876543210&IpPermissions.1.Groups.1.UserId=123456789012&IpPermissions.1.IpProtocol=-1&Version=2016-11-15",
		},
		{
			name:        "ipv6 and prefix list shapes; rollback finds the rule back already",
			params:      `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":443,"to_port":443,"ipv6_cidr":"::/0"}`,
			revoke:      awsReply{Body: ec2XML("RevokeSecurityGroupIngress", `<return>true</return>`)},
			wantReq:     "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=443&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=::/0&IpPermissions.1.ToPort=443&Version=2016-11-15",
			want:        OutcomeChanged,
			authorize:   &awsReply{Status: 400, Body: ec2ErrorXML("InvalidPermission.Duplicate", `the specified rule "peer: ::/0, TCP, from port: 443, to port: 443, ALLOW" already exists`)},
			wantAuthReq: "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=443&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=::/0&IpPermissions.1.ToPort=443&Version=2016-11-15",
		},
		{
			name:    "absent rule: NotFound error is already done, rollback adds nothing",
			params:  `{"group_id":"sg-0123456789abcdef0","protocol":"udp","from_port":53,"to_port":53,"prefix_list_id":"pl-0123456789abcdef0"}`,
			revoke:  awsReply{Status: 400, Body: ec2ErrorXML("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")},
			wantReq: "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=53&IpPermissions.1.IpProtocol=udp&IpPermissions.1.PrefixListIds.1.PrefixListId=pl-0123456789abcdef0&IpPermissions.1.ToPort=53&Version=2016-11-15",
			want:    OutcomeAlreadyDone,
		},
		{
			name:    "absent rule: listed as unknown permission",
			params:  `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":3389,"to_port":3389,"cidr":"0.0.0.0/0"}`,
			revoke:  awsReply{Body: ec2XML("RevokeSecurityGroupIngress", `<return>true</return><unknownIpPermissionSet><item><ipProtocol>tcp</ipProtocol><fromPort>3389</fromPort><toPort>3389</toPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></unknownIpPermissionSet>`)},
			wantReq: "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=3389&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=3389&Version=2016-11-15",
			want:    OutcomeAlreadyDone,
		},
		{
			name:    "group not found is an error naming action, group and code",
			params:  `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`,
			revoke:  awsReply{Status: 400, Body: ec2ErrorXML("InvalidGroup.NotFound", "The security group 'sg-0123456789abcdef0' does not exist")},
			wantReq: "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			wantErr: []string{NameAWSRevokeIngress, "sg-0123456789abcdef0", "RevokeSecurityGroupIngress", "InvalidGroup.NotFound", "does not exist", "request id req-RevokeSecurityGroupIngress"},
		},
		{
			name:        "rollback failure is reported",
			params:      `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`,
			revoke:      awsReply{Body: ec2XML("RevokeSecurityGroupIngress", revokeOK)},
			wantReq:     "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			want:        OutcomeChanged,
			authorize:   &awsReply{Status: 400, Body: ec2ErrorXML("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")},
			wantAuthReq: "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			wantRbErr:   []string{NameAWSRevokeIngress, "sg-0123456789abcdef0", "AuthorizeSecurityGroupIngress", "RulesPerSecurityGroupLimitExceeded"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAWSFake(t).on("RevokeSecurityGroupIngress", tt.revoke)
			if tt.authorize != nil {
				f.on("AuthorizeSecurityGroupIngress", *tt.authorize)
			}
			a := awsRevokeIngress{clients: f.clients()}
			res, err := a.Do(bg, call(params(t, a, tt.params)))
			if c := f.call(0); c.Service != "ec2" || c.Params != tt.wantReq {
				t.Errorf("request:\n got %s %s\nwant ec2 %s", c.Service, c.Params, tt.wantReq)
			}
			if tt.wantErr != nil {
				assertErr(t, err, tt.wantErr...)
				if res.Summary != "" || res.Undo != nil || res.Changed != nil {
					t.Errorf("failed Do reported %+v", res)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if outcome(res) != tt.want || res.Action != NameAWSRevokeIngress || !res.Reversible() {
				t.Fatalf("Do = %+v, want outcome %s", res, tt.want)
			}
			if wantChanged := tt.want == OutcomeChanged; wantChanged != (len(res.Changed) == 1 && res.Changed[0] == "sg-0123456789abcdef0") {
				t.Errorf("Changed = %v for outcome %s", res.Changed, tt.want)
			}
			err = a.Rollback(bg, persisted(t, res))
			if tt.wantRbErr != nil {
				assertErr(t, err, tt.wantRbErr...)
			} else if err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			wantOps := []string{"RevokeSecurityGroupIngress"}
			if tt.authorize != nil {
				wantOps = append(wantOps, "AuthorizeSecurityGroupIngress")
				if c := f.call(1); c.Params != tt.wantAuthReq {
					t.Errorf("rollback request:\n got %s\nwant %s", c.Params, tt.wantAuthReq)
				}
			}
			if got := f.ops(); strings.Join(got, ",") != strings.Join(wantOps, ",") {
				t.Errorf("calls = %v, want %v", got, wantOps)
			}
		})
	}
}

func TestAWSRevokeIngressImpact(t *testing.T) {
	a := awsRevokeIngress{}
	im, err := a.Impact(bg, respond.Record{Tenant: testTenant}, params(t, a, `{"group_id":"sg-0123456789abcdef0","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`), respond.NoWorld{})
	if err != nil {
		t.Fatal(err)
	}
	if !im.Reversible || im.Disruption != respond.DisruptionMedium || len(im.Targets) != 1 || im.Targets[0].UID != "sg-0123456789abcdef0" ||
		!strings.Contains(im.Summary, "tcp 22-22 from 0.0.0.0/0") || !strings.Contains(im.Rollback, "AuthorizeSecurityGroupIngress") {
		t.Errorf("Impact = %+v", im)
	}
}
