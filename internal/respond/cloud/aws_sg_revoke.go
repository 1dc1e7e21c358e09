package cloud

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/canopy-sec/canopy/internal/respond"
)

// NameAWSRevokeIngress is the registry name of the AWS ingress revoke.
const NameAWSRevokeIngress = "aws.ec2.revoke_security_group_rule"

// awsRevokeIngress revokes one inbound rule of an EC2 security group
// (RevokeSecurityGroupIngress) and restores it on rollback
// (AuthorizeSecurityGroupIngress with the same permission).
type awsRevokeIngress struct {
	clients awsFor
}

// Name implements respond.Action.
func (awsRevokeIngress) Name() string { return NameAWSRevokeIngress }

// Params implements respond.Action.
func (awsRevokeIngress) Params() respond.Schema {
	return respond.Schema{
		{Name: "region", Pattern: patAWSRegion, Doc: "the group's region; default: the configured region"},
		{Name: "account_id", Pattern: patAWSAccount, Doc: "the account owning the group; used only to find it in the inventory (its ARN)"},
		{Name: "group_id", Required: true, Pattern: patAWSSG, Doc: "the security group"},
		{Name: "protocol", Required: true, Pattern: `tcp|udp|icmp|icmpv6|all|-1|[0-9]{1,3}`, Doc: "tcp, udp, icmp, icmpv6, all (-1) or an IP protocol number"},
		{Name: "from_port", Type: respond.ParamInt, Doc: "first port (tcp/udp), or ICMP type (-1: all)"},
		{Name: "to_port", Type: respond.ParamInt, Doc: "last port (tcp/udp), or ICMP code (-1: all)"},
		{Name: "cidr", Pattern: patIPv4CIDR, Doc: "source IPv4 CIDR block (exactly one source is given)"},
		{Name: "ipv6_cidr", Pattern: patIPv6CIDR, Doc: "source IPv6 CIDR block"},
		{Name: "source_group_id", Pattern: patAWSSG, Doc: "source security group"},
		{Name: "source_group_owner_id", Pattern: patAWSAccount, Doc: "account of the source security group, when another account's"},
		{Name: "prefix_list_id", Pattern: patAWSPL, Doc: "source prefix list"},
		{Name: "description", MaxLen: 255, Doc: "the rule's description, restored on rollback"},
	}
}

// AWSIngressRule is one inbound rule: protocol, ports and exactly one
// source. It is kept in the rollback state.
type AWSIngressRule struct {
	Region             string `json:"region,omitempty"`
	GroupID            string `json:"group_id"`
	Protocol           string `json:"protocol"`
	FromPort           *int32 `json:"from_port,omitempty"`
	ToPort             *int32 `json:"to_port,omitempty"`
	CIDR               string `json:"cidr,omitempty"`
	IPv6CIDR           string `json:"ipv6_cidr,omitempty"`
	SourceGroupID      string `json:"source_group_id,omitempty"`
	SourceGroupOwnerID string `json:"source_group_owner_id,omitempty"`
	PrefixListID       string `json:"prefix_list_id,omitempty"`
	Description        string `json:"description,omitempty"`
}

type awsRevokeIngressUndo struct {
	Tenant         string         `json:"tenant"`
	Rule           AWSIngressRule `json:"rule"`
	AlreadyAbsent  bool           `json:"already_absent,omitempty"`
	RevokedRuleIDs []string       `json:"revoked_rule_ids,omitempty"`
}

func (a awsRevokeIngress) rule(params respond.Params) (AWSIngressRule, error) {
	p, err := checkParams(a, params)
	if err != nil {
		return AWSIngressRule{}, err
	}
	r := AWSIngressRule{
		Region:             p.String("region"),
		GroupID:            p.String("group_id"),
		Protocol:           p.String("protocol"),
		FromPort:           optInt32(p, "from_port"),
		ToPort:             optInt32(p, "to_port"),
		CIDR:               p.String("cidr"),
		IPv6CIDR:           p.String("ipv6_cidr"),
		SourceGroupID:      p.String("source_group_id"),
		SourceGroupOwnerID: p.String("source_group_owner_id"),
		PrefixListID:       p.String("prefix_list_id"),
		Description:        p.String("description"),
	}
	return r, r.validate(a.Name())
}

// validate checks what the schema cannot: port ranges by protocol, CIDR
// syntax, exactly one source.
func (p *AWSIngressRule) validate(action string) error {
	if !strings.HasPrefix(p.GroupID, "sg-") || len(p.GroupID) < 4 {
		return invalid(action, "group_id %q is not a security group id (sg-…)", p.GroupID)
	}
	proto := strings.ToLower(strings.TrimSpace(p.Protocol))
	if proto == "all" {
		proto = "-1"
	}
	p.Protocol = proto
	inRange := func(v *int32, lo, hi int32) bool { return v != nil && *v >= lo && *v <= hi }
	switch proto {
	case "tcp", "udp", "6", "17":
		if !inRange(p.FromPort, 0, 65535) || !inRange(p.ToPort, 0, 65535) || *p.FromPort > *p.ToPort {
			return invalid(action, "protocol %s needs from_port <= to_port within 0-65535", proto)
		}
	case "icmp", "icmpv6", "1", "58":
		if !inRange(p.FromPort, -1, 255) || !inRange(p.ToPort, -1, 255) {
			return invalid(action, "protocol %s needs from_port (ICMP type) and to_port (ICMP code) within -1-255", proto)
		}
	case "-1":
		if p.FromPort != nil || p.ToPort != nil {
			return invalid(action, "protocol -1 (all) takes no ports")
		}
	case "":
		return invalid(action, "protocol is required")
	default:
		n, err := strconv.Atoi(proto)
		if err != nil || n < 0 || n > 255 {
			return invalid(action, "protocol %q is not tcp, udp, icmp, icmpv6, -1 or a protocol number", p.Protocol)
		}
	}
	sources := 0
	if p.CIDR != "" {
		sources++
		pfx, err := netip.ParsePrefix(p.CIDR)
		if err != nil || !pfx.Addr().Is4() {
			return invalid(action, "cidr %q is not an IPv4 CIDR block", p.CIDR)
		}
	}
	if p.IPv6CIDR != "" {
		sources++
		pfx, err := netip.ParsePrefix(p.IPv6CIDR)
		if err != nil || !pfx.Addr().Is6() {
			return invalid(action, "ipv6_cidr %q is not an IPv6 CIDR block", p.IPv6CIDR)
		}
	}
	if p.SourceGroupID != "" {
		sources++
	} else if p.SourceGroupOwnerID != "" {
		return invalid(action, "source_group_owner_id needs source_group_id")
	}
	if p.PrefixListID != "" {
		sources++
	}
	if sources != 1 {
		return invalid(action, "exactly one source is needed (cidr, ipv6_cidr, source_group_id or prefix_list_id); got %d", sources)
	}
	return nil
}

// source is the rule's source as one string.
func (p AWSIngressRule) source() string {
	switch {
	case p.CIDR != "":
		return p.CIDR
	case p.IPv6CIDR != "":
		return p.IPv6CIDR
	case p.SourceGroupID != "":
		return p.SourceGroupID
	default:
		return p.PrefixListID
	}
}

func (p AWSIngressRule) String() string {
	ports := "all ports"
	if p.FromPort != nil && p.ToPort != nil {
		ports = fmt.Sprintf("%d-%d", *p.FromPort, *p.ToPort)
	}
	return fmt.Sprintf("%s %s from %s", p.Protocol, ports, p.source())
}

// permission is the EC2 IpPermission of the rule; withDescription adds
// the description (AuthorizeSecurityGroupIngress keeps it; revoke matching
// ignores it).
func (p AWSIngressRule) permission(withDescription bool) ec2types.IpPermission {
	perm := ec2types.IpPermission{IpProtocol: aws.String(p.Protocol), FromPort: p.FromPort, ToPort: p.ToPort}
	var desc *string
	if withDescription && p.Description != "" {
		desc = aws.String(p.Description)
	}
	switch {
	case p.CIDR != "":
		perm.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(p.CIDR), Description: desc}}
	case p.IPv6CIDR != "":
		perm.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(p.IPv6CIDR), Description: desc}}
	case p.SourceGroupID != "":
		pair := ec2types.UserIdGroupPair{GroupId: aws.String(p.SourceGroupID), Description: desc}
		if p.SourceGroupOwnerID != "" {
			pair.UserId = aws.String(p.SourceGroupOwnerID)
		}
		perm.UserIdGroupPairs = []ec2types.UserIdGroupPair{pair}
	case p.PrefixListID != "":
		perm.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(p.PrefixListID), Description: desc}}
	}
	return perm
}

// Impact implements respond.Action.
func (a awsRevokeIngress) Impact(ctx context.Context, rec respond.Record, params respond.Params, world respond.World) (respond.Impact, error) {
	r, err := a.rule(params)
	if err != nil {
		return respond.Impact{}, err
	}
	im := respond.Impact{
		Action:     a.Name(),
		Summary:    fmt.Sprintf("Revoke the inbound rule %s of security group %s: the traffic it admitted is refused unless another rule admits it.", r, r.GroupID),
		Disruption: respond.DisruptionMedium,
		Reversible: true,
		Rollback:   fmt.Sprintf("re-add the inbound rule %s to %s (AuthorizeSecurityGroupIngress with the same permission); nothing is re-added if the rule was already absent", r, r.GroupID),
		Notes:      []string{"connections already established and tracked by the security group may persist until they close"},
	}
	return impactOf(ctx, world, rec.Tenant, im, target{uids: awsEC2UIDs(params, "security-group", r.GroupID)})
}

// awsEC2UIDs are the UIDs the inventory may know an EC2 resource under:
// its ARN when the account and region are known, and its id.
func awsEC2UIDs(p respond.Params, kind, id string) []string {
	if acct, region := p.String("account_id"), p.String("region"); acct != "" && region != "" {
		return []string{fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", region, acct, kind, id), id}
	}
	return []string{id}
}

// Do implements respond.Executor. A rule that does not exist is reported
// as already done (InvalidPermission.NotFound, or the permission listed as
// unknown), and its rollback re-adds nothing: Canopy never grants access
// it did not itself take away. A repeated call (a resumed run) therefore
// finds the rule absent and leaves it so on rollback.
func (a awsRevokeIngress) Do(ctx context.Context, call respond.Call) (respond.Result, error) {
	r, err := a.rule(call.Params)
	if err != nil {
		return respond.Result{}, err
	}
	client, err := a.clients.ec2(ctx, call.Tenant, r.Region)
	if err != nil {
		return respond.Result{}, fmt.Errorf("%s %s: %w", a.Name(), r.GroupID, err)
	}
	undo := awsRevokeIngressUndo{Tenant: call.Tenant, Rule: r}
	out, err := client.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId:       aws.String(r.GroupID),
		IpPermissions: []ec2types.IpPermission{r.permission(false)},
	})
	switch {
	case err != nil && awsCode(err) == "InvalidPermission.NotFound":
		undo.AlreadyAbsent = true
	case err != nil:
		return respond.Result{}, awsError(a.Name(), r.GroupID, "RevokeSecurityGroupIngress", err)
	case out.Return != nil && !*out.Return:
		return respond.Result{}, &APIError{Action: a.Name(), Resource: r.GroupID, Operation: "RevokeSecurityGroupIngress", Message: "the service answered false"}
	case len(out.UnknownIpPermissions) > 0 && len(out.RevokedSecurityGroupRules) == 0:
		undo.AlreadyAbsent = true
	default:
		for _, x := range out.RevokedSecurityGroupRules {
			undo.RevokedRuleIDs = append(undo.RevokedRuleIDs, aws.ToString(x.SecurityGroupRuleId))
		}
	}
	if undo.AlreadyAbsent {
		return done(a.Name(), OutcomeAlreadyDone, fmt.Sprintf("inbound rule %s was already absent from %s", r, r.GroupID), nil, nil, undo)
	}
	summary := fmt.Sprintf("revoked inbound rule %s from %s", r, r.GroupID)
	if len(undo.RevokedRuleIDs) > 0 {
		summary += " (" + strings.Join(undo.RevokedRuleIDs, ", ") + ")"
	}
	return done(a.Name(), OutcomeChanged, summary, []string{r.GroupID}, map[string]any{"revoked_rule_ids": undo.RevokedRuleIDs}, undo)
}

// Rollback implements respond.Executor.
func (a awsRevokeIngress) Rollback(ctx context.Context, res respond.Result) error {
	var undo awsRevokeIngressUndo
	if err := fromUndo(a.Name(), res.Undo, &undo); err != nil {
		return err
	}
	r := undo.Rule
	if err := r.validate(a.Name()); err != nil {
		return fmt.Errorf("rollback state: %w", err)
	}
	if undo.AlreadyAbsent {
		return nil
	}
	client, err := a.clients.ec2(ctx, undo.Tenant, r.Region)
	if err != nil {
		return fmt.Errorf("%s %s: rollback: %w", a.Name(), r.GroupID, err)
	}
	_, err = client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId:       aws.String(r.GroupID),
		IpPermissions: []ec2types.IpPermission{r.permission(true)},
	})
	if err != nil && awsCode(err) != "InvalidPermission.Duplicate" {
		return awsError(a.Name(), r.GroupID, "AuthorizeSecurityGroupIngress", err)
	}
	return nil
}
