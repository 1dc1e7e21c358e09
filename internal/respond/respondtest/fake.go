package respondtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/canopy-sec/canopy/internal/respond"
)

// Call is one call of a fake action.
type Call struct {
	Op     string // "do" or "rollback"
	Action string
	Step   string // the step's id ("" for rollbacks)
	Key    string // the idempotency key ("" for rollbacks)
	Target string // the target parameter's value
}

// Calls records the calls of fake actions, in order. It is safe for
// concurrent use.
type Calls struct {
	mu    sync.Mutex
	calls []Call
}

func (c *Calls) add(x Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, x)
}

// All returns the calls so far.
func (c *Calls) All() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// Reset forgets the calls so far.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

// Fake is a [respond.Action] that records its calls and changes nothing.
// Its impact is the blast radius ([respond.Blast]) of its Target
// parameter in the world. For tests only.
type Fake struct {
	// ActionName is the name; Schema the parameters.
	ActionName string
	Schema     respond.Schema
	// Target names the parameter holding the resource the action changes.
	Target string
	// Disruption is reported by Impact; Irreversible makes results that
	// cannot be rolled back.
	Disruption   respond.Disruption
	Irreversible bool
	// Calls records the calls; required.
	Calls *Calls
	// Fail, when set, is called before each Do; an error fails the call
	// (a *respond.PartialError fails it after a partial change).
	Fail func(call respond.Call) error
	// FailRollback, when set, is called before each Rollback.
	FailRollback func(res respond.Result) error
}

// Name implements [respond.Action].
func (f *Fake) Name() string { return f.ActionName }

// Params implements [respond.Action].
func (f *Fake) Params() respond.Schema { return f.Schema }

// Impact implements [respond.Action].
func (f *Fake) Impact(ctx context.Context, rec respond.Record, p respond.Params, w respond.World) (respond.Impact, error) {
	imp := respond.Impact{Summary: fmt.Sprintf("%s %s", f.ActionName, p.String(f.Target)), Disruption: f.Disruption,
		Reversible: !f.Irreversible}
	if !f.Irreversible {
		imp.Rollback = "undo " + f.ActionName + " on " + p.String(f.Target)
	}
	if f.Target != "" && p.String(f.Target) != "" {
		target, affected, notes, err := respond.Blast(ctx, w, rec.Tenant, p.String(f.Target))
		if err != nil {
			return respond.Impact{}, err
		}
		imp.Targets, imp.Affected, imp.Notes = []respond.Asset{target}, affected, notes
	}
	return imp, nil
}

// Do implements [respond.Action].
func (f *Fake) Do(_ context.Context, call respond.Call) (respond.Result, error) {
	target := call.Params.String(f.Target)
	f.Calls.add(Call{Op: "do", Action: f.ActionName, Step: call.Step, Key: call.Key, Target: target})
	if f.Fail != nil {
		if err := f.Fail(call); err != nil {
			return respond.Result{}, err
		}
	}
	res := respond.Result{Action: f.ActionName, Summary: f.ActionName + " " + target, Changed: []string{target}}
	if !f.Irreversible {
		res.Undo = map[string]any{"target": target}
	}
	return res, nil
}

// Rollback implements [respond.Action].
func (f *Fake) Rollback(_ context.Context, res respond.Result) error {
	if res.Undo == nil {
		return respond.ErrNotReversible
	}
	target, _ := res.Undo["target"].(string)
	f.Calls.add(Call{Op: "rollback", Action: f.ActionName, Target: target})
	if f.FailRollback != nil {
		return f.FailRollback(res)
	}
	return nil
}

// CloudFakes returns fakes with the names and parameters of the cloud
// actions the built-in playbooks use (internal/respond/cloud), so that
// tests can load every built-in playbook.
func CloudFakes(calls *Calls) []respond.Action {
	return []respond.Action{
		&Fake{ActionName: "aws.s3.block_public_access", Target: "bucket", Disruption: respond.DisruptionMedium, Calls: calls,
			Schema: respond.Schema{{Name: "bucket", Required: true, Pattern: `[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]`}}},
		&Fake{ActionName: "aws.ec2.quarantine_instance", Target: "instance_id", Disruption: respond.DisruptionHigh, Calls: calls,
			Schema: respond.Schema{{Name: "instance_id", Required: true, Pattern: `i-[0-9a-f]{8,17}`},
				{Name: "create_group", Type: respond.ParamBool, Default: false}}},
		&Fake{ActionName: "aws.ec2.revoke_security_group_rule", Target: "group_id", Disruption: respond.DisruptionMedium, Calls: calls,
			Schema: respond.Schema{{Name: "group_id", Required: true, Pattern: `sg-[0-9a-f]{8,17}`},
				{Name: "protocol", Required: true, Pattern: `tcp|udp|icmp|icmpv6|all|-1|[0-9]{1,3}`},
				{Name: "from_port", Type: respond.ParamInt}, {Name: "to_port", Type: respond.ParamInt},
				{Name: "cidr", Pattern: `[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}`}}},
		&Fake{ActionName: "aws.iam.deactivate_access_key", Target: "access_key_id", Disruption: respond.DisruptionHigh, Calls: calls,
			Schema: respond.Schema{{Name: "user_name", Required: true, Pattern: `[A-Za-z0-9+=,.@_-]{1,64}`},
				{Name: "access_key_id", Required: true, Pattern: `AKIA[0-9A-Z]{16}`}}},
	}
}
