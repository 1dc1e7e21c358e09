package ocsfschema

import (
	"bufio"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func schemaFS() fs.FS { return os.DirFS("testdata/schema") }

func loadSchema(tb testing.TB) *Schema {
	tb.Helper()
	s, err := Load(schemaFS())
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return s
}

// noExtensionsFS hides extensions/, giving the core schema that CLASSES.md
// was generated from.
type noExtensionsFS struct{ fs.FS }

func (f noExtensionsFS) Open(name string) (fs.File, error) {
	if name == "extensions" || strings.HasPrefix(name, "extensions/") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.FS.Open(name)
}

func loadCore(tb testing.TB) *Schema {
	tb.Helper()
	s, err := Load(noExtensionsFS{schemaFS()})
	if err != nil {
		tb.Fatalf("Load without extensions: %v", err)
	}
	return s
}

func TestLoadBasics(t *testing.T) {
	s := loadSchema(t)
	if got := s.Version(); got != "1.8.0" {
		t.Errorf("Version() = %q, want 1.8.0", got)
	}
	core := loadCore(t)
	if n := len(core.ClassUIDs()); n != 76 {
		t.Errorf("core schema has %d classes, want 76", n)
	}
	if n := len(core.objects); n != 174 {
		t.Errorf("core schema has %d objects, want 174", n)
	}
	if n := len(s.ClassUIDs()) - len(core.ClassUIDs()); n != 7 {
		t.Errorf("extensions add %d classes, want 7 (windows)", n)
	}
	for _, name := range []string{"finding", "iam", "network", "system", "discovery", "discovery_result", "application", "unmanned_systems"} {
		if _, ok := s.ClassByName(name); ok {
			t.Errorf("hidden base class %s is exposed", name)
		}
	}
	for _, name := range []string{"_entity", "_resource", "_dns"} {
		if _, ok := s.Object(name); ok {
			t.Errorf("hidden base object %s is exposed", name)
		}
	}

	tests := []struct {
		uid        int
		name       string
		caption    string
		attr       string
		typ        string
		objectType string
		isArray    bool
		req        string
		profile    string
	}{
		{2002, "vulnerability_finding", "Vulnerability Finding", "vulnerabilities", "object_t", "vulnerability", true, Required, ""},
		{2002, "vulnerability_finding", "Vulnerability Finding", "cloud", "object_t", "cloud", false, Required, "cloud"},
		{2002, "vulnerability_finding", "Vulnerability Finding", "device", "object_t", "device", false, Optional, ""},
		{2002, "vulnerability_finding", "Vulnerability Finding", "confidence_id", "integer_t", "", false, Recommended, ""},
		{2002, "vulnerability_finding", "Vulnerability Finding", "time_dt", "datetime_t", "", false, Optional, "datetime"},
		{2002, "vulnerability_finding", "Vulnerability Finding", "unmapped", "object_t", "object", false, Optional, ""},
		{2003, "compliance_finding", "Compliance Finding", "compliance", "object_t", "compliance", false, Required, ""},
		{2003, "compliance_finding", "Compliance Finding", "finding_info", "object_t", "finding_info", false, Required, ""},
		{2004, "detection_finding", "Detection Finding", "finding_info", "object_t", "finding_info", false, Required, ""},
		{2004, "detection_finding", "Detection Finding", "action_id", "integer_t", "", false, Recommended, "security_control"},
		{6003, "api_activity", "API Activity", "api", "object_t", "api", false, Required, ""},
		{6003, "api_activity", "API Activity", "actor", "object_t", "actor", false, Required, ""},
		{6003, "api_activity", "API Activity", "src_endpoint", "object_t", "network_endpoint", false, Required, ""},
		{6003, "api_activity", "API Activity", "device", "object_t", "device", false, Recommended, "host"},
		{4001, "network_activity", "Network Activity", "src_endpoint", "object_t", "network_endpoint", false, Recommended, ""},
		{4001, "network_activity", "Network Activity", "type_uid", "long_t", "", false, Required, ""},
		{0, "base_event", "Base Event", "class_uid", "integer_t", "", false, Required, ""},
		{201001, "win/registry_key_activity", "Registry Key Activity", "reg_key", "object_t", "win/reg_key", false, Required, ""},
	}
	for _, tt := range tests {
		c, ok := s.Class(tt.uid)
		if !ok {
			t.Errorf("Class(%d) not found", tt.uid)
			continue
		}
		if c.Name != tt.name || c.Caption != tt.caption || c.UID != tt.uid {
			t.Errorf("Class(%d) = %s %q %d, want %s %q", tt.uid, c.Name, c.Caption, c.UID, tt.name, tt.caption)
		}
		a := c.Attributes[tt.attr]
		if a == nil {
			t.Errorf("class %d has no attribute %s", tt.uid, tt.attr)
			continue
		}
		if a.Type != tt.typ || a.ObjectType != tt.objectType || a.IsArray != tt.isArray || a.Requirement != tt.req || a.Profile != tt.profile {
			t.Errorf("%d.%s = {%s %s array=%t %s %q}, want {%s %s array=%t %s %q}", tt.uid, tt.attr,
				a.Type, a.ObjectType, a.IsArray, a.Requirement, a.Profile,
				tt.typ, tt.objectType, tt.isArray, tt.req, tt.profile)
		}
	}

	c, _ := s.Class(4001)
	if got := strings.Join(c.Constraints.AtLeastOne, ","); got != "dst_endpoint,src_endpoint" {
		t.Errorf("4001 at_least_one = %s", got)
	}
	if c.CategoryUID != 4 || c.CategoryName != "Network Activity" {
		t.Errorf("4001 category = %d %q", c.CategoryUID, c.CategoryName)
	}
	vuln, _ := s.Object("vulnerability")
	if got := strings.Join(vuln.Constraints.JustOne, ","); got != "advisory,cve,cwe" {
		t.Errorf("vulnerability just_one = %s", got)
	}
	// Enums merge along extends: finding adds 1-3 to base_event's 0 and 99.
	c, _ = s.Class(2002)
	if got := strings.Join(c.Attributes["activity_id"].enumKeys(), ","); got != "0,1,2,3,99" {
		t.Errorf("2002 activity_id enum = %s", got)
	}
	if got := c.Attributes["type_uid"].Enum["200299"]; got != "Vulnerability Finding: Other" {
		t.Errorf("2002 type_uid enum 200299 = %q", got)
	}
	// Extensions patch core objects: the linux profile adds auid to process.
	p, _ := s.Object("process")
	if a := p.Attributes["auid"]; a == nil || a.Profile != "linux/linux_users" {
		t.Errorf("process.auid = %+v, want profile linux/linux_users", a)
	}
	if a := p.Attributes["euid"]; a == nil || strings.Join(a.Profiles, ",") != "linux/linux_users,macos/macos_users" {
		t.Errorf("process.euid = %+v, want profiles linux and macos", a)
	}
	if _, ok := loadCore(t).objects["process"].Attributes["auid"]; ok {
		t.Error("core process has auid without the linux extension")
	}
}

// TestLoadErrors checks that a broken schema gives an error, not a panic.
func TestLoadErrors(t *testing.T) {
	if _, err := Load(os.DirFS(t.TempDir())); err == nil {
		t.Error("Load(empty dir) succeeded")
	}
	if _, err := Load(os.DirFS("testdata/examples")); err == nil {
		t.Error("Load(examples dir) succeeded")
	}
}

// ---- comparison with CLASSES.md ----

type digestRow struct{ typ, req, profile string }

type digestClass struct {
	uid         int
	rows        map[string]digestRow
	enums       map[string][]string // attribute (or object.attribute) -> enum items
	enumObject  map[string]string   // object.attribute -> object name
	shared      []string
	constraints string
}

type digestObject struct {
	name          string
	constraints   string
	required      map[string]string
	recommended   map[string]string
	optionalCount int
	enums         map[string][]string
}

type digest struct {
	classes    []*digestClass
	objects    []*digestObject
	shared     map[string][]string
	observable []string
}

var (
	classHeadRE = regexp.MustCompile(`^## .* — class_uid (\d+)`)
	objHeadRE   = regexp.MustCompile("^### `([a-z0-9_]+)` — ")
	enumLineRE  = regexp.MustCompile(`^\*\*([a-z0-9_.]+)\*\*(?: \(([^)]*)\))?: (.*?)\s*$`)
	sharedRE    = regexp.MustCompile(`^- \*\*([a-z0-9_]+)\*\* — `)
	objEnumRE   = regexp.MustCompile(`^  - ([a-z0-9_]+): (.*?)\s*$`)
	obsRowRE    = regexp.MustCompile(`^\| (\d+) \| ([^|]+) \|`)
)

// parseEnum reads "0 Unknown · 1 Low · 99 Other" into a sorted list of
// "value caption" items; the digest marks deprecated values with a
// " (deprecated)" suffix, which is dropped. (String enum values may
// contain spaces, so items are not split.)
func parseEnum(s string) []string {
	var out []string
	for _, item := range strings.Split(s, " · ") {
		out = append(out, strings.TrimSuffix(strings.TrimSpace(item), " (deprecated)"))
	}
	sort.Strings(out)
	return out
}

func parseAttrList(s string) map[string]string {
	out := map[string]string{}
	if s == "—" {
		return out
	}
	for _, item := range strings.Split(s, "; ") {
		name, typ, _ := strings.Cut(item, ": ")
		out[name] = typ
	}
	return out
}

func parseDigest(t *testing.T) *digest {
	t.Helper()
	f, err := os.Open("testdata/CLASSES.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := &digest{shared: map[string][]string{}}
	var cls *digestClass
	var obj *digestObject
	section, pendingShared := "", ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			section, cls, obj = line, nil, nil
			if m := classHeadRE.FindStringSubmatch(line); m != nil {
				uid, _ := strconv.Atoi(m[1])
				cls = &digestClass{uid: uid, rows: map[string]digestRow{}, enums: map[string][]string{}, enumObject: map[string]string{}}
				d.classes = append(d.classes, cls)
			}
			continue
		case strings.HasPrefix(line, "### "):
			cls, obj = nil, nil
			if m := objHeadRE.FindStringSubmatch(line); m != nil {
				obj = &digestObject{name: m[1], enums: map[string][]string{}}
				d.objects = append(d.objects, obj)
			}
			continue
		}
		switch {
		case strings.HasPrefix(section, "## Enums shared"):
			if m := sharedRE.FindStringSubmatch(line); m != nil {
				pendingShared = m[1]
			} else if pendingShared != "" && strings.HasPrefix(line, "  ") {
				d.shared[pendingShared] = parseEnum(strings.TrimSpace(line))
				pendingShared = ""
			}
		case strings.HasPrefix(section, "## observable.type_id"):
			if m := obsRowRE.FindStringSubmatch(line); m != nil {
				d.observable = append(d.observable, m[1]+" "+strings.TrimSpace(m[2]))
			}
		case cls != nil:
			switch {
			case strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| attribute "):
				cells := strings.Split(line, "|")
				if len(cells) < 6 {
					continue
				}
				cls.rows[strings.TrimSpace(cells[1])] = digestRow{strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3]), strings.TrimSpace(cells[4])}
			case strings.HasPrefix(line, "- constraints: "):
				cls.constraints = strings.TrimPrefix(line, "- constraints: ")
			case strings.HasPrefix(line, "Shared enums"):
				_, list, _ := strings.Cut(line, "): ")
				cls.shared = strings.Split(strings.TrimSpace(list), ", ")
			default:
				if m := enumLineRE.FindStringSubmatch(line); m != nil {
					cls.enums[m[1]] = parseEnum(m[3])
					if o, ok := strings.CutPrefix(m[2], "object `"); ok {
						cls.enumObject[m[1]] = strings.TrimSuffix(o, "`")
					}
				}
			}
		case obj != nil:
			switch {
			case strings.HasPrefix(line, "- required: "):
				obj.required = parseAttrList(strings.TrimPrefix(line, "- required: "))
			case strings.HasPrefix(line, "- recommended: "):
				obj.recommended = parseAttrList(strings.TrimPrefix(line, "- recommended: "))
			case strings.HasPrefix(line, "- optional: "):
				obj.optionalCount, _ = strconv.Atoi(strings.Fields(strings.TrimPrefix(line, "- optional: "))[0])
			case strings.Contains(line, "constraints: ") && !strings.HasPrefix(line, "-"):
				_, c, _ := strings.Cut(line, "constraints: ")
				obj.constraints = strings.TrimSuffix(c, ".")
			default:
				if m := objEnumRE.FindStringSubmatch(line); m != nil {
					obj.enums[m[1]] = parseEnum(m[2])
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

func digestType(a *Attribute) string {
	t := a.Type
	if t == "object_t" {
		t = a.ObjectType
	}
	if a.IsArray {
		t += "[]"
	}
	return t
}

func constraintString(c Constraints) string {
	var parts []string
	if len(c.AtLeastOne) > 0 {
		parts = append(parts, "at_least_one: "+strings.Join(c.AtLeastOne, ", "))
	}
	if len(c.JustOne) > 0 {
		parts = append(parts, "just_one: "+strings.Join(c.JustOne, ", "))
	}
	return strings.Join(parts, "; ")
}

func enumItems(m map[string]string) []string {
	var out []string
	for k, caption := range m {
		out = append(out, k+" "+caption)
	}
	sort.Strings(out)
	return out
}

func enumString(items []string) string { return strings.Join(items, " · ") }

// TestResolverMatchesDigest compares the resolved core schema with every
// class and object section of CLASSES.md: attribute sets, types,
// requirements, profiles, enums and constraints.
func TestResolverMatchesDigest(t *testing.T) {
	d := parseDigest(t)
	if len(d.classes) < 18 || len(d.objects) < 100 {
		t.Fatalf("parsed %d classes and %d objects from CLASSES.md", len(d.classes), len(d.objects))
	}
	for _, s := range []*Schema{loadCore(t), loadSchema(t)} {
		for _, dc := range d.classes {
			c, ok := s.Class(dc.uid)
			if !ok {
				t.Errorf("class %d missing", dc.uid)
				continue
			}
			var names []string
			for name := range c.Attributes {
				if !strings.HasSuffix(name, "_dt") {
					names = append(names, name)
				}
			}
			if len(names) != len(dc.rows) {
				t.Errorf("class %d: %d attributes, CLASSES.md lists %d", dc.uid, len(names), len(dc.rows))
			}
			for name, row := range dc.rows {
				a := c.Attributes[name]
				if a == nil {
					t.Errorf("class %d: attribute %s missing", dc.uid, name)
					continue
				}
				got := digestRow{digestType(a), a.Requirement, a.Profile}
				if got != row {
					t.Errorf("class %d.%s = %+v, CLASSES.md %+v", dc.uid, name, got, row)
				}
				if dt := c.Attributes[name+"_dt"]; a.Type == "timestamp_t" && (dt == nil || dt.Type != "datetime_t" || dt.Profile != "datetime") {
					t.Errorf("class %d: %s_dt = %+v, want datetime_t in profile datetime", dc.uid, name, dt)
				}
			}
			if got := constraintString(c.Constraints); got != dc.constraints {
				t.Errorf("class %d constraints = %q, CLASSES.md %q", dc.uid, got, dc.constraints)
			}
			for name, want := range dc.enums {
				var a *Attribute
				if o, ok := dc.enumObject[name]; ok {
					_, attr, _ := strings.Cut(name, ".")
					if obj, ok := s.Object(o); ok {
						a = obj.Attributes[attr]
					}
				} else {
					a = c.Attributes[name]
				}
				if a == nil {
					t.Errorf("class %d: enum attribute %s missing", dc.uid, name)
					continue
				}
				if got := enumString(enumItems(a.Enum)); got != enumString(want) {
					t.Errorf("class %d enum %s:\n got  %s\n want %s", dc.uid, name, got, enumString(want))
				}
			}
			for _, name := range dc.shared {
				if got, want := enumString(enumItems(c.Attributes[name].Enum)), enumString(d.shared[name]); got != want {
					t.Errorf("class %d shared enum %s:\n got  %s\n want %s", dc.uid, name, got, want)
				}
			}
		}
	}
	// Objects: compared with the core schema only, as the platform
	// extensions patch some of them (process, evidences, ...).
	s := loadCore(t)
	for _, do := range d.objects {
		o, ok := s.Object(do.name)
		if !ok {
			t.Errorf("object %s missing", do.name)
			continue
		}
		req, rec, opt := map[string]string{}, map[string]string{}, 0
		for name, a := range o.Attributes {
			typ := digestType(a)
			if a.Profile != "" {
				typ += " [" + a.Profile + "]"
			}
			switch {
			case strings.HasSuffix(name, "_dt") || a.Deprecated: // the digest leaves these out
			case a.Requirement == Required:
				req[name] = typ
			case a.Requirement == Recommended:
				rec[name] = typ
			default:
				opt++
			}
		}
		if !equalMaps(req, do.required) || !equalMaps(rec, do.recommended) {
			t.Errorf("object %s:\n required %v recommended %v\n CLASSES.md %v %v", do.name, req, rec, do.required, do.recommended)
		}
		if opt != do.optionalCount {
			t.Errorf("object %s: %d optional attributes, CLASSES.md %d", do.name, opt, do.optionalCount)
		}
		if got := constraintString(o.Constraints); got != do.constraints {
			t.Errorf("object %s constraints = %q, CLASSES.md %q", do.name, got, do.constraints)
		}
		for name, want := range do.enums {
			a := o.Attributes[name]
			if a == nil {
				t.Errorf("object %s: enum attribute %s missing", do.name, name)
				continue
			}
			if got := enumString(enumItems(a.Enum)); got != enumString(want) {
				t.Errorf("object %s enum %s:\n got  %s\n want %s", do.name, name, got, enumString(want))
			}
		}
	}
	obs, _ := s.Object("observable")
	sort.Strings(d.observable)
	if got, want := enumString(enumItems(obs.Attributes["type_id"].Enum)), enumString(d.observable); got != want {
		t.Errorf("observable.type_id enum:\n got  %s\n want %s", got, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	keys := sortedKeys(a)
	sort.Strings(keys)
	for _, k := range keys {
		if bv, ok := b[k]; !ok || bv != a[k] {
			return false
		}
	}
	return true
}
