// Package storetest is the behavioural suite every store.Store
// implementation must pass. A behaviour that is not in the suite is not in
// the contract.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/canopy-sec/canopy/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call.
//
// The OCSF JSON a store returns must hold the same values as the JSON it
// was given, not necessarily the same bytes: a backend may reorder an
// object's keys or drop blanks (PostgreSQL's jsonb does both), and may
// replace what it cannot store (a NUL character, an unpaired surrogate,
// invalid UTF-8) with U+FFFD. Times are kept to the millisecond and
// returned in UTC.
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
		{"IssuesAcrossTools", testIssues},
		{"DuplicatesInOneCall", testDuplicates},
		{"DocumentChangesBackAndForth", testDocChanges},
		{"FieldsRoundTrip", testFields},
		{"UnusualText", testUnusualText},
		{"EventTiesByID", testEventTies},
		{"AppenderEnds", testAppenderEnds},
		{"CorrelationQueue", testCorrelationQueue},
		{"IncidentsAndEntityIndex", testIncidents},
		{"RiskOrder", testRiskOrder},
		{"RiskListing", testRiskListing},
		{"Responsibility", testResponsibility},
		{"Inventory", testInventory},
		{"Docs", testDocs},
		{"Sessions", testSessions},
		{"Stats", testStats},
		{"TextSearch", testText},
		{"ScansAndEvidence", testScans},
		{"Notices", testNotices},
		{"NoticeUpdate", testNoticeUpdate},
		{"NoticeUpdateIsAtomic", testNoticeUpdateAtomic},
		{"NoticesDue", testNoticesDue},
		{"NoticesListed", testNoticesList},
		{"AuditChains", testAudit},
		{"AuditRefused", testAuditRefused},
		{"AuditPaging", testAuditPaging},
		{"ExportImport", func(t *testing.T, s store.Store) {
			dst := open(t)
			t.Cleanup(func() { dst.Close() })
			testCopy(t, s, dst)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

// RunRiskListing runs the listings by risk of the suite alone, for a
// backend test that changes how a store walks them.
func RunRiskListing(t *testing.T, open func(t *testing.T) store.Store) {
	for name, fn := range map[string]func(*testing.T, store.Store){"RiskOrder": testRiskOrder, "RiskListing": testRiskListing} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			fn(t, s)
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
	defer a.Rollback() // after a failure: a store may wait for open transactions on Close
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
	if !SameJSON(f1.OCSF, r2.OCSF) {
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

// SameJSON reports whether a and b are valid JSON holding the same values
// (key order and blanks aside).
func SameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func one(t *testing.T, s store.Store, tenant, fp string) store.Record {
	t.Helper()
	for _, r := range all(t, s, store.Query{Tenant: tenant}) {
		if r.Fingerprint == fp {
			return r
		}
	}
	t.Fatalf("finding %s not listed", fp)
	return store.Record{}
}

// testDuplicates: a fingerprint repeated within one call behaves as that
// many upserts in a row: the first inserts, the others update, and the
// last one's values and document win.
func testDuplicates(t *testing.T, s store.Store) {
	a := row("a", "d", 2, t0)
	a.OCSF = []byte(`{"v":1}`)
	b := row("a", "d", 5, t0.Add(time.Hour))
	b.OCSF, b.Title = []byte(`{"v":2}`), "second"
	c := row("a", "d", 4, t0.Add(2*time.Hour))
	c.OCSF, c.Title = []byte(`{"v":3}`), "third"
	other := row("a", "e", 1, t0)
	res := write(t, s, []store.Row{a, other, b, c}, nil)
	if res.New != 2 || res.Updated != 2 {
		t.Errorf("upsert = %+v, want 2 new 2 updated", res)
	}
	r := one(t, s, "a", "d")
	if r.Count != 3 || !r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(c.Seen) || r.SeverityID != 4 || r.Title != "third" || !SameJSON(r.OCSF, c.OCSF) {
		t.Errorf("d = count %d first %v last %v severity %d title %q %s; want 3, %v, %v, 4, third, %s",
			r.Count, r.FirstSeen, r.LastSeen, r.SeverityID, r.Title, r.OCSF, t0, c.Seen, c.OCSF)
	}
	// an existing fingerprint repeated: every occurrence is an update
	res = write(t, s, []store.Row{b, b}, nil)
	if res.New != 0 || res.Updated != 2 {
		t.Errorf("repeated existing = %+v, want 2 updated", res)
	}
	if r := one(t, s, "a", "d"); r.Count != 5 || !SameJSON(r.OCSF, b.OCSF) {
		t.Errorf("d = count %d %s, want 5 %s", r.Count, r.OCSF, b.OCSF)
	}
}

// testDocChanges: the stored document follows every change, including a
// change back to an earlier document (a store that skips unchanged
// documents must compare with what it stores now).
func testDocChanges(t *testing.T, s store.Store) {
	docs := []string{`{"v":"a"}`, `{"v":"b"}`, `{"v":"a"}`, `{"v":"a"}`, `{"v":"c","w":[1,2]}`}
	for i, d := range docs {
		r := row("a", "x", 3, t0.Add(time.Duration(i)*time.Minute))
		r.OCSF = []byte(d)
		write(t, s, []store.Row{r}, []store.Row{r})
		got := one(t, s, "a", "x")
		if got.Count != i+1 || !SameJSON(got.OCSF, r.OCSF) {
			t.Errorf("after upsert %d: count %d, document %s; want %d, %s", i+1, got.Count, got.OCSF, i+1, d)
		}
		p, err := s.Events(context.Background(), store.Query{Tenant: "a"})
		if err != nil || len(p.Records) != 1 || !SameJSON(p.Records[0].OCSF, r.OCSF) {
			t.Errorf("event after upsert %d: %+v, %v", i+1, p.Records, err)
		}
	}
}

// testFields: every column reads back as written; times to the
// millisecond, in UTC.
func testFields(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := row("a", "fx", 4, time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, time.UTC))
	r.Time = time.Date(2025, 6, 7, 8, 9, 10, 987_654_321, time.FixedZone("X", 3600))
	r.Product, r.Format, r.ResourceUID, r.Title, r.ClassUID = "Prowler", "prowler/2", "arn:aws:s3:::b", "Bucket is public", 2003
	write(t, s, []store.Row{r}, []store.Row{r})
	msUTC := func(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
	p, err := s.Events(ctx, store.Query{Tenant: "a"})
	if err != nil || len(p.Records) != 1 {
		t.Fatalf("events = %+v, %v", p, err)
	}
	for _, got := range []store.Record{one(t, s, "a", "fx"), p.Records[0]} {
		if got.Tenant != "a" || got.Fingerprint != "fx" || got.ClassUID != 2003 || got.SeverityID != 4 || got.Product != "Prowler" ||
			got.Format != "prowler/2" || got.ResourceUID != r.ResourceUID || got.Title != r.Title || got.Count != 1 {
			t.Errorf("read back %+v", got)
		}
		for _, tm := range []struct {
			name      string
			got, want time.Time
		}{{"time", got.Time, msUTC(r.Time)}, {"first_seen", got.FirstSeen, msUTC(r.Seen)}, {"last_seen", got.LastSeen, msUTC(r.Seen)}} {
			if !tm.got.Equal(tm.want) || tm.got.Location() != time.UTC {
				t.Errorf("%s = %v, want %v (milliseconds, UTC)", tm.name, tm.got, tm.want)
			}
		}
	}
	e, err := s.Event(ctx, "a", p.Records[0].ID)
	if err != nil || !e.Time.Equal(msUTC(r.Time)) || !SameJSON(e.OCSF, r.OCSF) {
		t.Errorf("Event = %+v, %v", e, err)
	}
}

// testUnusualText: what some backends cannot store as it is (NUL, invalid
// UTF-8, \u0000, unpaired surrogates) is accepted, and comes back either
// as it was or with U+FFFD in its place; the rest of the record is intact.
func testUnusualText(t *testing.T, s store.Store) {
	r := row("a", "odd", 3, t0)
	r.Title = "nul\x00byte, bad \xff utf-8"
	r.ResourceUID = "res\x00"
	r.OCSF = []byte(`{"s":"x\u0000y","lone":"\ud800","low":"\udc00z","pair":"\ud83d\ude00","bad":"` + "\xff" +
		`","text":"ünïcödé ✓ 中文","esc":"\\u0000 is text","n":1.5e3,"ctl":"a\tb\u0001"}`)
	if res := write(t, s, []store.Row{r}, []store.Row{r}); res.New != 2 {
		t.Fatalf("upsert = %+v", res)
	}
	replaced := func(s string) string { return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD") }
	got := one(t, s, "a", "odd")
	if got.Title != r.Title && got.Title != replaced(r.Title) {
		t.Errorf("title = %q", got.Title)
	}
	if got.ResourceUID != r.ResourceUID && got.ResourceUID != replaced(r.ResourceUID) {
		t.Errorf("resource_uid = %q", got.ResourceUID)
	}
	var doc map[string]any
	if err := json.Unmarshal(got.OCSF, &doc); err != nil || !utf8.Valid([]byte(fmt.Sprint(doc))) {
		t.Fatalf("document %q: %v", got.OCSF, err)
	}
	want := map[string]any{"lone": "\uFFFD", "low": "\uFFFDz", "pair": "😀", "bad": "\uFFFD", "text": "ünïcödé ✓ 中文",
		"esc": `\u0000 is text`, "n": 1500.0, "ctl": "a\tb\x01"}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("document[%s] = %q, want %q", k, doc[k], v)
		}
	}
	if doc["s"] != "x\x00y" && doc["s"] != "x\uFFFDy" {
		t.Errorf("document[s] = %q", doc["s"])
	}
	// the same input again is an update of the same record
	if res := write(t, s, []store.Row{r}, nil); res.Updated != 1 {
		t.Errorf("re-upsert = %+v", res)
	}
}

// testEventTies: events with the same time are listed by id, and paging
// through ties one at a time lists each exactly once.
func testEventTies(t *testing.T, s store.Store) {
	var rows []store.Row
	for i := range 6 {
		r := row("a", fmt.Sprintf("tie%d", i), 1, t0)
		r.Time = t0.Add(time.Duration(i/3) * time.Second) // two times, three events each
		rows = append(rows, r)
	}
	write(t, s, nil, rows)
	var got []store.Record
	q := store.Query{Tenant: "a", Limit: 1}
	for {
		p, err := s.Events(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Records...)
		if p.Next.IsZero() {
			break
		}
		q.After = p.Next
	}
	if len(got) != 6 {
		t.Fatalf("paged %d events, want 6", len(got))
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.Time.Before(b.Time) || (a.Time.Equal(b.Time) && a.ID >= b.ID) {
			t.Errorf("event %d (%v, id %d) listed before %d (%v, id %d)", i-1, a.Time, a.ID, i, b.Time, b.ID)
		}
	}
}

// testAppenderEnds: an appender is finished by Commit; using it afterwards
// fails, and Rollback then does nothing.
func testAppenderEnds(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpsertFindings(ctx, []store.Row{row("a", "f1", 3, t0)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	if err := a.Rollback(); err != nil {
		t.Errorf("Rollback after Commit: %v", err)
	}
	if _, err := a.UpsertEvents(ctx, []store.Row{row("a", "e1", 3, t0)}); err == nil {
		t.Error("upsert after Commit succeeded")
	}
	if _, err := a.Claim(ctx, "late"); err == nil {
		t.Error("Claim after Commit succeeded")
	}
	if f, e, _ := s.Counts(ctx, "a"); f != 1 || e != 0 {
		t.Errorf("Counts = %d, %d; want 1, 0", f, e)
	}
}

// testCopy: everything exported from src and imported into dst (which may
// be another backend) reads back the same, and dst goes on working.
func testCopy(t *testing.T, src, dst store.Store) {
	ctx := context.Background()
	ex, ok := src.(store.Exporter)
	if !ok {
		t.Fatalf("%T does not implement store.Exporter", src)
	}
	im, ok := dst.(store.Importer)
	if !ok {
		t.Fatalf("%T does not implement store.Importer", dst)
	}
	Fill(t, src)
	want, err := ex.TableCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range store.Tables() {
		if want[tb] == 0 {
			t.Errorf("the source's %s is empty; the test copies nothing there", tb)
		}
	}
	l, err := im.Import(ctx)
	if err != nil {
		t.Fatal(err)
	}
	order := map[store.Table]int{}
	for i, tb := range store.Tables() {
		order[tb] = i
	}
	last, copied := 0, map[store.Table]int64{}
	err = ex.Export(ctx, func(r store.TableRows) error {
		if order[r.Table] < last {
			t.Errorf("%s exported after a later table", r.Table)
		}
		last = order[r.Table]
		copied[r.Table] += int64(r.Len())
		return l.Load(ctx, r)
	})
	if err != nil {
		l.Rollback(ctx)
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := im.TableCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range store.Tables() {
		if got[tb] != want[tb] || copied[tb] != want[tb] {
			t.Errorf("%s: source %d, exported %d, destination %d", tb, want[tb], copied[tb], got[tb])
		}
	}
	SameContents(t, src, dst)
	samePlain(t, src, dst)

	// the copy goes on: claims, ids and counts continue
	maxID := int64(0)
	for _, r := range all(t, dst, store.Query{Tenant: "a"}) {
		maxID = max(maxID, r.ID)
	}
	a, err := dst.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Claim(ctx, "fill-1"); err != nil || ok {
		t.Errorf("claiming a copied batch = %v, %v; want false", ok, err)
	}
	a.Rollback()
	res := write(t, dst, []store.Row{row("a", "after-copy", 5, t1), row("a", "fill03", 3, t1)}, nil)
	if res.New != 1 || res.Updated != 1 {
		t.Errorf("upsert after copy = %+v, want 1 new 1 updated", res)
	}
	if r := one(t, dst, "a", "after-copy"); r.ID <= maxID {
		t.Errorf("a new finding got id %d, not after the copied ids (max %d)", r.ID, maxID)
	}
	if r := one(t, dst, "a", "fill03"); r.Count != 3 {
		t.Errorf("fill03 count = %d, want 3", r.Count)
	}

	// importing a key the store holds fails and writes nothing
	before, _ := im.TableCounts(ctx)
	l, err = im.Import(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = l.Load(ctx, store.TableRows{Table: store.TableTokens, Tokens: []store.Token{{ID: "tok-new", Name: "n", Tenant: "a", Role: store.RoleViewer, Hash: "new", CreatedAt: t0}}})
	if err == nil {
		err = l.Load(ctx, store.TableRows{Table: store.TableTokens, Tokens: []store.Token{{ID: "tok-1", Name: "dup", Tenant: "a", Role: store.RoleViewer, Hash: "dup", CreatedAt: t0}}})
	}
	if err == nil {
		err = l.Commit(ctx)
	}
	l.Rollback(ctx)
	if err == nil {
		t.Error("importing an existing token id succeeded")
	}
	if after, _ := im.TableCounts(ctx); after[store.TableTokens] != before[store.TableTokens] {
		t.Errorf("a failed import left tokens: %d, was %d", after[store.TableTokens], before[store.TableTokens])
	}
}

var t1 = t0.Add(time.Hour)

// Fill writes a little of everything a store keeps, in tenant "a": findings
// (some updated, with Unicode in their documents), events, two tokens (one
// revoked, hashes "hash-1" and "hash-2"), a job with progress and an
// applied batch ("fill-1").
func Fill(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	var fs, es []store.Row
	for i := range 30 {
		r := row("a", fmt.Sprintf("fill%02d", i), i%6, t0)
		r.OCSF = fmt.Appendf(nil, `{"class_uid":2002,"severity_id":%d,"message":"naïve ✓ %d","tags":["x",{"k":null}]}`, i%6, i)
		fs = append(fs, r)
	}
	for i := range 10 {
		r := row("a", fmt.Sprintf("ev%02d", i), 1, t0)
		r.ClassUID, r.Time = 6003, t0.Add(time.Duration(i)*time.Second)
		es = append(es, r)
	}
	a, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Claim(ctx, "fill-1"); err != nil || !ok {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	if _, err := a.UpsertFindings(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpsertEvents(ctx, es); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	fs[3].Seen, fs[4].Seen = t1, t1
	fs[4].OCSF = []byte(`{"changed":true}`)
	write(t, s, fs[3:5], nil)
	for i, role := range []store.Role{store.RoleAdmin, store.RoleViewer} {
		tok := store.Token{ID: fmt.Sprintf("tok-%d", i+1), Name: fmt.Sprintf("token %d", i+1), Tenant: "a", Role: role,
			Hash: fmt.Sprintf("hash-%d", i+1), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeToken(ctx, "tok-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateJob(ctx, store.Job{ID: "job-1", Tenant: "a", Name: "scan.json", Format: "trivy", Batches: 3, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	a, err = s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddToJob(ctx, "job-1", store.JobProgress{Records: 5, FindingsNew: 4, FindingsUpdated: 1}); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	fillPlain(t, s)
}

// fillPlain puts rows in every plain table (store.PlainTables).
func fillPlain(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.PutResources(ctx, "a", []store.Resource{{Key: "aws|1|AWS::S3::Bucket|b", Provider: "aws", Account: "1", Type: "AWS::S3::Bucket",
		UID: "arn:aws:s3:::b", Name: "b ✓", ObservedAt: t0, UpdatedAt: t0, Doc: json.RawMessage(`{"uid":"arn:aws:s3:::b","attributes":{"x":[1,null]}}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveScan(ctx, store.Scan{ID: "scan-1", Tenant: "a", Packs: []string{"cis-aws-3.0"}, StartedAt: t0, FinishedAt: t1, Evaluated: 1, Failed: 1},
		[]store.ControlResult{{Pack: "cis-aws-3.0", Control: "2.1.4", RuleID: "r", ResourceKey: "aws|1|AWS::S3::Bucket|b", ResourceUID: "arn:aws:s3:::b",
			ResourceType: "AWS::S3::Bucket", Status: "fail", Severity: "high", Message: "public"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEvidence(ctx, "a", store.Evidence{Pack: "cis-aws-3.0", Control: "1.1", Status: "accepted", Reference: "DOC-1", UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutContract(ctx, "a", "c.yaml", []byte("vendors: []\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateNotice(ctx, store.NoticeRow{ID: "n-1", Tenant: "a", Party: "acme", State: "open", Severity: "high", Contact: "oncall",
		CreatedAt: t0, NotifiedAt: t0, Deadline: t1, Doc: json.RawMessage(`{"id":"n-1","title":"é"}`)}); err != nil {
		t.Fatal(err)
	}
	hash := make([]byte, 32)
	hash[0] = 7
	if err := s.CreateDoc(ctx, "case", "a", "c-1", []byte(`{"status":"new"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.AuditAppend(ctx, store.AuditRow{Tenant: "a", Seq: 1, Time: t0, EntryTenant: "a", Actor: "x", Action: "records.ingested", Object: "file:f",
		Details: []byte(`{"records": 1}`), Prev: make([]byte, 32), Hash: hash}); err != nil {
		t.Fatal(err)
	}
}

// SameContents checks that two stores filled by [Fill] (or copied from one
// another) hold the same records of tenant "a", tokens and jobs.
func SameContents(t *testing.T, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	list := func(s store.Store, events bool) []store.Record {
		var out []store.Record
		q := store.Query{Tenant: "a"}
		for {
			var p store.Page
			var err error
			if events {
				p, err = s.Events(ctx, q)
			} else {
				p, err = s.Findings(ctx, q)
			}
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
	for _, events := range []bool{false, true} {
		ra, rb := list(a, events), list(b, events)
		if len(ra) != len(rb) {
			t.Errorf("events=%v: %d records, then %d", events, len(ra), len(rb))
			continue
		}
		for i := range ra {
			x, y := ra[i], rb[i]
			if !SameJSON(x.OCSF, y.OCSF) {
				t.Errorf("record %d: document %s, then %s", x.ID, x.OCSF, y.OCSF)
			}
			x.OCSF, y.OCSF = nil, nil
			if !reflect.DeepEqual(x, y) {
				t.Errorf("record %+v, then %+v", x, y)
			}
		}
	}
	ta, err := a.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ta, tb) {
		t.Errorf("tokens %+v, then %+v", ta, tb)
	}
	for _, tok := range ta {
		_, errA := a.TokenByHash(ctx, tok.Hash)
		_, errB := b.TokenByHash(ctx, tok.Hash)
		if (errA == nil) != (errB == nil) {
			t.Errorf("token %s: authenticates %v, then %v", tok.ID, errA == nil, errB == nil)
		}
	}
	// the counters follow the copied records (issue risks are derived:
	// not copied, so not compared)
	sa, errA := a.Stats(ctx, "a", t0.AddDate(0, 0, -1))
	sb, errB := b.Stats(ctx, "a", t0.AddDate(0, 0, -1))
	sa.Issues, sa.RiskBuckets, sb.Issues, sb.RiskBuckets = 0, [10]int64{}, 0, [10]int64{}
	if errA != nil || errB != nil || !sameStats(sa, sb) {
		t.Errorf("stats %+v (%v), then %+v (%v)", sa, errA, sb, errB)
	}
	if tally := TallyStats(t, b, "a", t0.AddDate(0, 0, -1)); !sameStats(sb, tally) {
		t.Errorf("stats %+v, counted from the records %+v", sb, tally)
	}
	ja, errA := a.Job(ctx, "a", "job-1")
	jb, errB := b.Job(ctx, "a", "job-1")
	if !reflect.DeepEqual(ja, jb) || (errA == nil) != (errB == nil) {
		t.Errorf("job %+v (%v), then %+v (%v)", ja, errA, jb, errB)
	}
}

func testIssues(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(fp, product, key string, sev int) store.Row {
		r := row("a", fp, sev, t0)
		r.Product, r.IssueKey = product, key
		return r
	}
	write(t, s, []store.Row{
		mk("i1", "Trivy", "vuln|cve-1|openssl@1|sha256:x", 3),
		mk("i2", "Inspector", "vuln|cve-1|openssl@1|sha256:x", 4),
		mk("i3", "Prowler", "control|s3.8|arn:aws:s3:::logs", 4),
		mk("i4", "Trivy", "vuln|cve-2|curl@7|sha256:x", 2),
		mk("i5", "Trivy", "", 5), // no key: not an issue
	}, nil)
	write(t, s, []store.Row{mk("i1", "Trivy", "vuln|cve-1|openssl@1|sha256:x", 3)}, nil) // i1 again
	issues, err := s.Issues(ctx, store.Query{Tenant: "a"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != 3 {
		t.Fatalf("issues = %+v, want 3", issues)
	}
	first := issues[0] // severity 4 ties: ordered by key, "control|…" first
	if first.Key != "control|s3.8|arn:aws:s3:::logs" || first.Findings != 1 {
		t.Errorf("first issue = %+v", first)
	}
	cve := issues[1]
	if cve.Key != "vuln|cve-1|openssl@1|sha256:x" || cve.Findings != 2 || cve.Count != 3 || cve.SeverityID != 4 ||
		strings.Join(cve.Sources, ",") != "Inspector,Trivy" || len(cve.FindingIDs) != 2 {
		t.Errorf("cross-tool issue = %+v, want 2 findings, count 3, severity 4, sources Inspector,Trivy", cve)
	}
	if page, _ := s.Issues(ctx, store.Query{Tenant: "a", Limit: 1}, 2); len(page) != 1 || page[0].Key != "vuln|cve-2|curl@7|sha256:x" {
		t.Errorf("third issue by offset = %+v", page)
	}
	if other, _ := s.Issues(ctx, store.Query{Tenant: "b"}, 0); len(other) != 0 {
		t.Errorf("tenant b sees issues %+v", other)
	}
	src, err := s.Sources(ctx, "a", []string{"vuln|cve-1|openssl@1|sha256:x", "control|s3.8|arn:aws:s3:::logs", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(src["vuln|cve-1|openssl@1|sha256:x"], ",") != "Inspector,Trivy" || len(src["control|s3.8|arn:aws:s3:::logs"]) != 1 || len(src["nope"]) != 0 {
		t.Errorf("sources = %v", src)
	}
	members := all(t, s, store.Query{Tenant: "a", IssueKey: "vuln|cve-1|openssl@1|sha256:x"})
	if len(members) != 2 || members[0].IssueKey != "vuln|cve-1|openssl@1|sha256:x" {
		t.Errorf("findings of the issue = %+v", members)
	}
	// a re-ingest may change a finding's key
	write(t, s, []store.Row{mk("i4", "Trivy", "vuln|cve-2|curl@8|sha256:x", 2)}, nil)
	if got := all(t, s, store.Query{Tenant: "a", IssueKey: "vuln|cve-2|curl@8|sha256:x"}); len(got) != 1 {
		t.Errorf("updated key not stored: %+v", got)
	}
}

// samePlain checks the plain tables' rows came across intact.
func samePlain(t *testing.T, src, dst store.Store) {
	t.Helper()
	ctx := context.Background()
	r1, _ := src.Resources(ctx, store.ResourceQuery{Tenant: "a"})
	r2, _ := dst.Resources(ctx, store.ResourceQuery{Tenant: "a"})
	if len(r1) != 1 || len(r2) != 1 || r2[0].Name != r1[0].Name || !sameJSON(r1[0].Doc, r2[0].Doc) || !r2[0].ObservedAt.Equal(r1[0].ObservedAt) {
		t.Errorf("resources after the copy: %+v, was %+v", r2, r1)
	}
	if sc, res, err := dst.LatestScan(ctx, "a", "cis-aws-3.0"); err != nil || sc.ID != "scan-1" || len(res) != 1 || res[0].Message != "public" {
		t.Errorf("scan after the copy: %+v %+v %v", sc, res, err)
	}
	if ev, _ := dst.Evidence(ctx, "a", "cis-aws-3.0"); ev["1.1"].Reference != "DOC-1" {
		t.Errorf("evidence after the copy: %+v", ev)
	}
	if _, doc, err := dst.Contract(ctx, "a"); err != nil || string(doc) != "vendors: []\n" {
		t.Errorf("contract after the copy: %q %v", doc, err)
	}
	if n, err := dst.Notice(ctx, "n-1"); err != nil || !sameJSON(n.Doc, json.RawMessage(`{"id":"n-1","title":"é"}`)) || !n.Deadline.Equal(t1) {
		t.Errorf("notice after the copy: %+v %v", n, err)
	}
	last, err := dst.AuditLast(ctx, "a")
	if err != nil || last.Seq != 1 || string(last.Details) != `{"records": 1}` || last.Hash[0] != 7 || !last.Time.Equal(t0) {
		t.Errorf("audit after the copy: %+v %v", last, err)
	}
}
