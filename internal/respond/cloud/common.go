package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/canopy-sec/canopy/internal/respond"
)

// ErrInvalidParams marks parameters that do not fit the action: the action
// was not attempted.
var ErrInvalidParams = errors.New("invalid parameters")

// Outcomes reported in Result.Output["outcome"].
const (
	// OutcomeChanged: the action changed the resource.
	OutcomeChanged = "changed"
	// OutcomeAlreadyDone: the resource was already in the wanted state
	// (the rule already absent, the key already inactive); nothing was
	// changed, and the rollback changes nothing either.
	OutcomeAlreadyDone = "already-done"
)

// Parameter patterns shared by the actions' schemas. They admit ids only,
// so a rendered template cannot carry anything else into an API call.
const (
	patAWSRegion  = `[a-z]{2}(-[a-z]+)+-[0-9]{1,2}`
	patAWSAccount = `[0-9]{12}`
	patAWSSG      = `sg-[0-9a-f]{8,17}`
	patAWSPL      = `pl-[0-9a-f]{8,17}`
	patIPv4CIDR   = `[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}`
	patIPv6CIDR   = `[0-9a-fA-F:]{2,39}/[0-9]{1,3}`
	patAliRegion  = `[a-z]{2}(-[a-z0-9]+)+`
	patAliSG      = `sg-[0-9a-z]{8,32}`
	patAliAccount = `[0-9]{10,20}`
)

// invalid builds a parameter error naming the action.
func invalid(action, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", action, ErrInvalidParams, fmt.Sprintf(format, args...))
}

// checkParams checks params against the action's schema again (the engine
// already did; Do may also be called directly) and returns the typed
// values.
func checkParams(a respond.Action, params respond.Params) (respond.Params, error) {
	p, err := a.Params().Check(params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", a.Name(), ErrInvalidParams, err)
	}
	return p, nil
}

// optInt32 returns the int parameter name as *int32, nil when absent.
func optInt32(p respond.Params, name string) *int32 {
	if _, ok := p[name]; !ok {
		return nil
	}
	v := int32(p.Int(name))
	return &v
}

// toUndo turns rollback state into the JSON-friendly map a Result carries.
func toUndo(action string, v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: encode rollback state: %w", action, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: encode rollback state: %w", action, err)
	}
	return m, nil
}

// fromUndo reads rollback state back from a Result's Undo, as stored
// (after a JSON round trip) or as Do returned it.
func fromUndo(action string, undo map[string]any, v any) error {
	if undo == nil {
		return fmt.Errorf("%s: rollback: %w", action, respond.ErrNotReversible)
	}
	if err := mapInto(undo, v); err != nil {
		return fmt.Errorf("%s: rollback: decode state: %w", action, err)
	}
	return nil
}

// mapInto decodes a JSON-shaped map into v.
func mapInto(m map[string]any, v any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// done builds the Result of a Do.
func done(action, outcome, summary string, changed []string, output map[string]any, undo any) (respond.Result, error) {
	u, err := toUndo(action, undo)
	if err != nil {
		return respond.Result{}, err
	}
	out := map[string]any{"outcome": outcome}
	for k, v := range output {
		out[k] = v
	}
	if outcome == OutcomeAlreadyDone {
		changed = nil
	}
	return respond.Result{Action: action, Summary: summary, Output: out, Undo: u, Changed: changed}, nil
}

// target names a resource an action changes, by the UIDs the inventory
// may know it under, most specific (an ARN) first.
type target struct {
	uids []string
}

// impactOf fills the targets, affected assets and services of an impact
// from world. For each target the first UID the world knows is used;
// when it knows none, the last (the plain provider id) is, and the notes
// say the inventory does not know it.
func impactOf(ctx context.Context, world respond.World, tenant string, im respond.Impact, targets ...target) (respond.Impact, error) {
	if world == nil {
		world = respond.NoWorld{}
	}
	seen := map[string]bool{}
	for _, t := range targets {
		uid := t.uids[len(t.uids)-1]
		for _, u := range t.uids[:len(t.uids)-1] {
			if _, err := world.Resource(ctx, tenant, u); err == nil {
				uid = u
				break
			} else if !errors.Is(err, respond.ErrUnknown) {
				return respond.Impact{}, fmt.Errorf("%s: impact: world: resource %s: %w", im.Action, u, err)
			}
		}
		tg, affected, notes, err := respond.Blast(ctx, world, tenant, uid)
		if err != nil {
			return respond.Impact{}, fmt.Errorf("%s: impact: %w", im.Action, err)
		}
		seen[tg.UID] = true
		im.Targets = append(im.Targets, tg)
		for _, a := range affected {
			if !seen[a.UID] {
				seen[a.UID] = true
				im.Affected = append(im.Affected, a)
			}
		}
		im.Notes = append(im.Notes, notes...)
	}
	// A target may also have been listed as affected by an earlier one.
	im.Affected = slices.DeleteFunc(im.Affected, func(a respond.Asset) bool {
		return slices.ContainsFunc(im.Targets, func(t respond.Asset) bool { return t.UID == a.UID })
	})
	sort.Slice(im.Affected, func(i, j int) bool { return im.Affected[i].UID < im.Affected[j].UID })
	for _, l := range [][]respond.Asset{im.Targets, im.Affected} {
		for _, a := range l {
			if a.Service != "" && !slices.Contains(im.Services, a.Service) {
				im.Services = append(im.Services, a.Service)
			}
		}
	}
	sort.Strings(im.Services)
	return im, nil
}
