package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configures an [Escalator].
type Options struct {
	// Store persists the notices. Required.
	Store Store
	// Policy holds the deadlines and the parties. Required; validated
	// against Channels.
	Policy *Policy
	// Channels maps the channel names contacts use to channels. Required.
	Channels map[string]Channel
	// Deliverer sends notices with retries. Default: NewDeliverer with
	// default options.
	Deliverer *Deliverer
	// AckURL, when set, gives the acknowledgement link stored in each new
	// notice ([Notice.AckURL]); channels show it as a link or button.
	AckURL func(Notice) string
	// NewID returns a new notice ID. Default: 32 random hex digits.
	NewID func() string
	// RedeliverAfter is how long a notice may wait for its first delivery
	// to the current contact before [Escalator.Tick] delivers it again (a
	// process may have stopped between storing and delivering). Default 5m.
	RedeliverAfter time.Duration
	// Concurrency bounds the notices one Tick delivers at once. Default 4.
	Concurrency int
	// Now is the clock [Escalator.Run] passes to Tick. Default time.Now.
	Now func() time.Time
	// Logger receives lifecycle events (Info), partial delivery failures
	// (Warn) and the errors of ticks that Run swallows (Error). Nil
	// discards.
	Logger *slog.Logger
}

// Escalator creates notices, delivers them to the first contact of the
// addressed party's chain, escalates the ones left unacknowledged past
// their deadline to the next contact, and records acknowledgements.
//
// All times are passed in (now), so tests drive it with a fake clock.
// An Escalator is safe for concurrent use; several processes may share a
// Store, because every change is an atomic [Store.Update] that re-checks
// the notice's state (a notice escalates once, and an acknowledgement is
// never overwritten). Deliveries are at least once: a notice may reach a
// contact twice if a process stops between delivering and recording it.
type Escalator struct {
	opts Options
}

// NewEscalator validates opts, applies the defaults and returns an
// Escalator.
func NewEscalator(opts Options) (*Escalator, error) {
	if opts.Store == nil {
		return nil, errors.New("notify: escalator: Store is required")
	}
	if opts.Policy == nil {
		return nil, errors.New("notify: escalator: Policy is required")
	}
	if opts.Channels == nil {
		opts.Channels = map[string]Channel{}
	}
	if err := opts.Policy.Validate(opts.Channels); err != nil {
		return nil, err
	}
	if opts.Deliverer == nil {
		opts.Deliverer = NewDeliverer(DeliveryOptions{})
	}
	if opts.NewID == nil {
		opts.NewID = randomID
	}
	if opts.RedeliverAfter <= 0 {
		opts.RedeliverAfter = 5 * time.Minute
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Escalator{opts: opts}, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Request asks for a notice to a party about a finding or an incident.
type Request struct {
	// Tenant the subject belongs to.
	Tenant string
	// Party is the ID of the party responsible (from the responsibility
	// attribution).
	Party string
	// Subject is the finding or incident.
	Subject Subject
	// Severity decides the deadline.
	Severity Severity
	// Title, Body and Links are what the contact reads.
	Title string
	Body  string
	Links []Link
}

// Advisory is what a provider publishes to its customers: a major change,
// a platform vulnerability or an SLA event. Each recipient gets its own
// notice, acknowledged and escalated like any other.
type Advisory struct {
	// Tenant the advisory is published in.
	Tenant string
	// From is the ID of the publishing party; it must be a provider.
	From string
	// To are the IDs of the customer parties to notify; empty means every
	// customer party of the policy.
	To []string
	// Ref identifies the advisory ("ADV-2025-014").
	Ref string
	// Category is major_change, platform_vulnerability or sla_event.
	Category AdvisoryCategory
	// URL links to the advisory, optional.
	URL string
	// Severity decides the deadline.
	Severity Severity
	// Title, Body and Links are what the customers read.
	Title string
	Body  string
	Links []Link
}

// Notify creates a notice for req, stores it and delivers it to the first
// contact of the party's chain. It returns the stored notice; when no
// channel accepted it, the notice is returned too (stored, with
// DeliveryError set, to be escalated by the next Tick) along with an error
// wrapping [ErrUndelivered].
func (e *Escalator) Notify(ctx context.Context, req Request, now time.Time) (Notice, error) {
	if req.Subject.Kind != SubjectFinding && req.Subject.Kind != SubjectIncident {
		return Notice{}, fmt.Errorf("notify: subject kind %q: want finding or incident (advisories go through Publish)", req.Subject.Kind)
	}
	return e.create(ctx, Notice{
		Tenant: req.Tenant, Party: req.Party, Subject: req.Subject, Severity: req.Severity,
		Title: req.Title, Body: req.Body, Links: req.Links,
	}, now)
}

// Publish sends an advisory from a provider to customers: one notice per
// recipient, on the same path as findings. It returns the notices created
// (also those whose delivery failed) and an error joining every failure.
func (e *Escalator) Publish(ctx context.Context, a Advisory, now time.Time) ([]Notice, error) {
	from, err := e.opts.Policy.Party(a.From)
	if err != nil {
		return nil, err
	}
	if from.Kind != PartyProvider {
		return nil, fmt.Errorf("notify: advisory from %q: a %s cannot publish advisories (only a provider)", a.From, from.Kind)
	}
	if !a.Category.valid() {
		return nil, fmt.Errorf("notify: advisory %q: category %q: want major_change, platform_vulnerability or sla_event", a.Ref, a.Category)
	}
	if strings.TrimSpace(a.Ref) == "" {
		return nil, errors.New("notify: advisory: ref is required")
	}
	to := a.To
	if len(to) == 0 {
		for id, p := range e.opts.Policy.Parties {
			if p.Kind == PartyCustomer {
				to = append(to, id)
			}
		}
		slices.Sort(to)
		if len(to) == 0 {
			return nil, fmt.Errorf("notify: advisory %q: the policy has no customer parties", a.Ref)
		}
	}
	for _, id := range to {
		p, err := e.opts.Policy.Party(id)
		if err != nil {
			return nil, err
		}
		if p.Kind != PartyCustomer {
			return nil, fmt.Errorf("notify: advisory %q: recipient %q is a %s, not a customer", a.Ref, id, p.Kind)
		}
	}
	var out []Notice
	var errs []error
	for _, id := range to {
		n, err := e.create(ctx, Notice{
			Tenant: a.Tenant, Party: id, From: a.From,
			Subject:  Subject{Kind: SubjectAdvisory, ID: a.Ref, Category: a.Category, URL: a.URL},
			Severity: a.Severity, Title: a.Title, Body: a.Body, Links: a.Links,
		}, now)
		if n.ID != "" {
			out = append(out, n)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// create validates, stores and delivers a new notice.
func (e *Escalator) create(ctx context.Context, n Notice, now time.Time) (Notice, error) {
	party, err := e.opts.Policy.Party(n.Party)
	if err != nil {
		return Notice{}, err
	}
	if !n.Severity.valid() {
		return Notice{}, fmt.Errorf("notify: severity %q: want critical, high, medium, low or informational", n.Severity)
	}
	if strings.TrimSpace(n.Title) == "" {
		return Notice{}, errors.New("notify: title is required")
	}
	if strings.TrimSpace(n.Subject.ID) == "" {
		return Notice{}, errors.New("notify: subject id is required")
	}
	n.ID = e.opts.NewID()
	n.Contact = party.Chain[0].ID
	n.EscalationLevel = 0
	n.State = StateOpen
	n.CreatedAt = now
	n.NotifiedAt = now
	n.Deadline = e.deadline(n, now)
	n.Links = slices.Clone(n.Links)
	if e.opts.AckURL != nil {
		n.AckURL = e.opts.AckURL(n)
	}
	if err := e.opts.Store.Create(ctx, n); err != nil {
		return Notice{}, fmt.Errorf("notify: storing notice: %w", err)
	}
	e.opts.Logger.Info("notice created", "notice_id", n.ID, "tenant", n.Tenant, "party", n.Party,
		"subject", n.Subject.Kind, "subject_id", n.Subject.ID, "severity", n.Severity)
	return e.deliver(ctx, n, now)
}

// deadline returns the current level's deadline, zero when none.
func (e *Escalator) deadline(n Notice, now time.Time) time.Time {
	if d := e.opts.Policy.Deadline(n.Party, n.Severity); d > 0 {
		return now.Add(d)
	}
	return time.Time{}
}

// errStale aborts an update whose notice moved on meanwhile.
var errStale = errors.New("notice changed meanwhile")

// deliver sends n to its current contact's channels and records the
// outcome on the stored notice.
func (e *Escalator) deliver(ctx context.Context, n Notice, now time.Time) (Notice, error) {
	contact, chans, err := e.route(n)
	var derr error
	if err != nil {
		derr = fmt.Errorf("notify: notice %s: %w: %w", n.ID, ErrUndelivered, err)
	} else {
		var results []ChannelResult
		results, derr = e.opts.Deliverer.DeliverAll(ctx, chans, n, contact)
		if derr == nil {
			for _, r := range results {
				if r.Err != nil {
					e.opts.Logger.Warn("notice channel failed; delivered on another", "notice_id", n.ID,
						"contact", contact.ID, "channel", r.Channel, "err", r.Err)
				}
			}
		}
	}
	if derr != nil && ctx.Err() != nil {
		// Cancelled (shutdown), not the contact's failure: leave the
		// delivery pending; a later Tick delivers it again.
		return n, derr
	}
	updated, uerr := e.opts.Store.Update(ctx, n.ID, func(m *Notice) error {
		if m.EscalationLevel != n.EscalationLevel || m.Contact != n.Contact {
			return errStale
		}
		if derr == nil {
			m.DeliveredAt = now
			m.DeliveryError = ""
		} else {
			m.DeliveryError = derr.Error()
		}
		return nil
	})
	switch {
	case errors.Is(uerr, errStale):
		updated, uerr = e.opts.Store.Get(ctx, n.ID)
	}
	if uerr != nil {
		return n, errors.Join(derr, fmt.Errorf("notify: notice %s: recording delivery: %w", n.ID, uerr))
	}
	return updated, derr
}

// route finds the contact a notice is addressed to and its channels.
func (e *Escalator) route(n Notice) (Contact, []Channel, error) {
	party, err := e.opts.Policy.Party(n.Party)
	if err != nil {
		return Contact{}, nil, err
	}
	if n.EscalationLevel < 0 || n.EscalationLevel >= len(party.Chain) {
		return Contact{}, nil, fmt.Errorf("party %q has no contact at level %d", n.Party, n.EscalationLevel)
	}
	c := party.Chain[n.EscalationLevel]
	var chans []Channel
	for _, name := range c.Channels {
		ch, ok := e.opts.Channels[name]
		if !ok {
			return c, nil, fmt.Errorf("contact %q: unknown channel %q", c.ID, name)
		}
		chans = append(chans, ch)
	}
	return c, chans, nil
}

// Ack records that by acknowledged the notice at now, with an optional
// note, and so stops its escalation. An exhausted notice can still be
// acknowledged. Acknowledging twice gives an error wrapping
// [ErrAlreadyAcknowledged]; an unknown ID one wrapping [ErrNotFound].
func (e *Escalator) Ack(ctx context.Context, id, by, note string, now time.Time) (Notice, error) {
	if strings.TrimSpace(by) == "" {
		return Notice{}, fmt.Errorf("notify: ack %s: who acknowledges is required", id)
	}
	n, err := e.opts.Store.Update(ctx, id, func(n *Notice) error {
		if n.State == StateAcknowledged {
			return fmt.Errorf("notify: notice %s: %w by %s at %s", id, ErrAlreadyAcknowledged, n.AckedBy, n.AckedAt.UTC().Format(time.RFC3339))
		}
		n.State = StateAcknowledged
		n.AckedAt = now
		n.AckedBy = by
		n.AckNote = note
		return nil
	})
	if err != nil {
		return Notice{}, err
	}
	e.opts.Logger.Info("notice acknowledged", "notice_id", id, "party", n.Party, "by", by, "level", n.EscalationLevel)
	return n, nil
}

// TickReport says what one [Escalator.Tick] did.
type TickReport struct {
	// Escalated are the notices moved to the next contact.
	Escalated []string
	// Exhausted are the notices that were due at the last contact.
	Exhausted []string
	// Redelivered are the notices delivered again to the same contact
	// (their earlier delivery never completed).
	Redelivered []string
}

// Tick handles the notices due at now: an open notice past its deadline,
// or whose delivery to the current contact failed, moves to the next
// contact of the chain (level+1, a new deadline, a new delivery); at the
// end of the chain it becomes exhausted, and stays visible. A notice whose
// delivery is still pending after RedeliverAfter is delivered again.
// Acknowledged notices are never touched.
//
// Tick returns what it did and an error joining the failures (deliveries
// that reached no channel wrap [ErrUndelivered]); one notice's failure does
// not stop the others.
func (e *Escalator) Tick(ctx context.Context, now time.Time) (TickReport, error) {
	due, err := e.opts.Store.Due(ctx, now)
	if err != nil {
		return TickReport{}, fmt.Errorf("notify: tick: listing due notices: %w", err)
	}
	var (
		mu   sync.Mutex
		rep  TickReport
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, e.opts.Concurrency)
	)
	for _, n := range due {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			action, err := e.handleDue(ctx, n, now)
			mu.Lock()
			defer mu.Unlock()
			switch action {
			case actionEscalated:
				rep.Escalated = append(rep.Escalated, n.ID)
			case actionExhausted:
				rep.Exhausted = append(rep.Exhausted, n.ID)
			case actionRedelivered:
				rep.Redelivered = append(rep.Redelivered, n.ID)
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	slices.Sort(rep.Escalated)
	slices.Sort(rep.Exhausted)
	slices.Sort(rep.Redelivered)
	return rep, errors.Join(errs...)
}

type dueAction int

const (
	actionNone dueAction = iota
	actionEscalated
	actionExhausted
	actionRedelivered
)

// handleDue escalates, exhausts or redelivers one due notice.
func (e *Escalator) handleDue(ctx context.Context, snap Notice, now time.Time) (dueAction, error) {
	escalate := func(n Notice) bool {
		return n.State == StateOpen && (n.Overdue(now) || (n.DeliveredAt.IsZero() && n.DeliveryError != ""))
	}
	switch {
	case escalate(snap):
	case snap.State == StateOpen && snap.DeliveredAt.IsZero() && now.Sub(snap.NotifiedAt) >= e.opts.RedeliverAfter:
		_, err := e.deliver(ctx, snap, now)
		return actionRedelivered, err
	default:
		return actionNone, nil
	}
	action := actionNone
	n, err := e.opts.Store.Update(ctx, snap.ID, func(n *Notice) error {
		if n.EscalationLevel != snap.EscalationLevel || !escalate(*n) {
			return errStale
		}
		party, err := e.opts.Policy.Party(n.Party)
		next := n.EscalationLevel + 1
		if err != nil || next >= len(party.Chain) {
			n.State = StateExhausted
			action = actionExhausted
			return nil
		}
		n.EscalationLevel = next
		n.Contact = party.Chain[next].ID
		n.NotifiedAt = now
		n.Deadline = e.deadline(*n, now)
		n.DeliveredAt = time.Time{}
		n.DeliveryError = ""
		action = actionEscalated
		return nil
	})
	if errors.Is(err, errStale) {
		return actionNone, nil
	}
	if err != nil {
		return actionNone, fmt.Errorf("notify: notice %s: escalating: %w", snap.ID, err)
	}
	if action == actionExhausted {
		e.opts.Logger.Warn("notice exhausted its escalation chain unacknowledged", "notice_id", n.ID,
			"tenant", n.Tenant, "party", n.Party, "level", n.EscalationLevel)
		return action, nil
	}
	e.opts.Logger.Info("notice escalated", "notice_id", n.ID, "tenant", n.Tenant, "party", n.Party,
		"level", n.EscalationLevel, "contact", n.Contact)
	_, err = e.deliver(ctx, n, now)
	return action, err
}

// Run calls Tick every interval (default 30s) with the Options clock until
// ctx is done, then returns nil. Tick errors are logged, as nobody else
// receives them.
func (e *Escalator) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := e.Tick(ctx, e.opts.Now())
		if err != nil && ctx.Err() == nil {
			e.opts.Logger.Error("notice tick failed", "err", err)
		}
		if n := len(rep.Escalated) + len(rep.Exhausted) + len(rep.Redelivered); n > 0 {
			e.opts.Logger.Info("notice tick", "escalated", len(rep.Escalated), "exhausted", len(rep.Exhausted),
				"redelivered", len(rep.Redelivered))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
