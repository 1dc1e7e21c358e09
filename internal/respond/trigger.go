package respond

import (
	"reflect"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"

	"github.com/canopy-sec/canopy/internal/correlate"
)

// CostLimit is the runtime cost limit of one trigger evaluation, in CEL's
// cost units (roughly one per operation and per element visited). A
// trigger that exceeds it fails with an error instead of hanging.
const CostLimit = 100_000

// celEnv is the CEL environment triggers are compiled in: one variable,
// record, of type respond.Record, whose fields are the JSON names of
// [Record]'s fields (record.risk, record.data_grade …; entities are
// correlate.Entity values with kind, value and common). Field names are
// checked when the playbook is loaded. It is built once and never changed;
// a *cel.Env is safe for concurrent use.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(reflect.TypeFor[Record](), reflect.TypeFor[correlate.Entity](), ext.ParseStructTag("json")),
		cel.Variable("record", cel.ObjectType("respond.Record")),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.OptionalTypes(),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
	)
})
