package respond

import (
	"cmp"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
)

// Durations summarizes durations: how many, their mean, median and 90th
// percentile (nearest rank).
type Durations struct {
	Count  int           `json:"count"`
	Mean   time.Duration `json:"mean"`
	Median time.Duration `json:"median"`
	P90    time.Duration `json:"p90"`
}

// Attainment is how many cases met an SLA.
type Attainment struct {
	// Met and Breached count the cases decided so far: met (acknowledged
	// or resolved in time) or breached (late, or recorded as breached).
	// Cases still open and in time are not counted.
	Met      int `json:"met"`
	Breached int `json:"breached"`
	// Rate is Met / (Met + Breached); 0 when neither.
	Rate float64 `json:"rate"`
}

// Automation counts runs by mode.
type Automation struct {
	Automatic int `json:"automatic"`
	Approved  int `json:"approved"`
	// Rate is automatic runs / all runs; 0 when none.
	Rate float64 `json:"rate"`
}

// Handoff is the latency of handoffs from one party to another: from
// case.handed_off to the receiving party's case.accepted.
type Handoff struct {
	From    string    `json:"from"` // "vendor:example-mssp", "customer" …
	To      string    `json:"to"`
	Latency Durations `json:"latency"`
	// Waiting counts handoffs not accepted yet.
	Waiting int `json:"waiting"`
}

// KPIReport is the response KPIs of a tenant.
type KPIReport struct {
	// Cases counts the cases opened.
	Cases int `json:"cases"`
	// MTTA is the time from a case's opening to its acknowledgement (it
	// first left new); MTTR to its first resolution.
	MTTA Durations `json:"mtta"`
	MTTR Durations `json:"mttr"`
	// RespondSLA and ResolveSLA are the SLA attainment.
	RespondSLA Attainment `json:"respond_sla"`
	ResolveSLA Attainment `json:"resolve_sla"`
	// Automation is the automation rate of runs.
	Automation Automation `json:"automation"`
	// Handoffs are the handoff latencies by pair of parties, sorted.
	Handoffs []Handoff `json:"handoffs,omitempty"`
}

type kpiDetails struct {
	Mode      string `json:"mode"`
	From      string `json:"from"`
	To        string `json:"to"`
	RespondBy string `json:"respond_by"`
	ResolveBy string `json:"resolve_by"`
	SLA       string `json:"sla"`
	FromParty string `json:"from_party"`
	FromName  string `json:"from_name"`
	ToParty   string `json:"to_party"`
	ToName    string `json:"to_name"`
}

type kpiCase struct {
	opened, acked, resolved time.Time
	respondBy, resolveBy    time.Time
	holdSince               time.Time
	held                    time.Duration
	breached                map[string]bool
	handoff                 *pendingHandoff
}

type pendingHandoff struct {
	key  [2]string
	at   time.Time
	open bool
}

// KPIs computes the response KPIs from audit entries: case.opened,
// case.status_changed, case.sla_breached, case.handed_off, case.accepted
// and run.started (see the Action constants); other entries are ignored.
// It is a pure function of the entries (their Time fields), which should
// come in chain order; entries of a case opened before the first entry
// given are ignored. An entry whose Details are not the JSON object
// documented is an error naming the entry.
func KPIs(entries iter.Seq2[audit.Entry, error]) (KPIReport, error) {
	var rep KPIReport
	cases := map[string]*kpiCase{}
	var order []string
	handoffs := map[[2]string][]time.Duration{}
	waiting := map[[2]string]int{}
	for e, err := range entries {
		if err != nil {
			return KPIReport{}, fmt.Errorf("respond: kpis: %w", err)
		}
		switch e.Action {
		case ActionCaseOpened, ActionCaseStatus, ActionCaseSLABreached, ActionCaseHandedOff, ActionCaseAccepted, ActionRunStarted:
		default:
			continue
		}
		var d kpiDetails
		if len(e.Details) == 0 {
			return KPIReport{}, fmt.Errorf("respond: kpis: entry %d (%s): details: missing", e.Seq, e.Action)
		}
		if err := json.Unmarshal(e.Details, &d); err != nil {
			return KPIReport{}, fmt.Errorf("respond: kpis: entry %d (%s): details: %w", e.Seq, e.Action, err)
		}
		if e.Action == ActionRunStarted {
			switch Mode(d.Mode) {
			case ModeAutomatic:
				rep.Automation.Automatic++
			case ModeApproved:
				rep.Automation.Approved++
			default:
				return KPIReport{}, fmt.Errorf("respond: kpis: entry %d (%s): details: mode: %q: want automatic or approved", e.Seq, e.Action, d.Mode)
			}
			continue
		}
		if e.Action == ActionCaseOpened {
			c := &kpiCase{opened: e.Time, breached: map[string]bool{}}
			for _, f := range []struct {
				s string
				t *time.Time
				n string
			}{{d.RespondBy, &c.respondBy, "respond_by"}, {d.ResolveBy, &c.resolveBy, "resolve_by"}} {
				if f.s == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, f.s)
				if err != nil {
					return KPIReport{}, fmt.Errorf("respond: kpis: entry %d (%s): details: %s: %w", e.Seq, e.Action, f.n, err)
				}
				*f.t = t
			}
			if _, dup := cases[e.Object]; !dup {
				order = append(order, e.Object)
			}
			cases[e.Object] = c
			rep.Cases++
			continue
		}
		c := cases[e.Object]
		if c == nil {
			continue
		}
		switch e.Action {
		case ActionCaseStatus:
			if CaseStatus(d.From) == CaseNew && c.acked.IsZero() {
				c.acked = e.Time
			}
			if CaseStatus(d.From) == CaseOnHold && !c.holdSince.IsZero() {
				c.held += e.Time.Sub(c.holdSince)
				c.holdSince = time.Time{}
			}
			switch CaseStatus(d.To) {
			case CaseOnHold:
				c.holdSince = e.Time
			case CaseResolved:
				if c.resolved.IsZero() {
					c.resolved = e.Time
				}
			}
		case ActionCaseSLABreached:
			c.breached[d.SLA] = true
		case ActionCaseHandedOff:
			if c.handoff != nil && c.handoff.open {
				waiting[c.handoff.key]++
			}
			c.handoff = &pendingHandoff{key: [2]string{partyKey(d.FromParty, d.FromName), partyKey(d.ToParty, d.ToName)}, at: e.Time, open: true}
		case ActionCaseAccepted:
			if h := c.handoff; h != nil && h.open && !e.Time.Before(h.at) {
				handoffs[h.key] = append(handoffs[h.key], e.Time.Sub(h.at))
				h.open = false
			}
		}
	}
	var ttas, ttrs []time.Duration
	for _, id := range order {
		c := cases[id]
		if !c.acked.IsZero() {
			ttas = append(ttas, c.acked.Sub(c.opened))
		}
		if !c.resolved.IsZero() {
			ttrs = append(ttrs, c.resolved.Sub(c.opened))
		}
		switch {
		case c.breached["respond"] || !c.acked.IsZero() && !c.respondBy.IsZero() && c.acked.After(c.respondBy):
			rep.RespondSLA.Breached++
		case !c.acked.IsZero():
			rep.RespondSLA.Met++
		}
		due := c.resolveBy.Add(c.held)
		switch {
		case c.breached["resolve"] || !c.resolved.IsZero() && !c.resolveBy.IsZero() && c.resolved.After(due):
			rep.ResolveSLA.Breached++
		case !c.resolved.IsZero():
			rep.ResolveSLA.Met++
		}
		if c.handoff != nil && c.handoff.open {
			waiting[c.handoff.key]++
		}
	}
	rep.MTTA, rep.MTTR = summarize(ttas), summarize(ttrs)
	rep.RespondSLA.Rate = rate(rep.RespondSLA.Met, rep.RespondSLA.Breached)
	rep.ResolveSLA.Rate = rate(rep.ResolveSLA.Met, rep.ResolveSLA.Breached)
	rep.Automation.Rate = rate(rep.Automation.Automatic, rep.Automation.Approved)
	keys := map[[2]string]bool{}
	for k := range handoffs {
		keys[k] = true
	}
	for k := range waiting {
		keys[k] = true
	}
	for k := range keys {
		rep.Handoffs = append(rep.Handoffs, Handoff{From: k[0], To: k[1], Latency: summarize(handoffs[k]), Waiting: waiting[k]})
	}
	slices.SortFunc(rep.Handoffs, func(a, b Handoff) int { return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To)) })
	return rep, nil
}

func rate(a, b int) float64 {
	if a+b == 0 {
		return 0
	}
	return float64(a) / float64(a+b)
}

// summarize computes count, mean, median and p90 (nearest rank).
func summarize(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	rank := func(p int) time.Duration {
		r := max((p*len(ds)+99)/100, 1)
		return ds[r-1]
	}
	return Durations{Count: len(ds), Mean: sum / time.Duration(len(ds)), Median: rank(50), P90: rank(90)}
}
