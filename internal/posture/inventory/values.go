package inventory

import (
	"encoding/json"
	"strconv"
)

// NormalizeValue returns v with numbers in the one representation rules
// expect: json.Number and every integer type become int64 when integral
// (float64 otherwise), float32 becomes float64; maps with string keys and
// lists are normalized recursively (in place for map[string]any and
// []any). Strings, bools and nil are returned as they are. Importers that
// decode generic JSON or YAML call it on attributes.
func NormalizeValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = NormalizeValue(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = NormalizeValue(e)
		}
		return x
	case map[string]string:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		return string(x)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if s, ok := k.(string); ok {
				out[s] = NormalizeValue(e)
			}
		}
		return out
	}
	return v
}

// NormalizeAttributes normalizes every value of attrs in place (see
// [NormalizeValue]) and returns it; a nil map becomes an empty one.
func NormalizeAttributes(attrs map[string]any) map[string]any {
	if attrs == nil {
		return map[string]any{}
	}
	for k, v := range attrs {
		attrs[k] = NormalizeValue(v)
	}
	return attrs
}
