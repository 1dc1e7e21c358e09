package responsibility

import (
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// Party is who holds a responsibility.
type Party string

// The parties. A matrix cell is held by the provider, the customer or both
// (shared); a security vendor holds duties only through a tenant's
// [Contract].
const (
	Provider Party = "provider" // the cloud service provider (云服务商)
	Customer Party = "customer" // the cloud service customer (云服务客户)
	Vendor   Party = "vendor"   // a third-party security vendor (云安全厂商)
	Shared   Party = "shared"   // more than one party holds a part
)

// ServiceModel is a cloud service model.
type ServiceModel string

// The service models, the matrix's columns.
const (
	IaaS ServiceModel = "IaaS"
	PaaS ServiceModel = "PaaS"
	SaaS ServiceModel = "SaaS"
)

// ServiceModels returns the service models in the matrix's order.
func ServiceModels() []ServiceModel { return []ServiceModel{IaaS, PaaS, SaaS} }

func validModel(s string) bool { return s == string(IaaS) || s == string(PaaS) || s == string(SaaS) }

// Area is one row of the matrix: a layer or concern of the cloud stack.
type Area struct {
	// ID is the stable id, e.g. "operating_system".
	ID string
	// ZH and EN are its names.
	ZH, EN string
	// Note explains the row as a whole, if the reference says more.
	Note string
	// Synthesized marks a row no provider's matrix has: the reference
	// derived it (security_operations, compliance).
	Synthesized bool
	// Cells holds one cell per service model.
	Cells map[ServiceModel]Cell
}

// Cell is who holds an area under one service model.
type Cell struct {
	// Party is provider, customer or shared.
	Party Party
	// Note is the reference's own words on the cell, if any.
	Note string
	// Sources are the keys of the documents the cell rests on ("azure",
	// "aws", "alibaba", "huawei").
	Sources []string
	// Parts are the provider's and the customer's parts of a shared cell,
	// provider first; nil otherwise.
	Parts []Part
	// Override is the name of the override file that set the cell; "" for
	// the built-in reference.
	Override string
}

// VendorMode is a delivery mode of a third-party security product (云服务,
// 云软件, 云软件+服务托管) and who holds each duty under it.
type VendorMode struct {
	// ID is the stable id, e.g. "cloud_software_plus_managed_service".
	ID string
	// ZH and EN are its names; ZH ("云软件+服务托管") is accepted wherever
	// the ID is.
	ZH, EN string
	// Duties are the mode's duties in file order.
	Duties []Duty
	// Override is the name of the override file that last changed the
	// mode; "" for the built-in reference.
	Override string
}

// Duty is one duty of a vendor delivery mode.
type Duty struct {
	// ID is the duty's key in the mode's split, e.g. "alert_triage_and_response".
	ID string
	// Holder is provider, customer, vendor or shared (vendor and customer).
	Holder Party
	// Note is what the split says beyond the holder ("vendor per
	// contract/SLA, customer decides on business-impacting actions").
	Note string
	// EN says what the duty covers (vendor-duties.yaml).
	EN string

	estateLeads, estatePart   []string // area ids; "*" in estatePart: every covered area
	productLeads, productPart []string // finding kinds
}

// Matrix is the shared-responsibility matrix: areas × service models →
// party, and the vendor delivery modes. It is immutable: [Matrix.Override]
// returns a new one. Safe for concurrent use.
type Matrix struct {
	areas     []*Area
	byID      map[string]*Area
	modes     []*VendorMode
	modeByKey map[string]*VendorMode // by id and by zh
	sources   map[string]bool
	duties    map[string]dutySpec
	builtinP  map[string]map[ServiceModel][]Part // parts.yaml
	overrides []string
}

// Areas returns the areas in the reference's order.
func (m *Matrix) Areas() []Area {
	out := make([]Area, len(m.areas))
	for i, a := range m.areas {
		out[i] = a.clone()
	}
	return out
}

// Area returns the area with the given id.
func (m *Matrix) Area(id string) (Area, bool) {
	a, ok := m.byID[id]
	if !ok {
		return Area{}, false
	}
	return a.clone(), true
}

// Cell returns who holds area under model.
func (m *Matrix) Cell(area string, model ServiceModel) (Cell, bool) {
	a, ok := m.byID[area]
	if !ok {
		return Cell{}, false
	}
	c, ok := a.Cells[model]
	return c.clone(), ok
}

// Modes returns the vendor delivery modes in the reference's order.
func (m *Matrix) Modes() []VendorMode {
	out := make([]VendorMode, len(m.modes))
	for i, v := range m.modes {
		out[i] = v.clone()
	}
	return out
}

// Mode returns the vendor delivery mode with the given id or Chinese name.
func (m *Matrix) Mode(key string) (VendorMode, bool) {
	v, ok := m.modeByKey[strings.TrimSpace(key)]
	if !ok {
		return VendorMode{}, false
	}
	return v.clone(), true
}

// Overrides returns the names of the override files applied, in order.
func (m *Matrix) Overrides() []string { return slices.Clone(m.overrides) }

func (a *Area) clone() Area {
	c := *a
	c.Cells = make(map[ServiceModel]Cell, len(a.Cells))
	for k, v := range a.Cells {
		c.Cells[k] = v.clone()
	}
	return c
}

func (c Cell) clone() Cell {
	c.Sources = slices.Clone(c.Sources)
	c.Parts = slices.Clone(c.Parts)
	return c
}

func (v *VendorMode) clone() VendorMode {
	c := *v
	c.Duties = slices.Clone(v.Duties)
	return c
}

// --- the file format (the reference's schema, plus cell parts) ---

type matrixFile struct {
	SchemaVersion         int                       `yaml:"schema_version"`
	Title                 string                    `yaml:"title"`
	Status                string                    `yaml:"status"`
	Parties               map[string]string         `yaml:"parties"`
	ServiceModels         []string                  `yaml:"service_models"`
	AlwaysCustomer        []string                  `yaml:"always_customer"`
	AlwaysProvider        []string                  `yaml:"always_provider"`
	Areas                 []areaFile                `yaml:"areas"`
	VendorDeliveryModes   *vendorModesFile          `yaml:"vendor_delivery_modes"`
	TargetDocumentsStatus map[string]any            `yaml:"target_documents_status"`
	Sources               map[string]map[string]any `yaml:"sources"`
}

type areaFile struct {
	ID          string               `yaml:"id"`
	ZH          string               `yaml:"zh"`
	EN          string               `yaml:"en"`
	Matrix      map[string]*cellFile `yaml:"matrix"`
	Related     map[string]any       `yaml:"related"`
	Synthesized *bool                `yaml:"synthesized"`
	Note        string               `yaml:"note"`
}

type cellFile struct {
	Party   string     `yaml:"party"`
	Note    string     `yaml:"note"`
	Sources []string   `yaml:"sources"`
	Parts   *partsFile `yaml:"parts"` // Canopy's extension, for overrides
}

type partsFile struct {
	Provider string `yaml:"provider"`
	Customer string `yaml:"customer"`
}

type vendorModesFile struct {
	Description string     `yaml:"description"`
	Unverified  *bool      `yaml:"unverified"`
	Basis       string     `yaml:"basis"`
	Parties     []string   `yaml:"parties"`
	Modes       []modeFile `yaml:"modes"`
}

type modeFile struct {
	ID    string        `yaml:"id"`
	ZH    string        `yaml:"zh"`
	EN    string        `yaml:"en"`
	Split yaml.MapSlice `yaml:"split"`
}

var areaIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// matrixWhere names the area or mode that encloses a line.
func matrixWhere(d *yamlDoc, line int) string {
	switch d.enclosingKey("$", line) {
	case "areas":
		if i := d.enclosing("$.areas", line); i >= 0 {
			return "area " + d.scalar(fmt.Sprintf("$.areas[%d].id", i))
		}
	case "vendor_delivery_modes":
		if i := d.enclosing("$.vendor_delivery_modes.modes", line); i >= 0 {
			return "mode " + d.scalar(fmt.Sprintf("$.vendor_delivery_modes.modes[%d].id", i))
		}
	}
	return ""
}

// ParseMatrix reads a complete matrix in the reference's format
// (shared-responsibility.yaml) from r; name is the file name used in errors.
// Every area must have a cell for each service model, every shared cell
// needs each party's part (a cell's parts key, or the built-in parts for
// the reference's cells) and every duty of a vendor mode must be one
// vendor-duties.yaml describes. Decoding is strict: unknown or duplicate
// keys are errors. Errors are [*FileError]s, joined.
func ParseMatrix(name string, r io.Reader) (*Matrix, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("responsibility: %s: %w", name, err)
	}
	ds, err := builtinDuties()
	if err != nil {
		return nil, err
	}
	parts, err := builtinParts()
	if err != nil {
		return nil, err
	}
	m := &Matrix{byID: map[string]*Area{}, modeByKey: map[string]*VendorMode{}, sources: map[string]bool{}, duties: ds, builtinP: parts}
	if err := m.apply(name, data, false); err != nil {
		return nil, err
	}
	return m, nil
}

// Override returns a copy of m with the override file read from r merged
// over it; name is the file name used in errors and in the basis of
// attributions the override decides. The file has the reference's schema
// (schema_version: 1 is required) with every key optional, plus one key the
// reference lacks: a cell may give parts: {provider: …, customer: …} for a
// shared cell. Merging:
//
//   - areas match by id. A listed cell replaces the fields it gives (party,
//     note, sources, parts) and keeps the others; an area not in m is added
//     and must give all three cells.
//   - vendor modes match by id: split keys given replace the holder of that
//     duty, new keys are added; a new mode is added.
//   - sources are added to the known document keys, which cells may cite.
//
// Decoding is strict and every problem is reported as a [*FileError] naming
// the file, line, area or mode, and field.
func (m *Matrix) Override(name string, r io.Reader) (*Matrix, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("responsibility: %s: %w", name, err)
	}
	c := m.copy()
	if err := c.apply(name, data, true); err != nil {
		return nil, err
	}
	c.overrides = append(c.overrides, name)
	return c, nil
}

func (m *Matrix) copy() *Matrix {
	c := &Matrix{
		byID:      make(map[string]*Area, len(m.byID)),
		modeByKey: make(map[string]*VendorMode, len(m.modeByKey)),
		sources:   maps.Clone(m.sources),
		duties:    m.duties,
		builtinP:  m.builtinP,
		overrides: slices.Clone(m.overrides),
	}
	for _, a := range m.areas {
		ac := a.clone()
		c.areas = append(c.areas, &ac)
		c.byID[ac.ID] = &ac
	}
	for _, v := range m.modes {
		vc := v.clone()
		c.modes = append(c.modes, &vc)
		c.modeByKey[vc.ID] = &vc
		if vc.ZH != "" {
			c.modeByKey[vc.ZH] = &vc
		}
	}
	return c
}

// apply merges one file into m (empty m for a complete matrix).
func (m *Matrix) apply(name string, data []byte, override bool) error {
	var f matrixFile
	d, err := decodeYAML(name, data, &f, matrixWhere)
	if err != nil {
		return err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%s; want 1", showInt(f.SchemaVersion))
	}
	if f.ServiceModels != nil {
		got := slices.Sorted(slices.Values(f.ServiceModels))
		if !slices.Equal(got, []string{"IaaS", "PaaS", "SaaS"}) {
			d.add("$.service_models", "", "service_models", "%v; want IaaS, PaaS and SaaS", f.ServiceModels)
		}
	}
	for k := range f.Sources {
		m.sources[k] = true
	}
	ids := map[string]int{}
	for i, af := range f.Areas {
		m.applyArea(d, i, af, ids, override)
	}
	if !override && len(f.Areas) == 0 {
		d.add("$.areas", "", "areas", "missing")
	}
	for _, list := range []struct {
		key  string
		vals []string
	}{{"always_customer", f.AlwaysCustomer}, {"always_provider", f.AlwaysProvider}} {
		for i, v := range list.vals {
			id, _, _ := strings.Cut(strings.TrimSpace(v), " ")
			if _, ok := m.byID[id]; !ok {
				d.add(fmt.Sprintf("$.%s[%d]", list.key, i), "", fmt.Sprintf("%s[%d]", list.key, i), "%q: not an area id", v)
			}
		}
	}
	if f.VendorDeliveryModes != nil {
		modes := map[string]bool{}
		for i, mf := range f.VendorDeliveryModes.Modes {
			m.applyMode(d, i, mf, modes, name, override)
		}
	}
	if !override && len(m.modes) == 0 {
		d.add("$.vendor_delivery_modes", "", "vendor_delivery_modes", "missing")
	}
	return d.err()
}

func (m *Matrix) applyArea(d *yamlDoc, i int, af areaFile, ids map[string]int, override bool) {
	path := fmt.Sprintf("$.areas[%d]", i)
	if af.ID == "" {
		d.add(path, fmt.Sprintf("areas[%d]", i), "id", "missing")
		return
	}
	where := "area " + af.ID
	if !areaIDPattern.MatchString(af.ID) {
		d.add(path+".id", where, "id", "%q: want lower-case letters, digits and _", af.ID)
		return
	}
	if j, dup := ids[af.ID]; dup {
		d.add(path+".id", where, "id", "duplicate of areas[%d]", j)
		return
	}
	ids[af.ID] = i
	a, exists := m.byID[af.ID]
	if !exists {
		a = &Area{ID: af.ID, Cells: map[ServiceModel]Cell{}}
	}
	if af.ZH != "" {
		a.ZH = af.ZH
	}
	if af.EN != "" {
		a.EN = af.EN
	}
	if af.Note != "" {
		a.Note = af.Note
	}
	if af.Synthesized != nil {
		a.Synthesized = *af.Synthesized
	}
	if !exists && a.EN == "" {
		d.add(path, where, "en", "missing")
	}
	for _, k := range slices.Sorted(maps.Keys(af.Matrix)) {
		if !validModel(k) {
			d.add(path+".matrix."+k, where, "matrix."+k, "not a service model; want IaaS, PaaS or SaaS")
		}
	}
	for _, model := range ServiceModels() {
		cf := af.Matrix[string(model)]
		cpath := path + ".matrix." + string(model)
		field := "matrix." + string(model)
		old, had := a.Cells[model]
		if cf == nil {
			if !had {
				d.add(path+".matrix", where, field, "missing")
			}
			continue
		}
		c := old
		if !had {
			c = Cell{}
		}
		if cf.Party != "" {
			switch p := Party(cf.Party); p {
			case Provider, Customer, Shared:
				if p != c.Party {
					c.Parts = nil
				}
				c.Party = p
			default:
				d.add(cpath+".party", where, field+".party", "%q: want provider, customer or shared", cf.Party)
				continue
			}
		} else if !had {
			d.add(cpath, where, field+".party", "missing")
			continue
		}
		if cf.Note != "" {
			c.Note = cf.Note
		}
		if cf.Sources != nil {
			c.Sources = slices.Clone(cf.Sources)
			for j, s := range cf.Sources {
				if !m.sources[s] {
					d.add(fmt.Sprintf("%s.sources[%d]", cpath, j), where, fmt.Sprintf("%s.sources[%d]", field, j), "%q: not a key of sources (%s)", s, strings.Join(slices.Sorted(maps.Keys(m.sources)), ", "))
				}
			}
		}
		if cf.Parts != nil {
			switch {
			case c.Party != Shared:
				d.add(cpath+".parts", where, field+".parts", "only a shared cell has parts; this cell is held by the %s", c.Party)
			case cf.Parts.Provider == "" || cf.Parts.Customer == "":
				d.add(cpath+".parts", where, field+".parts", "a shared cell needs both parts.provider and parts.customer")
			default:
				c.Parts = []Part{{Party: Provider, Duty: cf.Parts.Provider}, {Party: Customer, Duty: cf.Parts.Customer}}
			}
		}
		if c.Party == Shared && c.Parts == nil {
			if p, ok := m.builtinP[a.ID][model]; ok {
				c.Parts = slices.Clone(p)
			} else {
				d.add(cpath, where, field+".parts", "a shared cell needs parts.provider and parts.customer (no built-in parts for this cell)")
			}
		}
		if override {
			c.Override = d.name
		}
		a.Cells[model] = c
	}
	if !exists {
		m.areas = append(m.areas, a)
		m.byID[a.ID] = a
	}
}

func (m *Matrix) applyMode(d *yamlDoc, i int, mf modeFile, seen map[string]bool, name string, override bool) {
	path := fmt.Sprintf("$.vendor_delivery_modes.modes[%d]", i)
	if mf.ID == "" {
		d.add(path, fmt.Sprintf("modes[%d]", i), "id", "missing")
		return
	}
	where := "mode " + mf.ID
	if !areaIDPattern.MatchString(mf.ID) {
		d.add(path+".id", where, "id", "%q: want lower-case letters, digits and _", mf.ID)
		return
	}
	if seen[mf.ID] {
		d.add(path+".id", where, "id", "duplicate mode")
		return
	}
	seen[mf.ID] = true
	v, exists := m.modeByKey[mf.ID]
	if exists && v.ID != mf.ID {
		d.add(path+".id", where, "id", "%q is the Chinese name of mode %s", mf.ID, v.ID)
		return
	}
	if !exists {
		v = &VendorMode{ID: mf.ID}
	}
	if mf.ZH != "" {
		if o, ok := m.modeByKey[mf.ZH]; ok && o != v {
			d.add(path+".zh", where, "zh", "%q: already the name of mode %s", mf.ZH, o.ID)
		} else {
			delete(m.modeByKey, v.ZH)
			v.ZH = mf.ZH
		}
	}
	if mf.EN != "" {
		v.EN = mf.EN
	}
	if !exists && len(mf.Split) == 0 {
		d.add(path, where, "split", "missing")
	}
	for _, item := range mf.Split {
		key := fmt.Sprint(item.Key)
		spath := path + ".split." + key
		field := "split." + key
		text, ok := item.Value.(string)
		if !ok {
			d.add(spath, where, field, "want a string naming the holder (csp, vendor, customer or shared)")
			continue
		}
		spec, known := m.duties[key]
		if !known {
			d.add(spath, where, field, "unknown duty; vendor-duties.yaml describes %s", strings.Join(slices.Sorted(maps.Keys(m.duties)), ", "))
			continue
		}
		holder, note, err := parseHolder(text)
		if err != nil {
			d.add(spath, where, field, "%v", err)
			continue
		}
		duty := Duty{ID: key, Holder: holder, Note: note, EN: spec.EN,
			estateLeads: spec.estateLeads, estatePart: spec.estatePart, productLeads: spec.productLeads, productPart: spec.productPart}
		if j := slices.IndexFunc(v.Duties, func(x Duty) bool { return x.ID == key }); j >= 0 {
			v.Duties[j] = duty
		} else {
			v.Duties = append(v.Duties, duty)
		}
	}
	if override {
		v.Override = name
	}
	if !exists {
		m.modes = append(m.modes, v)
		m.modeByKey[v.ID] = v
	}
	if v.ZH != "" {
		m.modeByKey[v.ZH] = v
	}
}

// parseHolder reads a split value: its first word names the holder (csp is
// the provider), a parenthesised remainder is the note.
func parseHolder(s string) (Party, string, error) {
	s = strings.TrimSpace(s)
	word := s
	if i := strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }); i >= 0 {
		word = s[:i]
	}
	rest := strings.TrimSpace(s[len(word):])
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(rest, "("), ")"))
	var p Party
	switch strings.ToLower(word) {
	case "csp", "provider":
		p = Provider
	case "vendor":
		p = Vendor
	case "customer":
		p = Customer
	case "shared":
		p = Shared
	default:
		return "", "", fmt.Errorf("%q: the first word must name the holder: csp, vendor, customer or shared", s)
	}
	return p, rest, nil
}

func showInt(n int) string {
	if n == 0 {
		return "missing"
	}
	return fmt.Sprint(n)
}
