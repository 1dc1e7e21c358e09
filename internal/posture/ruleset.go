package posture

import (
	"cmp"
	"fmt"
	"slices"
)

// RuleSet is a set of compiled rules indexed for evaluation: by resource
// type for resource-scope rules and by provider for account-scope rules.
// It is immutable and safe for concurrent use.
type RuleSet struct {
	rules       []*Rule
	byID        map[string]*Rule
	byType      map[string][]*Rule
	account     map[string][]*Rule // provider → account-scope rules
	lookupTypes map[string]bool
}

// NewRuleSet indexes rules that [ParseRules], [LoadDir] or [BuiltinPacks]
// returned. Rule ids must be unique. Rules are kept sorted by id, and a
// resource's rules are evaluated in that order.
func NewRuleSet(rules ...*Rule) (*RuleSet, error) {
	s := &RuleSet{
		byID:        make(map[string]*Rule, len(rules)),
		byType:      map[string][]*Rule{},
		account:     map[string][]*Rule{},
		lookupTypes: map[string]bool{},
	}
	for _, r := range rules {
		if r == nil || r.check == nil {
			return nil, fmt.Errorf("posture: rule set: rule %q was not compiled (load rules with ParseRules or LoadDir)", ruleID(r))
		}
		if prev, ok := s.byID[r.ID]; ok {
			if prev == r {
				continue
			}
			return nil, &RuleError{File: r.File, Line: r.Line, RuleID: r.ID, Field: "id",
				Err: fmt.Errorf("duplicate: also defined at %s:%d", prev.File, prev.Line)}
		}
		s.byID[r.ID] = r
		s.rules = append(s.rules, r)
	}
	slices.SortFunc(s.rules, func(a, b *Rule) int { return cmp.Compare(a.ID, b.ID) })
	for _, r := range s.rules {
		if r.Scope == ScopeAccount {
			s.account[r.Provider] = append(s.account[r.Provider], r)
		}
		for _, t := range r.ResourceTypes {
			s.byType[t] = append(s.byType[t], r)
		}
		for _, l := range r.Lookups {
			s.lookupTypes[l.Type] = true
		}
	}
	return s, nil
}

func ruleID(r *Rule) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// Rules returns the rules sorted by id. The slice must not be changed.
func (s *RuleSet) Rules() []*Rule { return s.rules }

// Len returns the number of rules.
func (s *RuleSet) Len() int { return len(s.rules) }

// Rule returns the rule with the given id, or nil.
func (s *RuleSet) Rule(id string) *Rule { return s.byID[id] }

// ForType returns the resource-scope rules that apply to resource type t.
func (s *RuleSet) ForType(t string) []*Rule { return s.byType[t] }

// ForAccount returns the account-scope rules of provider.
func (s *RuleSet) ForAccount(provider string) []*Rule { return s.account[provider] }

// Types returns the resource types that some resource-scope rule applies
// to, sorted.
func (s *RuleSet) Types() []string { return sortedKeys(s.byType) }
