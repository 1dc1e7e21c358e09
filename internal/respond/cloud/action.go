package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalidParams marks a parameter validation failure: the action was
// not attempted.
var ErrInvalidParams = errors.New("invalid parameters")

// Outcome says what Do or Rollback changed.
type Outcome string

const (
	// OutcomeChanged: the call changed the resource.
	OutcomeChanged Outcome = "changed"
	// OutcomeAlreadyDone: the resource was already in the wanted state
	// (for example the rule was already absent); nothing was changed, and
	// the matching rollback changes nothing either.
	OutcomeAlreadyDone Outcome = "already-done"
)

// Impact describes what an action would change, before it runs. It is
// computed from the parameters alone, without calling the provider.
type Impact struct {
	// Summary is one sentence saying what changes.
	Summary string `json:"summary"`
	// Resources are the provider resource ids the action touches (the
	// engine maps them to inventory assets).
	Resources []string `json:"resources"`
	// Reversible is true when Rollback can undo the change.
	Reversible bool `json:"reversible"`
	// RollbackPlan says how Rollback undoes the change.
	RollbackPlan string `json:"rollback_plan"`
	// Notes are side effects or caveats worth an approver's attention.
	Notes []string `json:"notes,omitempty"`
}

// Result reports what Do or Rollback did.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// Detail is a one-line human account of what happened.
	Detail string `json:"detail"`
	// Resources are the provider resource ids actually touched.
	Resources []string `json:"resources,omitempty"`
	// State is what Rollback needs (set by Do only); opaque JSON.
	State json.RawMessage `json:"state,omitempty"`
}

// Action is one containment action against a cloud provider API.
// Parameters and rollback state are JSON objects so the engine can keep
// them in playbooks and in the store as they are.
type Action interface {
	// Name is the registry name, e.g. "aws.ec2.revoke_security_group_ingress".
	Name() string
	// Validate checks the parameters without calling the provider.
	Validate(params json.RawMessage) error
	// Impact describes what Do would change.
	Impact(params json.RawMessage) (Impact, error)
	// Do performs the action and returns the state Rollback needs.
	Do(ctx context.Context, params json.RawMessage) (Result, error)
	// Rollback undoes what Do did, given the State of Do's Result.
	Rollback(ctx context.Context, params, state json.RawMessage) (Result, error)
}

// decode strictly decodes JSON into v: unknown fields are errors, so a
// misspelt parameter is never silently ignored.
func decode(action string, raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s: %w: %v", action, ErrInvalidParams, err)
	}
	return nil
}

// invalid builds a parameter validation error naming the action.
func invalid(action, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", action, ErrInvalidParams, fmt.Sprintf(format, args...))
}

// stateJSON marshals rollback state; the state types are plain structs, so
// an error here is a programming error, still reported.
func stateJSON(action string, v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: encode rollback state: %w", action, err)
	}
	return b, nil
}

// decodeState decodes rollback state produced by Do.
func decodeState(action string, raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return fmt.Errorf("%s: rollback: no state recorded by Do", action)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: rollback: decode state: %w", action, err)
	}
	return nil
}
