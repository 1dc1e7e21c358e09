package responsibility

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// The built-in data; data/README.md says where each file comes from.
var (
	//go:embed data/shared-responsibility.yaml
	matrixYAML []byte
	//go:embed data/parts.yaml
	partsYAML []byte
	//go:embed data/vendor-duties.yaml
	dutiesYAML []byte
	//go:embed data/resource-types.yaml
	catalogYAML []byte
	//go:embed data/rules.yaml
	rulesYAML []byte
)

// Names of the built-in files, as errors and bases name them.
const (
	MatrixFile     = "shared-responsibility.yaml"
	partsFileName  = "parts.yaml"
	dutiesFileName = "vendor-duties.yaml"
	CatalogFile    = "resource-types.yaml"
	RulesFile      = "rules.yaml"
)

// The built-in data is parsed once, on first use, and never written
// afterwards. It is embedded and checked by the package's tests, so a parse
// failure is a build defect: the Builtin functions panic on it.
var (
	builtinMatrix  = sync.OnceValues(func() (*Matrix, error) { return ParseMatrix(MatrixFile, bytes.NewReader(matrixYAML)) })
	builtinCatalog = sync.OnceValues(func() (*Catalog, error) { return ParseCatalog(CatalogFile, bytes.NewReader(catalogYAML)) })
	builtinRules   = sync.OnceValues(func() (*RuleSet, error) { return ParseRules(RulesFile, bytes.NewReader(rulesYAML)) })
	builtinDuties  = sync.OnceValues(func() (map[string]dutySpec, error) { return parseDuties(dutiesFileName, dutiesYAML) })
	builtinParts   = sync.OnceValues(func() (map[string]map[ServiceModel][]Part, error) { return parseParts(partsFileName, partsYAML) })
)

// BuiltinMatrix returns the matrix of the embedded reference
// (data/shared-responsibility.yaml, a verbatim copy of
// shared/reference/shared-responsibility.yaml).
func BuiltinMatrix() *Matrix { return must(builtinMatrix()) }

// BuiltinCatalog returns the embedded resource-type catalogue
// (data/resource-types.yaml).
func BuiltinCatalog() *Catalog { return must(builtinCatalog()) }

// BuiltinRules returns the embedded finding → area rules (data/rules.yaml).
func BuiltinRules() *RuleSet { return must(builtinRules()) }

func must[T any](v T, err error) T {
	if err != nil {
		panic("responsibility: embedded data: " + err.Error())
	}
	return v
}

// dutySpec is what vendor-duties.yaml says of one duty.
type dutySpec struct {
	EN                        string
	estateLeads, estatePart   []string
	productLeads, productPart []string
}

type dutiesDoc struct {
	SchemaVersion int                 `yaml:"schema_version"`
	Duties        map[string]dutyFile `yaml:"duties"`
}

type dutyFile struct {
	EN      string     `yaml:"en"`
	Estate  *scopeFile `yaml:"estate"`
	Product *scopeFile `yaml:"product"`
}

type scopeFile struct {
	Leads []string `yaml:"leads"`
	Part  []string `yaml:"part"`
}

func parseDuties(name string, data []byte) (map[string]dutySpec, error) {
	var f dutiesDoc
	d, err := decodeYAML(name, data, &f, func(d *yamlDoc, line int) string {
		if k := d.enclosingKey("$.duties", line); k != "" {
			return "duty " + k
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%s; want 1", showInt(f.SchemaVersion))
	}
	out := make(map[string]dutySpec, len(f.Duties))
	for _, id := range slices.Sorted(maps.Keys(f.Duties)) {
		df := f.Duties[id]
		path, where := "$.duties."+id, "duty "+id
		if df.EN == "" {
			d.add(path, where, "en", "missing")
		}
		s := dutySpec{EN: df.EN}
		if df.Estate != nil {
			s.estateLeads, s.estatePart = df.Estate.Leads, df.Estate.Part
			for i, a := range df.Estate.Leads {
				if !areaIDPattern.MatchString(a) {
					d.add(fmt.Sprintf("%s.estate.leads[%d]", path, i), where, fmt.Sprintf("estate.leads[%d]", i), "%q: not an area id", a)
				}
			}
			for i, a := range df.Estate.Part {
				if a != "*" && !areaIDPattern.MatchString(a) {
					d.add(fmt.Sprintf("%s.estate.part[%d]", path, i), where, fmt.Sprintf("estate.part[%d]", i), "%q: not an area id or *", a)
				}
			}
		}
		if df.Product != nil {
			s.productLeads, s.productPart = df.Product.Leads, df.Product.Part
			for field, list := range map[string][]string{"product.leads": df.Product.Leads, "product.part": df.Product.Part} {
				for i, k := range list {
					if !validKind(Kind(k)) {
						d.add(fmt.Sprintf("%s.%s[%d]", path, field, i), where, fmt.Sprintf("%s[%d]", field, i), "%q: not a finding kind (%s)", k, kindList())
					}
				}
			}
		}
		if df.Estate == nil && df.Product == nil {
			d.add(path, where, "", "neither estate nor product: the duty bears on no finding")
		}
		out[id] = s
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return out, nil
}

type partsDoc struct {
	SchemaVersion int                             `yaml:"schema_version"`
	Areas         map[string]map[string]partsFile `yaml:"areas"`
}

func parseParts(name string, data []byte) (map[string]map[ServiceModel][]Part, error) {
	var f partsDoc
	d, err := decodeYAML(name, data, &f, nil)
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%s; want 1", showInt(f.SchemaVersion))
	}
	out := map[string]map[ServiceModel][]Part{}
	for _, area := range slices.Sorted(maps.Keys(f.Areas)) {
		out[area] = map[ServiceModel][]Part{}
		for _, model := range slices.Sorted(maps.Keys(f.Areas[area])) {
			p := f.Areas[area][model]
			path := "$.areas." + area + "." + model
			if !validModel(model) {
				d.add(path, "area "+area, model, "not a service model; want IaaS, PaaS or SaaS")
				continue
			}
			if strings.TrimSpace(p.Provider) == "" || strings.TrimSpace(p.Customer) == "" {
				d.add(path, "area "+area, model, "want both provider and customer")
				continue
			}
			out[area][ServiceModel(model)] = []Part{{Party: Provider, Duty: p.Provider}, {Party: Customer, Duty: p.Customer}}
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return out, nil
}
