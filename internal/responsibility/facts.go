package responsibility

import (
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// facts are what attribution reads of a record.
type facts struct {
	class string // a ruleClasses value
	title string
	uid   string

	resources []ocsf.ResourceDetails
	// resource is the catalogue entry of the primary resource (the first
	// one the catalogue knows, targets before related resources); nil if
	// none is known. resourceRef names it for the basis.
	resource    *ResourceType
	resourceRef string
	byUID       bool
	unknownType string // the first resource type the catalogue does not know
	categories  map[string]bool

	provider     string // normalized
	providerName string // display name
	account      string

	pkgTypes     map[string]bool // "os", "application", "none"
	packages     []string        // names and purls of affected packages
	words        string          // types, title, analytic, event code, compliance: "_" as space
	product      string
	severityID   int
	explicit     string // an explicit area, if the record carries one
	explicitFrom string // where it was read
	explicitBad  string // an explicit value that is not an area id
}

// extract reads the facts of rec; isArea tells area ids.
func extract(rec ocsf.Record, cat *Catalog, isArea func(string) bool) *facts {
	f := &facts{categories: map[string]bool{}, pkgTypes: map[string]bool{}}
	base := rec.Common()
	f.uid = rec.SourceUID()
	f.title = rec.Title()
	f.product = base.Metadata.Product.Name
	f.severityID = base.SeverityID
	if base.Cloud != nil {
		f.providerName = base.Cloud.Provider
		if base.Cloud.Account != nil {
			f.account = base.Cloud.Account.UID
		}
	}
	var words []string
	add := func(s ...string) {
		for _, x := range s {
			if x = strings.TrimSpace(x); x != "" {
				words = append(words, x)
			}
		}
	}
	add(f.title, base.Metadata.EventCode)

	var fi *ocsf.FindingInfo
	switch r := rec.(type) {
	case *ocsf.VulnerabilityFinding:
		f.class = "vulnerability"
		fi = &r.FindingInfo
		f.resources = r.Resources
		for _, v := range r.Vulnerabilities {
			for _, p := range v.AffectedPackages {
				switch {
				case p.TypeID == ocsf.PackageTypeOS || strings.EqualFold(p.Type, "Operating System"):
					f.pkgTypes["os"] = true
				case p.TypeID == ocsf.PackageTypeApplication || strings.EqualFold(p.Type, "Application"):
					f.pkgTypes["application"] = true
				}
				f.packages = append(f.packages, p.Name)
				if p.Purl != "" {
					f.packages = append(f.packages, p.Purl)
				}
			}
		}
	case *ocsf.ComplianceFinding:
		f.class = "compliance"
		fi = &r.FindingInfo
		f.resources = r.Resources
		c := r.Compliance
		add(c.Control) // not standards or requirements: their clause ids ("op.acc.4.aws.iam.1") mislead
		if c.Category != "" && isArea(c.Category) {
			f.explicit, f.explicitFrom = c.Category, "compliance.category"
		}
	case *ocsf.DetectionFinding:
		f.class = "detection"
		fi = &r.FindingInfo
		f.resources = r.Resources
	case *ocsf.DataSecurityFinding:
		f.class = "data_security"
		fi = &r.FindingInfo
		f.resources = r.Resources
	case *ocsf.IncidentFinding:
		f.class = "incident"
	case *ocsf.APIActivity:
		f.class = "event"
		f.resources = r.Resources
	default:
		f.class = "event"
	}
	if fi != nil {
		add(fi.Types...)
		if fi.Analytic != nil {
			add(fi.Analytic.UID, fi.Analytic.Name)
		}
		for _, t := range fi.Types {
			switch strings.ToLower(t) {
			case "os-pkgs":
				f.pkgTypes["os"] = true
			case "lang-pkgs":
				f.pkgTypes["application"] = true
			}
			if v, ok := strings.CutPrefix(t, "responsibility_area:"); ok && f.explicit == "" {
				if isArea(v) {
					f.explicit, f.explicitFrom = v, "finding_info.types"
				} else {
					f.explicitBad = v
				}
			}
		}
	}
	if !f.pkgTypes["os"] && !f.pkgTypes["application"] {
		f.pkgTypes["none"] = true
	}
	// unmapped.responsibility_area (or unmapped.responsibility.area) comes
	// before everything else: it is the caller's explicit word.
	if v, ok := unmappedArea(base.Unmapped); ok {
		if isArea(v) {
			f.explicit, f.explicitFrom = v, "unmapped.responsibility_area"
		} else {
			f.explicitBad = v
		}
	}
	f.words = strings.ReplaceAll(strings.Join(words, "\n"), "_", " ")

	// The primary resource: targets and unlabelled resources first, then
	// related ones and actors.
	f.provider = NormalizeProvider(f.providerName)
	for pass := 0; pass < 2 && f.resource == nil; pass++ {
		for _, r := range f.resources {
			secondary := r.RoleID == ocsf.ResourceRoleRelated || r.RoleID == ocsf.ResourceRoleActor
			if secondary != (pass == 1) {
				continue
			}
			rt, ref, byUID, ok := resolve(cat, r, f.provider)
			if !ok {
				if r.Type != "" && f.unknownType == "" {
					f.unknownType = r.Type
				}
				continue
			}
			f.resource, f.resourceRef, f.byUID = &rt, ref, byUID
			break
		}
	}
	for _, r := range f.resources {
		if rt, _, _, ok := resolve(cat, r, f.provider); ok {
			f.categories[rt.Category] = true
		}
	}
	if f.provider == "" && f.resource != nil && !neutralProviders[f.resource.Provider] {
		f.provider = f.resource.Provider
	}
	if f.providerName == "" {
		f.providerName = providerNames[f.provider]
	}
	if base.Cloud == nil || base.Cloud.Account == nil {
		for _, r := range f.resources {
			if r.Owner != nil && r.Owner.Account != nil && r.Owner.Account.UID != "" {
				f.account = r.Owner.Account.UID
				break
			}
		}
	}
	return f
}

// resourceLabel names the primary resource's type as the record spells it,
// with the catalogue's spelling when that differs.
func (f *facts) resourceLabel() string {
	if f.resource.Name == "" || strings.EqualFold(f.resource.Name, f.resourceRef) {
		return f.resourceRef
	}
	return f.resourceRef + " (" + f.resource.Name + ")"
}

// resolve finds a resource in the catalogue, by type and else by uid.
func resolve(cat *Catalog, r ocsf.ResourceDetails, provider string) (rt ResourceType, ref string, byUID bool, ok bool) {
	p := provider
	if p == "" {
		p = NormalizeProvider(r.Provider)
	}
	if r.Type != "" {
		if rt, ok := cat.Lookup(r.Type, p); ok {
			return rt, r.Type, false, true
		}
	}
	if rt, ok := cat.LookupUID(r.UID, p); ok {
		return rt, r.UID, true, true
	}
	return ResourceType{}, "", false, false
}

func unmappedArea(u map[string]any) (string, bool) {
	if u == nil {
		return "", false
	}
	if v, ok := u["responsibility_area"].(string); ok && v != "" {
		return v, true
	}
	if m, ok := u["responsibility"].(map[string]any); ok {
		if v, ok := m["area"].(string); ok && v != "" {
			return v, true
		}
	}
	return "", false
}
