package respond

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// MaxRenderedBytes bounds the text one parameter template may produce.
const MaxRenderedBytes = 64 << 10

// templateFuncs are the functions parameter templates may call. They are
// pure: no I/O, no clock, no environment.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		// values KIND ENTITIES: the values of the entities of KIND, common ones excluded.
		"values": func(kind string, ents []map[string]any) []string {
			var out []string
			for _, e := range ents {
				if e["kind"] == kind && e["common"] != true {
					if v, _ := e["value"].(string); v != "" && !slices.Contains(out, v) {
						out = append(out, v)
					}
				}
			}
			return out
		},
		// first LIST: the first item, "" when empty.
		"first": func(l []string) string {
			if len(l) == 0 {
				return ""
			}
			return l[0]
		},
		// match REGEX LIST: the items matching REGEX (RE2, unanchored).
		"match": func(re string, l []string) ([]string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return nil, err
			}
			var out []string
			for _, s := range l {
				if r.MatchString(s) {
					out = append(out, s)
				}
			}
			return out, nil
		},
		// extract REGEX LIST: for each item REGEX (RE2) matches, its first
		// capture group (or the whole match when it has none).
		"extract": func(re string, l []string) ([]string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return nil, err
			}
			var out []string
			for _, s := range l {
				m := r.FindStringSubmatch(s)
				switch {
				case m == nil:
				case len(m) > 1:
					out = append(out, m[1])
				default:
					out = append(out, m[0])
				}
			}
			return out, nil
		},
		// concat LIST...: the lists one after the other.
		"concat": func(ls ...[]string) []string {
			var out []string
			for _, l := range ls {
				out = append(out, l...)
			}
			return out
		},
		// join SEP LIST
		"join": func(sep string, l []string) string { return strings.Join(l, sep) },
		// lines LIST: one item per line (for list parameters).
		"lines":   func(l []string) string { return strings.Join(l, "\n") },
		"lower":   strings.ToLower,
		"upper":   strings.ToUpper,
		"trim":    strings.TrimSpace,
		"replace": func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		// default DEF VALUE: VALUE, or DEF when VALUE is empty.
		"default": func(def string, v any) string {
			s := fmt.Sprint(v)
			if v == nil || s == "" || s == "0" {
				return def
			}
			return s
		},
		// truncate N S: S cut to N runes.
		"truncate": func(n int, s string) string {
			if utf8.RuneCountInString(s) <= n {
				return s
			}
			return string([]rune(s)[:n])
		},
		// json V: V encoded as JSON (a quoted string for strings).
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
}

// recordFields are the keys of the record in templates: the JSON names of
// [Record]'s fields.
var recordFields = []string{"tenant", "kind", "id", "ref", "title", "risk", "severity", "tactics", "entities",
	"party", "party_name", "data_grade", "source", "class", "labels"}

// templateData is what parameter templates see: {"record": {...}} with
// every field of recordFields present (empty when unknown), entities as
// {"kind", "value", "common"} maps.
func templateData(r Record) map[string]any {
	ents := make([]map[string]any, len(r.Entities))
	for i, e := range r.Entities {
		ents[i] = map[string]any{"kind": string(e.Kind), "value": e.Value, "common": e.Common}
	}
	orEmpty := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return map[string]any{"record": map[string]any{
		"tenant": r.Tenant, "kind": string(r.Kind), "id": r.ID, "ref": r.Ref().String(), "title": r.Title,
		"risk": r.Risk, "severity": r.Severity, "tactics": orEmpty(r.Tactics), "entities": ents,
		"party": r.Party, "party_name": r.PartyName, "data_grade": r.DataGrade, "source": r.Source,
		"class": r.Class, "labels": orEmpty(r.Labels),
	}}
}

// paramTemplate is one parameter of a step, compiled: literal values are
// kept, strings containing "{{" are templates.
type paramTemplate struct {
	name string
	lit  any                // a literal value (no template anywhere in it)
	tmpl *template.Template // a string template
	list []*paramTemplate   // a list whose items may be templates
	dict map[string]*paramTemplate
}

// compileParam compiles one raw parameter value. Errors name the template
// problem; the caller adds the position.
func compileParam(name string, v any) (*paramTemplate, error) {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "{{") {
			return &paramTemplate{name: name, lit: x}, nil
		}
		t, err := template.New(name).Option("missingkey=error").Funcs(templateFuncs()).Parse(x)
		if err != nil {
			return nil, fmt.Errorf("template: %w", trimTemplateErr(err))
		}
		if err := checkFields(t); err != nil {
			return nil, err
		}
		return &paramTemplate{name: name, tmpl: t}, nil
	case []any:
		p := &paramTemplate{name: name, list: []*paramTemplate{}}
		for i, item := range x {
			c, err := compileParam(fmt.Sprintf("%s[%d]", name, i), item)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			p.list = append(p.list, c)
		}
		return p, nil
	case map[string]any:
		p := &paramTemplate{name: name, dict: map[string]*paramTemplate{}}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			c, err := compileParam(name+"."+k, x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			p.dict[k] = c
		}
		return p, nil
	}
	return &paramTemplate{name: name, lit: v}, nil
}

// isLiteral reports whether p holds no template.
func (p *paramTemplate) isLiteral() bool {
	switch {
	case p.tmpl != nil:
		return false
	case p.list != nil:
		for _, c := range p.list {
			if !c.isLiteral() {
				return false
			}
		}
	case p.dict != nil:
		for _, c := range p.dict {
			if !c.isLiteral() {
				return false
			}
		}
	}
	return true
}

// render renders p with data. Rendered strings must be valid UTF-8
// without control characters other than tab and newline, and at most
// MaxRenderedBytes long. A template item of a list that renders to
// several lines gives one item per non-empty line; one that renders to
// nothing is dropped.
func (p *paramTemplate) render(data map[string]any) (any, error) {
	switch {
	case p.tmpl != nil:
		var b strings.Builder
		if err := p.tmpl.Execute(&limitWriter{w: &b, n: MaxRenderedBytes}, data); err != nil {
			return nil, fmt.Errorf("template: %w", trimTemplateErr(err))
		}
		s := b.String()
		if err := cleanText(s); err != nil {
			return nil, err
		}
		return s, nil
	case p.list != nil:
		out := []any{}
		for i, c := range p.list {
			v, err := c.render(data)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if s, ok := v.(string); ok && c.tmpl != nil {
				for line := range strings.SplitSeq(s, "\n") {
					if line = strings.TrimSpace(line); line != "" {
						out = append(out, line)
					}
				}
				continue
			}
			out = append(out, v)
		}
		return out, nil
	case p.dict != nil:
		out := map[string]any{}
		for k, c := range p.dict {
			v, err := c.render(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = v
		}
		return out, nil
	}
	return p.lit, nil
}

// cleanText refuses text that could confuse whatever displays or passes
// it on: invalid UTF-8 and control characters other than tab and newline.
func cleanText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("rendered text is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return fmt.Errorf("rendered text holds control character %U", r)
		}
	}
	return nil
}

type limitWriter struct {
	w interface{ WriteString(string) (int, error) }
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("rendered text is longer than %d bytes", MaxRenderedBytes)
	}
	l.n -= len(p)
	return l.w.WriteString(string(p))
}

// trimTemplateErr drops text/template's "template: name:" prefix, which
// repeats what the PlaybookError already says.
func trimTemplateErr(err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "template: "); ok {
		if i := strings.Index(rest, ": "); i >= 0 {
			return errors.New(rest[i+2:])
		}
	}
	return err
}

// checkFields checks, at load time, that every field a template reads at
// the top level (outside range and with, where dot changes) is .record or
// .record.<field> with a field the record has.
func checkFields(t *template.Template) error {
	var bad []string
	var walk func(n parse.Node, top bool)
	check := func(idents []string) {
		if len(idents) == 0 {
			return
		}
		if idents[0] != "record" {
			bad = append(bad, "."+strings.Join(idents, "."))
			return
		}
		if len(idents) > 1 && !slices.Contains(recordFields, idents[1]) {
			bad = append(bad, "."+strings.Join(idents, "."))
		}
	}
	walkPipe := func(p *parse.PipeNode, top bool) {
		if p == nil {
			return
		}
		for _, c := range p.Cmds {
			for _, a := range c.Args {
				walk(a, top)
			}
		}
	}
	walk = func(n parse.Node, top bool) {
		switch x := n.(type) {
		case *parse.ListNode:
			if x == nil {
				return
			}
			for _, c := range x.Nodes {
				walk(c, top)
			}
		case *parse.ActionNode:
			walkPipe(x.Pipe, top)
		case *parse.PipeNode:
			walkPipe(x, top)
		case *parse.FieldNode:
			if top {
				check(x.Ident)
			}
		case *parse.VariableNode:
			if len(x.Ident) > 1 && x.Ident[0] == "$" {
				check(x.Ident[1:])
			}
		case *parse.ChainNode:
			walk(x.Node, top)
		case *parse.IfNode:
			walkPipe(x.Pipe, top)
			walk(x.List, top)
			walk(x.ElseList, top)
		case *parse.RangeNode:
			walkPipe(x.Pipe, top)
			walk(x.List, false)
			walk(x.ElseList, top)
		case *parse.WithNode:
			walkPipe(x.Pipe, top)
			walk(x.List, false)
			walk(x.ElseList, top)
		case *parse.TemplateNode:
			bad = append(bad, "template "+x.Name+" (nested templates are not allowed)")
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Name() != t.Name() {
			return fmt.Errorf("template: define is not allowed")
		}
	}
	walk(t.Tree.Root, true)
	if len(bad) > 0 {
		return fmt.Errorf("template: unknown field %s (the record has %s)", strings.Join(bad, ", "), strings.Join(recordFields, ", "))
	}
	return nil
}
