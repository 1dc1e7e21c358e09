package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const revokeOK = `<return>true</return><revokedSecurityGroupRuleSet><item><groupId>sg-0a1b</groupId><securityGroupRuleId>sgr-0f00</securityGroupRuleId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><cidrIpv4>0.0.0.0/0</cidrIpv4></item></revokedSecurityGroupRuleSet>`

func TestAWSRevokeIngressValidate(t *testing.T) {
	a := AWSRevokeIngress{}
	tests := []struct {
		name, params, wantErr string
	}{
		{"tcp cidr", `{"group_id":"sg-1","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`, ""},
		{"all protocols from a group", `{"group_id":"sg-1","protocol":"all","source_group_id":"sg-2"}`, ""},
		{"icmp any", `{"group_id":"sg-1","protocol":"icmp","from_port":-1,"to_port":-1,"cidr":"10.0.0.0/8"}`, ""},
		{"prefix list", `{"group_id":"sg-1","protocol":"udp","from_port":53,"to_port":53,"prefix_list_id":"pl-1"}`, ""},
		{"ipv6", `{"group_id":"sg-1","protocol":"tcp","from_port":443,"to_port":443,"ipv6_cidr":"::/0"}`, ""},
		{"protocol number", `{"group_id":"sg-1","protocol":"50","cidr":"10.0.0.0/8"}`, ""},
		{"no group", `{"protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`, "group_id"},
		{"not a group id", `{"group_id":"i-1","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`, "group_id"},
		{"no protocol", `{"group_id":"sg-1","cidr":"0.0.0.0/0"}`, "protocol is required"},
		{"bad protocol", `{"group_id":"sg-1","protocol":"sctp-ish","cidr":"0.0.0.0/0"}`, "protocol"},
		{"tcp without ports", `{"group_id":"sg-1","protocol":"tcp","cidr":"0.0.0.0/0"}`, "from_port"},
		{"reversed ports", `{"group_id":"sg-1","protocol":"tcp","from_port":90,"to_port":80,"cidr":"0.0.0.0/0"}`, "from_port"},
		{"port too big", `{"group_id":"sg-1","protocol":"tcp","from_port":1,"to_port":70000,"cidr":"0.0.0.0/0"}`, "from_port"},
		{"all with ports", `{"group_id":"sg-1","protocol":"-1","from_port":1,"to_port":2,"cidr":"0.0.0.0/0"}`, "no ports"},
		{"no source", `{"group_id":"sg-1","protocol":"-1"}`, "exactly one source"},
		{"two sources", `{"group_id":"sg-1","protocol":"-1","cidr":"0.0.0.0/0","source_group_id":"sg-2"}`, "exactly one source"},
		{"bad cidr", `{"group_id":"sg-1","protocol":"-1","cidr":"0.0.0.0"}`, "cidr"},
		{"v6 in cidr", `{"group_id":"sg-1","protocol":"-1","cidr":"::/0"}`, "IPv4"},
		{"owner without group", `{"group_id":"sg-1","protocol":"-1","cidr":"0.0.0.0/0","source_group_owner_id":"1"}`, "source_group_owner_id"},
		{"unknown field", `{"group_id":"sg-1","protocol":"-1","cidr":"0.0.0.0/0","cdir":"x"}`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Validate(json.RawMessage(tt.params))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), NameAWSRevokeIngress) {
				t.Fatalf("Validate error = %v, want ErrInvalidParams naming the action and mentioning %q", err, tt.wantErr)
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
		want    Outcome
		wantErr []string // substrings of Do's error; nil: success
		// rollback
		authorize    *awsReply
		wantAuthReq  string
		wantRollback Outcome
		wantRbErr    []string
	}{
		{
			name:         "ipv4 rule revoked and restored with its description",
			params:       `{"group_id":"sg-0a1b","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0","description":"ssh from anywhere"}`,
			revoke:       awsReply{Body: ec2XML("RevokeSecurityGroupIngress", revokeOK)},
			wantReq:      "Action=RevokeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			want:         OutcomeChanged,
			authorize:    &awsReply{Body: ec2XML("AuthorizeSecurityGroupIngress", `<return>true</return>`)},
			wantAuthReq:  "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.IpRanges.1.Description=ssh from anywhere&IpPermissions.1.ToPort=22&Version=2016-11-15",
			wantRollback: OutcomeChanged,
		},
		{
			name:         "source group with owner",
			params:       `{"region":"eu-west-1","group_id":"sg-0a1b","protocol":"all","source_group_id":"sg-9","source_group_owner_id":"123456789012"}`,
			revoke:       awsReply{Body: ec2XML("RevokeSecurityGroupIngress", `<return>true</return>`)},
			wantReq:      "Action=RevokeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.Groups.1.GroupId=sg-9&IpPermissions.1.Groups.1.UserId=123456789012&IpPermissions.1.IpProtocol=-1&Version=2016-11-15",
			want:         OutcomeChanged,
			authorize:    &awsReply{Body: ec2XML("AuthorizeSecurityGroupIngress", `<return>true</return>`)},
			wantAuthReq:  "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.Groups.1.GroupId=sg-9&IpPermissions.1.Groups.1.UserId=123456789012&IpPermissions.1.IpProtocol=-1&Version=2016-11-15",
			wantRollback: OutcomeChanged,
		},
		{
			name:         "ipv6 and prefix list shapes; rollback finds the rule back already",
			params:       `{"group_id":"sg-0a1b","protocol":"tcp","from_port":443,"to_port":443,"ipv6_cidr":"::/0"}`,
			revoke:       awsReply{Body: ec2XML("RevokeSecurityGroupIngress", `<return>true</return>`)},
			wantReq:      "Action=RevokeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=443&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=::/0&IpPermissions.1.ToPort=443&Version=2016-11-15",
			want:         OutcomeChanged,
			authorize:    &awsReply{Status: 400, Body: ec2ErrorXML("InvalidPermission.Duplicate", `the specified rule "peer: ::/0, TCP, from port: 443, to port: 443, ALLOW" already exists`)},
			wantAuthReq:  "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=443&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=::/0&IpPermissions.1.ToPort=443&Version=2016-11-15",
			wantRollback: OutcomeAlreadyDone,
		},
		{
			name:         "absent rule: NotFound error is already done, rollback adds nothing",
			params:       `{"group_id":"sg-0a1b","protocol":"udp","from_port":53,"to_port":53,"prefix_list_id":"pl-77"}`,
			revoke:       awsReply{Status: 400, Body: ec2ErrorXML("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")},
			wantReq:      "Action=RevokeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=53&IpPermissions.1.IpProtocol=udp&IpPermissions.1.PrefixListIds.1.PrefixListId=pl-77&IpPermissions.1.ToPort=53&Version=2016-11-15",
			want:         OutcomeAlreadyDone,
			wantRollback: OutcomeAlreadyDone,
		},
		{
			name:         "absent rule: listed as unknown permission",
			params:       `{"group_id":"sg-0a1b","protocol":"tcp","from_port":3389,"to_port":3389,"cidr":"0.0.0.0/0"}`,
			revoke:       awsReply{Body: ec2XML("RevokeSecurityGroupIngress", `<return>true</return><unknownIpPermissionSet><item><ipProtocol>tcp</ipProtocol><fromPort>3389</fromPort><toPort>3389</toPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></unknownIpPermissionSet>`)},
			wantReq:      "Action=RevokeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=3389&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=3389&Version=2016-11-15",
			want:         OutcomeAlreadyDone,
			wantRollback: OutcomeAlreadyDone,
		},
		{
			name:    "group not found is an error naming action, group and code",
			params:  `{"group_id":"sg-0a1b","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`,
			revoke:  awsReply{Status: 400, Body: ec2ErrorXML("InvalidGroup.NotFound", "The security group 'sg-0a1b' does not exist")},
			wantReq: "Action=RevokeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			wantErr: []string{NameAWSRevokeIngress, "sg-0a1b", "RevokeSecurityGroupIngress", "InvalidGroup.NotFound", "does not exist"},
		},
		{
			name:         "rollback failure is reported",
			params:       `{"group_id":"sg-0a1b","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`,
			revoke:       awsReply{Body: ec2XML("RevokeSecurityGroupIngress", revokeOK)},
			wantReq:      "Action=RevokeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			want:         OutcomeChanged,
			authorize:    &awsReply{Status: 400, Body: ec2ErrorXML("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")},
			wantAuthReq:  "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0a1b&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15",
			wantRbErr:    []string{NameAWSRevokeIngress, "sg-0a1b", "AuthorizeSecurityGroupIngress", "RulesPerSecurityGroupLimitExceeded"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newAWSFake(t).on("RevokeSecurityGroupIngress", tt.revoke)
			if tt.authorize != nil {
				f.on("AuthorizeSecurityGroupIngress", *tt.authorize)
			}
			a := AWSRevokeIngress{AWS: f.aws()}
			res, err := a.Do(ctx, json.RawMessage(tt.params))
			if c := f.call(0); c.Service != "ec2" || c.Params != tt.wantReq {
				t.Errorf("request:\n got %s %s\nwant ec2 %s", c.Service, c.Params, tt.wantReq)
			}
			if tt.wantErr != nil {
				assertErr(t, err, tt.wantErr...)
				if res.Outcome != "" || res.State != nil {
					t.Errorf("failed Do reported %+v", res)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if res.Outcome != tt.want || len(res.Resources) != 1 || res.Resources[0] != "sg-0a1b" {
				t.Fatalf("Do = %+v, want outcome %s on sg-0a1b", res, tt.want)
			}
			rb, err := a.Rollback(ctx, json.RawMessage(tt.params), res.State)
			if tt.wantRbErr != nil {
				assertErr(t, err, tt.wantRbErr...)
			} else if err != nil {
				t.Fatalf("Rollback: %v", err)
			} else if rb.Outcome != tt.wantRollback {
				t.Errorf("Rollback outcome = %s, want %s (%s)", rb.Outcome, tt.wantRollback, rb.Detail)
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
	im, err := AWSRevokeIngress{}.Impact(json.RawMessage(`{"group_id":"sg-0a1b","protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !im.Reversible || len(im.Resources) != 1 || im.Resources[0] != "sg-0a1b" || !strings.Contains(im.Summary, "tcp 22-22 from 0.0.0.0/0") || !strings.Contains(im.RollbackPlan, "AuthorizeSecurityGroupIngress") {
		t.Errorf("Impact = %+v", im)
	}
}

// assertErr checks that err is non-nil and its text has every part.
func assertErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}
