package posture

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MaxRuleFileBytes is the largest rule or pack file the loaders read.
const MaxRuleFileBytes = 4 << 20

// ParseRules reads one rule file (a YAML mapping with a "rules" list),
// validates every rule and compiles its CEL expressions. file names the
// file in errors. It returns the rules that are valid and, joined, a
// [*RuleError] for every problem, sorted by position: a caller that gets
// an error should not use the rules.
func ParseRules(file string, data []byte) ([]*Rule, error) {
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("posture: CEL environment: %w", err)
	}
	areas, err := responsibilityAreas()
	if err != nil {
		return nil, err
	}
	rules, errs := parseRules(env, areas, file, data)
	return rules, joinRuleErrors(errs)
}

// LoadDir reads every *.yaml and *.yml file under dir in fsys (recursively,
// in lexical order; files named pack.yaml and directories named testdata
// are skipped) as rule files, and checks that rule ids are unique. Errors
// name the file as its path in fsys.
func LoadDir(fsys fs.FS, dir string) ([]*Rule, error) {
	var rules []*Rule
	var errs []*RuleError
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" && p != dir {
				return fs.SkipDir
			}
			return nil
		}
		if !isYAML(p) || d.Name() == PackFile {
			return nil
		}
		data, err := readLimited(fsys, p)
		if err != nil {
			errs = append(errs, &RuleError{File: p, Err: err})
			return nil
		}
		rs, err := ParseRules(p, data)
		rules = append(rules, rs...)
		errs = append(errs, ruleErrors(err)...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("posture: load rules from %s: %w", dir, err)
	}
	errs = append(errs, duplicateIDs(rules)...)
	return rules, joinRuleErrors(errs)
}

func isYAML(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

func readLimited(fsys fs.FS, p string) ([]byte, error) {
	if st, err := fs.Stat(fsys, p); err == nil && st.Size() > MaxRuleFileBytes {
		return nil, fmt.Errorf("%d bytes: larger than %d", st.Size(), MaxRuleFileBytes)
	}
	return fs.ReadFile(fsys, p)
}

// ruleErrors unpacks what ParseRules returned.
func ruleErrors(err error) []*RuleError {
	if err == nil {
		return nil
	}
	var out []*RuleError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, ruleErrors(e)...)
		}
		return out
	}
	var re *RuleError
	if errors.As(err, &re) {
		return []*RuleError{re}
	}
	return []*RuleError{{Err: err}}
}

func duplicateIDs(rules []*Rule) []*RuleError {
	first := map[string]*Rule{}
	var errs []*RuleError
	for _, r := range rules {
		if f, ok := first[r.ID]; ok {
			errs = append(errs, &RuleError{File: r.File, Line: r.Line, RuleID: r.ID, Field: "id",
				Err: fmt.Errorf("duplicate: also defined at %s:%d", f.File, f.Line)})
			continue
		}
		first[r.ID] = r
	}
	return errs
}

func parseRules(env *cel.Env, areas map[string]bool, file string, data []byte) ([]*Rule, []*RuleError) {
	if len(data) > MaxRuleFileBytes {
		return nil, []*RuleError{{File: file, Err: fmt.Errorf("%d bytes: larger than %d", len(data), MaxRuleFileBytes)}}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, []*RuleError{yamlError(file, "", "", err)}
	}
	var rules []*Rule
	var errs []*RuleError
	for _, doc := range f.Docs {
		if doc.Body == nil {
			continue
		}
		m, ok := unwrapNode(doc.Body).(*ast.MappingNode)
		if !ok {
			errs = append(errs, nodeError(file, "", "", doc.Body, errors.New("a rule file is a mapping with a rules list")))
			continue
		}
		var seq *ast.SequenceNode
		for _, mv := range m.Values {
			switch k := mv.Key.String(); k {
			case "rules":
				s, ok := unwrapNode(mv.Value).(*ast.SequenceNode)
				if !ok {
					if _, null := mv.Value.(*ast.NullNode); !null {
						errs = append(errs, nodeError(file, "", "rules", mv.Value, errors.New("want a list of rules")))
					}
					continue
				}
				seq = s
			default:
				errs = append(errs, nodeError(file, "", k, mv.Key, errors.New("unknown field (a rule file has only rules)")))
			}
		}
		if seq == nil {
			continue
		}
		for _, n := range seq.Values {
			r, es := parseRule(env, areas, file, data, n)
			errs = append(errs, es...)
			if r != nil && len(es) == 0 {
				rules = append(rules, r)
			}
		}
	}
	errs = append(errs, duplicateIDs(rules)...)
	return rules, errs
}

// parseRule decodes, validates and compiles one rule node.
func parseRule(env *cel.Env, areas map[string]bool, file string, data []byte, n ast.Node) (*Rule, []*RuleError) {
	m, ok := unwrapNode(n).(*ast.MappingNode)
	if !ok {
		return nil, []*RuleError{nodeError(file, "", "", n, errors.New("a rule is a mapping"))}
	}
	fields := map[string]*ast.MappingValueNode{}
	for _, mv := range m.Values {
		fields[mv.Key.String()] = mv
	}
	id := ""
	if mv := fields["id"]; mv != nil {
		if s, ok := unwrapNode(mv.Value).(*ast.StringNode); ok {
			id = s.Value
		}
	}
	r := &Rule{}
	if err := yaml.NodeToValue(m, r, yaml.Strict()); err != nil {
		return nil, []*RuleError{yamlError(file, id, "", err)}
	}
	r.File = file
	r.Line = n.GetToken().Position.Line
	if r.Scope == "" {
		r.Scope = ScopeResource
	}
	var errs []*RuleError
	for _, fe := range r.validate(areas) {
		root := fe.field
		if i := strings.IndexAny(root, ".["); i >= 0 {
			root = root[:i]
		}
		at := n
		if mv := fields[root]; mv != nil {
			at = mv.Key
			if mv.Value != nil && root != "id" && strings.ContainsAny(fe.field, ".[") {
				at = mv.Value
			}
		}
		errs = append(errs, nodeError(file, r.ID, fe.field, at, fe.err))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	pos := map[string]exprPos{}
	for _, k := range []string{"when", "check", "message"} {
		if mv := fields[k]; mv != nil && mv.Value != nil {
			pos[k] = scalarPos(data, mv.Value)
		}
	}
	if errs := r.compile(env, pos); len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// scalarPos returns where the text of a scalar value starts in data.
func scalarPos(data []byte, n ast.Node) exprPos {
	if v, ok := n.(*ast.LiteralNode); ok { // | and > block scalars: the text starts on the next line
		line := v.Start.Position.Line + 1
		lines := strings.Split(string(data), "\n")
		for line <= len(lines) && strings.TrimSpace(lines[line-1]) == "" {
			line++
		}
		col := 1
		if line <= len(lines) {
			col = len(lines[line-1]) - len(strings.TrimLeft(lines[line-1], " ")) + 1
		}
		return exprPos{line: line, col: col, block: true}
	}
	tk := n.GetToken()
	if tk == nil {
		return exprPos{}
	}
	col := tk.Position.Column
	if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
		col++
	}
	return exprPos{line: tk.Position.Line, col: col}
}

// unwrapNode skips tags and anchors.
func unwrapNode(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

func nodeError(file, id, field string, n ast.Node, err error) *RuleError {
	e := &RuleError{File: file, RuleID: id, Field: field, Err: err}
	if n != nil {
		if tk := n.GetToken(); tk != nil {
			e.Line, e.Col = tk.Position.Line, tk.Position.Column
		}
	}
	return e
}

// yamlError turns a go-yaml error into a RuleError at its token.
func yamlError(file, id, field string, err error) *RuleError {
	e := &RuleError{File: file, RuleID: id, Field: field, Err: err}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Err = errors.New(ye.GetMessage())
		if tk := ye.GetToken(); tk != nil {
			e.Line, e.Col = tk.Position.Line, tk.Position.Column
		}
	}
	return e
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
