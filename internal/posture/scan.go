package posture

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// Status is the outcome of one rule on one resource.
type Status int

// The statuses of a [Result].
const (
	// StatusPass: the check held.
	StatusPass Status = iota + 1
	// StatusFail: the check did not hold.
	StatusFail
	// StatusError: the rule could not be evaluated on the resource (an
	// attribute it needs is missing or of the wrong type, the cost limit
	// was exceeded …); Result.Err says why.
	StatusError
)

var statusNames = [...]string{StatusPass: "pass", StatusFail: "fail", StatusError: "error"}

// String returns "pass", "fail" or "error".
func (s Status) String() string {
	if s > 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalText writes the status as its name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n != "" && n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("status %q: want pass, fail or error", b)
}

// Result is the outcome of one rule on one resource.
type Result struct {
	Rule *Rule
	// Resource is the checked resource; for an account-scope rule, the
	// account resource (from the inventory, else made by
	// [inventory.NewAccount]).
	Resource *inventory.Resource
	Status   Status
	// Message explains a failure (the rule's message expression, else its
	// title) or an error ("check: no such key: versioning").
	Message string
	// Err is the evaluation error of a StatusError result.
	Err error
	// Time is the time of the scan ([ScanOptions.Now]).
	Time time.Time
}

// ScanOptions tune [Scan]. The zero value is ready to use.
type ScanOptions struct {
	// Now is the time rules see as `now` and results carry. Default:
	// time.Now() when the scan starts.
	Now time.Time
}

// Scan evaluates rules over resources and streams one [Result] per
// applicable (rule, resource) pair, plus one per (account-scope rule,
// account) for each account the resources mention.
//
// Resources whose rules need no lookups are evaluated as they arrive, and
// only resources that rules may look up, resources with lookup rules and
// account resources are kept until the input ends: memory grows with
// those, not with the inventory. The results of lookup and account-scope
// rules come after the input has been read.
//
// An error from resources, an invalid resource or ctx's cancellation is
// yielded once as the error and ends the scan. Evaluation problems are
// results with [StatusError], never errors of the scan. Resources must not
// be changed while the scan runs.
func Scan(ctx context.Context, rules *RuleSet, resources iter.Seq2[*inventory.Resource, error], opts ScanOptions) iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		s := newScanner(rules, opts)
		n := 0
		for res, err := range resources {
			n++
			if err == nil && n%256 == 0 {
				err = ctx.Err()
			}
			if err == nil && res == nil {
				err = fmt.Errorf("posture: scan: resource %d: nil", n)
			}
			if err == nil {
				if verr := res.Validate(); verr != nil {
					err = fmt.Errorf("posture: scan: resource %d (%s): %w", n, res.UID, verr)
				}
			}
			if err != nil {
				yield(Result{}, err)
				return
			}
			if !s.add(res, yield) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(Result{}, err)
			return
		}
		s.finish(ctx, yield)
	}
}

// Resources adapts a slice to the resource stream [Scan] reads.
func Resources(rs []*inventory.Resource) iter.Seq2[*inventory.Resource, error] {
	return func(yield func(*inventory.Resource, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

type acctKey struct{ provider, account string }

type typeKey struct{ provider, typ string }

type groupKey struct{ provider, account, region, typ string }

type uidKey struct{ provider, typ, uid string }

type idxKey struct{ provider, typ, path string }

// entry is a resource with its CEL value, built once per resource.
type entry struct {
	res  *inventory.Resource
	raw  map[string]any
	val  ref.Val
	vars map[string]any // resource, related (empty), now
}

// scanner is the state of one scan.
type scanner struct {
	rs           *RuleSet
	now          time.Time
	nowVal       ref.Val
	emptyRelated map[string]any

	accounts  map[acctKey]*entry
	acctOrder []acctKey
	deferred  []*entry
	kept      map[typeKey][]*entry
	byUID     map[uidKey][]*entry

	groupLists map[groupKey][]any
	attrIndex  map[idxKey]map[string][]*entry
}

func newScanner(rs *RuleSet, opts ScanOptions) *scanner {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	return &scanner{
		rs:           rs,
		now:          now,
		nowVal:       types.Timestamp{Time: now},
		emptyRelated: map[string]any{},
		accounts:     map[acctKey]*entry{},
		kept:         map[typeKey][]*entry{},
		byUID:        map[uidKey][]*entry{},
		groupLists:   map[groupKey][]any{},
		attrIndex:    map[idxKey]map[string][]*entry{},
	}
}

// newEntry converts a resource to its CEL form.
func (s *scanner) newEntry(r *inventory.Resource) *entry {
	raw := ResourceMap(r)
	val := adapter.NativeToValue(raw)
	e := &entry{res: r, raw: raw, val: val}
	e.vars = map[string]any{"resource": val, "related": s.emptyRelated, "now": s.nowVal}
	return e
}

// ResourceMap returns the map a rule sees as `resource`: provider,
// account, region, type, uid, name, tags (a map, possibly empty),
// attributes (a map, possibly empty) and relationships (a list of maps
// with type, target and target_type).
func ResourceMap(r *inventory.Resource) map[string]any {
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	tags := r.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	rels := make([]any, len(r.Relationships))
	for i, rel := range r.Relationships {
		rels[i] = map[string]any{"type": rel.Type, "target": rel.Target, "target_type": rel.TargetType}
	}
	return map[string]any{
		"provider":      r.Provider,
		"account":       r.Account,
		"region":        r.Region,
		"type":          r.Type,
		"uid":           r.UID,
		"name":          r.Name,
		"tags":          tags,
		"attributes":    attrs,
		"relationships": rels,
	}
}

// add takes one resource; false means the consumer stopped.
func (s *scanner) add(r *inventory.Resource, yield func(Result, error) bool) bool {
	var e *entry
	isAccount := r.Type == inventory.AccountType(r.Provider)
	if r.Account != "" {
		k := acctKey{r.Provider, r.Account}
		prev, seen := s.accounts[k]
		if !seen {
			s.acctOrder = append(s.acctOrder, k)
		}
		if isAccount && prev == nil {
			e = s.newEntry(r)
			s.accounts[k] = e
		} else if !seen {
			s.accounts[k] = nil
		}
	}
	if s.rs.lookupTypes[r.Type] {
		if e == nil {
			e = s.newEntry(r)
		}
		tk := typeKey{r.Provider, r.Type}
		s.kept[tk] = append(s.kept[tk], e)
		uk := uidKey{r.Provider, r.Type, r.UID}
		s.byUID[uk] = append(s.byUID[uk], e)
	}
	rules := s.rs.byType[r.Type]
	deferred := false
	for _, rule := range rules {
		if rule.HasLookups() {
			deferred = true
			continue
		}
		if e == nil {
			e = s.newEntry(r)
		}
		if res, ok := s.eval(rule, e, e.vars); ok && !yield(res, nil) {
			return false
		}
	}
	if deferred {
		if e == nil {
			e = s.newEntry(r)
		}
		s.deferred = append(s.deferred, e)
	}
	return true
}

// finish evaluates the deferred lookup rules and the account-scope rules.
func (s *scanner) finish(ctx context.Context, yield func(Result, error) bool) {
	for i, e := range s.deferred {
		if i%256 == 255 && ctx.Err() != nil {
			yield(Result{}, ctx.Err())
			return
		}
		for _, rule := range s.rs.byType[e.res.Type] {
			if !rule.HasLookups() {
				continue
			}
			if res, ok := s.eval(rule, e, s.varsFor(rule, e)); ok && !yield(res, nil) {
				return
			}
		}
	}
	for _, k := range s.acctOrder {
		rules := s.rs.account[k.provider]
		if len(rules) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			yield(Result{}, err)
			return
		}
		e := s.accounts[k]
		if e == nil {
			e = s.newEntry(inventory.NewAccount(k.provider, k.account))
		}
		for _, rule := range rules {
			if res, ok := s.eval(rule, e, s.varsFor(rule, e)); ok && !yield(res, nil) {
				return
			}
		}
	}
}

// eval runs one rule; ok is false when its precondition excludes the
// resource.
func (s *scanner) eval(r *Rule, e *entry, vars map[string]any) (Result, bool) {
	res := Result{Rule: r, Resource: e.res, Time: s.now}
	if r.when != nil {
		ok, err := evalBool(r.when, vars)
		if err != nil {
			return res.fail("when", err), true
		}
		if !ok {
			return res, false
		}
	}
	pass, err := evalBool(r.check, vars)
	if err != nil {
		return res.fail("check", err), true
	}
	if pass {
		res.Status = StatusPass
		return res, true
	}
	res.Status = StatusFail
	res.Message = r.Title
	if r.message != nil {
		msg, err := evalString(r.message, vars)
		if err != nil {
			res.Message = r.Title + " (message: " + err.Error() + ")"
		} else if msg != "" {
			res.Message = msg
		}
	}
	return res, true
}

func (res Result) fail(field string, err error) Result {
	res.Status = StatusError
	res.Err = fmt.Errorf("rule %s: %s: %w", res.Rule.ID, field, err)
	res.Message = field + ": " + err.Error()
	return res
}

// varsFor returns the activation of a rule with lookups.
func (s *scanner) varsFor(r *Rule, e *entry) map[string]any {
	if !r.HasLookups() {
		return e.vars
	}
	related := make(map[string]any, len(r.Lookups))
	for _, l := range r.Lookups {
		related[l.Name] = s.lookup(l, e)
	}
	return map[string]any{"resource": e.val, "related": related, "now": s.nowVal}
}

// lookup returns the CEL list of the resources l finds for e.
func (s *scanner) lookup(l Lookup, e *entry) []any {
	r := e.res
	switch l.Match {
	case MatchSameAccount, MatchSameRegion:
		k := groupKey{r.Provider, r.Account, "", l.Type}
		if l.Match == MatchSameRegion {
			k.region = r.Region
		}
		if list, ok := s.groupLists[k]; ok {
			return list
		}
		list := []any{}
		for _, o := range s.kept[typeKey{r.Provider, l.Type}] {
			if o.res.Account == r.Account && (l.Match == MatchSameAccount || o.res.Region == r.Region) {
				list = append(list, o.val)
			}
		}
		s.groupLists[k] = list
		return list
	case MatchRelationship:
		var found []*entry
		if l.Direction == "in" {
			idx := s.index(idxKey{r.Provider, l.Type, "<-" + l.Relationship})
			found = idx[r.UID]
		} else {
			for _, rel := range r.Relationships {
				if l.Relationship != "" && rel.Type != l.Relationship {
					continue
				}
				found = append(found, s.byUID[uidKey{r.Provider, l.Type, rel.Target}]...)
			}
		}
		return values(found)
	case MatchAttribute:
		idx := s.index(idxKey{r.Provider, l.Type, defaultPath(l.TargetPath)})
		var found []*entry
		for _, v := range pathValues(e.raw, defaultPath(l.Path)) {
			found = append(found, idx[v]...)
		}
		return values(found)
	}
	return []any{}
}

func defaultPath(p string) string {
	if p == "" {
		return "uid"
	}
	return p
}

// index returns (building it once) the resources of one provider and type
// by the value at a path, or, for a path "<-rel", by the targets of their
// relationships of type rel ("" = any).
func (s *scanner) index(k idxKey) map[string][]*entry {
	if idx, ok := s.attrIndex[k]; ok {
		return idx
	}
	idx := map[string][]*entry{}
	for _, o := range s.kept[typeKey{k.provider, k.typ}] {
		if rel, ok := strings.CutPrefix(k.path, "<-"); ok {
			for _, x := range o.res.Relationships {
				if rel == "" || x.Type == rel {
					idx[x.Target] = append(idx[x.Target], o)
				}
			}
			continue
		}
		for _, v := range pathValues(o.raw, k.path) {
			idx[v] = append(idx[v], o)
		}
	}
	s.attrIndex[k] = idx
	return idx
}

// values returns the distinct CEL values of entries, in order.
func values(es []*entry) []any {
	out := make([]any, 0, len(es))
	for i, e := range es {
		if slices.Contains(es[:i], e) {
			continue
		}
		out = append(out, e.val)
	}
	return out
}

// pathValues returns the strings at a dotted path of a resource map; a
// list along the way contributes each of its elements.
func pathValues(m map[string]any, path string) []string {
	var out []string
	var walk func(v any, parts []string)
	walk = func(v any, parts []string) {
		switch x := v.(type) {
		case []any:
			for _, y := range x {
				walk(y, parts)
			}
			return
		case []string:
			if len(parts) == 0 {
				out = append(out, x...)
			}
			return
		}
		if len(parts) == 0 {
			switch x := v.(type) {
			case string:
				if x != "" {
					out = append(out, x)
				}
			case json.Number:
				out = append(out, x.String())
			}
			return
		}
		if mm, ok := v.(map[string]any); ok {
			walk(mm[parts[0]], parts[1:])
		}
	}
	walk(m, strings.Split(path, "."))
	return out
}
