// Package storetest is the behavioural suite every store.Store
// implementation must pass. A behaviour that is not in the suite is not in
// the contract.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"UpsertCountsAndSeen", testUpsert},
		{"RollbackWritesNothing", testRollback},
		{"TenantIsolation", testTenants},
		{"FiltersAndPaging", testPaging},
		{"EventsNewestFirst", testEvents},
		{"Tokens", testTokens},
		{"ClaimIsOncePerBatch", testClaim},
		{"Jobs", testJobs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func row(tenant, fp string, sev int, seen time.Time) store.Row {
	return store.Row{
		Tenant: tenant, Fingerprint: fp, ClassUID: 2002, SeverityID: sev, Product: "Trivy", Format: "trivy/1",
		SourceUID: "uid-" + fp, ResourceUID: "res", Title: "title " + fp, Time: t0, Seen: seen,
		OCSF: []byte(fmt.Sprintf(`{"class_uid":2002,"severity_id":%d,"finding_info":{"uid":"uid-%s"}}`, sev, fp)),
	}
}

func write(t *testing.T, s store.Store, findings, events []store.Row) store.UpsertResult {
	t.Helper()
	ctx := context.Background()
	a, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var res store.UpsertResult
	if len(findings) > 0 {
		r, err := a.UpsertFindings(ctx, findings)
		if err != nil {
			t.Fatal(err)
		}
		res.Add(r)
	}
	if len(events) > 0 {
		r, err := a.UpsertEvents(ctx, events)
		if err != nil {
			t.Fatal(err)
		}
		res.Add(r)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	return res
}

func all(t *testing.T, s store.Store, q store.Query) []store.Record {
	t.Helper()
	var out []store.Record
	for {
		p, err := s.Findings(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Records...)
		if p.Next.IsZero() {
			return out
		}
		q.After = p.Next
	}
}

func testUpsert(t *testing.T, s store.Store) {
	t1 := t0.Add(time.Hour)
	res := write(t, s, []store.Row{row("a", "f1", 3, t0), row("a", "f2", 4, t0)}, nil)
	if res.New != 2 || res.Updated != 0 {
		t.Fatalf("first upsert = %+v, want 2 new", res)
	}
	r2 := row("a", "f1", 5, t1)
	r2.OCSF = []byte(`{"class_uid":2002,"severity_id":5,"newer":true}`)
	res = write(t, s, []store.Row{r2, row("a", "f3", 1, t1)}, nil)
	if res.New != 1 || res.Updated != 1 {
		t.Fatalf("second upsert = %+v, want 1 new 1 updated", res)
	}
	recs := all(t, s, store.Query{Tenant: "a"})
	if len(recs) != 3 {
		t.Fatalf("got %d findings, want 3", len(recs))
	}
	f1 := recs[0] // severity 5 sorts first
	if f1.Fingerprint != "f1" || f1.Count != 2 || !f1.FirstSeen.Equal(t0) || !f1.LastSeen.Equal(t1) || f1.SeverityID != 5 {
		t.Errorf("f1 = %+v, want count 2, first_seen %v, last_seen %v, severity 5", f1, t0, t1)
	}
	if string(f1.OCSF) != string(r2.OCSF) {
		t.Errorf("f1 OCSF = %s, want the newer JSON", f1.OCSF)
	}
	got, err := s.Finding(context.Background(), "a", f1.ID)
	if err != nil || got.Fingerprint != "f1" || got.Count != 2 {
		t.Errorf("Finding(%d) = %+v, %v", f1.ID, got, err)
	}
	// the same fingerprint twice in one batch counts twice
	res = write(t, s, []store.Row{row("a", "f4", 2, t1), row("a", "f4", 2, t1)}, nil)
	if res.New != 1 || res.Updated != 1 {
		t.Errorf("duplicate in batch = %+v, want 1 new 1 updated", res)
	}
	// batches larger than one statement
	var big []store.Row
	for i := range 1234 {
		big = append(big, row("a", fmt.Sprintf("big%d", i), 2, t1))
	}
	if res := write(t, s, big, nil); res.New != 1234 {
		t.Errorf("big batch = %+v, want 1234 new", res)
	}
	if n, _, err := s.Counts(context.Background(), "a"); err != nil || n != 4+1234 {
		t.Errorf("Counts = %d, %v; want %d", n, err, 4+1234)
	}
}

func testRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpsertFindings(ctx, []store.Row{row("a", "f1", 3, t0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpsertEvents(ctx, []store.Row{row("a", "e1", 1, t0)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Errorf("second Rollback: %v", err)
	}
	f, e, err := s.Counts(ctx, "a")
	if err != nil || f != 0 || e != 0 {
		t.Errorf("after rollback Counts = %d, %d, %v; want 0, 0", f, e, err)
	}
	if _, err := a.UpsertFindings(ctx, []store.Row{row("a", "f1", 3, t0)}); err == nil {
		t.Error("upsert after rollback succeeded")
	}
}

func testTenants(t *testing.T, s store.Store) {
	write(t, s, []store.Row{row("a", "fa", 3, t0), row("b", "fb", 3, t0)}, []store.Row{row("b", "eb", 1, t0)})
	ra := all(t, s, store.Query{Tenant: "a"})
	if len(ra) != 1 || ra[0].Fingerprint != "fa" {
		t.Fatalf("tenant a sees %+v", ra)
	}
	rb := all(t, s, store.Query{Tenant: "b"})
	if len(rb) != 1 {
		t.Fatalf("tenant b sees %d", len(rb))
	}
	if _, err := s.Finding(context.Background(), "a", rb[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant a reading tenant b's finding: err = %v, want ErrNotFound", err)
	}
	p, err := s.Events(context.Background(), store.Query{Tenant: "a"})
	if err != nil || len(p.Records) != 0 {
		t.Errorf("tenant a sees events of b: %v %v", p.Records, err)
	}
	p, _ = s.Events(context.Background(), store.Query{Tenant: "b"})
	if len(p.Records) != 1 {
		t.Fatalf("tenant b events = %d", len(p.Records))
	}
	if _, err := s.Event(context.Background(), "a", p.Records[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant a reading tenant b's event: err = %v", err)
	}
}

func testPaging(t *testing.T, s store.Store) {
	var rows []store.Row
	for i := range 57 {
		r := row("a", fmt.Sprintf("p%02d", i), i%6, t0)
		if i%3 == 0 {
			r.Product = "Grype"
			r.ClassUID = 2003
		}
		rows = append(rows, r)
	}
	write(t, s, rows, nil)
	seen := map[string]bool{}
	prevSev := 99
	recs := all(t, s, store.Query{Tenant: "a", Limit: 10})
	for _, r := range recs {
		if seen[r.Fingerprint] {
			t.Errorf("%s listed twice", r.Fingerprint)
		}
		seen[r.Fingerprint] = true
		if r.SeverityID > prevSev {
			t.Errorf("not sorted by severity: %d after %d", r.SeverityID, prevSev)
		}
		prevSev = r.SeverityID
	}
	if len(seen) != 57 {
		t.Errorf("paging listed %d of 57", len(seen))
	}
	if got := all(t, s, store.Query{Tenant: "a", Severities: []int{4, 5}}); len(got) != 18 {
		t.Errorf("severity filter: %d, want 18", len(got))
	}
	if got := all(t, s, store.Query{Tenant: "a", Products: []string{"GRYPE"}}); len(got) != 19 {
		t.Errorf("product filter: %d, want 19", len(got))
	}
	if got := all(t, s, store.Query{Tenant: "a", Classes: []int{2003}, Severities: []int{0}}); len(got) != 10 {
		t.Errorf("class+severity filter: %d, want 10", len(got))
	}
}

func testEvents(t *testing.T, s store.Store) {
	var rows []store.Row
	for i := range 5 {
		r := row("a", fmt.Sprintf("e%d", i), 1, t0)
		r.Time = t0.Add(time.Duration(i) * time.Minute)
		r.ClassUID = 6003
		rows = append(rows, r)
	}
	res := write(t, s, nil, rows)
	if res.New != 5 {
		t.Fatalf("events upsert = %+v", res)
	}
	if res := write(t, s, nil, rows[:2]); res.Updated != 2 {
		t.Errorf("re-upsert events = %+v, want 2 updated", res)
	}
	p, err := s.Events(context.Background(), store.Query{Tenant: "a", Limit: 2})
	if err != nil || len(p.Records) != 2 || p.Next.IsZero() {
		t.Fatalf("events page = %+v, %v", p, err)
	}
	if !p.Records[0].Time.Equal(t0.Add(4 * time.Minute)) {
		t.Errorf("first event time %v, want newest", p.Records[0].Time)
	}
	p2, err := s.Events(context.Background(), store.Query{Tenant: "a", After: p.Next})
	if err != nil || len(p2.Records) != 3 || !p2.Next.IsZero() {
		t.Errorf("second page = %d records, next %v, %v", len(p2.Records), p2.Next, err)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := store.Token{ID: "t1", Name: "ci", Tenant: "a", Role: store.RoleAnalyst, Hash: "h1", CreatedAt: t0}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenByHash(ctx, "h1")
	if err != nil || got.Name != "ci" || got.Tenant != "a" || got.Role != store.RoleAnalyst {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	if _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v", err)
	}
	if err := s.RevokeToken(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token still valid: %v", err)
	}
	if err := s.RevokeToken(ctx, "t1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
	list, err := s.ListTokens(ctx)
	if err != nil || len(list) != 1 || list[0].RevokedAt.IsZero() {
		t.Errorf("ListTokens = %+v, %v", list, err)
	}
}

func testClaim(t *testing.T, s store.Store) {
	ctx := context.Background()
	apply := func(batch string, rows []store.Row) (bool, store.UpsertResult) {
		a, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := a.Claim(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if err := a.Rollback(); err != nil {
				t.Fatal(err)
			}
			return false, store.UpsertResult{}
		}
		res, err := a.UpsertFindings(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		return true, res
	}
	rows := []store.Row{row("a", "c1", 3, t0), row("a", "c2", 3, t0)}
	if ok, res := apply("b1", rows); !ok || res.New != 2 {
		t.Fatalf("first apply = %v %+v", ok, res)
	}
	if ok, _ := apply("b1", rows); ok {
		t.Fatal("a redelivered batch was claimed again")
	}
	for _, r := range all(t, s, store.Query{Tenant: "a"}) {
		if r.Count != 1 {
			t.Errorf("%s count = %d after a redelivery, want 1", r.Fingerprint, r.Count)
		}
	}
	// a claim rolled back does not count
	a, _ := s.Begin(ctx)
	if ok, err := a.Claim(ctx, "b2"); err != nil || !ok {
		t.Fatalf("claim b2 = %v %v", ok, err)
	}
	a.Rollback()
	if ok, _ := apply("b2", rows); !ok {
		t.Error("a batch whose first claim was rolled back cannot be applied")
	}
}

func testJobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateJob(ctx, store.Job{ID: "j1", Tenant: "a", Name: "scan.json", Format: "trivy", Batches: 2, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	j, err := s.Job(ctx, "a", "j1")
	if err != nil || j.Status != store.JobQueued || j.Batches != 2 || j.BatchesDone != 0 || j.Name != "scan.json" {
		t.Fatalf("new job = %+v, %v", j, err)
	}
	if _, err := s.Job(ctx, "b", "j1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant reads the job: %v", err)
	}
	for i, p := range []store.JobProgress{{Records: 3, FindingsNew: 2, FindingsUpdated: 1}, {Records: 4, Events: 4}} {
		a, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.AddToJob(ctx, "j1", p); err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		j, _ = s.Job(ctx, "a", "j1")
		if want := []store.JobStatus{store.JobQueued, store.JobDone}[i]; j.Status != want {
			t.Errorf("after batch %d status = %s, want %s", i+1, j.Status, want)
		}
	}
	if j.Records != 7 || j.FindingsNew != 2 || j.FindingsUpdated != 1 || j.Events != 4 || j.BatchesDone != 2 {
		t.Errorf("job totals = %+v", j)
	}
	if err := s.CreateJob(ctx, store.Job{ID: "j0", Tenant: "a", Name: "empty.json", Format: "trivy", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if j, err := s.Job(ctx, "a", "j0"); err != nil || j.Status != store.JobDone {
		t.Errorf("a job of no batches = %+v, %v; want done", j, err)
	}
	a, _ := s.Begin(ctx)
	if err := a.AddToJob(ctx, "nope", store.JobProgress{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddToJob on a missing job: %v", err)
	}
	a.Rollback()
}
