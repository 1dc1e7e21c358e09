package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/cloud/cloudtest"
)

// respondScene is a data directory with notices going to a loopback
// webhook, and the cloud actions talking to the AWS and Alibaba Cloud
// wire doubles through endpoint overrides, with credentials from the
// providers' standard chains (the environment).
type respondScene struct {
	t    *testing.T
	dir  string
	aws  *cloudtest.AWS
	ali  *cloudtest.Alibaba
	hook *receiver
	args []string
	env  *env // the global settings of args, for calling the wiring directly
}

const respondData = "testdata/respond/"

func newRespondScene(t *testing.T, extraConfig string) *respondScene {
	t.Helper()
	s := &respondScene{t: t, dir: t.TempDir(), aws: cloudtest.NewAWS(t), ali: cloudtest.NewAlibaba(t), hook: &receiver{reply: "ok"}}
	hs := httptest.NewServer(s.hook)
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", cloudtest.AWSAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cloudtest.AWSSecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(s.dir, "no-aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(s.dir, "no-aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", cloudtest.AliKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", cloudtest.AliSecret)
	t.Setenv("ALIBABA_CLOUD_PROFILE", "")
	t.Setenv("CANOPY_TEST_HOOK_SECRET", "whsec-respond-0001")
	notifyCfg := filepath.Join(s.dir, "notify.yaml")
	writeFile(t, notifyCfg, `outbound:
  allow_hosts: ["127.0.0.1"]
  allow_loopback: true
  allow_insecure_http: true
delivery:
  max_attempts: 1
channels:
  oncall-hook:
    type: webhook
    url: `+hs.URL+`/canopy
    secret_env: CANOPY_TEST_HOOK_SECRET
parties:
  - id: acme
    kind: customer
    escalation:
      - id: acme-oncall
        channels: [oncall-hook]
`)
	respondCfg := filepath.Join(s.dir, "respond.yaml")
	writeFile(t, respondCfg, `cloud:
  aws:
    region: us-east-1
    endpoint: `+s.aws.URL()+`
    max_attempts: 1
  alibaba:
    region_id: cn-hangzhou
    ecs_endpoint: `+s.ali.URL()+`
    ram_endpoint: `+s.ali.URL()+`
`+extraConfig)
	s.args = []string{"--data", filepath.Join(s.dir, "data"), "--notify", notifyCfg, "--respond-config", respondCfg,
		"--assets", respondData + "assets.yaml", "--playbooks", respondData + "playbooks"}
	s.env = &env{stdout: io.Discard, stderr: io.Discard, data: filepath.Join(s.dir, "data")}
	s.env.route.notifyFile, s.env.route.minSeverity = notifyCfg, "high"
	s.env.respond.config, s.env.respond.playbooks = respondCfg, respondData+"playbooks"
	s.env.risk.assets, s.env.risk.window = respondData+"assets.yaml", 24*time.Hour
	return s
}

// run runs canopy with the scene's global flags.
func (s *respondScene) run(args ...string) result {
	s.t.Helper()
	return canopy(s.t, "", append(args, s.args...)...)
}

// ok runs canopy and fails the test unless it succeeds.
func (s *respondScene) ok(args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("canopy %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// json runs canopy with --output json and decodes its output into v.
func (s *respondScene) json(v any, args ...string) {
	s.t.Helper()
	r := s.ok(append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		s.t.Fatalf("canopy %s: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
}

// ingestExposure stores the high-risk scenario for tenant: the inventory
// (the exposed instance, its security group and the two other instances
// in it, an instance elsewhere, the bucket), a Prowler public-bucket
// finding, GuardDuty's probe and brute force against the instance, and
// CloudTrail reads of the bucket from the attacker's address. It returns
// ingest's output.
func (s *respondScene) ingestExposure(tenant string) string {
	s.t.Helper()
	s.ok("inventory", "import", "--tenant", tenant, respondData+"inventory.jsonl")
	return s.ok("ingest", "--tenant", tenant, respondData+"prowler-public-bucket.asff.json", respondData+"guardduty-instance.jsonl",
		respondData+"cloudtrail-bucket-read.json").stdout
}

// approvalOf returns the tenant's one approval from playbook.
func (s *respondScene) approvalOf(tenant, playbook string) respond.Approval {
	s.t.Helper()
	var as []respond.Approval
	s.json(&as, "approvals", "list", "--tenant", tenant)
	var out []respond.Approval
	for _, a := range as {
		if a.Playbook == playbook {
			out = append(out, a)
		}
	}
	if len(out) != 1 {
		s.t.Fatalf("approvals of %s for %s: %+v", playbook, tenant, as)
	}
	return out[0]
}

// audit verifies the tenant's audit chain and returns its entries as
// "actor action object", in order.
func (s *respondScene) audit(tenant string) []string {
	s.t.Helper()
	if r := s.ok("audit", "verify", "--tenant", tenant); !strings.HasPrefix(r.stdout, "ok: ") {
		s.t.Fatalf("audit verify: %+v", r)
	}
	r := s.ok("audit", "export", "--tenant", tenant)
	var out []string
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			Entry *struct{ Actor, Action, Object string }
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			s.t.Fatalf("bundle line %s: %v", sc.Text(), err)
		}
		if e := line.Entry; e != nil {
			out = append(out, e.Actor+" "+e.Action+" "+e.Object)
		}
	}
	return out
}

func containsAll(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("%s: no %q in\n%s", what, w, strings.Join(got, "\n"))
		}
	}
}

// TestRespondLowRiskAutomatic: a low-risk finding arriving in an ingest
// is tagged and its responsible party notified on its own, with no
// approval and no cloud call; respond later says it was handled; the run
// is in the audit chain.
func TestRespondLowRiskAutomatic(t *testing.T) {
	s := newRespondScene(t, "")
	const tenant = "lowrisk"
	// a first ingest correlates the tenant's records; the finding then
	// arrives in an incremental correlation, which routes every new finding
	s.ok("ingest", "--tenant", tenant, respondData+"cloudtrail-bucket-read.json")
	out := s.ok("ingest", "--tenant", tenant, respondData+"prowler-low.asff.json").stdout
	if !strings.Contains(out, "response: 1 records evaluated: 1 ran automatically, 0 approvals requested") {
		t.Fatalf("ingest output:\n%s", out)
	}
	var runs []respond.Run
	s.json(&runs, "actions", "list", "--tenant", tenant)
	if len(runs) != 1 {
		t.Fatalf("runs: %+v", runs)
	}
	run := runs[0]
	if run.Mode != respond.ModeAutomatic || run.State != respond.RunCompleted || run.Playbook != "triage-low-risk" || run.Record.String() != "finding:1" || run.Actor != "system" {
		t.Errorf("run %+v", run)
	}
	if len(run.Steps) != 2 || run.Steps[0].Result == nil || !strings.Contains(run.Steps[0].Result.Summary, "auto-triaged") ||
		run.Steps[1].State != respond.StepDone || !strings.Contains(run.Steps[1].Result.Summary, "notified acme") {
		t.Errorf("steps %+v", run.Steps)
	}
	var as []respond.Approval
	s.json(&as, "approvals", "list", "--tenant", tenant)
	if len(as) != 0 {
		t.Errorf("approvals: %+v", as)
	}
	if got := s.hook.got(); len(got) != 1 || !strings.Contains(got[0], "Low-risk finding") {
		t.Errorf("notices delivered: %v", got)
	}
	if ops := s.aws.Ops(); len(ops) != 0 {
		t.Errorf("AWS calls: %v", ops)
	}
	r := s.ok("respond", "--tenant", tenant, "--finding", "1")
	if !strings.Contains(r.stdout, "triage-low-risk: already handled by run "+run.ID) {
		t.Errorf("respond again:\n%s", r.stdout)
	}
	containsAll(t, "audit chain", s.audit(tenant),
		"system respond.decided finding:1", "system run.started run:"+run.ID, "system run.step_done run:"+run.ID,
		"system notice.sent finding:1", "system run.completed run:"+run.ID)
}

// TestRespondApprovalImpactApproveRollback: the intrusion touching a
// public bucket and an exposed instance yields an approval (no cloud
// call) with three options whose impact names the right instances;
// approving "revoke the rule" makes exactly the S3 and EC2 calls expected;
// the rollback reverses them; all of it is audited, and the chain
// verifies.
func TestRespondApprovalImpactApproveRollback(t *testing.T) {
	s := newRespondScene(t, "")
	const tenant = "acme"
	out := s.ingestExposure(tenant)
	if !strings.Contains(out, "1 approvals requested") {
		t.Fatalf("ingest output:\n%s", out)
	}
	if ops := s.aws.Ops(); len(ops) != 0 {
		t.Fatalf("the preview called AWS: %v", ops)
	}
	a := s.approvalOf(tenant, "contain-public-exposure")
	if a.State != respond.ApprovalPending || a.Record.Kind != respond.KindIncident || a.Case == "" || len(a.Options) < 2 {
		t.Fatalf("approval %+v", a)
	}
	const (
		arn = "arn:aws:ec2:us-east-1:111122223333:"
		i1  = arn + "instance/i-0aaaaaaaaaaaaaaa1"
		i2  = arn + "instance/i-0bbbbbbbbbbbbbbb2"
		i3  = arn + "instance/i-0ccccccccccccccc3"
		i4  = arn + "instance/i-0ddddddddddddddd4"
	)
	impact := func(option, action string) respond.Impact {
		t.Helper()
		for _, o := range a.Options {
			if o.ID != option {
				continue
			}
			if err := o.Error(); err != nil {
				t.Fatalf("option %s does not fit: %v", option, err)
			}
			for _, im := range o.Impacts {
				if im.Action == action {
					return im
				}
			}
		}
		t.Fatalf("no %s in option %s: %+v", action, option, a.Options)
		return respond.Impact{}
	}
	uids := func(as []respond.Asset) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.UID)
		}
		return out
	}
	revoke := impact("revoke-rule", "aws.ec2.revoke_security_group_rule")
	if got := uids(revoke.Affected); !slices.Equal(got, []string{i1, i2, i3}) {
		t.Errorf("revoking the rule affects %v, want the three instances of the group", got)
	}
	if got := uids(revoke.Targets); !slices.Equal(got, []string{arn + "security-group/sg-0123456789abcdef0"}) || revoke.Disruption != respond.DisruptionMedium ||
		!revoke.Reversible || !strings.Contains(revoke.Summary, "tcp 22-22 from 0.0.0.0/0") || revoke.Rollback == "" || revoke.Approver.Party != "customer" {
		t.Errorf("revoke impact %+v", revoke)
	}
	quarantine := impact("isolate-instance", "aws.ec2.quarantine_instance")
	if got := uids(quarantine.Targets); !slices.Equal(got, []string{i1}) || quarantine.Disruption != respond.DisruptionHigh || slices.Contains(uids(quarantine.Affected), i2) {
		t.Errorf("quarantine impact %+v", quarantine)
	}
	for _, o := range a.Options {
		if slices.Contains(uids(o.Summary.Affected), i4) {
			t.Errorf("option %s says db-1, in another group, is affected", o.ID)
		}
	}
	shown := s.ok("approvals", "show", "--tenant", tenant, a.ID).stdout
	for _, want := range []string{"Option 2: revoke-rule", "Affected assets:", i2, "bastion", "Disruption: medium", "Reversible: yes",
		"Approved by: customer", "rollback: re-add the inbound rule", "Services: ops, storefront, web"} {
		if !strings.Contains(shown, want) {
			t.Errorf("approvals show lacks %q:\n%s", want, shown)
		}
	}

	s.aws.On("GetPublicAccessBlock", cloudtest.AWSReply{Status: 404, Body: cloudtest.S3ErrorXML("NoSuchPublicAccessBlockConfiguration", "none")}).
		On("PutPublicAccessBlock", cloudtest.AWSReply{}).
		On("RevokeSecurityGroupIngress", cloudtest.EC2OK("RevokeSecurityGroupIngress", "<return>true</return>"))
	var run respond.Run
	s.json(&run, "approvals", "approve", "--tenant", tenant, a.ID, "--option", "2", "--by", "alice@example.com", "--note", "contain, keep the instance up")
	if run.State != respond.RunCompleted || run.Mode != respond.ModeApproved || run.Option != "revoke-rule" || run.Actor != "alice@example.com" {
		t.Fatalf("run %+v", run)
	}
	if got, want := s.aws.Ops(), []string{"GetPublicAccessBlock", "PutPublicAccessBlock", "RevokeSecurityGroupIngress"}; !slices.Equal(got, want) {
		t.Fatalf("AWS calls %v, want %v", got, want)
	}
	if c := s.aws.Call(1); c.Method != "PUT" || c.Path != "/exposed-logs" || !strings.Contains(c.Body, "<BlockPublicAcls>true</BlockPublicAcls>") || c.Service != "s3" || c.Region != "us-east-1" {
		t.Errorf("PutPublicAccessBlock %+v", c)
	}
	if got := s.aws.Call(2).Params; got != "Action=RevokeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15" {
		t.Errorf("revoke request %s", got)
	}
	var after respond.Approval
	s.json(&after, "approvals", "show", "--tenant", tenant, a.ID)
	if after.State != respond.ApprovalExecuted || after.DecidedBy != "alice@example.com" || after.Option != "revoke-rule" || after.Run != run.ID {
		t.Errorf("approval after the run: %+v", after)
	}
	if r := s.run("approvals", "approve", "--tenant", tenant, a.ID, "--option", "1", "--by", "bob"); r.code == 0 {
		t.Errorf("a decided approval was approved again: %+v", r)
	}

	s.aws.On("AuthorizeSecurityGroupIngress", cloudtest.EC2OK("AuthorizeSecurityGroupIngress", "<return>true</return>")).
		On("DeletePublicAccessBlock", cloudtest.AWSReply{Status: 204})
	var rolled respond.Run
	s.json(&rolled, "actions", "rollback", "--tenant", tenant, run.ID, "--by", "alice@example.com")
	if rolled.State != respond.RunRolledBack {
		t.Fatalf("rollback: %+v", rolled)
	}
	if got := s.aws.Ops()[3:]; !slices.Equal(got, []string{"AuthorizeSecurityGroupIngress", "DeletePublicAccessBlock"}) {
		t.Errorf("rollback calls %v", got)
	}
	if got := s.aws.Call(3).Params; got != "Action=AuthorizeSecurityGroupIngress&GroupId=sg-0123456789abcdef0&IpPermissions.1.FromPort=22&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.ToPort=22&Version=2016-11-15" {
		t.Errorf("re-authorize request %s", got)
	}
	var cs respond.Case
	s.json(&cs, "cases", "show", "--tenant", tenant, a.Case)
	if !slices.Contains(cs.Runs, run.ID) || !slices.Contains(cs.Approvals, a.ID) || cs.Records[0] != a.Record.Ref() {
		t.Errorf("case %+v", cs)
	}
	containsAll(t, "audit chain", s.audit(tenant),
		"system respond.decided incident:", "system case.opened case:"+a.Case, "system approval.requested approval:"+a.ID,
		"alice@example.com approval.approved approval:"+a.ID, "alice@example.com run.started run:"+run.ID,
		"alice@example.com run.step_done run:"+run.ID, "alice@example.com run.completed run:"+run.ID,
		"alice@example.com run.step_rolled_back run:"+run.ID, "alice@example.com run.rolled_back run:"+run.ID)
}

// TestRespondApprovalReject: rejecting changes nothing: no cloud call, no
// run for the playbook, and the approval cannot be approved afterwards.
func TestRespondApprovalReject(t *testing.T) {
	s := newRespondScene(t, "")
	const tenant = "acme"
	s.ingestExposure(tenant)
	a := s.approvalOf(tenant, "contain-public-exposure")
	r := s.ok("approvals", "reject", "--tenant", tenant, a.ID, "--by", "bob@example.com", "--reason", "maintenance window tonight")
	if !strings.Contains(r.stdout, "rejected by bob@example.com") {
		t.Errorf("reject: %+v", r)
	}
	var after respond.Approval
	s.json(&after, "approvals", "show", "--tenant", tenant, a.ID)
	if after.State != respond.ApprovalRejected || after.DecidedBy != "bob@example.com" || after.Note != "maintenance window tonight" || after.Run != "" {
		t.Errorf("approval %+v", after)
	}
	var runs []respond.Run
	s.json(&runs, "actions", "list", "--tenant", tenant)
	for _, run := range runs {
		if run.Playbook == "contain-public-exposure" {
			t.Errorf("a run after rejection: %+v", run)
		}
	}
	if r := s.run("approvals", "approve", "--tenant", tenant, a.ID, "--option", "2", "--by", "carol"); r.code == 0 || !strings.Contains(r.stderr, "rejected") {
		t.Errorf("approving a rejected approval: %+v", r)
	}
	if ops := s.aws.Ops(); len(ops) != 0 {
		t.Errorf("AWS calls: %v", ops)
	}
	var pending []respond.Approval
	s.json(&pending, "approvals", "list", "--tenant", tenant, "--state", "pending")
	if len(pending) != 0 {
		t.Errorf("pending after rejection: %+v", pending)
	}
	containsAll(t, "audit chain", s.audit(tenant), "bob@example.com approval.rejected approval:"+a.ID)
}

// TestRespondStepFailureResume: the EC2 call failing mid-way leaves the
// run failed with the bucket step done, the revoke step failed (not done)
// and the last step pending; the approval is failed; resume after the
// double recovers retries only the failed step and completes.
func TestRespondStepFailureResume(t *testing.T) {
	s := newRespondScene(t, "")
	const tenant = "acme"
	s.ingestExposure(tenant)
	a := s.approvalOf(tenant, "contain-public-exposure")
	s.aws.On("GetPublicAccessBlock", cloudtest.AWSReply{Status: 404, Body: cloudtest.S3ErrorXML("NoSuchPublicAccessBlockConfiguration", "none")}).
		On("PutPublicAccessBlock", cloudtest.AWSReply{}).
		On("RevokeSecurityGroupIngress", cloudtest.AWSReply{Status: 503, Body: cloudtest.EC2ErrorXML("Unavailable", "The service is unavailable. Please try again shortly.")})
	r := s.run("approvals", "approve", "--tenant", tenant, a.ID, "--option", "revoke-rule", "--by", "alice@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "step revoke (aws.ec2.revoke_security_group_rule)") || !strings.Contains(r.stderr, "Unavailable") ||
		!strings.Contains(r.stderr, "canopy actions resume") {
		t.Fatalf("approve with a failing step: %+v", r)
	}
	var runs []respond.Run
	s.json(&runs, "actions", "list", "--tenant", tenant, "--state", "failed")
	if len(runs) != 1 {
		t.Fatalf("failed runs: %+v", runs)
	}
	run := runs[0]
	states := []respond.StepState{}
	for _, st := range run.Steps {
		states = append(states, st.State)
	}
	if !slices.Equal(states, []respond.StepState{respond.StepDone, respond.StepFailed, respond.StepPending}) || run.Steps[1].Result != nil ||
		!strings.Contains(run.Steps[1].Error, "Unavailable") {
		t.Fatalf("steps after the failure: %+v", run.Steps)
	}
	shown := s.ok("actions", "show", "--tenant", tenant, run.ID).stdout
	if !strings.Contains(shown, "Step revoke failed; nothing after it ran") || !strings.Contains(shown, "block-bucket") {
		t.Errorf("actions show:\n%s", shown)
	}
	var failed respond.Approval
	s.json(&failed, "approvals", "show", "--tenant", tenant, a.ID)
	if failed.State != respond.ApprovalFailed {
		t.Errorf("approval after the failure: %s", failed.State)
	}

	s.aws.On("RevokeSecurityGroupIngress", cloudtest.EC2OK("RevokeSecurityGroupIngress", "<return>true</return>"))
	var resumed respond.Run
	s.json(&resumed, "actions", "resume", "--tenant", tenant, run.ID, "--by", "alice@example.com")
	if resumed.State != respond.RunCompleted || resumed.Steps[1].Attempts != 2 {
		t.Fatalf("resumed run %+v", resumed)
	}
	if got, want := s.aws.Ops(), []string{"GetPublicAccessBlock", "PutPublicAccessBlock", "RevokeSecurityGroupIngress", "RevokeSecurityGroupIngress"}; !slices.Equal(got, want) {
		t.Errorf("AWS calls %v, want %v", got, want)
	}
	s.json(&failed, "approvals", "show", "--tenant", tenant, a.ID)
	if failed.State != respond.ApprovalExecuted {
		t.Errorf("approval after resume: %s", failed.State)
	}
	containsAll(t, "audit chain", s.audit(tenant),
		"alice@example.com run.step_failed run:"+run.ID, "alice@example.com run.failed run:"+run.ID,
		"alice@example.com run.resumed run:"+run.ID, "alice@example.com run.completed run:"+run.ID)
}

// TestRespondAlibabaApproval: an extra playbook (--playbooks) answers a
// posture finding on an Alibaba Cloud security group; approving it
// revokes the rule through the ECS RPC API (signed ACS3-HMAC-SHA256 with
// the key from the environment), and the rollback re-adds it.
func TestRespondAlibabaApproval(t *testing.T) {
	s := newRespondScene(t, "")
	const tenant = "ali"
	s.ok("inventory", "import", "--tenant", tenant, respondData+"alicloud-inventory.jsonl")
	s.ok("scan", "--tenant", tenant, "--pack", "cis-alicloud-2.0")
	// the scan's high findings are routed by its correlation: each of the
	// four controls failing on the group gets its approval
	var as []respond.Approval
	s.json(&as, "approvals", "list", "--tenant", tenant, "--state", "pending")
	if len(as) != 4 {
		t.Fatalf("%d approvals after the scan, want 4", len(as))
	}
	a := as[0]
	if a.Playbook != "alicloud-close-ssh" || a.Record.Kind != respond.KindFinding || a.Case != "" {
		t.Fatalf("approval %+v", a)
	}
	perm := map[string]any{"SecurityGroupRuleId": "sgr-bp1sshopen00001", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22",
		"SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "1", "NicType": "intranet", "Description": ""}
	describe := func(perms ...map[string]any) cloudtest.AliReply {
		return cloudtest.AliOK(map[string]any{"SecurityGroupId": "sg-bp1canopytest0001", "RegionId": "cn-hangzhou", "VpcId": "vpc-bp1test",
			"Permissions": map[string]any{"Permission": perms}})
	}
	s.ali.On("DescribeSecurityGroupAttribute", describe(perm), describe()).On("RevokeSecurityGroup", cloudtest.AliOK(nil)).On("AuthorizeSecurityGroup", cloudtest.AliOK(nil))
	var run respond.Run
	s.json(&run, "approvals", "approve", "--tenant", tenant, a.ID, "--option", "1", "--by", "li.wei@example.com")
	if run.State != respond.RunCompleted {
		t.Fatalf("run %+v", run)
	}
	s.json(&run, "actions", "rollback", "--tenant", tenant, run.ID, "--by", "li.wei@example.com")
	if run.State != respond.RunRolledBack {
		t.Fatalf("rollback %+v", run)
	}
	if got, want := s.ali.Ops(), []string{"DescribeSecurityGroupAttribute", "RevokeSecurityGroup", "DescribeSecurityGroupAttribute", "AuthorizeSecurityGroup"}; !slices.Equal(got, want) {
		t.Fatalf("Alibaba Cloud calls %v, want %v", got, want)
	}
	for i, c := range s.ali.Calls() {
		if c.Product != "ecs" || c.KeyID != cloudtest.AliKeyID {
			t.Errorf("call %d: %+v", i, c)
		}
	}
	if got := s.ali.Call(1).Params; got != "RegionId=cn-hangzhou&SecurityGroupId=sg-bp1canopytest0001&SecurityGroupRuleId.1=sgr-bp1sshopen00001" {
		t.Errorf("revoke request %s", got)
	}
	if got := s.ali.Call(3).Params; !strings.Contains(got, "Permissions.1.PortRange=22/22") || !strings.Contains(got, "Permissions.1.SourceCidrIp=0.0.0.0/0") {
		t.Errorf("authorize request %s", got)
	}
	s.audit(tenant)
}

// TestPlaybookListAndDryRun: playbook list shows the built-in and extra
// playbooks; playbook test previews a file against a stored incident and
// changes nothing (no approval, no audit entry, no cloud call).
func TestPlaybookListAndDryRun(t *testing.T) {
	s := newRespondScene(t, "auto: false\n")
	const tenant = "acme"
	s.ingestExposure(tenant)
	list := s.ok("playbook", "list").stdout
	for _, want := range []string{"contain-public-exposure", "triage-low-risk", "compromised-access-key", "alicloud-close-ssh", "enabled"} {
		if !strings.Contains(list, want) {
			t.Errorf("playbook list lacks %q:\n%s", want, list)
		}
	}
	var incs []struct{ ID string }
	s.json(&incs, "incidents", "--tenant", tenant)
	if len(incs) != 1 {
		t.Fatalf("incidents %+v", incs)
	}
	before := s.audit(tenant)
	r := s.ok("playbook", "test", "--tenant", tenant, "../../internal/respond/playbooks/contain-public-exposure.yaml", "--incident", incs[0].ID)
	for _, want := range []string{"Dry run against incident:" + incs[0].ID, "contain-public-exposure", "matches: would ask for approval",
		"option 2 revoke-rule", "group_id=sg-0123456789abcdef0", "open_port=22", "affected: "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("playbook test lacks %q:\n%s", want, r.stdout)
		}
	}
	var dry respond.DryRun
	s.json(&dry, "playbook", "test", "--tenant", tenant, respondData+"playbooks/alicloud-close-ssh.yaml", "--incident", incs[0].ID)
	if len(dry.Results) != 1 || dry.Results[0].Matched {
		t.Errorf("alicloud playbook against the AWS incident: %+v", dry)
	}
	bad := filepath.Join(s.dir, "bad.yaml")
	writeFile(t, bad, "id: broken\ntitle: x\ntrigger: record.nope == 1\nsteps: [{action: record.tag, params: {tags: [a]}}]\n")
	if r := s.run("playbook", "test", "--tenant", tenant, bad, "--incident", incs[0].ID); r.code != 1 || !strings.Contains(r.stderr, "bad.yaml:3") {
		t.Errorf("a broken playbook: %+v", r)
	}
	var as []respond.Approval
	s.json(&as, "approvals", "list", "--tenant", tenant)
	if len(as) != 0 || len(s.aws.Ops()) != 0 {
		t.Errorf("the dry run changed something: approvals %+v, AWS %v", as, s.aws.Ops())
	}
	// the only entry since is the export of the first look at the chain
	if after := s.audit(tenant); len(after) != len(before)+1 || !strings.Contains(after[len(before)], "audit.exported") {
		t.Errorf("the dry run wrote audit entries: %v", after[len(before):])
	}
}

// TestCaseSLAAndKPIs runs a scripted timeline with --now (automation off,
// so that everything happens at the scripted times): at T0 the incident
// gets an approval and a case (severity high: respond within 1h, resolve
// within 24h) and the low-risk finding runs automatically; the case is
// acknowledged after 30 minutes, the monitor option approved, the resolve
// deadline passes at T0+25h (check-sla records it once), and the case is
// resolved at T0+26h. The response KPIs say MTTA 30m, MTTR 26h, respond
// SLA met, resolve SLA breached, automation 50%.
func TestCaseSLAAndKPIs(t *testing.T) {
	s := newRespondScene(t, "auto: false\n")
	const tenant = "acme"
	s.ingestExposure(tenant)
	t0 := time.Date(2090, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	var out []struct {
		Record    respond.Ref
		Decisions []respond.Decision
		Case      *respond.Case
	}
	s.json(&out, "respond", "--tenant", tenant, "--finding", "1", "--now", at(0))
	if len(out) != 1 || out[0].Decisions[0].Outcome != respond.OutcomeAutomatic {
		t.Fatalf("finding 1: %+v", out)
	}
	s.json(&out, "respond", "--tenant", tenant, "--now", at(0))
	if len(out) != 1 || out[0].Case == nil || out[0].Decisions[0].Approval == nil {
		t.Fatalf("open incidents: %+v", out)
	}
	caseID, apr := out[0].Case.ID, out[0].Decisions[0].Approval.ID
	if !out[0].Case.RespondBy.Equal(t0.Add(time.Hour)) || !out[0].Case.ResolveBy.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("deadlines %s %s", out[0].Case.RespondBy, out[0].Case.ResolveBy)
	}
	s.ok("cases", "transition", "--tenant", tenant, caseID, "in_progress", "--by", "alice", "--now", at(30*time.Minute))
	s.ok("cases", "assign", "--tenant", tenant, caseID, "alice", "--now", at(31*time.Minute))
	s.ok("cases", "comment", "--tenant", tenant, caseID, "watching the bucket", "--by", "alice", "--now", at(32*time.Minute))
	s.ok("approvals", "approve", "--tenant", tenant, apr, "--option", "monitor", "--by", "alice", "--now", at(40*time.Minute))
	if r := s.ok("cases", "check-sla", "--tenant", tenant, "--now", at(2*time.Hour)); !strings.Contains(r.stdout, "0 new SLA breaches") {
		t.Errorf("check-sla at T0+2h: %s", r.stdout)
	}
	r := s.ok("cases", "check-sla", "--tenant", tenant, "--now", at(25*time.Hour))
	if !strings.Contains(r.stdout, "case "+caseID+": resolve SLA breached (due "+at(24*time.Hour)+")") || !strings.Contains(r.stdout, "1 new SLA breaches") {
		t.Errorf("check-sla at T0+25h: %s", r.stdout)
	}
	if r := s.ok("cases", "check-sla", "--tenant", tenant, "--now", at(25*time.Hour+time.Minute)); !strings.Contains(r.stdout, "0 new SLA breaches") {
		t.Errorf("a breach recorded twice: %s", r.stdout)
	}
	if r := s.run("cases", "transition", "--tenant", tenant, caseID, "closed", "--now", at(26*time.Hour)); r.code == 0 {
		t.Errorf("in_progress → closed allowed: %+v", r)
	}
	s.ok("cases", "transition", "--tenant", tenant, caseID, "resolved", "--note", "rule revoked by the owner", "--now", at(26*time.Hour))
	list := s.ok("cases", "list", "--tenant", tenant, "--now", at(26*time.Hour)).stdout
	if !strings.Contains(list, caseID) || !strings.Contains(list, "resolved") || !strings.Contains(list, "resolve breached") {
		t.Errorf("cases list:\n%s", list)
	}
	var k respond.KPIReport
	s.json(&k, "kpi", "--tenant", tenant, "--response")
	if k.Cases != 1 || k.MTTA.Mean != 30*time.Minute || k.MTTR.Mean != 26*time.Hour || k.RespondSLA.Met != 1 || k.RespondSLA.Breached != 0 ||
		k.ResolveSLA.Breached != 1 || k.Automation.Automatic != 1 || k.Automation.Approved != 1 || k.Automation.Rate != 0.5 {
		t.Errorf("KPIs %+v", k)
	}
	table := strings.Join(strings.Fields(s.ok("kpi", "--tenant", tenant, "--response").stdout), " ")
	for _, want := range []string{"MTTA (open → acknowledged) mean 30m0s", "MTTR (open → resolved) mean 26h0m0s", "Respond SLA attainment 100% 1 met 0 breached",
		"Resolve SLA attainment 0% 0 met 1 breached", "Automation rate 50% 1 automatic 1 approved"} {
		if !strings.Contains(table, want) {
			t.Errorf("kpi --response lacks %q:\n%s", want, table)
		}
	}
	containsAll(t, "audit chain", s.audit(tenant), "system case.sla_breached case:"+caseID, "alice case.status_changed case:"+caseID)
}

// TestRespondConfig: the config decodes strictly and names what is wrong;
// secrets come from the environment or files.
func TestRespondConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "jira.token"), "tok-file\n")
	writeFile(t, filepath.Join(dir, "sla.yaml"), "default:\n  critical: {respond: 5m, resolve: 1h}\n  high: {respond: 1h, resolve: 1d}\n  medium: {respond: 4h, resolve: 3d}\n  low: {respond: 1d, resolve: 7d}\n  informational: {respond: 3d, resolve: 30d}\n")
	env := map[string]string{"JIRA_TOKEN": "tok-env"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, c respondConfig)
		wantErr    string
	}{
		{"empty: defaults", "", func(t *testing.T, c respondConfig) {
			if !c.Auto || c.Threshold != 0 || c.SLA != nil || c.AWS != nil {
				t.Errorf("%+v", c)
			}
		}, ""},
		{"everything", "auto: false\nthreshold: 60\nstale_after: 5m\nsla_file: sla.yaml\noutbound: {allow_hosts: [jira.example.com]}\n" +
			"tickets:\n  jira: {base_url: 'https://jira.example.com', user: bot@example.com, token_file: jira.token}\n" +
			"cloud:\n  aws: {region: eu-west-1}\n  alibaba: {region_id: cn-shanghai}\n", func(t *testing.T, c respondConfig) {
			if c.Auto || c.Threshold != 60 || c.StaleAfter != 5*time.Minute || c.SLA == nil || c.SLA.Default["critical"].Respond != 5*time.Minute ||
				c.Jira == nil || c.Jira.Token != "tok-file" || c.Jira.User != "bot@example.com" || c.AWS.Region != "eu-west-1" || c.Alibaba.RegionID != "cn-shanghai" {
				t.Errorf("%+v", c)
			}
			if _, err := ticketClient(c, nil); err != nil {
				t.Errorf("ticket client: %v", err)
			}
		}, ""},
		{"inline sla and token from the environment", "sla:\n  default:\n    critical: {respond: 10m, resolve: 2h}\n    high: {respond: 1h, resolve: 1d}\n    medium: {respond: 4h, resolve: 3d}\n    low: {respond: 1d, resolve: 7d}\n    informational: {respond: 3d, resolve: 30d}\n" +
			"tickets:\n  jira: {base_url: 'https://jira.example.com', token_env: JIRA_TOKEN}\n", func(t *testing.T, c respondConfig) {
			if c.SLA.Default["critical"].Respond != 10*time.Minute || c.Jira.Token != "tok-env" {
				t.Errorf("%+v", c)
			}
			if _, err := ticketClient(c, nil); err == nil || !strings.Contains(err.Error(), "allow-list") {
				t.Errorf("tickets without an allow-list: %v", err)
			}
		}, ""},
		{"ticket host not allowed", "outbound: {allow_hosts: [jira.example.com]}\ntickets:\n  webhook: {url: 'https://itsm.example.com/hook'}\n", func(t *testing.T, c respondConfig) {
			if _, err := ticketClient(c, nil); err == nil || !strings.Contains(err.Error(), "itsm.example.com") || !strings.Contains(err.Error(), "allow-list") {
				t.Errorf("a ticket host off the allow-list: %v", err)
			}
		}, ""},
		{"unknown key", "autoo: true\n", nil, "unknown field"},
		{"bad threshold", "threshold: 0\n", nil, "threshold: 0"},
		{"missing token", "tickets:\n  jira: {base_url: 'https://jira.example.com'}\n", nil, "tickets.jira.token"},
		{"unset variable", "tickets:\n  webhook: {url: 'https://itsm.example.com/hook', token_env: NOPE}\n", nil, "$NOPE is not set"},
		{"bad sla", "sla: {default: {critical: {respond: 1h}}}\n", nil, "sla:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "respond.yaml")
			writeFile(t, p, tt.yaml)
			c, err := loadRespondConfig(p, lookup, os.ReadFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestRespondRoundServe: the round serve runs every 30 seconds records
// the SLA breaches of every tenant's cases once and resumes a run left
// running by a process that stopped, but not a fresh one.
func TestRespondRoundServe(t *testing.T) {
	s := newRespondScene(t, "auto: false\n")
	const tenant = "acme"
	s.ingestExposure(tenant)
	t0 := time.Date(2090, 3, 2, 9, 0, 0, 0, time.UTC)
	var out []struct{ Case *respond.Case }
	s.json(&out, "respond", "--tenant", tenant, "--now", t0.Format(time.RFC3339))
	if len(out) != 1 || out[0].Case == nil {
		t.Fatalf("respond: %+v", out)
	}
	ctx := context.Background()
	st, err := s.env.openStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	docs := respond.NewDocStore(st)
	ref := respond.Ref{Kind: respond.KindIncident, ID: out[0].Case.Records[0].ID}
	for id, updated := range map[string]time.Time{"run-stale": t0, "run-fresh": t0.Add(25*time.Hour - time.Minute)} {
		if err := docs.CreateRun(ctx, respond.Run{ID: id, Tenant: tenant, Record: ref, Playbook: "by-hand", Mode: respond.ModeApproved, Actor: "alice",
			State: respond.RunRunning, Created: updated, Updated: updated,
			Steps: []respond.StepRun{{ID: "tag", Action: respond.NameTag, State: respond.StepRunning, Params: respond.Params{"tags": []any{"x"}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.env.responder(st, func() time.Time { return t0.Add(25 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	respondRound(ctx, r, log)
	respondRound(ctx, r, log)
	c, err := r.eng.Case(ctx, tenant, out[0].Case.ID)
	if err != nil || !slices.Equal(c.Breached, []string{"respond", "resolve"}) {
		t.Errorf("case breaches %v (%v)", c.Breached, err)
	}
	if run, _ := r.eng.Run(ctx, tenant, "run-stale"); run.State != respond.RunCompleted {
		t.Errorf("stale run %s", run.State)
	}
	if run, _ := r.eng.Run(ctx, tenant, "run-fresh"); run.State != respond.RunRunning {
		t.Errorf("fresh run %s", run.State)
	}
	var breaches int
	for _, e := range s.audit(tenant) {
		if strings.HasPrefix(e, "system case.sla_breached") {
			breaches++
		}
	}
	if breaches != 2 {
		t.Errorf("%d breaches audited, want 2", breaches)
	}
}

// TestRespondTicketWebhook: a playbook step opens a ticket through the
// generic webhook, sent by the allow-listed outbound client with the
// bearer token from the environment and the run's idempotency key.
func TestRespondTicketWebhook(t *testing.T) {
	itsm := &receiver{reply: `{"id":"INC-1042","url":"https://itsm.example.com/INC-1042"}`, check: func(r *http.Request, body []byte) error {
		if r.Header.Get("Authorization") != "Bearer itsm-token-7" || r.Header.Get("Idempotency-Key") == "" {
			return fmt.Errorf("headers %v", r.Header)
		}
		return nil
	}}
	srv := httptest.NewServer(itsm)
	defer srv.Close()
	t.Setenv("CANOPY_TEST_ITSM_TOKEN", "itsm-token-7")
	s := newRespondScene(t, "outbound:\n  allow_hosts: [\"127.0.0.1\"]\n  allow_loopback: true\n  allow_insecure_http: true\n"+
		"tickets:\n  webhook:\n    url: "+srv.URL+"/tickets\n    token_env: CANOPY_TEST_ITSM_TOKEN\n")
	pbs := filepath.Join(s.dir, "playbooks")
	if err := os.Mkdir(pbs, 0o755); err != nil {
		t.Fatal(err)
	}
	// replaces the built-in triage playbook
	writeFile(t, filepath.Join(pbs, "triage.yaml"), `id: triage-low-risk
title: Ticket low-risk findings
trigger: record.kind == "finding" && record.risk < 40 && record.severity == "low"
steps:
  - action: ticket.webhook
    params:
      title: "{{ .record.title }}"
      description: "Risk {{ .record.risk }}, reported by {{ .record.source }}."
      fields: {queue: cloud-hygiene}
`)
	s.args = append(s.args, "--playbooks", pbs) // the last --playbooks wins
	const tenant = "tickets"
	s.ok("ingest", "--tenant", tenant, respondData+"cloudtrail-bucket-read.json")
	if out := s.ok("ingest", "--tenant", tenant, respondData+"prowler-low.asff.json").stdout; !strings.Contains(out, "1 ran automatically") {
		t.Fatalf("ingest:\n%s", out)
	}
	got := itsm.got()
	if len(got) != 1 || len(itsm.errs) != 0 {
		t.Fatalf("tickets %v, errors %v", got, itsm.errs)
	}
	var ticket struct {
		Key, Tenant, Record, Title, Severity, Description string
		Fields                                            map[string]string
	}
	if err := json.Unmarshal([]byte(got[0]), &ticket); err != nil {
		t.Fatal(err)
	}
	if ticket.Tenant != tenant || ticket.Record != "finding:1" || ticket.Severity != "low" || ticket.Fields["queue"] != "cloud-hygiene" ||
		!strings.HasPrefix(ticket.Description, "Risk 8, reported by Prowler") {
		t.Errorf("ticket %+v", ticket)
	}
	var runs []respond.Run
	s.json(&runs, "actions", "list", "--tenant", tenant)
	if len(runs) != 1 || runs[0].Steps[0].Result == nil || !strings.Contains(runs[0].Steps[0].Result.Summary, "INC-1042") {
		t.Errorf("runs %+v", runs)
	}
	if len(s.hook.got()) != 0 {
		t.Errorf("the replaced built-in notified: %v", s.hook.got())
	}
}
