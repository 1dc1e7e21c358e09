package ocsfschema

import (
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Requirement levels of an attribute.
const (
	Required    = "required"
	Recommended = "recommended"
	Optional    = "optional"
)

// Schema is a resolved OCSF schema: every class and object with its full
// attribute set after $include, extends, patches and dictionary merging.
// It is immutable after Load and safe for concurrent use.
type Schema struct {
	version  string
	classes  map[int]*Class
	byName   map[string]*Class
	objects  map[string]*Object
	types    map[string]*scalarType
	profiles map[string]bool
}

// Class is a resolved event class.
type Class struct {
	Name         string // e.g. "vulnerability_finding"; extension classes are scoped, e.g. "win/registry_key_activity"
	Caption      string // e.g. "Vulnerability Finding"
	UID          int    // class_uid, e.g. 2002
	CategoryUID  int
	CategoryName string // caption of the category, e.g. "Findings"
	Extension    string // name of the extension that defines the class, "" for core classes
	Deprecated   bool
	Profiles     []string // profiles declared along the extends chain
	Constraints  Constraints
	Attributes   map[string]*Attribute
	shape        *shape
}

// Object is a resolved object type.
type Object struct {
	Name        string // e.g. "vulnerability"; extension objects are scoped, e.g. "win/reg_key"
	Caption     string
	Extension   string
	Deprecated  bool
	Profiles    []string
	Constraints Constraints
	Attributes  map[string]*Attribute
	shape       *shape
}

// shape is what validation needs of a class or object, precomputed.
type shape struct {
	attrs    map[string]*Attribute
	cons     Constraints
	required []string // names of required attributes, sorted
	enumSibs []string // names of enum attributes with a sibling, sorted
}

func newShape(attrs map[string]*Attribute, cons Constraints) *shape {
	sh := &shape{attrs: attrs, cons: cons}
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		if a.Requirement == Required {
			sh.required = append(sh.required, name)
		}
		if a.Sibling != "" && len(a.Enum) > 0 {
			sh.enumSibs = append(sh.enumSibs, name)
		}
	}
	return sh
}

// Constraints are the validity rules of a class or object.
type Constraints struct {
	AtLeastOne []string // at least one of these attributes must be present
	JustOne    []string // exactly one of these attributes must be present
}

// Attribute is one resolved attribute of a class or object.
type Attribute struct {
	Name    string
	Caption string
	// Type is a dictionary type name ("string_t", "ip_t", "timestamp_t", ...)
	// or "object_t", in which case ObjectType names the object. ObjectType
	// "object" is the free-form object (e.g. unmapped).
	Type       string
	ObjectType string
	IsArray    bool
	// Requirement is "required", "recommended" or "optional". For a
	// profile attribute it applies only when the profile is in use.
	Requirement string
	// Profile is the profile that gates the attribute ("" when the attribute
	// is always part of its class or object). Profiles lists all of them
	// when there are several (any one of them enables the attribute).
	Profile  string
	Profiles []string
	// Enum maps each allowed value (decimal integer or string) to its caption.
	Enum map[string]string
	// Sibling is the string attribute that carries the enum caption
	// (severity_id -> severity).
	Sibling    string
	Deprecated bool
	Extension  string // extension whose dictionary defines the attribute, "" for core
}

// scalarType is a resolved dictionary type.
type scalarType struct {
	name    string
	base    string // root type: string_t, integer_t, long_t, float_t, boolean_t, json_t
	regex   *regexp.Regexp
	rangeOK bool
	min     float64
	max     float64
}

// Problem is one validation finding.
type Problem struct {
	Path string // attribute path, e.g. "vulnerabilities[0].cve.uid"; "" for the record itself
	Msg  string
}

// String formats the problem as "path: msg".
func (p Problem) String() string {
	path := p.Path
	if path == "" {
		path = "(record)"
	}
	return path + ": " + p.Msg
}

// Load resolves the schema found at the root of fsys (the layout of the
// ocsf-schema repository: version.json, categories.json, dictionary.json,
// events/, objects/, profiles/, extensions/). Platform extensions found under
// extensions/ are merged in, as the official schema compiler does by default.
func Load(fsys fs.FS) (*Schema, error) {
	c := newCompiler(fsys)
	return c.compile()
}

// Version returns the schema version from version.json, e.g. "1.8.0".
func (s *Schema) Version() string { return s.version }

// Class returns the resolved class with the given class_uid.
func (s *Schema) Class(uid int) (*Class, bool) {
	c, ok := s.classes[uid]
	return c, ok
}

// ClassByName returns the resolved class with the given name, e.g. "api_activity".
func (s *Schema) ClassByName(name string) (*Class, bool) {
	c, ok := s.byName[name]
	return c, ok
}

// Object returns the resolved object with the given name, e.g. "vulnerability".
func (s *Schema) Object(name string) (*Object, bool) {
	o, ok := s.objects[name]
	return o, ok
}

// ClassUIDs returns the uids of all classes, in increasing order.
func (s *Schema) ClassUIDs() []int {
	uids := make([]int, 0, len(s.classes))
	for uid := range s.classes {
		uids = append(uids, uid)
	}
	sort.Ints(uids)
	return uids
}

// Profiles returns the names of all profiles (extension profiles are scoped,
// e.g. "linux/linux_users"), sorted.
func (s *Schema) Profiles() []string { return sortedKeys(s.profiles) }

// enumKeys lists the enum values of a, numbers first in numeric order.
func (a *Attribute) enumKeys() []string {
	keys := sortedKeys(a.Enum)
	sort.SliceStable(keys, func(i, j int) bool {
		ni, ei := strconv.Atoi(keys[i])
		nj, ej := strconv.Atoi(keys[j])
		switch {
		case ei == nil && ej == nil:
			return ni < nj
		case ei == nil:
			return true
		default:
			return false
		}
	})
	return keys
}

func (a *Attribute) profileList() string { return strings.Join(a.Profiles, ", ") }
