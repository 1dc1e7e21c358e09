package respond

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// DefaultThreshold is the risk score from which a playbook asks for
// approval instead of running on its own, unless it sets its own.
const DefaultThreshold = 40

// MaxPlaybookFileBytes is the largest playbook file the loaders read.
const MaxPlaybookFileBytes = 1 << 20

// Playbook is a response as data: when it applies (Trigger), what it does
// (Steps), when it may act on its own (Approval) and the alternatives it
// offers when it may not (Options). Load playbooks with [ParsePlaybooks],
// [LoadDir] or [Builtin]; a loaded Playbook is read-only.
type Playbook struct {
	// ID identifies the playbook: [a-z0-9][a-z0-9._-]*, unique.
	ID string `yaml:"id" json:"id"`
	// Title says what the playbook does.
	Title string `yaml:"title" json:"title"`
	// Description is free text for people.
	Description string `yaml:"description" json:"description,omitempty"`
	// Trigger is a CEL expression over `record` (a [Record], fields by
	// their JSON names) that must be true for the playbook to apply.
	Trigger string `yaml:"trigger" json:"trigger"`
	// Steps run in order, automatically when the approval rule allows it;
	// when approval is needed and there are no Options, they are the one
	// option offered.
	Steps []Step `yaml:"steps" json:"steps,omitempty"`
	// Approval decides when the playbook may run on its own.
	Approval ApprovalRule `yaml:"approval" json:"approval"`
	// Options are two or three alternatives offered for approval ("isolate
	// the instance", "revoke only the offending rule", "monitor and
	// notify"), each its own list of steps.
	Options []Option `yaml:"options" json:"options,omitempty"`
	// OpenCase opens a case when the playbook asks for approval (the
	// default for incidents) or always ("always"), or never ("never").
	// Values: "" (default), "always", "never".
	OpenCase string `yaml:"open_case" json:"open_case,omitempty"`

	// File and Line say where the playbook was defined.
	File string `yaml:"-" json:"file"`
	Line int    `yaml:"-" json:"line"`

	trigger cel.Program
}

// Step is one action of a playbook.
type Step struct {
	// ID names the step within its list; default: the action's name, with
	// "-2", "-3" … appended when an action appears more than once.
	ID string `yaml:"id" json:"id"`
	// Title says what the step does, for people; default the action name.
	Title string `yaml:"title" json:"title,omitempty"`
	// Action is the name of a registered [Action].
	Action string `yaml:"action" json:"action"`
	// Params are the action's parameters; string values may be
	// text/template templates over the record (see the package
	// documentation).
	Params map[string]any `yaml:"params" json:"params,omitempty"`

	line   int
	params map[string]*paramTemplate
}

// Option is an alternative offered for approval.
type Option struct {
	// ID names the option within its playbook: [a-z0-9][a-z0-9._-]*.
	ID string `yaml:"id" json:"id"`
	// Title and Description say what the option does.
	Title       string `yaml:"title" json:"title"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Steps run in order when the option is approved.
	Steps []Step `yaml:"steps" json:"steps"`
}

// ApprovalRule decides whether a playbook runs on its own.
type ApprovalRule struct {
	// Threshold: a record whose risk is below it may run automatically;
	// at or above it, approval is needed. Default [DefaultThreshold]
	// (or the engine's Options.Threshold). 0 means "always ask"; 101
	// means "never ask because of risk".
	Threshold *int `yaml:"threshold" json:"threshold,omitempty"`
	// MaxAutoDisruption is the highest disruption class an automatic run
	// may cause: if any step's impact is more disruptive, approval is
	// needed whatever the risk. Default low.
	MaxAutoDisruption Disruption `yaml:"max_auto_disruption" json:"max_auto_disruption,omitempty"`
	// Always asks for approval whatever the risk.
	Always bool `yaml:"always" json:"always,omitempty"`
}

// Matches evaluates the playbook's trigger against rec.
func (p *Playbook) Matches(rec Record) (bool, error) {
	if p.trigger == nil {
		return false, fmt.Errorf("playbook %s: not compiled (load it with ParsePlaybooks)", p.ID)
	}
	v, _, err := p.trigger.Eval(map[string]any{"record": rec})
	if err != nil {
		return false, fmt.Errorf("playbook %s: trigger: %w", p.ID, err)
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("playbook %s: trigger: result is %s, not bool", p.ID, v.Type())
	}
	return b, nil
}

// threshold returns the playbook's threshold, or def.
func (p *Playbook) threshold(def int) int {
	if p.Approval.Threshold != nil {
		return *p.Approval.Threshold
	}
	return def
}

func (p *Playbook) maxAuto() Disruption {
	if p.Approval.MaxAutoDisruption == "" {
		return DisruptionLow
	}
	return p.Approval.MaxAutoDisruption
}

// render renders step s's parameters for rec and checks them against
// the action's schema. It returns the untyped rendered values (what runs
// persist) and the typed ones.
func (s *Step) render(rec Record, a Action) (raw Params, typed Params, err error) {
	data := templateData(rec)
	raw = Params{}
	for _, name := range slices.Sorted(maps.Keys(s.params)) {
		v, err := s.params[name].render(data)
		if err != nil {
			return nil, nil, &ParamError{Param: name, Err: err}
		}
		if empty(v) {
			continue // a template that rendered nothing leaves the parameter out
		}
		raw[name] = v
	}
	typed, err = a.Params().Check(raw)
	if err != nil {
		return nil, nil, err
	}
	return raw, typed, nil
}

// empty reports whether a rendered value is "", an empty list or an
// empty mapping.
func empty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ParsePlaybooks reads one playbook file: one playbook per YAML document
// (documents separated by "---"). file names the file in errors. Decoding
// is strict (unknown keys are errors), every field is validated, the
// trigger is compiled against the record type and every step is checked
// against reg: the action must exist, parameters must be known, literal
// parameters must fit the action's schema, templates must parse and read
// only the record's fields. It returns the valid playbooks and every
// problem as a [*PlaybookError], sorted by position, joined: a caller that
// gets an error should not use the playbooks.
func ParsePlaybooks(file string, data []byte, reg *Registry) ([]*Playbook, error) {
	pbs, errs := parsePlaybooks(file, data, reg)
	errs = append(errs, duplicateIDs(pbs)...)
	return pbs, joinPlaybookErrors(errs)
}

// LoadDir reads every *.yaml and *.yml file under dir in fsys (recursively,
// in lexical order, skipping directories named testdata) with
// [ParsePlaybooks], and checks that ids are unique across files.
func LoadDir(fsys fs.FS, dir string, reg *Registry) ([]*Playbook, error) {
	var pbs []*Playbook
	var errs []*PlaybookError
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
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := readLimited(fsys, p)
		if err != nil {
			errs = append(errs, &PlaybookError{File: p, Err: err})
			return nil
		}
		ps, es := parsePlaybooks(p, data, reg)
		pbs = append(pbs, ps...)
		errs = append(errs, es...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("respond: load playbooks from %s: %w", dir, err)
	}
	errs = append(errs, duplicateIDs(pbs)...)
	return pbs, joinPlaybookErrors(errs)
}

func readLimited(fsys fs.FS, p string) ([]byte, error) {
	if st, err := fs.Stat(fsys, p); err == nil && st.Size() > MaxPlaybookFileBytes {
		return nil, fmt.Errorf("%d bytes: larger than %d", st.Size(), MaxPlaybookFileBytes)
	}
	return fs.ReadFile(fsys, p)
}

func duplicateIDs(pbs []*Playbook) []*PlaybookError {
	first := map[string]*Playbook{}
	var errs []*PlaybookError
	for _, p := range pbs {
		if f, ok := first[p.ID]; ok {
			errs = append(errs, &PlaybookError{File: p.File, Line: p.Line, Playbook: p.ID, Field: "id",
				Err: fmt.Errorf("duplicate: also defined at %s:%d", f.File, f.Line)})
			continue
		}
		first[p.ID] = p
	}
	return errs
}

func parsePlaybooks(file string, data []byte, reg *Registry) ([]*Playbook, []*PlaybookError) {
	if len(data) > MaxPlaybookFileBytes {
		return nil, []*PlaybookError{{File: file, Err: fmt.Errorf("%d bytes: larger than %d", len(data), MaxPlaybookFileBytes)}}
	}
	env, err := celEnv()
	if err != nil {
		return nil, []*PlaybookError{{File: file, Err: fmt.Errorf("CEL environment: %w", err)}}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, []*PlaybookError{yamlError(file, "", err)}
	}
	var out []*Playbook
	var errs []*PlaybookError
	for _, doc := range f.Docs {
		if doc.Body == nil {
			continue
		}
		if _, null := doc.Body.(*ast.NullNode); null {
			continue
		}
		p, es := parsePlaybook(env, reg, file, data, doc.Body)
		errs = append(errs, es...)
		if p != nil && len(es) == 0 {
			out = append(out, p)
		}
	}
	return out, errs
}

// loc locates fields of one playbook document for error positions.
type loc struct {
	file, id string
	data     []byte
	root     ast.Node
}

// node returns the node at path (string keys, int indexes) under root;
// key returns the key node of the last path element instead of its
// value, when that is a mapping key. Missing parts stop the walk at the
// deepest node found.
func (l *loc) node(key bool, path ...any) ast.Node {
	n := unwrapNode(l.root)
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m, ok := unwrapNode(n).(*ast.MappingNode)
			if !ok {
				return n
			}
			var found *ast.MappingValueNode
			for _, mv := range m.Values {
				if mv.Key.String() == k {
					found = mv
				}
			}
			if found == nil {
				return n
			}
			if last && key {
				return found.Key
			}
			if found.Value == nil {
				return found.Key
			}
			n = found.Value
		case int:
			s, ok := unwrapNode(n).(*ast.SequenceNode)
			if !ok || k >= len(s.Values) {
				return n
			}
			n = s.Values[k]
		}
	}
	return n
}

func (l *loc) errAt(step, field string, n ast.Node, err error) *PlaybookError {
	e := &PlaybookError{File: l.file, Playbook: l.id, Step: step, Field: field, Err: err}
	if n != nil {
		if tk := n.GetToken(); tk != nil {
			e.Line, e.Col = tk.Position.Line, tk.Position.Column
		}
	}
	return e
}

func parsePlaybook(env *cel.Env, reg *Registry, file string, data []byte, body ast.Node) (*Playbook, []*PlaybookError) {
	l := &loc{file: file, data: data, root: body}
	m, ok := unwrapNode(body).(*ast.MappingNode)
	if !ok {
		return nil, []*PlaybookError{l.errAt("", "", body, errors.New("a playbook is a mapping"))}
	}
	for _, mv := range m.Values {
		if mv.Key.String() == "id" {
			if s, ok := unwrapNode(mv.Value).(*ast.StringNode); ok {
				l.id = s.Value
			}
		}
	}
	p := &Playbook{}
	if err := yaml.NodeToValue(m, p, yaml.Strict()); err != nil {
		return nil, []*PlaybookError{yamlError(file, l.id, err)}
	}
	p.File = file
	p.Line = body.GetToken().Position.Line
	var errs []*PlaybookError
	add := func(step, field string, n ast.Node, err error) { errs = append(errs, l.errAt(step, field, n, err)) }

	switch {
	case p.ID == "":
		add("", "id", body, errors.New("missing"))
	case !idPattern.MatchString(p.ID):
		add("", "id", l.node(false, "id"), fmt.Errorf("%q: want lower-case letters, digits, '.', '_' and '-'", p.ID))
	}
	if strings.TrimSpace(p.Title) == "" {
		add("", "title", l.node(true, "title"), errors.New("missing"))
	}
	if strings.TrimSpace(p.Trigger) == "" {
		add("", "trigger", l.node(true, "trigger"), errors.New("missing"))
	} else {
		prg, es := compileTrigger(env, l, p.Trigger)
		errs = append(errs, es...)
		p.trigger = prg
	}
	if len(p.Steps) == 0 && len(p.Options) == 0 {
		add("", "steps", body, errors.New("a playbook needs steps, options or both"))
	}
	if t := p.Approval.Threshold; t != nil && (*t < 0 || *t > 101) {
		add("", "approval.threshold", l.node(false, "approval", "threshold"), fmt.Errorf("%d: want 0 to 101", *t))
	}
	if d := p.Approval.MaxAutoDisruption; d != "" && !d.Valid() {
		add("", "approval.max_auto_disruption", l.node(false, "approval", "max_auto_disruption"), fmt.Errorf("%q: want none, low, medium or high", d))
	}
	switch p.OpenCase {
	case "", "always", "never":
	default:
		add("", "open_case", l.node(false, "open_case"), fmt.Errorf("%q: want always or never (or leave it out)", p.OpenCase))
	}
	errs = append(errs, checkSteps(reg, l, p.Steps, "steps", []any{"steps"})...)
	if n := len(p.Options); n > 0 && (n < 2 || n > 3) {
		add("", "options", l.node(true, "options"), fmt.Errorf("%d options: want 2 or 3 alternatives", n))
	}
	optIDs := map[string]bool{}
	for i := range p.Options {
		o := &p.Options[i]
		where := fmt.Sprintf("options[%d]", i)
		switch {
		case o.ID == "":
			add("", where+".id", l.node(false, "options", i), errors.New("missing"))
		case !idPattern.MatchString(o.ID):
			add("", where+".id", l.node(false, "options", i, "id"), fmt.Errorf("%q: want lower-case letters, digits, '.', '_' and '-'", o.ID))
		case optIDs[o.ID]:
			add("", where+".id", l.node(false, "options", i, "id"), fmt.Errorf("%q: used twice", o.ID))
		}
		optIDs[o.ID] = true
		if strings.TrimSpace(o.Title) == "" {
			add("", where+".title", l.node(false, "options", i), errors.New("missing"))
		}
		if len(o.Steps) == 0 {
			add("", where+".steps", l.node(false, "options", i), errors.New("an option needs at least one step"))
		}
		errs = append(errs, checkSteps(reg, l, o.Steps, where+".steps", []any{"options", i, "steps"})...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// checkSteps fills in step defaults and checks each step against reg.
func checkSteps(reg *Registry, l *loc, steps []Step, where string, path []any) []*PlaybookError {
	var errs []*PlaybookError
	ids := map[string]bool{}
	count := map[string]int{}
	for i := range steps {
		s := &steps[i]
		sp := append(slices.Clone(path), i)
		label := fmt.Sprintf("%s[%d]", where, i)
		s.line = l.node(false, sp...).GetToken().Position.Line
		add := func(field string, n ast.Node, err error) {
			name := label
			if s.ID != "" {
				name = s.ID + " (" + label + ")"
			}
			errs = append(errs, l.errAt(name, field, n, err))
		}
		if s.ID == "" && s.Action != "" {
			count[s.Action]++
			s.ID = s.Action
			if n := count[s.Action]; n > 1 {
				s.ID = fmt.Sprintf("%s-%d", s.Action, n)
			}
		}
		if s.ID != "" && !idPattern.MatchString(s.ID) {
			add("id", l.node(false, append(sp, "id")...), fmt.Errorf("%q: want lower-case letters, digits, '.', '_' and '-'", s.ID))
		} else if ids[s.ID] && s.ID != "" {
			add("id", l.node(false, append(sp, "id")...), fmt.Errorf("%q: used twice", s.ID))
		}
		ids[s.ID] = true
		if s.Title == "" {
			s.Title = s.Action
		}
		if s.Action == "" {
			add("action", l.node(false, sp...), errors.New("missing"))
			continue
		}
		a, ok := reg.Lookup(s.Action)
		if !ok {
			add("action", l.node(false, append(sp, "action")...), fmt.Errorf("unknown action %q (registered: %s)", s.Action, strings.Join(reg.Names(), ", ")))
			continue
		}
		schema := a.Params()
		s.params = map[string]*paramTemplate{}
		literal := Params{}
		for _, name := range slices.Sorted(maps.Keys(s.Params)) {
			pn := l.node(false, append(sp, "params", name)...)
			if _, ok := schema.Lookup(name); !ok {
				add("params."+name, l.node(true, append(sp, "params", name)...), fmt.Errorf("unknown parameter of %s (want one of %s)", s.Action, schema.names()))
				continue
			}
			pt, err := compileParam(name, s.Params[name])
			if err != nil {
				add("params."+name, pn, err)
				continue
			}
			s.params[name] = pt
			if pt.isLiteral() {
				literal[name] = s.Params[name]
			}
		}
		for _, prm := range schema {
			if def, ok := prm.Default.(string); ok && strings.Contains(def, "{{") {
				if _, given := s.Params[prm.Name]; !given {
					pt, err := compileParam(prm.Name, def)
					if err != nil {
						add("params."+prm.Name, l.node(false, sp...), fmt.Errorf("the default of %s: %w", s.Action, err))
						continue
					}
					s.params[prm.Name] = pt
				}
			}
			if _, given := s.Params[prm.Name]; given {
				if v, ok := literal[prm.Name]; ok {
					if _, err := prm.convert(v); err != nil {
						add("params."+prm.Name, l.node(false, append(sp, "params", prm.Name)...), err)
					}
				}
				continue
			}
			if prm.Required && prm.Default == nil {
				add("params", l.node(false, sp...), fmt.Errorf("%s: required by %s", prm.Name, s.Action))
			}
		}
	}
	return errs
}

// compileTrigger compiles a trigger; CEL errors are placed at their
// position in the file.
func compileTrigger(env *cel.Env, l *loc, expr string) (cel.Program, []*PlaybookError) {
	n := l.node(false, "trigger")
	line, col, block := scalarPos(l.data, n)
	checked, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		var errs []*PlaybookError
		for _, e := range iss.Errors() {
			ln, cl := line, col
			if el := e.Location.Line(); el > 1 && ln > 0 {
				ln += el - 1
				if !block {
					cl = 1
				}
				cl += e.Location.Column()
			} else if ln > 0 {
				cl += e.Location.Column()
			}
			errs = append(errs, &PlaybookError{File: l.file, Line: ln, Col: cl, Playbook: l.id, Field: "trigger",
				Err: fmt.Errorf("CEL: %s", e.Message)})
		}
		return nil, errs
	}
	if t := checked.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, []*PlaybookError{{File: l.file, Line: line, Col: col, Playbook: l.id, Field: "trigger",
			Err: fmt.Errorf("CEL: the expression is of type %s, want bool", t)}}
	}
	prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(CostLimit))
	if err != nil {
		return nil, []*PlaybookError{{File: l.file, Line: line, Col: col, Playbook: l.id, Field: "trigger", Err: fmt.Errorf("CEL: %w", err)}}
	}
	return prg, nil
}

// scalarPos returns where the text of a scalar value starts in data.
func scalarPos(data []byte, n ast.Node) (line, col int, block bool) {
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
		return line, col, true
	}
	tk := n.GetToken()
	if tk == nil {
		return 0, 0, false
	}
	col = tk.Position.Column
	if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
		col++
	}
	return tk.Position.Line, col, false
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

// yamlError turns a go-yaml error into a PlaybookError at its token.
func yamlError(file, id string, err error) *PlaybookError {
	e := &PlaybookError{File: file, Playbook: id, Err: err}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Err = errors.New(ye.GetMessage())
		if tk := ye.GetToken(); tk != nil {
			e.Line, e.Col = tk.Position.Line, tk.Position.Column
		}
	}
	return e
}

// Matching returns the playbooks of pbs whose trigger matches rec, in
// order. A trigger that fails to evaluate is an error naming the playbook;
// the others are still evaluated.
func Matching(ctx context.Context, pbs []*Playbook, rec Record) ([]*Playbook, error) {
	var out []*Playbook
	var errs []error
	for _, p := range pbs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ok, err := p.Matches(rec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}
