package api

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/store"
)

// Summary windows, in days.
const (
	DefaultSummaryDays = 30
	MaxSummaryDays     = 366
)

// SummaryResponse is the body of GET /summary: a tenant's overview, read
// from counters the store keeps (store.Summaries).
type SummaryResponse struct {
	Findings    int64           `json:"findings"`
	Events      int64           `json:"events"`
	Issues      int64           `json:"issues"`    // issues with a stored risk score
	Incidents   int64           `json:"incidents"` // stored incidents
	BySeverity  []SeverityCount `json:"by_severity"`
	BySource    []SourceCount   `json:"by_source"`
	ByParty     []PartyCount    `json:"by_party"`
	Trend       []TrendDay      `json:"trend"`
	RiskBuckets []RiskBucket    `json:"risk_buckets"`
}

// SeverityCount is the findings of one severity.
type SeverityCount struct {
	Severity   string `json:"severity"` // the OCSF caption: Critical, High …
	SeverityID int    `json:"severity_id"`
	Count      int64  `json:"count"`
}

// SourceCount is the findings of one product.
type SourceCount struct {
	Source string `json:"source"`
	Count  int64  `json:"count"`
}

// PartyCount is the findings attributed to one party ("": not yet).
type PartyCount struct {
	Party string `json:"party"`
	Count int64  `json:"count"`
}

// TrendDay is the findings first seen on one UTC day.
type TrendDay struct {
	Day        string           `json:"day"` // YYYY-MM-DD
	Count      int64            `json:"count"`
	BySeverity map[string]int64 `json:"by_severity"` // caption → findings; absent severities are 0
}

// RiskBucket is the issues whose stored risk score is in [From, To].
type RiskBucket struct {
	From  int   `json:"from"`
	To    int   `json:"to"`
	Count int64 `json:"count"`
}

// Summary reads the tenant's overview: counts by severity (most severe
// first), by source and by party (biggest first), the risk distribution of
// its issues, and the new findings of each of the last days UTC days up to
// now's, oldest first, days without any included.
func Summary(ctx context.Context, st store.Summaries, tenant string, days int, now time.Time) (SummaryResponse, error) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	since := today.AddDate(0, 0, 1-days)
	s, err := st.Stats(ctx, tenant, since)
	if err != nil {
		return SummaryResponse{}, err
	}
	out := SummaryResponse{Findings: s.Findings, Events: s.Events, Issues: s.Issues, Incidents: s.Incidents,
		BySeverity: []SeverityCount{}, BySource: []SourceCount{}, ByParty: []PartyCount{}, Trend: []TrendDay{}, RiskBuckets: []RiskBucket{}}
	for id, n := range s.BySeverity {
		out.BySeverity = append(out.BySeverity, SeverityCount{Severity: ocsf.SeverityCaption(id), SeverityID: id, Count: n})
	}
	slices.SortFunc(out.BySeverity, func(a, b SeverityCount) int {
		return cmp.Or(cmp.Compare(severityRank(b.SeverityID), severityRank(a.SeverityID)), cmp.Compare(b.SeverityID, a.SeverityID))
	})
	for p, n := range s.BySource {
		out.BySource = append(out.BySource, SourceCount{Source: p, Count: n})
	}
	slices.SortFunc(out.BySource, func(a, b SourceCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Source, b.Source))
	})
	for p, n := range s.ByParty {
		out.ByParty = append(out.ByParty, PartyCount{Party: p, Count: n})
	}
	slices.SortFunc(out.ByParty, func(a, b PartyCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Party, b.Party)) })
	byDay := make(map[time.Time]store.DayStat, len(s.Days))
	for _, d := range s.Days {
		byDay[d.Day] = d
	}
	for d := since; !d.After(today); d = d.AddDate(0, 0, 1) {
		td := TrendDay{Day: d.Format(time.DateOnly), BySeverity: map[string]int64{}}
		for id, n := range byDay[d].BySeverity {
			td.Count += n
			td.BySeverity[ocsf.SeverityCaption(id)] += n
		}
		out.Trend = append(out.Trend, td)
	}
	for i, n := range s.RiskBuckets {
		b := RiskBucket{From: 10 * i, To: 10*i + 9, Count: n}
		if i == len(s.RiskBuckets)-1 {
			b.To = 100
		}
		out.RiskBuckets = append(out.RiskBuckets, b)
	}
	return out, nil
}

// severityRank orders severity ids from the least to the most severe:
// Unknown (0), then ids OCSF does not define, Other (99), and
// Informational (1) to Fatal (6).
func severityRank(id int) int {
	switch {
	case id >= ocsf.SeverityInformational && id <= ocsf.SeverityFatal:
		return id + 2
	case id == ocsf.SeverityOther:
		return 2
	case id == ocsf.SeverityUnknown:
		return 0
	}
	return 1
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	days := DefaultSummaryDays
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxSummaryDays {
			return badRequest("bad days %q (want 1 to %d)", v, MaxSummaryDays)
		}
		days = n
	}
	out, err := Summary(r.Context(), s.opts.Store, p.Tenant, days, s.opts.Now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
