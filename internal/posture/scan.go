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

// entry is a resource with its CEL view, built once per resource (and
// not at all for a resource that is neither kept nor deferred: the
// scanner's scratch entry serves those).
type entry struct {
	res  *inventory.Resource
	view resourceView
}

// val is what CEL sees of the resource.
func (e *entry) val() any { return &e.view }

// scanner is the state of one scan.
type scanner struct {
	rs           *RuleSet
	now          time.Time
	nowVal       ref.Val
	emptyRelated map[string]any
	// vars is the activation, reused for every evaluation (a scan is
	// sequential and results keep nothing of it); related is the reused
	// map of a rule's lookups.
	vars    map[string]any
	related map[string]any
	scratch entry

	accounts    map[acctKey]*entry
	acctOrder   []acctKey
	lastAccount acctKey
	deferred    []*entry
	kept        map[typeKey][]*entry
	byUID       map[uidKey][]*entry

	groupLists map[groupKey][]any
	lastGroup  struct {
		key  groupKey
		list []any
	}
	attrIndex map[idxKey]map[string][]*entry
}

func newScanner(rs *RuleSet, opts ScanOptions) *scanner {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	s := &scanner{
		rs:           rs,
		now:          now,
		nowVal:       types.Timestamp{Time: now},
		emptyRelated: map[string]any{},
		related:      map[string]any{},
		accounts:     map[acctKey]*entry{},
		kept:         map[typeKey][]*entry{},
		byUID:        map[uidKey][]*entry{},
		groupLists:   map[groupKey][]any{},
		attrIndex:    map[idxKey]map[string][]*entry{},
	}
	s.vars = map[string]any{"resource": nil, "related": s.emptyRelated, "now": s.nowVal}
	return s
}

// newEntry makes the entry of a resource that the scan keeps.
func (s *scanner) newEntry(r *inventory.Resource) *entry {
	return &entry{res: r, view: resourceView{r: r}}
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
	rels := relationshipList(r)
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
	if r.Account != "" && (isAccount || r.Account != s.lastAccount.account || r.Provider != s.lastAccount.provider) {
		// inputs come grouped by account: only a change costs a map lookup
		k := acctKey{r.Provider, r.Account}
		s.lastAccount = k
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
	ti := s.rs.types[r.Type]
	if ti == nil {
		return true
	}
	if ti.lookupTarget {
		if e == nil {
			e = s.newEntry(r)
		}
		tk := typeKey{r.Provider, r.Type}
		s.kept[tk] = append(s.kept[tk], e)
		uk := uidKey{r.Provider, r.Type, r.UID}
		s.byUID[uk] = append(s.byUID[uk], e)
	}
	if len(ti.direct) > 0 {
		if e == nil {
			s.scratch = entry{res: r, view: resourceView{r: r}}
			e = &s.scratch
		}
		// rules without lookups share one activation per resource
		s.vars["resource"] = e.val()
		s.vars["related"] = s.emptyRelated
		for _, rule := range ti.direct {
			if res, ok := s.eval(rule, e, s.vars); ok && !yield(res, nil) {
				return false
			}
		}
	}
	if len(ti.lookup) > 0 {
		if e == nil || e == &s.scratch {
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
		for _, rule := range s.rs.types[e.res.Type].lookup {
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

// varsFor returns the activation of a rule on an entry: the scanner's
// reused map, with the rule's lookups in the reused related map.
func (s *scanner) varsFor(r *Rule, e *entry) map[string]any {
	s.vars["resource"] = e.val()
	if !r.HasLookups() {
		s.vars["related"] = s.emptyRelated
		return s.vars
	}
	clear(s.related)
	for _, l := range r.Lookups {
		s.related[l.Name] = s.lookup(l, e)
	}
	s.vars["related"] = s.related
	return s.vars
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
		if s.lastGroup.list != nil && s.lastGroup.key == k { // resources come grouped by account
			return s.lastGroup.list
		}
		if list, ok := s.groupLists[k]; ok {
			s.lastGroup.key, s.lastGroup.list = k, list
			return list
		}
		list := []any{}
		for _, o := range s.kept[typeKey{r.Provider, l.Type}] {
			if o.res.Account == r.Account && (l.Match == MatchSameAccount || o.res.Region == r.Region) {
				list = append(list, o.val())
			}
		}
		s.groupLists[k] = list
		s.lastGroup.key, s.lastGroup.list = k, list
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
		for _, v := range e.view.pathValues(defaultPath(l.Path)) {
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
		for _, v := range o.view.pathValues(k.path) {
			idx[v] = append(idx[v], o)
		}
	}
	s.attrIndex[k] = idx
	return idx
}

// values returns the distinct CEL values of entries, in order.
func values(es []*entry) []any {
	out := make([]any, 0, len(es))
	if len(es) <= 8 {
		for i, e := range es {
			if !slices.Contains(es[:i], e) {
				out = append(out, e.val())
			}
		}
		return out
	}
	seen := make(map[*entry]bool, len(es))
	for _, e := range es {
		if !seen[e] {
			seen[e] = true
			out = append(out, e.val())
		}
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
