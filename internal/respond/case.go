package respond

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// CaseStatus is where a case stands.
type CaseStatus string

// The case statuses. Allowed transitions:
//
//	new         → in_progress, on_hold, resolved
//	in_progress → on_hold, resolved
//	on_hold     → in_progress, resolved
//	resolved    → closed, in_progress (reopened)
//	closed      → (none)
//
// Leaving new acknowledges the case (the respond SLA); time on hold does
// not count against the resolve SLA.
const (
	CaseNew        CaseStatus = "new"
	CaseInProgress CaseStatus = "in_progress"
	CaseOnHold     CaseStatus = "on_hold"
	CaseResolved   CaseStatus = "resolved"
	CaseClosed     CaseStatus = "closed"
)

// CanTransition reports whether a case may move from s to to.
func (s CaseStatus) CanTransition(to CaseStatus) bool {
	switch s {
	case CaseNew:
		return to == CaseInProgress || to == CaseOnHold || to == CaseResolved
	case CaseInProgress:
		return to == CaseOnHold || to == CaseResolved
	case CaseOnHold:
		return to == CaseInProgress || to == CaseResolved
	case CaseResolved:
		return to == CaseClosed || to == CaseInProgress
	}
	return false
}

// Open reports whether a case in status s is still being worked on (not
// resolved or closed).
func (s CaseStatus) Open() bool { return s == CaseNew || s == CaseInProgress || s == CaseOnHold }

// Case tracks the handling of one or more records by people: who has it,
// where it stands, what was said, which runs and approvals belong to it,
// and its SLA deadlines.
type Case struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Title  string `json:"title"`
	// Records are the records the case is about; the first opened it.
	Records []Ref `json:"records"`
	// Severity is critical, high, medium, low or informational.
	Severity string `json:"severity"`
	// Party and PartyName are the party that must act now.
	Party     string `json:"party"`
	PartyName string `json:"party_name,omitempty"`
	// Status and Assignee.
	Status   CaseStatus `json:"status"`
	Assignee string     `json:"assignee,omitempty"`
	// Comments, oldest first.
	Comments []Comment `json:"comments,omitempty"`
	// Runs and Approvals linked to the case.
	Runs      []string `json:"runs,omitempty"`
	Approvals []string `json:"approvals,omitempty"`
	// History lists every change, oldest first.
	History []CaseEvent `json:"history"`
	// Opened, Acknowledged (first left new), Resolved (last moved to
	// resolved), Closed.
	Opened       time.Time `json:"opened"`
	Acknowledged time.Time `json:"acknowledged,omitzero"`
	Resolved     time.Time `json:"resolved,omitzero"`
	Closed       time.Time `json:"closed,omitzero"`
	// RespondBy and ResolveBy are the SLA deadlines set when the case was
	// opened; ResolveBy moves later by the time spent on hold (see
	// [Case.SLA]).
	RespondBy time.Time `json:"respond_by"`
	ResolveBy time.Time `json:"resolve_by"`
	// Held is the time spent on hold before HoldSince; HoldSince is when
	// the current hold started (zero when not on hold).
	Held      time.Duration `json:"held,omitempty"`
	HoldSince time.Time     `json:"hold_since,omitzero"`
	// Breached lists the SLAs already recorded as breached ("respond",
	// "resolve").
	Breached []string  `json:"breached,omitempty"`
	Updated  time.Time `json:"updated"`
}

// Comment is a comment on a case.
type Comment struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// CaseEvent is one change of a case.
type CaseEvent struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	What string    `json:"what"` // opened, status, assigned, handed_off, accepted, commented, linked, sla_breached
	From string    `json:"from,omitempty"`
	To   string    `json:"to,omitempty"`
	Note string    `json:"note,omitempty"`
}

// SLAStatus is a case's SLA position at a time.
type SLAStatus struct {
	// RespondBy and ResolveBy are the effective deadlines (ResolveBy
	// extended by the time on hold up to now).
	RespondBy time.Time `json:"respond_by"`
	ResolveBy time.Time `json:"resolve_by"`
	// RespondBreached: the case left new after RespondBy, or is still new
	// past it. ResolveBreached: likewise for resolved and ResolveBy.
	RespondBreached bool `json:"respond_breached"`
	ResolveBreached bool `json:"resolve_breached"`
}

// SLA returns the case's SLA position at now.
func (c Case) SLA(now time.Time) SLAStatus {
	held := c.Held
	if !c.HoldSince.IsZero() && now.After(c.HoldSince) {
		held += now.Sub(c.HoldSince)
	}
	s := SLAStatus{RespondBy: c.RespondBy, ResolveBy: c.ResolveBy.Add(held)}
	ack := c.Acknowledged
	if ack.IsZero() {
		ack = now
	}
	s.RespondBreached = !c.RespondBy.IsZero() && ack.After(c.RespondBy)
	res := c.Resolved
	if res.IsZero() || c.Status.Open() {
		res = now
	}
	s.ResolveBreached = !c.ResolveBy.IsZero() && res.After(s.ResolveBy)
	return s
}

// CaseFilter selects cases for [CaseStore.ListCases]; zero fields match
// all.
type CaseFilter struct {
	Tenant string
	// Record matches cases about the record.
	Record Ref
	Status CaseStatus
	// Open matches only cases that are new, in progress or on hold.
	Open bool
}

// CaseStore persists cases, with the contract of [RunStore].
type CaseStore interface {
	CreateCase(ctx context.Context, c Case) error
	GetCase(ctx context.Context, tenant, id string) (Case, error)
	UpdateCase(ctx context.Context, tenant, id string, fn func(*Case) error) (Case, error)
	// ListCases returns the matching cases, oldest first.
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
}

// SLA is how long a party has to respond to (acknowledge) and resolve a
// case.
type SLA struct {
	Respond time.Duration `json:"respond"`
	Resolve time.Duration `json:"resolve"`
}

// SLAPolicy gives the SLA of a case by severity, with overrides per party.
type SLAPolicy struct {
	// Default maps severities (critical … informational) to SLAs.
	Default map[string]SLA `json:"default"`
	// Parties maps a party ("vendor", "provider", "customer", or
	// "vendor:<name>") to SLAs by severity that override Default.
	Parties map[string]map[string]SLA `json:"parties,omitempty"`
}

// DefaultSLAPolicy returns the default SLAs: critical 15m/4h, high
// 1h/24h, medium 4h/72h, low 24h/7d, informational 72h/30d
// (respond/resolve), the same for every party.
func DefaultSLAPolicy() SLAPolicy {
	return SLAPolicy{Default: map[string]SLA{
		"critical":      {15 * time.Minute, 4 * time.Hour},
		"high":          {time.Hour, 24 * time.Hour},
		"medium":        {4 * time.Hour, 72 * time.Hour},
		"low":           {24 * time.Hour, 7 * 24 * time.Hour},
		"informational": {72 * time.Hour, 30 * 24 * time.Hour},
	}}
}

// For returns the SLA for a case of severity held by party (named name):
// the "party:name" override, else the party's, else the default; a
// severity the policy does not know uses medium's.
func (p SLAPolicy) For(party, name, severity string) SLA {
	for _, key := range []string{party + ":" + name, party} {
		if m, ok := p.Parties[key]; ok {
			if s, ok := m[severity]; ok {
				return s
			}
		}
	}
	if s, ok := p.Default[severity]; ok {
		return s
	}
	return p.Default["medium"]
}

var severities = []string{"critical", "high", "medium", "low", "informational"}

type slaYAML struct {
	Respond string `yaml:"respond"`
	Resolve string `yaml:"resolve"`
}

type slaFile struct {
	Default map[string]slaYAML            `yaml:"default"`
	Parties map[string]map[string]slaYAML `yaml:"parties"`
}

// LoadSLAPolicy reads an SLA policy file:
//
//	default:                       # every severity is required
//	  critical: {respond: 15m, resolve: 4h}
//	  high: {respond: 1h, resolve: 24h}
//	  medium: {respond: 4h, resolve: 3d}
//	  low: {respond: 1d, resolve: 7d}
//	  informational: {respond: 3d, resolve: 30d}
//	parties:                       # optional overrides
//	  vendor:example-mssp:
//	    critical: {respond: 10m, resolve: 2h}
//
// Durations are Go durations or whole days ("7d"). Decoding is strict:
// unknown keys, unknown severities, missing or non-positive durations and
// a resolve shorter than respond are errors naming the entry.
func LoadSLAPolicy(r io.Reader) (SLAPolicy, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPlaybookFileBytes))
	if err != nil {
		return SLAPolicy{}, fmt.Errorf("respond: sla policy: %w", err)
	}
	var f slaFile
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict()); err != nil {
			return SLAPolicy{}, fmt.Errorf("respond: sla policy: %w", err)
		}
	}
	var errs []error
	conv := func(where string, m map[string]slaYAML, all bool) map[string]SLA {
		out := map[string]SLA{}
		for _, sev := range slices.Sorted(maps.Keys(m)) {
			y := m[sev]
			if !slices.Contains(severities, sev) {
				errs = append(errs, fmt.Errorf("respond: sla policy: %s.%s: unknown severity (want %s)", where, sev, strings.Join(severities, ", ")))
				continue
			}
			resp, err1 := ParseDuration(y.Respond)
			res, err2 := ParseDuration(y.Resolve)
			switch {
			case err1 != nil || resp <= 0:
				errs = append(errs, fmt.Errorf("respond: sla policy: %s.%s.respond: %q: want a positive duration", where, sev, y.Respond))
			case err2 != nil || res <= 0:
				errs = append(errs, fmt.Errorf("respond: sla policy: %s.%s.resolve: %q: want a positive duration", where, sev, y.Resolve))
			case res < resp:
				errs = append(errs, fmt.Errorf("respond: sla policy: %s.%s: resolve %s is shorter than respond %s", where, sev, y.Resolve, y.Respond))
			default:
				out[sev] = SLA{Respond: resp, Resolve: res}
			}
		}
		if all {
			for _, sev := range severities {
				if _, ok := m[sev]; !ok {
					errs = append(errs, fmt.Errorf("respond: sla policy: %s.%s: missing", where, sev))
				}
			}
		}
		return out
	}
	p := SLAPolicy{Default: conv("default", f.Default, true)}
	for _, party := range slices.Sorted(maps.Keys(f.Parties)) {
		m := f.Parties[party]
		if p.Parties == nil {
			p.Parties = map[string]map[string]SLA{}
		}
		p.Parties[party] = conv("parties."+party, m, false)
	}
	if err := joinErrors(errs); err != nil {
		return SLAPolicy{}, err
	}
	return p, nil
}
