package posture

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// Severity is a rule's severity: informational, low, medium, high or
// critical.
type Severity string

// The severities a rule may have.
const (
	SeverityInformational Severity = "informational"
	SeverityLow           Severity = "low"
	SeverityMedium        Severity = "medium"
	SeverityHigh          Severity = "high"
	SeverityCritical      Severity = "critical"
)

// Valid reports whether s is one of the five severities.
func (s Severity) Valid() bool {
	switch s {
	case SeverityInformational, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return true
	}
	return false
}

// Scope says what a rule is evaluated on.
type Scope string

// The scopes of a rule.
const (
	// ScopeResource rules (the default) are evaluated once per resource
	// whose type is one of the rule's resource_types.
	ScopeResource Scope = "resource"
	// ScopeAccount rules are evaluated once per account of the rule's
	// provider that the scanned inventory mentions, whether or not the
	// inventory holds an account resource ([inventory.AccountType]); they express
	// controls about something that may be missing altogether ("no
	// password policy", "no multi-region trail") through lookups.
	ScopeAccount Scope = "account"
)

// Lookup match kinds: how a lookup finds related resources.
const (
	// MatchSameAccount: every resource of the lookup's type in the same
	// provider and account.
	MatchSameAccount = "same_account"
	// MatchSameRegion: the same, restricted to the resource's region.
	MatchSameRegion = "same_region"
	// MatchRelationship: the resources this one names in its relationships
	// (direction out, the default) or that name this one (direction in),
	// optionally only relationships of one type.
	MatchRelationship = "relationship"
	// MatchAttribute: the resources whose target_path value equals this
	// resource's path value (a string, or any element of a list of
	// strings). Both paths default to "uid".
	MatchAttribute = "attribute"
)

// Lookup declares a rule's access to resources related to the one it
// checks. The matches are exposed to CEL as related.<name>, a list of
// resources in the same map shape as resource (possibly empty, never
// absent).
type Lookup struct {
	// Name is the key under related; a CEL identifier.
	Name string `yaml:"name" json:"name"`
	// Type is the related resources' type, e.g. "AWS::S3::Bucket".
	Type string `yaml:"type" json:"type"`
	// Match is same_account, same_region, relationship or attribute.
	Match string `yaml:"match" json:"match"`
	// Relationship restricts match: relationship to one relationship type
	// ("attached_to"); empty means any.
	Relationship string `yaml:"relationship,omitempty" json:"relationship,omitempty"`
	// Direction is "out" (default: the relationships of the checked
	// resource) or "in" (the relationships of the related resources that
	// point at the checked one); match: relationship only.
	Direction string `yaml:"direction,omitempty" json:"direction,omitempty"`
	// Path is, for match: attribute, the value of the checked resource to
	// join on: "uid", "name", "account", "region" or "attributes.<a>.<b>".
	// Default "uid".
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// TargetPath is, for match: attribute, the value of the related
	// resource to join on, in the same form as Path. Default "uid".
	TargetPath string `yaml:"target_path,omitempty" json:"target_path,omitempty"`
}

// Rule is one posture rule. The YAML form is documented in README.md;
// the fields below carry the same names.
type Rule struct {
	// ID is unique among all loaded rules: lower-case letters, digits,
	// '-', '_' and '.'.
	ID          string   `yaml:"id" json:"id"`
	Title       string   `yaml:"title" json:"title"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Severity    Severity `yaml:"severity" json:"severity"`
	// Provider is the provider of the resources the rule checks: "aws",
	// "alicloud", "kubernetes" …
	Provider string `yaml:"provider" json:"provider"`
	// Scope is "resource" (default) or "account".
	Scope Scope `yaml:"scope,omitempty" json:"scope,omitempty"`
	// ResourceTypes are the types a resource-scope rule applies to; an
	// account-scope rule has none.
	ResourceTypes []string `yaml:"resource_types,omitempty" json:"resource_types,omitempty"`
	// When is an optional CEL precondition: false means the rule does not
	// apply to the resource and gives no result.
	When string `yaml:"when,omitempty" json:"when,omitempty"`
	// Check is the CEL condition for compliance: true passes, false fails.
	Check string `yaml:"check" json:"check"`
	// Message is an optional CEL string expression explaining a failure.
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
	// Lookups declare related resources exposed as related.<name>.
	Lookups []Lookup `yaml:"lookups,omitempty" json:"lookups,omitempty"`
	// Remediation says how to fix a failure.
	Remediation string `yaml:"remediation,omitempty" json:"remediation,omitempty"`
	// References are URLs for further reading.
	References []string `yaml:"references,omitempty" json:"references,omitempty"`
	// Frameworks maps a pack id to the control ids of that pack the rule
	// checks, e.g. {"cis-aws-3.0": ["2.1.4"]}.
	Frameworks map[string]ControlIDs `yaml:"frameworks,omitempty" json:"frameworks,omitempty"`
	// ResponsibilityArea is an area id of the shared-responsibility
	// matrix (identity_access, configuration, data, network_controls …).
	ResponsibilityArea string `yaml:"responsibility_area" json:"responsibility_area"`

	// File and Line say where the rule was loaded from.
	File string `yaml:"-" json:"file,omitempty"`
	Line int    `yaml:"-" json:"line,omitempty"`

	when, check, message cel.Program
}

// HasLookups reports whether the rule reads related resources.
func (r *Rule) HasLookups() bool { return len(r.Lookups) > 0 }

// Controls returns the rule's controls in canonical form,
// "<pack id>:<control id>", sorted by pack id then in the rule's order.
func (r *Rule) Controls() []string {
	var out []string
	for _, pack := range sortedKeys(r.Frameworks) {
		for _, c := range r.Frameworks[pack] {
			out = append(out, pack+":"+c)
		}
	}
	return out
}

var (
	ruleIDRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	identRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	pathRE      = regexp.MustCompile(`^(uid|name|account|region|type|provider|attributes(\.[A-Za-z0-9_-]+)+)$`)
	packIDRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)
	providerRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	celReserved = []string{"resource", "related", "now", "in", "as", "break", "const", "continue", "else",
		"for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
		"true", "false", "null"}
)

// validate checks everything but the CEL expressions and returns one
// error per problem, each naming the field.
func (r *Rule) validate(areas map[string]bool) []fieldErr {
	var errs []fieldErr
	add := func(field, format string, args ...any) {
		errs = append(errs, fieldErr{field, fmt.Errorf(format, args...)})
	}
	switch {
	case r.ID == "":
		add("id", "missing")
	case !ruleIDRE.MatchString(r.ID):
		add("id", "%q: use lower-case letters, digits, '.', '-' and '_'", r.ID)
	}
	if strings.TrimSpace(r.Title) == "" {
		add("title", "missing")
	}
	if !r.Severity.Valid() {
		add("severity", "%q: want informational, low, medium, high or critical", r.Severity)
	}
	if !providerRE.MatchString(r.Provider) {
		add("provider", "%q: want a provider name such as aws, alicloud or kubernetes", r.Provider)
	}
	switch r.Scope {
	case "", ScopeResource:
		if len(r.ResourceTypes) == 0 {
			add("resource_types", "missing (a resource-scope rule names the types it checks)")
		}
	case ScopeAccount:
		if len(r.ResourceTypes) > 0 {
			add("resource_types", "an account-scope rule is evaluated on the account (%s): drop resource_types", inventory.AccountType(r.Provider))
		}
	default:
		add("scope", "%q: want resource or account", r.Scope)
	}
	for i, t := range r.ResourceTypes {
		if strings.TrimSpace(t) == "" || slices.Contains(r.ResourceTypes[:i], t) {
			add(fmt.Sprintf("resource_types[%d]", i), "%q: empty or repeated", t)
		}
	}
	if strings.TrimSpace(r.Check) == "" {
		add("check", "missing")
	}
	seen := map[string]bool{}
	for i, l := range r.Lookups {
		f := fmt.Sprintf("lookups[%d]", i)
		switch {
		case !identRE.MatchString(l.Name) || slices.Contains(celReserved, l.Name):
			add(f+".name", "%q: want a CEL identifier", l.Name)
		case seen[l.Name]:
			add(f+".name", "%q: repeated", l.Name)
		}
		seen[l.Name] = true
		if strings.TrimSpace(l.Type) == "" {
			add(f+".type", "missing")
		}
		switch l.Match {
		case MatchSameAccount, MatchSameRegion:
			if l.Relationship != "" || l.Direction != "" || l.Path != "" || l.TargetPath != "" {
				add(f, "match %s takes no relationship, direction, path or target_path", l.Match)
			}
		case MatchRelationship:
			if l.Direction != "" && l.Direction != "in" && l.Direction != "out" {
				add(f+".direction", "%q: want in or out", l.Direction)
			}
			if l.Path != "" || l.TargetPath != "" {
				add(f, "match relationship takes no path or target_path")
			}
		case MatchAttribute:
			for _, p := range []struct{ name, v string }{{"path", l.Path}, {"target_path", l.TargetPath}} {
				if p.v != "" && !pathRE.MatchString(p.v) {
					add(f+"."+p.name, "%q: want uid, name, account, region, type, provider or attributes.<key>[.<key>…]", p.v)
				}
			}
			if l.Relationship != "" || l.Direction != "" {
				add(f, "match attribute takes no relationship or direction")
			}
		default:
			add(f+".match", "%q: want same_account, same_region, relationship or attribute", l.Match)
		}
	}
	for _, pack := range sortedKeys(r.Frameworks) {
		if !packIDRE.MatchString(pack) {
			add("frameworks", "%q: not a pack id", pack)
		}
		if len(r.Frameworks[pack]) == 0 {
			add("frameworks."+pack, "no control ids")
		}
		for i, c := range r.Frameworks[pack] {
			if strings.TrimSpace(c) == "" || slices.Contains(r.Frameworks[pack][:i], c) {
				add(fmt.Sprintf("frameworks.%s[%d]", pack, i), "%q: empty or repeated", c)
			}
		}
	}
	switch {
	case r.ResponsibilityArea == "":
		add("responsibility_area", "missing")
	case areas != nil && !areas[r.ResponsibilityArea]:
		add("responsibility_area", "%q: not an area of the shared-responsibility matrix (%s)", r.ResponsibilityArea, strings.Join(sortedKeys(areas), ", "))
	}
	return errs
}

type fieldErr struct {
	field string
	err   error
}
