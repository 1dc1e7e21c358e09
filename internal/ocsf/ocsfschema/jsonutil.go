package ocsfschema

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"reflect"
	"sort"
	"strconv"
)

// jobj is a decoded JSON object of a schema source file.
type jobj = map[string]any

// readJSONObject reads and decodes one schema file, which must hold a JSON object.
func readJSONObject(fsys fs.FS, name string) (jobj, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	o, ok := v.(jobj)
	if !ok {
		return nil, fmt.Errorf("decode %s: top-level value is %s, not an object", name, jsonKind(v))
	}
	return o, nil
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch t := v.(type) {
	case jobj:
		return copyObj(t)
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = deepCopy(e)
		}
		return c
	default:
		return v
	}
}

func copyObj(o jobj) jobj {
	if o == nil {
		return nil
	}
	c := make(jobj, len(o))
	for k, v := range o {
		c[k] = deepCopy(v)
	}
	return c
}

// deepMerge merges src into dest in place: objects are merged key by key,
// everything else (arrays included) is replaced by the value from src.
func deepMerge(dest, src jobj) {
	for k, sv := range src {
		if dv, ok := dest[k]; ok {
			dm, dok := dv.(jobj)
			sm, sok := sv.(jobj)
			if dok && sok {
				deepMerge(dm, sm)
				continue
			}
		}
		dest[k] = deepCopy(sv)
	}
}

// sortedKeys returns the keys of m in lexical order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func getObj(o jobj, key string) jobj {
	m, _ := o[key].(jobj)
	return m
}

func getString(o jobj, key string) string {
	s, _ := o[key].(string)
	return s
}

// getInt reads an integral JSON number of a schema file.
func getInt(o jobj, key string) (int, bool) {
	f, ok := o[key].(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

func stringList(v any) []string {
	arr, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// unionSorted returns the sorted union of two string lists as a JSON array.
func unionSorted(a, b []string) []any {
	set := make(map[string]bool, len(a)+len(b))
	for _, s := range a {
		set[s] = true
	}
	for _, s := range b {
		set[s] = true
	}
	keys := sortedKeys(set)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

func equalJSON(a, b any) bool { return reflect.DeepEqual(a, b) }

// jsonKind names the JSON kind of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case jobj:
		return "object"
	case []any:
		return "array"
	case json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "number"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// number classifies a decoded JSON number. isInt is true when the value is
// integral and fits in an int64; i is then its value.
func number(v any) (f float64, i int64, isInt, ok bool) {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return float64(n), n, true, true
		}
		x, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, 0, false, false
		}
		f = x
	case float64:
		f = t
	case float32:
		f = float64(t)
	case int:
		return float64(t), int64(t), true, true
	case int8:
		return float64(t), int64(t), true, true
	case int16:
		return float64(t), int64(t), true, true
	case int32:
		return float64(t), int64(t), true, true
	case int64:
		return float64(t), t, true, true
	case uint:
		return float64(t), int64(t), t <= math.MaxInt64, true
	case uint8:
		return float64(t), int64(t), true, true
	case uint16:
		return float64(t), int64(t), true, true
	case uint32:
		return float64(t), int64(t), true, true
	case uint64:
		return float64(t), int64(t), t <= math.MaxInt64, true
	default:
		return 0, 0, false, false
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, 0, false, false
	}
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return f, int64(f), true, true
	}
	return f, 0, false, true
}
