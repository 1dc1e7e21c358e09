package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// NameAWSRevokeIngress is the registry name of AWSRevokeIngress.
const NameAWSRevokeIngress = "aws.ec2.revoke_security_group_ingress"

// AWSRevokeIngress revokes one inbound rule of an EC2 security group
// (RevokeSecurityGroupIngress) and restores it on rollback
// (AuthorizeSecurityGroupIngress with the same permission).
//
// Parameters (JSON):
//
//	region            optional; default region otherwise
//	group_id          the security group, "sg-…"
//	protocol          "tcp", "udp", "icmp", "icmpv6", "-1" / "all", or an IP protocol number
//	from_port/to_port port range for tcp/udp (ICMP: type/code, -1 for all); omitted for "-1"
//	one source of:    cidr (IPv4), ipv6_cidr, source_group_id (+ source_group_owner_id), prefix_list_id
//	description       optional; the rule description to restore on rollback
//
// A rule that does not exist is reported as already done
// (InvalidPermission.NotFound, or the permission listed as unknown), and
// its rollback adds nothing.
type AWSRevokeIngress struct {
	AWS *AWS
}

// Name implements Action.
func (AWSRevokeIngress) Name() string { return NameAWSRevokeIngress }

// AWSIngressRule is one inbound rule: protocol, ports and exactly one
// source. It is both the parameter shape and the rollback state.
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

type awsRevokeIngressState struct {
	Rule           AWSIngressRule `json:"rule"`
	AlreadyAbsent  bool           `json:"already_absent,omitempty"`
	RevokedRuleIDs []string       `json:"revoked_rule_ids,omitempty"`
}

func (a AWSRevokeIngress) params(raw json.RawMessage) (AWSIngressRule, error) {
	var p AWSIngressRule
	if err := decode(a.Name(), raw, &p); err != nil {
		return p, err
	}
	return p, p.validate(a.Name())
}

// Validate implements Action.
func (a AWSRevokeIngress) Validate(raw json.RawMessage) error {
	_, err := a.params(raw)
	return err
}

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
		if !strings.HasPrefix(p.SourceGroupID, "sg-") {
			return invalid(action, "source_group_id %q is not a security group id", p.SourceGroupID)
		}
	} else if p.SourceGroupOwnerID != "" {
		return invalid(action, "source_group_owner_id needs source_group_id")
	}
	if p.PrefixListID != "" {
		sources++
		if !strings.HasPrefix(p.PrefixListID, "pl-") {
			return invalid(action, "prefix_list_id %q is not a prefix list id (pl-…)", p.PrefixListID)
		}
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

// Impact implements Action.
func (a AWSRevokeIngress) Impact(raw json.RawMessage) (Impact, error) {
	p, err := a.params(raw)
	if err != nil {
		return Impact{}, err
	}
	return Impact{
		Summary:      fmt.Sprintf("Revoke the inbound rule %s of security group %s; traffic it allowed is no longer admitted (unless another rule allows it).", p, p.GroupID),
		Resources:    []string{p.GroupID},
		Reversible:   true,
		RollbackPlan: fmt.Sprintf("AuthorizeSecurityGroupIngress on %s with the same permission (and the description given); nothing is added back if the rule was already absent.", p.GroupID),
		Notes:        []string{"Established connections tracked by the security group may persist until they close or time out."},
	}, nil
}

// Do implements Action.
func (a AWSRevokeIngress) Do(ctx context.Context, raw json.RawMessage) (Result, error) {
	p, err := a.params(raw)
	if err != nil {
		return Result{}, err
	}
	client, err := a.AWS.EC2(p.Region)
	if err != nil {
		return Result{}, fmt.Errorf("%s %s: %w", a.Name(), p.GroupID, err)
	}
	st := awsRevokeIngressState{Rule: p}
	out, err := client.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId:       aws.String(p.GroupID),
		IpPermissions: []ec2types.IpPermission{p.permission(false)},
	})
	switch {
	case err != nil && awsCode(err) == "InvalidPermission.NotFound":
		st.AlreadyAbsent = true
	case err != nil:
		return Result{}, awsError(a.Name(), p.GroupID, "RevokeSecurityGroupIngress", err)
	case out.Return != nil && !*out.Return:
		return Result{}, &APIError{Action: a.Name(), Resource: p.GroupID, Operation: "RevokeSecurityGroupIngress", Message: "the service returned false"}
	case len(out.UnknownIpPermissions) > 0 && len(out.RevokedSecurityGroupRules) == 0:
		st.AlreadyAbsent = true
	default:
		for _, r := range out.RevokedSecurityGroupRules {
			st.RevokedRuleIDs = append(st.RevokedRuleIDs, aws.ToString(r.SecurityGroupRuleId))
		}
	}
	state, err := stateJSON(a.Name(), st)
	if err != nil {
		return Result{}, err
	}
	if st.AlreadyAbsent {
		return Result{Outcome: OutcomeAlreadyDone, Detail: fmt.Sprintf("inbound rule %s was already absent from %s", p, p.GroupID), Resources: []string{p.GroupID}, State: state}, nil
	}
	detail := fmt.Sprintf("revoked inbound rule %s from %s", p, p.GroupID)
	if len(st.RevokedRuleIDs) > 0 {
		detail += " (" + strings.Join(st.RevokedRuleIDs, ", ") + ")"
	}
	return Result{Outcome: OutcomeChanged, Detail: detail, Resources: []string{p.GroupID}, State: state}, nil
}

// Rollback implements Action.
func (a AWSRevokeIngress) Rollback(ctx context.Context, _ json.RawMessage, rawState json.RawMessage) (Result, error) {
	var st awsRevokeIngressState
	if err := decodeState(a.Name(), rawState, &st); err != nil {
		return Result{}, err
	}
	p := st.Rule
	if err := p.validate(a.Name()); err != nil {
		return Result{}, fmt.Errorf("rollback state: %w", err)
	}
	if st.AlreadyAbsent {
		return Result{Outcome: OutcomeAlreadyDone, Detail: fmt.Sprintf("nothing to restore: inbound rule %s was absent from %s before the action", p, p.GroupID), Resources: []string{p.GroupID}}, nil
	}
	client, err := a.AWS.EC2(p.Region)
	if err != nil {
		return Result{}, fmt.Errorf("%s %s: rollback: %w", a.Name(), p.GroupID, err)
	}
	_, err = client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId:       aws.String(p.GroupID),
		IpPermissions: []ec2types.IpPermission{p.permission(true)},
	})
	switch {
	case err != nil && awsCode(err) == "InvalidPermission.Duplicate":
		return Result{Outcome: OutcomeAlreadyDone, Detail: fmt.Sprintf("inbound rule %s is already present on %s", p, p.GroupID), Resources: []string{p.GroupID}}, nil
	case err != nil:
		return Result{}, awsError(a.Name(), p.GroupID, "AuthorizeSecurityGroupIngress", err)
	}
	return Result{Outcome: OutcomeChanged, Detail: fmt.Sprintf("restored inbound rule %s on %s", p, p.GroupID), Resources: []string{p.GroupID}}, nil
}
