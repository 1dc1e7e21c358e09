package respond

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
)

func TestRenderParams(t *testing.T) {
	rec := Record{Tenant: "acme", Kind: KindIncident, ID: "inc-42", Title: "Bucket <public> & \"open\"", Risk: 86, Severity: "critical",
		Labels: []string{"open_port=22", "internet_exposed"},
		Entities: []correlate.Entity{
			{Kind: correlate.KindResource, Value: "arn:aws:s3:::payments-exports"},
			{Kind: correlate.KindResource, Value: "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e"},
			{Kind: correlate.KindHost, Value: "i-0aaaaaaaaaaaaaaa1"},
			{Kind: correlate.KindDomain, Value: "amazonaws.com", Common: true},
		}}
	data := templateData(rec)
	cases := []struct {
		name string
		in   any
		want any
		err  string
	}{
		{"literal", "plain text", "plain text", ""},
		{"field", "{{ .record.ref }} risk {{ .record.risk }}", "incident:inc-42 risk 86", ""},
		{"no escaping: text stays text", "{{ .record.title }}", `Bucket <public> & "open"`, ""},
		{"values first", `{{ values "host" .record.entities | first }}`, "i-0aaaaaaaaaaaaaaa1", ""},
		{"common excluded", `{{ values "domain" .record.entities | first }}`, "", ""},
		{"extract", `{{ values "resource" .record.entities | extract "(sg-[0-9a-f]+)$" | first }}`, "sg-0a1b2c3d4e", ""},
		{"labels", `{{ .record.labels | extract "^open_port=([0-9]+)$" | first }}`, "22", ""},
		{"default", `{{ .record.data_grade | default "unknown" }}`, "unknown", ""},
		{"json", `{{ json .record.title }}`, `"Bucket \u003cpublic\u003e \u0026 \"open\""`, ""},
		{"list split by lines", []any{"a", `{{ values "resource" .record.entities | lines }}`}, []any{"a", "arn:aws:s3:::payments-exports", "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e"}, ""},
		{"map", map[string]any{"k": "{{ .record.id }}", "n": 3}, map[string]any{"k": "inc-42", "n": 3}, ""},
		{"control character", "{{ \"a\\x1bb\" }}", nil, "control character U+001B"},
		{"bad regexp", `{{ .record.labels | match "(" | first }}`, nil, "missing closing )"},
		{"too long", `{{ range .record.tactics }}{{ end }}{{ printf "%070000d" 1 }}`, nil, "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := compileParam("p", c.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.render(data)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestCompileParamErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{{ .record.owner }}", "unknown field .record.owner"},
		{"{{ .tenant }}", "unknown field .tenant"},
		{"{{ $.record.nope }}", "unknown field .record.nope"},
		{`{{ define "x" }}{{ end }}{{ template "x" }}`, "define is not allowed"},
		{"{{ .record.id ", "unclosed action"},
		{"{{ nosuchfunc .record.id }}", `function "nosuchfunc" not defined`},
	} {
		if _, err := compileParam("p", c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.in, err, c.want)
		}
	}
	// inside range, dot is the item: not checked against the record
	if _, err := compileParam("p", "{{ range .record.entities }}{{ .value }}{{ end }}"); err != nil {
		t.Errorf("range: %v", err)
	}
}

func TestSchemaCheck(t *testing.T) {
	s := Schema{
		{Name: "group_id", Required: true, Pattern: `sg-[0-9a-f]{8,17}`},
		{Name: "port", Type: ParamInt},
		{Name: "on", Type: ParamBool, Default: true},
		{Name: "for", Type: ParamDuration},
		{Name: "tags", Type: ParamStrings, Enum: []string{"a", "b"}},
		{Name: "fields", Type: ParamMap},
		{Name: "who", Default: "{{ .record.party }}"},
	}
	got, err := s.Check(Params{"group_id": "sg-0a1b2c3d4e", "port": "22", "for": "7d", "tags": []any{"a"}, "fields": map[string]any{"x": 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	want := Params{"group_id": "sg-0a1b2c3d4e", "port": int64(22), "on": true, "for": 168 * time.Hour, "tags": []string{"a"},
		"fields": map[string]string{"x": "1.5"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v", got)
	}
	for _, c := range []struct {
		in   Params
		want string
	}{
		{Params{}, "params: group_id: required"},
		{Params{"group_id": "sg-0a1b2c3d4e; rm -rf /"}, `does not match sg-[0-9a-f]{8,17}`},
		{Params{"group_id": "sg-0a1b2c3d4e\nsg-0a1b2c3d4f"}, "does not match"},
		{Params{"group_id": "sg-0a1b2c3d4e", "port": 22.5}, "port: 22.5 is not an integer"},
		{Params{"group_id": "sg-0a1b2c3d4e", "tags": []any{"c"}}, `tags: item 0: "c" is not one of a, b`},
		{Params{"group_id": "sg-0a1b2c3d4e", "on": "yes"}, `on: "yes" is not true or false`},
		{Params{"group_id": "sg-0a1b2c3d4e", "extra": 1}, "extra: unknown parameter"},
		{Params{"group_id": "sg-0a1b2c3d4e", "for": "-1h"}, `for: "-1h" is not a duration`},
	} {
		if _, err := s.Check(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestRegistryChecks(t *testing.T) {
	mk := func(name string, s Schema) Action { return &schemaAction{name: name, schema: s} }
	for _, c := range []struct {
		acts []Action
		want string
	}{
		{[]Action{nil}, "action 0 is nil"},
		{[]Action{mk("Bad Name", nil)}, "invalid name"},
		{[]Action{mk("x.y", nil), mk("x.y", nil)}, `"x.y": registered twice`},
		{[]Action{mk("x.y", Schema{{Name: "a", Type: "float"}})}, `unknown type "float"`},
		{[]Action{mk("x.y", Schema{{Name: "a", Pattern: "("}})}, "pattern"},
		{[]Action{mk("x.y", Schema{{Name: "a", Type: ParamInt, Default: "many"}})}, "default"},
		{[]Action{mk("x.y", Schema{{Name: "a"}, {Name: "a"}})}, "listed twice"},
	} {
		if _, err := NewRegistry(c.acts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	r, err := NewRegistry(mk("b.x", nil), mk("a.x", nil))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := r.With(mk("c.x", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Names(), []string{"a.x", "b.x"}) || !reflect.DeepEqual(r2.Names(), []string{"a.x", "b.x", "c.x"}) {
		t.Errorf("names %v, %v", r.Names(), r2.Names())
	}
}

type schemaAction struct {
	Action
	name   string
	schema Schema
}

func (a *schemaAction) Name() string   { return a.name }
func (a *schemaAction) Params() Schema { return a.schema }
