package ocsfschema

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The resolution below follows the order of the official OCSF schema
// compiler (ocsf-schema-compiler): $include of profiles, extension merging
// and patching, extends, datetime siblings, then merging every attribute
// over its dictionary entry.

// extension is one schema extension read from extensions/<dir>/.
type extension struct {
	dir           string
	uid           int
	name          string
	categories    jobj
	classes       map[string]jobj
	classPatches  map[string]jobj
	objects       map[string]jobj
	objectPatches map[string]jobj
	dict          jobj // dictionary attributes
	dictTypes     jobj // dictionary types
	profiles      map[string]jobj
}

type compiler struct {
	fsys          fs.FS
	version       string
	categories    jobj // category name -> {uid, caption}
	dict          jobj // dictionary attributes (extension ones scoped "ext/name")
	types         jobj // dictionary types
	classes       map[string]jobj
	objects       map[string]jobj
	classPatches  map[string][]jobj
	objectPatches map[string][]jobj
	profiles      map[string]jobj // profile name (extension ones scoped) -> profile
	includeCache  map[string]jobj
	observables   jobj // observable type_id -> enum entry
}

func newCompiler(fsys fs.FS) *compiler {
	return &compiler{
		fsys:          fsys,
		classes:       map[string]jobj{},
		objects:       map[string]jobj{},
		classPatches:  map[string][]jobj{},
		objectPatches: map[string][]jobj{},
		profiles:      map[string]jobj{},
		includeCache:  map[string]jobj{},
		observables:   jobj{},
	}
}

func (c *compiler) compile() (*Schema, error) {
	if err := c.readBase(); err != nil {
		return nil, err
	}
	if err := c.readExtensions(); err != nil {
		return nil, err
	}
	if err := c.dictionaryObjectTypes(); err != nil {
		return nil, err
	}
	if err := c.processClasses(); err != nil {
		return nil, err
	}
	if err := c.processObjects(); err != nil {
		return nil, err
	}
	c.datetimeDictionary()
	if err := c.observablesFromDictionary(); err != nil {
		return nil, err
	}
	if obs, ok := c.objects["observable"]; ok {
		attrs := objAttrs(obs)
		typeID, _ := attrs["type_id"].(jobj)
		if typeID == nil {
			typeID = jobj{}
			attrs["type_id"] = typeID
		}
		enum, _ := typeID["enum"].(jobj)
		if enum == nil {
			enum = jobj{}
			typeID["enum"] = enum
		}
		for k, v := range c.observables {
			if _, dup := enum[k]; dup {
				return nil, fmt.Errorf("observable type_id %s defined twice", k)
			}
			enum[k] = v
		}
	}
	if err := c.addDatetime(c.objects, "object"); err != nil {
		return nil, err
	}
	if err := c.addDatetime(c.classes, "class"); err != nil {
		return nil, err
	}
	return c.finish()
}

// ---- reading ----

func (c *compiler) readBase() error {
	v, err := readJSONObject(c.fsys, "version.json")
	if err != nil {
		return fmt.Errorf("load schema version: %w", err)
	}
	c.version = getString(v, "version")
	if c.version == "" {
		return errors.New("load schema version: version.json has no \"version\"")
	}
	cats, err := readJSONObject(c.fsys, "categories.json")
	if err != nil {
		return fmt.Errorf("load categories: %w", err)
	}
	c.categories = getObj(cats, "attributes")
	if c.categories == nil {
		c.categories = jobj{}
	}
	d, err := readJSONObject(c.fsys, "dictionary.json")
	if err != nil {
		return fmt.Errorf("load dictionary: %w", err)
	}
	c.dict = getObj(d, "attributes")
	c.types = getObj(getObj(d, "types"), "attributes")
	if c.dict == nil || c.types == nil {
		return errors.New("load dictionary: dictionary.json lacks attributes or types")
	}
	if c.classes, _, err = c.readItems(".", "events", false); err != nil {
		return fmt.Errorf("load classes: %w", err)
	}
	if c.objects, _, err = c.readItems(".", "objects", false); err != nil {
		return fmt.Errorf("load objects: %w", err)
	}
	profiles, err := c.readProfiles(".")
	if err != nil {
		return fmt.Errorf("load profiles: %w", err)
	}
	c.profiles = profiles
	resolve := func(name string) (string, error) { return path.Clean(name), nil }
	for _, name := range sortedKeys(c.classes) {
		if err := c.resolveIncludes(c.classes[name], resolve); err != nil {
			return fmt.Errorf("class %s: %w", name, err)
		}
	}
	for _, name := range sortedKeys(c.objects) {
		if err := c.resolveIncludes(c.objects[name], resolve); err != nil {
			return fmt.Errorf("object %s: %w", name, err)
		}
	}
	return nil
}

// jsonFiles lists the .json files under dir (recursively), sorted; a missing
// directory yields none.
func (c *compiler) jsonFiles(dir string) ([]string, error) {
	var files []string
	err := fs.WalkDir(c.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}

// readItems reads the classes or objects under base/kind, keyed by name. With
// patchable set (extensions), files that only extend an item of the same
// name are returned as patches keyed by the patched item.
func (c *compiler) readItems(base, kind string, patchable bool) (items, patches map[string]jobj, err error) {
	files, err := c.jsonFiles(path.Join(base, kind))
	if err != nil {
		return nil, nil, err
	}
	items, patches = map[string]jobj{}, map[string]jobj{}
	for _, f := range files {
		o, err := readJSONObject(c.fsys, f)
		if err != nil {
			return nil, nil, err
		}
		upgradeAttributeProfiles(o)
		name, extends := getString(o, "name"), getString(o, "extends")
		if patchable && extends != "" && (name == "" || name == extends) {
			if _, dup := patches[extends]; dup {
				return nil, nil, fmt.Errorf("%s: second patch of %q", f, extends)
			}
			patches[extends] = o
			continue
		}
		if name == "" {
			return nil, nil, fmt.Errorf("%s: no \"name\"", f)
		}
		if _, dup := items[name]; dup {
			return nil, nil, fmt.Errorf("%s: duplicate name %q", f, name)
		}
		items[name] = o
	}
	return items, patches, nil
}

// readProfiles reads base/profiles/*.json keyed by profile name and caches
// each file for $include.
func (c *compiler) readProfiles(base string) (map[string]jobj, error) {
	files, err := c.jsonFiles(path.Join(base, "profiles"))
	if err != nil {
		return nil, err
	}
	out := map[string]jobj{}
	for _, f := range files {
		o, err := readJSONObject(c.fsys, f)
		if err != nil {
			return nil, err
		}
		name := getString(o, "name")
		if name == "" {
			return nil, fmt.Errorf("%s: no \"name\"", f)
		}
		c.includeCache[f] = o
		out[name] = o
	}
	return out, nil
}

// upgradeAttributeProfiles turns an attribute's "profile" into "profiles":
// a one-element list, or null when "profile" is null (which means: always
// part of the item, not gated by a profile).
func upgradeAttributeProfiles(item jobj) {
	for name, a := range getObj(item, "attributes") {
		attr, ok := a.(jobj)
		if name == "$include" || !ok {
			continue
		}
		if p, has := attr["profile"]; has {
			if s, ok := p.(string); ok {
				attr["profiles"] = []any{s}
			} else {
				attr["profiles"] = nil
			}
			delete(attr, "profile")
		}
	}
}

func objAttrs(item jobj) jobj {
	attrs, _ := item["attributes"].(jobj)
	if attrs == nil {
		attrs = jobj{}
		item["attributes"] = attrs
	}
	return attrs
}

// resolveIncludes merges the files named by "$include" into item: at the
// attributes level (profiles: their attributes are tagged with the profile
// name, the item's own keys win) and inside single attributes.
func (c *compiler) resolveIncludes(item jobj, resolve func(string) (string, error)) error {
	attrs := objAttrs(item)
	if inc, ok := attrs["$include"]; ok {
		delete(attrs, "$include")
		var names []string
		switch t := inc.(type) {
		case string:
			names = []string{t}
		case []any:
			names = stringList(t)
			if len(names) != len(t) {
				return errors.New("$include: list holds a non-string")
			}
		default:
			return fmt.Errorf("$include: unexpected %s", jsonKind(inc))
		}
		for _, n := range names {
			p, err := resolve(n)
			if err != nil {
				return err
			}
			inc, err := c.include(p)
			if err != nil {
				return err
			}
			merged := copyObj(getObj(inc, "attributes"))
			if merged == nil {
				merged = jobj{}
			}
			if getString(inc, "meta") == "profile" {
				pname := getString(inc, "name")
				if pname == "" {
					return fmt.Errorf("$include %s: profile has no name", n)
				}
				for _, a := range merged {
					if attr, ok := a.(jobj); ok {
						attr["profiles"] = []any{pname}
					}
				}
			}
			if ann := getObj(inc, "annotations"); ann != nil {
				for _, a := range merged {
					if attr, ok := a.(jobj); ok {
						for k, v := range ann {
							if _, has := attr[k]; !has {
								attr[k] = deepCopy(v)
							}
						}
					}
				}
			}
			mergeAttributes(merged, objAttrs(item))
			item["attributes"] = merged
		}
		attrs = objAttrs(item)
	}
	for _, name := range sortedKeys(attrs) {
		attr, ok := attrs[name].(jobj)
		if !ok {
			continue
		}
		inc, has := attr["$include"]
		if !has {
			continue
		}
		delete(attr, "$include")
		n, ok := inc.(string)
		if !ok {
			return fmt.Errorf("attribute %s: $include is %s, not a string", name, jsonKind(inc))
		}
		p, err := resolve(n)
		if err != nil {
			return err
		}
		incObj, err := c.include(p)
		if err != nil {
			return err
		}
		merged := copyObj(incObj)
		deepMerge(merged, attr)
		attrs[name] = merged
	}
	return nil
}

func (c *compiler) include(p string) (jobj, error) {
	if o, ok := c.includeCache[p]; ok {
		return o, nil
	}
	o, err := readJSONObject(c.fsys, p)
	if err != nil {
		return nil, fmt.Errorf("$include: %w", err)
	}
	c.includeCache[p] = o
	return o, nil
}

func (c *compiler) exists(p string) bool {
	_, err := fs.Stat(c.fsys, p)
	return err == nil
}

// ---- attribute merging (the compiler's merge rules) ----

// mergeAttributes merges the attributes src over dest.
func mergeAttributes(dest, src jobj) {
	for name, s := range src {
		sa, ok := s.(jobj)
		if !ok {
			continue
		}
		if da, ok := dest[name].(jobj); ok {
			mergeAttributeProperties(da, sa)
		} else {
			dest[name] = copyObj(sa)
		}
	}
}

// mergeAttributeProperties merges the properties of src over dest: "profiles"
// are united (null wins: the attribute is then not profile-gated), an
// attribute in two profiles keeps the stronger requirement, objects (enum)
// are deep-merged, anything else is replaced. "profiles" is merged last, as
// it comes last in the compiler's attribute maps.
func mergeAttributeProperties(dest, src jobj) {
	keys := sortedKeys(src)
	for i, k := range keys {
		if k == "profiles" {
			keys = append(append(keys[:i:i], keys[i+1:]...), "profiles")
			break
		}
	}
	for _, k := range keys {
		sv := src[k]
		dv, has := dest[k]
		switch {
		case !has:
			dest[k] = deepCopy(sv)
		case equalJSON(sv, dv):
		case k == "profiles":
			if sv == nil {
				dest[k] = nil
			} else if dv == nil {
				dest[k] = deepCopy(sv)
			} else {
				dest[k] = unionSorted(stringList(dv), stringList(sv))
			}
		case k == "requirement" && src["profiles"] != nil && hasKey(dest, "profiles"):
			ds, _ := dv.(string)
			ss, _ := sv.(string)
			if rank(ss) > rank(ds) {
				dest[k] = ss
			}
		default:
			dm, dok := dv.(jobj)
			sm, sok := sv.(jobj)
			if dok && sok {
				deepMerge(dm, sm)
			} else {
				dest[k] = deepCopy(sv)
			}
		}
	}
}

func hasKey(o jobj, k string) bool { _, ok := o[k]; return ok }

func rank(req string) int {
	switch req {
	case Required:
		return 3
	case Recommended:
		return 2
	case Optional:
		return 1
	}
	return 0
}

// ---- extensions ----

func (c *compiler) readExtensions() error {
	files, err := c.jsonFiles("extensions")
	if err != nil {
		return fmt.Errorf("load extensions: %w", err)
	}
	var exts []*extension
	for _, f := range files {
		if path.Base(f) != "extension.json" {
			continue
		}
		ext, err := c.readExtension(path.Dir(f))
		if err != nil {
			return fmt.Errorf("load extension %s: %w", path.Dir(f), err)
		}
		exts = append(exts, ext)
	}
	sort.Slice(exts, func(i, j int) bool { return exts[i].uid < exts[j].uid })
	seen := map[string]bool{}
	for _, ext := range exts {
		if seen[ext.name] {
			return fmt.Errorf("load extensions: two extensions named %q", ext.name)
		}
		seen[ext.name] = true
		if err := c.prepareExtension(ext); err != nil {
			return fmt.Errorf("extension %s: %w", ext.name, err)
		}
	}
	for _, ext := range exts {
		c.mergeExtension(ext)
	}
	return nil
}

func (c *compiler) readExtension(dir string) (*extension, error) {
	info, err := readJSONObject(c.fsys, path.Join(dir, "extension.json"))
	if err != nil {
		return nil, err
	}
	uid, ok := getInt(info, "uid")
	name := getString(info, "name")
	if !ok || name == "" {
		return nil, errors.New("extension.json needs an integer uid and a name")
	}
	ext := &extension{dir: dir, uid: uid, name: name, categories: jobj{}, dict: jobj{}, dictTypes: jobj{}}
	if p := path.Join(dir, "categories.json"); c.exists(p) {
		cats, err := readJSONObject(c.fsys, p)
		if err != nil {
			return nil, err
		}
		if a := getObj(cats, "attributes"); a != nil {
			ext.categories = a
		}
	}
	if ext.classes, ext.classPatches, err = c.readItems(dir, "events", true); err != nil {
		return nil, err
	}
	if ext.objects, ext.objectPatches, err = c.readItems(dir, "objects", true); err != nil {
		return nil, err
	}
	if p := path.Join(dir, "dictionary.json"); c.exists(p) {
		d, err := readJSONObject(c.fsys, p)
		if err != nil {
			return nil, err
		}
		if a := getObj(d, "attributes"); a != nil {
			ext.dict = a
		}
		if t := getObj(getObj(d, "types"), "attributes"); t != nil {
			ext.dictTypes = t
		}
	}
	if ext.profiles, err = c.readProfiles(dir); err != nil {
		return nil, err
	}
	return ext, nil
}

// prepareExtension resolves the includes of an extension's items and scopes
// the names they use that refer to the extension's own definitions.
func (c *compiler) prepareExtension(ext *extension) error {
	resolve := func(name string) (string, error) {
		if p := path.Join(ext.dir, name); c.exists(p) {
			return p, nil
		}
		if p := path.Clean(name); c.exists(p) {
			return p, nil
		}
		return "", fmt.Errorf("$include %s: not found in the extension or the schema", name)
	}
	groups := []map[string]jobj{ext.classes, ext.classPatches, ext.objects, ext.objectPatches}
	for _, g := range groups {
		for _, name := range sortedKeys(g) {
			if err := c.resolveIncludes(g[name], resolve); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	// Annotate: items, and attributes defined by the extension's dictionary.
	for _, cat := range ext.categories {
		if m, ok := cat.(jobj); ok {
			if u, ok := getInt(m, "uid"); ok {
				m["uid"] = float64(ext.uid*100 + u)
			}
			m["extension"] = ext.name
		}
	}
	for _, g := range groups {
		for _, item := range g {
			item["extension"] = ext.name
			item["extension_id"] = float64(ext.uid)
			for name, a := range objAttrs(item) {
				if attr, ok := a.(jobj); ok && hasKey(ext.dict, name) {
					attr["extension"] = ext.name
				}
			}
		}
	}
	for _, a := range ext.dict {
		if attr, ok := a.(jobj); ok {
			attr["extension"] = ext.name
		}
	}
	for _, t := range ext.dictTypes {
		if tt, ok := t.(jobj); ok {
			tt["extension"] = ext.name
		}
	}
	// Scope categories, object types and profiles.
	for _, cls := range ext.classes {
		if cat := getString(cls, "category"); cat != "" && hasKey(ext.categories, cat) {
			cls["category"] = ext.name + "/" + cat
		}
	}
	scopeTypes := func(attrs jobj) {
		for _, a := range attrs {
			if attr, ok := a.(jobj); ok {
				if t := getString(attr, "type"); t != "" && ext.objects[t] != nil {
					attr["type"] = ext.name + "/" + t
				}
			}
		}
	}
	for _, g := range groups {
		for _, item := range g {
			scopeTypes(objAttrs(item))
		}
	}
	scopeTypes(ext.dict)
	scope := func(p string) (string, error) {
		if before, after, found := strings.Cut(p, "/"); found {
			if before != ext.name || ext.profiles[after] == nil {
				return "", fmt.Errorf("unknown profile %q", p)
			}
			return p, nil
		}
		if ext.profiles[p] != nil {
			return ext.name + "/" + p, nil
		}
		if c.profiles[p] != nil {
			return p, nil
		}
		return "", fmt.Errorf("unknown profile %q", p)
	}
	scopeList := func(v any) (any, error) {
		list := stringList(v)
		out := make([]any, len(list))
		for i, p := range list {
			s, err := scope(p)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	for _, g := range groups {
		for _, name := range sortedKeys(g) {
			item := g[name]
			if p, ok := item["profiles"].([]any); ok {
				l, err := scopeList(p)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				item["profiles"] = l
			}
			for an, a := range objAttrs(item) {
				attr, ok := a.(jobj)
				if !ok {
					continue
				}
				if p, ok := attr["profiles"].([]any); ok {
					l, err := scopeList(p)
					if err != nil {
						return fmt.Errorf("%s.%s: %w", name, an, err)
					}
					attr["profiles"] = l
				}
			}
		}
	}
	return nil
}

func (c *compiler) mergeExtension(ext *extension) {
	for name, cat := range ext.categories {
		c.categories[ext.name+"/"+name] = cat
	}
	for name, cls := range ext.classes {
		c.classes[ext.name+"/"+name] = cls
	}
	for name, obj := range ext.objects {
		c.objects[ext.name+"/"+name] = obj
	}
	for name, a := range ext.dict {
		c.dict[ext.name+"/"+name] = a
	}
	// Platform extensions share the base schema's type names.
	for name, t := range ext.dictTypes {
		if !hasKey(c.types, name) {
			c.types[name] = t
		}
	}
	for name, p := range ext.profiles {
		c.profiles[ext.name+"/"+name] = p
	}
	for _, name := range sortedKeys(ext.classPatches) {
		c.classPatches[name] = append(c.classPatches[name], ext.classPatches[name])
	}
	for _, name := range sortedKeys(ext.objectPatches) {
		c.objectPatches[name] = append(c.objectPatches[name], ext.objectPatches[name])
	}
}

// ---- dictionary ----

// dictType returns the dictionary type named t, looked up in the scope of
// the extension ext first.
func (c *compiler) dictType(ext, t string) jobj {
	if ext != "" {
		if m := getObj(c.types, ext+"/"+t); m != nil {
			return m
		}
	}
	return getObj(c.types, t)
}

// dictionaryObjectTypes marks dictionary attributes whose type is not a
// dictionary type as objects: type "object_t" with "object_type".
func (c *compiler) dictionaryObjectTypes() error {
	for _, name := range sortedKeys(c.dict) {
		attr, ok := c.dict[name].(jobj)
		if !ok {
			return fmt.Errorf("dictionary attribute %s is not an object", name)
		}
		t := getString(attr, "type")
		if t == "" {
			return fmt.Errorf("dictionary attribute %s has no type", name)
		}
		if c.dictType(getString(attr, "extension"), t) != nil {
			continue
		}
		if c.objects[t] == nil {
			return fmt.Errorf("dictionary attribute %s uses undefined type or object %q", name, t)
		}
		attr["type"] = "object_t"
		attr["object_type"] = t
	}
	return nil
}

func (c *compiler) dictAttr(name string, attr jobj) jobj {
	if ext := getString(attr, "extension"); ext != "" {
		if m := getObj(c.dict, ext+"/"+name); m != nil {
			return m
		}
	}
	return getObj(c.dict, name)
}

// datetimeDictionary adds X_dt (datetime_t) for every timestamp_t dictionary
// attribute X when the schema has the datetime profile.
func (c *compiler) datetimeDictionary() {
	if !c.datetimeEnabled() {
		return
	}
	add := jobj{}
	for name, a := range c.dict {
		if attr, ok := a.(jobj); ok && getString(attr, "type") == "timestamp_t" {
			dt := copyObj(attr)
			dt["type"] = "datetime_t"
			dt["type_name"] = "Datetime"
			add[name+"_dt"] = dt
		}
	}
	for k, v := range add {
		c.dict[k] = v
	}
}

func (c *compiler) datetimeEnabled() bool {
	return c.profiles["datetime"] != nil && hasKey(c.types, "datetime_t") && hasKey(c.types, "timestamp_t")
}

// ---- observables ----

func (c *compiler) addObservable(id any, caption, desc string) error {
	n, ok := id.(float64)
	if !ok {
		return fmt.Errorf("observable %v of %s is not a number", id, caption)
	}
	key := strconv.FormatFloat(n, 'f', -1, 64)
	if prev, dup := c.observables[key]; dup {
		return fmt.Errorf("observable type_id %s of %q collides with %q", key, caption, getString(prev.(jobj), "caption"))
	}
	c.observables[key] = jobj{"caption": caption, "description": desc}
	return nil
}

// itemCaption is the caption of an item, or of its nearest ancestor that has one.
func itemCaption(items map[string]jobj, name string, item jobj) string {
	for range 64 {
		if cp := getString(item, "caption"); cp != "" {
			return cp
		}
		parent := items[getString(item, "extends")]
		if parent == nil {
			break
		}
		item = parent
	}
	return name
}

func (c *compiler) observablesFromItems(items map[string]jobj, patches map[string][]jobj, kind string) error {
	one := func(name string, item jobj, caption string) error {
		if kind == "Object" {
			if id, ok := item["observable"]; ok {
				if err := c.addObservable(id, caption, "Object"); err != nil {
					return err
				}
			}
		}
		attrs := objAttrs(item)
		for _, an := range sortedKeys(attrs) {
			attr, _ := attrs[an].(jobj)
			if id, ok := attr["observable"]; ok {
				if err := c.addObservable(id, caption+" "+kind+": "+an, kind+"-Specific Attribute"); err != nil {
					return err
				}
			}
		}
		if kind == "Class" {
			obs := getObj(item, "observables")
			for _, p := range sortedKeys(obs) {
				if err := c.addObservable(obs[p], caption+" "+kind+": "+p, kind+"-Specific Attribute"); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, name := range sortedKeys(items) {
		if err := one(name, items[name], itemCaption(items, name, items[name])); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(patches) {
		for _, p := range patches[name] {
			caption := name
			if base := items[name]; base != nil {
				caption = itemCaption(items, name, base)
			}
			if err := one(name, p, caption); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *compiler) observablesFromDictionary() error {
	groups := []struct {
		items jobj
		kind  string
	}{{c.types, "Dictionary Type"}, {c.dict, "Dictionary Attribute"}}
	for _, g := range groups {
		for _, name := range sortedKeys(g.items) {
			attr, _ := g.items[name].(jobj)
			if id, ok := attr["observable"]; ok {
				if err := c.addObservable(id, getString(attr, "caption"), g.kind); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ---- patches and extends ----

func (c *compiler) resolvePatches(items map[string]jobj, patches map[string][]jobj, kind string) error {
	for _, name := range sortedKeys(patches) {
		base := items[name]
		if base == nil {
			return fmt.Errorf("extension patch of undefined %s %q", kind, name)
		}
		for _, p := range patches[name] {
			if prof := unionSorted(stringList(base["profiles"]), stringList(p["profiles"])); len(prof) > 0 {
				base["profiles"] = prof
			}
			mergeAttributes(objAttrs(base), objAttrs(p))
			for _, k := range []string{"observable", "observables", "references", "associations"} {
				if v, ok := p[k]; ok && v != nil {
					base[k] = deepCopy(v)
				}
			}
			if cons, ok := p["constraints"]; ok {
				if m, ok := cons.(jobj); ok && len(m) > 0 {
					base["constraints"] = deepCopy(m)
				} else {
					delete(base, "constraints")
				}
			}
		}
	}
	return nil
}

// resolveExtends flattens every item over a copy of its parent, the child
// winning key by key (attributes merged, profiles united).
func resolveExtends(items map[string]jobj, kind string) error {
	done := map[string]bool{}
	var resolve func(name string, depth int) error
	resolve = func(name string, depth int) error {
		if done[name] {
			return nil
		}
		if depth > 64 {
			return fmt.Errorf("%s %s: extends chain too deep or cyclic", kind, name)
		}
		item := items[name]
		parentName := getString(item, "extends")
		if parentName == "" {
			done[name] = true
			return nil
		}
		if ext := getString(item, "extension"); ext != "" && items[ext+"/"+parentName] != nil {
			parentName = ext + "/" + parentName
		}
		if items[parentName] == nil {
			return fmt.Errorf("%s %s extends undefined %s %q", kind, name, kind, parentName)
		}
		if err := resolve(parentName, depth+1); err != nil {
			return err
		}
		merged := copyObj(items[parentName])
		for k, v := range item {
			switch k {
			case "attributes":
				attrs, _ := merged["attributes"].(jobj)
				if attrs == nil {
					attrs = jobj{}
				}
				src, _ := v.(jobj)
				mergeAttributes(attrs, src)
				merged["attributes"] = attrs
			case "profiles":
				if prof := unionSorted(stringList(merged["profiles"]), stringList(v)); len(prof) > 0 {
					merged["profiles"] = prof
				}
			default:
				merged[k] = deepCopy(v)
			}
		}
		items[name] = merged
		done[name] = true
		return nil
	}
	for _, name := range sortedKeys(items) {
		if err := resolve(name, 0); err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) processClasses() error {
	if err := c.observablesFromItems(c.classes, c.classPatches, "Class"); err != nil {
		return fmt.Errorf("class observables: %w", err)
	}
	if err := c.resolvePatches(c.classes, c.classPatches, "class"); err != nil {
		return err
	}
	if err := resolveExtends(c.classes, "class"); err != nil {
		return err
	}
	for name, cls := range c.classes {
		if name != "base_event" && !hasKey(cls, "uid") {
			delete(c.classes, name) // hidden base class
		}
	}
	for _, name := range sortedKeys(c.classes) {
		if err := c.enrichClass(name, c.classes[name]); err != nil {
			return fmt.Errorf("class %s: %w", name, err)
		}
	}
	return nil
}

// enrichClass computes class_uid and the class_uid, category_uid and
// type_uid enums.
func (c *compiler) enrichClass(name string, cls jobj) error {
	attrs := objAttrs(cls)
	catKey := getString(cls, "category")
	cat := getObj(c.categories, catKey)
	catUID := 0
	if cat != nil {
		catUID, _ = getInt(cat, "uid")
		cls["category_name"] = getString(cat, "caption")
	} else if catKey != "other" {
		return fmt.Errorf("undefined category %q", catKey)
	}
	local, _ := getInt(cls, "uid")
	scoped := catUID
	if extID, ok := getInt(cls, "extension_id"); ok && (cat == nil || !hasKey(cat, "extension")) {
		scoped = extID*100 + catUID
	}
	uid := scoped*1000 + local
	cls["uid"] = float64(uid)
	cls["category_uid"] = float64(catUID)
	caption := getString(cls, "caption")

	act := getObj(attrs, "activity_id")
	actEnum := getObj(act, "enum")
	if actEnum == nil {
		return errors.New("activity_id has no enum")
	}
	typeEnum := jobj{}
	for k, v := range actEnum {
		n, err := strconv.Atoi(k)
		if err != nil {
			return fmt.Errorf("activity_id enum key %q: %w", k, err)
		}
		e, _ := v.(jobj)
		entry := copyObj(e)
		if entry == nil {
			entry = jobj{}
		}
		entry["caption"] = caption + ": " + getString(e, "caption")
		typeEnum[strconv.Itoa(uid*100+n)] = entry
	}
	typeEnum[strconv.Itoa(uid*100)] = jobj{"caption": caption + ": Unknown"}
	typeUID := getObj(attrs, "type_uid")
	if typeUID == nil {
		typeUID = jobj{}
		attrs["type_uid"] = typeUID
	}
	typeUID["enum"] = typeEnum

	classUID := getObj(attrs, "class_uid")
	if classUID == nil {
		classUID = jobj{}
		attrs["class_uid"] = classUID
	}
	classUID["enum"] = jobj{strconv.Itoa(uid): jobj{"caption": caption}}
	if !hasKey(attrs, "class_name") {
		attrs["class_name"] = jobj{}
	}
	if cat != nil {
		catAttr := getObj(attrs, "category_uid")
		if catAttr == nil {
			catAttr = jobj{}
			attrs["category_uid"] = catAttr
		}
		catAttr["enum"] = jobj{strconv.Itoa(catUID): copyObj(cat)}
		if !hasKey(attrs, "category_name") {
			attrs["category_name"] = jobj{}
		}
	}
	return nil
}

func (c *compiler) processObjects() error {
	if err := c.observablesFromItems(c.objects, c.objectPatches, "Object"); err != nil {
		return fmt.Errorf("object observables: %w", err)
	}
	if err := c.resolvePatches(c.objects, c.objectPatches, "object"); err != nil {
		return err
	}
	if err := resolveExtends(c.objects, "object"); err != nil {
		return err
	}
	for name := range c.objects {
		if strings.HasPrefix(name, "_") {
			delete(c.objects, name) // hidden base object
		}
	}
	return nil
}

// addDatetime gives every timestamp_t attribute X an optional X_dt sibling
// in the datetime profile.
func (c *compiler) addDatetime(items map[string]jobj, kind string) error {
	if !c.datetimeEnabled() {
		return nil
	}
	for _, name := range sortedKeys(items) {
		item := items[name]
		attrs := objAttrs(item)
		add := jobj{}
		for an, a := range attrs {
			attr, _ := a.(jobj)
			t := getString(attr, "type")
			if t == "" {
				d := c.dictAttr(an, attr)
				if d == nil {
					return fmt.Errorf("%s %s: attribute %s is not in the dictionary", kind, name, an)
				}
				t = getString(d, "type")
			}
			if t == "timestamp_t" {
				dt := copyObj(attr)
				dt["profiles"] = []any{"datetime"}
				dt["requirement"] = Optional
				dt["type"] = "datetime_t"
				add[an+"_dt"] = dt
			}
		}
		if len(add) == 0 {
			continue
		}
		for k, v := range add {
			if !hasKey(attrs, k) {
				attrs[k] = v
			}
		}
		item["profiles"] = unionSorted(stringList(item["profiles"]), []string{"datetime"})
	}
	return nil
}

// ---- final assembly ----

func (c *compiler) finish() (*Schema, error) {
	s := &Schema{
		version:  c.version,
		classes:  map[int]*Class{},
		byName:   map[string]*Class{},
		objects:  map[string]*Object{},
		types:    map[string]*scalarType{},
		profiles: map[string]bool{},
	}
	for name := range c.profiles {
		s.profiles[name] = true
	}
	for _, name := range sortedKeys(c.types) {
		t, err := c.scalarType(name)
		if err != nil {
			return nil, err
		}
		s.types[name] = t
	}
	for _, name := range sortedKeys(c.objects) {
		o := c.objects[name]
		attrs, err := c.finishAttributes(s, "object "+name, o)
		if err != nil {
			return nil, err
		}
		s.objects[name] = &Object{
			Name:        name,
			Caption:     getString(o, "caption"),
			Extension:   getString(o, "extension"),
			Deprecated:  hasKey(o, "@deprecated"),
			Profiles:    stringList(o["profiles"]),
			Constraints: constraints(o),
			Attributes:  attrs,
		}
		s.objects[name].shape = newShape(attrs, s.objects[name].Constraints)
	}
	for _, name := range sortedKeys(c.classes) {
		cl := c.classes[name]
		attrs, err := c.finishAttributes(s, "class "+name, cl)
		if err != nil {
			return nil, err
		}
		uid, _ := getInt(cl, "uid")
		catUID, _ := getInt(cl, "category_uid")
		cls := &Class{
			Name:         name,
			Caption:      getString(cl, "caption"),
			UID:          uid,
			CategoryUID:  catUID,
			CategoryName: getString(cl, "category_name"),
			Extension:    getString(cl, "extension"),
			Deprecated:   hasKey(cl, "@deprecated"),
			Profiles:     stringList(cl["profiles"]),
			Constraints:  constraints(cl),
			Attributes:   attrs,
		}
		cls.shape = newShape(attrs, cls.Constraints)
		if cls.CategoryName == "" && catUID == 0 {
			cls.CategoryName = attrs["category_uid"].Enum["0"]
		}
		if prev, dup := s.classes[uid]; dup {
			return nil, fmt.Errorf("classes %s and %s share class_uid %d", prev.Name, name, uid)
		}
		s.classes[uid] = cls
		s.byName[name] = cls
	}
	return s, nil
}

func constraints(item jobj) Constraints {
	m := getObj(item, "constraints")
	return Constraints{AtLeastOne: stringList(m["at_least_one"]), JustOne: stringList(m["just_one"])}
}

func (c *compiler) finishAttributes(s *Schema, where string, item jobj) (map[string]*Attribute, error) {
	out := map[string]*Attribute{}
	for name, a := range objAttrs(item) {
		attr, ok := a.(jobj)
		if !ok {
			return nil, fmt.Errorf("%s: attribute %s is not an object", where, name)
		}
		d := c.dictAttr(name, attr)
		if d == nil && strings.HasSuffix(name, "_dt") {
			d = c.dictAttr(strings.TrimSuffix(name, "_dt"), attr)
		}
		if d == nil {
			return nil, fmt.Errorf("%s: attribute %s is not in the dictionary", where, name)
		}
		m := copyObj(d)
		deepMerge(m, attr)
		res := &Attribute{
			Name:        name,
			Caption:     getString(m, "caption"),
			Type:        getString(m, "type"),
			ObjectType:  getString(m, "object_type"),
			Requirement: getString(m, "requirement"),
			Sibling:     getString(m, "sibling"),
			Deprecated:  hasKey(m, "@deprecated"),
			Extension:   getString(m, "extension"),
			Profiles:    stringList(m["profiles"]),
		}
		res.IsArray, _ = m["is_array"].(bool)
		if res.Requirement == "" {
			res.Requirement = Optional
		}
		if len(res.Profiles) > 0 {
			res.Profile = strings.Join(res.Profiles, ",")
		}
		switch {
		case res.Type == "object_t":
			if s.objects[res.ObjectType] == nil && c.objects[res.ObjectType] == nil {
				return nil, fmt.Errorf("%s: attribute %s uses undefined object %q", where, name, res.ObjectType)
			}
		case s.types[res.Type] != nil:
			res.ObjectType = ""
		case c.objects[res.Type] != nil:
			res.ObjectType, res.Type = res.Type, "object_t"
		default:
			return nil, fmt.Errorf("%s: attribute %s has undefined type %q", where, name, res.Type)
		}
		if enum := getObj(m, "enum"); len(enum) > 0 {
			res.Enum = make(map[string]string, len(enum))
			for k, v := range enum {
				e, _ := v.(jobj)
				res.Enum[k] = getString(e, "caption")
			}
		}
		out[name] = res
	}
	return out, nil
}

// scalarType resolves a dictionary type to its root type, regex and range.
func (c *compiler) scalarType(name string) (*scalarType, error) {
	t := &scalarType{name: name}
	cur := name
	for range 16 {
		def := getObj(c.types, cur)
		if def == nil {
			return nil, fmt.Errorf("dictionary type %s: undefined base type %q", name, cur)
		}
		if t.regex == nil {
			if re := getString(def, "regex"); re != "" {
				// A pattern RE2 cannot compile is skipped: the check stays loose.
				t.regex, _ = regexp.Compile(re)
			}
		}
		if r, ok := def["range"].([]any); ok && len(r) == 2 && !t.rangeOK {
			lo, ok1 := r[0].(float64)
			hi, ok2 := r[1].(float64)
			if ok1 && ok2 {
				t.rangeOK, t.min, t.max = true, lo, hi
			}
		}
		next := getString(def, "type")
		if next == "" {
			t.base = cur
			return t, nil
		}
		cur = next
	}
	return nil, fmt.Errorf("dictionary type %s: type chain too deep", name)
}
