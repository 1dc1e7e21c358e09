package correlate

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Tactic is an ATT&CK Enterprise tactic with its kill-chain position.
type Tactic struct {
	// ID is the ATT&CK id, e.g. "TA0005".
	ID string `json:"id"`
	// Name is the ATT&CK name, e.g. "Defense Evasion".
	Name string `json:"name"`
	// Order is the 1-based kill-chain position (1 = Reconnaissance,
	// 14 = Impact); 0 for a tactic ATT&CK does not know.
	Order int `json:"order"`
}

//go:embed data/tactics.yaml
var tacticsYAML []byte

//go:embed data/technique-to-tactics.json
var techniqueJSON []byte

// tacticData is the decoded form of data/tactics.yaml.
type tacticData struct {
	Tactics []struct {
		ID        string `yaml:"id"`
		Shortname string `yaml:"shortname"`
		Name      string `yaml:"name"`
	} `yaml:"tactics"`
	Sources struct {
		API       []string `yaml:"api"`
		GuardDuty []string `yaml:"guardduty"`
		Suricata  []string `yaml:"suricata"`
		Tags      []string `yaml:"tags"`
	} `yaml:"sources"`
	APIOperations      []mappingRule `yaml:"api_operations"`
	APIPrefixes        []mappingRule `yaml:"api_prefixes"`
	GuardDutyTypes     []mappingRule `yaml:"guardduty_types"`
	GuardDutyPrefixes  []mappingRule `yaml:"guardduty_prefixes"`
	SuricataCategories []mappingRule `yaml:"suricata_categories"`
}

// mappingRule maps source values (operation names, finding types,
// categories) to one tactic, citing the ATT&CK technique it stands for.
type mappingRule struct {
	Match          []string `yaml:"match"`
	Tactic         string   `yaml:"tactic"`
	Technique      string   `yaml:"technique"`
	WhenRequestHas []string `yaml:"when_request_has"`
	// WhenRequestWorldCIDR: only if the request names a /0 CIDR.
	WhenRequestWorldCIDR bool `yaml:"when_request_world_cidr"`
}

// applies reports whether r's request conditions hold for request data.
func (r mappingRule) applies(data any) bool {
	if len(r.WhenRequestHas) > 0 && !hasString(data, 0, func(s string) bool { return slices.Contains(r.WhenRequestHas, s) }) {
		return false
	}
	if r.WhenRequestWorldCIDR && !hasString(data, 0, worldCIDR) {
		return false
	}
	return true
}

// worldCIDR reports a CIDR of prefix length 0: the whole address space.
func worldCIDR(s string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	return err == nil && p.Bits() == 0
}

// tacticTable is the parsed, indexed mapping. It is built once and never
// written afterwards.
type tacticTable struct {
	tactics    []Tactic          // kill-chain order
	byKey      map[string]Tactic // id, short name and lower-case name
	techniques map[string][]string

	apiSources, guardDutySources, suricataSources, tagSources map[string]bool

	apiOps        map[string][]mappingRule
	apiPrefixes   []mappingRule // one Match each, longest first
	gdTypes       map[string]mappingRule
	gdPrefixes    map[string]mappingRule
	suricataCateg map[string]mappingRule
}

// table returns the embedded mapping, parsed on first use. The data is
// embedded and checked by the package's tests, so a parse failure is a
// build defect and panics.
var table = sync.OnceValue(func() *tacticTable {
	t, err := parseTactics(tacticsYAML, techniqueJSON)
	if err != nil {
		panic(err)
	}
	return t
})

func parseTactics(yamlData, techData []byte) (*tacticTable, error) {
	var d tacticData
	if err := yaml.UnmarshalWithOptions(yamlData, &d, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("correlate: tactics.yaml: %w", err)
	}
	t := &tacticTable{
		byKey:            make(map[string]Tactic),
		apiSources:       lowerSet(d.Sources.API),
		guardDutySources: lowerSet(d.Sources.GuardDuty),
		suricataSources:  lowerSet(d.Sources.Suricata),
		tagSources:       lowerSet(d.Sources.Tags),
		apiOps:           make(map[string][]mappingRule),
		gdTypes:          make(map[string]mappingRule),
		gdPrefixes:       make(map[string]mappingRule),
		suricataCateg:    make(map[string]mappingRule),
	}
	for i, x := range d.Tactics {
		if x.ID == "" || x.Shortname == "" || x.Name == "" {
			return nil, fmt.Errorf("correlate: tactics.yaml: tactics[%d]: id, shortname and name are required", i)
		}
		tc := Tactic{ID: x.ID, Name: x.Name, Order: i + 1}
		t.tactics = append(t.tactics, tc)
		keys := []string{x.ID, x.Shortname}
		if n := strings.ToLower(x.Name); n != x.Shortname {
			keys = append(keys, n)
		}
		for _, k := range keys {
			if _, dup := t.byKey[k]; dup {
				return nil, fmt.Errorf("correlate: tactics.yaml: tactics[%d]: %q listed twice", i, k)
			}
			t.byKey[k] = tc
		}
	}
	dec := json.NewDecoder(bytes.NewReader(techData))
	if err := dec.Decode(&t.techniques); err != nil {
		return nil, fmt.Errorf("correlate: technique-to-tactics.json: %w", err)
	}
	type section struct {
		name  string
		rules []mappingRule
		add   func(key string, r mappingRule) bool // false: duplicate key
	}
	sections := []section{
		{"api_operations", d.APIOperations, func(k string, r mappingRule) bool {
			t.apiOps[k] = append(t.apiOps[k], r)
			return true
		}},
		{"api_prefixes", d.APIPrefixes, func(k string, r mappingRule) bool {
			r.Match = []string{k}
			t.apiPrefixes = append(t.apiPrefixes, r)
			return true
		}},
		{"guardduty_types", d.GuardDutyTypes, addOnce(t.gdTypes, false)},
		{"guardduty_prefixes", d.GuardDutyPrefixes, addOnce(t.gdPrefixes, true)},
		{"suricata_categories", d.SuricataCategories, addOnce(t.suricataCateg, true)},
	}
	for _, s := range sections {
		for i, r := range s.rules {
			if _, ok := t.byKey[r.Tactic]; !ok {
				return nil, fmt.Errorf("correlate: tactics.yaml: %s[%d]: unknown tactic %q", s.name, i, r.Tactic)
			}
			if len(r.Match) == 0 {
				return nil, fmt.Errorf("correlate: tactics.yaml: %s[%d]: match is empty", s.name, i)
			}
			for _, m := range r.Match {
				if !s.add(m, r) {
					return nil, fmt.Errorf("correlate: tactics.yaml: %s[%d]: %q listed twice", s.name, i, m)
				}
			}
		}
	}
	slices.SortStableFunc(t.apiPrefixes, func(a, b mappingRule) int {
		return cmp.Compare(len(b.Match[0]), len(a.Match[0]))
	})
	return t, nil
}

func addOnce(m map[string]mappingRule, fold bool) func(string, mappingRule) bool {
	return func(k string, r mappingRule) bool {
		if fold {
			k = strings.ToLower(k)
		}
		if _, dup := m[k]; dup {
			return false
		}
		m[k] = r
		return true
	}
}

func lowerSet(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[strings.ToLower(x)] = true
	}
	return m
}

// lookup resolves a tactic by id ("TA0005"), short name ("defense-evasion"),
// or name in any case and spacing ("Defense Evasion", "DefenseEvasion",
// "defense_evasion").
func (t *tacticTable) lookup(s string) (Tactic, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Tactic{}, false
	}
	if tc, ok := t.byKey[strings.ToUpper(s)]; ok {
		return tc, true
	}
	k := strings.ToLower(s)
	if tc, ok := t.byKey[k]; ok {
		return tc, true
	}
	k = strings.NewReplacer("_", "-", " ", "-").Replace(k)
	if tc, ok := t.byKey[k]; ok {
		return tc, true
	}
	// "DefenseEvasion", "commandandcontrol": compare without separators.
	squash := strings.ReplaceAll(k, "-", "")
	for _, tc := range t.tactics {
		if strings.ReplaceAll(strings.ToLower(strings.ReplaceAll(tc.Name, " ", "")), "-", "") == squash {
			return tc, true
		}
	}
	return Tactic{}, false
}

// techniqueTactics returns the tactics ATT&CK lists for technique id (a
// sub-technique falls back to its parent).
func (t *tacticTable) techniqueTactics(id string) []Tactic {
	id = strings.ToUpper(strings.TrimSpace(id))
	names, ok := t.techniques[id]
	if !ok {
		if parent, _, sub := strings.Cut(id, "."); sub {
			names = t.techniques[parent]
		}
	}
	var out []Tactic
	for _, n := range names {
		if tc, ok := t.lookup(n); ok {
			out = append(out, tc)
		}
	}
	return out
}

// TacticOrder returns the kill-chain position (1–14) of the ATT&CK
// Enterprise tactic named by id, short name ("defense-evasion") or name
// ("Defense Evasion"), or 0 if there is none.
func TacticOrder(id string) int {
	tc, _ := table().lookup(id)
	return tc.Order
}

// KillChain returns the 14 ATT&CK Enterprise tactics in kill-chain order.
func KillChain() []Tactic { return slices.Clone(table().tactics) }

// SortByKillChain sorts ts in kill-chain order, in place and stably; tactics
// with Order 0 go last.
func SortByKillChain(ts []Tactic) {
	slices.SortStableFunc(ts, func(a, b Tactic) int {
		switch {
		case a.Order == b.Order:
			return 0
		case a.Order == 0:
			return 1
		case b.Order == 0:
			return -1
		}
		return cmp.Compare(a.Order, b.Order)
	})
}

// Tactics returns the ATT&CK tactics rec stands for, once each, in
// kill-chain order. A finding's own finding_info.attacks win: their tactics,
// and for techniques without a tactic the tactics ATT&CK lists for the
// technique. Records without them are mapped by source through the embedded
// table (data/tactics.yaml): CloudTrail and ActionTrail API operations,
// GuardDuty finding types, Suricata alert categories, Falco tags
// ("mitre_execution", "T1059"). Unknown sources give nil.
func Tactics(rec ocsf.Record) []Tactic {
	if rec == nil {
		return nil
	}
	t := table()
	var out []Tactic
	fi := findingInfo(rec)
	if fi != nil {
		out = t.fromAttacks(fi.Attacks)
	}
	if len(out) == 0 {
		out = t.fromSource(rec, fi)
	}
	return uniqueSorted(out)
}

func (t *tacticTable) fromAttacks(attacks []ocsf.Attack) []Tactic {
	var out []Tactic
	for _, a := range attacks {
		var named []Tactic
		if a.Tactic != nil {
			named = append(named, t.fromOCSF(*a.Tactic)...)
		}
		for _, x := range a.Tactics {
			named = append(named, t.fromOCSF(x)...)
		}
		if len(named) == 0 {
			for _, tech := range []*ocsf.Technique{a.SubTechnique, a.Technique} {
				if tech != nil && tech.UID != "" {
					if named = t.techniqueTactics(tech.UID); len(named) > 0 {
						break
					}
				}
			}
		}
		out = append(out, named...)
	}
	return out
}

func (t *tacticTable) fromOCSF(x ocsf.Tactic) []Tactic {
	for _, s := range []string{x.UID, x.Name} {
		if tc, ok := t.lookup(s); ok {
			return []Tactic{tc}
		}
	}
	return nil
}

var techniqueRE = regexp.MustCompile(`^[Tt]\d{4}(\.\d{3})?$`)

func (t *tacticTable) fromSource(rec ocsf.Record, fi *ocsf.FindingInfo) []Tactic {
	b := rec.Common()
	if b == nil {
		return nil
	}
	product := strings.ToLower(b.Metadata.Product.Name)
	var out []Tactic
	switch {
	case t.apiSources[product]:
		op, data := apiOperation(rec)
		if op == "" {
			op = b.Metadata.EventCode
		}
		for _, r := range t.apiOps[op] {
			if r.applies(data) {
				out = append(out, t.byKey[r.Tactic])
			}
		}
		if len(out) == 0 && len(t.apiOps[op]) == 0 {
			for _, r := range t.apiPrefixes {
				if strings.HasPrefix(op, r.Match[0]) {
					out = append(out, t.byKey[r.Tactic])
					break
				}
			}
		}
	case t.guardDutySources[product] && fi != nil:
		for _, typ := range findingTypes(fi) {
			if r, ok := t.gdTypes[typ]; ok {
				out = append(out, t.byKey[r.Tactic])
				continue
			}
			purpose, _, ok := strings.Cut(typ, ":")
			if !ok {
				continue
			}
			if i := strings.LastIndexByte(purpose, '/'); i >= 0 {
				purpose = purpose[i+1:] // Security Hub: "TTPs/Defense Evasion/DefenseEvasion"
			}
			if r, ok := t.gdPrefixes[strings.ToLower(purpose)]; ok {
				out = append(out, t.byKey[r.Tactic])
			}
		}
	case t.suricataSources[product] && fi != nil:
		for _, c := range findingTypes(fi) {
			if r, ok := t.suricataCateg[strings.ToLower(c)]; ok {
				out = append(out, t.byKey[r.Tactic])
			}
		}
	case t.tagSources[product] && fi != nil:
		for _, tag := range fi.Types {
			switch {
			case techniqueRE.MatchString(tag):
				out = append(out, t.techniqueTactics(tag)...)
			case strings.HasPrefix(strings.ToLower(tag), "mitre_"):
				if tc, ok := t.lookup(tag[len("mitre_"):]); ok {
					out = append(out, tc)
				}
			}
		}
	}
	return out
}

// findingTypes lists finding_info.types and the analytic's uid and category,
// where sources put their finding type or alert category.
func findingTypes(fi *ocsf.FindingInfo) []string {
	out := slices.Clone(fi.Types)
	if a := fi.Analytic; a != nil {
		out = append(out, a.UID, a.Category)
	}
	return out
}

// hasString reports whether some string within v (maps and slices walked to
// a bounded depth) satisfies match.
func hasString(v any, depth int, match func(string) bool) bool {
	if depth > 12 {
		return false
	}
	switch x := v.(type) {
	case string:
		return match(x)
	case map[string]any:
		for _, e := range x {
			if hasString(e, depth+1, match) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasString(e, depth+1, match) {
				return true
			}
		}
	}
	return false
}

func uniqueSorted(ts []Tactic) []Tactic {
	if len(ts) == 0 {
		return nil
	}
	SortByKillChain(ts)
	return slices.CompactFunc(ts, func(a, b Tactic) bool { return a.ID == b.ID })
}

// findingInfo returns the finding_info of a finding class, else nil.
func findingInfo(rec ocsf.Record) *ocsf.FindingInfo {
	switch r := rec.(type) {
	case *ocsf.DetectionFinding:
		return &r.FindingInfo
	case *ocsf.VulnerabilityFinding:
		return &r.FindingInfo
	case *ocsf.ComplianceFinding:
		return &r.FindingInfo
	case *ocsf.DataSecurityFinding:
		return &r.FindingInfo
	}
	return nil
}

// apiOperation returns the API operation of an activity and its request
// data, if any.
func apiOperation(rec ocsf.Record) (string, any) {
	var api *ocsf.API
	switch r := rec.(type) {
	case *ocsf.APIActivity:
		api = &r.API
	case *ocsf.Authentication:
		api = r.API
	case *ocsf.NetworkActivity:
		api = r.API
	case *ocsf.HTTPActivity:
		api = r.API
	case *ocsf.DNSActivity:
		api = r.API
	}
	if api == nil {
		return "", nil
	}
	var data any
	if api.Request != nil {
		data = api.Request.Data
	}
	return api.Operation, data
}
