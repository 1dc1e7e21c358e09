package cloud

import (
	"errors"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

const (
	instID   = "i-0123456789abcdef0"
	qGroup   = "sg-0000000000000a0a0"
	newGroup = "sg-0000000000000b0b0"
	ec2Ver   = "&Version=2016-11-15"
)

// step is one scripted call: the operation, the request expected (query
// parameters, sorted) and the reply.
type step struct {
	op, req string
	reply   awsReply
}

func ok(op, inner string) awsReply { return awsReply{Body: ec2XML(op, inner)} }

func instanceXML(groups []string, enis int, tags map[string]string) string {
	var b strings.Builder
	b.WriteString("<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>" + instID + "</instanceId><vpcId>vpc-0abc</vpcId><groupSet>")
	for _, g := range groups {
		b.WriteString("<item><groupId>" + g + "</groupId><groupName>n-" + g + "</groupName></item>")
	}
	b.WriteString("</groupSet><networkInterfaceSet>")
	for i := range enis {
		b.WriteString("<item><networkInterfaceId>eni-" + string(rune('a'+i)) + "</networkInterfaceId></item>")
	}
	b.WriteString("</networkInterfaceSet><tagSet>")
	for k, v := range tags {
		b.WriteString("<item><key>" + k + "</key><value>" + v + "</value></item>")
	}
	b.WriteString("</tagSet></item></instancesSet></item></reservationSet>")
	return ec2XML("DescribeInstances", b.String())
}

func groupsXML(id string, egressAll bool) string {
	inner := "<securityGroupInfo>"
	if id != "" {
		inner += "<item><ownerId>111122223333</ownerId><groupId>" + id + "</groupId><groupName>canopy-quarantine</groupName><vpcId>vpc-0abc</vpcId><ipPermissions/><ipPermissionsEgress>"
		if egressAll {
			inner += "<item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>"
		}
		inner += "</ipPermissionsEgress></item>"
	}
	return ec2XML("DescribeSecurityGroups", inner+"</securityGroupInfo>")
}

var (
	stDescribe = func(groups []string, enis int, tags map[string]string) step {
		return step{"DescribeInstances", "Action=DescribeInstances&InstanceId.1=" + instID + ec2Ver, awsReply{Body: instanceXML(groups, enis, tags)}}
	}
	stTag = func(value string) step {
		return step{"CreateTags", "Action=CreateTags&ResourceId.1=" + instID + "&Tag.1.Key=" + QuarantineTag + "&Tag.1.Value=" + value + ec2Ver, ok("CreateTags", "<return>true</return>")}
	}
	stModify = func(groups ...string) step {
		req := "Action=ModifyInstanceAttribute"
		for i, g := range groups {
			req += "&GroupId." + string(rune('1'+i)) + "=" + g
		}
		return step{"ModifyInstanceAttribute", req + "&InstanceId=" + instID + ec2Ver, ok("ModifyInstanceAttribute", "<return>true</return>")}
	}
	stUntag    = step{"DeleteTags", "Action=DeleteTags&ResourceId.1=" + instID + "&Tag.1.Key=" + QuarantineTag + ec2Ver, ok("DeleteTags", "<return>true</return>")}
	stFindNone = step{"DescribeSecurityGroups", "Action=DescribeSecurityGroups&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-0abc&Filter.2.Name=group-name&Filter.2.Value.1=canopy-quarantine" + ec2Ver, awsReply{Body: groupsXML("", false)}}
	stCreate   = step{"CreateSecurityGroup", "Action=CreateSecurityGroup&GroupDescription=Canopy quarantine: no inbound or outbound traffic&GroupName=canopy-quarantine&TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key=canopy:purpose&TagSpecification.1.Tag.1.Value=quarantine" + ec2Ver + "&VpcId=vpc-0abc",
		ok("CreateSecurityGroup", "<return>true</return><groupId>"+newGroup+"</groupId>")}
	stDescribeNew = step{"DescribeSecurityGroups", "Action=DescribeSecurityGroups&GroupId.1=" + newGroup + ec2Ver, awsReply{Body: groupsXML(newGroup, true)}}
	stRevokeEgr   = step{"RevokeSecurityGroupEgress", "Action=RevokeSecurityGroupEgress&GroupId=" + newGroup + "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0" + ec2Ver, ok("RevokeSecurityGroupEgress", "<return>true</return>")}
	stDeleteNew   = step{"DeleteSecurityGroup", "Action=DeleteSecurityGroup&GroupId=" + newGroup + ec2Ver, ok("DeleteSecurityGroup", "<return>true</return>")}
)

func fail(s step, status int, code, msg string) step {
	s.reply = awsReply{Status: status, Body: ec2ErrorXML(code, msg)}
	return s
}

func TestAWSQuarantine(t *testing.T) {
	prev := []string{"sg-aaaaaaaa", "sg-bbbbbbbb"}
	tests := []struct {
		name     string
		params   string
		do       []step
		want     string   // outcome
		wantErr  []string // Do's error
		partial  bool     // Do's error is a PartialError whose result is rolled back
		rollback []step
		rbErr    []string
	}{
		{
			name:     "existing quarantine group: tag, swap; rollback restores and untags",
			params:   `{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `"}`,
			do:       []step{stDescribe(prev, 1, nil), stTag("sg-aaaaaaaa,sg-bbbbbbbb"), stModify(qGroup)},
			want:     OutcomeChanged,
			rollback: []step{stModify(prev...), stUntag},
		},
		{
			name:     "create_group: created with its default egress revoked; rollback deletes it",
			params:   `{"instance_id":"` + instID + `","create_group":true}`,
			do:       []step{stDescribe(prev, 1, nil), stFindNone, stCreate, stDescribeNew, stRevokeEgr, stTag("sg-aaaaaaaa,sg-bbbbbbbb"), stModify(newGroup)},
			want:     OutcomeChanged,
			rollback: []step{stModify(prev...), stUntag, stDeleteNew},
		},
		{
			name:   "create_group finds the group of an earlier quarantine: kept on rollback",
			params: `{"instance_id":"` + instID + `","create_group":true}`,
			do: []step{stDescribe(prev[:1], 1, nil),
				{stFindNone.op, stFindNone.req, awsReply{Body: groupsXML(qGroup, false)}},
				stTag("sg-aaaaaaaa"), stModify(qGroup)},
			want:     OutcomeChanged,
			rollback: []step{stModify(prev[0]), stUntag},
		},
		{
			name:     "created group still used elsewhere at rollback: kept, no error",
			params:   `{"instance_id":"` + instID + `","create_group":true}`,
			do:       []step{stDescribe(prev, 1, nil), stFindNone, stCreate, stDescribeNew, stRevokeEgr, stTag("sg-aaaaaaaa,sg-bbbbbbbb"), stModify(newGroup)},
			want:     OutcomeChanged,
			rollback: []step{stModify(prev...), stUntag, fail(stDeleteNew, 400, "DependencyViolation", "resource sg has a dependent object")},
		},
		{
			name:     "resumed run: already quarantined, previous groups from the tag",
			params:   `{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `"}`,
			do:       []step{stDescribe([]string{qGroup}, 1, map[string]string{QuarantineTag: "sg-aaaaaaaa,sg-bbbbbbbb"})},
			want:     OutcomeAlreadyDone,
			rollback: []step{stModify(prev...), stUntag},
		},
		{
			name:   "quarantined by someone else: already done, nothing to roll back",
			params: `{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `"}`,
			do:     []step{stDescribe([]string{qGroup}, 1, nil)},
			want:   OutcomeAlreadyDone,
		},
		{
			name:    "several network interfaces are refused before any change",
			params:  `{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `"}`,
			do:      []step{stDescribe(prev, 2, nil)},
			wantErr: []string{NameAWSQuarantine, instID, "2 network interfaces"},
		},
		{
			name:    "unknown instance",
			params:  `{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `"}`,
			do:      []step{fail(stDescribe(nil, 0, nil), 400, "InvalidInstanceID.NotFound", "The instance ID '"+instID+"' does not exist")},
			wantErr: []string{NameAWSQuarantine, instID, "DescribeInstances", "InvalidInstanceID.NotFound", "does not exist"},
		},
		{
			name:     "swap refused after tagging: partial, its rollback untags only",
			params:   `{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `"}`,
			do:       []step{stDescribe(prev, 1, nil), stTag("sg-aaaaaaaa,sg-bbbbbbbb"), fail(stModify(qGroup), 400, "InvalidGroup.NotFound", "The security group '"+qGroup+"' does not exist in VPC 'vpc-0abc'")},
			wantErr:  []string{NameAWSQuarantine, instID, "ModifyInstanceAttribute", "InvalidGroup.NotFound", "partially applied"},
			partial:  true,
			rollback: []step{stUntag},
		},
		{
			name:   "egress revoke of a new group fails: the group is deleted again",
			params: `{"instance_id":"` + instID + `","create_group":true}`,
			do: []step{stDescribe(prev, 1, nil), stFindNone, stCreate, stDescribeNew,
				fail(stRevokeEgr, 403, "UnauthorizedOperation", "You are not authorized to perform this operation."), stDeleteNew},
			wantErr: []string{NameAWSQuarantine, newGroup, "RevokeSecurityGroupEgress", "UnauthorizedOperation"},
		},
		{
			name:     "rollback swap refused: tag and group kept, error reported",
			params:   `{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `"}`,
			do:       []step{stDescribe(prev, 1, nil), stTag("sg-aaaaaaaa,sg-bbbbbbbb"), stModify(qGroup)},
			want:     OutcomeChanged,
			rollback: []step{fail(stModify(prev...), 400, "InvalidGroup.NotFound", "The security group 'sg-bbbbbbbb' does not exist")},
			rbErr:    []string{NameAWSQuarantine, instID, "ModifyInstanceAttribute", "InvalidGroup.NotFound"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAWSFake(t)
			for _, s := range append(append([]step{}, tt.do...), tt.rollback...) {
				f.on(s.op, s.reply)
			}
			a := awsQuarantine{clients: f.clients()}
			res, err := a.Do(bg, call(params(t, a, tt.params)))
			var pe *respond.PartialError
			switch {
			case tt.wantErr != nil:
				assertErr(t, err, tt.wantErr...)
				if res.Undo != nil {
					t.Errorf("failed Do returned a result: %+v", res)
				}
				if errors.As(err, &pe) != tt.partial {
					t.Fatalf("PartialError: %v, want %v", errors.As(err, &pe), tt.partial)
				}
				if tt.partial {
					if err := a.Rollback(bg, persisted(t, pe.Result)); err != nil {
						t.Fatalf("Rollback of the partial result: %v", err)
					}
				}
			case err != nil:
				t.Fatalf("Do: %v", err)
			default:
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
			want := append(append([]step{}, tt.do...), tt.rollback...)
			got := f.ops()
			if len(got) != len(want) {
				t.Errorf("calls %v, want %d", got, len(want))
			}
			for i := range min(len(got), len(want)) {
				if c := f.call(i); c.Service != "ec2" || c.Params != want[i].req {
					t.Errorf("request %d:\n got %s %s\nwant ec2 %s", i, c.Service, c.Params, want[i].req)
				}
			}
		})
	}
}

func TestAWSQuarantineParams(t *testing.T) {
	a := awsQuarantine{}
	for raw, want := range map[string]string{
		`{"instance_id":"` + instID + `"}`: "quarantine_group_id or create_group",
		`{"instance_id":"` + instID + `","quarantine_group_id":"` + qGroup + `","create_group":true}`: "exclude each other",
		`{"instance_id":"` + instID + `","create_group":true,"group_name":"sg-x"}`:                    "sg-",
		`{"instance_id":"i-xyz","create_group":true}`:                                                 "instance_id",
	} {
		_, err := a.Impact(bg, respond.Record{}, rawParams(t, raw), respond.NoWorld{})
		if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), want) {
			t.Errorf("Impact(%s) = %v, want ErrInvalidParams mentioning %q", raw, err, want)
		}
	}
	im, err := a.Impact(bg, respond.Record{}, params(t, a, `{"instance_id":"`+instID+`","quarantine_group_id":"`+qGroup+`","account_id":"111122223333","region":"eu-west-1"}`), respond.NoWorld{})
	if err != nil || len(im.Targets) != 2 || im.Disruption != respond.DisruptionHigh || im.Targets[0].UID != instID || !strings.Contains(im.Rollback, QuarantineTag) {
		t.Errorf("Impact = %+v, %v", im, err)
	}
}
