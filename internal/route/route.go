package route

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/responsibility"
	"github.com/canopy-sec/canopy/internal/store"
)

// Store is what routing keeps its state in.
type Store interface {
	store.Notices
	store.AuditLog
}

// Options configure a [Router].
type Options struct {
	Store Store
	// Notify is the notification configuration (parties, contacts,
	// channels, deadlines); nil: no notices, attributions are only
	// recorded.
	Notify *notify.Config
	// MinSeverity is the lowest OCSF severity_id notified; default 4
	// (High).
	MinSeverity int
	// Key signs audit entries; nil: unsigned.
	Key ed25519.PrivateKey
	// AckURL gives a notice's acknowledgement link, optional.
	AckURL func(notify.Notice) string
	Logger *slog.Logger
	// Now is the clock of audit entries; default time.Now.
	Now func() time.Time
}

// Router records and notifies. It is safe for concurrent use.
type Router struct {
	opts Options
	esc  *notify.Escalator
	mu   sync.Mutex
	logs map[string]*audit.Log
}

// New builds a router.
func New(opts Options) (*Router, error) {
	if opts.Store == nil {
		return nil, errors.New("route: Options.Store is required")
	}
	if opts.MinSeverity <= 0 {
		opts.MinSeverity = ocsf.SeverityHigh
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{opts: opts, logs: map[string]*audit.Log{}}
	if opts.Notify != nil {
		delivery := opts.Notify.Delivery
		delivery.OnAttempt = r.onAttempt
		esc, err := opts.Notify.NewEscalator(pipeline.NoticeStore(opts.Store), notify.Options{Logger: opts.Logger, AckURL: opts.AckURL}, delivery)
		if err != nil {
			return nil, err
		}
		r.esc = esc
	}
	return r, nil
}

// Notifying reports whether notices are configured.
func (r *Router) Notifying() bool { return r.esc != nil }

// log returns the tenant's audit log.
func (r *Router) log(tenant string) (*audit.Log, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.logs[tenant]; ok {
		return l, nil
	}
	l, err := audit.New(audit.Options{Sink: pipeline.AuditChain(r.opts.Store, tenant), Key: r.opts.Key, Now: r.opts.Now})
	if err != nil {
		return nil, err
	}
	r.logs[tenant] = l
	return l, nil
}

// Record appends one event to the tenant's audit chain; details is any
// JSON-marshalable value or nil.
func (r *Router) Record(ctx context.Context, tenant, actor, action, object string, details any) error {
	var raw json.RawMessage
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		raw = b
	}
	l, err := r.log(tenant)
	if err != nil {
		return err
	}
	if _, err := l.Append(ctx, audit.Event{Tenant: tenant, Actor: actor, Action: action, Object: object, Details: raw}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Attributed is the route stage's hook for correlation
// (pipeline.CorrelateOptions.OnAttributed): every attributed finding of at
// least MinSeverity is recorded in the audit chain and its responsible
// party notified (a shared finding notifies each party with a part).
func (r *Router) Attributed(ctx context.Context, tenant string, fs []pipeline.AttributedFinding) error {
	now := time.Now()
	if r.opts.Now != nil {
		now = r.opts.Now()
	}
	var errs []error
	for _, f := range fs {
		if f.SeverityID < r.opts.MinSeverity || f.SeverityID == ocsf.SeverityOther {
			continue
		}
		object := "finding:" + strconv.FormatInt(f.ID, 10)
		if err := r.Record(ctx, tenant, "system", audit.ActionFindingAttributed, object, f.Attribution); err != nil {
			return err
		}
		if r.esc == nil {
			continue
		}
		for _, party := range r.targets(f.Attribution) {
			req := notify.Request{Tenant: tenant, Party: party.ID, Subject: notify.Subject{Kind: notify.SubjectFinding, ID: object},
				Severity: severityOf(f.SeverityID), Title: f.Title, Body: "Responsibility: " + f.Attribution.Basis}
			n, err := r.esc.Notify(ctx, req, now)
			if n.ID == "" && err != nil {
				errs = append(errs, fmt.Errorf("notifying %s of %s: %w", party.ID, object, err))
				continue
			}
			if err := r.sent(ctx, n, party); err != nil {
				return err
			}
			if err != nil {
				// stored, not delivered: the escalator tries the next contact
				r.opts.Logger.Warn("notice not delivered; it will escalate", "notice", n.ID, "party", party.ID, "err", err)
			}
		}
	}
	return errors.Join(errs...)
}

// Notify sends a notice to a party of the notification policy (req.Party
// is its id) through its escalation chain, and records it in the audit
// chain (notice.sent), as attributions are notified: it is the response
// stage's notifier (respond.Notifier). A notice stored but not delivered
// yet is returned with the delivery error; it escalates like any other.
// It returns [ErrNoNotify] when notices are not configured.
func (r *Router) Notify(ctx context.Context, req notify.Request, now time.Time) (notify.Notice, error) {
	if r.esc == nil {
		return notify.Notice{}, ErrNoNotify
	}
	party, ok := r.opts.Notify.Policy.Parties[req.Party]
	if !ok {
		return notify.Notice{}, fmt.Errorf("route: no party %q in the notification policy", req.Party)
	}
	n, err := r.esc.Notify(ctx, req, now)
	if n.ID == "" {
		return n, err
	}
	if rerr := r.sent(ctx, n, party); rerr != nil {
		return n, errors.Join(err, rerr)
	}
	return n, err
}

// PartyID returns the id of the notification policy's party that stands
// for a responsible party: the party of that kind (provider, customer,
// vendor; shared counts as customer), preferring the one whose id is
// name; an id of the policy is returned as is. "" when notices are not
// configured or no party fits.
func (r *Router) PartyID(party, name string) string {
	if r.opts.Notify == nil || party == "" {
		return ""
	}
	parties := r.opts.Notify.Policy.Parties
	if _, ok := parties[party]; ok {
		return party
	}
	kind := party
	if kind == "shared" {
		kind = "customer"
	}
	pick := ""
	for _, id := range sortedIDs(parties) {
		if string(parties[id].Kind) != kind {
			continue
		}
		if pick == "" || (name != "" && strings.EqualFold(id, name)) {
			pick = id
		}
	}
	return pick
}

// sent records a notice in the audit chain, with what KPIs read.
func (r *Router) sent(ctx context.Context, n notify.Notice, party notify.Party) error {
	d := map[string]any{"notice": n.ID, "party": string(party.Kind), "name": party.ID, "severity": string(n.Severity), "contact": n.Contact}
	if !n.Deadline.IsZero() {
		d["due"] = n.Deadline.UTC().Format(time.RFC3339)
	}
	if n.DeliveryError != "" {
		d["delivery_error"] = n.DeliveryError
	}
	return r.Record(ctx, n.Tenant, "system", audit.ActionNoticeSent, n.Subject.ID, d)
}

// targets are the configured parties an attribution addresses: the party
// of its kind (the vendor by id when the attribution names it), every
// party with a part of a shared one.
func (r *Router) targets(a responsibility.Attribution) []notify.Party {
	kinds := map[string]string{} // kind → name
	if a.Party == "shared" {
		for _, p := range a.Parts {
			kinds[string(p.Party)] = p.Name
		}
	} else {
		name := ""
		for _, p := range a.Parts {
			if p.Party == a.Party {
				name = p.Name
			}
		}
		kinds[string(a.Party)] = name
	}
	var out []notify.Party
	for kind, name := range kinds {
		var pick *notify.Party
		for _, id := range sortedIDs(r.opts.Notify.Policy.Parties) {
			p := r.opts.Notify.Policy.Parties[id]
			if string(p.Kind) != kind {
				continue
			}
			if pick == nil || (name != "" && strings.EqualFold(p.ID, name)) {
				pp := p
				pick = &pp
			}
		}
		if pick != nil {
			out = append(out, *pick)
		}
	}
	return out
}

func sortedIDs(m map[string]notify.Party) []string {
	return slices.Sorted(maps.Keys(m))
}

func severityOf(id int) notify.Severity {
	switch id {
	case ocsf.SeverityCritical, ocsf.SeverityFatal:
		return notify.SeverityCritical
	case ocsf.SeverityHigh:
		return notify.SeverityHigh
	case ocsf.SeverityMedium:
		return notify.SeverityMedium
	case ocsf.SeverityLow:
		return notify.SeverityLow
	}
	return notify.SeverityInformational
}

// onAttempt logs every delivery attempt; failures are warnings, never
// silent. Secrets never reach the message: channel errors redact them.
func (r *Router) onAttempt(ctx context.Context, a notify.Attempt) {
	if a.Err != nil {
		r.opts.Logger.Warn("delivery attempt failed", "notice", a.Notice.ID, "channel", a.Channel, "attempt", a.Number, "final", a.Final, "err", a.Err)
		return
	}
	r.opts.Logger.Info("notice delivered", "notice", a.Notice.ID, "channel", a.Channel, "attempt", a.Number)
}

// ErrNoNotify is returned by notice operations when notices are not
// configured.
var ErrNoNotify = errors.New("notices are not configured (--notify FILE or $CANOPY_NOTIFY)")

// Ack acknowledges a notice of the tenant and records it.
func (r *Router) Ack(ctx context.Context, tenant, id, by, note string, now time.Time) (notify.Notice, error) {
	if r.esc == nil {
		return notify.Notice{}, ErrNoNotify
	}
	row, err := r.opts.Store.Notice(ctx, id)
	if err != nil || row.Tenant != tenant {
		return notify.Notice{}, fmt.Errorf("notice %s: %w", id, store.ErrNotFound)
	}
	n, err := r.esc.Ack(ctx, id, by, note, now)
	if err != nil {
		return n, err
	}
	party := r.opts.Notify.Policy.Parties[n.Party]
	d := map[string]any{"notice": n.ID, "party": string(party.Kind), "name": party.ID}
	if note != "" {
		d["note"] = note
	}
	return n, r.Record(ctx, tenant, by, audit.ActionNoticeAcked, n.Subject.ID, d)
}

// Escalate runs one escalation round at now and records what moved.
func (r *Router) Escalate(ctx context.Context, now time.Time) (notify.TickReport, error) {
	if r.esc == nil {
		return notify.TickReport{}, ErrNoNotify
	}
	rep, terr := r.esc.Tick(ctx, now)
	for _, id := range append(append([]string{}, rep.Escalated...), rep.Exhausted...) {
		row, err := r.opts.Store.Notice(ctx, id)
		if err != nil {
			return rep, err
		}
		var n notify.Notice
		if err := json.Unmarshal(row.Doc, &n); err != nil {
			return rep, fmt.Errorf("notice %s: %w", id, err)
		}
		reason := "not acknowledged by the deadline"
		if n.State == notify.StateExhausted {
			reason = "not acknowledged by the last contact of the chain"
		}
		if err := r.Record(ctx, n.Tenant, "system", audit.ActionNoticeEscalated, n.Subject.ID,
			map[string]any{"notice": n.ID, "to": n.Contact, "level": n.EscalationLevel, "state": string(n.State), "reason": reason}); err != nil {
			return rep, err
		}
	}
	return rep, terr
}

// Publish sends a provider's advisory to customers and records each
// notice.
func (r *Router) Publish(ctx context.Context, a notify.Advisory, now time.Time) ([]notify.Notice, error) {
	if r.esc == nil {
		return nil, ErrNoNotify
	}
	ns, perr := r.esc.Publish(ctx, a, now)
	for _, n := range ns {
		if err := r.sent(ctx, n, r.opts.Notify.Policy.Parties[n.Party]); err != nil {
			return ns, err
		}
	}
	return ns, perr
}

// Notices lists the tenant's notices, newest first.
func (r *Router) Notices(ctx context.Context, q store.NoticeQuery) ([]notify.Notice, error) {
	rows, err := r.opts.Store.ListNotices(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]notify.Notice, 0, len(rows))
	for _, row := range rows {
		var n notify.Notice
		if err := json.Unmarshal(row.Doc, &n); err != nil {
			return nil, fmt.Errorf("notice %s: %w", row.ID, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// Entries reads the tenant's audit chain from seq from.
func (r *Router) Entries(ctx context.Context, tenant string, from uint64) iter.Seq2[audit.Entry, error] {
	return pipeline.AuditChain(r.opts.Store, tenant).Entries(ctx, from)
}

// KPIs computes time to acknowledge and resolve from the tenant's audit
// chain, for entries at or after since (zero: all).
func (r *Router) KPIs(ctx context.Context, tenant string, since time.Time) ([]audit.KPI, error) {
	entries := func(yield func(audit.Entry, error) bool) {
		for e, err := range r.Entries(ctx, tenant, 1) {
			if err == nil && e.Time.Before(since) {
				continue
			}
			if !yield(e, err) {
				return
			}
		}
	}
	return audit.KPIs(entries)
}

// Actions Canopy records besides the internal/audit ones.
const (
	// ActionIngested: a file or request body was ingested. Details:
	// "format", "records", "findings_new", "findings_updated", "events".
	ActionIngested = "records.ingested"
	// ActionScanned: a posture scan ran. Details: the scan (packs,
	// counts).
	ActionScanned = "posture.scanned"
	// ActionEvidenceRecorded: a manual control's evidence changed.
	// Details: the evidence.
	ActionEvidenceRecorded = "evidence.recorded"
)
