package responsibility

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Kind is what sort of problem a finding is. Rules assign it; a contract
// uses it for findings about a vendor's own product (see [Contract]).
type Kind string

// The finding kinds.
const (
	KindVulnerability    Kind = "vulnerability"    // a vulnerable package or component
	KindCode             Kind = "code"             // a weakness in source code
	KindSecret           Kind = "secret"           // an exposed secret or credential
	KindIdentity         Kind = "identity"         // an identity or access setting
	KindMisconfiguration Kind = "misconfiguration" // any other setting
	KindData             Kind = "data"             // data protection or exposure
	KindThreat           Kind = "threat"           // activity to triage and respond to
	KindPlatform         Kind = "platform"         // the provider's own layers
)

var kinds = []Kind{KindVulnerability, KindCode, KindSecret, KindIdentity, KindMisconfiguration, KindData, KindThreat, KindPlatform}

func validKind(k Kind) bool { return slices.Contains(kinds, k) }

func kindList() string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Record classes as rules name them.
var ruleClasses = []string{"vulnerability", "compliance", "detection", "data_security", "incident", "event"}

// Rule is one finding → area rule.
type Rule struct {
	// ID and Title name the rule in an attribution's basis.
	ID, Title string
	// Kind is what sort of problem the findings it matches are.
	Kind Kind
	// Area is the area it assigns; "" means the default area of the
	// finding's resource type, else FallbackArea.
	Area, FallbackArea string

	class, packageType, category, product []string
	model                                 []ServiceModel
	text, notText                         []*regexp.Regexp
}

// RuleSet is an ordered list of rules: the first that matches decides. It
// is immutable and safe for concurrent use.
type RuleSet struct {
	rules []*Rule
}

// Rules returns the rules in order.
func (rs *RuleSet) Rules() []Rule {
	out := make([]Rule, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = *r
	}
	return out
}

type rulesFile struct {
	SchemaVersion int        `yaml:"schema_version"`
	Rules         []ruleFile `yaml:"rules"`
}

type ruleFile struct {
	ID           string    `yaml:"id"`
	Title        string    `yaml:"title"`
	Kind         string    `yaml:"kind"`
	Area         string    `yaml:"area"`
	FallbackArea string    `yaml:"fallback_area"`
	When         *whenFile `yaml:"when"`
}

type whenFile struct {
	Class       []string `yaml:"class"`
	PackageType []string `yaml:"package_type"`
	Category    []string `yaml:"category"`
	Model       []string `yaml:"model"`
	Product     []string `yaml:"product"`
	Text        []string `yaml:"text"`
	NotText     []string `yaml:"not_text"`
}

// ParseRules reads finding → area rules in the format of data/rules.yaml
// from r; name is the file name used in errors. Decoding is strict; an
// unknown class, package type, category, model or kind, a duplicate id, a
// rule without conditions or a regular expression that does not compile is
// an error. Area ids are checked against the matrix by [New].
func ParseRules(name string, r io.Reader) (*RuleSet, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("responsibility: %s: %w", name, err)
	}
	var f rulesFile
	d, err := decodeYAML(name, data, &f, func(d *yamlDoc, line int) string {
		if i := d.enclosing("$.rules", line); i >= 0 {
			return "rule " + d.scalar(fmt.Sprintf("$.rules[%d].id", i))
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%s; want 1", showInt(f.SchemaVersion))
	}
	rs := &RuleSet{}
	seen := map[string]bool{}
	for i, rf := range f.Rules {
		path := fmt.Sprintf("$.rules[%d]", i)
		where := "rule " + rf.ID
		if rf.ID == "" {
			where = fmt.Sprintf("rules[%d]", i)
			d.add(path, where, "id", "missing")
		} else if seen[rf.ID] {
			d.add(path+".id", where, "id", "duplicate rule id")
		}
		seen[rf.ID] = true
		r := &Rule{ID: rf.ID, Title: rf.Title, Kind: Kind(rf.Kind), Area: rf.Area, FallbackArea: rf.FallbackArea}
		if rf.Title == "" {
			d.add(path, where, "title", "missing")
		}
		if !validKind(r.Kind) {
			d.add(path+".kind", where, "kind", "%q: want one of %s", rf.Kind, kindList())
		}
		switch {
		case rf.Area == "":
			d.add(path, where, "area", "missing")
		case rf.Area == "resource":
			r.Area = ""
			if rf.FallbackArea == "" {
				d.add(path+".area", where, "fallback_area", "missing: area resource needs a fallback_area for unknown resource types")
			}
		case rf.FallbackArea != "":
			d.add(path+".fallback_area", where, "fallback_area", "only for area: resource")
		}
		w := rf.When
		if w == nil || len(w.Class)+len(w.PackageType)+len(w.Category)+len(w.Model)+len(w.Product)+len(w.Text) == 0 {
			d.add(path, where, "when", "no conditions: a rule must say which findings it matches")
			rs.rules = append(rs.rules, r)
			continue
		}
		check := func(field string, vals, allowed []string) []string {
			for j, v := range vals {
				if !slices.Contains(allowed, v) {
					d.add(fmt.Sprintf("%s.when.%s[%d]", path, field, j), where, fmt.Sprintf("when.%s[%d]", field, j), "%q: want one of %s", v, strings.Join(allowed, ", "))
				}
			}
			return vals
		}
		r.class = check("class", w.Class, ruleClasses)
		r.packageType = check("package_type", w.PackageType, []string{"os", "application", "none"})
		r.category = check("category", w.Category, categories)
		for j, m := range w.Model {
			if !validModel(m) {
				d.add(fmt.Sprintf("%s.when.model[%d]", path, j), where, fmt.Sprintf("when.model[%d]", j), "%q: want IaaS, PaaS or SaaS", m)
			}
			r.model = append(r.model, ServiceModel(m))
		}
		for _, p := range w.Product {
			r.product = append(r.product, strings.ToLower(p))
		}
		compile := func(field string, exprs []string) []*regexp.Regexp {
			var out []*regexp.Regexp
			for j, e := range exprs {
				re, err := regexp.Compile("(?im)" + e)
				if err != nil {
					d.add(fmt.Sprintf("%s.when.%s[%d]", path, field, j), where, fmt.Sprintf("when.%s[%d]", field, j), "%v", err)
					continue
				}
				out = append(out, re)
			}
			return out
		}
		r.text = compile("text", w.Text)
		r.notText = compile("not_text", w.NotText)
		rs.rules = append(rs.rules, r)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return rs, nil
}

// match reports whether every condition of r holds for f.
func (r *Rule) match(f *facts) bool {
	if len(r.class) > 0 && !slices.Contains(r.class, f.class) {
		return false
	}
	if len(r.packageType) > 0 && !slices.ContainsFunc(r.packageType, func(t string) bool { return f.pkgTypes[t] }) {
		return false
	}
	if len(r.category) > 0 && !slices.ContainsFunc(r.category, func(c string) bool { return f.categories[c] }) {
		return false
	}
	if len(r.model) > 0 && (f.resource == nil || !slices.Contains(r.model, f.resource.Model)) {
		return false
	}
	if len(r.product) > 0 && !slices.Contains(r.product, strings.ToLower(f.product)) {
		return false
	}
	if len(r.text) > 0 && !slices.ContainsFunc(r.text, func(re *regexp.Regexp) bool { return re.MatchString(f.words) }) {
		return false
	}
	if slices.ContainsFunc(r.notText, func(re *regexp.Regexp) bool { return re.MatchString(f.words) }) {
		return false
	}
	return true
}
