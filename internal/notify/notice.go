package notify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Severity is a notice's severity, named as OCSF names severities.
type Severity string

// The severities, most severe first.
const (
	SeverityCritical      Severity = "critical"
	SeverityHigh          Severity = "high"
	SeverityMedium        Severity = "medium"
	SeverityLow           Severity = "low"
	SeverityInformational Severity = "informational"
)

// Severities lists every severity, most severe first.
func Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInformational}
}

// ParseSeverity reads a severity name, case-insensitively; "info" is
// accepted for informational.
func ParseSeverity(s string) (Severity, error) {
	switch v := Severity(strings.ToLower(strings.TrimSpace(s))); v {
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInformational:
		return v, nil
	case "info":
		return SeverityInformational, nil
	}
	return "", fmt.Errorf("notify: unknown severity %q (want critical, high, medium, low or informational)", s)
}

// SeverityFromOCSF maps an OCSF severity_id to a Severity. Fatal counts as
// critical; unknown and other count as medium, so that an unrated finding
// still has a deadline.
func SeverityFromOCSF(id int) Severity {
	switch id {
	case ocsf.SeverityFatal, ocsf.SeverityCritical:
		return SeverityCritical
	case ocsf.SeverityHigh:
		return SeverityHigh
	case ocsf.SeverityLow:
		return SeverityLow
	case ocsf.SeverityInformational:
		return SeverityInformational
	}
	return SeverityMedium
}

func (s Severity) valid() bool {
	_, err := ParseSeverity(string(s))
	return err == nil && s == Severity(strings.ToLower(string(s)))
}

// SubjectKind says what a notice is about.
type SubjectKind string

// The subject kinds.
const (
	// SubjectFinding is a finding (an issue) attributed to the party.
	SubjectFinding SubjectKind = "finding"
	// SubjectIncident is an incident attributed to the party.
	SubjectIncident SubjectKind = "incident"
	// SubjectAdvisory is an advisory a provider publishes to its customers.
	SubjectAdvisory SubjectKind = "advisory"
)

// AdvisoryCategory says what kind of advisory a provider publishes.
type AdvisoryCategory string

// The advisory categories.
const (
	AdvisoryMajorChange           AdvisoryCategory = "major_change"
	AdvisoryPlatformVulnerability AdvisoryCategory = "platform_vulnerability"
	AdvisorySLAEvent              AdvisoryCategory = "sla_event"
)

func (c AdvisoryCategory) valid() bool {
	switch c {
	case AdvisoryMajorChange, AdvisoryPlatformVulnerability, AdvisorySLAEvent:
		return true
	}
	return false
}

// Subject references the record a notice is about.
type Subject struct {
	// Kind is finding, incident or advisory.
	Kind SubjectKind `json:"kind"`
	// ID is the record's identifier in Canopy (issue or incident id) or the
	// advisory's reference (e.g. "ADV-2025-014").
	ID string `json:"id"`
	// Category is the advisory category; empty for findings and incidents.
	Category AdvisoryCategory `json:"category,omitempty"`
	// URL links to the record, optional.
	URL string `json:"url,omitempty"`
}

// Link is a titled link shown with a notice.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// State is where a notice stands.
type State string

// The notice states.
const (
	// StateOpen: waiting for acknowledgement; escalates when overdue.
	StateOpen State = "open"
	// StateAcknowledged: acknowledged; never escalates again.
	StateAcknowledged State = "acknowledged"
	// StateExhausted: overdue at the last contact of the chain. Nobody is
	// left to escalate to; the notice stays visible and can still be
	// acknowledged.
	StateExhausted State = "exhausted"
)

// Notice is one message to a party that must be acknowledged: about a
// finding or an incident attributed to the party, or an advisory published
// to it. It is addressed to one contact of the party's escalation chain at a
// time ([Notice.EscalationLevel] indexes the chain).
type Notice struct {
	// ID identifies the notice.
	ID string `json:"id"`
	// Tenant is the tenant the subject belongs to.
	Tenant string `json:"tenant"`
	// Party is the ID of the party the notice is addressed to.
	Party string `json:"party"`
	// From is the ID of the party that published an advisory; empty when
	// Canopy itself notifies.
	From string `json:"from,omitempty"`
	// Contact is the ID of the contact currently addressed: the party's
	// escalation chain at EscalationLevel.
	Contact string `json:"contact"`
	// Subject is what the notice is about.
	Subject Subject `json:"subject"`
	// Severity decides the acknowledgement deadline.
	Severity Severity `json:"severity"`
	// Title is a one-line summary.
	Title string `json:"title"`
	// Body is the plain-text detail; channels render it as text or within
	// markdown.
	Body string `json:"body,omitempty"`
	// Links are further references (console pages, runbooks).
	Links []Link `json:"links,omitempty"`
	// AckURL, when set, is where the contact acknowledges; channels show it
	// as a link or button.
	AckURL string `json:"ack_url,omitempty"`
	// CreatedAt is when the notice was created.
	CreatedAt time.Time `json:"created_at"`
	// NotifiedAt is when the current contact's level began (creation, or
	// the last escalation).
	NotifiedAt time.Time `json:"notified_at"`
	// Deadline is when the current contact must have acknowledged; zero for
	// severities without a deadline.
	Deadline time.Time `json:"deadline,omitzero"`
	// DeliveredAt is when the current contact was reached on at least one
	// channel; zero while the delivery is pending or has failed.
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// DeliveryError is the final failure of the last delivery to the
	// current contact, when every channel failed; empty otherwise.
	DeliveryError string `json:"delivery_error,omitempty"`
	// AckedAt, AckedBy and AckNote record the acknowledgement.
	AckedAt time.Time `json:"acked_at,omitzero"`
	AckedBy string    `json:"acked_by,omitempty"`
	AckNote string    `json:"ack_note,omitempty"`
	// EscalationLevel is the index of Contact in the party's chain: 0 for
	// the first contact.
	EscalationLevel int `json:"escalation_level"`
	// State is open, acknowledged or exhausted.
	State State `json:"state"`
}

// Overdue reports whether n waits for acknowledgement past its deadline at
// now.
func (n Notice) Overdue(now time.Time) bool {
	return n.State == StateOpen && !n.Deadline.IsZero() && !now.Before(n.Deadline)
}

// clone returns a deep copy of n (its Links are not shared).
func (n Notice) clone() Notice {
	if n.Links != nil {
		n.Links = append([]Link(nil), n.Links...)
	}
	return n
}

// Errors that callers test for with [errors.Is].
var (
	// ErrNotFound: no notice has the given ID.
	ErrNotFound = errors.New("notice not found")
	// ErrExists: a notice with that ID already exists.
	ErrExists = errors.New("notice already exists")
	// ErrAlreadyAcknowledged: the notice was acknowledged before.
	ErrAlreadyAcknowledged = errors.New("notice already acknowledged")
	// ErrUndelivered: no channel of the contact accepted the notice.
	ErrUndelivered = errors.New("notice not delivered")
	// ErrUnknownParty: the party is not in the policy.
	ErrUnknownParty = errors.New("unknown party")
)
