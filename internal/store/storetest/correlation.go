package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// testCorrelationQueue: every new record is queued once, in the upsert's
// transaction; updates are not queued; a step removes what it correlated,
// and a step taking records another step took writes nothing.
func testCorrelationQueue(t *testing.T, s store.Store) {
	ctx := context.Background()
	st, err := s.CorrelationState(ctx, "t1")
	if err != nil || st.Built || st.Records != 0 {
		t.Fatalf("state of a new tenant = %+v, %v", st, err)
	}
	write(t, s, []store.Row{row("t1", "a", 3, t0), row("t1", "b", 3, t0), row("t2", "c", 3, t0)}, []store.Row{row("t1", "e1", 1, t0)})
	write(t, s, []store.Row{row("t1", "a", 3, t0.Add(time.Hour))}, nil) // an update: not queued again

	// a rolled-back upsert queues nothing
	a, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpsertFindings(ctx, []store.Row{row("t1", "gone", 3, t0)}); err != nil {
		t.Fatal(err)
	}
	a.Rollback()

	q, err := s.Queued(ctx, "t1", 100)
	if err != nil {
		t.Fatal(err)
	}
	fa := all(t, s, store.Query{Tenant: "t1"})
	ev, err := s.Events(ctx, store.Query{Tenant: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Ref{store.EventRef(ev.Records[0].ID)}
	for _, r := range fa {
		want = append(want, store.FindingRef(r.ID))
	}
	slices.Sort(want)
	if !slices.Equal(q, want) {
		t.Fatalf("queued = %v, want %v", q, want)
	}
	if q2, _ := s.Queued(ctx, "t2", 100); len(q2) != 1 {
		t.Fatalf("t2 queued = %v, want 1", q2)
	}

	// a step takes two; another step naming one of them conflicts
	if err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Done: q[:2]}); err != nil {
		t.Fatal(err)
	}
	err = s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Done: q[1:],
		Put: []store.IncidentRow{{ID: "x", Title: "x", Members: q[1:], Doc: json.RawMessage(`{}`)}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taking a record twice: err = %v, want ErrConflict", err)
	}
	if _, err := s.Incident(ctx, "t1", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a conflicting step wrote an incident: %v", err)
	}
	if q3, _ := s.Queued(ctx, "t1", 100); !slices.Equal(q3, q[2:]) {
		t.Fatalf("after one step queued = %v, want %v", q3, q[2:])
	}
	if st, _ := s.CorrelationState(ctx, "t1"); !st.Built || st.Records != 2 {
		t.Fatalf("state = %+v, want built with 2 records", st)
	}
	// a reset counts what it names, queued or not
	if err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Reset: true, Done: want}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.CorrelationState(ctx, "t1"); st.Records != int64(len(want)) {
		t.Fatalf("state after reset = %+v, want %d records", st, len(want))
	}
	if q4, _ := s.Queued(ctx, "t1", 100); len(q4) != 0 {
		t.Fatalf("queued after reset = %v", q4)
	}
	recs, err := s.RecordsByRef(ctx, "t1", want)
	if err != nil || len(recs) != len(want) {
		t.Fatalf("RecordsByRef = %d records, %v; want %d", len(recs), err, len(want))
	}
	if recs, _ := s.RecordsByRef(ctx, "t2", want); len(recs) != 0 {
		t.Fatalf("RecordsByRef crossed tenants: %d", len(recs))
	}
}

// testIncidents: entity index, incidents with members, merges and issue
// risks round-trip, per tenant.
func testIncidents(t *testing.T, s store.Store) {
	ctx := context.Background()
	ents := []store.EntityRow{
		{Hash: 1, Kind: "ip", Value: "203.0.113.7", Ref: 101, Time: t0},
		{Hash: 1, Kind: "ip", Value: "203.0.113.7", Ref: -102, Time: t0.Add(time.Hour)},
		{Hash: 2, Kind: "identity", Value: "alice", Ref: 101, Time: t0},
		{Hash: 1, Kind: "ip", Value: "203.0.113.7", Ref: 103, Time: t0.Add(48 * time.Hour)},
	}
	in := func(id string, risk int, last time.Time, members ...store.Ref) store.IncidentRow {
		return store.IncidentRow{ID: id, Title: "incident " + id, Risk: risk, SeverityID: 4, Tactics: 2, FirstSeen: t0, LastSeen: last,
			Members: members, Doc: json.RawMessage(`{"id":"` + id + `","risk":{"score":` + string(rune('0'+risk/10)) + `0}}`), UpdatedAt: t0}
	}
	err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Reset: true, Done: []store.Ref{101, -102, 103}, Entities: slices.Values(ents),
		Put:   []store.IncidentRow{in("a", 40, t0, 101, -102), in("b", 70, t0, 103)},
		Risks: []store.IssueRisk{{Key: "k1", Score: 55, Doc: json.RawMessage(`{"score":55}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := s.EntityCounts(ctx, "t1", []int64{1, 2, 9})
	if err != nil || counts[1] != 3 || counts[2] != 1 || len(counts) != 2 {
		t.Fatalf("EntityCounts = %v, %v", counts, err)
	}
	refs, err := s.EntityRefs(ctx, "t1", []int64{1, 2}, t0, t0.Add(24*time.Hour))
	if err != nil || len(refs) != 3 {
		t.Fatalf("EntityRefs in a day = %v, %v; want 3", refs, err)
	}
	if c, _ := s.EntityCounts(ctx, "t2", []int64{1}); len(c) != 0 {
		t.Fatalf("EntityCounts crossed tenants: %v", c)
	}
	list, err := s.Incidents(ctx, store.IncidentQuery{Tenant: "t1"})
	if err != nil || len(list) != 2 || list[0].ID != "b" || list[1].ID != "a" {
		t.Fatalf("Incidents = %+v, %v; want b then a (riskiest first)", list, err)
	}
	if list, _ := s.Incidents(ctx, store.IncidentQuery{Tenant: "t1", MinRisk: 50}); len(list) != 1 {
		t.Fatalf("MinRisk 50 gave %d incidents", len(list))
	}
	if list, _ := s.Incidents(ctx, store.IncidentQuery{Tenant: "t2"}); len(list) != 0 {
		t.Fatalf("incidents crossed tenants: %v", list)
	}
	if st, err := s.Stats(ctx, "t1", t0); err != nil || st.Incidents != 2 {
		t.Fatalf("Stats.Incidents = %d, %v; want 2", st.Incidents, err)
	}
	if st, err := s.Stats(ctx, "t2", t0); err != nil || st.Incidents != 0 {
		t.Fatalf("Stats.Incidents of t2 = %d, %v; want 0", st.Incidents, err)
	}
	got, err := s.Incident(ctx, "t1", "a")
	if err != nil || !slices.Equal(got.Members, []store.Ref{101, -102}) || got.Risk != 40 || got.Title != "incident a" || !got.LastSeen.Equal(t0) {
		t.Fatalf("Incident a = %+v, %v", got, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(got.Doc, &doc); err != nil || doc["id"] != "a" {
		t.Fatalf("incident doc = %s, %v", got.Doc, err)
	}
	if _, err := s.Incident(ctx, "t2", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Incident of another tenant: %v", err)
	}
	of, err := s.IncidentsOf(ctx, "t1", []store.Ref{101, -102, 103, 104})
	if err != nil || of[101] != "a" || of[-102] != "a" || of[103] != "b" || len(of) != 3 {
		t.Fatalf("IncidentsOf = %v, %v", of, err)
	}
	// b merges into a
	write(t, s, []store.Row{row("t1", "n", 3, t0)}, nil)
	q, _ := s.Queued(ctx, "t1", 10)
	err = s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Done: q, Delete: []string{"b"},
		Put: []store.IncidentRow{in("a", 90, t0.Add(48*time.Hour), 101, -102, 103, q[0])}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incident(ctx, "t1", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("merged incident b still there: %v", err)
	}
	got, _ = s.Incident(ctx, "t1", "a")
	if !slices.Equal(got.Members, []store.Ref{101, -102, 103, q[0]}) || got.Risk != 90 {
		t.Fatalf("after merge a = %+v", got)
	}
	members := map[store.Ref]string{}
	if err := s.AllIncidentMembers(ctx, "t1", func(r store.Ref, id string) error { members[r] = id; return nil }); err != nil || len(members) != 4 {
		t.Fatalf("AllIncidentMembers = %v, %v", members, err)
	}
	// a split: a keeps two members, the others leave
	if err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Put: []store.IncidentRow{in("a", 90, t0, 101, -102)}}); err != nil {
		t.Fatal(err)
	}
	if of, _ := s.IncidentsOf(ctx, "t1", []store.Ref{103}); len(of) != 0 {
		t.Fatalf("a member that left is still a member: %v", of)
	}

	risks, err := s.IssueRisks(ctx, "t1", []string{"k1", "k2"})
	if err != nil || len(risks) != 1 || risks["k1"].Score != 55 {
		t.Fatalf("IssueRisks = %v, %v", risks, err)
	}
	// a reset clears everything derived
	if err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Reset: true}); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Incidents(ctx, store.IncidentQuery{Tenant: "t1"}); len(list) != 0 {
		t.Fatalf("incidents after reset: %v", list)
	}
	if st, _ := s.Stats(ctx, "t1", t0); st.Incidents != 0 {
		t.Fatalf("Stats.Incidents after reset = %d", st.Incidents)
	}
	if c, _ := s.EntityCounts(ctx, "t1", []int64{1, 2}); len(c) != 0 {
		t.Fatalf("entities after reset: %v", c)
	}
	if r, _ := s.IssueRisks(ctx, "t1", []string{"k1"}); len(r) != 0 {
		t.Fatalf("issue risks after reset: %v", r)
	}
}

// testRiskOrder: findings and issues listed by their issue's stored risk,
// with paging, unscored last.
func testRiskOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	var rows []store.Row
	for i, k := range []string{"low", "high", "none", "high", "mid"} {
		r := row("t1", k+string(rune('0'+i)), 3, t0)
		r.IssueKey = k
		rows = append(rows, r)
	}
	write(t, s, rows, nil)
	err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Reset: true, Risks: []store.IssueRisk{
		{Key: "low", Score: 10, Doc: json.RawMessage(`{"score":10}`)}, {Key: "high", Score: 90, Doc: json.RawMessage(`{"score":90}`)},
		{Key: "mid", Score: 50, Doc: json.RawMessage(`{"score":50}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var scores []int
	q := store.Query{Tenant: "t1", ByRisk: true, Limit: 2}
	for {
		p, err := s.Findings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			keys = append(keys, r.IssueKey)
			scores = append(scores, r.RiskScore)
		}
		if p.Next.IsZero() {
			break
		}
		q.After = p.Next
	}
	if !slices.Equal(keys, []string{"high", "high", "mid", "low", "none"}) || !slices.Equal(scores, []int{90, 90, 50, 10, -1}) {
		t.Fatalf("findings by risk = %v %v", keys, scores)
	}
	issues, err := s.Issues(ctx, store.Query{Tenant: "t1", ByRisk: true}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, is := range issues {
		got = append(got, is.Key)
	}
	if !slices.Equal(got, []string{"high", "mid", "low", "none"}) || issues[0].RiskScore != 90 || string(issues[0].Risk) != `{"score":90}` || issues[3].RiskScore != -1 || issues[3].Risk != nil {
		t.Fatalf("issues by risk = %v (%+v)", got, issues)
	}
}

// testRiskListing: findings listed by risk, paged by every page size,
// against a model of the order (score descending, ties by id, unscored
// last by id: a finding without an issue key, or whose key has no stored
// risk), alone and with each filter; the cursor crosses ties, issues and
// the step from scored to unscored findings.
func testRiskListing(t *testing.T, s store.Store) {
	ctx := context.Background()
	// fingerprint, issue key, severity, product, party, title; keys a and b
	// tie at 90, d has no stored risk, "" is no key
	specs := []struct {
		fp, key string
		sev     int
		product string
		party   string
		title   string
	}{
		{"f01", "b", 4, "Trivy", "customer", "openssl in base image"},
		{"f02", "a", 5, "Prowler", "provider", "public bucket"},
		{"f03", "", 4, "Trivy", "customer", "OpenSSL without issue"},
		{"f04", "c", 2, "Prowler", "customer", "weak cipher"},
		{"f05", "d", 4, "Grype", "", "openssl unscored"},
		{"f06", "a", 4, "Trivy", "customer", "public bucket again"},
		{"f07", "b", 3, "Grype", "provider", "curl"},
		{"f08", "", 1, "Prowler", "", "no key either"},
		{"f09", "a", 4, "prowler", "customer", "OPENSSL in layer"},
		{"f10", "d", 5, "Trivy", "customer", "unscored critical"},
		{"f11", "e", 4, "Trivy", "provider", "low risk"},
		{"f12", "c", 4, "Trivy", "customer", "openssl again"},
	}
	scores := map[string]int{"a": 90, "b": 90, "c": 50, "e": 0}
	var rows []store.Row
	for _, sp := range specs {
		r := row("t1", sp.fp, sp.sev, t0)
		r.IssueKey, r.Product, r.Title = sp.key, sp.product, sp.title
		rows = append(rows, r)
		o := r // the other tenant: the same keys, scored otherwise
		o.Tenant, o.Fingerprint = "t2", "t2-"+sp.fp
		rows = append(rows, o)
	}
	write(t, s, rows, nil)
	byFP := map[string]store.Record{}
	for _, r := range all(t, s, store.Query{Tenant: "t1"}) {
		byFP[r.Fingerprint] = r
	}
	var attr []store.Attribution
	for _, sp := range specs {
		if sp.party != "" {
			attr = append(attr, store.Attribution{ID: byFP[sp.fp].ID, Party: sp.party, Area: "configuration", Doc: json.RawMessage(`{}`)})
		}
	}
	if err := s.SetAttributions(ctx, "t1", attr); err != nil {
		t.Fatal(err)
	}
	// a stored risk under the empty key scores no finding: "" is no issue
	risks := []store.IssueRisk{{Key: "", Score: 99, Doc: json.RawMessage(`{}`)}}
	for k, sc := range scores {
		risks = append(risks, store.IssueRisk{Key: k, Score: sc, Doc: json.RawMessage(`{}`)})
	}
	if err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Reset: true, Risks: risks}); err != nil {
		t.Fatal(err)
	}
	err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t2", Reset: true, Risks: []store.IssueRisk{
		{Key: "d", Score: 100, Doc: json.RawMessage(`{}`)}, {Key: "c", Score: 95, Doc: json.RawMessage(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}

	// the model: t1's findings in risk order
	type ranked struct {
		fp    string
		id    int64
		score int
	}
	var order []ranked
	for _, sp := range specs {
		sc, ok := scores[sp.key]
		if !ok || sp.key == "" {
			sc = -1
		}
		order = append(order, ranked{sp.fp, byFP[sp.fp].ID, sc})
	}
	slices.SortFunc(order, func(a, b ranked) int {
		if a.score != b.score {
			return b.score - a.score
		}
		return int(a.id - b.id)
	})
	spec := map[string]int{}
	for i, sp := range specs {
		spec[sp.fp] = i
	}
	tests := []struct {
		name string
		q    store.Query
		keep func(i int) bool // which of specs the query selects
	}{
		{"all", store.Query{}, func(int) bool { return true }},
		{"severity", store.Query{Severities: []int{4}}, func(i int) bool { return specs[i].sev == 4 }},
		{"two severities", store.Query{Severities: []int{2, 5}}, func(i int) bool { return specs[i].sev == 2 || specs[i].sev == 5 }},
		{"product", store.Query{Products: []string{"PROWLER"}}, func(i int) bool { return strings.EqualFold(specs[i].product, "prowler") }},
		{"party", store.Query{Party: "customer"}, func(i int) bool { return specs[i].party == "customer" }},
		{"party and severity", store.Query{Party: "customer", Severities: []int{4}}, func(i int) bool { return specs[i].party == "customer" && specs[i].sev == 4 }},
		{"text", store.Query{Text: "openssl"}, func(i int) bool { return strings.Contains(strings.ToLower(specs[i].title), "openssl") }},
		{"issue key", store.Query{IssueKey: "a"}, func(i int) bool { return specs[i].key == "a" }},
		{"unscored issue key", store.Query{IssueKey: "d"}, func(i int) bool { return specs[i].key == "d" }},
		{"party with none", store.Query{Party: "vendor"}, func(int) bool { return false }},
	}
	for _, tt := range tests {
		var want []string
		var wantScores []int
		for _, o := range order {
			if tt.keep(spec[o.fp]) {
				want = append(want, o.fp)
				wantScores = append(wantScores, o.score)
			}
		}
		for _, limit := range []int{1, 2, 3, 5, 50} {
			q := tt.q
			q.Tenant, q.ByRisk, q.Limit = "t1", true, limit
			var got []string
			var gotScores []int
			for pages := 0; ; pages++ {
				if pages > len(specs) {
					t.Fatalf("%s, pages of %d: no end", tt.name, limit)
				}
				p, err := s.Findings(ctx, q)
				if err != nil {
					t.Fatalf("%s, pages of %d: %v", tt.name, limit, err)
				}
				if len(p.Records) > limit {
					t.Fatalf("%s, pages of %d: a page of %d", tt.name, limit, len(p.Records))
				}
				for _, r := range p.Records {
					got = append(got, r.Fingerprint)
					gotScores = append(gotScores, r.RiskScore)
					if r.Tenant != "t1" || r.OCSF == nil || r.ID != byFP[r.Fingerprint].ID || r.Party != specs[spec[r.Fingerprint]].party {
						t.Fatalf("%s: record %+v", tt.name, r)
					}
				}
				if p.Next.IsZero() {
					break
				}
				if last := p.Records[len(p.Records)-1]; p.Next != (store.Cursor{Key: int64(last.RiskScore), ID: last.ID}) {
					t.Fatalf("%s, pages of %d: cursor %+v after %+v", tt.name, limit, p.Next, last)
				}
				q.After = p.Next
			}
			if !slices.Equal(got, want) || !slices.Equal(gotScores, wantScores) {
				t.Errorf("%s, pages of %d: %v %v, want %v %v", tt.name, limit, got, gotScores, want, wantScores)
			}
		}
	}
	// a cursor in the unscored part, as a client would send it
	p, err := s.Findings(ctx, store.Query{Tenant: "t1", ByRisk: true, After: store.Cursor{Key: -1, ID: byFP["f03"].ID}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Records {
		got = append(got, r.Fingerprint)
	}
	if !slices.Equal(got, []string{"f05", "f08", "f10"}) {
		t.Fatalf("after the first unscored finding: %v", got)
	}
}

// testResponsibility: attributions are stored on findings, filter them and
// their issues; issue and incident attributions round-trip; contracts are
// per tenant.
func testResponsibility(t *testing.T, s store.Store) {
	ctx := context.Background()
	var rows []store.Row
	for _, k := range []string{"a", "b", "c"} {
		r := row("t1", k, 3, t0)
		r.IssueKey = "key-" + k
		rows = append(rows, r)
	}
	write(t, s, rows, nil)
	fs := all(t, s, store.Query{Tenant: "t1"})
	byFP := map[string]int64{}
	for _, f := range fs {
		byFP[f.Fingerprint] = f.ID
	}
	doc := json.RawMessage(`{"party":"customer","area":"configuration"}`)
	err := s.SetAttributions(ctx, "t1", []store.Attribution{
		{ID: byFP["a"], Party: "customer", Area: "configuration", Doc: doc},
		{ID: byFP["b"], Party: "provider", Area: "host_virtualization", Doc: json.RawMessage(`{"party":"provider"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := all(t, s, store.Query{Tenant: "t1", Party: "customer"})
	if len(got) != 1 || got[0].Fingerprint != "a" || got[0].Area != "configuration" || string(got[0].Responsibility) != string(doc) {
		t.Fatalf("findings of the customer = %+v", got)
	}
	one, _ := s.Finding(ctx, "t1", byFP["c"])
	if one.Party != "" || one.Responsibility != nil {
		t.Fatalf("unattributed finding = %+v", one)
	}
	issues, err := s.Issues(ctx, store.Query{Tenant: "t1", Party: "provider"}, 0)
	if err != nil || len(issues) != 1 || issues[0].Key != "key-b" {
		t.Fatalf("issues of the provider = %+v, %v", issues, err)
	}
	err = s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "t1", Reset: true,
		Risks: []store.IssueRisk{{Key: "key-a", Score: 10, Doc: json.RawMessage(`{"score":10}`), Responsibility: doc}},
		Put:   []store.IncidentRow{{ID: "i1", Title: "x", Risk: 5, Party: "vendor", Members: []store.Ref{101}, Doc: json.RawMessage(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	issues, _ = s.Issues(ctx, store.Query{Tenant: "t1", IssueKey: "key-a"}, 0)
	if len(issues) != 1 || string(issues[0].Responsibility) != string(doc) {
		t.Fatalf("issue responsibility = %+v", issues)
	}
	if incs, _ := s.Incidents(ctx, store.IncidentQuery{Tenant: "t1", Party: "vendor"}); len(incs) != 1 || incs[0].Party != "vendor" {
		t.Fatalf("incidents of the vendor = %+v", incs)
	}
	if incs, _ := s.Incidents(ctx, store.IncidentQuery{Tenant: "t1", Party: "customer"}); len(incs) != 0 {
		t.Fatalf("incidents of the customer = %+v", incs)
	}
	if _, _, err := s.Contract(ctx, "t1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("contract before any: %v", err)
	}
	if err := s.PutContract(ctx, "t1", "mssp.yaml", []byte("vendors: []\n")); err != nil {
		t.Fatal(err)
	}
	if name, d, err := s.Contract(ctx, "t1"); err != nil || name != "mssp.yaml" || string(d) != "vendors: []\n" {
		t.Fatalf("contract = %s %q %v", name, d, err)
	}
	if _, _, err := s.Contract(ctx, "t2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("contract crossed tenants: %v", err)
	}
}
