package posture

import (
	"encoding/json"
	"strconv"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// valueAdapter turns resource values into CEL values lazily, as rules read
// them. Beyond CEL's default conversions it reads json.Number (as int when
// integral, else double), so that importers decoding with UseNumber need
// no second pass, and keeps itself as the adapter of nested maps and lists.
type valueAdapter struct{}

var adapter types.Adapter = valueAdapter{}

func (a valueAdapter) NativeToValue(v any) ref.Val {
	switch x := v.(type) {
	case map[string]any:
		return types.NewStringInterfaceMap(a, x)
	case []any:
		return types.NewDynamicList(a, x)
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return types.Int(i)
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return types.Double(f)
		}
		return types.String(x)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}
