package api_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
	"github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// respondFixture is a server whose response engine keeps its state in the
// fixture's store, audits through the router, and has fake cloud actions.
type respondFixture struct {
	*fixture
	eng   *respond.Engine
	calls *respondtest.Calls
}

func newRespondFixture(t *testing.T) *respondFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "canopy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := pipeline.New(pipeline.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := route.New(route.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	docs := respond.NewDocStore(st)
	calls := &respondtest.Calls{}
	acts, err := respond.RecordActions(respond.RecordActionOptions{Records: docs, Cases: docs})
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
	if reg, err = reg.With(respondtest.CloudFakes(calls)...); err != nil {
		t.Fatal(err)
	}
	pbs, _, err := respond.Builtin(reg)
	if err != nil {
		t.Fatal(err)
	}
	world, err := respond.NewStoreWorld(respond.StoreWorldOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := respond.New(respond.Options{Playbooks: pbs, Actions: reg, Runs: docs, Approvals: docs, Cases: docs, Audit: rt, World: world})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Store: st, Pipeline: p, Router: rt, Respond: eng, Version: "test",
		RespondRecord: func(ctx context.Context, tenant string, ref respond.Ref) (respond.Record, error) {
			return respond.LoadRecord(ctx, st, tenant, ref)
		},
		Correlate: func(ctx context.Context, tenant string) (pipeline.CorrelateResult, error) {
			return pipeline.Correlate(ctx, st, tenant, pipeline.CorrelateOptions{})
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &respondFixture{fixture: &fixture{srv: srv, st: st, api: a}, eng: eng, calls: calls}
}

// exposure is an incident of tenant matching the built-in
// contain-public-exposure playbook.
func exposure(tenant, id string) respond.Record {
	return respond.Record{Tenant: tenant, Kind: respond.KindIncident, ID: id, Title: "Public bucket and open SSH", Risk: 80, Severity: "high",
		Party: "customer", Labels: []string{"internet_exposed", "open_port=22", "open_cidr=0.0.0.0/0"},
		Entities: []correlate.Entity{{Kind: "resource", Value: "arn:aws:s3:::exposed-logs"}, {Kind: "host", Value: "i-0aaaaaaaaaaaaaaa1"},
			{Kind: "resource", Value: "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0"}}}
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// TestRespondAPI: approvals, runs, cases and playbooks through the API:
// each tenant sees and decides only its own; an analyst approves and is
// recorded as the approver; a viewer cannot; decided approvals conflict;
// runs roll back; cases open from stored records and move by the allowed
// transitions.
func TestRespondAPI(t *testing.T) {
	ctx := context.Background()
	f := newRespondFixture(t)
	for _, tenant := range []string{"a", "b"} {
		if _, err := f.eng.Evaluate(ctx, exposure(tenant, "inc-"+tenant)); err != nil {
			t.Fatal(err)
		}
	}
	viewerA, analystA, analystB := f.token(t, "a", store.RoleViewer), f.token(t, "a", store.RoleAnalyst), f.token(t, "b", store.RoleAnalyst)
	type list[T any] struct{ Items []T }

	code, b := f.do(t, "GET", "/api/v1/approvals?state=pending", viewerA, nil)
	as := decode[list[respond.Approval]](t, b).Items
	if code != 200 || len(as) != 1 || as[0].Tenant != "a" || len(as[0].Options) != 3 {
		t.Fatalf("approvals of a: %d %s", code, b)
	}
	aprA := as[0]
	_, b = f.do(t, "GET", "/api/v1/approvals", analystB, nil)
	aprB := decode[list[respond.Approval]](t, b).Items[0]
	tests := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"another tenant's approval", "GET", "/api/v1/approvals/" + aprB.ID, viewerA, "", 404},
		{"a viewer cannot approve", "POST", "/api/v1/approvals/" + aprA.ID + "/approve", viewerA, `{"option": 1}`, 403},
		{"another tenant cannot approve", "POST", "/api/v1/approvals/" + aprA.ID + "/approve", analystB, `{"option": 1}`, 404},
		{"option out of range", "POST", "/api/v1/approvals/" + aprA.ID + "/approve", analystA, `{"option": 4}`, 400},
		{"unknown option id", "POST", "/api/v1/approvals/" + aprA.ID + "/approve", analystA, `{"option": "nope"}`, 400},
		{"no option", "POST", "/api/v1/approvals/" + aprA.ID + "/approve", analystA, `{}`, 400},
		{"unknown field", "POST", "/api/v1/approvals/" + aprA.ID + "/approve", analystA, `{"option": 1, "by": "mallory"}`, 400},
		{"reject without a reason", "POST", "/api/v1/approvals/" + aprA.ID + "/reject", analystA, `{}`, 400},
		{"bad record filter", "GET", "/api/v1/runs?record=nope", viewerA, "", 400},
	}
	for _, tt := range tests {
		var body *strings.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		var code int
		if body != nil {
			code, b = f.do(t, tt.method, tt.path, tt.token, body)
		} else {
			code, b = f.do(t, tt.method, tt.path, tt.token, nil)
		}
		if code != tt.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, code, b, tt.want)
		}
	}

	code, b = f.do(t, "GET", "/api/v1/approvals/"+aprA.ID, viewerA, nil)
	if shown := decode[respond.Approval](t, b); code != 200 || shown.ID != aprA.ID || shown.Options[1].Summary.Disruption != respond.DisruptionMedium {
		t.Errorf("approval: %d %s", code, b)
	}
	code, b = f.do(t, "POST", "/api/v1/approvals/"+aprA.ID+"/approve", analystA, strings.NewReader(`{"option": "revoke-rule", "note": "keep web-1 up"}`))
	run := decode[respond.Run](t, b)
	if code != 200 || run.State != respond.RunCompleted || run.Actor != "t-a-analyst" || run.Option != "revoke-rule" {
		t.Fatalf("approve: %d %s", code, b)
	}
	var did []string
	for _, c := range f.calls.All() {
		did = append(did, c.Op+" "+c.Action)
	}
	if !slices.Equal(did, []string{"do aws.s3.block_public_access", "do aws.ec2.revoke_security_group_rule"}) {
		t.Errorf("actions called: %v", did)
	}
	_, b = f.do(t, "GET", "/api/v1/approvals/"+aprA.ID, viewerA, nil)
	if got := decode[respond.Approval](t, b); got.State != respond.ApprovalExecuted || got.DecidedBy != "t-a-analyst" || got.Note != "keep web-1 up" {
		t.Errorf("approval after approving: %+v", got)
	}
	if code, b := f.do(t, "POST", "/api/v1/approvals/"+aprA.ID+"/approve", analystA, strings.NewReader(`{"option": 1}`)); code != 409 {
		t.Errorf("approving twice: %d %s", code, b)
	}
	code, b = f.do(t, "POST", "/api/v1/approvals/"+aprB.ID+"/reject", analystB, strings.NewReader(`{"reason": "false positive"}`))
	if got := decode[respond.Approval](t, b); code != 200 || got.State != respond.ApprovalRejected || got.DecidedBy != "t-b-analyst" {
		t.Errorf("reject: %d %s", code, b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/approvals/"+aprB.ID+"/reject", analystB, strings.NewReader(`{"reason": "again"}`)); code != 409 {
		t.Errorf("rejecting twice: %d", code)
	}

	_, b = f.do(t, "GET", "/api/v1/runs?state=completed", viewerA, nil)
	if runs := decode[list[respond.Run]](t, b).Items; len(runs) != 1 || runs[0].ID != run.ID {
		t.Errorf("runs of a: %s", b)
	}
	_, b = f.do(t, "GET", "/api/v1/runs", analystB, nil)
	if runs := decode[list[respond.Run]](t, b).Items; len(runs) != 0 {
		t.Errorf("b sees runs: %s", b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/runs/"+run.ID+"/rollback", analystB, nil); code != 404 {
		t.Errorf("b rolls back a's run: %d", code)
	}
	if code, _ := f.do(t, "GET", "/api/v1/runs/"+run.ID, viewerA, nil); code != 200 {
		t.Errorf("get run: %d", code)
	}
	code, b = f.do(t, "POST", "/api/v1/runs/"+run.ID+"/rollback", analystA, nil)
	if got := decode[respond.Run](t, b); code != 200 || got.State != respond.RunRolledBack {
		t.Errorf("rollback: %d %s", code, b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/runs/"+run.ID+"/rollback", analystA, nil); code != 409 {
		t.Errorf("rolling back twice: %d", code)
	}

	_, b = f.do(t, "GET", "/api/v1/cases?open=true", viewerA, nil)
	type caseOut struct {
		respond.Case
		SLA respond.SLAStatus
	}
	cs := decode[list[caseOut]](t, b).Items
	if len(cs) != 1 || cs[0].Tenant != "a" || !slices.Contains(cs[0].Runs, run.ID) || cs[0].SLA.RespondBy.IsZero() {
		t.Fatalf("cases of a: %s", b)
	}
	if code, b := f.do(t, "POST", "/api/v1/cases/"+cs[0].ID+"/transition", analystA, strings.NewReader(`{"status": "closed"}`)); code != 409 {
		t.Errorf("new → closed: %d %s", code, b)
	}
	code, b = f.do(t, "POST", "/api/v1/cases/"+cs[0].ID+"/transition", analystA, strings.NewReader(`{"status": "in_progress", "note": "on it"}`))
	if got := decode[respond.Case](t, b); code != 200 || got.Status != respond.CaseInProgress || got.Acknowledged.IsZero() {
		t.Errorf("transition: %d %s", code, b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/cases/"+cs[0].ID+"/transition", analystB, strings.NewReader(`{"status": "resolved"}`)); code != 404 {
		t.Errorf("b moves a's case: %d", code)
	}

	// a case for a stored finding
	if code, b := f.do(t, "POST", "/api/v1/ingest?name=alpine.json", analystA, report(t)); code != 200 {
		t.Fatalf("ingest: %d %s", code, b)
	}
	code, b = f.do(t, "POST", "/api/v1/cases", analystA, strings.NewReader(`{"record": "finding:1"}`))
	if got := decode[respond.Case](t, b); code != 201 || got.Records[0].String() != "finding:1" || got.Status != respond.CaseNew {
		t.Errorf("open case: %d %s", code, b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/cases", analystB, strings.NewReader(`{"record": "finding:1"}`)); code != 404 {
		t.Errorf("b opens a case on a's finding: %d", code)
	}
	if code, _ := f.do(t, "POST", "/api/v1/cases", analystA, strings.NewReader(`{"record": "nope"}`)); code != 400 {
		t.Errorf("bad record: %d", code)
	}

	code, b = f.do(t, "GET", "/api/v1/playbooks", viewerA, nil)
	var ids []string
	for _, p := range decode[list[api.PlaybookInfo]](t, b).Items {
		ids = append(ids, p.ID)
	}
	if code != 200 || !slices.Equal(ids, []string{"compromised-access-key", "contain-public-exposure", "triage-low-risk"}) {
		t.Errorf("playbooks: %d %s", code, b)
	}

	code, b = f.do(t, "GET", "/api/v1/kpi?response=true", viewerA, nil)
	if k := decode[respond.KPIReport](t, b); code != 200 || k.Cases != 2 || k.Automation.Approved != 1 || k.MTTA.Count != 1 {
		t.Errorf("response KPIs: %d %s", code, b)
	}
	if code, _ := f.do(t, "GET", "/api/v1/kpi?response=maybe", viewerA, nil); code != 400 {
		t.Errorf("bad response flag: %d", code)
	}

	// the audit chain names the approver
	_, b = f.do(t, "GET", "/api/v1/audit/verify", f.token(t, "a", store.RoleAdmin), nil)
	if !strings.Contains(string(b), `"ok":true`) {
		t.Errorf("audit verify: %s", b)
	}
}

// TestRespondAPINotConfigured: without an engine, the response routes
// answer 501.
func TestRespondAPINotConfigured(t *testing.T) {
	f := newFixture(t, false)
	tok := f.token(t, "a", store.RoleAnalyst)
	for _, path := range []string{"/api/v1/approvals", "/api/v1/runs", "/api/v1/cases", "/api/v1/playbooks"} {
		if code, b := f.do(t, "GET", path, tok, nil); code != 501 || !strings.Contains(string(b), "not_configured") {
			t.Errorf("GET %s = %d %s", path, code, b)
		}
	}
}
