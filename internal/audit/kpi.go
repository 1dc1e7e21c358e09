package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Actions recorded in the chain. Object names what the action concerns as
// "<kind>:<id>" ("finding:8f14…", "incident:42", "contract:acme"); Details
// is a JSON object whose fields are listed with each action. Fields marked
// KPI are read by [KPIs]; the others are for people and evidence.
const (
	// ActionFindingAttributed: responsibility for a finding or incident
	// was decided. Details: the attribution, as internal/responsibility
	// writes it ({"party", "area", "service_model", "basis", "parts"}).
	ActionFindingAttributed = "finding.attributed"
	// ActionNoticeSent: a party was notified of a finding or incident.
	// Details (KPI): "notice" (the notice's id, unique), "party"
	// (provider, customer, vendor), "name" (the vendor's id or the
	// provider's name, if any), "severity" (critical, high, medium, low,
	// informational); and "channel", "due" (RFC 3339) as the sender
	// likes. Resending a notice records it again; the first send counts.
	ActionNoticeSent = "notice.sent"
	// ActionNoticeAcked: the notified party acknowledged. Actor is who
	// acknowledged. Details (KPI): "notice", else "party" and "name" to
	// find the notice on the same Object. The first acknowledgement
	// counts.
	ActionNoticeAcked = "notice.acked"
	// ActionNoticeEscalated: an unacknowledged notice went to the next
	// contact. Details: "notice", "to", "reason".
	ActionNoticeEscalated = "notice.escalated"
	// ActionFindingResolved: the finding or incident was resolved (fixed,
	// accepted or shown false). Details: "resolution", "evidence". (KPI:
	// its Time and Object.)
	ActionFindingResolved = "finding.resolved"
	// ActionFindingReopened: a resolved finding came back. Details:
	// "reason".
	ActionFindingReopened = "finding.reopened"
	// ActionContractChanged: a tenant's security-vendor contract was
	// loaded or replaced. Details: "file", "sha256".
	ActionContractChanged = "contract.changed"
	// ActionMatrixChanged: a responsibility-matrix override was loaded or
	// replaced. Details: "file", "sha256".
	ActionMatrixChanged = "matrix.changed"
	// ActionBundleExported: an evidence bundle was exported. Details:
	// "since", "first_seq", "last_seq", "hash".
	ActionBundleExported = "audit.exported"
)

// noticeDetails are the fields of notice.sent and notice.acked that KPIs
// read.
type noticeDetails struct {
	Notice   string `json:"notice"`
	Party    string `json:"party"`
	Name     string `json:"name"`
	Severity string `json:"severity"`
}

// Stats summarizes durations: how many, their median and 90th percentile
// (nearest rank: the smallest value with at least half, or 90 %, of the
// values at or below it).
type Stats struct {
	Count  int           `json:"count"`
	Median time.Duration `json:"median"`
	P90    time.Duration `json:"p90"`
}

// KPI is how fast one party handles notices of one severity.
type KPI struct {
	// Party is provider, customer or vendor (as the notices say).
	Party string `json:"party"`
	// Name is the vendor's id or the provider's name; "" if the notices
	// name none.
	Name string `json:"name,omitempty"`
	// Severity is the notices' severity, lower case; "unknown" if unset.
	Severity string `json:"severity"`
	// Notices is how many notices were sent.
	Notices int `json:"notices"`
	// Acknowledge is the time from a notice's first send to its first
	// acknowledgement.
	Acknowledge Stats `json:"acknowledge"`
	// Resolve is the time from a notice's first send to the first
	// resolution of its Object after it.
	Resolve Stats `json:"resolve"`
	// Unacknowledged and Unresolved count the notices still waiting.
	Unacknowledged int `json:"unacknowledged"`
	Unresolved     int `json:"unresolved"`
}

type notice struct {
	object       string
	details      noticeDetails
	sent         time.Time
	acked        bool
	ackAfter     time.Duration
	resolved     bool
	resolveAfter time.Duration
}

// KPIs computes time-to-acknowledge and time-to-resolve per party and
// severity from the chain's notice.sent, notice.acked and finding.resolved
// entries; other entries are ignored. It is a pure function of the entries
// (their Time fields), which should come in chain order.
//
// A notice is identified by its "notice" id; an acknowledgement without
// one matches the notice to the same Object for the same party and name
// (the earliest still unacknowledged). An acknowledgement or resolution
// that matches no earlier notice is ignored. A notice.sent or
// notice.acked entry whose Details are not a JSON object with the fields
// above is an error naming the entry.
//
// The result is sorted by party (provider, customer, vendor, others), name
// and severity (critical first).
func KPIs(entries iter.Seq2[Entry, error]) ([]KPI, error) {
	var notices []*notice
	byID := map[string]*notice{}
	byObject := map[string][]*notice{}
	for e, err := range entries {
		if err != nil {
			return nil, fmt.Errorf("audit: kpis: %w", err)
		}
		switch e.Action {
		case ActionNoticeSent:
			d, err := readNotice(e)
			if err != nil {
				return nil, err
			}
			if d.Party == "" {
				return nil, fmt.Errorf("audit: kpis: entry %d (%s): details: party: missing", e.Seq, e.Action)
			}
			if d.Notice != "" && byID[d.Notice] != nil {
				continue // a resend
			}
			n := &notice{object: e.Object, details: d, sent: e.Time}
			notices = append(notices, n)
			byObject[e.Object] = append(byObject[e.Object], n)
			if d.Notice != "" {
				byID[d.Notice] = n
			}
		case ActionNoticeAcked:
			d, err := readNotice(e)
			if err != nil {
				return nil, err
			}
			n := byID[d.Notice]
			if d.Notice == "" {
				for _, c := range byObject[e.Object] {
					if !c.acked && c.details.Party == d.Party && c.details.Name == d.Name {
						n = c
						break
					}
				}
			}
			if n != nil && !n.acked && !e.Time.Before(n.sent) {
				n.acked, n.ackAfter = true, e.Time.Sub(n.sent)
			}
		case ActionFindingResolved:
			for _, n := range byObject[e.Object] {
				if !n.resolved && !e.Time.Before(n.sent) {
					n.resolved, n.resolveAfter = true, e.Time.Sub(n.sent)
				}
			}
		}
	}

	type key struct{ party, name, severity string }
	groups := map[key]*KPI{}
	acks := map[key][]time.Duration{}
	resolves := map[key][]time.Duration{}
	for _, n := range notices {
		sev := strings.ToLower(strings.TrimSpace(n.details.Severity))
		if sev == "" {
			sev = "unknown"
		}
		k := key{n.details.Party, n.details.Name, sev}
		g := groups[k]
		if g == nil {
			g = &KPI{Party: k.party, Name: k.name, Severity: k.severity}
			groups[k] = g
		}
		g.Notices++
		if n.acked {
			acks[k] = append(acks[k], n.ackAfter)
		} else {
			g.Unacknowledged++
		}
		if n.resolved {
			resolves[k] = append(resolves[k], n.resolveAfter)
		} else {
			g.Unresolved++
		}
	}
	out := make([]KPI, 0, len(groups))
	for k, g := range groups {
		g.Acknowledge = stats(acks[k])
		g.Resolve = stats(resolves[k])
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b KPI) int {
		return cmp.Or(cmp.Compare(partyRank(a.Party), partyRank(b.Party)), cmp.Compare(a.Party, b.Party),
			cmp.Compare(a.Name, b.Name), cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), cmp.Compare(a.Severity, b.Severity))
	})
	return out, nil
}

func readNotice(e Entry) (noticeDetails, error) {
	var d noticeDetails
	if len(e.Details) == 0 {
		return d, fmt.Errorf("audit: kpis: entry %d (%s): details: missing", e.Seq, e.Action)
	}
	if err := json.Unmarshal(e.Details, &d); err != nil {
		return d, fmt.Errorf("audit: kpis: entry %d (%s): details: %w", e.Seq, e.Action, err)
	}
	return d, nil
}

// stats computes count, median and p90 by nearest rank.
func stats(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	slices.Sort(ds)
	return Stats{Count: len(ds), Median: nearestRank(ds, 50), P90: nearestRank(ds, 90)}
}

// nearestRank returns the p-th percentile of sorted values: the value at
// rank ⌈p/100 × n⌉.
func nearestRank(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func partyRank(p string) int {
	switch p {
	case "provider":
		return 0
	case "customer":
		return 1
	case "vendor":
		return 2
	}
	return 3
}

func severityRank(s string) int {
	switch s {
	case "fatal":
		return 0
	case "critical":
		return 1
	case "high":
		return 2
	case "medium":
		return 3
	case "low":
		return 4
	case "informational", "info":
		return 5
	}
	return 6
}
