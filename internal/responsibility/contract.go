package responsibility

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Contract is one tenant's agreements with third-party security vendors:
// which services each vendor delivers, in which delivery mode, over which
// part of the estate. A contract moves duties from the matrix's parties to
// a vendor (see [Attributor.Attribute]). It is immutable once parsed and
// safe for concurrent use.
type Contract struct {
	// Tenant is the tenant the contract belongs to.
	Tenant string
	// Vendors are the vendors in file order.
	Vendors []ContractVendor
	// File is the file name the contract was read from.
	File string
}

// ContractVendor is one security vendor of a contract.
type ContractVendor struct {
	// ID is the vendor's stable id within the tenant, e.g. "example-mssp";
	// attributions name the vendor by it.
	ID string
	// Name is the vendor's name.
	Name string
	// Contact is where notices go (an address or channel name), if given.
	Contact string
	// Services are the services it delivers, in file order.
	Services []ContractService
}

// ContractService is one service a vendor delivers.
type ContractService struct {
	// ID is the service's id within the vendor.
	ID string
	// Name describes it ("7x24 managed detection and response").
	Name string
	// Mode is the delivery mode, resolved from the matrix.
	Mode VendorMode
	// Clause names the contract clause that establishes the service; the
	// attribution's basis cites it.
	Clause string
	// Areas are the responsibility areas of the customer's estate the
	// service takes over, as far as its mode gives the area's duties to the
	// vendor.
	Areas []string
	// Scope limits the estate the service covers; empty fields cover all.
	Scope Scope
	// Products identify the vendor's own product in findings (its agent
	// packages, images, hosts): findings about it follow the mode's product
	// duties whatever the area.
	Products Products
}

// Scope limits a service to part of the estate. An empty list does not
// limit; a record whose provider or account is unknown is outside a scope
// that names providers or accounts.
type Scope struct {
	// Providers are clouds in the catalogue's names (aws, alibaba, gcp,
	// azure, kubernetes; any common spelling is accepted in the file).
	Providers []string
	// Accounts are cloud account ids (AWS account, Alibaba Cloud UID, GCP
	// project, Azure subscription).
	Accounts []string
	// ServiceModels are the service models covered.
	ServiceModels []ServiceModel
}

// Products identify a vendor's product. Patterns are globs: * matches any
// run of characters, ? one character; matching ignores letter case.
type Products struct {
	// Packages match affected package names and purls.
	Packages []string
	// Resources match resource uids and names (hosts, images, functions).
	Resources []string
	// Tags match resource tags and labels as "key=value".
	Tags []string
}

func (p Products) empty() bool { return len(p.Packages)+len(p.Resources)+len(p.Tags) == 0 }

type contractFile struct {
	SchemaVersion int          `yaml:"schema_version"`
	Tenant        string       `yaml:"tenant"`
	Vendors       []vendorFile `yaml:"vendors"`
}

type vendorFile struct {
	ID       string        `yaml:"id"`
	Name     string        `yaml:"name"`
	Contact  string        `yaml:"contact"`
	Services []serviceFile `yaml:"services"`
}

type serviceFile struct {
	ID       string        `yaml:"id"`
	Name     string        `yaml:"name"`
	Mode     string        `yaml:"mode"`
	Clause   string        `yaml:"clause"`
	Areas    []string      `yaml:"areas"`
	Scope    *scopeYAML    `yaml:"scope"`
	Products *productsYAML `yaml:"products"`
}

type scopeYAML struct {
	Providers     []string `yaml:"providers"`
	Accounts      []string `yaml:"accounts"`
	ServiceModels []string `yaml:"service_models"`
}

type productsYAML struct {
	Packages  []string `yaml:"packages"`
	Resources []string `yaml:"resources"`
	Tags      []string `yaml:"tags"`
}

var vendorIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

var knownProviders = []string{"aws", "alibaba", "gcp", "azure", "kubernetes"}

// ParseContract reads a tenant's contract from r; name is the file name
// used in errors and in the basis of attributions. m is the matrix the
// contract's modes and areas are checked against (nil: [BuiltinMatrix]).
//
// The file:
//
//	schema_version: 1
//	tenant: acme
//	vendors:
//	  - id: example-mssp                  # [a-z0-9][a-z0-9_-]*, unique
//	    name: Example MSSP Co., Ltd.
//	    contact: soc@mssp.example         # optional
//	    services:
//	      - id: mdr
//	        name: 7x24 managed detection and response
//	        mode: 云软件+服务托管            # a mode id or its Chinese name
//	        clause: MSA-2026-017 §3.1      # required: the basis cites it
//	        areas: [security_operations]  # estate areas taken over
//	        scope:                        # optional; empty lists cover all
//	          providers: [aws, alibaba]
//	          accounts: ["111122223333"]
//	          service_models: [IaaS, PaaS]
//	        products:                     # optional: the vendor's own product
//	          packages: ["acme-agent*"]
//	          resources: ["*acme-sensor*"]
//	          tags: ["managed-by=example-mssp"]
//
// Validation is strict: unknown keys, a missing tenant, vendor, name, mode
// or clause, duplicate ids, unknown areas, modes, providers or service
// models, a service with neither areas nor products, and an area whose
// duties the mode does not give to the vendor (e.g. security_operations
// under 云软件, where alert triage stays with the customer) are errors.
// Every problem is reported as a [*FileError] naming the file, line,
// vendor and service, and field.
func ParseContract(name string, r io.Reader, m *Matrix) (*Contract, error) {
	if m == nil {
		m = BuiltinMatrix()
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("responsibility: %s: %w", name, err)
	}
	var f contractFile
	d, err := decodeYAML(name, data, &f, contractWhere)
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%s; want 1", showInt(f.SchemaVersion))
	}
	if strings.TrimSpace(f.Tenant) == "" {
		d.add("$.tenant", "", "tenant", "missing")
	}
	if len(f.Vendors) == 0 {
		d.add("$.vendors", "", "vendors", "missing: name at least one vendor")
	}
	c := &Contract{Tenant: f.Tenant, File: name}
	vendorIDs := map[string]bool{}
	type covered struct {
		where string
		scope Scope
	}
	coverage := map[string][]covered{}
	for i, vf := range f.Vendors {
		vpath := fmt.Sprintf("$.vendors[%d]", i)
		vwhere := "vendor " + vf.ID
		switch {
		case vf.ID == "":
			vwhere = fmt.Sprintf("vendors[%d]", i)
			d.add(vpath, vwhere, "id", "missing")
		case !vendorIDPattern.MatchString(vf.ID):
			d.add(vpath+".id", vwhere, "id", "%q: want lower-case letters, digits, - and _", vf.ID)
		case vendorIDs[vf.ID]:
			d.add(vpath+".id", vwhere, "id", "duplicate vendor id")
		}
		vendorIDs[vf.ID] = true
		if strings.TrimSpace(vf.Name) == "" {
			d.add(vpath, vwhere, "name", "missing")
		}
		if len(vf.Services) == 0 {
			d.add(vpath, vwhere, "services", "missing: name at least one service")
		}
		v := ContractVendor{ID: vf.ID, Name: vf.Name, Contact: vf.Contact}
		serviceIDs := map[string]bool{}
		for j, sf := range vf.Services {
			spath := fmt.Sprintf("%s.services[%d]", vpath, j)
			swhere := vwhere + " service " + sf.ID
			switch {
			case sf.ID == "":
				swhere = fmt.Sprintf("%s services[%d]", vwhere, j)
				d.add(spath, swhere, "id", "missing")
			case !vendorIDPattern.MatchString(sf.ID):
				d.add(spath+".id", swhere, "id", "%q: want lower-case letters, digits, - and _", sf.ID)
			case serviceIDs[sf.ID]:
				d.add(spath+".id", swhere, "id", "duplicate service id")
			}
			serviceIDs[sf.ID] = true
			s := ContractService{ID: sf.ID, Name: sf.Name, Clause: strings.TrimSpace(sf.Clause), Areas: sf.Areas}
			if strings.TrimSpace(sf.Name) == "" {
				d.add(spath, swhere, "name", "missing")
			}
			if s.Clause == "" {
				d.add(spath, swhere, "clause", "missing: name the contract clause that establishes the service")
			}
			mode, ok := m.Mode(sf.Mode)
			switch {
			case sf.Mode == "":
				d.add(spath, swhere, "mode", "missing")
			case !ok:
				d.add(spath+".mode", swhere, "mode", "%q: not a vendor delivery mode (%s)", sf.Mode, modeList(m))
			}
			s.Mode = mode
			if sf.Scope != nil {
				for k, p := range sf.Scope.Providers {
					np := NormalizeProvider(p)
					if !slices.Contains(knownProviders, np) {
						d.add(fmt.Sprintf("%s.scope.providers[%d]", spath, k), swhere, fmt.Sprintf("scope.providers[%d]", k), "%q: want one of %s", p, strings.Join(knownProviders, ", "))
					}
					s.Scope.Providers = append(s.Scope.Providers, np)
				}
				s.Scope.Accounts = sf.Scope.Accounts
				for k, sm := range sf.Scope.ServiceModels {
					if !validModel(sm) {
						d.add(fmt.Sprintf("%s.scope.service_models[%d]", spath, k), swhere, fmt.Sprintf("scope.service_models[%d]", k), "%q: want IaaS, PaaS or SaaS", sm)
					}
					s.Scope.ServiceModels = append(s.Scope.ServiceModels, ServiceModel(sm))
				}
			}
			if sf.Products != nil {
				s.Products = Products{Packages: sf.Products.Packages, Resources: sf.Products.Resources, Tags: sf.Products.Tags}
				if s.Products.empty() {
					d.add(spath+".products", swhere, "products", "empty: give packages, resources or tags")
				}
				for field, list := range map[string][]string{"packages": s.Products.Packages, "resources": s.Products.Resources, "tags": s.Products.Tags} {
					for k, p := range list {
						if strings.Trim(p, "* ") == "" {
							d.add(fmt.Sprintf("%s.products.%s[%d]", spath, field, k), swhere, fmt.Sprintf("products.%s[%d]", field, k), "%q: matches everything", p)
						} else if field == "tags" && !strings.Contains(p, "=") {
							d.add(fmt.Sprintf("%s.products.%s[%d]", spath, field, k), swhere, fmt.Sprintf("products.%s[%d]", field, k), "%q: want key=value", p)
						}
					}
				}
			}
			if len(sf.Areas) == 0 && s.Products.empty() {
				d.add(spath, swhere, "areas", "missing: a service takes over estate areas, or covers the vendor's products, or both")
			}
			for k, a := range sf.Areas {
				apath := fmt.Sprintf("%s.areas[%d]", spath, k)
				afield := fmt.Sprintf("areas[%d]", k)
				if _, ok := m.Area(a); !ok {
					d.add(apath, swhere, afield, "%q: not an area of the matrix", a)
					continue
				}
				if ok && !vendorLeads(leadingDuties(mode, a, "")) {
					d.add(apath, swhere, afield, "%s: mode %s gives no duty of this area to the vendor (%s)", a, mode.ID, dutySummary(mode, a))
					continue
				}
				for _, prev := range coverage[a] {
					if prev.scope.equal(s.Scope) {
						d.add(apath, swhere, afield, "%s with the same scope is already taken by %s", a, prev.where)
					}
				}
				coverage[a] = append(coverage[a], covered{swhere, s.Scope})
			}
			v.Services = append(v.Services, s)
		}
		c.Vendors = append(c.Vendors, v)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func contractWhere(d *yamlDoc, line int) string {
	i := d.enclosing("$.vendors", line)
	if i < 0 {
		return ""
	}
	where := "vendor " + d.scalar(fmt.Sprintf("$.vendors[%d].id", i))
	if j := d.enclosing(fmt.Sprintf("$.vendors[%d].services", i), line); j >= 0 {
		if l, _ := d.pos(fmt.Sprintf("$.vendors[%d].services", i)); l > 0 && l <= line {
			where += " service " + d.scalar(fmt.Sprintf("$.vendors[%d].services[%d].id", i, j))
		}
	}
	return where
}

func modeList(m *Matrix) string {
	var s []string
	for _, v := range m.Modes() {
		s = append(s, v.ID+" ("+v.ZH+")")
	}
	return strings.Join(s, ", ")
}

// dutySummary says who holds the duties that bear on an estate area under
// a mode, for errors.
func dutySummary(mode VendorMode, area string) string {
	var s []string
	for _, d := range mode.Duties {
		if slices.Contains(d.estateLeads, area) {
			s = append(s, d.ID+": "+string(d.Holder))
		}
	}
	if len(s) == 0 {
		return "none of its duties concerns " + area
	}
	return strings.Join(s, ", ")
}

func (s Scope) equal(o Scope) bool {
	return slices.Equal(sortedCopy(s.Providers), sortedCopy(o.Providers)) &&
		slices.Equal(sortedCopy(s.Accounts), sortedCopy(o.Accounts)) &&
		slices.Equal(sortedCopy(s.ServiceModels), sortedCopy(o.ServiceModels))
}

func sortedCopy[T ~string](xs []T) []T {
	c := slices.Clone(xs)
	slices.Sort(c)
	return c
}

// covers reports whether a record lies within the scope.
func (s Scope) covers(f *facts, model ServiceModel) bool {
	if len(s.Providers) > 0 && !slices.Contains(s.Providers, f.provider) {
		return false
	}
	if len(s.Accounts) > 0 && !slices.Contains(s.Accounts, f.account) {
		return false
	}
	if len(s.ServiceModels) > 0 && !slices.Contains(s.ServiceModels, model) {
		return false
	}
	return true
}

// match reports whether a record is about the product, and says how.
func (p Products) match(f *facts) (string, bool) {
	for _, pat := range p.Packages {
		for _, pkg := range f.packages {
			if glob(pat, pkg) {
				return "package " + pkg, true
			}
		}
	}
	for _, pat := range p.Resources {
		for _, r := range f.resources {
			for _, v := range []string{r.UID, r.Name} {
				if v != "" && glob(pat, v) {
					return "resource " + v, true
				}
			}
		}
	}
	for _, pat := range p.Tags {
		for _, r := range f.resources {
			for _, t := range r.Tags {
				if kv := t.Name + "=" + t.Value; glob(pat, kv) {
					return "tag " + kv, true
				}
			}
			for _, l := range r.Labels {
				if glob(pat, l) {
					return "label " + l, true
				}
			}
		}
	}
	return "", false
}

// glob matches s against a pattern where * is any run of characters and ?
// one character, ignoring letter case.
func glob(pattern, s string) bool {
	p, t := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(s))
	px, tx := 0, 0
	nextP, nextT := -1, -1
	for px < len(p) || tx < len(t) {
		if px < len(p) {
			switch c := p[px]; {
			case c == '*':
				nextP, nextT = px, tx+1
				px++
				continue
			case tx < len(t) && (c == '?' || c == t[tx]):
				px++
				tx++
				continue
			}
		}
		if nextT > 0 && nextT <= len(t) {
			px, tx = nextP, nextT
			continue
		}
		return false
	}
	return true
}

// leadingDuties returns the duties of a mode that lead an estate area
// (kind "") or a product finding kind (area "").
func leadingDuties(mode VendorMode, area string, kind Kind) []Duty {
	var out []Duty
	for _, d := range mode.Duties {
		if (area != "" && slices.Contains(d.estateLeads, area)) || (kind != "" && slices.Contains(d.productLeads, string(kind))) {
			out = append(out, d)
		}
	}
	return out
}

// vendorLeads reports whether any of the leading duties is the vendor's,
// alone or shared with the customer.
func vendorLeads(ds []Duty) bool {
	return slices.ContainsFunc(ds, func(d Duty) bool { return d.Holder == Vendor || d.Holder == Shared })
}

// partDuties returns the duties of a mode that are a further party's part
// of an estate area or a product finding kind.
func partDuties(mode VendorMode, area string, kind Kind) []Duty {
	var out []Duty
	for _, d := range mode.Duties {
		if (area != "" && (slices.Contains(d.estatePart, area) || slices.Contains(d.estatePart, "*"))) ||
			(kind != "" && slices.Contains(d.productPart, string(kind))) {
			out = append(out, d)
		}
	}
	return out
}
