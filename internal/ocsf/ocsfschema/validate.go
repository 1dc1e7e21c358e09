package ocsfschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// ValidateJSON decodes data (with UseNumber) and validates it. The error is
// non-nil only when data is not a single JSON object.
func (s *Schema) ValidateJSON(data []byte) ([]Problem, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode OCSF record: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode OCSF record: trailing data after the JSON object")
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decode OCSF record: top-level value is %s, not an object", jsonKind(v))
	}
	return s.Validate(rec), nil
}

// Validate checks one record (as decoded by encoding/json into map[string]any,
// numbers as float64 or json.Number) and returns every problem found, sorted
// by Path; nil when the record is valid.
func (s *Schema) Validate(rec map[string]any) []Problem {
	v := &validator{s: s, profiles: map[string]bool{}}
	v.validate(rec)
	if len(v.probs) == 0 {
		return nil
	}
	sort.SliceStable(v.probs, func(i, j int) bool {
		if v.probs[i].Path != v.probs[j].Path {
			return v.probs[i].Path < v.probs[j].Path
		}
		return v.probs[i].Msg < v.probs[j].Msg
	})
	return v.probs
}

type validator struct {
	s        *Schema
	profiles map[string]bool // profiles listed in metadata.profiles
	probs    []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.probs = append(v.probs, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (v *validator) validate(rec map[string]any) {
	if rec == nil {
		v.add("", "record is null")
		return
	}
	raw, ok := rec["class_uid"]
	if !ok || raw == nil {
		v.add("class_uid", "required attribute is missing")
		return
	}
	_, uid, isInt, _ := number(raw)
	if !isInt {
		v.add("class_uid", "expected an integer, got %s", describe(raw))
		return
	}
	cls, ok := v.s.classes[int(uid)]
	if !ok || int64(int(uid)) != uid {
		v.add("class_uid", "unknown class_uid %d", uid)
		return
	}
	v.readProfiles(rec)
	v.object("", cls.shape, rec, true)
	v.classification(cls, rec)
	v.observables(rec)
}

// readProfiles collects metadata.profiles and reports names the schema does
// not define.
func (v *validator) readProfiles(rec map[string]any) {
	md, _ := rec["metadata"].(map[string]any)
	list, _ := md["profiles"].([]any)
	for i, p := range list {
		name, ok := p.(string)
		if !ok {
			continue // reported by the type check of metadata.profiles
		}
		if !v.s.profiles[name] {
			v.add(fmt.Sprintf("metadata.profiles[%d]", i), "unknown profile %q", name)
			continue
		}
		v.profiles[name] = true
	}
}

// active reports whether a is part of the record given its profiles.
func (v *validator) active(a *Attribute) bool {
	if len(a.Profiles) == 0 {
		return true
	}
	for _, p := range a.Profiles {
		if v.profiles[p] {
			return true
		}
	}
	return false
}

// classification checks the arithmetic and captions that tie class_uid,
// category_uid, activity_id and type_uid together.
func (v *validator) classification(cls *Class, rec map[string]any) {
	if raw, ok := rec["category_uid"]; ok {
		if _, cat, isInt, _ := number(raw); isInt && cat != int64(cls.CategoryUID) {
			v.add("category_uid", "category_uid %d does not match class %d (%s), whose category_uid is %d (%s)",
				cat, cls.UID, cls.Caption, cls.CategoryUID, cls.CategoryName)
		}
	}
	_, act, actOK, _ := number(rec["activity_id"])
	if raw, ok := rec["type_uid"]; ok && actOK {
		if _, t, isInt, _ := number(raw); isInt && t != int64(cls.UID)*100+act {
			v.add("type_uid", "type_uid %d is not class_uid*100+activity_id = %d", t, int64(cls.UID)*100+act)
		}
	}
	if name, ok := rec["type_name"].(string); ok && actOK {
		var actEnum map[string]string
		if a := cls.Attributes["activity_id"]; a != nil {
			actEnum = a.Enum
		}
		if actCaption, ok := actEnum[strconv.FormatInt(act, 10)]; ok {
			if want := cls.Caption + ": " + actCaption; name != want {
				v.add("type_name", "%q does not match %q, the type_name of type_uid %d", name, want, int64(cls.UID)*100+act)
			}
		}
	}
}

// object validates the members of obj against attrs and cons. top marks the
// record itself, whose classification attributes are checked separately.
func (v *validator) object(path string, sh *shape, obj map[string]any, top bool) {
	attrs := sh.attrs
	for _, key := range sortedKeys(obj) {
		val := obj[key]
		p := join(path, key)
		a := attrs[key]
		if a == nil {
			v.add(p, "unknown attribute")
			continue
		}
		if !v.active(a) {
			if len(a.Profiles) == 1 {
				v.add(p, "attribute %s belongs to profile %s which is not in metadata.profiles", key, a.Profiles[0])
			} else {
				v.add(p, "attribute %s belongs to profiles %s, none of which is in metadata.profiles", key, a.profileList())
			}
			continue
		}
		if val == nil {
			v.add(p, "null value; omit the attribute instead")
			continue
		}
		skipEnum := top && (key == "class_uid" || key == "category_uid" || key == "type_uid")
		v.value(p, a, val, skipEnum)
	}
	for _, name := range sh.required {
		if _, ok := obj[name]; !ok && v.active(attrs[name]) {
			v.add(join(path, name), "required attribute is missing")
		}
	}
	v.constraints(path, sh.cons, obj)
	v.siblings(path, sh, obj, top)
}

func present(obj map[string]any, names []string) []string {
	var found []string
	for _, n := range names {
		if val, ok := obj[n]; ok && val != nil {
			found = append(found, n)
		}
	}
	return found
}

func (v *validator) constraints(path string, cons Constraints, obj map[string]any) {
	if len(cons.AtLeastOne) > 0 && len(present(obj, cons.AtLeastOne)) == 0 {
		v.add(path, "at least one of %s must be present", strings.Join(cons.AtLeastOne, ", "))
	}
	if len(cons.JustOne) > 0 {
		if found := present(obj, cons.JustOne); len(found) != 1 {
			v.add(path, "exactly one of %s must be present, found %d (%s)",
				strings.Join(cons.JustOne, ", "), len(found), strings.Join(found, ", "))
		}
	}
}

// siblings checks that the string sibling of each enum attribute equals
// the caption of its value, except for 99 (Other), where the sibling carries
// the source's own value.
func (v *validator) siblings(path string, sh *shape, obj map[string]any, top bool) {
	attrs := sh.attrs
	for _, name := range sh.enumSibs {
		a := attrs[name]
		if top && name == "type_uid" {
			continue
		}
		idv, sv := obj[name], obj[a.Sibling]
		if idv == nil || sv == nil {
			continue
		}
		if sa := attrs[a.Sibling]; sa == nil || !v.active(a) || !v.active(sa) {
			continue
		}
		if a.IsArray {
			ids, ok1 := idv.([]any)
			strs, ok2 := sv.([]any)
			if !ok1 || !ok2 || len(ids) != len(strs) {
				continue
			}
			for i := range ids {
				v.sibling(fmt.Sprintf("%s[%d]", join(path, a.Sibling), i), name, a, ids[i], strs[i])
			}
			continue
		}
		v.sibling(join(path, a.Sibling), name, a, idv, sv)
	}
}

func (v *validator) sibling(path, idName string, a *Attribute, idv, sv any) {
	str, ok := sv.(string)
	if !ok {
		return // the sibling's own type check reports it
	}
	key, ok := enumKey(idv)
	if !ok || key == "99" {
		return
	}
	caption, ok := a.Enum[key]
	if !ok {
		return // reported by the enum check
	}
	if str != caption {
		v.add(path, "%q does not match %q, the caption of %s %s", str, caption, idName, key)
	}
}

// enumKey returns the enum map key of an id value.
func enumKey(val any) (string, bool) {
	if s, ok := val.(string); ok {
		return s, true
	}
	if _, i, isInt, _ := number(val); isInt {
		return strconv.FormatInt(i, 10), true
	}
	return "", false
}

// value checks one present, non-null attribute value.
func (v *validator) value(path string, a *Attribute, val any, skipEnum bool) {
	if a.Type == "json_t" && !a.IsArray {
		return
	}
	if a.IsArray {
		arr, ok := val.([]any)
		if !ok {
			v.add(path, "expected an array of %s, got %s", a.typeLabel(), describe(val))
			return
		}
		for i, e := range arr {
			ep := fmt.Sprintf("%s[%d]", path, i)
			if e == nil {
				v.add(ep, "null array element")
				continue
			}
			v.single(ep, a, e, skipEnum)
		}
		return
	}
	if _, ok := val.([]any); ok {
		v.add(path, "expected %s, got an array", a.typeLabel())
		return
	}
	v.single(path, a, val, skipEnum)
}

func (a *Attribute) typeLabel() string {
	if a.Type == "object_t" {
		if a.ObjectType == "object" {
			return "object"
		}
		return "object " + a.ObjectType
	}
	return a.Type
}

func describe(val any) string {
	switch t := val.(type) {
	case string:
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return fmt.Sprintf("string %q", t)
	case bool:
		return fmt.Sprintf("boolean %t", t)
	case json.Number:
		return "number " + t.String()
	}
	if f, i, isInt, ok := number(val); ok {
		if isInt {
			return "number " + strconv.FormatInt(i, 10)
		}
		return "number " + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return jsonKind(val)
}

// single checks one (non-array) value.
func (v *validator) single(path string, a *Attribute, val any, skipEnum bool) {
	switch a.Type {
	case "json_t":
		return
	case "object_t":
		m, ok := val.(map[string]any)
		if !ok {
			v.add(path, "expected %s, got %s", a.typeLabel(), describe(val))
			return
		}
		if a.ObjectType == "object" {
			return // free-form
		}
		if o := v.s.objects[a.ObjectType]; o != nil {
			v.object(path, o.shape, m, false)
		}
		return
	}
	t := v.s.types[a.Type]
	if t == nil {
		return
	}
	if !v.scalar(path, t, val) {
		return
	}
	if len(a.Enum) > 0 && !skipEnum {
		key, _ := enumKey(val)
		if _, ok := a.Enum[key]; !ok {
			v.add(path, "%s is not in the enum of %s (%s)", describe(val), a.Name, enumList(a))
		}
	}
}

func enumList(a *Attribute) string {
	keys := a.enumKeys()
	if len(keys) > 40 {
		keys = append(keys[:40:40], "…")
	}
	return strings.Join(keys, ", ")
}

// scalar checks a value against a dictionary type; false when it is wrong.
func (v *validator) scalar(path string, t *scalarType, val any) bool {
	switch t.base {
	case "json_t":
		return true
	case "boolean_t":
		if _, ok := val.(bool); !ok {
			v.add(path, "expected boolean (%s), got %s", t.name, describe(val))
			return false
		}
		return true
	case "integer_t", "long_t":
		f, _, isInt, ok := number(val)
		if !ok || !isInt {
			v.add(path, "expected an integer (%s), got %s", t.name, describe(val))
			return false
		}
		if t.rangeOK && (f < t.min || f > t.max) {
			v.add(path, "%s is out of the range of %s [%g, %g]", describe(val), t.name, t.min, t.max)
			return false
		}
		return true
	case "float_t":
		f, _, _, ok := number(val)
		if !ok {
			v.add(path, "expected a number (%s), got %s", t.name, describe(val))
			return false
		}
		if t.rangeOK && (f < t.min || f > t.max) {
			v.add(path, "%s is out of the range of %s [%g, %g]", describe(val), t.name, t.min, t.max)
			return false
		}
		return true
	case "string_t":
		s, ok := val.(string)
		if !ok {
			v.add(path, "expected a string (%s), got %s", t.name, describe(val))
			return false
		}
		if !stringFormatOK(t, s) {
			v.add(path, "%s is not a valid %s", describe(val), t.name)
			return false
		}
		return true
	}
	return true
}

// stringFormatOK loosely checks the format of string subtypes: a value passes
// when the dictionary regex matches or a standard parser accepts it.
func stringFormatOK(t *scalarType, s string) bool {
	switch t.name {
	case "ip_t":
		if _, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			return true
		}
	case "subnet_t":
		s = strings.TrimSpace(s)
		if _, err := netip.ParsePrefix(s); err == nil {
			return true
		}
		_, err := netip.ParseAddr(s)
		return err == nil
	case "url_t":
		if _, err := url.Parse(s); err != nil {
			return false
		}
	}
	if t.regex != nil {
		return t.regex.MatchString(s)
	}
	return true
}

// observables checks that each observables[].name points at a value in the
// record and, for string values, that the observable's value is among them.
func (v *validator) observables(rec map[string]any) {
	list, _ := rec["observables"].([]any)
	for i, o := range list {
		obs, _ := o.(map[string]any)
		name, ok := obs["name"].(string)
		if !ok || name == "" {
			continue
		}
		p := fmt.Sprintf("observables[%d].name", i)
		vals, ok := resolvePath(rec, name)
		if !ok {
			v.add(p, "%q does not resolve to an attribute present in the record", name)
			continue
		}
		want, ok := obs["value"].(string)
		if !ok {
			continue
		}
		matched, comparable := false, false
		for _, val := range vals {
			if s, ok := val.(string); ok {
				comparable = true
				if s == want {
					matched = true
				}
			}
		}
		if comparable && !matched {
			v.add(fmt.Sprintf("observables[%d].value", i), "%q is not the value of %s in the record", want, name)
		}
	}
}

// resolvePath returns the values an observable name such as "resources[0].uid",
// "resources[].uid" or "resources.uid" points at.
func resolvePath(rec map[string]any, name string) ([]any, bool) {
	cur := []any{rec}
	for _, seg := range strings.Split(name, ".") {
		key, idx, hasIdx := seg, "", false
		if i := strings.IndexByte(seg, '['); i >= 0 && strings.HasSuffix(seg, "]") {
			key, idx, hasIdx = seg[:i], seg[i+1:len(seg)-1], true
		}
		var next []any
		for _, node := range cur {
			m, ok := node.(map[string]any)
			if !ok {
				continue
			}
			val, ok := m[key]
			if !ok || val == nil {
				continue
			}
			arr, isArr := val.([]any)
			switch {
			case hasIdx && idx == "":
				next = append(next, arr...)
			case hasIdx:
				n, err := strconv.Atoi(idx)
				if err == nil && isArr && n >= 0 && n < len(arr) {
					next = append(next, arr[n])
				}
			case isArr:
				next = append(next, arr...)
			default:
				next = append(next, val)
			}
		}
		cur = next
		if len(cur) == 0 {
			return nil, false
		}
	}
	return cur, true
}
