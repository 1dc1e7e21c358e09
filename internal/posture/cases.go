package posture

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// CasesFile is the name of a pack's test cases, in its testdata folder.
const CasesFile = "testdata/cases.yaml"

// Case is one test case of a rule: resources and the expected outcome on
// the checked resource.
type Case struct {
	// Rule is the id of the rule under test.
	Rule string `yaml:"rule"`
	// Name describes the case.
	Name string `yaml:"name,omitempty"`
	// Expect is pass, fail, error or skip (the rule's when excludes the
	// resource, so it gives no result).
	Expect string `yaml:"expect"`
	// Resources are the inventory of the case. For a resource-scope rule
	// the first one is the checked resource; the others are there for
	// lookups. For an account-scope rule the checked resource is the
	// account (an AWS::::Account-style resource among them, or none).
	// Empty provider, account and region take the file's defaults; an
	// empty uid becomes "<type>/<case>/<n>".
	Resources []*inventory.Resource `yaml:"resources"`
	// Line is the case's line in its file.
	Line int `yaml:"-"`
}

// CaseDefaults are the defaults of a cases file.
type CaseDefaults struct {
	Provider string `yaml:"provider"`
	Account  string `yaml:"account"`
	Region   string `yaml:"region"`
	// Now is the scan time of every case (default 2025-01-01T00:00:00Z), so
	// that age checks give the same result every day.
	Now time.Time `yaml:"now"`
}

// CaseSet is a parsed cases file.
type CaseSet struct {
	File     string       `yaml:"-"`
	Defaults CaseDefaults `yaml:"defaults"`
	// Now, at the top level, is the same as defaults.now (either may be
	// used; defaults.now wins).
	Now   time.Time `yaml:"now,omitempty"`
	Cases []Case    `yaml:"cases"`
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	Case *Case
	// Got is pass, fail, error or skip.
	Got string
	// Message is the result's message (failure explanation or error).
	Message string
}

// OK reports whether the case got what it expected.
func (r CaseResult) OK() bool { return r.Got == r.Case.Expect }

// ParseCases reads a cases file.
func ParseCases(file string, data []byte) (*CaseSet, error) {
	cs := &CaseSet{File: file}
	if err := yaml.UnmarshalWithOptions(data, cs, yaml.Strict()); err != nil {
		return nil, yamlError(file, "", "", err)
	}
	if cs.Defaults.Now.IsZero() {
		cs.Defaults.Now = cs.Now
	}
	if cs.Defaults.Now.IsZero() {
		cs.Defaults.Now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	lines := caseLines(data)
	for i := range cs.Cases {
		c := &cs.Cases[i]
		if i < len(lines) {
			c.Line = lines[i]
		}
		switch c.Expect {
		case "pass", "fail", "error", "skip":
		default:
			return nil, &RuleError{File: file, Line: c.Line, RuleID: c.Rule, Field: fmt.Sprintf("cases[%d].expect", i),
				Err: fmt.Errorf("%q: want pass, fail, error or skip", c.Expect)}
		}
		for j, r := range c.Resources {
			if r == nil {
				return nil, &RuleError{File: file, Line: c.Line, RuleID: c.Rule, Field: fmt.Sprintf("cases[%d].resources[%d]", i, j), Err: errors.New("empty")}
			}
			if r.Provider == "" {
				r.Provider = cs.Defaults.Provider
			}
			if r.Account == "" {
				r.Account = cs.Defaults.Account
			}
			if r.Region == "" && r.Type != inventory.AccountType(r.Provider) {
				r.Region = cs.Defaults.Region
			}
			if r.UID == "" {
				r.UID = r.Type + "/" + strconv.Itoa(i+1) + "/" + strconv.Itoa(j+1)
				if r.Type == inventory.AccountType(r.Provider) {
					r.UID = inventory.AccountUID(r.Provider, r.Account)
				}
			}
			r.Attributes = inventory.NormalizeAttributes(r.Attributes)
			if err := r.Validate(); err != nil {
				return nil, &RuleError{File: file, Line: c.Line, RuleID: c.Rule, Field: fmt.Sprintf("cases[%d].resources[%d]", i, j), Err: err}
			}
		}
	}
	return cs, nil
}

// caseLines returns the line of each element of the top-level cases list.
func caseLines(data []byte) []int {
	f, err := parser.ParseBytes(data, 0)
	if err != nil || len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil
	}
	m, ok := unwrapNode(f.Docs[0].Body).(*ast.MappingNode)
	if !ok {
		return nil
	}
	var out []int
	for _, mv := range m.Values {
		if mv.Key.String() != "cases" {
			continue
		}
		if seq, ok := unwrapNode(mv.Value).(*ast.SequenceNode); ok {
			for _, v := range seq.Values {
				out = append(out, v.GetToken().Position.Line)
			}
		}
	}
	return out
}

// RunCase runs one case against the rule it names in rules.
func RunCase(ctx context.Context, rules *RuleSet, c *Case, defaults CaseDefaults) (CaseResult, error) {
	rule := rules.Rule(c.Rule)
	if rule == nil {
		return CaseResult{}, fmt.Errorf("case %q: no rule %q", c.Name, c.Rule)
	}
	one, err := NewRuleSet(rule)
	if err != nil {
		return CaseResult{}, err
	}
	var subject *inventory.Resource
	if rule.Scope != ScopeAccount && len(c.Resources) > 0 {
		subject = c.Resources[0]
	}
	account := defaults.Account
	if len(c.Resources) > 0 {
		account = c.Resources[0].Account
	}
	out := CaseResult{Case: c, Got: "skip"}
	for res, err := range Scan(ctx, one, Resources(c.Resources), ScanOptions{Now: defaults.Now}) {
		if err != nil {
			return out, err
		}
		if subject != nil && res.Resource != subject {
			continue
		}
		if subject == nil && (res.Resource.Account != account || res.Resource.Type != inventory.AccountType(rule.Provider)) {
			continue
		}
		out.Got, out.Message = res.Status.String(), res.Message
	}
	return out, nil
}

// Test runs the test cases each pack ships (<pack>/testdata/cases.yaml)
// against the packs' rules and returns every case's result, in file
// order. A pack without cases contributes nothing.
func (ps *Packs) Test(ctx context.Context, fsys fs.FS) ([]CaseResult, error) {
	rules, err := ps.RuleSet()
	if err != nil {
		return nil, err
	}
	var out []CaseResult
	for _, p := range ps.packs {
		file := path.Join(p.Dir, CasesFile)
		data, err := fs.ReadFile(fsys, file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cs, err := ParseCases(file, data)
		if err != nil {
			return nil, err
		}
		for i := range cs.Cases {
			r, err := RunCase(ctx, rules, &cs.Cases[i], cs.Defaults)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, cs.Cases[i].Line, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}
