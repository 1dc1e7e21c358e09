package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// BenchUpsert is the store benchmark every implementation runs: 100,000
// findings of about 2.7 KB of OCSF JSON each (the size the Trivy mapping
// produces) written in batches of 1,000 in one transaction, into a new
// store ("new") and again as duplicates ("duplicates"). open must return a
// new, empty store; it is not timed.
func BenchUpsert(b *testing.B, open func(b *testing.B) store.Store) {
	const n = 100_000
	blob := []byte(`{"x":"` + strings.Repeat("a", 2700) + `"}`)
	rows := make([]store.Row, n)
	now := time.Now()
	for i := range rows {
		rows[i] = store.Row{Tenant: "default", Fingerprint: fmt.Sprintf("%032x", i*7919), ClassUID: 2002, SeverityID: i % 6,
			Product: "Trivy", Format: "trivy/1", SourceUID: fmt.Sprint(i), ResourceUID: "img", Title: "CVE", Time: now, Seen: now, OCSF: blob}
	}
	write := func(b *testing.B, s store.Store) {
		ctx := context.Background()
		a, err := s.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i += 1000 {
			if _, err := a.UpsertFindings(ctx, rows[i:i+1000]); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	for _, phase := range []string{"new", "duplicates"} {
		b.Run(phase, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := open(b)
				if phase == "duplicates" {
					write(b, s)
				}
				b.StartTimer()
				write(b, s)
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// The store BenchConsole builds: ConsoleFindings findings of tenant
// "default" with a realistic spread, ConsoleIssues issue keys with a stored
// risk, ConsoleEvents events, and a small second tenant.
const (
	ConsoleFindings = 1_000_000
	ConsoleIssues   = 300_000
	ConsoleEvents   = 50_000
	consoleDays     = 90
)

// consoleProducts are the 15 sources of the console benchmark's findings.
func consoleProducts() []string {
	return []string{"Trivy", "Grype", "Inspector", "Prowler", "Checkov", "tfsec", "Semgrep", "GuardDuty", "Security Hub",
		"Defender", "Snyk", "Clair", "Falco", "Macie", "ScoutSuite"}
}

// consoleTerms start the findings' titles, one in ten each: "openssl" is
// the common term of the text benchmarks.
func consoleTerms() []string {
	return []string{"openssl", "glibc", "curl", "zlib", "S3 bucket policy", "security group", "IAM role", "encryption at rest", "audit logging", "MFA"}
}

// ConsoleParty is the party the benchmark attributes finding i to: a
// quarter each of provider, customer, shared and not attributed ("").
func ConsoleParty(i int) string { return []string{"", "customer", "provider", "shared"}[(i/3)%4] }

// ConsoleRow is finding i (0-based) of the console benchmark: severities
// 0–5 skewed to medium (2 % unknown, 10 % informational, 25 % low, 35 %
// medium, 20 % high, 8 % critical), 15 products, an issue key shared by
// about 3.3 findings, first seen over the 90 days before now, a title
// opened by one of ten terms, and "regreSSHion" (the rare term) in 4
// titles of a million.
func ConsoleRow(i int, now time.Time) store.Row {
	sev := 5
	switch p := (i * 7919) % 100; {
	case p < 2:
		sev = 0
	case p < 12:
		sev = 1
	case p < 37:
		sev = 2
	case p < 72:
		sev = 3
	case p < 92:
		sev = 4
	}
	products, terms := consoleProducts(), consoleTerms()
	title := fmt.Sprintf("%s: CVE-2025-%05d in package pkg-%d", terms[(i/11)%len(terms)], i%40000, i%5000)
	if i%250_000 == 4321 {
		title = "openssh-server: regreSSHion remote code execution (CVE-2024-6387)"
	}
	seen := now.Add(-time.Duration((i*31)%consoleDays)*24*time.Hour - time.Duration(i%86400)*time.Second)
	r := store.Row{Tenant: "default", Fingerprint: fmt.Sprintf("%032x", i), ClassUID: 2002, SeverityID: sev, Product: products[(i/7)%len(products)],
		Format: "bench/1", SourceUID: fmt.Sprint(i), ResourceUID: fmt.Sprintf("arn:aws:ec2:us-east-1:123456789012:instance/i-%08x", i%50000),
		IssueKey: fmt.Sprintf("issue-%06d", i%ConsoleIssues), Title: title, Time: seen, Seen: seen}
	r.OCSF = fmt.Appendf(nil, `{"class_uid":2002,"category_uid":2,"type_uid":200201,"activity_id":1,"severity_id":%d,"time":%d,`+
		`"metadata":{"version":"1.8.0","product":{"name":%q,"vendor_name":"bench"}},"finding_info":{"uid":"%d","title":%q,"types":["Vulnerability"]},`+
		`"resources":[{"uid":%q,"type":"AWS::EC2::Instance","region":"us-east-1"}],"cloud":{"provider":"AWS","account":{"uid":"123456789012"}},`+
		`"vulnerabilities":[{"cve":{"uid":"CVE-2025-%05d"},"affected_packages":[{"name":"pkg-%d","version":"1.0.%d"}]}],"status_id":1}`,
		sev, seen.UnixMilli(), r.Product, i, title, r.ResourceUID, i%40000, i%5000, i%97)
	return r
}

// BenchConsole measures what the web console asks of a store with
// ConsoleFindings findings: the summary (Stats), the first page of
// findings, a page filtered by severity and source, a page 20 pages in,
// text searches for a common and a rare term, the first page and page 21
// by risk (alone and with a severity), a party's findings (with and
// without a severity, and a party with none), and the first page of
// issues (by severity and by risk). The store is built through the store's own write paths (upserts,
// attributions, correlation's issue risks), so its counters are kept by
// the triggers as in production; building it takes minutes, and happens
// only when benchmarks run. open must return a new, empty store; settle,
// when not nil, runs after the fill, before anything is timed (what the
// database's own maintenance would have done by then, such as PostgreSQL's
// autovacuum analysing the new rows).
func BenchConsole(b *testing.B, open func(b *testing.B) store.Store, settle func(b *testing.B, s store.Store)) {
	ctx := context.Background()
	s := open(b)
	defer s.Close()
	now := time.Now()
	start := time.Now()
	fillConsole(b, s, now)
	b.Logf("filled %d findings, %d events, %d issue risks in %v", ConsoleFindings, ConsoleEvents, ConsoleIssues, time.Since(start).Round(time.Second))
	if settle != nil {
		start = time.Now()
		settle(b, s)
		b.Logf("settled in %v", time.Since(start).Round(time.Second))
	}
	since := now.AddDate(0, 0, -30)
	start = time.Now()
	st, err := s.Stats(ctx, "default", since)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first Stats after the fill (a PostgreSQL store compacts its counters here): %v", time.Since(start).Round(time.Millisecond))
	unattributed := int64(0)
	for i := range ConsoleFindings {
		if ConsoleParty(i) == "" {
			unattributed++
		}
	}
	if st.Findings != ConsoleFindings || st.Events != ConsoleEvents || st.Issues != ConsoleIssues || st.ByParty[""] != unattributed || len(st.BySource) != 15 {
		b.Fatalf("Stats = findings %d, events %d, issues %d, by party %v, %d sources", st.Findings, st.Events, st.Issues, st.ByParty, len(st.BySource))
	}

	deep := store.Query{Tenant: "default", Limit: 50}
	for range 20 {
		p, err := s.Findings(ctx, deep)
		if err != nil {
			b.Fatal(err)
		}
		deep.After = p.Next
	}
	// page 21 by risk starts after the 1000th finding by risk: one page of
	// 1000 gives the cursor that 20 pages of 50 would
	riskDeep := store.Query{Tenant: "default", ByRisk: true, Limit: 50}
	{
		p, err := s.Findings(ctx, store.Query{Tenant: "default", ByRisk: true, Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		last := p.Records[len(p.Records)-1]
		riskDeep.After = store.Cursor{Key: int64(last.RiskScore), ID: last.ID}
	}
	tests := []struct {
		name string
		run  func() (int, error) // how many records or issues came
		min  int
	}{
		{"Stats", func() (int, error) {
			st, err := s.Stats(ctx, "default", since)
			return int(st.Findings), err
		}, ConsoleFindings},
		{"FindingsFirstPage", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Limit: 50})
			return len(p.Records), err
		}, 50},
		{"FindingsSeverityAndSource", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Severities: []int{4}, Products: []string{"prowler"}, Limit: 50})
			return len(p.Records), err
		}, 50},
		{"FindingsTwoSeveritiesAndSource", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Severities: []int{1, 4}, Products: []string{"prowler"}, Limit: 50})
			return len(p.Records), err
		}, 50},
		{"FindingsPage21", func() (int, error) {
			p, err := s.Findings(ctx, deep)
			return len(p.Records), err
		}, 50},
		{"TextCommon", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Text: "OpenSSL", Limit: 50})
			return len(p.Records), err
		}, 50},
		{"TextRare", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Text: "regresshion", Limit: 50})
			return len(p.Records), err
		}, 4},
		{"ByRiskFirstPage", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", ByRisk: true, Limit: 50})
			return len(p.Records), err
		}, 50},
		{"ByRiskPage21", func() (int, error) {
			p, err := s.Findings(ctx, riskDeep)
			return len(p.Records), err
		}, 50},
		{"ByRiskAndSeverity", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", ByRisk: true, Severities: []int{4}, Limit: 50})
			return len(p.Records), err
		}, 50},
		{"PartyCustomer", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Party: "customer", Limit: 50})
			return len(p.Records), err
		}, 50},
		{"PartyWithNoFindings", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Party: "vendor", Limit: 50})
			return len(p.Records), err
		}, 0},
		{"PartyAndSeverity", func() (int, error) {
			p, err := s.Findings(ctx, store.Query{Tenant: "default", Party: "customer", Severities: []int{4}, Limit: 50})
			return len(p.Records), err
		}, 50},
		{"IssuesFirstPage", func() (int, error) {
			is, err := s.Issues(ctx, store.Query{Tenant: "default", Limit: 50}, 0)
			return len(is), err
		}, 50},
		{"IssuesByRisk", func() (int, error) {
			is, err := s.Issues(ctx, store.Query{Tenant: "default", ByRisk: true, Limit: 50}, 0)
			return len(is), err
		}, 50},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				n, err := tt.run()
				if err != nil {
					b.Fatal(err)
				}
				if n < tt.min {
					b.Fatalf("%d results, want at least %d", n, tt.min)
				}
			}
		})
	}
}

// fillConsole writes the console benchmark's store through the store's
// write paths: findings and events in transactions of 10,000, then the
// attributions, then the issue risks.
func fillConsole(b *testing.B, s store.Store, now time.Time) {
	ctx := context.Background()
	const perTx, perCall = 10_000, 1000
	rows := make([]store.Row, perTx)
	write := func(n int, events bool, mk func(i int) store.Row) {
		for i := 0; i < n; i += perTx {
			a, err := s.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			m := min(perTx, n-i)
			for j := range m {
				rows[j] = mk(i + j)
			}
			for j := 0; j < m; j += perCall {
				part := rows[j:min(j+perCall, m)]
				if events {
					_, err = a.UpsertEvents(ctx, part)
				} else {
					_, err = a.UpsertFindings(ctx, part)
				}
				if err != nil {
					a.Rollback()
					b.Fatal(err)
				}
			}
			if err := a.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	write(ConsoleFindings, false, func(i int) store.Row { return ConsoleRow(i, now) })
	write(ConsoleEvents, true, func(i int) store.Row {
		r := ConsoleRow(i, now)
		r.ClassUID, r.IssueKey, r.Fingerprint = 6003, "", "ev"+r.Fingerprint
		return r
	})
	write(10_000, false, func(i int) store.Row { // another tenant, for realism of the tenant filters
		r := ConsoleRow(i, now)
		r.Tenant, r.Fingerprint = "other", "other"+r.Fingerprint
		return r
	})
	// both stores give ids in insertion order: finding i has id i+1
	for _, i := range []int{0, 1, ConsoleFindings / 2, ConsoleFindings - 1} {
		r, err := s.Finding(ctx, "default", int64(i+1))
		if err != nil || r.Fingerprint != fmt.Sprintf("%032x", i) {
			b.Fatalf("finding %d: %+v, %v (ids are not in insertion order)", i+1, r.Fingerprint, err)
		}
	}
	var attr []store.Attribution
	for i := range ConsoleFindings {
		if p := ConsoleParty(i); p != "" {
			attr = append(attr, store.Attribution{ID: int64(i + 1), Party: p, Area: "configuration", Doc: json.RawMessage(`{"party":"` + p + `"}`)})
		}
		if len(attr) == perTx || i == ConsoleFindings-1 {
			if err := s.SetAttributions(ctx, "default", attr); err != nil {
				b.Fatal(err)
			}
			attr = attr[:0]
		}
	}
	risks := make([]store.IssueRisk, ConsoleIssues)
	for i := range risks {
		sc := (i * 37) % 101
		risks[i] = store.IssueRisk{Key: fmt.Sprintf("issue-%06d", i), Score: sc, Doc: fmt.Appendf(nil, `{"score":%d}`, sc)}
	}
	if err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "default", Reset: true, Risks: risks}); err != nil {
		b.Fatal(err)
	}
}
