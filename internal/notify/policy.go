package notify

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// PartyKind is a party's role in shared responsibility.
type PartyKind string

// The party kinds.
const (
	// PartyProvider is the cloud or platform provider.
	PartyProvider PartyKind = "provider"
	// PartyCustomer is the tenant that uses the platform.
	PartyCustomer PartyKind = "customer"
	// PartyVendor is a security vendor or managed security service.
	PartyVendor PartyKind = "vendor"
)

func (k PartyKind) valid() bool {
	switch k {
	case PartyProvider, PartyCustomer, PartyVendor:
		return true
	}
	return false
}

// Contact is one step of a party's escalation chain: a person, a rota or a
// team, reached on one or more channels at once.
type Contact struct {
	// ID identifies the contact within its party.
	ID string `json:"id"`
	// Name is shown to people; defaults to ID.
	Name string `json:"name,omitempty"`
	// Channels are the names of the channels the contact is reached on. A
	// delivery succeeds when at least one of them accepts the notice.
	Channels []string `json:"channels"`
	// Email, when set, replaces the recipients of e-mail channels for this
	// contact.
	Email []string `json:"email,omitempty"`
}

// Party is a provider, a customer or a security vendor that receives
// notices, with its escalation chain.
type Party struct {
	// ID identifies the party (the responsibility attribution uses it).
	ID string `json:"id"`
	// Name is shown to people; defaults to ID.
	Name string `json:"name,omitempty"`
	// Kind is provider, customer or vendor.
	Kind PartyKind `json:"kind"`
	// Chain is the escalation chain: notices go to Chain[0] first and move
	// one step on each missed deadline. It has at least one contact.
	Chain []Contact `json:"chain"`
	// Deadlines overrides the policy's deadlines for this party; severities
	// it does not name keep the policy's.
	Deadlines map[Severity]time.Duration `json:"deadlines,omitempty"`
}

// Policy holds the acknowledgement deadlines and the parties. It is
// read-only once built and safe for concurrent use.
type Policy struct {
	// Deadlines is how long a contact has to acknowledge, by severity. A
	// severity that is absent, or maps to 0, has no deadline and never
	// escalates on time (it still escalates when delivery fails).
	// [DefaultDeadlines] gives the defaults.
	Deadlines map[Severity]time.Duration `json:"deadlines"`
	// Parties maps party IDs to parties.
	Parties map[string]Party `json:"parties"`
}

// DefaultDeadlines returns the default acknowledgement deadlines: critical
// 15 minutes, high 1 hour, medium 8 hours, low 24 hours, informational none.
func DefaultDeadlines() map[Severity]time.Duration {
	return map[Severity]time.Duration{
		SeverityCritical: 15 * time.Minute,
		SeverityHigh:     time.Hour,
		SeverityMedium:   8 * time.Hour,
		SeverityLow:      24 * time.Hour,
	}
}

// Deadline returns how long party has to acknowledge a notice of severity
// sev; 0 means no deadline.
func (p *Policy) Deadline(party string, sev Severity) time.Duration {
	if pt, ok := p.Parties[party]; ok {
		if d, ok := pt.Deadlines[sev]; ok {
			return d
		}
	}
	return p.Deadlines[sev]
}

// Party returns the party with the given ID.
func (p *Policy) Party(id string) (Party, error) {
	pt, ok := p.Parties[id]
	if !ok {
		return Party{}, fmt.Errorf("notify: party %q: %w", id, ErrUnknownParty)
	}
	return pt, nil
}

// Validate reports every problem with the policy: deadlines must be
// non-negative, parties need a valid kind and at least one contact, contact
// IDs are unique within a party and each contact has a channel. When
// channels is not nil, every channel a contact names must be in it.
func (p *Policy) Validate(channels map[string]Channel) error {
	var errs []error
	for _, sev := range slices.Sorted(maps.Keys(p.Deadlines)) {
		d := p.Deadlines[sev]
		if !sev.valid() {
			errs = append(errs, fmt.Errorf("notify: deadlines: unknown severity %q", sev))
		}
		if d < 0 {
			errs = append(errs, fmt.Errorf("notify: deadlines: %s: must not be negative", sev))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.Parties)) {
		pt := p.Parties[id]
		where := fmt.Sprintf("notify: party %q", id)
		if pt.ID != id {
			errs = append(errs, fmt.Errorf("%s: ID %q does not match its key", where, pt.ID))
		}
		if !pt.Kind.valid() {
			errs = append(errs, fmt.Errorf("%s: kind %q: want provider, customer or vendor", where, pt.Kind))
		}
		if len(pt.Chain) == 0 {
			errs = append(errs, fmt.Errorf("%s: escalation chain is empty", where))
		}
		for _, sev := range slices.Sorted(maps.Keys(pt.Deadlines)) {
			d := pt.Deadlines[sev]
			if !sev.valid() || d < 0 {
				errs = append(errs, fmt.Errorf("%s: deadlines: %s: unknown severity or negative duration", where, sev))
			}
		}
		seen := map[string]bool{}
		for i, c := range pt.Chain {
			cw := fmt.Sprintf("%s: contact %d (%q)", where, i, c.ID)
			if c.ID == "" {
				errs = append(errs, fmt.Errorf("%s: id is empty", cw))
			} else if seen[c.ID] {
				errs = append(errs, fmt.Errorf("%s: duplicate contact id", cw))
			}
			seen[c.ID] = true
			if len(c.Channels) == 0 {
				errs = append(errs, fmt.Errorf("%s: no channels", cw))
			}
			for _, ch := range c.Channels {
				if channels != nil {
					if _, ok := channels[ch]; !ok {
						errs = append(errs, fmt.Errorf("%s: unknown channel %q", cw, ch))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}
