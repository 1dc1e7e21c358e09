package posture

import (
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
)

// CostLimit is the runtime cost limit of one CEL evaluation (CEL's own cost
// units, roughly one per operation and per element visited). A rule that
// exceeds it gives an error result, not a hang.
const CostLimit = 1_000_000

// celEnv is the one CEL environment every rule is compiled in. It is built
// once and never changed; a *cel.Env is safe for concurrent use.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("related", cel.MapType(cel.StringType, cel.ListType(cel.MapType(cel.StringType, cel.DynType)))),
		cel.Variable("now", cel.TimestampType),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
		ext.Math(),
		ext.Network(),
	)
})

// exprPos is where a CEL expression's text starts in its YAML file.
type exprPos struct {
	line, col int
	// block is true for YAML block scalars (| and >): lines after the
	// first start at column col too.
	block bool
}

// compileExpr compiles one expression of a rule, checking that its result
// has type want (cel.BoolType or cel.StringType). CEL errors become
// RuleErrors at their position in the file.
func compileExpr(env *cel.Env, r *Rule, field, expr string, pos exprPos, want *cel.Type) (cel.Program, []*RuleError) {
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		var errs []*RuleError
		for _, e := range iss.Errors() {
			line, col := pos.line, pos.col
			if l := e.Location.Line(); l > 1 && line > 0 {
				line += l - 1
				if !pos.block {
					col = 1
				}
				col += e.Location.Column()
			} else if line > 0 {
				col += e.Location.Column()
			}
			errs = append(errs, &RuleError{File: r.File, Line: line, Col: col, RuleID: r.ID, Field: field,
				Err: fmt.Errorf("CEL: %s", e.Message)})
		}
		return nil, errs
	}
	if t := ast.OutputType(); !t.IsExactType(want) && !t.IsExactType(cel.DynType) {
		return nil, []*RuleError{{File: r.File, Line: pos.line, Col: pos.col, RuleID: r.ID, Field: field,
			Err: fmt.Errorf("CEL: the expression is of type %s, want %s", t, want)}}
	}
	if names := undeclaredLookups(expr, r); len(names) > 0 {
		return nil, []*RuleError{{File: r.File, Line: pos.line, Col: pos.col, RuleID: r.ID, Field: field,
			Err: fmt.Errorf("related.%s: not declared in lookups", strings.Join(names, ", related."))}}
	}
	prg, err := env.Program(ast, cel.CostLimit(CostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, []*RuleError{{File: r.File, Line: pos.line, Col: pos.col, RuleID: r.ID, Field: field, Err: fmt.Errorf("CEL: %w", err)}}
	}
	return prg, nil
}

// undeclaredLookups returns the names used as related.<name> in expr that
// the rule does not declare. It is a textual check: related is a map and
// CEL would otherwise only fail at run time.
func undeclaredLookups(expr string, r *Rule) []string {
	var out []string
	for rest := expr; ; {
		i := strings.Index(rest, "related.")
		if i < 0 {
			return out
		}
		if i > 0 && (isIdentByte(rest[i-1]) || rest[i-1] == '.') {
			rest = rest[i+len("related."):]
			continue
		}
		rest = rest[i+len("related."):]
		j := 0
		for j < len(rest) && isIdentByte(rest[j]) {
			j++
		}
		name := rest[:j]
		declared := false
		for _, l := range r.Lookups {
			declared = declared || l.Name == name
		}
		if !declared && name != "" {
			out = append(out, name)
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// compile compiles the rule's expressions in place.
func (r *Rule) compile(env *cel.Env, pos map[string]exprPos) []*RuleError {
	var errs []*RuleError
	var e []*RuleError
	if r.When != "" {
		r.when, e = compileExpr(env, r, "when", r.When, pos["when"], cel.BoolType)
		errs = append(errs, e...)
	}
	r.check, e = compileExpr(env, r, "check", r.Check, pos["check"], cel.BoolType)
	errs = append(errs, e...)
	if r.Message != "" {
		r.message, e = compileExpr(env, r, "message", r.Message, pos["message"], cel.StringType)
		errs = append(errs, e...)
	}
	return errs
}

// evalBool runs a compiled bool expression.
func evalBool(prg cel.Program, vars map[string]any) (bool, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("the result is %s, want bool", typeName(out))
	}
	return bool(b), nil
}

// evalString runs a compiled string expression.
func evalString(prg cel.Program, vars map[string]any) (string, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return "", err
	}
	s, ok := out.(types.String)
	if !ok {
		return "", fmt.Errorf("the result is %s, want string", typeName(out))
	}
	return string(s), nil
}

func typeName(v ref.Val) string {
	if v == nil {
		return "nothing"
	}
	return v.Type().TypeName()
}
