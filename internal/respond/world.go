package respond

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/risk"
)

// World is what the impact preview knows about a tenant's estate. The
// caller provides it (the CLI and the API back it with the store's
// inventory, the activity seen in events and the operator's asset context
// file); [NoWorld] knows nothing, and internal/respond/respondtest has an
// in-memory one for tests.
//
// Every method is read-only. A lookup that finds nothing returns
// [ErrUnknown] (wrapped or not); any other error stops the preview.
type World interface {
	// Resource returns the inventory resource of tenant whose UID is uid
	// (an ARN, an instance id, a security-group id …).
	Resource(ctx context.Context, tenant, uid string) (inventory.Resource, error)
	// Referrers returns the resources of tenant with a relationship whose
	// target is uid: the instances and network interfaces in a security
	// group, the pods of a service account, the objects attached to a
	// policy. Order does not matter; nil when none.
	Referrers(ctx context.Context, tenant, uid string) ([]inventory.Resource, error)
	// SeenUsing returns the entities (hosts, workloads, IPs, resources)
	// seen acting with the access key or principal id (from API activity
	// events); nil when none.
	SeenUsing(ctx context.Context, tenant, key string) ([]correlate.Entity, error)
	// Assets returns the tenant's asset context (criticality tiers).
	Assets(ctx context.Context, tenant string) (risk.AssetContext, error)
}

// ErrUnknown is what a [World] returns for something it does not know.
var ErrUnknown = errors.New("respond: unknown to the inventory")

// NoWorld is a [World] that knows nothing: previews then list the targets
// alone and say that affected assets are unknown.
type NoWorld struct{}

// Resource implements [World].
func (NoWorld) Resource(context.Context, string, string) (inventory.Resource, error) {
	return inventory.Resource{}, ErrUnknown
}

// Referrers implements [World].
func (NoWorld) Referrers(context.Context, string, string) ([]inventory.Resource, error) {
	return nil, nil
}

// SeenUsing implements [World].
func (NoWorld) SeenUsing(context.Context, string, string) ([]correlate.Entity, error) {
	return nil, nil
}

// Assets implements [World].
func (NoWorld) Assets(context.Context, string) (risk.AssetContext, error) {
	return risk.AssetContext{}, nil
}

// serviceTags are the tag names, in order of preference, whose value names
// an asset's business service.
var serviceTags = []string{"service", "business-service", "business_service", "app", "application", "system"}

// Blast is the blast radius of changing the resource uid of tenant: the
// target itself as an [Asset], and the assets affected with it — every
// resource referring to it (instances in a security group …) and, for an
// access key or principal id, every entity seen using it. Affected assets
// are listed once each, sorted by UID. notes say what the world did not
// know. Actions' Impact methods call it; see [Impact].
func Blast(ctx context.Context, world World, tenant, uid string) (target Asset, affected []Asset, notes []string, err error) {
	if world == nil {
		world = NoWorld{}
	}
	assets, err := world.Assets(ctx, tenant)
	if err != nil {
		return Asset{}, nil, nil, fmt.Errorf("world: assets: %w", err)
	}
	res, err := world.Resource(ctx, tenant, uid)
	switch {
	case errors.Is(err, ErrUnknown):
		target = Asset{UID: uid}
		target.Tier, _ = assets.Tier(ocsf.ResourceDetails{UID: uid})
		notes = append(notes, fmt.Sprintf("the inventory does not know %s", uid))
	case err != nil:
		return Asset{}, nil, nil, fmt.Errorf("world: resource %s: %w", uid, err)
	default:
		target = AssetOf(res, assets, "")
	}
	seen := map[string]bool{uid: true}
	refs, err := world.Referrers(ctx, tenant, uid)
	if err != nil && !errors.Is(err, ErrUnknown) {
		return Asset{}, nil, nil, fmt.Errorf("world: referrers of %s: %w", uid, err)
	}
	for _, r := range refs {
		if seen[r.UID] {
			continue
		}
		seen[r.UID] = true
		why := "refers to " + uid
		for _, rel := range r.Relationships {
			if rel.Target == uid {
				why = strings.ReplaceAll(rel.Type, "_", " ") + " " + uid
				break
			}
		}
		affected = append(affected, AssetOf(r, assets, why))
	}
	if isAccessKey(uid) {
		ents, err := world.SeenUsing(ctx, tenant, uid)
		if err != nil && !errors.Is(err, ErrUnknown) {
			return Asset{}, nil, nil, fmt.Errorf("world: seen using %s: %w", uid, err)
		}
		if len(ents) == 0 {
			notes = append(notes, fmt.Sprintf("no activity with %s is known: workloads using it are unknown", uid))
		}
		for _, e := range ents {
			if seen[e.Value] || e.Common {
				continue
			}
			seen[e.Value] = true
			a := Asset{UID: e.Value, Type: "entity:" + string(e.Kind), Why: "seen using " + uid}
			if r, err := world.Resource(ctx, tenant, e.Value); err == nil {
				a = AssetOf(r, assets, a.Why)
			} else if !errors.Is(err, ErrUnknown) {
				return Asset{}, nil, nil, fmt.Errorf("world: resource %s: %w", e.Value, err)
			} else {
				a.Tier, _ = assets.Tier(ocsf.ResourceDetails{UID: e.Value})
			}
			affected = append(affected, a)
		}
	}
	sort.Slice(affected, func(i, j int) bool { return affected[i].UID < affected[j].UID })
	return target, affected, notes, nil
}

// AssetOf describes an inventory resource as an [Asset]: its tier under
// assets, its service from its tags (service, business-service, app, application, system), and why it is affected.
func AssetOf(r inventory.Resource, assets risk.AssetContext, why string) Asset {
	rd := ocsf.ResourceDetails{UID: r.UID, Name: r.Name, Type: r.Type, Region: r.Region, Provider: r.Provider}
	for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
		rd.Tags = append(rd.Tags, ocsf.KeyValue{Name: k, Value: r.Tags[k]})
	}
	tier, _ := assets.Tier(rd)
	a := Asset{UID: r.UID, Type: r.Type, Name: r.Name, Tier: tier, Why: why}
	for _, t := range serviceTags {
		if v := r.Tags[t]; v != "" {
			a.Service = v
			break
		}
	}
	return a
}

// isAccessKey reports whether s looks like an access key or principal id
// (AKIA…, ASIA…, AIDA…, AROA…) or an Alibaba Cloud AccessKey id (LTAI…).
func isAccessKey(s string) bool {
	for _, p := range []string{"AKIA", "ASIA", "AIDA", "AROA", "LTAI"} {
		if strings.HasPrefix(s, p) && len(s) >= 16 {
			return true
		}
	}
	return false
}

// services returns the sorted, distinct services of assets.
func services(assets ...[]Asset) []string {
	var out []string
	for _, l := range assets {
		for _, a := range l {
			if a.Service != "" && !slices.Contains(out, a.Service) {
				out = append(out, a.Service)
			}
		}
	}
	sort.Strings(out)
	return out
}
