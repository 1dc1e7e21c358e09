package responsibility

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Part is one party's share of a responsibility.
type Part struct {
	// Party is provider, customer or vendor.
	Party Party `json:"party"`
	// Name names the party when it matters: the vendor's id for a vendor,
	// the cloud ("AWS") for the provider when known.
	Name string `json:"name,omitempty"`
	// Duty says what the party does, in words.
	Duty string `json:"duty"`
}

// Attribution says who is responsible for a finding and why. In API output
// it appears under the key "responsibility":
//
//	"responsibility": {"party": "customer", "area": "operating_system",
//	  "service_model": "IaaS", "basis": "rule os-package-vulnerability …"}
type Attribution struct {
	// Party is who must act: provider, customer, vendor, or shared when
	// the matrix gives the cell to provider and customer together (Parts
	// then says who does what). With a contract, Party is the vendor when
	// the vendor leads the duties the finding calls for.
	Party Party `json:"party"`
	// Area is the responsibility area (a row of the matrix).
	Area string `json:"area"`
	// ServiceModel is the service model (a column of the matrix).
	ServiceModel ServiceModel `json:"service_model"`
	// Basis explains the decision: the rule or explicit area, the service
	// model and where it came from, the matrix cell with its sources (and
	// override file), and the contract clause if one applied.
	Basis string `json:"basis"`
	// Parts lists each party's part when more than one party holds one (a
	// shared cell, or a contract); nil otherwise.
	Parts []Part `json:"parts,omitempty"`
}

// Options configure [New]. The zero value uses the built-in data.
type Options struct {
	// Matrix is the responsibility matrix, possibly with overrides
	// ([Matrix.Override]). Default: [BuiltinMatrix].
	Matrix *Matrix
	// Catalog maps resource types to service models. Default:
	// [BuiltinCatalog].
	Catalog *Catalog
	// Rules classify findings into areas. Default: [BuiltinRules].
	Rules *RuleSet
}

// Attributor attributes findings, incidents and posture controls to
// parties. It is immutable and safe for concurrent use.
type Attributor struct {
	matrix  *Matrix
	catalog *Catalog
	rules   *RuleSet
}

// New returns an Attributor over the given data. It checks that every area
// the catalogue and the rules name is an area of the matrix.
func New(opts Options) (*Attributor, error) {
	a := &Attributor{matrix: opts.Matrix, catalog: opts.Catalog, rules: opts.Rules}
	if a.matrix == nil {
		a.matrix = BuiltinMatrix()
	}
	if a.catalog == nil {
		a.catalog = BuiltinCatalog()
	}
	if a.rules == nil {
		a.rules = BuiltinRules()
	}
	var errs []string
	for _, t := range a.catalog.entries {
		if !a.isArea(t.Area) {
			errs = append(errs, fmt.Sprintf("catalogue: type %s: area %q: not an area of the matrix", t.Name, t.Area))
		}
	}
	for _, r := range a.rules.rules {
		for _, ar := range []string{r.Area, r.FallbackArea} {
			if ar != "" && !a.isArea(ar) {
				errs = append(errs, fmt.Sprintf("rules: rule %s: area %q: not an area of the matrix", r.ID, ar))
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("responsibility: %s", strings.Join(errs, "; "))
	}
	return a, nil
}

// Matrix returns the matrix the Attributor uses.
func (a *Attributor) Matrix() *Matrix { return a.matrix }

func (a *Attributor) isArea(id string) bool { _, ok := a.matrix.byID[id]; return ok }

// Context is what attribution needs to know of the tenant beyond the
// record. It is not a context.Context: attribution does no I/O. The zero
// value is a tenant without contracts whose unknown resources count as
// IaaS.
type Context struct {
	// Contract is the tenant's contract with security vendors; nil: none.
	Contract *Contract
	// DefaultModel is the service model assumed when the record's resource
	// does not determine one (unknown type, or a type not tied to a model
	// such as an IAM user or a source file). Default: IaaS, the model in
	// which the customer holds the most, so that nothing is handed to the
	// provider on a guess. An invalid value counts as unset.
	DefaultModel ServiceModel
}

// Attribute says who is responsible for a finding (or any record) and why.
//
// The area comes from, in order: an explicit area the record carries
// (unmapped.responsibility_area or unmapped.responsibility.area;
// compliance.category when it is an area id, as Canopy's posture findings
// set it; a finding_info.types entry "responsibility_area:<id>"); else the
// first matching rule of the [RuleSet]; else the default area of the
// record's resource type; else configuration. The service model is the
// catalogue's for the primary resource (the first resource the catalogue
// knows by type or uid, targets first), else ctx.DefaultModel, else IaaS.
// The matrix cell of area × model gives the party; a shared cell lists
// each party's part.
//
// With a contract, a finding about a vendor's product (its products match)
// follows the mode's product duties for the finding's kind; otherwise a
// service whose areas include the area and whose scope covers the record
// moves the duties its mode gives the vendor: the party becomes the vendor
// when a leading duty is the vendor's or shared, and Parts lists every
// party's duty, keeping the provider's part of a shared cell. Services are
// tried in file order; the first that applies decides.
func (a *Attributor) Attribute(rec ocsf.Record, ctx Context) Attribution {
	f := extract(rec, a.catalog, a.isArea)
	area, kind, areaWhy := a.area(f)
	model, modelWhy := a.model(f, ctx)
	return a.decide(f, area, kind, model, []string{areaWhy, modelWhy}, ctx)
}

// area decides the area of a record and the kind of problem it is.
func (a *Attributor) area(f *facts) (string, Kind, string) {
	var rule *Rule
	for _, r := range a.rules.rules {
		if r.match(f) {
			rule = r
			break
		}
	}
	kind := KindMisconfiguration
	if rule != nil {
		kind = rule.Kind
	}
	var area, why string
	switch {
	case f.explicit != "":
		area, why = f.explicit, fmt.Sprintf("explicit area %s from %s", f.explicit, f.explicitFrom)
	case rule != nil && rule.Area != "":
		area, why = rule.Area, fmt.Sprintf("rule %s (%s)", rule.ID, rule.Title)
	case rule != nil && f.resource != nil:
		area, why = f.resource.Area, fmt.Sprintf("rule %s (%s): default area of %s", rule.ID, rule.Title, f.resource.describe())
	case rule != nil:
		area, why = rule.FallbackArea, fmt.Sprintf("rule %s (%s): resource type unknown, so %s", rule.ID, rule.Title, rule.FallbackArea)
	case f.resource != nil:
		area, why = f.resource.Area, fmt.Sprintf("no rule matched: default area of %s", f.resource.describe())
	default:
		area, why = "configuration", "no rule matched and no known resource: configuration"
	}
	if f.explicitBad != "" {
		why += fmt.Sprintf(" (explicit area %q ignored: not an area of the matrix)", f.explicitBad)
	}
	return area, kind, why
}

// model decides the service model of a record.
func (a *Attributor) model(f *facts, ctx Context) (ServiceModel, string) {
	def, defWhy := IaaS, "IaaS (default)"
	if validModel(string(ctx.DefaultModel)) {
		def, defWhy = ctx.DefaultModel, string(ctx.DefaultModel)+" (tenant default)"
	}
	switch {
	case f.resource != nil && f.resource.Model != "":
		if f.byUID {
			return f.resource.Model, fmt.Sprintf("resource %s (by its uid: %s) is %s", f.resourceRef, f.resource.describe(), f.resource.Model)
		}
		return f.resource.Model, fmt.Sprintf("%s is %s", f.resourceLabel(), f.resource.Model)
	case f.resource != nil && f.byUID:
		return def, fmt.Sprintf("resource %s (by its uid: %s) has no service model: %s", f.resourceRef, f.resource.describe(), defWhy)
	case f.resource != nil:
		return def, fmt.Sprintf("%s has no service model: %s", f.resourceLabel(), defWhy)
	case f.unknownType != "":
		return def, fmt.Sprintf("resource type %q is not in the catalogue: %s", f.unknownType, defWhy)
	default:
		return def, "no resource: " + defWhy
	}
}

// decide looks up the matrix cell and applies the contract.
func (a *Attributor) decide(f *facts, area string, kind Kind, model ServiceModel, basis []string, ctx Context) Attribution {
	cell, _ := a.matrix.Cell(area, model)
	att := Attribution{Party: cell.Party, Area: area, ServiceModel: model}
	basis = append(basis, cellBasis(area, model, cell))
	att.Parts = nameParts(cell.Parts, f.providerName)
	if ctx.Contract != nil {
		if party, parts, why, ok := ctx.Contract.apply(f, area, kind, model, att.Parts); ok {
			att.Party, att.Parts = party, parts
			basis = append(basis, why)
		}
	}
	att.Basis = strings.Join(basis, "; ")
	return att
}

func cellBasis(area string, model ServiceModel, c Cell) string {
	s := fmt.Sprintf("matrix: %s × %s → %s", area, model, c.Party)
	if len(c.Sources) > 0 {
		s += " (" + strings.Join(c.Sources, ", ") + ")"
	}
	if c.Override != "" {
		s += ", set by override " + c.Override
	}
	return s
}

// nameParts copies parts, naming the provider.
func nameParts(parts []Part, provider string) []Part {
	if len(parts) == 0 {
		return nil
	}
	out := slices.Clone(parts)
	for i := range out {
		if out[i].Party == Provider && out[i].Name == "" {
			out[i].Name = provider
		}
	}
	return out
}

// apply finds the first service of the contract that applies to a record
// and returns the resulting party, parts and basis.
func (c *Contract) apply(f *facts, area string, kind Kind, model ServiceModel, cellParts []Part) (Party, []Part, string, bool) {
	// A finding about a vendor's own product first: it is the more specific.
	for _, v := range c.Vendors {
		for _, s := range v.Services {
			if s.Products.empty() {
				continue
			}
			how, ok := s.Products.match(f)
			if !ok {
				continue
			}
			leads := leadingDuties(s.Mode, "", kind)
			if len(leads) == 0 {
				continue
			}
			party, parts := dutyParts(leads, partDuties(s.Mode, "", kind), v.ID, f.providerName)
			why := fmt.Sprintf("contract %s: vendor %s service %s (%s, clause %s) covers its product (%s): %s finding → %s", c.File, v.ID, s.ID, modeName(s.Mode), s.Clause, how, kind, dutyList(leads))
			return party, parts, why, true
		}
	}
	for _, v := range c.Vendors {
		for _, s := range v.Services {
			if !slices.Contains(s.Areas, area) || !s.Scope.covers(f, model) {
				continue
			}
			leads := leadingDuties(s.Mode, area, "")
			if !vendorLeads(leads) {
				continue
			}
			party, parts := dutyParts(leads, partDuties(s.Mode, area, ""), v.ID, f.providerName)
			for _, p := range cellParts {
				if p.Party == Provider {
					parts = append(parts, p)
				}
			}
			why := fmt.Sprintf("contract %s: vendor %s service %s (%s, clause %s) takes %s: %s", c.File, v.ID, s.ID, modeName(s.Mode), s.Clause, area, dutyList(leads))
			return party, parts, why, true
		}
	}
	return "", nil, "", false
}

func modeName(m VendorMode) string {
	if m.ZH != "" {
		return m.ZH + " " + m.ID
	}
	return m.ID
}

// dutyList reads "alert_triage_and_response (shared), day_to_day_operation_and_tuning (vendor)".
func dutyList(ds []Duty) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.ID + " (" + string(d.Holder) + ")"
	}
	return strings.Join(s, ", ")
}

// dutyParts returns the party that leads and every party's part. The
// vendor leads when any leading duty is the vendor's alone or shared with
// the customer; else the provider if it holds one; else the customer.
func dutyParts(leads, others []Duty, vendor, provider string) (Party, []Part) {
	party := Customer
	for _, d := range leads {
		switch {
		case d.Holder == Vendor || d.Holder == Shared:
			party = Vendor
		case d.Holder == Provider && party == Customer:
			party = Provider
		}
	}
	var parts []Part
	seen := map[string]bool{}
	for _, d := range append(slices.Clone(leads), others...) {
		if seen[d.ID] {
			continue
		}
		seen[d.ID] = true
		parts = append(parts, partsOfDuty(d, vendor, provider)...)
	}
	slices.SortStableFunc(parts, func(x, y Part) int { return cmp.Compare(partyOrder(x.Party), partyOrder(y.Party)) })
	return party, parts
}

func partyOrder(p Party) int {
	switch p {
	case Vendor:
		return 0
	case Customer:
		return 1
	case Provider:
		return 2
	}
	return 3
}

// partsOfDuty turns a duty into parts. A shared duty's note names each
// side's share ("vendor per contract/SLA, customer decides on
// business-impacting actions"); without such words both get the duty.
func partsOfDuty(d Duty, vendor, provider string) []Part {
	label := " (" + d.ID + ")"
	switch d.Holder {
	case Vendor:
		return []Part{{Party: Vendor, Name: vendor, Duty: withNote(d.EN, d.Note) + label}}
	case Customer:
		return []Part{{Party: Customer, Duty: withNote(d.EN, d.Note) + label}}
	case Provider:
		return []Part{{Party: Provider, Name: provider, Duty: withNote(d.EN, d.Note) + label}}
	}
	vendorSeg, customerSeg := splitShared(d.Note)
	vp := Part{Party: Vendor, Name: vendor, Duty: d.EN + label}
	cp := Part{Party: Customer, Duty: d.EN + label}
	if vendorSeg != "" {
		vp.Duty = d.EN + " " + vendorSeg + label
	}
	if customerSeg != "" {
		cp.Duty = customerSeg + label
	}
	return []Part{vp, cp}
}

func withNote(en, note string) string {
	if note == "" {
		return en
	}
	return en + ", " + note
}

// splitShared splits a shared duty's note into the vendor's and the
// customer's words, each without its leading party word.
func splitShared(note string) (vendor, customer string) {
	for _, seg := range strings.FieldsFunc(note, func(r rune) bool { return r == ',' || r == ';' }) {
		seg = strings.TrimSpace(seg)
		word, rest, _ := strings.Cut(seg, " ")
		switch strings.ToLower(word) {
		case "vendor":
			vendor = strings.TrimSpace(rest)
		case "customer":
			customer = strings.TrimSpace(rest)
		}
	}
	return vendor, customer
}
