package ocsfschema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func readExample(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "examples", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// decode decodes a record with json.Number (useNumber) or float64 numbers.
func decode(tb testing.TB, data []byte, useNumber bool) map[string]any {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if useNumber {
		dec.UseNumber()
	}
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		tb.Fatal(err)
	}
	return rec
}

func TestExamplesValid(t *testing.T) {
	s := loadSchema(t)
	files, err := filepath.Glob("testdata/examples/*.json")
	if err != nil || len(files) != 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		probs, err := s.ValidateJSON(data)
		if err != nil || probs != nil {
			t.Errorf("%s: ValidateJSON = %v, %v; want no problems", f, probs, err)
		}
		// encoding/json's default float64 numbers work too.
		if probs := s.Validate(decode(t, data, false)); probs != nil {
			t.Errorf("%s (float64 numbers): %v", f, probs)
		}
		// So does the core schema without the platform extensions.
		if probs := loadCore(t).Validate(decode(t, data, true)); probs != nil {
			t.Errorf("%s (core schema): %v", f, probs)
		}
	}
}

// pathStep is one step of a mutation path: a key or an array index.
type pathStep struct {
	key   string
	index int
}

func parsePath(p string) []pathStep {
	var steps []pathStep
	for _, seg := range strings.Split(p, ".") {
		key, rest, _ := strings.Cut(seg, "[")
		steps = append(steps, pathStep{key: key, index: -1})
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			n, _ := strconv.Atoi(idx)
			steps = append(steps, pathStep{index: n})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return steps
}

// edit sets (or, with del, removes) the value at path p, e.g. "vulnerabilities[0].cve.uid".
func edit(t *testing.T, rec map[string]any, p string, value any, del bool) {
	t.Helper()
	steps := parsePath(p)
	var cur any = rec
	for i, st := range steps {
		last := i == len(steps)-1
		if st.index >= 0 {
			arr, ok := cur.([]any)
			if !ok || st.index >= len(arr) {
				t.Fatalf("edit %s: no array element at step %d", p, i)
			}
			if last {
				arr[st.index] = value
				return
			}
			cur = arr[st.index]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("edit %s: no object at step %d", p, i)
		}
		if last {
			if del {
				delete(m, st.key)
			} else {
				m[st.key] = value
			}
			return
		}
		cur = m[st.key]
	}
}

func set(p string, v any) func(*testing.T, map[string]any) {
	return func(t *testing.T, rec map[string]any) { edit(t, rec, p, v, false) }
}

func del(p string) func(*testing.T, map[string]any) {
	return func(t *testing.T, rec map[string]any) { edit(t, rec, p, nil, true) }
}

func jsonValue(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	return v
}

type want struct{ path, msg string } // msg is a substring of Problem.Msg

func TestMutations(t *testing.T) {
	s := loadSchema(t)
	const (
		vuln = "vulnerability_finding.json"
		comp = "compliance_finding.json"
		api  = "api_activity.json"
	)
	tests := []struct {
		name    string
		example string
		mutate  []func(*testing.T, map[string]any)
		want    []want // nil: valid
	}{
		// Required attributes at every depth.
		{"missing finding_info.uid", vuln, mutations(del("finding_info.uid")),
			[]want{{"finding_info.uid", "required attribute is missing"}}},
		{"missing metadata.version", vuln, mutations(del("metadata.version")),
			[]want{{"metadata.version", "required attribute is missing"}}},
		{"missing metadata.product", comp, mutations(del("metadata.product")),
			[]want{{"metadata.product", "required attribute is missing"}}},
		{"missing class-level required", api, mutations(del("api")),
			[]want{{"api", "required attribute is missing"}}},
		{"missing required in array element", vuln, mutations(del("vulnerabilities[0].affected_packages[0].version")),
			[]want{{"vulnerabilities[0].affected_packages[0].version", "required attribute is missing"}}},
		{"missing cloud under the cloud profile", comp, mutations(del("cloud")),
			[]want{{"cloud", "required attribute is missing"}}},
		{"missing class_uid", vuln, mutations(del("class_uid")),
			[]want{{"class_uid", "required attribute is missing"}}},

		// Classification arithmetic and captions.
		{"wrong type_uid", vuln, mutations(set("type_uid", 200202)),
			[]want{{"type_uid", "is not class_uid*100+activity_id = 200201"}}},
		{"wrong category_uid", api, mutations(set("category_uid", 3)),
			[]want{{"category_uid", "does not match class 6003"}}},
		{"unknown class_uid", vuln, mutations(set("class_uid", 2000)),
			[]want{{"class_uid", "unknown class_uid 2000"}}},
		{"wrong class_name", api, mutations(set("class_name", "API activity")),
			[]want{{"class_name", `"API activity" does not match "API Activity"`}}},
		{"wrong category_name", vuln, mutations(set("category_name", "Finding")),
			[]want{{"category_name", `does not match "Findings"`}}},
		{"wrong activity_name", vuln, mutations(set("activity_name", "Created")),
			[]want{{"activity_name", `does not match "Create"`}}},
		{"activity_id not in enum", vuln, mutations(set("activity_id", 4), set("type_uid", 200204)),
			[]want{{"activity_id", "not in the enum of activity_id"}}},
		{"wrong type_name", api, mutations(set("type_name", "API Activity: ConsoleLogin")),
			[]want{{"type_name", `does not match "API Activity: Other"`}}},
		{"activity 99 keeps the source's name", api, mutations(set("activity_name", "AnythingGoes")), nil},

		// Unknown attributes.
		{"unknown top-level attribute", vuln, mutations(set("foo", "bar")),
			[]want{{"foo", "unknown attribute"}}},
		{"unknown nested attribute", vuln, mutations(set("vulnerabilities[0].cve.bogus", 1)),
			[]want{{"vulnerabilities[0].cve.bogus", "unknown attribute"}}},
		{"unknown attribute in metadata.product", api, mutations(set("metadata.product.edition", "x")),
			[]want{{"metadata.product.edition", "unknown attribute"}}},
		{"unmapped is free-form", vuln, mutations(set("unmapped", jsonValue(`{"a": {"b": [1, "x"]}, "c": null}`))), nil},
		{"unmapped must be an object", vuln, mutations(set("unmapped", "x")),
			[]want{{"unmapped", "expected object"}}},
		{"json_t is free-form", vuln, mutations(set("resources[0].data", jsonValue(`{"anything": [1, {"x": true}]}`))), nil},
		{"deprecated attribute is allowed", vuln, mutations(set("vulnerabilities[0].fix_available", true)), nil},

		// Profiles.
		{"cloud without the cloud profile", vuln, mutations(set("cloud", jsonValue(`{"provider": "AWS"}`))),
			[]want{{"cloud", "attribute cloud belongs to profile cloud which is not in metadata.profiles"}}},
		{"profiles removed", comp, mutations(set("metadata.profiles", []any{})),
			[]want{
				{"cloud", "belongs to profile cloud"},
				{"resources[0].region", "belongs to profile cloud"},
			}},
		{"unknown profile", comp, mutations(set("metadata.profiles", []any{"cloud", "klaud"})),
			[]want{{"metadata.profiles[1]", `unknown profile "klaud"`}}},
		{"_dt without the datetime profile", api, mutations(set("time_dt", "2024-06-10T08:15:42Z")),
			[]want{{"time_dt", "belongs to profile datetime"}}},
		{"_dt with the datetime profile", api, mutations(
			set("metadata.profiles", []any{"cloud", "datetime"}),
			set("time_dt", "2024-06-10T08:15:42.000Z"),
			set("metadata.product.vendor_name", "AWS")), nil},
		{"_dt in a nested object", comp, mutations(
			set("metadata.profiles", []any{"cloud", "datetime"}),
			set("resources[0].created_time", 1718011805000),
			set("resources[0].created_time_dt", "2024-06-10 08:15:42Z")),
			[]want{{"resources[0].created_time_dt", "not a valid datetime_t"}}},
		{"osint profile makes osint required", api, mutations(set("metadata.profiles", []any{"cloud", "osint"})),
			[]want{{"osint", "required attribute is missing"}}},
		{"extension profile attribute without its profile", api, mutations(
			set("actor.process", jsonValue(`{"pid": 42, "auid": 1000}`))),
			[]want{{"actor.process.auid", "belongs to profile linux/linux_users"}}},
		{"extension profile attribute with its profile", api, mutations(
			set("metadata.profiles", []any{"cloud", "linux/linux_users"}),
			set("actor.process", jsonValue(`{"pid": 42, "auid": 1000}`))), nil},

		// Enums and siblings.
		{"severity_id not in enum", vuln, mutations(set("severity_id", 7)),
			[]want{{"severity_id", "not in the enum of severity_id"}}},
		{"nested enum not in enum", vuln, mutations(set("vulnerabilities[0].affected_packages[0].type_id", 3)),
			[]want{{"vulnerabilities[0].affected_packages[0].type_id", "not in the enum of type_id"}}},
		{"wrong sibling caption", vuln, mutations(set("severity", "critical")),
			[]want{{"severity", `"critical" does not match "Critical", the caption of severity_id 5`}}},
		{"wrong nested sibling caption", comp, mutations(set("compliance.status", "Failed")),
			[]want{{"compliance.status", `does not match "Fail"`}}},
		{"sibling in array element", api, mutations(set("cloud.account.type", "AWS account")),
			[]want{{"cloud.account.type", `does not match "AWS Account"`}}},
		{"sibling of 99 carries the source value", vuln, mutations(set("severity_id", 99), set("severity", "Sev-1")), nil},
		{"class-specific enum override", comp, mutations(set("status_id", 2), set("status", "In Progress")), nil},
		{"status caption from the base enum is wrong in findings", comp, mutations(set("status_id", 2), set("status", "Failure")),
			[]want{{"status", `does not match "In Progress"`}}},
		{"observable type_id assembled from the schema", api, mutations(set("observables[0].type_id", 48)), nil},
		{"observable type_id not in enum", api, mutations(set("observables[0].type_id", 49)),
			[]want{{"observables[0].type_id", "not in the enum of type_id"}}},
		{"string enum", vuln, mutations(set("vulnerabilities[0].cve.cvss[0].depth", "Base")), nil},
		{"string enum value not in enum", vuln, mutations(set("vulnerabilities[0].cve.cvss[0].depth", "base")),
			[]want{{"vulnerabilities[0].cve.cvss[0].depth", "not in the enum of depth"}}},

		// Constraints.
		{"just_one: cve and cwe", vuln, mutations(set("vulnerabilities[0].cwe", jsonValue(`{"uid": "CWE-122"}`))),
			[]want{{"vulnerabilities[0]", "exactly one of advisory, cve, cwe must be present, found 2 (cve, cwe)"}}},
		{"at_least_one on an object", api, mutations(set("actor", jsonValue(`{}`))),
			[]want{
				{"actor", "at least one of process, user, invoked_by, session, app_name, app_uid must be present"},
				{"observables[1].name", `"actor.user.name" does not resolve`},
			}},
		{"at_least_one on resource_details", comp, mutations(del("resources[0].uid"), del("resources[0].name"), del("observables")),
			[]want{{"resources[0]", "at least one of name, uid must be present"}}},

		// Scalar types.
		{"timestamp as string", api, mutations(set("time", "2024-06-10T08:15:42Z")),
			[]want{{"time", "expected an integer (timestamp_t)"}}},
		{"fractional timestamp", api, mutations(set("time", json.Number("1718007342000.5"))),
			[]want{{"time", "expected an integer (timestamp_t)"}}},
		{"integer as float64", api, mutations(set("time", float64(1718007342000))), nil},
		{"bad ip", api, mutations(set("dst_endpoint", jsonValue(`{"ip": "203.0.113.300"}`))),
			[]want{{"dst_endpoint.ip", "not a valid ip_t"}}},
		{"ipv6 ip", api, mutations(set("src_endpoint.ip", "2001:db8::1"), del("observables")), nil},
		{"bad mac", api, mutations(set("src_endpoint.mac", "00:11:22:33:44")),
			[]want{{"src_endpoint.mac", "not a valid mac_t"}}},
		{"port out of range", api, mutations(set("src_endpoint.port", 70000)),
			[]want{{"src_endpoint.port", "out of the range of port_t"}}},
		{"boolean as string", vuln, mutations(set("vulnerabilities[0].is_fix_available", "true")),
			[]want{{"vulnerabilities[0].is_fix_available", "expected boolean"}}},
		{"string as number", vuln, mutations(set("message", 42)),
			[]want{{"message", "expected a string (string_t)"}}},
		{"float as string", vuln, mutations(set("vulnerabilities[0].cve.cvss[0].base_score", "9.8")),
			[]want{{"vulnerabilities[0].cve.cvss[0].base_score", "expected a number (float_t)"}}},
		{"array expected", vuln, mutations(set("vulnerabilities[0].affected_packages", jsonValue(`{"name": "x", "version": "1"}`))),
			[]want{{"vulnerabilities[0].affected_packages", "expected an array of object affected_package"}}},
		{"scalar array expected", comp, mutations(set("compliance.standards", "CIS")),
			[]want{{"compliance.standards", "expected an array of string_t"}}},
		{"array not expected", api, mutations(set("api.operation", []any{"a"})),
			[]want{{"api.operation", "expected string_t, got an array"}}},
		{"object expected", vuln, mutations(set("finding_info", "x")),
			[]want{{"finding_info", "expected object finding_info"}}},
		{"null value", vuln, mutations(set("message", nil)),
			[]want{{"message", "null value"}}},
		{"null array element", vuln, mutations(set("resources[0].labels", []any{"a", nil})),
			[]want{{"resources[0].labels[1]", "null array element"}}},

		// Observables.
		{"observable name does not resolve", vuln, mutations(set("observables[0].name", "vulnerabilities[0].cve.uuid")),
			[]want{{"observables[0].name", "does not resolve"}}},
		{"observable value does not match", vuln, mutations(set("observables[0].value", "CVE-2023-38546")),
			[]want{{"observables[0].value", "is not the value of vulnerabilities[0].cve.uid"}}},
		{"observable name with [] and without index", vuln, mutations(
			set("observables[0].name", "vulnerabilities[].cve.uid"),
			set("observables[1].name", "resources.uid")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := decode(t, readExample(t, tt.example), true)
			for _, m := range tt.mutate {
				m(t, rec)
			}
			checkProblems(t, s.Validate(rec), tt.want)
		})
	}
}

func mutations(fs ...func(*testing.T, map[string]any)) []func(*testing.T, map[string]any) {
	return fs
}

func checkProblems(t *testing.T, got []Problem, want []want) {
	t.Helper()
	if len(want) == 0 {
		if got != nil {
			t.Errorf("got %d problems, want none: %v", len(got), got)
		}
		return
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Path != w.path || !strings.Contains(got[i].Msg, w.msg) {
			t.Errorf("problem %d = %q, want path %q and message containing %q", i, got[i].String(), w.path, w.msg)
		}
	}
}

func TestJustOneNone(t *testing.T) {
	s := loadSchema(t)
	rec := decode(t, readExample(t, "vulnerability_finding.json"), true)
	edit(t, rec, "vulnerabilities[0].cve", nil, true)
	edit(t, rec, "observables", []any{jsonValue(`{"name": "resources[0].uid", "type_id": 10}`)}, false)
	checkProblems(t, s.Validate(rec), []want{{"vulnerabilities[0]", "exactly one of advisory, cve, cwe must be present, found 0"}})
}

func TestValidateJSONErrors(t *testing.T) {
	s := loadSchema(t)
	for _, in := range []string{``, `[]`, `"x"`, `{"a":1} {}`, `{"a":`, `null`} {
		if probs, err := s.ValidateJSON([]byte(in)); err == nil {
			t.Errorf("ValidateJSON(%q) = %v, nil; want an error", in, probs)
		}
	}
	probs, err := s.ValidateJSON([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, probs, []want{{"class_uid", "required attribute is missing"}})
	checkProblems(t, s.Validate(nil), []want{{"", "record is null"}})
	checkProblems(t, s.Validate(map[string]any{"class_uid": "2002"}), []want{{"class_uid", "expected an integer"}})
	if got := (Problem{Path: "", Msg: "m"}).String(); got != "(record): m" {
		t.Errorf("String() = %q", got)
	}
	if got := (Problem{Path: "a.b[0]", Msg: "m"}).String(); got != "a.b[0]: m" {
		t.Errorf("String() = %q", got)
	}
}

// TestMinimalRecords validates hand-built records of other classes.
func TestMinimalRecords(t *testing.T) {
	s := loadSchema(t)
	base := `"severity_id": 1, "time": 1718007342000, "metadata": {"version": "1.8.0", "product": {"name": "p"}}`
	tests := []struct {
		name string
		rec  string
		want []want
	}{
		{"base event", `{"class_uid": 0, "category_uid": 0, "activity_id": 0, "type_uid": 0, "class_name": "Base Event", "category_name": "Uncategorized", ` + base + `}`, nil},
		{"network activity needs an endpoint", `{"class_uid": 4001, "category_uid": 4, "activity_id": 6, "type_uid": 400106, ` + base + `}`,
			[]want{{"", "at least one of dst_endpoint, src_endpoint must be present"}}},
		{"network activity", `{"class_uid": 4001, "category_uid": 4, "activity_id": 6, "type_uid": 400106, "type_name": "Network Activity: Traffic", "src_endpoint": {"ip": "10.0.0.1", "port": 443}, ` + base + `}`, nil},
		{"windows extension class", `{"class_uid": 201001, "category_uid": 1, "activity_id": 1, "type_uid": 20100101, "actor": {"user": {"name": "u"}}, "device": {"type_id": 2, "hostname": "h"}, "reg_key": {"path": "HKLM\\Software"}, ` + base + `}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs, err := s.ValidateJSON([]byte(tt.rec))
			if err != nil {
				t.Fatal(err)
			}
			checkProblems(t, probs, tt.want)
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	s := loadSchema(b)
	for _, name := range []string{"vulnerability_finding.json", "api_activity.json"} {
		rec := decode(b, readExample(b, name), true)
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if probs := s.Validate(rec); probs != nil {
					b.Fatal(probs)
				}
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	fsys := schemaFS()
	for b.Loop() {
		if _, err := Load(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzValidateJSON(f *testing.F) {
	s := loadSchema(f)
	files, err := filepath.Glob("testdata/examples/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"class_uid": 2002, "vulnerabilities": [null, 1, {"cve": []}], "metadata": {"profiles": [1, "cloud", null]}}`))
	f.Add([]byte(`{"class_uid": 1e300, "type_uid": -1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		probs, err := s.ValidateJSON(data)
		if err != nil && probs != nil {
			t.Fatalf("both problems and an error: %v %v", probs, err)
		}
		for i := 1; i < len(probs); i++ {
			if probs[i-1].Path > probs[i].Path {
				t.Fatalf("problems not sorted by path: %v", probs)
			}
		}
	})
}
