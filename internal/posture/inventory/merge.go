package inventory

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// Merge folds src, a partial description of the same resource as dst
// (same [Resource.Key]), into dst:
//
//   - attributes merge key by key, recursively where both sides hold a
//     map[string]any; otherwise src's value replaces dst's, and a key src
//     does not have never removes one dst has;
//   - tags are united, src winning per key; relationships are united
//     without duplicates;
//   - Name and Region keep dst's value unless it is empty; ObservedAt
//     becomes the later of the two; Source lists every source once,
//     comma-separated.
//
// Merge does not check that the keys agree; [Merger] does.
func Merge(dst *Resource, src Resource) {
	if dst.Name == "" {
		dst.Name = src.Name
	}
	if dst.Region == "" {
		dst.Region = src.Region
	}
	if len(src.Tags) > 0 {
		if dst.Tags == nil {
			dst.Tags = make(map[string]string, len(src.Tags))
		}
		maps.Copy(dst.Tags, src.Tags)
	}
	if dst.Attributes == nil {
		dst.Attributes = make(map[string]any, len(src.Attributes))
	}
	mergeMaps(dst.Attributes, src.Attributes)
	for _, rel := range src.Relationships {
		if !slices.Contains(dst.Relationships, rel) {
			dst.Relationships = append(dst.Relationships, rel)
		}
	}
	dst.Source = joinSources(dst.Source, src.Source)
	if src.ObservedAt.After(dst.ObservedAt) {
		dst.ObservedAt = src.ObservedAt
	}
}

func mergeMaps(dst, src map[string]any) {
	for k, sv := range src {
		sm, sIsMap := sv.(map[string]any)
		dm, dIsMap := dst[k].(map[string]any)
		if sIsMap && dIsMap {
			mergeMaps(dm, sm)
			continue
		}
		if sIsMap {
			// Copy so later merges into dst never write into src.
			cp := make(map[string]any, len(sm))
			mergeMaps(cp, sm)
			dst[k] = cp
			continue
		}
		dst[k] = sv
	}
}

func joinSources(a, b string) string {
	if b == "" {
		return a
	}
	if a == "" {
		return b
	}
	have := strings.Split(a, ",")
	for _, s := range strings.Split(b, ",") {
		if !slices.Contains(have, s) {
			have = append(have, s)
		}
	}
	return strings.Join(have, ",")
}

// Merger collects partial resources and merges those with the same key.
// The zero value is ready to use; a Merger is not safe for concurrent use.
type Merger struct {
	index map[string]int
	list  []Resource
}

// Add merges r into the resource with the same key, or records it as a
// new resource. Add copies r's attributes, so the caller may reuse r.
func (m *Merger) Add(r Resource) {
	if m.index == nil {
		m.index = make(map[string]int)
	}
	key := r.Key()
	if i, ok := m.index[key]; ok {
		Merge(&m.list[i], r)
		return
	}
	fresh := Resource{
		Provider: r.Provider, Account: r.Account, Type: r.Type, UID: r.UID,
		ObservedAt: r.ObservedAt,
	}
	Merge(&fresh, r)
	m.index[key] = len(m.list)
	m.list = append(m.list, fresh)
}

// Len reports how many distinct resources the Merger holds.
func (m *Merger) Len() int { return len(m.list) }

// Resources returns the merged resources in the order their keys were
// first added. The slice is the Merger's own: add nothing after reading it.
func (m *Merger) Resources() []Resource { return m.list }

// MergeStreams reads every stream to its end, in order, and yields their
// resources merged by key as a [Merger] merges them: partial descriptions
// of one resource from several inputs (the users of AWS Config or Terraform
// and the same users from the IAM credential report; several aliyun
// collections of one account) become one resource, so that a rule sees
// every fact about it at once and each resource gets one result per rule.
// Resources come in the order their keys were first seen. Nothing is
// yielded before the last stream ends, and every resource is held until
// then. The first error of a stream (or a nil resource) is yielded once and
// ends the iteration; the streams after it are not read.
func MergeStreams(streams ...iter.Seq2[*Resource, error]) iter.Seq2[*Resource, error] {
	return func(yield func(*Resource, error) bool) {
		var m Merger
		for i, stream := range streams {
			for r, err := range stream {
				if err == nil && r == nil {
					err = fmt.Errorf("inventory: merge: stream %d: nil resource", i+1)
				}
				if err != nil {
					yield(nil, err)
					return
				}
				m.Add(*r)
			}
		}
		list := m.Resources()
		for i := range list {
			if !yield(&list[i], nil) {
				return
			}
		}
	}
}
