package respond_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
	"github.com/canopy-sec/canopy/internal/risk"
)

const tenant = "acme"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is an engine over in-memory stores with the built-in playbooks,
// the built-in record and notify actions and fake cloud actions.
type env struct {
	eng      *respond.Engine
	mem      *respondtest.Memory
	notifier *respondtest.Notifier
	calls    *respondtest.Calls
	clock    *respondtest.Clock
	audit    *respondtest.Audit
	reg      *respond.Registry
	ids      int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{mem: respondtest.NewMemory(), notifier: &respondtest.Notifier{}, calls: &respondtest.Calls{},
		clock: respondtest.NewClock(t0)}
	e.audit = respondtest.NewAudit(e.clock.Now)
	e.reg = registry(t, e.mem, e.notifier, e.calls)
	pbs, _, err := respond.Builtin(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	e.eng, err = respond.New(respond.Options{Playbooks: pbs, Actions: e.reg, Runs: e.mem, Approvals: e.mem, Cases: e.mem,
		Audit: e.audit, World: world(), Now: e.clock.Now,
		NewID: func() string { e.ids++; return fmt.Sprintf("%d", e.ids) }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// world: security group sg-0a1b2c3d4e holds three instances; the exposed
// one, i-0aaaaaaaaaaaaaaa1, is also in sg-0f0f0f0f0f. The bucket is a
// crown jewel.
func world() *respondtest.World {
	inst := func(id, name, service string, sgs ...string) inventory.Resource {
		r := inventory.Resource{Provider: "aws", Account: "111122223333", Region: "eu-west-1", Type: "AWS::EC2::Instance",
			UID: id, Name: name, Tags: map[string]string{"service": service}}
		for _, sg := range sgs {
			r.Relationships = append(r.Relationships, inventory.Relationship{Type: "member_of", Target: sg, TargetType: "AWS::EC2::SecurityGroup"})
		}
		return r
	}
	return &respondtest.World{
		Resources: map[string][]inventory.Resource{tenant: {
			{Provider: "aws", Type: "AWS::EC2::SecurityGroup", UID: "sg-0a1b2c3d4e", Name: "web"},
			{Provider: "aws", Type: "AWS::S3::Bucket", UID: "payments-exports", Name: "payments-exports", Tags: map[string]string{"service": "payments"}},
			inst("i-0aaaaaaaaaaaaaaa1", "web-1", "storefront", "sg-0a1b2c3d4e", "sg-0f0f0f0f0f"),
			inst("i-0bbbbbbbbbbbbbbb2", "web-2", "storefront", "sg-0a1b2c3d4e"),
			inst("i-0ccccccccccccccc3", "batch-1", "reporting", "sg-0a1b2c3d4e"),
			inst("i-0ddddddddddddddd4", "db-1", "payments", "sg-0f0f0f0f0f"),
		}},
		Seen: map[string]map[string][]correlate.Entity{tenant: {
			"AKIAIOSFODNN7EXAMPLE": {{Kind: correlate.KindHost, Value: "i-0ccccccccccccccc3"}, {Kind: correlate.KindIP, Value: "203.0.113.7"}},
		}},
		AssetRules: []risk.AssetRule{{Name: "payments", Tier: risk.TierCrownJewel, UID: []string{"payments-*"}}},
	}
}

func lowRiskFinding() respond.Record {
	return respond.Record{Tenant: tenant, Kind: respond.KindFinding, ID: "f-17", Title: "S3 bucket without access logging",
		Risk: 22, Severity: "low", Party: "customer", Source: "Prowler", Class: "compliance_finding",
		Entities: []correlate.Entity{{Kind: correlate.KindResource, Value: "arn:aws:s3:::logs-archive"}}}
}

func exposureIncident() respond.Record {
	return respond.Record{Tenant: tenant, Kind: respond.KindIncident, ID: "inc-42",
		Title: "Public bucket and SSH open to the internet on web-1", Risk: 86, Severity: "critical",
		Party: "customer", Class: "incident_finding", Source: "Prowler, GuardDuty",
		Tactics: []string{"Initial Access", "TA0001", "Exfiltration", "TA0010"},
		Labels:  []string{"internet_exposed", "public_bucket", "open_port=22", "open_cidr=0.0.0.0/0"},
		Entities: []correlate.Entity{
			{Kind: correlate.KindResource, Value: "arn:aws:s3:::payments-exports"},
			{Kind: correlate.KindHost, Value: "i-0aaaaaaaaaaaaaaa1"},
			{Kind: correlate.KindResource, Value: "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e"},
			{Kind: correlate.KindIP, Value: "198.51.100.23"},
		}}
}

func uids(as []respond.Asset) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.UID)
	}
	return out
}

func ops(cs []respondtest.Call) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Op+" "+c.Action+" "+c.Target)
	}
	return out
}

func TestLowRiskRunsAutomatically(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := lowRiskFinding()
	ev, err := e.eng.Evaluate(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Decisions) != 1 {
		t.Fatalf("decisions = %+v", ev.Decisions)
	}
	d := ev.Decisions[0]
	if d.Playbook != "triage-low-risk" || d.Outcome != respond.OutcomeAutomatic || d.Approval != nil || d.Run == nil {
		t.Fatalf("decision = %+v", d)
	}
	if d.Run.State != respond.RunCompleted || d.Run.Mode != respond.ModeAutomatic {
		t.Errorf("run = %s (%s)", d.Run.State, d.Run.Mode)
	}
	if got := e.mem.Record(tenant, rec.Ref()).Tags; !slices.Equal(got, []string{"auto-triaged", "risk-22"}) {
		t.Errorf("tags = %v", got)
	}
	if len(e.notifier.Requests) != 1 {
		t.Fatalf("notices = %d", len(e.notifier.Requests))
	}
	n := e.notifier.Requests[0]
	if n.Party != "customer" || n.Tenant != tenant || n.Subject.ID != "finding:f-17" || n.Severity != "low" ||
		n.Title != "Low-risk finding: S3 bucket without access logging" || !strings.Contains(n.Body, "reported by Prowler") {
		t.Errorf("notice = %+v", n)
	}
	as, _ := e.mem.ListApprovals(ctx, respond.ApprovalFilter{Tenant: tenant})
	cs, _ := e.mem.ListCases(ctx, respond.CaseFilter{Tenant: tenant})
	if len(as) != 0 || len(cs) != 0 || ev.Case != nil {
		t.Errorf("approvals %d, cases %d", len(as), len(cs))
	}
	if len(e.calls.All()) != 0 {
		t.Errorf("cloud calls: %v", ops(e.calls.All()))
	}
	want := []string{respond.ActionDecided, respond.ActionRunStarted, respond.ActionStepDone, respond.ActionStepDone, respond.ActionRunCompleted}
	if got := e.audit.Actions(tenant); !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}

	// evaluated again, the playbook does not run twice
	ev, err = e.eng.Evaluate(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Decisions[0].Outcome != respond.OutcomeSkipped || len(e.notifier.Requests) != 1 {
		t.Errorf("second evaluation: %+v", ev.Decisions[0])
	}
}

// approval requests the approval for the exposure incident.
func approval(t *testing.T, e *env) respond.Approval {
	t.Helper()
	ev, err := e.eng.Evaluate(context.Background(), exposureIncident())
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Decisions) != 1 || ev.Decisions[0].Outcome != respond.OutcomeApproval {
		t.Fatalf("decisions = %+v", ev.Decisions)
	}
	return *ev.Decisions[0].Approval
}

func option(t *testing.T, a respond.Approval, id string) respond.OptionPreview {
	t.Helper()
	for _, o := range a.Options {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("no option %s", id)
	return respond.OptionPreview{}
}

func TestHighRiskAsksForApproval(t *testing.T) {
	e := newEnv(t)
	a := approval(t, e)
	if a.State != respond.ApprovalPending || a.Reason != "risk 86 is at or above the threshold 40" || a.Case == "" {
		t.Errorf("approval = %s, %q, case %q", a.State, a.Reason, a.Case)
	}
	if len(a.Options) < 2 {
		t.Fatalf("%d options", len(a.Options))
	}
	if len(e.calls.All()) != 0 || len(e.notifier.Requests) != 0 {
		t.Fatalf("something ran: %v, %d notices", ops(e.calls.All()), len(e.notifier.Requests))
	}

	// revoking the rule affects every instance in the security group
	revoke := option(t, a, "revoke-rule")
	if err := revoke.Error(); err != nil {
		t.Fatal(err)
	}
	imp := revoke.Impacts[1]
	if imp.Action != "aws.ec2.revoke_security_group_rule" || !slices.Equal(uids(imp.Targets), []string{"sg-0a1b2c3d4e"}) {
		t.Errorf("revoke impact = %+v", imp)
	}
	if got, want := uids(imp.Affected), []string{"i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2", "i-0ccccccccccccccc3"}; !slices.Equal(got, want) {
		t.Errorf("revoke affects %v, want %v", got, want)
	}
	if imp.Affected[0].Why != "member of sg-0a1b2c3d4e" || imp.Affected[2].Service != "reporting" {
		t.Errorf("affected[0] = %+v", imp.Affected[0])
	}
	p := revoke.Steps[1].Params
	if p["group_id"] != "sg-0a1b2c3d4e" || p["protocol"] != "tcp" || p["from_port"] != "22" || p["cidr"] != "0.0.0.0/0" {
		t.Errorf("revoke params = %v", p)
	}
	s := revoke.Summary
	if s.Disruption != respond.DisruptionMedium || !s.Reversible || len(s.Approvers) != 1 || s.Approvers[0].Party != "customer" {
		t.Errorf("revoke summary = %+v", s)
	}
	if !slices.Equal(s.Services, []string{"payments", "storefront", "reporting"}) && !slices.Equal(s.Services, []string{"payments", "reporting", "storefront"}) {
		t.Errorf("services = %v", s.Services)
	}
	var bucket respond.Asset
	for _, x := range s.Affected {
		if x.UID == "payments-exports" {
			bucket = x
		}
	}
	if bucket.Tier != risk.TierCrownJewel {
		t.Errorf("bucket asset = %+v", bucket)
	}

	// isolating affects the instance only; it is the most disruptive
	iso := option(t, a, "isolate-instance")
	if got := iso.Impacts[1]; !slices.Equal(uids(got.Targets), []string{"i-0aaaaaaaaaaaaaaa1"}) || len(got.Affected) != 0 {
		t.Errorf("isolate impact = %+v", got)
	}
	if iso.Summary.Disruption != respond.DisruptionHigh {
		t.Errorf("isolate disruption = %s", iso.Summary.Disruption)
	}
	mon := option(t, a, "monitor")
	if mon.Summary.Disruption != respond.DisruptionNone || mon.Summary.Reversible {
		t.Errorf("monitor summary = %+v", mon.Summary)
	}

	c, err := e.eng.Case(context.Background(), tenant, a.Case)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != respond.CaseNew || c.Severity != "critical" || !slices.Contains(c.Approvals, a.ID) ||
		!c.RespondBy.Equal(t0.Add(15*time.Minute)) || !c.ResolveBy.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("case = %+v", c)
	}
}

func TestApproveRunsExactlyTheOption(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := approval(t, e)
	run, err := e.eng.Approve(ctx, tenant, a.ID, "revoke-rule", "alice", "contain now")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"do aws.s3.block_public_access payments-exports", "do aws.ec2.revoke_security_group_rule sg-0a1b2c3d4e"}
	if got := ops(e.calls.All()); !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if run.State != respond.RunCompleted || run.Mode != respond.ModeApproved || run.Actor != "alice" || run.Option != "revoke-rule" {
		t.Errorf("run = %+v", run)
	}
	if st := e.mem.Record(tenant, exposureIncident().Ref()).Status; st != "in_progress" {
		t.Errorf("status = %q", st)
	}
	got, _ := e.eng.Approval(ctx, tenant, a.ID)
	if got.State != respond.ApprovalExecuted || got.DecidedBy != "alice" || got.Option != "revoke-rule" || got.Run != run.ID {
		t.Errorf("approval = %+v", got)
	}
	c, _ := e.eng.Case(ctx, tenant, a.Case)
	if !slices.Contains(c.Runs, run.ID) {
		t.Errorf("case runs = %v", c.Runs)
	}
	// a second approval of the same request changes nothing
	if _, err := e.eng.Approve(ctx, tenant, a.ID, "isolate-instance", "bob", ""); !errors.Is(err, respond.ErrState) {
		t.Errorf("second approve: %v", err)
	}
	if len(e.calls.All()) != 2 {
		t.Errorf("calls after second approve: %v", ops(e.calls.All()))
	}
	if _, err := e.eng.Approve(ctx, tenant, "apr-nope", "monitor", "bob", ""); !errors.Is(err, respond.ErrNotFound) {
		t.Errorf("unknown approval: %v", err)
	}
}

func TestApproveUnknownOption(t *testing.T) {
	e := newEnv(t)
	a := approval(t, e)
	_, err := e.eng.Approve(context.Background(), tenant, a.ID, "nuke", "alice", "")
	if !errors.Is(err, respond.ErrUnknownOption) {
		t.Fatalf("err = %v", err)
	}
	got, _ := e.eng.Approval(context.Background(), tenant, a.ID)
	if got.State != respond.ApprovalPending {
		t.Errorf("state = %s", got.State)
	}
}

func TestRollbackReverses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := approval(t, e)
	run, err := e.eng.Approve(ctx, tenant, a.ID, "revoke-rule", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	e.calls.Reset()
	run, err = e.eng.Rollback(ctx, tenant, run.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rollback aws.ec2.revoke_security_group_rule sg-0a1b2c3d4e", "rollback aws.s3.block_public_access payments-exports"}
	if got := ops(e.calls.All()); !slices.Equal(got, want) {
		t.Errorf("rollback calls = %v, want %v", got, want)
	}
	if run.State != respond.RunRolledBack {
		t.Errorf("state = %s", run.State)
	}
	for _, s := range run.Steps {
		if s.State != respond.StepRolledBack {
			t.Errorf("step %s: %s", s.ID, s.State)
		}
	}
	if st := e.mem.Record(tenant, exposureIncident().Ref()).Status; st != "" {
		t.Errorf("status after rollback = %q", st)
	}
	if _, err := e.eng.Rollback(ctx, tenant, run.ID, "bob"); !errors.Is(err, respond.ErrState) {
		t.Errorf("second rollback: %v", err)
	}
	acts := e.audit.Actions(tenant)
	if n := strings.Count(strings.Join(acts, " "), respond.ActionStepRolledBack); n != 3 || acts[len(acts)-1] != respond.ActionRunRolledBack {
		t.Errorf("audit = %v", acts)
	}
}

func TestRollbackSkipsIrreversible(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := approval(t, e)
	run, err := e.eng.Approve(ctx, tenant, a.ID, "monitor", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	run, err = e.eng.Rollback(ctx, tenant, run.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	states := []respond.StepState{run.Steps[0].State, run.Steps[1].State}
	if !slices.Equal(states, []respond.StepState{respond.StepRolledBack, respond.StepIrreversible}) {
		t.Errorf("states = %v", states)
	}
	if tags := e.mem.Record(tenant, exposureIncident().Ref()).Tags; len(tags) != 0 {
		t.Errorf("tags = %v", tags)
	}
}

func TestRejectChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := approval(t, e)
	before := e.mem.Record(tenant, exposureIncident().Ref())
	got, err := e.eng.Reject(ctx, tenant, a.ID, "carol", "false positive: the bucket is a public website")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != respond.ApprovalRejected || got.DecidedBy != "carol" || got.Run != "" {
		t.Errorf("approval = %+v", got)
	}
	if len(e.calls.All()) != 0 || len(e.notifier.Requests) != 0 {
		t.Errorf("calls %v, notices %d", ops(e.calls.All()), len(e.notifier.Requests))
	}
	if after := e.mem.Record(tenant, exposureIncident().Ref()); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("record changed: %+v", after)
	}
	runs, _ := e.mem.ListRuns(ctx, respond.RunFilter{Tenant: tenant})
	if len(runs) != 0 {
		t.Errorf("runs = %d", len(runs))
	}
	if _, err := e.eng.Approve(ctx, tenant, a.ID, "monitor", "dave", ""); !errors.Is(err, respond.ErrState) {
		t.Errorf("approve after reject: %v", err)
	}
	// the playbook does not ask again for the same record
	ev, err := e.eng.Evaluate(ctx, exposureIncident())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Decisions[0].Outcome != respond.OutcomeSkipped {
		t.Errorf("re-evaluation: %+v", ev.Decisions[0])
	}
}

func TestFailedStepIsResumable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fails := 1
	for _, name := range e.reg.Names() {
		if a, _ := e.reg.Lookup(name); name == "aws.ec2.revoke_security_group_rule" {
			a.(*respondtest.Fake).Fail = func(respond.Call) error {
				if fails > 0 {
					fails--
					return errors.New("RequestLimitExceeded")
				}
				return nil
			}
		}
	}
	a := approval(t, e)
	run, err := e.eng.Approve(ctx, tenant, a.ID, "revoke-rule", "alice", "")
	var se *respond.StepError
	if !errors.As(err, &se) || se.Step != "revoke" || se.Run != run.ID {
		t.Fatalf("err = %v", err)
	}
	if run.State != respond.RunFailed {
		t.Errorf("state = %s", run.State)
	}
	done := run.Completed()
	failed, ok := run.Failed()
	pending := run.Pending()
	if len(done) != 1 || done[0].ID != "block-bucket" || !ok || failed.ID != "revoke" || failed.Error != "RequestLimitExceeded" ||
		failed.Result != nil || len(pending) != 1 || pending[0].ID != "in-progress" {
		t.Errorf("done %v, failed %+v, pending %v", done, failed, pending)
	}
	if st := e.mem.Record(tenant, exposureIncident().Ref()).Status; st != "" {
		t.Errorf("pending step ran: status %q", st)
	}
	if got, _ := e.eng.Approval(ctx, tenant, a.ID); got.State != respond.ApprovalFailed {
		t.Errorf("approval = %s", got.State)
	}
	stored, _ := e.eng.Run(ctx, tenant, run.ID)
	if stored.Steps[1].State != respond.StepFailed {
		t.Errorf("stored step = %s", stored.Steps[1].State)
	}

	run, err = e.eng.Resume(ctx, tenant, run.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != respond.RunCompleted {
		t.Errorf("after resume: %s", run.State)
	}
	calls := e.calls.All()
	want := []string{"do aws.s3.block_public_access payments-exports", "do aws.ec2.revoke_security_group_rule sg-0a1b2c3d4e",
		"do aws.ec2.revoke_security_group_rule sg-0a1b2c3d4e"}
	if got := ops(calls); !slices.Equal(got, want) {
		t.Errorf("calls = %v", got)
	}
	if calls[1].Key != calls[2].Key || calls[1].Key != run.ID+"/revoke" {
		t.Errorf("keys %q, %q", calls[1].Key, calls[2].Key)
	}
	if run.Steps[1].Attempts != 2 {
		t.Errorf("attempts = %d", run.Steps[1].Attempts)
	}
	if st := e.mem.Record(tenant, exposureIncident().Ref()).Status; st != "in_progress" {
		t.Errorf("status = %q", st)
	}
	if got, _ := e.eng.Approval(ctx, tenant, a.ID); got.State != respond.ApprovalExecuted {
		t.Errorf("approval = %s", got.State)
	}
	if _, err := e.eng.Resume(ctx, tenant, run.ID, "alice"); !errors.Is(err, respond.ErrState) {
		t.Errorf("resume of a completed run: %v", err)
	}
}

func TestPartialStepIsRolledBack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, _ := e.reg.Lookup("aws.ec2.revoke_security_group_rule")
	a.(*respondtest.Fake).Fail = func(c respond.Call) error {
		return &respond.PartialError{Result: respond.Result{Summary: "revoked 1 of 2 rules", Undo: map[string]any{"target": "sg-0a1b2c3d4e"}},
			Err: errors.New("throttled")}
	}
	apr := approval(t, e)
	run, err := e.eng.Approve(ctx, tenant, apr.ID, "revoke-rule", "alice", "")
	if err == nil || run.State != respond.RunFailed {
		t.Fatalf("run %s, err %v", run.State, err)
	}
	if f, _ := run.Failed(); f.Result == nil || f.Result.Summary != "revoked 1 of 2 rules" {
		t.Errorf("failed step = %+v", f)
	}
	e.calls.Reset()
	run, err = e.eng.Rollback(ctx, tenant, run.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rollback aws.ec2.revoke_security_group_rule sg-0a1b2c3d4e", "rollback aws.s3.block_public_access payments-exports"}
	if got := ops(e.calls.All()); !slices.Equal(got, want) {
		t.Errorf("calls = %v", got)
	}
	if run.Steps[2].State != respond.StepPending {
		t.Errorf("pending step: %s", run.Steps[2].State)
	}
}

func TestRollbackFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, _ := e.reg.Lookup("aws.s3.block_public_access")
	failing := true
	a.(*respondtest.Fake).FailRollback = func(respond.Result) error {
		if failing {
			return errors.New("AccessDenied")
		}
		return nil
	}
	apr := approval(t, e)
	run, err := e.eng.Approve(ctx, tenant, apr.ID, "revoke-rule", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	run, err = e.eng.Rollback(ctx, tenant, run.ID, "alice")
	var se *respond.StepError
	if !errors.As(err, &se) || se.Step != "block-bucket" || run.State != respond.RunRollbackFailed {
		t.Fatalf("rollback: %v (%s)", err, run.State)
	}
	failing = false
	e.calls.Reset()
	run, err = e.eng.Rollback(ctx, tenant, run.ID, "alice")
	if err != nil || run.State != respond.RunRolledBack {
		t.Fatalf("retry: %v (%s)", err, run.State)
	}
	if got := ops(e.calls.All()); !slices.Equal(got, []string{"rollback aws.s3.block_public_access payments-exports"}) {
		t.Errorf("retry calls = %v", got)
	}
}

func TestStoppedRunResumesWhenStale(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := lowRiskFinding()
	run := respond.Run{ID: "run-x", Tenant: tenant, Record: rec.Ref(), Playbook: "triage-low-risk", Mode: respond.ModeAutomatic,
		Actor: "system", State: respond.RunRunning, Created: t0, Updated: t0,
		Steps: []respond.StepRun{{ID: "tag", Action: "record.tag", Params: respond.Params{"tags": []any{"x"}}, State: respond.StepRunning, Attempts: 1}}}
	if err := e.mem.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resume(ctx, tenant, "run-x", "ops"); !errors.Is(err, respond.ErrState) {
		t.Errorf("resume of a fresh running run: %v", err)
	}
	e.clock.Advance(11 * time.Minute)
	got, err := e.eng.Resume(ctx, tenant, "run-x", "ops")
	if err != nil || got.State != respond.RunCompleted || got.Steps[0].Attempts != 2 {
		t.Fatalf("resume: %v, %+v", err, got)
	}
}

func TestUnfitOptionCannotBeApproved(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := exposureIncident()
	rec.Entities = rec.Entities[:2] // no security group
	ev, err := e.eng.Evaluate(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	a := ev.Decisions[0].Approval
	o := option(t, *a, "revoke-rule")
	if err := o.Error(); err == nil || !strings.Contains(err.Error(), "group_id: required") {
		t.Errorf("option error = %v", err)
	}
	if _, err := e.eng.Approve(ctx, tenant, a.ID, "revoke-rule", "alice", ""); !errors.Is(err, respond.ErrState) {
		t.Errorf("approve: %v", err)
	}
	if _, err := e.eng.Approve(ctx, tenant, a.ID, "isolate-instance", "alice", ""); err != nil {
		t.Errorf("approve isolate: %v", err)
	}
}

func TestDryRun(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	data, err := os.ReadFile("playbooks/contain-public-exposure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dr, err := e.eng.Test(ctx, "contain-public-exposure.yaml", data, exposureIncident())
	if err != nil {
		t.Fatal(err)
	}
	r := dr.Results[0]
	if !r.Matched || r.Outcome != respond.OutcomeApproval || len(r.Options) != 3 {
		t.Fatalf("dry run = %+v", r)
	}
	dr, err = e.eng.Test(ctx, "contain-public-exposure.yaml", data, lowRiskFinding())
	if err != nil || dr.Results[0].Matched {
		t.Errorf("low-risk finding: %v %+v", err, dr)
	}
	pv, err := e.eng.Preview(ctx, lowRiskFinding())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range pv.Results {
		if r.Playbook == "triage-low-risk" && (r.Outcome != respond.OutcomeAutomatic || len(r.Steps.Impacts) != 2) {
			t.Errorf("preview = %+v", r)
		}
	}
	if len(e.calls.All()) != 0 || len(e.notifier.Requests) != 0 || len(e.audit.Entries(tenant)) != 0 {
		t.Errorf("a dry run did something")
	}
	runs, _ := e.mem.ListRuns(ctx, respond.RunFilter{})
	if len(runs) != 0 {
		t.Errorf("runs = %d", len(runs))
	}
	if _, err := e.eng.Test(ctx, "bad.yaml", []byte("id: x\n"), lowRiskFinding()); !errors.Is(err, respond.ErrInvalidPlaybook) {
		t.Errorf("bad file: %v", err)
	}
}

// TestDisruptiveStepsNeedApproval: a low-risk record whose playbook would
// disrupt more than max_auto_disruption asks for approval.
func TestDisruptiveStepsNeedApproval(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pb := `id: quarantine-low
title: Quarantine
trigger: record.kind == "finding"
steps:
  - action: aws.ec2.quarantine_instance
    params: {instance_id: '{{ values "host" .record.entities | first }}'}
`
	pbs, err := respond.ParsePlaybooks("q.yaml", []byte(pb), e.reg)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := respond.New(respond.Options{Playbooks: pbs, Actions: e.reg, Runs: e.mem, Approvals: e.mem, Cases: e.mem, Audit: e.audit, World: world(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	rec := lowRiskFinding()
	rec.Entities = []correlate.Entity{{Kind: correlate.KindHost, Value: "i-0bbbbbbbbbbbbbbb2"}}
	ev, err := eng.Evaluate(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	d := ev.Decisions[0]
	if d.Outcome != respond.OutcomeApproval || !strings.Contains(d.Reason, "disruption (high) is above low") {
		t.Errorf("decision = %+v", d)
	}
	if ev.Case != nil {
		t.Errorf("a finding opened a case")
	}
}

func TestAuditFailureStopsBeforeActing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.audit.Fail = map[string]error{respond.ActionApprovalApproved: errors.New("disk full")}
	a := approval(t, e)
	if _, err := e.eng.Approve(ctx, tenant, a.ID, "monitor", "alice", ""); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if len(e.notifier.Requests) != 0 || len(e.calls.All()) != 0 {
		t.Errorf("acted without an audit record")
	}
	if got, _ := e.eng.Approval(ctx, tenant, a.ID); got.State != respond.ApprovalPending || got.DecidedBy != "" {
		t.Errorf("approval after a failed audit = %s by %q", got.State, got.DecidedBy)
	}
	e.audit.Fail = nil
	if _, err := e.eng.Approve(ctx, tenant, a.ID, "monitor", "alice", ""); err != nil {
		t.Errorf("approve again: %v", err)
	}
}

func TestRecordChecked(t *testing.T) {
	e := newEnv(t)
	for _, rec := range []respond.Record{{Kind: respond.KindFinding, ID: "1"}, {Tenant: "t", Kind: "alert", ID: "1"}, {Tenant: "t", Kind: respond.KindIssue}} {
		if _, err := e.eng.Evaluate(context.Background(), rec); err == nil {
			t.Errorf("%+v: no error", rec)
		}
	}
}

func TestAccessKeyImpact(t *testing.T) {
	e := newEnv(t)
	rec := respond.Record{Tenant: tenant, Kind: respond.KindIncident, ID: "inc-7", Title: "Key used from a new country", Risk: 55,
		Severity: "high", Party: "customer", Tactics: []string{"Credential Access", "TA0006"},
		Entities: []correlate.Entity{{Kind: correlate.KindIdentity, Value: "AKIAIOSFODNN7EXAMPLE"},
			{Kind: correlate.KindIdentity, Value: "arn:aws:iam::111122223333:user/deploy-bot"}}}
	ev, err := e.eng.Evaluate(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	a := ev.Decisions[0].Approval
	if a == nil || a.Playbook != "compromised-access-key" || a.Reason != "the playbook always asks for approval" {
		t.Fatalf("decision = %+v", ev.Decisions[0])
	}
	imp := option(t, *a, "deactivate-key").Impacts[0]
	if got := uids(imp.Affected); !slices.Equal(got, []string{"203.0.113.7", "i-0ccccccccccccccc3"}) {
		t.Errorf("affected = %v", got)
	}
	if imp.Affected[1].Type != "AWS::EC2::Instance" || imp.Affected[1].Why != "seen using AKIAIOSFODNN7EXAMPLE" {
		t.Errorf("affected[1] = %+v", imp.Affected[1])
	}
	if p := option(t, *a, "deactivate-key").Steps[0].Params; p["user_name"] != "deploy-bot" {
		t.Errorf("params = %v", p)
	}
}

// TestConcurrentApprovals: two approvers at once; one option runs.
func TestConcurrentApprovals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := approval(t, e)
	errs := make(chan error, 2)
	for _, o := range []string{"revoke-rule", "isolate-instance"} {
		go func() {
			_, err := e.eng.Approve(ctx, tenant, a.ID, o, "approver-"+o, "")
			errs <- err
		}()
	}
	var ok, refused int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, respond.ErrState):
			refused++
		default:
			t.Errorf("err = %v", err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Errorf("ok %d, refused %d", ok, refused)
	}
	got, _ := e.eng.Approval(ctx, tenant, a.ID)
	if n := len(e.calls.All()); n != 2 || got.State != respond.ApprovalExecuted {
		t.Errorf("%d cloud calls, approval %s", n, got.State)
	}
}

// TestResumeStale resumes a run left running by a stopped process once it
// has been idle for StaleAfter, and leaves a fresh one alone.
func TestResumeStale(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ref := respond.Ref{Kind: respond.KindFinding, ID: "f-9"}
	mk := func(id string, updated time.Time) {
		t.Helper()
		if err := e.mem.CreateRun(ctx, respond.Run{ID: id, Tenant: tenant, Record: ref, Playbook: "triage-low-risk", Mode: respond.ModeAutomatic,
			Actor: "system", State: respond.RunRunning, Created: updated, Updated: updated,
			Steps: []respond.StepRun{{ID: "tag", Action: respond.NameTag, State: respond.StepRunning, Params: respond.Params{"tags": []any{"x"}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	mk("run-old", t0)
	e.clock.Advance(10 * time.Minute)
	mk("run-new", e.clock.Now())
	runs, err := e.eng.ResumeStale(ctx, tenant, "system")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != "run-old" || runs[0].State != respond.RunCompleted {
		t.Fatalf("resumed %+v", runs)
	}
	if r, _ := e.eng.Run(ctx, tenant, "run-new"); r.State != respond.RunRunning {
		t.Errorf("the fresh run is %s", r.State)
	}
	if _, err := e.eng.Runs(ctx, respond.RunFilter{}); err == nil {
		t.Error("Runs without a tenant: no error")
	}
}
