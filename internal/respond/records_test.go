package respond_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
	"github.com/canopy-sec/canopy/internal/responsibility"
	"github.com/canopy-sec/canopy/internal/risk"
)

// persisted returns res as a run store gives it back (through JSON).
func persisted(t *testing.T, res respond.Result) respond.Result {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var out respond.Result
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRecordActions(t *testing.T) {
	ctx := context.Background()
	mem := respondtest.NewMemory()
	acts, err := respond.RecordActions(respond.RecordActionOptions{Records: mem, Cases: mem})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := respond.NewRegistry(acts...)
	if err != nil {
		t.Fatal(err)
	}
	ref := respond.Ref{Kind: respond.KindFinding, ID: "f-1"}
	if err := mem.CreateCase(ctx, respond.Case{ID: "case-9", Tenant: tenant, Records: []respond.Ref{{Kind: respond.KindIncident, ID: "inc-1"}}}); err != nil {
		t.Fatal(err)
	}
	do := func(name string, params respond.Params) respond.Result {
		t.Helper()
		a, _ := reg.Lookup(name)
		p, err := a.Params().Check(params)
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.Do(ctx, respond.Call{Tenant: tenant, Record: ref, Run: "r", Step: name, Key: "r/" + name, Params: p, Now: t0})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return persisted(t, res)
	}
	undo := func(name string, res respond.Result) error {
		a, _ := reg.Lookup(name)
		return a.Rollback(ctx, res)
	}

	status := do(respond.NameSetStatus, respond.Params{"status": "in_progress"})
	assign := do(respond.NameAssign, respond.Params{"assignee": "alice"})
	if _, err := mem.UpdateRecord(ctx, tenant, ref, func(s *respond.RecordState) error { s.Tags = []string{"keep"}; return nil }); err != nil {
		t.Fatal(err)
	}
	tag := do(respond.NameTag, respond.Params{"tags": []any{"keep", "new"}})
	supp := do(respond.NameSuppress, respond.Params{"for": "7d", "reason": "accepted risk"})
	link := do(respond.NameLinkCase, respond.Params{"case": "case-9"})

	st := mem.Record(tenant, ref)
	if st.Status != "in_progress" || st.Assignee != "alice" || !slices.Equal(st.Tags, []string{"keep", "new"}) ||
		!st.SuppressedUntil.Equal(t0.Add(7*24*time.Hour)) || !slices.Equal(st.Cases, []string{"case-9"}) {
		t.Errorf("state = %+v", st)
	}
	if c, _ := mem.GetCase(ctx, tenant, "case-9"); !slices.Contains(c.Records, ref) {
		t.Errorf("case records = %v", c.Records)
	}

	// someone reassigned the record since: the rollback leaves it alone
	if _, err := mem.UpdateRecord(ctx, tenant, ref, func(s *respond.RecordState) error { s.Assignee = "bob"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := undo(respond.NameAssign, assign); !errors.Is(err, respond.ErrConflict) {
		t.Errorf("assign rollback: %v", err)
	}
	for _, x := range []struct {
		name string
		res  respond.Result
	}{{respond.NameLinkCase, link}, {respond.NameSuppress, supp}, {respond.NameTag, tag}, {respond.NameSetStatus, status}} {
		if err := undo(x.name, x.res); err != nil {
			t.Errorf("%s rollback: %v", x.name, err)
		}
	}
	st = mem.Record(tenant, ref)
	if st.Status != "" || st.Assignee != "bob" || !slices.Equal(st.Tags, []string{"keep"}) || !st.SuppressedUntil.IsZero() || len(st.Cases) != 0 {
		t.Errorf("state after rollback = %+v", st)
	}
	if c, _ := mem.GetCase(ctx, tenant, "case-9"); slices.Contains(c.Records, ref) {
		t.Errorf("case still links the record")
	}

	a, _ := reg.Lookup(respond.NameSuppress)
	p, _ := a.Params().Check(respond.Params{"for": "91d", "reason": "forever"})
	if _, err := a.Do(ctx, respond.Call{Tenant: tenant, Record: ref, Params: p, Now: t0}); err == nil {
		t.Errorf("a 91-day suppression was accepted")
	}
	if _, err := respond.RecordActions(respond.RecordActionOptions{}); err == nil {
		t.Errorf("no store accepted")
	}
}

func TestNotifyNeedsAParty(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := lowRiskFinding()
	rec.Party = ""
	ev, err := e.eng.Evaluate(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	d := ev.Decisions[0]
	if d.Outcome != respond.OutcomeError || d.Run != nil || d.Error != "step notify-owner (notify): params: party: required" {
		t.Fatalf("decision = %+v", d)
	}
	if st := e.mem.Record(tenant, rec.Ref()); len(st.Tags) != 0 {
		t.Errorf("a step ran: %+v", st)
	}
}

func TestFromIncident(t *testing.T) {
	inc := pipeline.Incident{ID: "a1b2c3", Title: "Exposure", Risk: risk.Result{Score: 77, Factors: []risk.Factor{
		{Name: risk.FactorInternetExposure, Value: true, Detail: "public bucket (effective permission PUBLIC) on payments"},
		{Name: risk.FactorDataGrade, Value: "core"},
		{Name: risk.FactorAssetCriticality, Value: "crown-jewel"},
		{Name: risk.FactorPrivilegedIdentity, Value: "none"},
	}},
		Entities: []correlate.Entity{{Kind: correlate.KindIP, Value: "198.51.100.1"}},
		Tactics:  []correlate.Tactic{{ID: "TA0001", Name: "Initial Access", Order: 3}},
		OCSF:     &ocsf.IncidentFinding{},
		Responsibility: &responsibility.IncidentAttribution{Attribution: responsibility.Attribution{Party: responsibility.Vendor,
			Parts: []responsibility.Part{{Party: responsibility.Vendor, Name: "example-mssp"}}}},
	}
	inc.OCSF.SeverityID = ocsf.SeverityHigh
	inc.OCSF.Metadata.Product.Name = "Canopy"
	r := respond.FromIncident(tenant, inc)
	want := respond.Record{Tenant: tenant, Kind: respond.KindIncident, ID: "a1b2c3", Title: "Exposure", Risk: 77, Severity: "high",
		Tactics: []string{"Initial Access", "TA0001"}, Entities: inc.Entities, Party: "vendor", PartyName: "example-mssp",
		DataGrade: "core", Source: "Canopy", Class: "incident_finding",
		Labels: []string{"internet_exposed", "public_bucket", "asset_tier=crown-jewel"}}
	if !jsonEqual(t, r, want) {
		t.Errorf("record:\n got %+v\nwant %+v", r, want)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
