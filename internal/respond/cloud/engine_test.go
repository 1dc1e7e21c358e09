package cloud

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
)

// engineWith returns an engine over the built-in playbooks with the real
// cloud actions (talking to the AWS double) beside the record and notify
// actions.
func engineWith(t *testing.T, f *awsFake) *respond.Engine {
	t.Helper()
	mem := respondtest.NewMemory()
	acts, err := respond.RecordActions(respond.RecordActionOptions{Records: mem, Cases: mem})
	if err != nil {
		t.Fatal(err)
	}
	na, err := respond.NewNotifyAction(respond.NotifyOptions{Notifier: &respondtest.Notifier{}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := respond.NewRegistry(append(acts, na)...)
	if err != nil {
		t.Fatal(err)
	}
	reg, err = reg.With(Actions(Options{AWS: AWSForAll(f.aws()), Alibaba: AlibabaForAll(&Alibaba{})})...)
	if err != nil {
		t.Fatalf("registering the cloud actions: %v", err)
	}
	pbs, missing, err := respond.Builtin(reg)
	if err != nil {
		t.Fatalf("built-in playbooks against the real cloud actions: %v", err)
	}
	if len(missing) != 0 {
		t.Fatalf("built-in playbooks miss actions: %v", missing)
	}
	audit := respond.AuditFunc(func(context.Context, string, string, string, string, any) error { return nil })
	e, err := respond.New(respond.Options{Playbooks: pbs, Actions: reg, Runs: mem, Approvals: mem, Cases: mem, Audit: audit,
		Now: func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEngineCompromisedKey runs the built-in compromised-access-key
// playbook end to end: the approval previews this package's impact, the
// approved option deactivates the key through IAM, and the run's rollback
// reactivates it.
func TestEngineCompromisedKey(t *testing.T) {
	f := newAWSFake(t).
		on("ListAccessKeys", awsReply{Body: listKeysXML(false, "", [2]string{testAKIA, "Active"})}).
		on("UpdateAccessKey", awsReply{Body: iamXML("UpdateAccessKey", "")}, awsReply{Body: iamXML("UpdateAccessKey", "")})
	e := engineWith(t, f)
	rec := respond.Record{
		Tenant: testTenant, Kind: respond.KindIncident, ID: "42", Title: "Key used from a new country", Risk: 80, Severity: "high",
		Tactics: []string{"Credential Access", "TA0006"},
		Entities: []correlate.Entity{
			{Kind: "identity", Value: testAKIA},
			{Kind: "identity", Value: "arn:aws:iam::111122223333:user/alice"},
		},
		Party: "customer",
	}
	ev, err := e.Evaluate(bg, rec)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ev.Decisions, func(d respond.Decision) bool { return d.Playbook == "compromised-access-key" })
	if i < 0 || ev.Decisions[i].Approval == nil {
		t.Fatalf("no approval for compromised-access-key: %+v", ev.Decisions)
	}
	apr := ev.Decisions[i].Approval
	var im *respond.Impact
	for _, o := range apr.Options {
		for j := range o.Impacts {
			if o.Impacts[j].Action == NameAWSDeactivateKey {
				im = &o.Impacts[j]
			}
		}
	}
	if im == nil || im.Disruption != respond.DisruptionHigh || len(im.Targets) != 1 || im.Targets[0].UID != testAKIA || !strings.Contains(im.Summary, "alice") {
		t.Fatalf("deactivate impact = %+v", im)
	}
	if ops := f.ops(); len(ops) != 0 {
		t.Fatalf("the preview called AWS: %v", ops)
	}

	run, err := e.Approve(bg, testTenant, apr.ID, "deactivate-key", "analyst@example.com", "")
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if run.State != respond.RunCompleted {
		t.Fatalf("run %s: %+v", run.State, run.Steps)
	}
	if got := f.call(1).Params; got != "AccessKeyId="+testAKIA+"&Action=UpdateAccessKey&Status=Inactive&UserName=alice&Version=2010-05-08" {
		t.Errorf("deactivation request %s", got)
	}
	if _, err := e.Rollback(bg, testTenant, run.ID, "analyst@example.com"); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if got := f.call(2).Params; got != "AccessKeyId="+testAKIA+"&Action=UpdateAccessKey&Status=Active&UserName=alice&Version=2010-05-08" {
		t.Errorf("reactivation request %s", got)
	}
	if ops := f.ops(); len(ops) != 3 {
		t.Errorf("calls %v", ops)
	}
}

// TestEnginePublicExposure approves the "revoke-rule" option of the
// built-in contain-public-exposure playbook: its parameters are rendered
// from the record's labels and entities (ports arrive as text), the bucket
// is blocked and the rule revoked, and the rollback undoes both in reverse
// order.
func TestEnginePublicExposure(t *testing.T) {
	f := newAWSFake(t).
		on("GetPublicAccessBlock", awsReply{Status: 404, Body: s3ErrorXML("NoSuchPublicAccessBlockConfiguration", "none")}).
		on("PutPublicAccessBlock", awsReply{}).
		on("RevokeSecurityGroupIngress", ok("RevokeSecurityGroupIngress", revokeOK)).
		on("AuthorizeSecurityGroupIngress", ok("AuthorizeSecurityGroupIngress", "<return>true</return>")).
		on("DeletePublicAccessBlock", awsReply{Status: 204})
	e := engineWith(t, f)
	rec := respond.Record{
		Tenant: testTenant, Kind: respond.KindIncident, ID: "43", Title: "Public bucket and open SSH", Risk: 75, Severity: "high",
		Entities: []correlate.Entity{
			{Kind: "resource", Value: "arn:aws:s3:::exposed-logs"},
			{Kind: "resource", Value: "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0123456789abcdef0"},
			{Kind: "host", Value: "i-0aaaaaaaaaaaaaaa1"},
		},
		Labels: []string{"internet_exposed", "open_port=22", "open_cidr=0.0.0.0/0"},
		Party:  "customer",
	}
	ev, err := e.Evaluate(bg, rec)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ev.Decisions, func(d respond.Decision) bool { return d.Playbook == "contain-public-exposure" })
	if i < 0 || ev.Decisions[i].Approval == nil {
		t.Fatalf("no approval for contain-public-exposure: %+v", ev.Decisions)
	}
	apr := ev.Decisions[i].Approval
	for _, o := range apr.Options {
		if err := o.Error(); err != nil {
			t.Errorf("option %s does not fit the record: %v", o.ID, err)
		}
	}
	run, err := e.Approve(bg, testTenant, apr.ID, "revoke-rule", "analyst@example.com", "")
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if run.State != respond.RunCompleted {
		t.Fatalf("run %s: %+v", run.State, run.Steps)
	}
	if _, err := e.Rollback(bg, testTenant, run.ID, "analyst@example.com"); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	want := []string{"GetPublicAccessBlock", "PutPublicAccessBlock", "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress", "DeletePublicAccessBlock"}
	if got := f.ops(); !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if got := f.call(2).Params; got != "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15" {
		t.Errorf("revoke request %s", got)
	}
	if c := f.call(1); c.Path != "/exposed-logs" {
		t.Errorf("put on %s", c.Path)
	}
}
