package posture

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
)

// PackFile is the name of a pack's description file in its folder.
const PackFile = "pack.yaml"

// ReferenceDir is the folder, beside the pack folders, holding the
// reference files packs are built from.
const ReferenceDir = "reference"

// Pack is a rule pack for one framework: a folder <pack id>/ holding
// pack.yaml (this struct) and rule files. Its controls come from a
// reference file, never typed into the pack; its rules are every loaded
// rule that maps to the pack in its frameworks (wherever the rule file
// lives, so one rule can serve several packs).
type Pack struct {
	// ID names the pack in rules' frameworks and in canonical controls,
	// e.g. "cis-aws-3.0"; it is the folder name.
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Framework is the standard the pack checks.
	Framework Framework `yaml:"framework" json:"framework"`
	// Description says what the pack covers and how.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Providers are the providers the pack's rules check.
	Providers []string `yaml:"providers" json:"providers"`
	// Reference names the reference file of the pack's controls.
	Reference Reference `yaml:"reference" json:"reference"`
	// Manual lists the controls checked by people, with their evidence
	// task. A control may also have rules: the task then asks for what
	// the rules cannot see.
	Manual []ManualControl `yaml:"manual,omitempty" json:"manual,omitempty"`
	// NotExpressible lists the controls that are automatable in principle
	// but that inventory data cannot express, with the reason.
	NotExpressible []NotExpressible `yaml:"not_expressible,omitempty" json:"not_expressible,omitempty"`

	// Controls are the reference controls, in the reference's order.
	Controls []ReferenceControl `yaml:"-" json:"controls"`
	// Rules are the rules that map to the pack, sorted by id.
	Rules []*Rule `yaml:"-" json:"-"`
	// Dir is the pack's folder in the file system it was loaded from.
	Dir string `yaml:"-" json:"-"`
}

// Framework names a standard and its version.
type Framework struct {
	Name    string `yaml:"name" json:"name"`
	Version string `yaml:"version" json:"version"`
}

// Reference says where a pack's controls come from.
type Reference struct {
	// File is the reference file in the reference folder, e.g. "cis-aws.yaml".
	File string `yaml:"file" json:"file"`
	// Format is "cis" (versions[].controls[]) or "mlps" (controls[].items[]).
	Format string `yaml:"format" json:"format"`
	// Version selects versions[].version of a cis reference.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// Level selects the protection level of an mlps reference (2, 3 or 4).
	Level int `yaml:"level,omitempty" json:"level,omitempty"`
}

// ManualControl is a control checked by people: the evidence to collect
// and who is responsible for it.
type ManualControl struct {
	Control ControlID `yaml:"control" json:"control"`
	// Evidence says what to upload as evidence.
	Evidence string `yaml:"evidence" json:"evidence"`
	// Responsible is provider, customer or shared; default: the reference
	// control's typical owner, else customer.
	Responsible string `yaml:"responsible,omitempty" json:"responsible"`
}

// NotExpressible is a control inventory data cannot express.
type NotExpressible struct {
	Control ControlID `yaml:"control" json:"control"`
	Reason  string    `yaml:"reason" json:"reason"`
}

// ReferenceControl is one control of a reference file.
type ReferenceControl struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Section string `json:"section,omitempty"`
	// Level is the CIS profile level (1 or 2); 0 for MLPS.
	Level int `json:"level,omitempty"`
	// Assessment is the CIS assessment status, automated or manual; "" for
	// MLPS.
	Assessment string `json:"assessment,omitempty"`
	// Hint says what the control looks at (CIS references).
	Hint string `json:"hint,omitempty"`
	// Owner is the typical owner, provider, customer or shared (MLPS
	// references).
	Owner string `json:"owner,omitempty"`
	// TitleZH is the Chinese name of the standard's control the item
	// belongs to, e.g. "基础设施位置" (MLPS references; "" for CIS).
	TitleZH string `json:"title_zh,omitempty"`
	// Category is the top-level grouping of the control with its clause,
	// e.g. "8.2.1 Physical environment" (MLPS references; CIS sections are
	// already top-level, so "" there); CategoryZH is its Chinese name,
	// e.g. "安全物理环境".
	Category   string `json:"category,omitempty"`
	CategoryZH string `json:"category_zh,omitempty"`
}

// Packs is a loaded set of packs and their rules. It is immutable.
type Packs struct {
	packs []*Pack
	byID  map[string]*Pack
	rules []*Rule
}

// List returns the packs sorted by id.
func (ps *Packs) List() []*Pack { return ps.packs }

// Pack returns the pack with the given id, or nil.
func (ps *Packs) Pack(id string) *Pack { return ps.byID[id] }

// Rules returns every rule of every pack folder, sorted by id.
func (ps *Packs) Rules() []*Rule { return ps.rules }

// RuleSet returns the rules of the named packs (all rules when ids is
// empty) as a rule set. A rule that maps to several of them is included
// once.
func (ps *Packs) RuleSet(ids ...string) (*RuleSet, error) {
	if len(ids) == 0 {
		return NewRuleSet(ps.rules...)
	}
	var rules []*Rule
	for _, id := range ids {
		p := ps.byID[id]
		if p == nil {
			return nil, fmt.Errorf("posture: no pack %q (have %s)", id, strings.Join(sortedKeys(ps.byID), ", "))
		}
		for _, r := range p.Rules {
			if !slices.Contains(rules, r) {
				rules = append(rules, r)
			}
		}
	}
	return NewRuleSet(rules...)
}

// builtinPacks are the embedded packs, loaded and compiled once.
var builtinPacks = sync.OnceValues(func() (*Packs, error) { return LoadPacks(PacksFS()) })

// BuiltinPacks returns the embedded packs (CIS AWS 3.0, MLPS 2.0 level 3
// cloud extension, and the others under packs/), loaded on first use.
func BuiltinPacks() (*Packs, error) { return builtinPacks() }

// LoadPacks loads every pack of fsys: each folder <id>/ holding a
// pack.yaml, its controls read from reference/<file>, and the rule files
// of all pack folders (see [LoadDir]). It checks that every control a rule,
// a manual entry or a not-expressible entry names exists in the pack's
// reference, that a rule naming an unknown pack is an error, and that
// rule ids are unique across folders.
func LoadPacks(fsys fs.FS) (*Packs, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("posture: packs: %w", err)
	}
	ps := &Packs{byID: map[string]*Pack{}}
	var errs []*RuleError
	for _, de := range entries {
		if !de.IsDir() || de.Name() == ReferenceDir {
			continue
		}
		file := path.Join(de.Name(), PackFile)
		data, err := readLimited(fsys, file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, &RuleError{File: file, Err: err})
			continue
		}
		p, perrs := parsePack(fsys, file, data)
		errs = append(errs, perrs...)
		if p == nil {
			continue
		}
		if p.ID != de.Name() {
			errs = append(errs, &RuleError{File: file, Field: "id", Err: fmt.Errorf("%q: must be the folder name %q", p.ID, de.Name())})
			continue
		}
		p.Dir = de.Name()
		ps.byID[p.ID] = p
		ps.packs = append(ps.packs, p)
		rules, err := LoadDir(fsys, de.Name())
		ps.rules = append(ps.rules, rules...)
		errs = append(errs, ruleErrors(err)...)
	}
	errs = append(errs, duplicateIDs(ps.rules)...)
	slices.SortFunc(ps.rules, func(a, b *Rule) int { return strings.Compare(a.ID, b.ID) })
	for _, r := range ps.rules {
		for _, id := range sortedKeys(r.Frameworks) {
			p := ps.byID[id]
			if p == nil {
				errs = append(errs, &RuleError{File: r.File, Line: r.Line, RuleID: r.ID, Field: "frameworks",
					Err: fmt.Errorf("%q: no such pack (have %s)", id, strings.Join(sortedKeys(ps.byID), ", "))})
				continue
			}
			for _, c := range r.Frameworks[id] {
				if p.control(c) == nil {
					errs = append(errs, &RuleError{File: r.File, Line: r.Line, RuleID: r.ID, Field: "frameworks." + id,
						Err: fmt.Errorf("control %q: not in %s", c, p.Reference.File)})
				}
			}
			p.Rules = append(p.Rules, r)
		}
	}
	if err := joinRuleErrors(errs); err != nil {
		return nil, err
	}
	return ps, nil
}

// control returns the reference control with the given id, or nil.
func (p *Pack) control(id string) *ReferenceControl {
	for i := range p.Controls {
		if p.Controls[i].ID == id {
			return &p.Controls[i]
		}
	}
	return nil
}

func parsePack(fsys fs.FS, file string, data []byte) (*Pack, []*RuleError) {
	p := &Pack{}
	if err := yaml.UnmarshalWithOptions(data, p, yaml.Strict()); err != nil {
		return nil, []*RuleError{yamlError(file, "", "", err)}
	}
	var errs []*RuleError
	add := func(field string, err error) {
		errs = append(errs, &RuleError{File: file, Field: field, Err: err})
	}
	if !packIDRE.MatchString(p.ID) {
		add("id", fmt.Errorf("%q: not a pack id", p.ID))
	}
	if p.Title == "" {
		add("title", errors.New("missing"))
	}
	if p.Framework.Name == "" || p.Framework.Version == "" {
		add("framework", errors.New("name and version are required"))
	}
	if len(p.Providers) == 0 {
		add("providers", errors.New("missing"))
	}
	controls, err := loadReference(fsys, p.Reference)
	if err != nil {
		add("reference", err)
		return nil, errs
	}
	p.Controls = controls
	seen := map[string]string{}
	for i, m := range p.Manual {
		f := fmt.Sprintf("manual[%d]", i)
		c := p.control(string(m.Control))
		switch {
		case c == nil:
			add(f+".control", fmt.Errorf("%q: not in %s", m.Control, p.Reference.File))
		case seen[string(m.Control)] != "":
			add(f+".control", fmt.Errorf("%q: also listed under %s", m.Control, seen[string(m.Control)]))
		}
		seen[string(m.Control)] = "manual"
		if strings.TrimSpace(m.Evidence) == "" {
			add(f+".evidence", errors.New("missing"))
		}
		if m.Responsible == "" && c != nil {
			p.Manual[i].Responsible = c.Owner
		}
		if p.Manual[i].Responsible == "" {
			p.Manual[i].Responsible = "customer"
		}
		switch p.Manual[i].Responsible {
		case "provider", "customer", "shared":
		default:
			add(f+".responsible", fmt.Errorf("%q: want provider, customer or shared", m.Responsible))
		}
	}
	for i, n := range p.NotExpressible {
		f := fmt.Sprintf("not_expressible[%d]", i)
		switch {
		case p.control(string(n.Control)) == nil:
			add(f+".control", fmt.Errorf("%q: not in %s", n.Control, p.Reference.File))
		case seen[string(n.Control)] != "":
			add(f+".control", fmt.Errorf("%q: also listed under %s", n.Control, seen[string(n.Control)]))
		}
		seen[string(n.Control)] = "not_expressible"
		if strings.TrimSpace(n.Reason) == "" {
			add(f+".reason", errors.New("missing"))
		}
	}
	return p, errs
}

// loadReference reads a pack's controls from its reference file.
func loadReference(fsys fs.FS, ref Reference) ([]ReferenceControl, error) {
	if ref.File == "" || strings.ContainsAny(ref.File, `/\`) {
		return nil, fmt.Errorf("file %q: want a file name in %s/", ref.File, ReferenceDir)
	}
	file := path.Join(ReferenceDir, ref.File)
	data, err := readLimited(fsys, file)
	if err != nil {
		return nil, err
	}
	var out []ReferenceControl
	switch ref.Format {
	case "cis":
		var doc struct {
			Versions []struct {
				Version  string `yaml:"version"`
				Controls []struct {
					ID         string `yaml:"id"`
					Title      string `yaml:"title"`
					Section    string `yaml:"section"`
					Level      int    `yaml:"level"`
					Assessment string `yaml:"assessment"`
					Hint       string `yaml:"hint"`
				} `yaml:"controls"`
			} `yaml:"versions"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, v := range doc.Versions {
			if v.Version != ref.Version {
				continue
			}
			for _, c := range v.Controls {
				out = append(out, ReferenceControl{ID: c.ID, Title: c.Title, Section: c.Section, Level: c.Level, Assessment: c.Assessment, Hint: c.Hint})
			}
		}
		if out == nil {
			return nil, fmt.Errorf("%s: no controls of version %q", file, ref.Version)
		}
	case "mlps":
		var doc struct {
			Controls []struct {
				Clause     string `yaml:"clause"`
				CategoryEN string `yaml:"category_en"`
				CategoryZH string `yaml:"category_zh"`
				ControlEN  string `yaml:"control_en"`
				ControlZH  string `yaml:"control_zh"`
				Items      []struct {
					Item       string          `yaml:"item"`
					TestUnitID string          `yaml:"test_unit_id"`
					Summary    string          `yaml:"summary_en"`
					Levels     map[string]bool `yaml:"levels"`
					Owner      string          `yaml:"typical_owner"`
				} `yaml:"items"`
			} `yaml:"controls"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		level := ref.Level
		if level == 0 {
			level = 3
		}
		for _, c := range doc.Controls {
			category := c.CategoryEN
			if i := strings.LastIndexByte(c.Clause, '.'); i > 0 {
				category = c.Clause[:i] + " " + c.CategoryEN
			}
			for _, it := range c.Items {
				if !it.Levels[fmt.Sprintf("level%d", level)] {
					continue
				}
				out = append(out, ReferenceControl{ID: it.TestUnitID, Title: it.Summary,
					Section: c.Clause + " " + c.ControlEN + " " + it.Item + ")", Owner: it.Owner,
					TitleZH: c.ControlZH, Category: category, CategoryZH: c.CategoryZH})
			}
		}
		if out == nil {
			return nil, fmt.Errorf("%s: no level-%d items", file, level)
		}
	default:
		return nil, fmt.Errorf("format %q: want cis or mlps", ref.Format)
	}
	return out, nil
}

// packHeaders are the id, framework name and version of the embedded
// packs, read without compiling rules (for [StandardName]).
var packHeaders = sync.OnceValue(func() map[string]Framework {
	out := map[string]Framework{}
	entries, _ := fs.ReadDir(packsFS, "packs")
	for _, de := range entries {
		data, err := packsFS.ReadFile(path.Join("packs", de.Name(), PackFile))
		if err != nil {
			continue
		}
		var h struct {
			ID        string    `yaml:"id"`
			Framework Framework `yaml:"framework"`
		}
		if yaml.Unmarshal(data, &h) == nil && h.ID != "" {
			out[h.ID] = h.Framework
		}
	}
	return out
})

// StandardName returns the name of the standard a built-in pack checks,
// e.g. "CIS Amazon Web Services Foundations Benchmark v3.0.0" for
// "cis-aws-3.0"; for other pack ids, the id itself.
func StandardName(packID string) string {
	if f, ok := packHeaders()[packID]; ok && f.Name != "" {
		return f.Name + " v" + f.Version
	}
	return packID
}
