package respond

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// highRiskPorts are the ports whose exposure to the internet is the usual
// target of an attack (Security Hub EC2.19's list): an open rule covering
// one of them is preferred as the offending rule.
var highRiskPorts = []int64{20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300}

// Enrich adds to rec the facts the inventory of world knows about its
// entities, so that triggers and parameter templates can use them:
//
//   - for an AWS instance (an entity naming i-…, or its ARN) whose security
//     group admits the internet (0.0.0.0/0 or ::/0): the group's ARN as a
//     resource entity, and the labels open_protocol=<p>, open_port=<n>
//     (single-port rules) and open_cidr=<range> of the offending rule —
//     a rule covering a commonly attacked port (22, 3389, 3306 …) before
//     others;
//   - for a bucket whose ACL is public (acl_public): the label
//     public_bucket.
//
// Labels and entities already present are kept; nothing is added twice.
// Entities the world does not know are left alone ([ErrUnknown]); other
// errors are returned.
func Enrich(ctx context.Context, world World, rec Record) (Record, error) {
	if world == nil {
		return rec, nil
	}
	out := rec
	out.Entities = slices.Clone(rec.Entities)
	out.Labels = slices.Clone(rec.Labels)
	addLabel := func(l string) {
		if !slices.Contains(out.Labels, l) {
			out.Labels = append(out.Labels, l)
		}
	}
	addEntity := func(e correlate.Entity) {
		if !slices.ContainsFunc(out.Entities, func(x correlate.Entity) bool { return x.Kind == e.Kind && x.Value == e.Value }) {
			out.Entities = append(out.Entities, e)
		}
	}
	seen := map[string]bool{}
	hasOpen := slices.ContainsFunc(rec.Labels, func(l string) bool { return strings.HasPrefix(l, "open_port=") || strings.HasPrefix(l, "open_cidr=") })
	for _, e := range rec.Entities {
		if e.Common || (e.Kind != correlate.KindHost && e.Kind != correlate.KindResource) || seen[e.Value] {
			continue
		}
		seen[e.Value] = true
		res, err := world.Resource(ctx, rec.Tenant, e.Value)
		if errors.Is(err, ErrUnknown) {
			continue
		}
		if err != nil {
			return rec, fmt.Errorf("respond: enrich %s: %w", e.Value, err)
		}
		switch res.Type {
		case "AWS::S3::Bucket":
			if pub, _ := res.Attributes["acl_public"].(bool); pub {
				addLabel("public_bucket")
			}
		case "AWS::EC2::Instance":
			if hasOpen {
				continue // the record already names its open rule
			}
			sg, rule, ok, err := openGroup(ctx, world, rec.Tenant, res)
			if err != nil {
				return rec, err
			}
			if !ok {
				continue
			}
			hasOpen = true
			addEntity(correlate.Entity{Kind: correlate.KindResource, Value: sg.UID})
			addLabel("open_protocol=" + rule.protocol)
			if rule.from == rule.to && rule.from > 0 {
				addLabel("open_port=" + strconv.FormatInt(rule.from, 10))
			}
			addLabel("open_cidr=" + rule.cidr)
		}
	}
	return out, nil
}

// openRule is an inbound rule of a security group open to the internet.
type openRule struct {
	protocol string
	from, to int64
	cidr     string
}

func (r openRule) risky() bool {
	if r.protocol == "-1" || r.protocol == "all" {
		return true
	}
	for _, p := range highRiskPorts {
		if r.from <= p && p <= r.to {
			return true
		}
	}
	return false
}

// openGroup finds the instance's security group with the most telling
// rule open to the internet.
func openGroup(ctx context.Context, world World, tenant string, inst inventory.Resource) (inventory.Resource, openRule, bool, error) {
	var groups []string
	for _, rel := range inst.Relationships {
		if rel.TargetType == "AWS::EC2::SecurityGroup" || strings.Contains(rel.Target, ":security-group/") || strings.HasPrefix(rel.Target, "sg-") {
			groups = append(groups, rel.Target)
		}
	}
	for _, g := range anyStrings(inst.Attributes["security_group_ids"]) {
		groups = append(groups, g)
	}
	var best inventory.Resource
	var bestRule openRule
	found := false
	seen := map[string]bool{}
	for _, g := range groups {
		sg, err := world.Resource(ctx, tenant, g)
		if errors.Is(err, ErrUnknown) {
			continue
		}
		if err != nil {
			return inventory.Resource{}, openRule{}, false, fmt.Errorf("respond: enrich %s: %w", g, err)
		}
		if seen[sg.UID] {
			continue
		}
		seen[sg.UID] = true
		ingress, _ := sg.Attributes["ingress"].([]any)
		for _, p := range ingress {
			perm, _ := p.(map[string]any)
			if perm == nil {
				continue
			}
			r := openRule{protocol: fmt.Sprint(perm["protocol"]), from: anyInt(perm["from_port"]), to: anyInt(perm["to_port"])}
			for _, c := range append(anyStrings(perm["ipv4_ranges"]), anyStrings(perm["ipv6_ranges"])...) {
				if c == "0.0.0.0/0" || c == "::/0" {
					r.cidr = c
					break
				}
			}
			if r.cidr == "" {
				continue
			}
			if !found || (r.risky() && !bestRule.risky()) {
				best, bestRule, found = sg, r, true
			}
		}
	}
	return best, bestRule, found, nil
}

func anyStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, s := range x {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func anyInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
