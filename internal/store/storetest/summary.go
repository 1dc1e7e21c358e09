package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// day returns the UTC midnight of t0's day plus n days.
func day(n int) time.Time { return time.Date(2026, 1, 2+n, 0, 0, 0, 0, time.UTC) }

// finding is a row of the summary tests: tenant a unless said otherwise.
func finding(fp string, sev int, product string, seenDay int) store.Row {
	r := row("a", fp, sev, day(seenDay).Add(5*time.Hour))
	r.Product = product
	return r
}

// testStats: the summary follows every change of the findings it counts —
// inserts, re-ingests with the same or another severity, duplicates in one
// call, attributions — and of events and issue risks, per tenant, with
// the trend from a given day.
func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	ids := map[string]int64{}
	idsOf := func() {
		for _, r := range all(t, s, store.Query{Tenant: "a"}) {
			ids[r.Fingerprint] = r.ID
		}
	}
	attribute := func(party map[string]string) {
		t.Helper()
		idsOf()
		var rows []store.Attribution
		for fp, p := range party {
			rows = append(rows, store.Attribution{ID: ids[fp], Party: p, Area: "configuration", Doc: json.RawMessage(`{"party":"` + p + `"}`)})
		}
		if err := s.SetAttributions(ctx, "a", rows); err != nil {
			t.Fatal(err)
		}
	}
	risks := func(reset bool, scores map[string]int) {
		t.Helper()
		var rs []store.IssueRisk
		for k, sc := range scores {
			rs = append(rs, store.IssueRisk{Key: k, Score: sc, Doc: json.RawMessage(fmt.Sprintf(`{"score":%d}`, sc))})
		}
		if err := s.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "a", Reset: reset, Risks: rs}); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(tenant, fp string) store.Row {
		r := row(tenant, fp, 1, t0)
		r.ClassUID = 6003
		return r
	}
	base := func() store.Stats {
		return store.Stats{Findings: 4, Events: 2,
			BySeverity: map[int]int64{5: 1, 3: 2, 1: 1}, BySource: map[string]int64{"Trivy": 2, "Inspector": 2}, ByParty: map[string]int64{"": 4},
			Days: []store.DayStat{{Day: day(0), BySeverity: map[int]int64{5: 1, 3: 1}}, {Day: day(1), BySeverity: map[int]int64{3: 1}}, {Day: day(2), BySeverity: map[int]int64{1: 1}}}}
	}
	four := []store.Row{finding("f1", 5, "Trivy", 0), finding("f2", 3, "Trivy", 0), finding("f3", 3, "Inspector", 1), finding("f4", 1, "Inspector", 2)}

	steps := []struct {
		name   string
		do     func()
		tenant string
		since  time.Time
		want   store.Stats
	}{
		{"empty", func() {}, "a", day(-30), store.Stats{}},
		{"inserts", func() {
			write(t, s, four, []store.Row{ev("a", "e1"), ev("a", "e2")})
			g := finding("g1", 4, "Prowler", 1)
			g.Tenant = "b"
			write(t, s, []store.Row{g}, []store.Row{ev("b", "e3")})
		}, "a", day(-30), base()},
		{"another tenant", func() {}, "b", day(-30), store.Stats{Findings: 1, Events: 1, BySeverity: map[int]int64{4: 1},
			BySource: map[string]int64{"Prowler": 1}, ByParty: map[string]int64{"": 1}, Days: []store.DayStat{{Day: day(1), BySeverity: map[int]int64{4: 1}}}}},
		{"no such tenant", func() {}, "nobody", day(-30), store.Stats{}},
		{"re-ingest unchanged", func() {
			again := append([]store.Row(nil), four...)
			for i := range again {
				again[i].Seen = day(5)
			}
			write(t, s, again, []store.Row{ev("a", "e1")})
		}, "a", day(-30), base()},
		{"re-ingest with another severity", func() {
			f := four[1]
			f.SeverityID, f.Seen = 4, day(6)
			write(t, s, []store.Row{f}, nil)
		}, "a", day(-30), func() store.Stats {
			w := base()
			w.BySeverity = map[int]int64{5: 1, 4: 1, 3: 1, 1: 1}
			w.Days[0].BySeverity = map[int]int64{5: 1, 4: 1}
			return w
		}()},
		{"a new finding twice in one call", func() {
			write(t, s, []store.Row{finding("f5", 2, "Trivy", 3), finding("f5", 2, "Trivy", 3)}, nil)
		}, "a", day(-30), func() store.Stats {
			w := base()
			w.Findings = 5
			w.BySeverity = map[int]int64{5: 1, 4: 1, 3: 1, 2: 1, 1: 1}
			w.BySource["Trivy"] = 3
			w.ByParty[""] = 5
			w.Days[0].BySeverity = map[int]int64{5: 1, 4: 1}
			w.Days = append(w.Days, store.DayStat{Day: day(3), BySeverity: map[int]int64{2: 1}})
			return w
		}()},
		{"attributions", func() { attribute(map[string]string{"f1": "customer", "f3": "provider"}) }, "a", day(1).Add(7 * time.Hour), func() store.Stats {
			w := base()
			w.Findings = 5
			w.BySeverity = map[int]int64{5: 1, 4: 1, 3: 1, 2: 1, 1: 1}
			w.BySource["Trivy"] = 3
			w.ByParty = map[string]int64{"": 3, "customer": 1, "provider": 1}
			// from the day of since on
			w.Days = []store.DayStat{{Day: day(1), BySeverity: map[int]int64{3: 1}}, {Day: day(2), BySeverity: map[int]int64{1: 1}}, {Day: day(3), BySeverity: map[int]int64{2: 1}}}
			return w
		}()},
		{"attributed again", func() { attribute(map[string]string{"f1": "provider", "f2": "provider"}) }, "a", day(3), func() store.Stats {
			w := base()
			w.Findings = 5
			w.BySeverity = map[int]int64{5: 1, 4: 1, 3: 1, 2: 1, 1: 1}
			w.BySource["Trivy"] = 3
			w.ByParty = map[string]int64{"": 2, "provider": 3}
			w.Days = []store.DayStat{{Day: day(3), BySeverity: map[int]int64{2: 1}}}
			return w
		}()},
		{"issue risks", func() {
			risks(true, map[string]int{"k0": 0, "k9": 9, "k10": 10, "k55": 55, "k99": 99, "k100": 100, "k250": 250})
		}, "a", day(4), store.Stats{Issues: 7, RiskBuckets: [10]int64{2, 1, 0, 0, 0, 1, 0, 0, 0, 3}}},
		{"a risk changes", func() { risks(false, map[string]int{"k0": 75}) }, "a", day(4), store.Stats{Issues: 7, RiskBuckets: [10]int64{1, 1, 0, 0, 0, 1, 0, 1, 0, 3}}},
		{"risks rebuilt", func() { risks(true, map[string]int{"k1": 42}) }, "a", day(4), store.Stats{Issues: 1, RiskBuckets: [10]int64{0, 0, 0, 0, 1}}},
	}
	for _, st := range steps {
		st.do()
		got, err := s.Stats(ctx, st.tenant, st.since)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		// the risk steps check only the risk fields
		if st.want.Issues > 0 {
			got = store.Stats{Issues: got.Issues, RiskBuckets: got.RiskBuckets}
		}
		if !sameStats(got, st.want) {
			t.Errorf("%s: Stats(%s, %s) =\n%+v\nwant\n%+v", st.name, st.tenant, st.since.Format(time.DateOnly), got, st.want)
		}
		if st.want.Issues == 0 {
			f, e, err := s.Counts(ctx, st.tenant)
			if err != nil || f != st.want.Findings || e != st.want.Events {
				t.Errorf("%s: Counts = %d, %d, %v; want %d, %d", st.name, f, e, err, st.want.Findings, st.want.Events)
			}
		}
	}
}

// sameStats compares summaries, an empty map or slice equal to a nil one.
func sameStats(a, b store.Stats) bool { return reflect.DeepEqual(normStats(a), normStats(b)) }

func normStats(s store.Stats) store.Stats {
	if len(s.BySeverity) == 0 {
		s.BySeverity = nil
	}
	if len(s.BySource) == 0 {
		s.BySource = nil
	}
	if len(s.ByParty) == 0 {
		s.ByParty = nil
	}
	if len(s.Days) == 0 {
		s.Days = nil
	}
	return s
}

// TallyStats counts a tenant's summary the slow way, from its findings and
// events, for comparing with what Stats reads from counters (the risk
// fields are left zero).
func TallyStats(t testing.TB, s store.Store, tenant string, since time.Time) store.Stats {
	t.Helper()
	ctx := context.Background()
	out := store.Stats{BySeverity: map[int]int64{}, BySource: map[string]int64{}, ByParty: map[string]int64{}}
	days := map[time.Time]map[int]int64{}
	from := since.UTC().Truncate(24 * time.Hour)
	for _, events := range []bool{false, true} {
		q := store.Query{Tenant: tenant}
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
			for _, r := range p.Records {
				if events {
					out.Events++
					continue
				}
				out.Findings++
				out.BySeverity[r.SeverityID]++
				out.BySource[r.Product]++
				out.ByParty[r.Party]++
				if d := r.FirstSeen.Truncate(24 * time.Hour); !d.Before(from) {
					if days[d] == nil {
						days[d] = map[int]int64{}
					}
					days[d][r.SeverityID]++
				}
			}
			if p.Next.IsZero() {
				break
			}
			q.After = p.Next
		}
	}
	for d, m := range days {
		out.Days = append(out.Days, store.DayStat{Day: d, BySeverity: m})
	}
	slices.SortFunc(out.Days, func(x, y store.DayStat) int { return x.Day.Compare(y.Day) })
	return out
}
