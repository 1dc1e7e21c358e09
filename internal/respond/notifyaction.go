package respond

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/canopy-sec/canopy/internal/notify"
)

// Notifier creates a notice to a party and delivers it.
// notify.Escalator.Notify has this signature.
type Notifier interface {
	Notify(ctx context.Context, req notify.Request, now time.Time) (notify.Notice, error)
}

// NameNotify is the name of the notify action.
const NameNotify = "notify"

// NotifyOptions configures [NewNotifyAction].
type NotifyOptions struct {
	// Notifier sends the notices. Required.
	Notifier Notifier
	// PartyID maps the step's party and party_name parameters (by
	// default the record's responsible party: provider, customer, vendor,
	// shared, and the vendor's or provider's name) to the id of a party
	// of the notification policy. It must pass policy ids a step names
	// itself through unchanged. Default: party unchanged.
	PartyID func(tenant, party, name string) string
	// URL, when set, links a notice to its record.
	URL func(tenant string, ref Ref) string
}

// NewNotifyAction returns the notify action: it sends a notice about the
// call's record to a party of the notification policy, through the
// escalation chain (internal/notify), and cannot be rolled back.
//
// Parameters: party and party_name (default the record's responsible
// party, mapped to a policy party by PartyID), title (default the record's
// title), body, severity (critical … informational; default the
// record's).
func NewNotifyAction(opts NotifyOptions) (Action, error) {
	if opts.Notifier == nil {
		return nil, errors.New("respond: notify action: Notifier is required")
	}
	if opts.PartyID == nil {
		opts.PartyID = func(_, party, _ string) string { return party }
	}
	return &notifyAction{opts: opts}, nil
}

type notifyAction struct{ opts NotifyOptions }

func (a *notifyAction) Name() string { return NameNotify }

func (a *notifyAction) Params() Schema {
	return Schema{
		{Name: "party", Required: true, Default: "{{ .record.party }}", MaxLen: 256, Doc: "the party: provider, customer, vendor, or a notification policy's party id"},
		{Name: "party_name", Default: "{{ .record.party_name }}", MaxLen: 256, Doc: "the vendor's or provider's name, if any"},
		{Name: "title", Default: "{{ .record.title }}", MaxLen: 500, Doc: "the notice's title"},
		{Name: "body", MaxLen: 8000, Doc: "the notice's text"},
		{Name: "severity", Default: "{{ .record.severity }}", Enum: []string{"critical", "high", "medium", "low", "informational"}, Doc: "the notice's severity"},
	}
}

func (a *notifyAction) Impact(_ context.Context, rec Record, p Params, _ World) (Impact, error) {
	party := a.opts.PartyID(rec.Tenant, p.String("party"), p.String("party_name"))
	if party == "" {
		party = "(no party: the step will fail)"
	}
	return Impact{
		Summary:    fmt.Sprintf("notify %s (%s): %s", party, p.String("severity"), p.String("title")),
		Targets:    []Asset{{UID: "party:" + party, Type: "notification"}},
		Disruption: DisruptionNone,
		Reversible: false,
		Notes:      []string{"a notice cannot be unsent; it escalates until acknowledged"},
	}, nil
}

func (a *notifyAction) Do(ctx context.Context, call Call) (Result, error) {
	p := call.Params
	party := a.opts.PartyID(call.Tenant, p.String("party"), p.String("party_name"))
	if party == "" {
		return Result{}, errors.New("party: the record has no responsible party; set the step's party parameter")
	}
	s, err := notify.ParseSeverity(p.String("severity"))
	if err != nil {
		s = notify.SeverityMedium
	}
	kind := notify.SubjectFinding
	if call.Record.Kind == KindIncident {
		kind = notify.SubjectIncident
	}
	subj := notify.Subject{Kind: kind, ID: call.Record.String()}
	if a.opts.URL != nil {
		subj.URL = a.opts.URL(call.Tenant, call.Record)
	}
	n, err := a.opts.Notifier.Notify(ctx, notify.Request{Tenant: call.Tenant, Party: party, Subject: subj,
		Severity: s, Title: p.String("title"), Body: p.String("body")}, call.Now)
	if n.ID == "" && err != nil {
		return Result{}, fmt.Errorf("notify %s: %w", party, err)
	}
	res := Result{Action: NameNotify, Summary: fmt.Sprintf("notified %s: notice %s", party, n.ID),
		Output: map[string]any{"notice": n.ID, "party": party}, Changed: []string{"notice:" + n.ID}}
	if err != nil {
		// stored but not delivered yet: the escalator delivers it again
		res.Output["delivery_error"] = err.Error()
	}
	return res, nil
}

func (a *notifyAction) Rollback(context.Context, Result) error { return ErrNotReversible }
