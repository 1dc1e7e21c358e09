package datagrade

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// ReferenceFile is the name of the embedded reference: a verbatim copy of
// shared/reference/gbt43697-data-grading.yaml.
const ReferenceFile = "gbt43697-data-grading.yaml"

//go:embed data/gbt43697-data-grading.yaml
var referenceYAML []byte

// The embedded reference is parsed once, on first use, and never written
// afterwards. The package's tests parse it, so a failure is a build defect
// and [BuiltinReference] panics on it.
var builtinReference = sync.OnceValues(func() (*Reference, error) {
	return ParseReference(ReferenceFile, bytes.NewReader(referenceYAML))
})

// BuiltinReference returns the embedded GB/T 43697-2024 reference.
func BuiltinReference() *Reference {
	r, err := builtinReference()
	if err != nil {
		panic("datagrade: embedded reference: " + err.Error())
	}
	return r
}

// Reference is what the grader uses of the GB/T 43697-2024 reference file:
// the affected objects and impact degrees of the impact analysis, the
// decision table (affected object × impact degree → level), the general-data
// sub-levels and their triggers, the minimum-level (floor) rules and the
// Appendix B personal-information categories. Every item keeps the
// reference's `unverified` marker; see [Cell.Unverified],
// [Sublevel.Unverified] and [Reference.FloorRulesUnverified]. A Reference is
// read-only once parsed and safe for concurrent use.
type Reference struct {
	// Standard is the standard's id, "GB/T 43697-2024".
	Standard string
	// TitleZH is its Chinese title.
	TitleZH string
	// Objects are the affected objects (影响对象) in reference order.
	Objects []AffectedObject
	// Degrees are the impact degrees (影响程度), most severe first.
	Degrees []ImpactDegree
	// NoHarm is the extra degree that only general data has (无危害).
	NoHarm ImpactDegree
	// Sublevels are the general-data sub-levels, 4级 first.
	Sublevels []Sublevel
	// FloorRules are the minimum sub-levels of some general data.
	FloorRules []FloorRule
	// FloorRulesUnverified repeats the reference's marker on the floor rules.
	FloorRulesUnverified bool
	// PI are the Appendix B personal-information categories.
	PI []PICategory
	// PIPLSensitive lists the sensitive-PI categories of PIPL art. 28.
	PIPLSensitive []string

	cells map[[2]string]Cell // (object id, degree id) → cell
}

// AffectedObject is one object of the impact analysis.
type AffectedObject struct {
	ID string // e.g. "individual_rights"
	ZH string // e.g. "个人权益"
}

// ImpactDegree is one impact degree.
type ImpactDegree struct {
	ID   string // "particularly_serious", "serious", "general"; "none" for 无危害
	ZH   string
	Rank int // 1 most severe; 0 for none
}

// Cell is one cell of the decision table.
type Cell struct {
	Object, Degree string // ids
	// Class is "core", "important" or "general" (the reference gives no
	// sub-level in the table; see [Sublevel]).
	Class string
	// Unverified repeats the reference's marker on the cell's row.
	Unverified bool
	// Row is the 0-based row index in decision_table.rows.
	Row int
}

// Sublevel is a general-data sub-level and what triggers it.
type Sublevel struct {
	Level      Level
	Objects    []string // affected-object ids; empty for general-1
	Degree     string   // impact degree id ("none" for general-1)
	Unverified bool
}

// FloorRule sets a minimum general-data sub-level for a kind of data.
type FloorRule struct {
	// Data is the reference's wording: "sensitive personal information",
	// "general personal information", "de-identified personal information",
	// "personal label / profiling data".
	Data string
	Min  Level
}

// PICategory is one Appendix B personal-information category.
type PICategory struct {
	Name string
	// Sensitive is "yes", "no" or "conditional", as the reference maps it.
	Sensitive     string
	Subcategories []PISubcategory
}

// PISubcategory is a second-level category; Sensitive is "" when the
// reference gives none (the category's applies).
type PISubcategory struct {
	Name      string
	Sensitive string
}

// Cell returns the decision-table cell of an affected object and an impact
// degree (ids).
func (r *Reference) Cell(object, degree string) (Cell, bool) {
	c, ok := r.cells[[2]string{object, degree}]
	return c, ok
}

// Object returns the affected object with the given id.
func (r *Reference) Object(id string) (AffectedObject, bool) {
	for _, o := range r.Objects {
		if o.ID == id {
			return o, true
		}
	}
	return AffectedObject{}, false
}

// Degree returns the impact degree with the given id, [Reference.NoHarm]
// included.
func (r *Reference) Degree(id string) (ImpactDegree, bool) {
	if id == r.NoHarm.ID {
		return r.NoHarm, true
	}
	for _, d := range r.Degrees {
		if d.ID == id {
			return d, true
		}
	}
	return ImpactDegree{}, false
}

// PICategory returns the Appendix B category with the given name and, when
// sub is not empty, checks that it has that subcategory.
func (r *Reference) PICategory(name, sub string) (PICategory, bool) {
	for _, c := range r.PI {
		if c.Name != name {
			continue
		}
		if sub == "" || slices.ContainsFunc(c.Subcategories, func(s PISubcategory) bool { return s.Name == sub }) {
			return c, true
		}
	}
	return PICategory{}, false
}

// sensitivity returns the reference's sensitive flag of a category or of
// one of its subcategories.
func (c PICategory) sensitivity(sub string) string {
	for _, s := range c.Subcategories {
		if s.Name == sub && s.Sensitive != "" {
			return s.Sensitive
		}
	}
	return c.Sensitive
}

// The parts of the reference file the grader reads. Decoding is not strict:
// the file carries much more (principles, flows, sources) than grading needs.
type refDoc struct {
	SchemaVersion int `yaml:"schema_version"`
	Standard      struct {
		ID      string `yaml:"id"`
		TitleZH string `yaml:"title_zh"`
	} `yaml:"standard"`
	Levels []struct {
		ID        string `yaml:"id"`
		NameZH    string `yaml:"name_zh"`
		Sublevels []struct {
			ID      string `yaml:"id"`
			NameZH  string `yaml:"name_zh"`
			Trigger struct {
				AffectedObjects []string `yaml:"affected_objects"`
				Impact          string   `yaml:"impact"`
			} `yaml:"trigger"`
			Unverified bool `yaml:"unverified"`
		} `yaml:"sublevels"`
	} `yaml:"levels"`
	ImpactAnalysis struct {
		AffectedObjects []struct {
			ID string `yaml:"id"`
			ZH string `yaml:"zh"`
		} `yaml:"affected_objects"`
		ImpactDegrees []struct {
			ID   string `yaml:"id"`
			ZH   string `yaml:"zh"`
			Rank int    `yaml:"rank"`
		} `yaml:"impact_degrees"`
		Extra struct {
			ID string `yaml:"id"`
			ZH string `yaml:"zh"`
		} `yaml:"extra_degree_for_general_data"`
	} `yaml:"impact_analysis"`
	DecisionTable struct {
		Rows []map[string]any `yaml:"rows"`
	} `yaml:"decision_table"`
	FloorRules struct {
		Rules []struct {
			Data        string `yaml:"data"`
			MinSublevel string `yaml:"min_sublevel"`
		} `yaml:"rules"`
		Unverified bool `yaml:"unverified"`
	} `yaml:"general_data_floor_rules"`
	PI struct {
		Categories []struct {
			Category      string `yaml:"category"`
			Sensitive     string `yaml:"sensitive"`
			Subcategories []struct {
				Name      string `yaml:"name"`
				Sensitive string `yaml:"sensitive"`
			} `yaml:"subcategories"`
		} `yaml:"categories"`
	} `yaml:"personal_information_categories"`
	SensitivePI struct {
		PIPL struct {
			Categories []string `yaml:"categories"`
		} `yaml:"pipl_article_28"`
	} `yaml:"sensitive_personal_information"`
}

// ParseReference reads a GB/T 43697 reference file in the format of
// shared/reference/gbt43697-data-grading.yaml and checks that the parts the
// grader uses are complete and consistent: level names, every affected object
// with a decision-table row whose cells name a level, sub-level triggers
// naming known objects and degrees, floor rules naming sub-levels, and
// sensitive flags of yes, no or conditional. It reports every problem found.
func ParseReference(name string, r io.Reader) (*Reference, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("datagrade: read %s: %w", name, err)
	}
	var f refDoc
	d, err := decodeYAML(name, buf.Bytes(), &f, false)
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%d; want 1", f.SchemaVersion)
	}
	ref := &Reference{Standard: f.Standard.ID, TitleZH: f.Standard.TitleZH, cells: map[[2]string]Cell{}}
	if ref.Standard == "" {
		d.add("$.standard.id", "", "standard.id", "missing")
	}
	objByZH := map[string]string{}
	for i, o := range f.ImpactAnalysis.AffectedObjects {
		if o.ID == "" || o.ZH == "" {
			d.add(fmt.Sprintf("$.impact_analysis.affected_objects[%d]", i), "", "affected_objects", "want id and zh")
			continue
		}
		ref.Objects = append(ref.Objects, AffectedObject{ID: o.ID, ZH: o.ZH})
		objByZH[o.ZH] = o.ID
	}
	degByZH := map[string]string{}
	for i, g := range f.ImpactAnalysis.ImpactDegrees {
		if g.ID == "" || g.ZH == "" || g.Rank <= 0 {
			d.add(fmt.Sprintf("$.impact_analysis.impact_degrees[%d]", i), "", "impact_degrees", "want id, zh and a positive rank")
			continue
		}
		ref.Degrees = append(ref.Degrees, ImpactDegree{ID: g.ID, ZH: g.ZH, Rank: g.Rank})
		degByZH[g.ZH] = g.ID
	}
	slices.SortStableFunc(ref.Degrees, func(a, b ImpactDegree) int { return a.Rank - b.Rank })
	ref.NoHarm = ImpactDegree{ID: f.ImpactAnalysis.Extra.ID, ZH: f.ImpactAnalysis.Extra.ZH}
	if ref.NoHarm.ID == "" || ref.NoHarm.ZH == "" {
		d.add("$.impact_analysis.extra_degree_for_general_data", "", "extra_degree_for_general_data", "want id and zh")
	}
	degByZH[ref.NoHarm.ZH] = ref.NoHarm.ID
	if len(ref.Objects) == 0 || len(ref.Degrees) == 0 {
		d.add("$.impact_analysis", "", "impact_analysis", "no affected objects or impact degrees")
	}

	// Levels: the ids and Chinese names must be those Level knows.
	classByZH := map[string]string{}
	seen := map[Level]bool{}
	for i, l := range f.Levels {
		path := fmt.Sprintf("$.levels[%d]", i)
		want := map[string]Level{"core": LevelCore, "important": LevelImportant}
		if lv, ok := want[l.ID]; ok {
			if l.NameZH != lv.ZH() {
				d.add(path+".name_zh", "level "+l.ID, "name_zh", "%q; the code calls it %q", l.NameZH, lv.ZH())
			}
			seen[lv] = true
			classByZH[l.NameZH] = l.ID
			continue
		}
		if l.ID != "general" {
			d.add(path+".id", "", "id", "%q: unknown level (want core, important or general)", l.ID)
			continue
		}
		classByZH[l.NameZH] = "general"
		for j, s := range l.Sublevels {
			sp := fmt.Sprintf("%s.sublevels[%d]", path, j)
			lv, err := ParseLevel(s.ID)
			if err != nil || lv.Class() != "general" {
				d.add(sp+".id", "sublevel "+s.ID, "id", "not a general-data sub-level")
				continue
			}
			if s.NameZH != lv.ZH() {
				d.add(sp+".name_zh", "sublevel "+s.ID, "name_zh", "%q; the code calls it %q", s.NameZH, lv.ZH())
			}
			seen[lv] = true
			sub := Sublevel{Level: lv, Unverified: s.Unverified}
			for k, o := range s.Trigger.AffectedObjects {
				id, ok := objByZH[o]
				if !ok {
					d.add(fmt.Sprintf("%s.trigger.affected_objects[%d]", sp, k), "sublevel "+s.ID, "trigger.affected_objects", "%q is not an affected object", o)
				}
				sub.Objects = append(sub.Objects, id)
			}
			deg, ok := degByZH[s.Trigger.Impact]
			if !ok {
				d.add(sp+".trigger.impact", "sublevel "+s.ID, "trigger.impact", "%q is not an impact degree", s.Trigger.Impact)
			}
			sub.Degree = deg
			ref.Sublevels = append(ref.Sublevels, sub)
		}
	}
	for l := LevelGeneral1; l <= LevelCore; l++ {
		if !seen[l] {
			d.add("$.levels", "", "levels", "level %s (%s) is missing", l, l.ZH())
		}
	}
	slices.SortStableFunc(ref.Sublevels, func(a, b Sublevel) int { return int(b.Level - a.Level) })

	// Decision table: one row per affected object, one cell per degree.
	rows := map[string]bool{}
	for i, row := range f.DecisionTable.Rows {
		path := fmt.Sprintf("$.decision_table.rows[%d]", i)
		zh, _ := row["affected_object"].(string)
		obj, ok := objByZH[zh]
		if !ok {
			d.add(path+".affected_object", fmt.Sprintf("row %d", i), "affected_object", "%q is not an affected object", zh)
			continue
		}
		if rows[obj] {
			d.add(path+".affected_object", "row "+zh, "affected_object", "second row for the same object")
		}
		rows[obj] = true
		unverified, _ := row["unverified"].(bool)
		for _, g := range ref.Degrees {
			v, _ := row[g.ID].(string)
			class, ok := classByZH[v]
			if !ok {
				d.add(path+"."+g.ID, "row "+zh, g.ID, "%q is not a level name", v)
				continue
			}
			ref.cells[[2]string{obj, g.ID}] = Cell{Object: obj, Degree: g.ID, Class: class, Unverified: unverified, Row: i}
		}
	}
	for _, o := range ref.Objects {
		if !rows[o.ID] {
			d.add("$.decision_table.rows", "", "rows", "no row for %s (%s)", o.ZH, o.ID)
		}
	}

	for i, fr := range f.FloorRules.Rules {
		lv, err := ParseLevel(fr.MinSublevel)
		if err != nil || lv.Class() != "general" {
			d.add(fmt.Sprintf("$.general_data_floor_rules.rules[%d].min_sublevel", i), "floor rule "+fr.Data, "min_sublevel", "%q is not a general-data sub-level", fr.MinSublevel)
			continue
		}
		ref.FloorRules = append(ref.FloorRules, FloorRule{Data: fr.Data, Min: lv})
	}
	ref.FloorRulesUnverified = f.FloorRules.Unverified

	okFlag := func(s string) bool { return s == "yes" || s == "no" || s == "conditional" }
	for i, c := range f.PI.Categories {
		path := fmt.Sprintf("$.personal_information_categories.categories[%d]", i)
		if !okFlag(c.Sensitive) {
			d.add(path+".sensitive", "category "+c.Category, "sensitive", "%q; want yes, no or conditional", c.Sensitive)
		}
		pc := PICategory{Name: strings.TrimSpace(c.Category), Sensitive: c.Sensitive}
		for j, s := range c.Subcategories {
			if s.Sensitive != "" && !okFlag(s.Sensitive) {
				d.add(fmt.Sprintf("%s.subcategories[%d].sensitive", path, j), "category "+c.Category, "sensitive", "%q; want yes, no or conditional", s.Sensitive)
			}
			pc.Subcategories = append(pc.Subcategories, PISubcategory{Name: s.Name, Sensitive: s.Sensitive})
		}
		ref.PI = append(ref.PI, pc)
	}
	if len(ref.PI) == 0 {
		d.add("$.personal_information_categories", "", "categories", "missing")
	}
	ref.PIPLSensitive = f.SensitivePI.PIPL.Categories
	if err := d.err(); err != nil {
		return nil, err
	}
	return ref, nil
}
