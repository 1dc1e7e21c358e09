package cloud

import (
	"context"
	"fmt"
	"strings"

	"github.com/canopy-sec/canopy/internal/respond"
)

// NameAliDisableKey is the registry name of the RAM access key disable.
const NameAliDisableKey = "alicloud.ram.disable_access_key"

// aliDisableKey sets a RAM user's AccessKey Inactive (RAM UpdateAccessKey
// Status=Inactive) after reading its status (ListAccessKeys); rollback
// sets it Active again if it was Active before.
type aliDisableKey struct {
	clients aliFor
}

// Name implements respond.Action.
func (aliDisableKey) Name() string { return NameAliDisableKey }

// Params implements respond.Action.
func (aliDisableKey) Params() respond.Schema {
	return respond.Schema{
		{Name: "user_name", Required: true, Pattern: `[A-Za-z0-9._@-]{1,64}`, Doc: "the RAM user owning the AccessKey"},
		{Name: "access_key_id", Required: true, Pattern: `LTAI[0-9A-Za-z]{8,28}`, Doc: "the AccessKey id; STS tokens cannot be disabled"},
	}
}

type aliKeyUndo struct {
	Tenant         string `json:"tenant"`
	UserName       string `json:"user_name"`
	AccessKeyID    string `json:"access_key_id"`
	PreviousStatus string `json:"previous_status"`
}

// Impact implements respond.Action.
func (a aliDisableKey) Impact(ctx context.Context, rec respond.Record, params respond.Params, world respond.World) (respond.Impact, error) {
	p, err := checkParams(a, params)
	if err != nil {
		return respond.Impact{}, err
	}
	key, user := p.String("access_key_id"), p.String("user_name")
	im := respond.Impact{
		Action:     a.Name(),
		Summary:    fmt.Sprintf("Disable AccessKey %s of RAM user %s: requests signed with it are refused.", key, user),
		Disruption: respond.DisruptionHigh,
		Reversible: true,
		Rollback:   fmt.Sprintf("set AccessKey %s of %s Active again (UpdateAccessKey), if it was Active before", key, user),
		Notes:      []string{"every workload using the AccessKey fails to authenticate until rolled back; STS tokens already obtained with it stay valid until they expire"},
	}
	return impactOf(ctx, world, rec.Tenant, im, target{uids: []string{key}})
}

// Do implements respond.Executor. A key already Inactive is reported as
// already done, and its rollback leaves it Inactive.
func (a aliDisableKey) Do(ctx context.Context, call respond.Call) (respond.Result, error) {
	p, err := checkParams(a, call.Params)
	if err != nil {
		return respond.Result{}, err
	}
	key, user := p.String("access_key_id"), p.String("user_name")
	client, err := a.clients.ram(ctx, call.Tenant)
	if err != nil {
		return respond.Result{}, fmt.Errorf("%s %s: %w", a.Name(), key, err)
	}
	keys, err := client.ListAccessKeys(ctx, user)
	if err != nil {
		return respond.Result{}, aliError(a.Name(), key, "ListAccessKeys", err)
	}
	status := ""
	for _, k := range keys {
		if k.AccessKeyID == key {
			status = k.Status
		}
	}
	if status == "" {
		return respond.Result{}, &APIError{Action: a.Name(), Resource: key, Operation: "ListAccessKeys", Code: "EntityNotExist.User.AccessKey",
			Message: fmt.Sprintf("the AccessKey is not one of RAM user %s's keys", user)}
	}
	undo := aliKeyUndo{Tenant: call.Tenant, UserName: user, AccessKeyID: key, PreviousStatus: status}
	if strings.EqualFold(status, "Inactive") {
		return done(a.Name(), OutcomeAlreadyDone, fmt.Sprintf("AccessKey %s of %s was already Inactive", key, user), nil, nil, undo)
	}
	if err := client.UpdateAccessKey(ctx, user, key, "Inactive"); err != nil {
		return respond.Result{}, aliError(a.Name(), key, "UpdateAccessKey", err)
	}
	return done(a.Name(), OutcomeChanged, fmt.Sprintf("disabled AccessKey %s of %s (was %s)", key, user, status), []string{key}, nil, undo)
}

// Rollback implements respond.Executor.
func (a aliDisableKey) Rollback(ctx context.Context, res respond.Result) error {
	var undo aliKeyUndo
	if err := fromUndo(a.Name(), res.Undo, &undo); err != nil {
		return err
	}
	if undo.AccessKeyID == "" || undo.UserName == "" {
		return fmt.Errorf("%s: rollback: state names no key or user", a.Name())
	}
	if !strings.EqualFold(undo.PreviousStatus, "Active") {
		return nil
	}
	client, err := a.clients.ram(ctx, undo.Tenant)
	if err != nil {
		return fmt.Errorf("%s %s: rollback: %w", a.Name(), undo.AccessKeyID, err)
	}
	if err := client.UpdateAccessKey(ctx, undo.UserName, undo.AccessKeyID, "Active"); err != nil {
		return aliError(a.Name(), undo.AccessKeyID, "UpdateAccessKey", err)
	}
	return nil
}
