package respond

import (
	"strings"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/risk"
)

// Kind is the kind of record a playbook responds to.
type Kind string

// The record kinds.
const (
	KindIncident Kind = "incident" // a correlated incident (internal/pipeline)
	KindIssue    Kind = "issue"    // one weakness reported by one or more tools (a canonical key)
	KindFinding  Kind = "finding"  // one finding of one tool
)

func (k Kind) valid() bool { return k == KindIncident || k == KindIssue || k == KindFinding }

// Record is what a playbook sees of an incident, an issue or a finding:
// the facts its trigger tests and its parameters are rendered from. Build
// one from an incident with [FromIncident]; the store or the pipeline
// fills it for issues and findings.
//
// In CEL triggers and parameter templates the record's fields have the
// JSON names below (record.risk, record.tactics …).
type Record struct {
	// Tenant is the record's tenant; required.
	Tenant string `json:"tenant"`
	// Kind is incident, issue or finding; required.
	Kind Kind `json:"kind"`
	// ID is the record's id within its kind; required.
	ID string `json:"id"`
	// Title is the record's title.
	Title string `json:"title"`
	// Risk is the risk score, 0–100 (internal/risk).
	Risk int `json:"risk"`
	// Severity is critical, high, medium, low or informational (as
	// internal/notify names them).
	Severity string `json:"severity"`
	// Tactics are the ATT&CK tactics, by name ("Initial Access") and id
	// ("TA0001"): both are listed.
	Tactics []string `json:"tactics"`
	// Entities are the record's entities (internal/correlate).
	Entities []correlate.Entity `json:"entities"`
	// Party is the responsible party (provider, customer, vendor, shared)
	// and PartyName the vendor or provider it names.
	Party     string `json:"party"`
	PartyName string `json:"party_name"`
	// DataGrade is the GB/T 43697 grade of the data involved (core,
	// important, general); "" when unknown. Triggers test it with
	// has(record.data_grade) or record.data_grade == "core".
	DataGrade string `json:"data_grade,omitempty"`
	// Source is the product that reported the record ("Trivy",
	// "Security Hub"); for an incident, the products of its members,
	// joined with ", ".
	Source string `json:"source"`
	// Class is the OCSF class name ("incident_finding",
	// "compliance_finding" …).
	Class string `json:"class"`
	// Labels are facts about the record as words or key=value pairs:
	// [FromIncident] derives internet_exposed, public_bucket,
	// exploit_known, privileged and asset_tier=<tier> from the risk
	// factors; enrichments and sources add others (open_port=22,
	// open_cidr=0.0.0.0/0 for an open security-group rule). Triggers test
	// them with "public_bucket" in record.labels; templates extract
	// values with extract "^open_port=(.*)$".
	Labels []string `json:"labels,omitempty"`
}

// Ref returns the record's reference.
func (r Record) Ref() Ref { return Ref{Kind: r.Kind, ID: r.ID} }

// EntityValues returns the values of the record's entities of kind k, in
// order, each once, common entities excluded.
func (r Record) EntityValues(k correlate.Kind) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range r.Entities {
		if e.Kind == k && !e.Common && !seen[e.Value] {
			seen[e.Value] = true
			out = append(out, e.Value)
		}
	}
	return out
}

// FromIncident returns the record of a correlated incident of tenant.
// Severity comes from the incident's OCSF severity_id, the party from its
// attribution; products are the OCSF metadata's, if any.
func FromIncident(tenant string, inc pipeline.Incident) Record {
	r := Record{Tenant: tenant, Kind: KindIncident, ID: inc.ID, Title: inc.Title, Risk: inc.Risk.Score,
		Entities: inc.Entities, Class: "incident_finding", Severity: string(notify.SeverityMedium)}
	for _, t := range inc.Tactics {
		r.Tactics = append(r.Tactics, t.Name, t.ID)
	}
	if inc.OCSF != nil {
		r.Severity = string(notify.SeverityFromOCSF(inc.OCSF.SeverityID))
		if p := inc.OCSF.Metadata.Product.Name; p != "" {
			r.Source = p
		}
	}
	if a := inc.Responsibility; a != nil {
		r.Party = string(a.Party)
		for _, p := range a.Parts {
			if p.Party == a.Party && p.Name != "" {
				r.PartyName = p.Name
				break
			}
		}
	}
	r.Source = strings.TrimSpace(r.Source)
	r.DataGrade, r.Labels = riskFacts(inc.Risk)
	return r
}

// riskFacts reads labels and the data grade from a risk result's
// factors: "internet_exposed" (and "public_bucket" when the exposure is a
// public bucket), "exploit_known", "privileged", "asset_tier=<tier>".
func riskFacts(res risk.Result) (grade string, labels []string) {
	for _, f := range res.Factors {
		switch f.Name {
		case risk.FactorInternetExposure:
			if f.Value == true {
				labels = append(labels, "internet_exposed")
				if strings.Contains(f.Detail, "public bucket") {
					labels = append(labels, "public_bucket")
				}
			}
		case risk.FactorExploitKnown:
			if f.Value == true {
				labels = append(labels, "exploit_known")
			}
		case risk.FactorPrivilegedIdentity:
			if s, _ := f.Value.(string); s != "" && s != "none" {
				labels = append(labels, "privileged")
			}
		case risk.FactorAssetCriticality:
			if s, _ := f.Value.(string); s != "" && s != "unknown" {
				labels = append(labels, "asset_tier="+s)
			}
		case risk.FactorDataGrade:
			if s, _ := f.Value.(string); s != "" && s != "unknown" {
				grade = s
			}
		}
	}
	return grade, labels
}
