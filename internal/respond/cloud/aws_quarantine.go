package cloud

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/canopy-sec/canopy/internal/respond"
)

// NameAWSQuarantine is the registry name of the EC2 instance quarantine.
const NameAWSQuarantine = "aws.ec2.quarantine_instance"

// QuarantineTag is the instance tag that records the security groups an
// instance had before it was quarantined ("sg-a,sg-b"). It lets a resumed
// run, and a person, find them again; rollback removes it.
const QuarantineTag = "canopy:quarantine:previous-groups"

// quarantinePurposeTag marks the quarantine groups the action creates.
const quarantinePurposeTag = "canopy:purpose"

// awsQuarantine replaces the security groups of an EC2 instance with a
// quarantine group (ModifyInstanceAttribute Groups). It records the
// previous groups (DescribeInstances) in the rollback state and in the
// QuarantineTag, and can create the quarantine group: a group in the
// instance's VPC with no inbound and no outbound rule, found again by name
// on later calls. Rollback restores the previous groups, removes the tag,
// and deletes the quarantine group if this call created it and no other
// instance uses it.
type awsQuarantine struct {
	clients awsFor
}

// Name implements respond.Action.
func (awsQuarantine) Name() string { return NameAWSQuarantine }

// Params implements respond.Action.
func (awsQuarantine) Params() respond.Schema {
	return respond.Schema{
		{Name: "region", Pattern: patAWSRegion, Doc: "the instance's region; default: the configured region"},
		{Name: "account_id", Pattern: patAWSAccount, Doc: "the account owning the instance; used only to find it in the inventory (its ARN)"},
		{Name: "instance_id", Required: true, Pattern: `i-[0-9a-f]{8,17}`, Doc: "the instance to quarantine"},
		{Name: "quarantine_group_id", Pattern: patAWSSG, Doc: "an existing quarantine group in the instance's VPC (or set create_group)"},
		{Name: "create_group", Type: respond.ParamBool, Default: false, Doc: "find the group named group_name in the instance's VPC, creating it (no rules) if absent"},
		{Name: "group_name", Default: "canopy-quarantine", Pattern: `[A-Za-z0-9._:/()#,@+=&;!$*-]{1,255}`, Doc: "name of the quarantine group create_group finds or creates"},
	}
}

type awsQuarantineParams struct {
	region, instance, groupID, groupName string
	create                               bool
}

func (a awsQuarantine) params(params respond.Params) (awsQuarantineParams, error) {
	p, err := checkParams(a, params)
	if err != nil {
		return awsQuarantineParams{}, err
	}
	q := awsQuarantineParams{
		region: p.String("region"), instance: p.String("instance_id"),
		groupID: p.String("quarantine_group_id"), groupName: p.String("group_name"), create: p.Bool("create_group"),
	}
	switch {
	case q.groupID == "" && !q.create:
		return q, invalid(a.Name(), "quarantine_group_id or create_group is required")
	case q.groupID != "" && q.create:
		return q, invalid(a.Name(), "quarantine_group_id and create_group exclude each other")
	case q.create && strings.HasPrefix(q.groupName, "sg-"):
		return q, invalid(a.Name(), "group_name %q: EC2 refuses names starting with sg-", q.groupName)
	}
	return q, nil
}

type awsQuarantineUndo struct {
	Tenant       string   `json:"tenant"`
	Region       string   `json:"region,omitempty"`
	InstanceID   string   `json:"instance_id"`
	Previous     []string `json:"previous_group_ids"`
	GroupID      string   `json:"quarantine_group_id"`
	CreatedGroup bool     `json:"created_group,omitempty"`
	Tagged       bool     `json:"tagged,omitempty"`
	Swapped      bool     `json:"swapped,omitempty"`
}

// Impact implements respond.Action.
func (a awsQuarantine) Impact(ctx context.Context, rec respond.Record, params respond.Params, world respond.World) (respond.Impact, error) {
	q, err := a.params(params)
	if err != nil {
		return respond.Impact{}, err
	}
	group := q.groupID
	if q.create {
		group = fmt.Sprintf("the group %q of its VPC (created with no rules if absent)", q.groupName)
	}
	im := respond.Impact{
		Action:     a.Name(),
		Summary:    fmt.Sprintf("Quarantine instance %s: replace its security groups with %s, cutting all inbound and outbound traffic the quarantine group does not allow.", q.instance, group),
		Disruption: respond.DisruptionHigh,
		Reversible: true,
		Rollback:   fmt.Sprintf("restore the security groups %s had (read with DescribeInstances before the change, also kept in its %s tag), remove the tag, and delete the quarantine group if this action created it and nothing else uses it", q.instance, QuarantineTag),
		Notes: []string{
			"connections already established and tracked may persist until they close",
			"instances with more than one network interface are refused (their interfaces must be changed one by one)",
		},
	}
	targets := []target{{uids: awsEC2UIDs(params, "instance", q.instance)}}
	if q.groupID != "" {
		targets = append(targets, target{uids: awsEC2UIDs(params, "security-group", q.groupID)})
	}
	return impactOf(ctx, world, rec.Tenant, im, targets...)
}

// Do implements respond.Executor. An instance whose only group is already
// the quarantine group is reported as already done; its previous groups
// are then read back from the QuarantineTag when an earlier call left it,
// so that a resumed run still rolls back to them.
func (a awsQuarantine) Do(ctx context.Context, call respond.Call) (respond.Result, error) {
	q, err := a.params(call.Params)
	if err != nil {
		return respond.Result{}, err
	}
	client, err := a.clients.ec2(ctx, call.Tenant, q.region)
	if err != nil {
		return respond.Result{}, fmt.Errorf("%s %s: %w", a.Name(), q.instance, err)
	}
	inst, err := a.describe(ctx, client, q.instance)
	if err != nil {
		return respond.Result{}, err
	}
	if n := len(inst.NetworkInterfaces); n > 1 {
		return respond.Result{}, fmt.Errorf("%s %s: %w: the instance has %d network interfaces; ModifyInstanceAttribute changes the groups of single-interface instances only", a.Name(), q.instance, ErrInvalidParams, n)
	}
	if aws.ToString(inst.VpcId) == "" {
		return respond.Result{}, fmt.Errorf("%s %s: %w: the instance is in no VPC", a.Name(), q.instance, ErrInvalidParams)
	}
	undo := awsQuarantineUndo{Tenant: call.Tenant, Region: q.region, InstanceID: q.instance, GroupID: q.groupID}
	for _, g := range inst.SecurityGroups {
		undo.Previous = append(undo.Previous, aws.ToString(g.GroupId))
	}
	var tagged []string
	for _, t := range inst.Tags {
		if aws.ToString(t.Key) == QuarantineTag && aws.ToString(t.Value) != "" {
			tagged = strings.Split(aws.ToString(t.Value), ",")
		}
	}

	var notes []string
	if q.create {
		id, created, warn, err := a.quarantineGroup(ctx, client, q, aws.ToString(inst.VpcId))
		if err != nil {
			return respond.Result{}, err
		}
		undo.GroupID, undo.CreatedGroup = id, created
		if warn != "" {
			notes = append(notes, warn)
		}
	}
	output := map[string]any{"quarantine_group_id": undo.GroupID}
	if len(notes) > 0 {
		output["notes"] = notes
	}

	if len(undo.Previous) == 1 && undo.Previous[0] == undo.GroupID {
		// Already quarantined: by an earlier call of this run if it left
		// the tag, else by someone else (nothing to roll back to).
		undo.Previous = tagged
		undo.Tagged = len(tagged) > 0
		undo.Swapped = len(tagged) > 0
		summary := fmt.Sprintf("instance %s was already in quarantine group %s", q.instance, undo.GroupID)
		if len(tagged) > 0 {
			summary += fmt.Sprintf(" (previous groups %s, from its %s tag)", strings.Join(tagged, ","), QuarantineTag)
		}
		output["previous_group_ids"] = undo.Previous
		return done(a.Name(), OutcomeAlreadyDone, summary, nil, output, undo)
	}
	output["previous_group_ids"] = undo.Previous

	partial := func(op string, err error) (respond.Result, error) {
		apiErr := awsError(a.Name(), q.instance, op, err)
		if !undo.CreatedGroup && !undo.Tagged {
			return respond.Result{}, apiErr
		}
		var changed []string
		if undo.CreatedGroup {
			changed = append(changed, undo.GroupID)
		}
		if undo.Tagged {
			changed = append(changed, q.instance)
		}
		res, rerr := done(a.Name(), OutcomeChanged, fmt.Sprintf("prepared quarantine of %s (group %s) but did not swap its groups", q.instance, undo.GroupID), changed, output, undo)
		if rerr != nil {
			return respond.Result{}, errors.Join(apiErr, rerr)
		}
		return respond.Result{}, &respond.PartialError{Result: res, Err: apiErr}
	}

	if value := strings.Join(undo.Previous, ","); len(value) <= 256 {
		if _, err := client.CreateTags(ctx, &ec2.CreateTagsInput{
			Resources: []string{q.instance},
			Tags:      []ec2types.Tag{{Key: aws.String(QuarantineTag), Value: aws.String(value)}},
		}); err != nil {
			return partial("CreateTags", err)
		}
		undo.Tagged = true
	}
	if _, err := client.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(q.instance),
		Groups:     []string{undo.GroupID},
	}); err != nil {
		return partial("ModifyInstanceAttribute", err)
	}
	undo.Swapped = true
	changed := []string{q.instance}
	if undo.CreatedGroup {
		changed = append(changed, undo.GroupID)
	}
	summary := fmt.Sprintf("quarantined instance %s in group %s (previous groups %s)", q.instance, undo.GroupID, strings.Join(undo.Previous, ","))
	if undo.CreatedGroup {
		summary += "; created the quarantine group"
	}
	return done(a.Name(), OutcomeChanged, summary, changed, output, undo)
}

func (a awsQuarantine) describe(ctx context.Context, client EC2API, id string) (ec2types.Instance, error) {
	out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return ec2types.Instance{}, awsError(a.Name(), id, "DescribeInstances", err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if aws.ToString(i.InstanceId) == id {
				return i, nil
			}
		}
	}
	return ec2types.Instance{}, &APIError{Action: a.Name(), Resource: id, Operation: "DescribeInstances", Code: "InvalidInstanceID.NotFound", Message: "the instance was not in the answer"}
}

// quarantineGroup finds the group named q.groupName in vpc or creates it
// with no rules. warn is set when an existing group has rules.
func (a awsQuarantine) quarantineGroup(ctx context.Context, client EC2API, q awsQuarantineParams, vpc string) (id string, created bool, warn string, err error) {
	found, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}},
		{Name: aws.String("group-name"), Values: []string{q.groupName}},
	}})
	if err != nil {
		return "", false, "", awsError(a.Name(), q.instance, "DescribeSecurityGroups", err)
	}
	if len(found.SecurityGroups) > 0 {
		g := found.SecurityGroups[0]
		if n := len(g.IpPermissions) + len(g.IpPermissionsEgress); n > 0 {
			warn = fmt.Sprintf("quarantine group %s has %d rule(s): the instance keeps the traffic they allow", aws.ToString(g.GroupId), n)
		}
		return aws.ToString(g.GroupId), false, warn, nil
	}
	out, err := client.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String(q.groupName),
		Description: aws.String("Canopy quarantine: no inbound or outbound traffic"),
		VpcId:       aws.String(vpc),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags:         []ec2types.Tag{{Key: aws.String(quarantinePurposeTag), Value: aws.String("quarantine")}},
		}},
	})
	if err != nil {
		return "", false, "", awsError(a.Name(), q.instance, "CreateSecurityGroup", err)
	}
	id = aws.ToString(out.GroupId)
	// A new VPC group allows all outbound traffic: read its egress rules
	// and revoke them.
	desc, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err == nil && len(desc.SecurityGroups) > 0 && len(desc.SecurityGroups[0].IpPermissionsEgress) > 0 {
		_, err = client.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{
			GroupId: aws.String(id), IpPermissions: desc.SecurityGroups[0].IpPermissionsEgress,
		})
		if err != nil {
			err = awsError(a.Name(), id, "RevokeSecurityGroupEgress", err)
		}
	} else if err != nil {
		err = awsError(a.Name(), id, "DescribeSecurityGroups", err)
	}
	if err != nil {
		// Do not leave a half-made quarantine group behind.
		if _, derr := client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)}); derr != nil {
			err = errors.Join(err, awsError(a.Name(), id, "DeleteSecurityGroup", derr))
		}
		return "", false, "", err
	}
	return id, true, "", nil
}

// Rollback implements respond.Executor. It attempts every step and
// reports every failure.
func (a awsQuarantine) Rollback(ctx context.Context, res respond.Result) error {
	var undo awsQuarantineUndo
	if err := fromUndo(a.Name(), res.Undo, &undo); err != nil {
		return err
	}
	if undo.InstanceID == "" || undo.GroupID == "" {
		return fmt.Errorf("%s: rollback: state names no instance or group", a.Name())
	}
	if undo.Swapped && len(undo.Previous) == 0 {
		return fmt.Errorf("%s %s: rollback: no previous security groups recorded", a.Name(), undo.InstanceID)
	}
	if !undo.Swapped && !undo.Tagged && !undo.CreatedGroup {
		return nil
	}
	client, err := a.clients.ec2(ctx, undo.Tenant, undo.Region)
	if err != nil {
		return fmt.Errorf("%s %s: rollback: %w", a.Name(), undo.InstanceID, err)
	}
	if undo.Swapped {
		if _, err := client.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
			InstanceId: aws.String(undo.InstanceID), Groups: slices.Clone(undo.Previous),
		}); err != nil {
			// Keep the tag and the group: the instance is still in quarantine.
			return awsError(a.Name(), undo.InstanceID, "ModifyInstanceAttribute", err)
		}
	}
	var errs []error
	if undo.Tagged {
		if _, err := client.DeleteTags(ctx, &ec2.DeleteTagsInput{
			Resources: []string{undo.InstanceID}, Tags: []ec2types.Tag{{Key: aws.String(QuarantineTag)}},
		}); err != nil {
			errs = append(errs, awsError(a.Name(), undo.InstanceID, "DeleteTags", err))
		}
	}
	if undo.CreatedGroup {
		_, err := client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(undo.GroupID)})
		switch awsCode(err) {
		case "", "DependencyViolation", "InvalidGroup.NotFound":
			// Gone, or still used by another quarantined instance: keep it.
		default:
			errs = append(errs, awsError(a.Name(), undo.GroupID, "DeleteSecurityGroup", err))
		}
	}
	return errors.Join(errs...)
}
