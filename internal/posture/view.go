package posture

import (
	"reflect"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// resourceView is what a rule sees as `resource` (and each element of
// related.<name>): the fields of [ResourceMap], read from the resource
// when a rule selects them, without building a map per resource. CEL walks
// it through FindStringKey and the attribute maps natively; the adapter
// turns it into a map only when a rule uses the whole value.
type resourceView struct {
	r    *inventory.Resource
	rels []any         // built on first use
	m    traits.Mapper // the whole value as a CEL map, built on first use
	// strs holds the string fields as CEL values once a rule read them
	// (a rule often reads resource.region or resource.name more than once)
	strs [6]ref.Val
}

func (v *resourceView) boxed(i int, s string) ref.Val {
	if v.strs[i] == nil {
		v.strs[i] = types.String(s)
	}
	return v.strs[i]
}

var _ traits.Mapper = (*resourceView)(nil)

var emptyAttrs = map[string]any{}

var emptyTags = map[string]string{}

// FindStringKey returns the field named key.
func (v *resourceView) FindStringKey(key string) (any, bool) {
	r := v.r
	switch key {
	case "attributes":
		if r.Attributes == nil {
			return emptyAttrs, true
		}
		return r.Attributes, true
	case "tags":
		if r.Tags == nil {
			return emptyTags, true
		}
		return r.Tags, true
	case "provider":
		return v.boxed(0, r.Provider), true
	case "account":
		return v.boxed(1, r.Account), true
	case "region":
		return v.boxed(2, r.Region), true
	case "type":
		return v.boxed(3, r.Type), true
	case "uid":
		return v.boxed(4, r.UID), true
	case "name":
		return v.boxed(5, r.Name), true
	case "relationships":
		if v.rels == nil {
			v.rels = relationshipList(r)
		}
		return v.rels, true
	}
	return nil, false
}

// mapper returns the view as a CEL map.
func (v *resourceView) mapper() traits.Mapper {
	if v.m == nil {
		v.m = types.NewStringInterfaceMap(adapter, v.asMap())
	}
	return v.m
}

// The ref.Val and traits.Mapper methods serve rules that use the whole
// resource value (comparisons, iteration, size); field selection goes
// through FindStringKey.

func (v *resourceView) ConvertToNative(t reflect.Type) (any, error) {
	return v.mapper().ConvertToNative(t)
}
func (v *resourceView) ConvertToType(t ref.Type) ref.Val { return v.mapper().ConvertToType(t) }
func (v *resourceView) Equal(o ref.Val) ref.Val          { return v.mapper().Equal(o) }
func (v *resourceView) Type() ref.Type                   { return types.MapType }
func (v *resourceView) Value() any                       { return v.asMap() }
func (v *resourceView) Contains(key ref.Val) ref.Val     { return v.mapper().Contains(key) }
func (v *resourceView) Get(key ref.Val) ref.Val          { return v.mapper().Get(key) }
func (v *resourceView) Iterator() traits.Iterator        { return v.mapper().Iterator() }
func (v *resourceView) Size() ref.Val                    { return v.mapper().Size() }
func (v *resourceView) Find(key ref.Val) (ref.Val, bool) { return v.mapper().Find(key) }
func (v *resourceView) IsZeroValue() bool                { return false }

// asMap returns the view as the map [ResourceMap] describes.
func (v *resourceView) asMap() map[string]any { return ResourceMap(v.r) }

// pathValues returns the strings at a lookup path ("uid", "name",
// "attributes.a.b" …; see [pathValues]).
func (v *resourceView) pathValues(path string) []string {
	head, rest, _ := strings.Cut(path, ".")
	if head == "relationships" {
		return nil
	}
	x, ok := v.FindStringKey(head)
	if !ok {
		return nil
	}
	if rest == "" {
		if s, ok := x.(types.String); ok && s != "" {
			return []string{string(s)}
		}
		return nil
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil
	}
	return pathValues(m, rest)
}

func relationshipList(r *inventory.Resource) []any {
	rels := make([]any, len(r.Relationships))
	for i, rel := range r.Relationships {
		rels[i] = map[string]any{"type": rel.Type, "target": rel.Target, "target_type": rel.TargetType}
	}
	return rels
}
