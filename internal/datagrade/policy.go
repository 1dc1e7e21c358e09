package datagrade

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// PolicyFile is the name of the embedded default grading policy.
const PolicyFile = "grading-policy.yaml"

//go:embed data/grading-policy.yaml
var policyYAML []byte

// Policy says how scan findings feed the impact analysis of GB/T 43697:
// which affected object each data class harms and how much, the volume
// rules, replacements of reference cells, whether the reference's floor
// rules apply, and sensitive-PI overrides. Its values are project defaults
// (data/grading-policy.yaml), not values of the standard. A Policy is
// read-only once loaded.
type Policy struct {
	SchemaVersion     int             `yaml:"schema_version"`
	MinConfidence     int             `yaml:"min_confidence"`
	Unclassified      string          `yaml:"unclassified_level"`
	Impacts           []Impact        `yaml:"impacts"`
	ScaleRules        []ScaleRule     `yaml:"scale_rules"`
	DecisionOverrides []CellOverride  `yaml:"decision_overrides"`
	FloorRules        bool            `yaml:"floor_rules"`
	SensitiveOverride map[string]bool `yaml:"sensitive_overrides"`
	unclassified      Level
	name              string            // file the policy came from
	impactByClass     map[string]Impact // data class → impact
}

// Impact is the harm a data class does to one affected object.
type Impact struct {
	DataClass      string `yaml:"data_class"`
	AffectedObject string `yaml:"affected_object"`
	Impact         string `yaml:"impact"`
}

// ScaleRule raises the impact when a table holds data of many individuals.
// Each threshold that is set must be reached.
type ScaleRule struct {
	ID                          string `yaml:"id"`
	Desc                        string `yaml:"desc"`
	IndividualsAtLeast          int64  `yaml:"individuals_at_least"`
	SensitiveIndividualsAtLeast int64  `yaml:"sensitive_individuals_at_least"`
	RecordsAtLeast              int64  `yaml:"records_at_least"`
	AffectedObject              string `yaml:"affected_object"`
	Impact                      string `yaml:"impact"`
}

// CellOverride replaces one cell of the reference's decision table.
type CellOverride struct {
	AffectedObject string `yaml:"affected_object"`
	Impact         string `yaml:"impact"`
	// Level is core, important or general.
	Level string `yaml:"level"`
}

var builtinPolicy = sync.OnceValues(func() (*Policy, error) {
	return parsePolicy(PolicyFile, policyYAML, nil, BuiltinReference(), BuiltinCategories())
})

// DefaultPolicy returns the embedded default policy.
func DefaultPolicy() *Policy {
	p, err := builtinPolicy()
	if err != nil {
		panic("datagrade: embedded policy: " + err.Error())
	}
	return p
}

// LoadPolicy reads a policy file. It starts from the default policy: a
// section present in the file replaces the default section, an absent one
// keeps it. Decoding is strict (an unknown key is an error with its line),
// and every reference to an affected object, impact degree, level, data
// class or category is checked against ref and cats; every problem is
// reported.
func LoadPolicy(name string, r io.Reader, ref *Reference, cats *Categories) (*Policy, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("datagrade: read %s: %w", name, err)
	}
	return parsePolicy(name, data, DefaultPolicy(), ref, cats)
}

func parsePolicy(name string, data []byte, base *Policy, ref *Reference, cats *Categories) (*Policy, error) {
	var p Policy
	if base != nil {
		p = *base
		p.Impacts = slices.Clone(base.Impacts)
		p.ScaleRules = slices.Clone(base.ScaleRules)
		p.DecisionOverrides = slices.Clone(base.DecisionOverrides)
		p.SensitiveOverride = maps.Clone(base.SensitiveOverride)
	}
	d, err := decodeYAML(name, bytes.TrimSpace(data), &p, true)
	if err != nil {
		return nil, err
	}
	p.name = name
	if p.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%d; want 1", p.SchemaVersion)
	}
	if p.MinConfidence < 1 || p.MinConfidence > 100 {
		d.add("$.min_confidence", "", "min_confidence", "%d; want 1–100", p.MinConfidence)
	}
	if l, err := ParseLevel(p.Unclassified); err != nil {
		d.add("$.unclassified_level", "", "unclassified_level", "%v", err)
	} else {
		p.unclassified = l
	}
	checkObjDeg := func(path, where, obj, deg string) {
		if _, ok := ref.Object(obj); !ok {
			d.add(path+".affected_object", where, "affected_object", "%q is not an affected object of the reference (%s)", obj, objectIDs(ref))
		}
		if _, ok := ref.Degree(deg); !ok {
			d.add(path+".impact", where, "impact", "%q is not an impact degree of the reference (%s)", deg, degreeIDs(ref))
		}
	}
	p.impactByClass = map[string]Impact{}
	for i, im := range p.Impacts {
		path := fmt.Sprintf("$.impacts[%d]", i)
		where := "impact " + im.DataClass
		switch im.DataClass {
		case ClassSensitivePI, ClassGeneralPI, ClassCredentials, ClassOrganisation:
		default:
			d.add(path+".data_class", where, "data_class", "%q; want sensitive_pi, general_pi, credentials or organisation", im.DataClass)
		}
		if _, dup := p.impactByClass[im.DataClass]; dup {
			d.add(path+".data_class", where, "data_class", "given twice")
		}
		checkObjDeg(path, where, im.AffectedObject, im.Impact)
		p.impactByClass[im.DataClass] = im
	}
	for _, c := range []string{ClassSensitivePI, ClassGeneralPI, ClassCredentials, ClassOrganisation} {
		if _, ok := p.impactByClass[c]; !ok {
			d.add("$.impacts", "", "impacts", "no impact for data class %s", c)
		}
	}
	ids := map[string]bool{}
	for i, s := range p.ScaleRules {
		path := fmt.Sprintf("$.scale_rules[%d]", i)
		where := "scale rule " + s.ID
		if s.ID == "" || ids[s.ID] {
			d.add(path+".id", where, "id", "missing or given twice")
		}
		ids[s.ID] = true
		if s.IndividualsAtLeast <= 0 && s.SensitiveIndividualsAtLeast <= 0 && s.RecordsAtLeast <= 0 {
			d.add(path, where, "", "no threshold: set individuals_at_least, sensitive_individuals_at_least or records_at_least")
		}
		if s.IndividualsAtLeast < 0 || s.SensitiveIndividualsAtLeast < 0 || s.RecordsAtLeast < 0 {
			d.add(path, where, "", "negative threshold")
		}
		checkObjDeg(path, where, s.AffectedObject, s.Impact)
	}
	for i, o := range p.DecisionOverrides {
		path := fmt.Sprintf("$.decision_overrides[%d]", i)
		where := "override " + o.AffectedObject + " × " + o.Impact
		checkObjDeg(path, where, o.AffectedObject, o.Impact)
		if o.Impact == ref.NoHarm.ID {
			d.add(path+".impact", where, "impact", "the decision table has no column for %s", o.Impact)
		}
		switch o.Level {
		case "core", "important", "general":
		default:
			d.add(path+".level", where, "level", "%q; want core, important or general", o.Level)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.SensitiveOverride)) {
		c, ok := cats.Get(id)
		switch {
		case !ok:
			d.add("$.sensitive_overrides."+id, "", "sensitive_overrides", "%q is not a category", id)
		case !c.IsPI():
			d.add("$.sensitive_overrides."+id, "", "sensitive_overrides", "%q is not personal information", id)
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return &p, nil
}

// UnclassifiedLevel returns the level of data in which nothing was found.
func (p *Policy) UnclassifiedLevel() Level { return p.unclassified }

// Name returns the file the policy was loaded from.
func (p *Policy) Name() string { return p.name }

func objectIDs(r *Reference) string {
	var s []string
	for _, o := range r.Objects {
		s = append(s, o.ID)
	}
	return strings.Join(s, ", ")
}

func degreeIDs(r *Reference) string {
	s := []string{}
	for _, g := range r.Degrees {
		s = append(s, g.ID)
	}
	return strings.Join(append(s, r.NoHarm.ID), ", ")
}
