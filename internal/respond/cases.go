package respond

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// OpenCase opens a case for rec, or returns the open case that already
// covers it. The case's SLA deadlines come from the engine's SLA policy
// for the record's severity and party.
func (e *Engine) OpenCase(ctx context.Context, rec Record, by string) (Case, error) {
	if err := checkRecord(rec); err != nil {
		return Case{}, err
	}
	return e.caseFor(ctx, rec, by)
}

func (e *Engine) caseFor(ctx context.Context, rec Record, by string) (Case, error) {
	open, err := e.opts.Cases.ListCases(ctx, CaseFilter{Tenant: rec.Tenant, Record: rec.Ref(), Open: true})
	if err != nil {
		return Case{}, fmt.Errorf("respond: list cases: %w", err)
	}
	if len(open) > 0 {
		return open[0], nil
	}
	now := e.now()
	sev := rec.Severity
	if !slices.Contains(severities, sev) {
		sev = "medium"
	}
	party := rec.Party
	if party == "" {
		party = "customer"
	}
	sla := e.opts.SLA.For(party, rec.PartyName, sev)
	c := Case{ID: "case-" + e.opts.NewID(), Tenant: rec.Tenant, Title: rec.Title, Records: []Ref{rec.Ref()}, Severity: sev,
		Party: party, PartyName: rec.PartyName, Status: CaseNew, Opened: now, Updated: now,
		RespondBy: now.Add(sla.Respond), ResolveBy: now.Add(sla.Resolve),
		History: []CaseEvent{{At: now, By: by, What: "opened", To: string(CaseNew)}}}
	if c.Title == "" {
		c.Title = rec.Ref().String()
	}
	if err := e.opts.Cases.CreateCase(ctx, c); err != nil {
		return Case{}, fmt.Errorf("respond: create case: %w", err)
	}
	if err := e.audit(ctx, rec.Tenant, by, ActionCaseOpened, "case:"+c.ID, map[string]any{
		"record": rec.Ref().String(), "severity": sev, "party": party, "name": rec.PartyName,
		"respond_by": c.RespondBy.Format(time.RFC3339), "resolve_by": c.ResolveBy.Format(time.RFC3339)}); err != nil {
		return c, err
	}
	return c, nil
}

// linkCase links a run, an approval or a record ("run", "approval",
// "record") to a case.
func (e *Engine) linkCase(ctx context.Context, tenant, id, by, kind, target string) (Case, error) {
	now := e.now()
	c, err := e.opts.Cases.UpdateCase(ctx, tenant, id, func(c *Case) error {
		switch kind {
		case "run":
			if slices.Contains(c.Runs, target) {
				return nil
			}
			c.Runs = append(c.Runs, target)
		case "approval":
			if slices.Contains(c.Approvals, target) {
				return nil
			}
			c.Approvals = append(c.Approvals, target)
		default:
			ref, err := ParseRef(target)
			if err != nil {
				return err
			}
			if slices.Contains(c.Records, ref) {
				return nil
			}
			c.Records = append(c.Records, ref)
		}
		c.History = append(c.History, CaseEvent{At: now, By: by, What: "linked", To: kind + ":" + target})
		c.Updated = now
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("respond: case %s: link %s %s: %w", id, kind, target, err)
	}
	key := kind
	if kind == "record" {
		key = "linked"
	}
	return c, e.audit(ctx, tenant, by, ActionCaseLinked, "case:"+id, map[string]any{"record": c.Records[0].String(), key: target})
}

// LinkRecord links another record to a case.
func (e *Engine) LinkRecord(ctx context.Context, tenant, id string, rec Ref, by string) (Case, error) {
	return e.linkCase(ctx, tenant, id, by, "record", rec.String())
}

// ParseRef parses "incident:42" into a [Ref].
func ParseRef(s string) (Ref, error) {
	k, id, ok := strings.Cut(s, ":")
	r := Ref{Kind: Kind(k), ID: id}
	if !ok || !r.Kind.valid() || id == "" {
		return Ref{}, fmt.Errorf("record reference %q: want incident:<id>, issue:<id> or finding:<id>", s)
	}
	return r, nil
}

// Transition moves a case to status to, if the transition is allowed
// ([CaseStatus.CanTransition]); otherwise it returns an error wrapping
// [ErrState].
func (e *Engine) Transition(ctx context.Context, tenant, id string, to CaseStatus, by, note string) (Case, error) {
	now := e.now()
	var from CaseStatus
	c, err := e.opts.Cases.UpdateCase(ctx, tenant, id, func(c *Case) error {
		from = c.Status
		if !c.Status.CanTransition(to) {
			return fmt.Errorf("%w: case %s cannot go from %s to %s", ErrState, c.ID, c.Status, to)
		}
		if c.Status == CaseNew && c.Acknowledged.IsZero() {
			c.Acknowledged = now
		}
		if c.Status == CaseOnHold && !c.HoldSince.IsZero() {
			c.Held += now.Sub(c.HoldSince)
			c.HoldSince = time.Time{}
		}
		switch to {
		case CaseOnHold:
			c.HoldSince = now
		case CaseResolved:
			c.Resolved = now
		case CaseClosed:
			c.Closed = now
		case CaseInProgress:
			if c.Status == CaseResolved {
				c.Resolved = time.Time{}
			}
		}
		c.History = append(c.History, CaseEvent{At: now, By: by, What: "status", From: string(c.Status), To: string(to), Note: note})
		c.Status, c.Updated = to, now
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("respond: case %s: %w", id, err)
	}
	return c, e.audit(ctx, tenant, by, ActionCaseStatus, "case:"+id, map[string]any{
		"record": c.Records[0].String(), "from": string(from), "to": string(to), "note": note})
}

// Assign assigns a case to assignee ("" unassigns).
func (e *Engine) Assign(ctx context.Context, tenant, id, assignee, by string) (Case, error) {
	now := e.now()
	prev := ""
	c, err := e.opts.Cases.UpdateCase(ctx, tenant, id, func(c *Case) error {
		if c.Status == CaseClosed {
			return fmt.Errorf("%w: case %s is closed", ErrState, c.ID)
		}
		prev = c.Assignee
		c.History = append(c.History, CaseEvent{At: now, By: by, What: "assigned", From: prev, To: assignee})
		c.Assignee, c.Updated = assignee, now
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("respond: case %s: %w", id, err)
	}
	return c, e.audit(ctx, tenant, by, ActionCaseAssigned, "case:"+id, map[string]any{
		"record": c.Records[0].String(), "assignee": assignee, "previous": prev})
}

// Handoff hands a case to another party (provider, customer, vendor,
// with the vendor's or provider's name), which must then [Engine.Accept]
// it; the time between the two is the handoff latency KPI.
func (e *Engine) Handoff(ctx context.Context, tenant, id, party, name, by, note string) (Case, error) {
	if party == "" {
		return Case{}, errors.New("respond: handoff: party missing")
	}
	now := e.now()
	var fromParty, fromName string
	c, err := e.opts.Cases.UpdateCase(ctx, tenant, id, func(c *Case) error {
		if !c.Status.Open() {
			return fmt.Errorf("%w: case %s is %s", ErrState, c.ID, c.Status)
		}
		fromParty, fromName = c.Party, c.PartyName
		c.History = append(c.History, CaseEvent{At: now, By: by, What: "handed_off", From: partyKey(fromParty, fromName), To: partyKey(party, name), Note: note})
		c.Party, c.PartyName, c.Assignee, c.Updated = party, name, "", now
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("respond: case %s: %w", id, err)
	}
	return c, e.audit(ctx, tenant, by, ActionCaseHandedOff, "case:"+id, map[string]any{
		"record": c.Records[0].String(), "from_party": fromParty, "from_name": fromName, "to_party": party, "to_name": name, "note": note})
}

func partyKey(party, name string) string {
	if name == "" {
		return party
	}
	return party + ":" + name
}

// Accept records that the party now holding a case accepted it.
func (e *Engine) Accept(ctx context.Context, tenant, id, by string) (Case, error) {
	now := e.now()
	c, err := e.opts.Cases.UpdateCase(ctx, tenant, id, func(c *Case) error {
		c.History = append(c.History, CaseEvent{At: now, By: by, What: "accepted", To: partyKey(c.Party, c.PartyName)})
		c.Updated = now
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("respond: case %s: %w", id, err)
	}
	return c, e.audit(ctx, tenant, by, ActionCaseAccepted, "case:"+id, map[string]any{
		"record": c.Records[0].String(), "party": c.Party, "name": c.PartyName})
}

// Comment adds a comment to a case.
func (e *Engine) Comment(ctx context.Context, tenant, id, by, text string) (Case, error) {
	if strings.TrimSpace(text) == "" {
		return Case{}, errors.New("respond: comment: empty")
	}
	now := e.now()
	c, err := e.opts.Cases.UpdateCase(ctx, tenant, id, func(c *Case) error {
		c.Comments = append(c.Comments, Comment{At: now, By: by, Text: text})
		c.History = append(c.History, CaseEvent{At: now, By: by, What: "commented"})
		c.Updated = now
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("respond: case %s: %w", id, err)
	}
	return c, e.audit(ctx, tenant, by, ActionCaseCommented, "case:"+id, map[string]any{"record": c.Records[0].String(), "text": text})
}

// Case returns a case.
func (e *Engine) Case(ctx context.Context, tenant, id string) (Case, error) {
	return e.opts.Cases.GetCase(ctx, tenant, id)
}

// Breach is an SLA deadline a case passed.
type Breach struct {
	Case string    `json:"case"`
	SLA  string    `json:"sla"` // respond or resolve
	Due  time.Time `json:"due"`
}

// CheckSLA finds the tenant's cases that passed an SLA deadline at the
// engine's clock and records each breach once (ActionCaseSLABreached). It
// returns the breaches found this time. Call it periodically.
func (e *Engine) CheckSLA(ctx context.Context, tenant string) ([]Breach, error) {
	now := e.now()
	cases, err := e.opts.Cases.ListCases(ctx, CaseFilter{Tenant: tenant})
	if err != nil {
		return nil, fmt.Errorf("respond: check sla: %w", err)
	}
	var out []Breach
	for _, c := range cases {
		st := c.SLA(now)
		var due []Breach
		if st.RespondBreached && !slices.Contains(c.Breached, "respond") {
			due = append(due, Breach{Case: c.ID, SLA: "respond", Due: st.RespondBy})
		}
		if st.ResolveBreached && !slices.Contains(c.Breached, "resolve") {
			due = append(due, Breach{Case: c.ID, SLA: "resolve", Due: st.ResolveBy})
		}
		for _, b := range due {
			recorded := false
			_, err := e.opts.Cases.UpdateCase(ctx, tenant, c.ID, func(x *Case) error {
				if slices.Contains(x.Breached, b.SLA) {
					return nil
				}
				recorded = true
				x.Breached = append(x.Breached, b.SLA)
				x.History = append(x.History, CaseEvent{At: now, By: ActorSystem, What: "sla_breached", To: b.SLA, Note: "due " + b.Due.Format(time.RFC3339)})
				x.Updated = now
				return nil
			})
			if err != nil {
				return out, fmt.Errorf("respond: check sla: case %s: %w", c.ID, err)
			}
			if !recorded {
				continue
			}
			if err := e.audit(ctx, tenant, ActorSystem, ActionCaseSLABreached, "case:"+c.ID, map[string]any{
				"record": c.Records[0].String(), "sla": b.SLA, "due": b.Due.Format(time.RFC3339)}); err != nil {
				return out, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}
