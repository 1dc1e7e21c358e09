package respond_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/respond"
)

func TestCaseTransitions(t *testing.T) {
	all := []respond.CaseStatus{respond.CaseNew, respond.CaseInProgress, respond.CaseOnHold, respond.CaseResolved, respond.CaseClosed}
	allowed := map[respond.CaseStatus][]respond.CaseStatus{
		respond.CaseNew:        {respond.CaseInProgress, respond.CaseOnHold, respond.CaseResolved},
		respond.CaseInProgress: {respond.CaseOnHold, respond.CaseResolved},
		respond.CaseOnHold:     {respond.CaseInProgress, respond.CaseResolved},
		respond.CaseResolved:   {respond.CaseClosed, respond.CaseInProgress},
		respond.CaseClosed:     nil,
	}
	for _, from := range all {
		for _, to := range all {
			want := false
			for _, a := range allowed[from] {
				want = want || a == to
			}
			if got := from.CanTransition(to); got != want {
				t.Errorf("%s → %s: %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestCaseLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c, err := e.eng.OpenCase(ctx, exposureIncident(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := e.eng.OpenCase(ctx, exposureIncident(), "bob"); again.ID != c.ID {
		t.Errorf("a second case for the same record: %s", again.ID)
	}
	if _, err := e.eng.Transition(ctx, tenant, c.ID, respond.CaseClosed, "alice", ""); !errors.Is(err, respond.ErrState) {
		t.Errorf("new → closed: %v", err)
	}
	steps := []struct {
		to respond.CaseStatus
	}{{respond.CaseInProgress}, {respond.CaseOnHold}, {respond.CaseInProgress}, {respond.CaseResolved}, {respond.CaseClosed}}
	for _, s := range steps {
		e.clock.Advance(time.Hour)
		if c, err = e.eng.Transition(ctx, tenant, c.ID, s.to, "alice", "moving on"); err != nil {
			t.Fatalf("→ %s: %v", s.to, err)
		}
	}
	if c.Held != time.Hour || !c.Acknowledged.Equal(t0.Add(time.Hour)) || !c.Resolved.Equal(t0.Add(4*time.Hour)) || c.Status != respond.CaseClosed {
		t.Errorf("case = %+v", c)
	}
	if _, err := e.eng.Transition(ctx, tenant, c.ID, respond.CaseInProgress, "alice", ""); !errors.Is(err, respond.ErrState) {
		t.Errorf("closed → in_progress: %v", err)
	}
	if _, err := e.eng.Assign(ctx, tenant, c.ID, "bob", "alice"); !errors.Is(err, respond.ErrState) {
		t.Errorf("assign a closed case: %v", err)
	}
	if _, err := e.eng.Transition(ctx, "other-tenant", c.ID, respond.CaseResolved, "mallory", ""); !errors.Is(err, respond.ErrNotFound) {
		t.Errorf("another tenant's case: %v", err)
	}
	// a new case for the record once the old one is closed
	if next, _ := e.eng.OpenCase(ctx, exposureIncident(), "bob"); next.ID == c.ID {
		t.Errorf("closed case reused")
	}
}

// TestSLAAndKPIs plays a scripted timeline and checks breach detection and
// the KPIs computed from the audit chain.
func TestSLAAndKPIs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	at := func(d time.Duration) { // set the clock to t0+d
		t.Helper()
		now := e.clock.Now()
		if want := t0.Add(d); want.Before(now) {
			t.Fatalf("timeline goes back: %s", d)
		} else {
			e.clock.Advance(want.Sub(now))
		}
	}
	must := func(_ respond.Case, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// 09:00 the critical exposure incident: approval and case A (15m / 4h)
	a := approval(t, e)
	caseA := a.Case
	// a low-risk finding runs on its own
	if _, err := e.eng.Evaluate(ctx, lowRiskFinding()); err != nil {
		t.Fatal(err)
	}
	// case B, high (1h / 24h), opened by hand
	recB := exposureIncident()
	recB.ID, recB.Severity, recB.Title = "inc-43", "high", "Suspicious role assumption"
	cB, err := e.eng.OpenCase(ctx, recB, "alice")
	if err != nil {
		t.Fatal(err)
	}
	caseB := cB.ID

	at(10 * time.Minute)
	must(e.eng.Transition(ctx, tenant, caseA, respond.CaseInProgress, "alice", ""))
	if _, err := e.eng.Approve(ctx, tenant, a.ID, "revoke-rule", "alice", ""); err != nil {
		t.Fatal(err)
	}
	at(time.Hour)
	must(e.eng.Transition(ctx, tenant, caseA, respond.CaseOnHold, "alice", "waiting for the app team"))
	at(2 * time.Hour)
	breaches, err := e.eng.CheckSLA(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(breaches) != 1 || breaches[0].Case != caseB || breaches[0].SLA != "respond" || !breaches[0].Due.Equal(t0.Add(time.Hour)) {
		t.Errorf("breaches at 11:00 = %+v", breaches)
	}
	if again, _ := e.eng.CheckSLA(ctx, tenant); len(again) != 0 {
		t.Errorf("breach recorded twice: %+v", again)
	}
	at(2*time.Hour + 30*time.Minute)
	must(e.eng.Transition(ctx, tenant, caseB, respond.CaseInProgress, "bob", ""))
	at(3 * time.Hour)
	must(e.eng.Transition(ctx, tenant, caseA, respond.CaseInProgress, "alice", "back"))
	must(e.eng.Handoff(ctx, tenant, caseB, "vendor", "example-mssp", "bob", "needs the MSSP's EDR"))
	at(3*time.Hour + 45*time.Minute)
	must(e.eng.Accept(ctx, tenant, caseB, "vendor:example-mssp"))
	must(e.eng.Comment(ctx, tenant, caseB, "vendor:example-mssp", "looking at it"))
	at(5 * time.Hour)
	// case A is past its 4h deadline on the wall clock, not after its 2h on hold
	if st := mustCase(t, e, caseA).SLA(e.clock.Now()); st.ResolveBreached || !st.ResolveBy.Equal(t0.Add(6*time.Hour)) {
		t.Errorf("case A SLA at 14:00 = %+v", st)
	}
	must(e.eng.Transition(ctx, tenant, caseA, respond.CaseResolved, "alice", "rule revoked"))
	at(25 * time.Hour)
	breaches, err = e.eng.CheckSLA(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(breaches) != 1 || breaches[0].Case != caseB || breaches[0].SLA != "resolve" {
		t.Errorf("breaches at +25h = %+v", breaches)
	}
	at(30 * time.Hour)
	must(e.eng.Transition(ctx, tenant, caseB, respond.CaseResolved, "vendor:example-mssp", ""))

	got, err := respond.KPIs(e.audit.Seq(tenant))
	if err != nil {
		t.Fatal(err)
	}
	want := respond.KPIReport{
		Cases:      2,
		MTTA:       respond.Durations{Count: 2, Mean: 80 * time.Minute, Median: 10 * time.Minute, P90: 150 * time.Minute},
		MTTR:       respond.Durations{Count: 2, Mean: 17*time.Hour + 30*time.Minute, Median: 5 * time.Hour, P90: 30 * time.Hour},
		RespondSLA: respond.Attainment{Met: 1, Breached: 1, Rate: 0.5},
		ResolveSLA: respond.Attainment{Met: 1, Breached: 1, Rate: 0.5},
		Automation: respond.Automation{Automatic: 1, Approved: 1, Rate: 0.5},
		Handoffs: []respond.Handoff{{From: "customer", To: "vendor:example-mssp",
			Latency: respond.Durations{Count: 1, Mean: 45 * time.Minute, Median: 45 * time.Minute, P90: 45 * time.Minute}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KPIs:\n got %+v\nwant %+v", got, want)
	}
}

func mustCase(t *testing.T, e *env, id string) respond.Case {
	t.Helper()
	c, err := e.eng.Case(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKPIsBadDetails(t *testing.T) {
	e := newEnv(t)
	if err := e.audit.Record(context.Background(), tenant, "x", respond.ActionRunStarted, "run:1", map[string]any{"mode": "manual"}); err != nil {
		t.Fatal(err)
	}
	_, err := respond.KPIs(e.audit.Seq(tenant))
	if err == nil || !strings.Contains(err.Error(), `entry 1 (run.started): details: mode: "manual"`) {
		t.Errorf("err = %v", err)
	}
}

func TestLoadSLAPolicy(t *testing.T) {
	good := `default:
  critical: {respond: 10m, resolve: 2h}
  high: {respond: 1h, resolve: 1d}
  medium: {respond: 4h, resolve: 3d}
  low: {respond: 1d, resolve: 7d}
  informational: {respond: 3d, resolve: 30d}
parties:
  vendor:example-mssp:
    critical: {respond: 5m, resolve: 1h}
`
	p, err := respond.LoadSLAPolicy(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		party, name, sev string
		want             respond.SLA
	}{
		{"customer", "", "critical", respond.SLA{10 * time.Minute, 2 * time.Hour}},
		{"vendor", "example-mssp", "critical", respond.SLA{5 * time.Minute, time.Hour}},
		{"vendor", "example-mssp", "high", respond.SLA{time.Hour, 24 * time.Hour}},
		{"customer", "", "bogus", respond.SLA{4 * time.Hour, 72 * time.Hour}},
	} {
		if got := p.For(c.party, c.name, c.sev); got != c.want {
			t.Errorf("For(%s, %s, %s) = %v, want %v", c.party, c.name, c.sev, got, c.want)
		}
	}
	for _, c := range []struct{ name, in, want string }{
		{"unknown key", "defaults: {}", `unknown field "defaults"`},
		{"missing severity", "default:\n  critical: {respond: 1m, resolve: 1h}\n", "default.high: missing"},
		{"bad duration", strings.Replace(good, "respond: 10m", "respond: soon", 1), `default.critical.respond: "soon"`},
		{"resolve before respond", strings.Replace(good, "resolve: 2h", "resolve: 5m", 1), "resolve 5m is shorter than respond 10m"},
		{"unknown severity", good + "    urgent: {respond: 1m, resolve: 1h}\n", "parties.vendor:example-mssp.urgent: unknown severity"},
	} {
		_, err := respond.LoadSLAPolicy(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
