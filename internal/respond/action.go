package respond

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/risk"
)

// Action is one thing a playbook step can do: change a record (set its
// status, tag it …), notify a party, open a ticket, or change the cloud
// (revoke a security-group rule, deactivate an access key …).
//
// An Action describes itself (Name, Params), predicts what it would change
// (Impact) and does it (Executor). The engine calls them in that order:
// Params when a playbook is loaded, to check each step's literal parameters;
// Impact when it previews an option for approval or for a dry run; Do when
// it runs a step; Rollback when a run is rolled back.
//
// Implementations must be safe for concurrent use: one Action value serves
// every run of every tenant. They keep no per-run state; whatever Rollback
// needs travels in the [Result] that Do returns.
type Action interface {
	// Name is the action's stable name, the one playbooks use: lower-case
	// dot-separated words of [a-z0-9_], e.g. "record.tag",
	// "aws.ec2.revoke_security_group_rule". It never changes once
	// released.
	Name() string
	// Params describes the parameters the action accepts. The engine
	// checks every step against it (unknown names, missing required ones,
	// types, patterns, enumerations) before Impact or Do see the
	// parameters, so those receive only valid, typed values.
	Params() Schema
	// Impact predicts what Do would change for rec, without changing
	// anything: the resources it touches and, through world, the assets
	// and workloads affected with them (every instance in a security
	// group whose rule is revoked, every workload seen using a key that
	// is deactivated), how disruptive and reversible it is, the rollback
	// plan, and the party who must approve. [Blast] does the inventory
	// walk most cloud actions need. world is never nil (a [World] that
	// knows nothing is passed when the caller has none); Impact must not
	// fail only because world knows nothing: it says so in the impact.
	Impact(ctx context.Context, rec Record, params Params, world World) (Impact, error)
	Executor
}

// Executor is the part of an [Action] that changes things.
type Executor interface {
	// Do performs the action for call. It returns an error only when
	// nothing was changed or when what was changed is described by the
	// error being a [*PartialError]: the engine never records a failed
	// step as done. A Result whose Undo is nil cannot be rolled back
	// (notifications, tickets are closed by people).
	//
	// Do must be idempotent for the same call.Key: a run resumed after a
	// crash may call it again for the step it was running.
	Do(ctx context.Context, call Call) (Result, error)
	// Rollback reverses what Do did, using res.Undo. It is called at most
	// once per successful Do, in reverse order of the run's steps. An
	// action whose results are never reversible returns
	// [ErrNotReversible].
	Rollback(ctx context.Context, res Result) error
}

// Call is one invocation of an action by a run's step.
type Call struct {
	// Tenant is the tenant of the record the run is for. Actions act only
	// within it: a record action never touches another tenant's record,
	// a cloud action uses the tenant's credentials.
	Tenant string `json:"tenant"`
	// Record is the record the run responds to.
	Record Ref `json:"record"`
	// Run and Step identify the step ("run ID", "step index/option step
	// ID"); Key, their combination, is stable across retries so that
	// executors can make Do idempotent (an idempotency key for ticket
	// systems and cloud APIs that take one).
	Run  string `json:"run"`
	Step string `json:"step"`
	Key  string `json:"key"`
	// Actor is who caused the call: "system" for automatic runs, the
	// approver for approved options.
	Actor string `json:"actor"`
	// Params are the step's parameters, rendered from the record and
	// checked against the action's [Schema].
	Params Params `json:"params"`
	// Now is the engine's clock at the call, for actions that compute
	// expiries (suppression) or stamp what they write.
	Now time.Time `json:"now"`
}

// Result is what a successful [Executor.Do] returns.
type Result struct {
	// Action is the action's name.
	Action string `json:"action"`
	// Summary says, in one line, what was done ("tagged incident:42
	// with triaged", "created ticket SEC-12").
	Summary string `json:"summary"`
	// Output holds values later steps or people may want (a ticket key
	// and URL, a notice id). JSON-friendly values only.
	Output map[string]any `json:"output,omitempty"`
	// Undo holds what Rollback needs (the previous status, the rule that
	// was revoked, the key id). JSON-friendly values only, because runs
	// are persisted; nil when the result cannot be rolled back.
	Undo map[string]any `json:"undo,omitempty"`
	// Changed lists the UIDs of what Do changed (record refs, resource
	// UIDs), for the audit trail.
	Changed []string `json:"changed,omitempty"`
}

// Reversible reports whether r can be rolled back.
func (r Result) Reversible() bool { return r.Undo != nil }

// PartialError is returned by [Executor.Do] when it changed some things
// before failing (revoked two rules out of three). The engine records the
// step as failed with Result attached, so that Rollback can reverse the
// part that was done; it never records the step as done.
type PartialError struct {
	// Result describes what was changed before the failure.
	Result Result
	// Err is the failure.
	Err error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("partially applied (%s): %v", e.Result.Summary, e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// ErrNotReversible is returned by Rollback for results that cannot be
// reversed.
var ErrNotReversible = fmt.Errorf("respond: action is not reversible")

// Disruption is how much an action disturbs the business: none (record
// changes, notifications), low (a ticket, a tag on a cloud resource),
// medium (revoking one rule, one permission), high (isolating an instance,
// deactivating a key production uses).
type Disruption string

// The disruption classes, least first.
const (
	DisruptionNone   Disruption = "none"
	DisruptionLow    Disruption = "low"
	DisruptionMedium Disruption = "medium"
	DisruptionHigh   Disruption = "high"
)

// Rank orders disruption classes: none 0, low 1, medium 2, high 3; an
// unknown class ranks as high.
func (d Disruption) Rank() int {
	switch d {
	case DisruptionNone:
		return 0
	case DisruptionLow:
		return 1
	case DisruptionMedium:
		return 2
	}
	return 3
}

// Valid reports whether d is one of the four classes.
func (d Disruption) Valid() bool {
	switch d {
	case DisruptionNone, DisruptionLow, DisruptionMedium, DisruptionHigh:
		return true
	}
	return false
}

// Impact is what an action would change, as shown to whoever approves it.
type Impact struct {
	// Action is the action's name; Step the step's ID (set by the engine).
	Action string `json:"action"`
	Step   string `json:"step,omitempty"`
	// Summary says what the action changes, in one sentence.
	Summary string `json:"summary"`
	// Targets are what the action changes directly (the security group,
	// the key, the instance, the record).
	Targets []Asset `json:"targets,omitempty"`
	// Affected are the assets and workloads affected through the targets
	// (the instances in the security group, the workloads seen using the
	// key), each once, targets excluded.
	Affected []Asset `json:"affected,omitempty"`
	// Services are the business services of targets and affected assets,
	// sorted, each once.
	Services []string `json:"services,omitempty"`
	// Disruption is the disruption class.
	Disruption Disruption `json:"disruption"`
	// Reversible says whether a rollback can undo the action.
	Reversible bool `json:"reversible"`
	// Rollback is the rollback plan in words ("re-add the revoked rule
	// tcp/22 from 0.0.0.0/0 to sg-1"); "" when not reversible.
	Rollback string `json:"rollback,omitempty"`
	// Approver is the party who must approve the action: the party
	// responsible for the targets (internal/responsibility). The engine
	// fills it from the record's attribution when the action leaves it
	// empty.
	Approver Approver `json:"approver"`
	// Notes are caveats ("the inventory does not know sg-1: affected
	// instances unknown").
	Notes []string `json:"notes,omitempty"`
}

// Approver is a party who must approve an action.
type Approver struct {
	// Party is provider, customer, vendor or shared
	// (internal/responsibility).
	Party string `json:"party"`
	// Name names the vendor or the provider, when known.
	Name string `json:"name,omitempty"`
}

func (a Approver) String() string {
	if a.Name != "" {
		return a.Party + ":" + a.Name
	}
	return a.Party
}

// Asset is a resource or workload named in an [Impact].
type Asset struct {
	// UID is the resource's UID (ARN, instance id …) or the entity's value.
	UID string `json:"uid"`
	// Type is the inventory type ("AWS::EC2::Instance") or, for an entity
	// the inventory does not know, "entity:<kind>".
	Type string `json:"type,omitempty"`
	// Name is the resource's name, if any.
	Name string `json:"name,omitempty"`
	// Tier is the asset's criticality from the [World]'s asset context;
	// "" when unknown.
	Tier risk.Tier `json:"tier,omitempty"`
	// Service is the business service the asset belongs to (from its
	// tags), if known.
	Service string `json:"service,omitempty"`
	// Why says how the asset is affected ("member of sg-1", "seen using
	// AKIA…").
	Why string `json:"why,omitempty"`
}

// Ref names a record: "incident:42", "finding:8f14…", "issue:…".
type Ref struct {
	Kind Kind   `json:"kind"`
	ID   string `json:"id"`
}

func (r Ref) String() string { return string(r.Kind) + ":" + r.ID }

// Params are an action's parameters: parameter name to value. After
// rendering and checking against a [Schema], values have the Go type of
// their [ParamType]: string, int64, bool, time.Duration, []string or
// map[string]string.
type Params map[string]any

// String returns p[name] as a string ("" when absent or not a string).
func (p Params) String(name string) string { s, _ := p[name].(string); return s }

// Int returns p[name] as an int64 (0 when absent).
func (p Params) Int(name string) int64 { n, _ := p[name].(int64); return n }

// Bool returns p[name] as a bool (false when absent).
func (p Params) Bool(name string) bool { b, _ := p[name].(bool); return b }

// Duration returns p[name] as a duration (0 when absent).
func (p Params) Duration(name string) time.Duration { d, _ := p[name].(time.Duration); return d }

// Strings returns p[name] as a list of strings (nil when absent).
func (p Params) Strings(name string) []string { s, _ := p[name].([]string); return s }

// Map returns p[name] as a map of strings (nil when absent).
func (p Params) Map(name string) map[string]string { m, _ := p[name].(map[string]string); return m }

// ParamType is the type of a parameter.
type ParamType string

// The parameter types. In playbooks every value may be a template
// (see the package documentation); the rendered text is then parsed as the
// type says.
const (
	ParamString   ParamType = "string"   // Go string
	ParamInt      ParamType = "int"      // Go int64; decimal text
	ParamBool     ParamType = "bool"     // Go bool; true or false
	ParamDuration ParamType = "duration" // Go time.Duration; "72h", "30m", or "7d" (days)
	ParamStrings  ParamType = "strings"  // Go []string; a YAML list, each item a string
	ParamMap      ParamType = "map"      // Go map[string]string; a YAML mapping of strings
)

// Param describes one parameter of an action.
type Param struct {
	// Name is the parameter's name, [a-z][a-z0-9_]*.
	Name string `json:"name"`
	// Type is its type; default string.
	Type ParamType `json:"type"`
	// Required makes a step without it invalid.
	Required bool `json:"required,omitempty"`
	// Default is used when a step leaves the parameter out; it has the Go
	// type of Type. nil means absent. A string default may be a template
	// over the record ("{{ .record.party }}"), rendered like a step's.
	Default any `json:"default,omitempty"`
	// Enum, when set, lists the allowed values of a string (or of each
	// item of strings).
	Enum []string `json:"enum,omitempty"`
	// Pattern, when set, is a regular expression (RE2, implicitly
	// anchored at both ends) every string value (or item) must match.
	// Cloud actions use it to refuse anything but an id
	// ("sg-[0-9a-f]{8,17}"), so that a template cannot smuggle other
	// input into an API call.
	Pattern string `json:"pattern,omitempty"`
	// MaxLen bounds the length of a string value (or item) in bytes;
	// default 4096.
	MaxLen int `json:"max_len,omitempty"`
	// Doc says what the parameter means.
	Doc string `json:"doc,omitempty"`
}

// Schema lists an action's parameters.
type Schema []Param

// Lookup returns the parameter named name.
func (s Schema) Lookup(name string) (Param, bool) {
	for _, p := range s {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// ParamError is a parameter that does not fit an action's [Schema].
type ParamError struct {
	Param string // the parameter's name
	Err   error
}

func (e *ParamError) Error() string { return "params: " + e.Param + ": " + e.Err.Error() }

func (e *ParamError) Unwrap() error { return e.Err }

// Check converts raw values (as YAML or JSON decoding gives them: strings,
// numbers, bools, lists, maps; or already typed) to the parameters' Go
// types, applies defaults and checks required parameters, enumerations,
// patterns and lengths. Unknown parameters are errors. Template defaults
// are not applied (the engine renders them before calling Check). It returns new
// Params and every problem, each a [*ParamError], sorted by parameter
// name.
func (s Schema) Check(raw Params) (Params, error) {
	out := Params{}
	var errs []error
	for name := range raw {
		if _, ok := s.Lookup(name); !ok {
			errs = append(errs, &ParamError{name, fmt.Errorf("unknown parameter (want one of %s)", s.names())})
		}
	}
	for _, p := range s {
		v, ok := raw[p.Name]
		if !ok || v == nil {
			if p.Default != nil && !isTemplate(p.Default) {
				out[p.Name] = p.Default
			} else if p.Required {
				errs = append(errs, &ParamError{p.Name, fmt.Errorf("required")})
			}
			continue
		}
		tv, err := p.convert(v)
		if err != nil {
			errs = append(errs, &ParamError{p.Name, err})
			continue
		}
		out[p.Name] = tv
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			return errs[i].(*ParamError).Param < errs[j].(*ParamError).Param
		})
		return nil, joinErrors(errs)
	}
	return out, nil
}

func (s Schema) names() string {
	if len(s) == 0 {
		return "none"
	}
	ns := make([]string, len(s))
	for i, p := range s {
		ns[i] = p.Name
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

func (p Param) typ() ParamType {
	if p.Type == "" {
		return ParamString
	}
	return p.Type
}

// convert turns one raw value into p's Go type and checks it.
func (p Param) convert(v any) (any, error) {
	switch p.typ() {
	case ParamString:
		s, err := scalarText(v)
		if err != nil {
			return nil, err
		}
		return s, p.checkString(s)
	case ParamInt:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case uint64:
			if n > 1<<62 {
				return nil, fmt.Errorf("%d is too large", n)
			}
			return int64(n), nil
		case float64:
			if n != float64(int64(n)) {
				return nil, fmt.Errorf("%v is not an integer", n)
			}
			return int64(n), nil
		case json.Number:
			return n.Int64()
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", n)
			}
			return i, nil
		}
		return nil, fmt.Errorf("want an integer, got %T", v)
	case ParamBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.TrimSpace(b) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, fmt.Errorf("%q is not true or false", b)
		}
		return nil, fmt.Errorf("want true or false, got %T", v)
	case ParamDuration:
		switch d := v.(type) {
		case time.Duration:
			return d, nil
		case string:
			return ParseDuration(d)
		}
		return nil, fmt.Errorf("want a duration such as 72h or 7d, got %T", v)
	case ParamStrings:
		var items []string
		switch l := v.(type) {
		case []string:
			items = slices.Clone(l)
		case []any:
			for i, x := range l {
				s, err := scalarText(x)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
				items = append(items, s)
			}
		case string:
			items = []string{l}
		default:
			return nil, fmt.Errorf("want a list of strings, got %T", v)
		}
		for i, s := range items {
			if err := p.checkString(s); err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
		}
		return items, nil
	case ParamMap:
		out := map[string]string{}
		switch m := v.(type) {
		case map[string]string:
			for k, x := range m {
				out[k] = x
			}
		case map[string]any:
			for k, x := range m {
				s, err := scalarText(x)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				out[k] = s
			}
		default:
			return nil, fmt.Errorf("want a mapping of strings, got %T", v)
		}
		for k, s := range out {
			if err := p.checkString(s); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("schema: unknown type %q", p.Type)
}

func (p Param) checkString(s string) error {
	limit := p.MaxLen
	if limit <= 0 {
		limit = 4096
	}
	if len(s) > limit {
		return fmt.Errorf("longer than %d bytes", limit)
	}
	if len(p.Enum) > 0 && !slices.Contains(p.Enum, s) {
		return fmt.Errorf("%q is not one of %s", s, strings.Join(p.Enum, ", "))
	}
	if p.Pattern != "" {
		re, err := regexp.Compile("^(?:" + p.Pattern + ")$")
		if err != nil {
			return fmt.Errorf("schema: pattern: %w", err)
		}
		if !re.MatchString(s) {
			return fmt.Errorf("%q does not match %s", s, p.Pattern)
		}
	}
	return nil
}

// isTemplate reports whether v is a string holding a template.
func isTemplate(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "{{")
}

// scalarText is the text of a scalar value.
func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("want a string, got %T", v)
}

// ParseDuration parses a Go duration ("72h", "90m") or a whole number of
// days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return d, nil
}

// actionName is the syntax of action names.
var actionName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

var paramName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Registry holds the actions playbooks may use, by name. It is built once
// with [NewRegistry] (the CLI passes the built-in record actions, notify,
// ticket and the cloud actions of internal/respond/cloud) and is read-only
// afterwards, so it is safe for concurrent use.
type Registry struct {
	byName map[string]Action
	names  []string
}

// NewRegistry returns a registry of actions. A nil action, an invalid
// name, an invalid schema (bad parameter name or type, a pattern that
// does not compile, a default of the wrong type) or a name used twice is
// an error naming the action.
func NewRegistry(actions ...Action) (*Registry, error) {
	r := &Registry{byName: map[string]Action{}}
	return r.with(actions)
}

// With returns a new registry holding r's actions and actions, checked as
// [NewRegistry] checks them. r is unchanged.
func (r *Registry) With(actions ...Action) (*Registry, error) {
	n := &Registry{byName: map[string]Action{}}
	for _, name := range r.names {
		n.byName[name] = r.byName[name]
	}
	n.names = slices.Clone(r.names)
	return n.with(actions)
}

func (r *Registry) with(actions []Action) (*Registry, error) {
	var errs []error
	for i, a := range actions {
		if a == nil {
			errs = append(errs, fmt.Errorf("respond: registry: action %d is nil", i))
			continue
		}
		name := a.Name()
		if !actionName.MatchString(name) {
			errs = append(errs, fmt.Errorf("respond: registry: action %q: invalid name (want dot-separated [a-z][a-z0-9_]* words)", name))
			continue
		}
		if _, dup := r.byName[name]; dup {
			errs = append(errs, fmt.Errorf("respond: registry: action %q: registered twice", name))
			continue
		}
		if err := checkSchema(a.Params()); err != nil {
			errs = append(errs, fmt.Errorf("respond: registry: action %q: %w", name, err))
			continue
		}
		r.byName[name] = a
		r.names = append(r.names, name)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	sort.Strings(r.names)
	return r, nil
}

func checkSchema(s Schema) error {
	seen := map[string]bool{}
	for _, p := range s {
		if !paramName.MatchString(p.Name) {
			return fmt.Errorf("schema: parameter %q: invalid name", p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("schema: parameter %q: listed twice", p.Name)
		}
		seen[p.Name] = true
		switch p.typ() {
		case ParamString, ParamInt, ParamBool, ParamDuration, ParamStrings, ParamMap:
		default:
			return fmt.Errorf("schema: parameter %q: unknown type %q", p.Name, p.Type)
		}
		if p.Pattern != "" {
			if _, err := regexp.Compile(p.Pattern); err != nil {
				return fmt.Errorf("schema: parameter %q: pattern: %w", p.Name, err)
			}
		}
		if p.Default != nil && !isTemplate(p.Default) {
			if _, err := p.convert(p.Default); err != nil {
				return fmt.Errorf("schema: parameter %q: default: %w", p.Name, err)
			}
		}
	}
	return nil
}

// Lookup returns the action named name.
func (r *Registry) Lookup(name string) (Action, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.byName[name]
	return a, ok
}

// Names lists the registered action names, sorted.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.names)
}
