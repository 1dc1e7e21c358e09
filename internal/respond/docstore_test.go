package respond_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// backends opens an empty store of each kind: SQLite in a temporary
// directory, and PostgreSQL at 127.0.0.1:5432 (pgtest: skipped when it is
// unreachable, outside CI).
var backends = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "canopy.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// TestDocStore checks the store contract of README.md ("Persistence the
// store must provide") on DocStore over SQLite and PostgreSQL: create,
// conflict, tenant isolation, atomic updates that write nothing when fn
// fails, filters; then an approval, its run and a rollback through the
// engine with the state kept in the store.
func TestDocStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ds := respond.NewDocStore(b.open(t))
			other := "someone-else"

			run := respond.Run{ID: "run-1", Tenant: tenant, Record: respond.Ref{Kind: respond.KindFinding, ID: "7"}, Playbook: "p",
				Mode: respond.ModeAutomatic, Actor: "system", State: respond.RunRunning, Created: t0, Updated: t0,
				Steps: []respond.StepRun{{ID: "tag", Action: respond.NameTag, State: respond.StepPending, Params: respond.Params{"tags": []any{"x"}}}}}
			if err := ds.CreateRun(ctx, run); err != nil {
				t.Fatal(err)
			}
			if err := ds.CreateRun(ctx, run); !errors.Is(err, respond.ErrConflict) {
				t.Errorf("second CreateRun = %v, want ErrConflict", err)
			}
			if _, err := ds.GetRun(ctx, other, "run-1"); !errors.Is(err, respond.ErrNotFound) {
				t.Errorf("GetRun of another tenant = %v, want ErrNotFound", err)
			}
			if _, err := ds.UpdateRun(ctx, tenant, "run-9", func(*respond.Run) error { return nil }); !errors.Is(err, respond.ErrNotFound) {
				t.Errorf("UpdateRun of an unknown run = %v, want ErrNotFound", err)
			}
			boom := errors.New("boom")
			if _, err := ds.UpdateRun(ctx, tenant, "run-1", func(r *respond.Run) error { r.State = respond.RunFailed; return boom }); !errors.Is(err, boom) {
				t.Errorf("UpdateRun with a failing fn = %v, want boom", err)
			}
			if got, err := ds.GetRun(ctx, tenant, "run-1"); err != nil || got.State != respond.RunRunning {
				t.Errorf("after a failed update: %s, %v", got.State, err)
			}
			got, err := ds.UpdateRun(ctx, tenant, "run-1", func(r *respond.Run) error { r.State = respond.RunCompleted; return nil })
			if err != nil || got.State != respond.RunCompleted || len(got.Steps) != 1 || !got.Created.Equal(t0) {
				t.Errorf("UpdateRun = %+v, %v", got, err)
			}
			for _, tt := range []struct {
				f    respond.RunFilter
				want int
			}{
				{respond.RunFilter{Tenant: tenant}, 1},
				{respond.RunFilter{Tenant: tenant, State: respond.RunCompleted}, 1},
				{respond.RunFilter{Tenant: tenant, State: respond.RunFailed}, 0},
				{respond.RunFilter{Tenant: tenant, Playbook: "q"}, 0},
				{respond.RunFilter{Tenant: tenant, Record: respond.Ref{Kind: respond.KindFinding, ID: "7"}}, 1},
				{respond.RunFilter{Tenant: other}, 0},
			} {
				if rs, err := ds.ListRuns(ctx, tt.f); err != nil || len(rs) != tt.want {
					t.Errorf("ListRuns(%+v) = %d runs, %v; want %d", tt.f, len(rs), err, tt.want)
				}
			}

			c := respond.Case{ID: "case-1", Tenant: tenant, Status: respond.CaseNew, Records: []respond.Ref{{Kind: respond.KindIncident, ID: "a"}}}
			if err := ds.CreateCase(ctx, c); err != nil {
				t.Fatal(err)
			}
			if cs, err := ds.ListCases(ctx, respond.CaseFilter{Tenant: tenant, Open: true}); err != nil || len(cs) != 1 {
				t.Errorf("open cases = %d, %v", len(cs), err)
			}
			if err := ds.CreateCase(ctx, respond.Case{ID: "case-1", Tenant: "b-tenant", Status: respond.CaseNew}); err != nil {
				t.Fatal(err)
			}
			if ts, err := ds.Tenants(ctx); err != nil || !slices.Equal(ts, []string{tenant, "b-tenant"}) {
				t.Errorf("Tenants = %v, %v", ts, err)
			}
			if _, err := ds.UpdateCase(ctx, tenant, "case-1", func(c *respond.Case) error { c.Status = respond.CaseClosed; return nil }); err != nil {
				t.Fatal(err)
			}
			if cs, err := ds.ListCases(ctx, respond.CaseFilter{Tenant: tenant, Open: true}); err != nil || len(cs) != 0 {
				t.Errorf("open cases after closing = %d, %v", len(cs), err)
			}

			ref := respond.Ref{Kind: respond.KindFinding, ID: "7"}
			if st, err := ds.RecordState(ctx, tenant, ref); err != nil || st.Status != "" {
				t.Errorf("state of an untouched record = %+v, %v", st, err)
			}
			if _, err := ds.UpdateRecord(ctx, tenant, ref, func(s *respond.RecordState) error { s.Tags = append(s.Tags, "a"); return nil }); err != nil {
				t.Fatal(err)
			}
			if st, err := ds.RecordState(ctx, tenant, ref); err != nil || !slices.Equal(st.Tags, []string{"a"}) {
				t.Errorf("record state = %+v, %v", st, err)
			}
			if st, err := ds.RecordState(ctx, other, ref); err != nil || len(st.Tags) != 0 {
				t.Errorf("another tenant sees the record state: %+v, %v", st, err)
			}

			// the engine, with its state in the store
			calls := &respondtest.Calls{}
			acts, err := respond.RecordActions(respond.RecordActionOptions{Records: ds, Cases: ds})
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
			clock := respondtest.NewClock(t0)
			ids := 0
			eng, err := respond.New(respond.Options{Playbooks: pbs, Actions: reg, Runs: ds, Approvals: ds, Cases: ds,
				Audit: respondtest.NewAudit(clock.Now), World: world(), Now: clock.Now,
				NewID: func() string { ids++; return fmt.Sprint(ids) }})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := eng.Evaluate(ctx, exposureIncident())
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(ev.Decisions, func(d respond.Decision) bool { return d.Approval != nil })
			if i < 0 || ev.Case == nil {
				t.Fatalf("no approval or case: %+v", ev)
			}
			apr := ev.Decisions[i].Approval
			if pending, err := eng.Approvals(ctx, respond.ApprovalFilter{Tenant: tenant, State: respond.ApprovalPending}); err != nil || len(pending) != 1 {
				t.Fatalf("pending approvals = %d, %v", len(pending), err)
			}
			r, err := eng.Approve(ctx, tenant, apr.ID, "revoke-rule", "analyst@example.com", "")
			if err != nil || r.State != respond.RunCompleted {
				t.Fatalf("Approve = %s, %v", r.State, err)
			}
			if a, err := eng.Approval(ctx, tenant, apr.ID); err != nil || a.State != respond.ApprovalExecuted || a.DecidedBy != "analyst@example.com" || a.Run != r.ID {
				t.Errorf("approval after the run = %+v, %v", a, err)
			}
			if _, err := eng.Rollback(ctx, tenant, r.ID, "analyst@example.com"); err != nil {
				t.Fatal(err)
			}
			r, err = eng.Run(ctx, tenant, r.ID)
			if err != nil || r.State != respond.RunRolledBack {
				t.Errorf("run after rollback = %s, %v", r.State, err)
			}
			if st, _ := ds.RecordState(ctx, tenant, exposureIncident().Ref()); st.Status != "" {
				t.Errorf("record status after rollback = %q", st.Status)
			}
			if cs, err := eng.Cases(ctx, respond.CaseFilter{Tenant: tenant, Record: exposureIncident().Ref()}); err != nil || len(cs) != 1 || !slices.Contains(cs[0].Runs, r.ID) {
				t.Errorf("case of the incident = %+v, %v", cs, err)
			}
		})
	}
}
