package cloud

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/canopy-sec/canopy/internal/respond"
)

// NameAWSDeactivateKey is the registry name of the IAM access key
// deactivation.
const NameAWSDeactivateKey = "aws.iam.deactivate_access_key"

// awsDeactivateKey sets an IAM user's access key Inactive
// (UpdateAccessKey) after reading its status (ListAccessKeys); rollback
// sets it Active again if it was Active before.
type awsDeactivateKey struct {
	clients awsFor
}

// Name implements respond.Action.
func (awsDeactivateKey) Name() string { return NameAWSDeactivateKey }

// Params implements respond.Action.
func (awsDeactivateKey) Params() respond.Schema {
	return respond.Schema{
		{Name: "user_name", Required: true, Pattern: `[A-Za-z0-9+=,.@_-]{1,64}`, Doc: "the IAM user owning the key (required: without it IAM would act on the caller's own keys)"},
		{Name: "access_key_id", Required: true, Pattern: `AKIA[0-9A-Z]{16}`, Doc: "the long-term access key; temporary (ASIA…) keys cannot be deactivated"},
	}
}

type awsKeyUndo struct {
	Tenant         string `json:"tenant"`
	UserName       string `json:"user_name"`
	AccessKeyID    string `json:"access_key_id"`
	PreviousStatus string `json:"previous_status"`
}

// Impact implements respond.Action.
func (a awsDeactivateKey) Impact(ctx context.Context, rec respond.Record, params respond.Params, world respond.World) (respond.Impact, error) {
	p, err := checkParams(a, params)
	if err != nil {
		return respond.Impact{}, err
	}
	key, user := p.String("access_key_id"), p.String("user_name")
	im := respond.Impact{
		Action:     a.Name(),
		Summary:    fmt.Sprintf("Deactivate access key %s of IAM user %s: requests signed with it are refused.", key, user),
		Disruption: respond.DisruptionHigh,
		Reversible: true,
		Rollback:   fmt.Sprintf("set access key %s of %s Active again (UpdateAccessKey), if it was Active before", key, user),
		Notes:      []string{"every workload using the key fails to authenticate until rolled back; temporary credentials already obtained with the key stay valid until they expire"},
	}
	return impactOf(ctx, world, rec.Tenant, im, target{uids: []string{key}})
}

// Do implements respond.Executor. A key already Inactive is reported as
// already done, and its rollback leaves it Inactive.
func (a awsDeactivateKey) Do(ctx context.Context, call respond.Call) (respond.Result, error) {
	p, err := checkParams(a, call.Params)
	if err != nil {
		return respond.Result{}, err
	}
	key, user := p.String("access_key_id"), p.String("user_name")
	client, err := a.clients.iam(ctx, call.Tenant)
	if err != nil {
		return respond.Result{}, fmt.Errorf("%s %s: %w", a.Name(), key, err)
	}
	status, err := a.status(ctx, client, user, key)
	if err != nil {
		return respond.Result{}, err
	}
	undo := awsKeyUndo{Tenant: call.Tenant, UserName: user, AccessKeyID: key, PreviousStatus: status}
	if status == string(iamtypes.StatusTypeInactive) {
		return done(a.Name(), OutcomeAlreadyDone, fmt.Sprintf("access key %s of %s was already Inactive", key, user), nil, nil, undo)
	}
	if _, err := client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(user), AccessKeyId: aws.String(key), Status: iamtypes.StatusTypeInactive,
	}); err != nil {
		return respond.Result{}, awsError(a.Name(), key, "UpdateAccessKey", err)
	}
	return done(a.Name(), OutcomeChanged, fmt.Sprintf("deactivated access key %s of %s (was %s)", key, user, status), []string{key}, nil, undo)
}

// status is the key's status among the user's keys.
func (a awsDeactivateKey) status(ctx context.Context, client IAMAPI, user, key string) (string, error) {
	in := &iam.ListAccessKeysInput{UserName: aws.String(user)}
	for {
		out, err := client.ListAccessKeys(ctx, in)
		if err != nil {
			return "", awsError(a.Name(), key, "ListAccessKeys", err)
		}
		for _, k := range out.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == key {
				return string(k.Status), nil
			}
		}
		if !out.IsTruncated || out.Marker == nil {
			return "", &APIError{Action: a.Name(), Resource: key, Operation: "ListAccessKeys", Code: "NoSuchEntity",
				Message: fmt.Sprintf("the access key is not one of user %s's keys", user)}
		}
		in.Marker = out.Marker
	}
}

// Rollback implements respond.Executor.
func (a awsDeactivateKey) Rollback(ctx context.Context, res respond.Result) error {
	var undo awsKeyUndo
	if err := fromUndo(a.Name(), res.Undo, &undo); err != nil {
		return err
	}
	if undo.AccessKeyID == "" || undo.UserName == "" {
		return fmt.Errorf("%s: rollback: state names no key or user", a.Name())
	}
	if undo.PreviousStatus != string(iamtypes.StatusTypeActive) {
		return nil
	}
	client, err := a.clients.iam(ctx, undo.Tenant)
	if err != nil {
		return fmt.Errorf("%s %s: rollback: %w", a.Name(), undo.AccessKeyID, err)
	}
	if _, err := client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(undo.UserName), AccessKeyId: aws.String(undo.AccessKeyID), Status: iamtypes.StatusTypeActive,
	}); err != nil {
		return awsError(a.Name(), undo.AccessKeyID, "UpdateAccessKey", err)
	}
	return nil
}
