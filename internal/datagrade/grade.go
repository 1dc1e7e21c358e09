package datagrade

import (
	"fmt"
	"slices"
	"strings"
)

// Assessment is the grade of one store under GB/T 43697-2024, with the
// grade of each table and every step of the reasoning.
type Assessment struct {
	Store Store `json:"store"`
	// Level is the store's grade: the highest of its tables' grades and
	// of store-wide catalogue entries (就高从严).
	Level Level `json:"level"`
	// Categories are the ids of the graded categories found anywhere in
	// the store, in catalogue order.
	Categories []string `json:"categories"`
	// PICategories are the Appendix B categories among them.
	PICategories []string `json:"pi_categories"`
	// SensitivePI reports sensitive personal information.
	SensitivePI bool `json:"sensitive_pi"`
	// Records sums the tables' records with personal information;
	// Individuals and SensitiveIndividuals are the largest table's
	// estimates (tables of one store usually describe the same people, so
	// they are not added up).
	Records              int64        `json:"records"`
	Individuals          int64        `json:"individuals"`
	SensitiveIndividuals int64        `json:"sensitive_individuals"`
	Tables               []TableGrade `json:"tables"`
	// Steps is the store-level reasoning; each table has its own.
	Steps []Step `json:"steps"`
	// Unverified reports that every step that yields the store's level
	// rests on a reference item marked unverified (or on a floor rule).
	Unverified bool `json:"unverified"`
	// Policy names the grading policy; Catalogues the catalogues applied.
	Policy     string   `json:"policy"`
	Catalogues []string `json:"catalogues,omitempty"`
	// Scan is the scan result graded.
	Scan *Result `json:"-"`

	ref  *Reference // what the grader used, for Finding
	cats *Categories
}

// TableGrade is the grade of one table, file or object.
type TableGrade struct {
	Table                string   `json:"table"`
	Kind                 string   `json:"kind"`
	Level                Level    `json:"level"`
	Categories           []string `json:"categories"`
	SensitivePI          bool     `json:"sensitive_pi"`
	Records              int64    `json:"records"`
	Individuals          int64    `json:"individuals"`
	SensitiveIndividuals int64    `json:"sensitive_individuals"`
	Steps                []Step   `json:"steps"`
}

// Step is one step of the grading reasoning.
type Step struct {
	// Rule is "categories", "impact", "scale", "decision", "sublevel",
	// "floor", "catalogue", "unclassified" or "combine".
	Rule string `json:"rule"`
	// Detail says what was found or decided, in words.
	Detail string `json:"detail"`
	// Level is the level the step yields (for floor rules, the minimum);
	// LevelUnknown for steps that only record facts.
	Level Level `json:"level,omitempty"`
	// Source says where the rule comes from: a path in the reference, the
	// policy file and entry, or a catalogue entry.
	Source string `json:"source"`
	// Unverified reports that the source is marked unverified in the
	// reference.
	Unverified bool `json:"unverified,omitempty"`
}

// GraderOptions configures a [Grader]. The zero value grades with the
// embedded reference, categories and default policy, and no catalogue.
type GraderOptions struct {
	Reference  *Reference
	Categories *Categories
	Policy     *Policy
	Catalogues []*Catalogue
}

// Grader grades scan results. It is read-only and safe for concurrent use.
type Grader struct {
	ref        *Reference
	cats       *Categories
	policy     *Policy
	catalogues []*Catalogue
	floors     []floorRule
}

// floorRule is a reference floor rule with the test that applies it.
type floorRule struct {
	FloorRule
	index int
	test  func(g *Grader, hits []Hit) bool // nil: the scanner cannot recognise the data
}

// floorTests maps the reference's floor-rule wording to what the scanner
// can see. A wording the package does not know fails NewGrader, so a
// change of the reference is noticed.
var floorTests = map[string]func(g *Grader, hits []Hit) bool{
	"sensitive personal information": func(g *Grader, hits []Hit) bool {
		return slices.ContainsFunc(hits, func(h Hit) bool { return g.class(h.Category) == ClassSensitivePI })
	},
	"general personal information": func(g *Grader, hits []Hit) bool {
		return slices.ContainsFunc(hits, func(h Hit) bool {
			c := g.class(h.Category)
			return c == ClassGeneralPI || c == ClassSensitivePI
		})
	},
	"de-identified personal information": nil,
	"personal label / profiling data": func(g *Grader, hits []Hit) bool {
		return slices.ContainsFunc(hits, func(h Hit) bool {
			c, _ := g.cats.Get(h.Category)
			return c != nil && c.PICategory == "个人标签信息"
		})
	},
}

// NewGrader returns a Grader; opts' zero fields take the embedded defaults.
func NewGrader(opts GraderOptions) (*Grader, error) {
	g := &Grader{ref: opts.Reference, cats: opts.Categories, policy: opts.Policy, catalogues: opts.Catalogues}
	if g.ref == nil {
		g.ref = BuiltinReference()
	}
	if g.cats == nil {
		g.cats = BuiltinCategories()
	}
	if g.policy == nil {
		g.policy = DefaultPolicy()
	}
	for i, fr := range g.ref.FloorRules {
		test, ok := floorTests[fr.Data]
		if !ok {
			return nil, fmt.Errorf("datagrade: reference floor rule %q is not known to the grader", fr.Data)
		}
		g.floors = append(g.floors, floorRule{FloorRule: fr, index: i, test: test})
	}
	return g, nil
}

// class returns a category's data class under the policy's overrides.
func (g *Grader) class(id string) string {
	c, ok := g.cats.Get(id)
	if !ok {
		return ""
	}
	if s, ok := g.policy.SensitiveOverride[id]; ok && c.IsPI() {
		if s {
			return ClassSensitivePI
		}
		return ClassGeneralPI
	}
	return c.Class()
}

// levelFor applies the decision table (with the policy's overrides) and,
// for general data, the sub-level triggers. It returns the level and the
// steps that decided it.
func (g *Grader) levelFor(object, degree string) (Level, []Step) {
	obj, _ := g.ref.Object(object)
	deg, _ := g.ref.Degree(degree)
	if degree == g.ref.NoHarm.ID {
		for _, s := range g.ref.Sublevels {
			if s.Degree == degree {
				return s.Level, []Step{{Rule: "sublevel", Level: s.Level, Unverified: s.Unverified,
					Detail: fmt.Sprintf("%s: no harm → %s", obj.ZH, s.Level.ZH()), Source: g.ref.Standard + " levels[general].sublevels (" + s.Level.String() + ")"}}
			}
		}
		return g.policy.unclassified, nil
	}
	cell, _ := g.ref.Cell(object, degree)
	class := cell.Class
	step := Step{Rule: "decision", Unverified: cell.Unverified,
		Source: fmt.Sprintf("%s decision_table.rows[%d] (%s × %s)", g.ref.Standard, cell.Row, obj.ZH, deg.ZH)}
	for i, o := range g.policy.DecisionOverrides {
		if o.AffectedObject == object && o.Impact == degree {
			class = o.Level
			step.Unverified = false
			step.Source = fmt.Sprintf("%s decision_overrides[%d], replacing %s", g.policy.name, i, step.Source)
		}
	}
	var lvl Level
	switch class {
	case "core":
		lvl = LevelCore
	case "important":
		lvl = LevelImportant
	}
	if lvl != LevelUnknown {
		step.Level = lvl
		step.Detail = fmt.Sprintf("%s harmed %s → %s", obj.ZH, deg.ZH, lvl.ZH())
		return lvl, []Step{step}
	}
	step.Detail = fmt.Sprintf("%s harmed %s → 一般数据", obj.ZH, deg.ZH)
	steps := []Step{step}
	// Sub-level: the trigger naming this object and degree; the
	// reference's triggers name only 组织权益 and 个人权益, so for other
	// objects the degree alone decides.
	var pick *Sublevel
	for i := range g.ref.Sublevels {
		s := &g.ref.Sublevels[i]
		if s.Degree == degree && slices.Contains(s.Objects, object) {
			pick = s
			break
		}
	}
	note := ""
	if pick == nil {
		for i := range g.ref.Sublevels {
			if g.ref.Sublevels[i].Degree == degree {
				pick = &g.ref.Sublevels[i]
				note = " (the reference's trigger names 组织权益/个人权益; matched by impact degree)"
				break
			}
		}
	}
	if pick == nil {
		return g.policy.unclassified, steps
	}
	steps = append(steps, Step{Rule: "sublevel", Level: pick.Level, Unverified: pick.Unverified,
		Detail: fmt.Sprintf("一般数据 with %s %s → %s%s", obj.ZH, deg.ZH, pick.Level.ZH(), note),
		Source: g.ref.Standard + " levels[general].sublevels (" + pick.Level.String() + ")"})
	return pick.Level, steps
}

// Grade grades a scan result.
func (g *Grader) Grade(res *Result) *Assessment {
	a := &Assessment{Store: res.Store, Scan: res, Policy: g.policy.name, Level: LevelUnknown, ref: g.ref, cats: g.cats}
	for _, c := range g.catalogues {
		a.Catalogues = append(a.Catalogues, c.Name)
	}
	seen := map[string]bool{}
	for i := range res.Tables {
		tg := g.gradeTable(res.Store, &res.Tables[i])
		a.Tables = append(a.Tables, tg)
		for _, c := range tg.Categories {
			seen[c] = true
		}
		a.SensitivePI = a.SensitivePI || tg.SensitivePI
		a.Records += tg.Records
		a.Individuals = max(a.Individuals, tg.Individuals)
		a.SensitiveIndividuals = max(a.SensitiveIndividuals, tg.SensitiveIndividuals)
	}
	pis := map[string]bool{}
	for _, c := range g.cats.list {
		if seen[c.ID] {
			a.Categories = append(a.Categories, c.ID)
			if c.IsPI() && !pis[c.PICategory] {
				pis[c.PICategory] = true
				a.PICategories = append(a.PICategories, c.PICategory)
			}
		}
	}
	// Store-wide catalogue entries.
	for _, cat := range g.catalogues {
		for _, e := range cat.Entries {
			if e.storeOnly() && e.matchesStore(res.Store) {
				a.Steps = append(a.Steps, Step{Rule: "catalogue", Level: e.Level,
					Detail: fmt.Sprintf("store designated %s by %q: %s", e.Level.ZH(), e.Name, e.Reason),
					Source: fmt.Sprintf("catalogue %q (%s) entry %s", cat.Name, cat.file, e.ID)})
			}
		}
	}
	// Combine: the highest level of the tables and store entries.
	var best Level
	var decisive []Step
	for _, t := range a.Tables {
		if t.Level > best {
			best = t.Level
		}
	}
	for _, s := range a.Steps {
		best = max(best, s.Level)
	}
	var from []string
	for _, t := range a.Tables {
		if t.Level == best {
			from = append(from, t.Table)
			for _, s := range t.Steps {
				if s.Level == best && s.Rule != "combine" {
					decisive = append(decisive, s)
				}
			}
		}
	}
	for _, s := range a.Steps {
		if s.Level == best {
			decisive = append(decisive, s)
			from = append(from, "catalogue")
		}
	}
	if best == LevelUnknown {
		best = g.policy.unclassified
		a.Steps = append(a.Steps, Step{Rule: "unclassified", Level: best,
			Detail: "no table was read: the policy's level for unclassified data", Source: g.policySource("unclassified_level")})
	}
	a.Level = best
	a.Steps = append(a.Steps, Step{Rule: "combine", Level: best,
		Detail: fmt.Sprintf("store takes the highest level of its tables and designations (就高从严): %s from %s", best.ZH(), strings.Join(from, ", ")),
		Source: g.ref.Standard + " principles (就高从严); comprehensive_determination"})
	a.Unverified = len(decisive) > 0 && !slices.ContainsFunc(decisive, func(s Step) bool { return !s.Unverified })
	return a
}

// gradeTable grades one table.
func (g *Grader) gradeTable(store Store, t *TableResult) TableGrade {
	tg := TableGrade{Table: t.Name, Kind: t.Kind, Records: t.Records, Individuals: t.Individuals, SensitiveIndividuals: t.SensitiveIndividuals}
	var graded []Hit
	for _, h := range t.Hits {
		if h.Confidence >= g.policy.MinConfidence {
			graded = append(graded, h)
		}
	}
	// Categories by data class, in catalogue order.
	byClass := map[string][]string{}
	var classes []string
	present := map[string][]string{} // category → columns
	for _, h := range graded {
		present[h.Category] = append(present[h.Category], h.Column)
	}
	for _, c := range g.cats.list {
		cols, ok := present[c.ID]
		if !ok {
			continue
		}
		tg.Categories = append(tg.Categories, c.ID)
		cl := g.class(c.ID)
		if _, ok := byClass[cl]; !ok {
			classes = append(classes, cl)
		}
		byClass[cl] = append(byClass[cl], fmt.Sprintf("%s in %s", c.ID, strings.Join(cols, ", ")))
		tg.SensitivePI = tg.SensitivePI || cl == ClassSensitivePI
	}
	switch {
	case !tg.SensitivePI:
		tg.SensitiveIndividuals = 0
	case tg.SensitiveIndividuals == 0:
		// sensitive only through the policy's sensitive_overrides: the
		// scanner did not count these people apart, so take them all
		tg.SensitiveIndividuals = tg.Individuals
	}
	if len(graded) == 0 {
		tg.Records, tg.Individuals = 0, 0
	}
	tg.Steps = append(tg.Steps, Step{Rule: "categories",
		Detail: fmt.Sprintf("%d rows sampled of %d%s; %s; estimated %d records with personal information, %d individuals, %d with sensitive PI",
			t.SampledRows, t.EstimatedRows, exactWord(t.RowsExact), categoriesWord(tg.Categories), tg.Records, tg.Individuals, tg.SensitiveIndividuals),
		Source: fmt.Sprintf("scan (minimum confidence %d, %s)", g.policy.MinConfidence, g.policy.name)})

	var levels []Step
	add := func(steps []Step) {
		tg.Steps = append(tg.Steps, steps...)
		levels = append(levels, steps...)
	}
	// Impact of each data class present.
	for _, cl := range classes {
		im := g.policy.impactByClass[cl]
		obj, _ := g.ref.Object(im.AffectedObject)
		deg, _ := g.ref.Degree(im.Impact)
		tg.Steps = append(tg.Steps, Step{Rule: "impact",
			Detail: fmt.Sprintf("%s (%s): leak, tampering or loss harms %s, %s", cl, strings.Join(byClass[cl], "; "), obj.ZH, deg.ZH),
			Source: g.policySource("impacts[" + cl + "]")})
		_, steps := g.levelFor(im.AffectedObject, im.Impact)
		add(steps)
	}
	// Volume rules.
	for _, s := range g.policy.ScaleRules {
		if !scaleHolds(s, tg) {
			continue
		}
		obj, _ := g.ref.Object(s.AffectedObject)
		deg, _ := g.ref.Degree(s.Impact)
		tg.Steps = append(tg.Steps, Step{Rule: "scale",
			Detail: fmt.Sprintf("%s (estimated %d individuals, %d with sensitive PI, %d records): harm reaches %s, %s", s.Desc, tg.Individuals, tg.SensitiveIndividuals, tg.Records, obj.ZH, deg.ZH),
			Source: g.policySource("scale_rules[" + s.ID + "]")})
		_, steps := g.levelFor(s.AffectedObject, s.Impact)
		add(steps)
	}
	// Floor rules of the reference.
	if g.policy.FloorRules {
		for _, f := range g.floors {
			src := fmt.Sprintf("%s general_data_floor_rules.rules[%d]", g.ref.Standard, f.index)
			if f.test == nil {
				continue // the scanner cannot recognise such data
			}
			if f.test(g, graded) {
				add([]Step{{Rule: "floor", Level: f.Min, Unverified: g.ref.FloorRulesUnverified,
					Detail: fmt.Sprintf("%s present: at least %s", f.Data, f.Min.ZH()), Source: src}})
			}
		}
	}
	// Catalogue designations.
	for _, cat := range g.catalogues {
		for i := range cat.Entries {
			e := &cat.Entries[i]
			if e.matchesTable(store, t, graded) {
				add([]Step{{Rule: "catalogue", Level: e.Level,
					Detail: fmt.Sprintf("designated %s by %q: %s", e.Level.ZH(), e.Name, e.Reason),
					Source: fmt.Sprintf("catalogue %q (%s) entry %s", cat.Name, cat.file, e.ID)}})
			}
		}
	}
	best := LevelUnknown
	for _, s := range levels {
		best = max(best, s.Level)
	}
	if best == LevelUnknown {
		best = g.policy.unclassified
		tg.Steps = append(tg.Steps, Step{Rule: "unclassified", Level: best,
			Detail: "no graded category and no designation: the policy's level for unclassified data",
			Source: g.policySource("unclassified_level")})
	} else {
		tg.Steps = append(tg.Steps, Step{Rule: "combine", Level: best,
			Detail: "table takes the highest level of the steps above (就高从严): " + best.ZH(),
			Source: g.ref.Standard + " principles (就高从严)"})
	}
	tg.Level = best
	return tg
}

// policySource names a part of the policy, noting when it is the
// project's default rather than the operator's file.
func (g *Grader) policySource(part string) string {
	if g.policy.name == PolicyFile {
		return "policy " + part + " (project default, " + PolicyFile + ")"
	}
	return "policy " + part + " (" + g.policy.name + ")"
}

func scaleHolds(s ScaleRule, t TableGrade) bool {
	if s.IndividualsAtLeast > 0 && t.Individuals < s.IndividualsAtLeast {
		return false
	}
	if s.SensitiveIndividualsAtLeast > 0 && t.SensitiveIndividuals < s.SensitiveIndividualsAtLeast {
		return false
	}
	if s.RecordsAtLeast > 0 && t.Records < s.RecordsAtLeast {
		return false
	}
	return true
}

func exactWord(exact bool) string {
	if exact {
		return " (counted)"
	}
	return " (estimated from statistics or bytes read)"
}

func categoriesWord(c []string) string {
	if len(c) == 0 {
		return "no graded category"
	}
	return "categories " + strings.Join(c, ", ")
}
