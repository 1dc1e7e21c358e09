package cloud

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/canopy-sec/canopy/internal/respond"
)

// NameAliRevokeRule is the registry name of the Alibaba Cloud ECS
// security-group rule revoke.
const NameAliRevokeRule = "alicloud.ecs.revoke_security_group_rule"

// aliRevokeRule revokes inbound rules of an ECS security group
// (RevokeSecurityGroup), chosen by rule id or by protocol, port range and
// source. It reads the group's inbound rules first
// (DescribeSecurityGroupAttribute), so the rollback state holds each rule
// whole (priority, policy, description), and revokes the matching rules by
// id. Rollback re-adds the revoked rules that are missing
// (AuthorizeSecurityGroup).
type aliRevokeRule struct {
	clients aliFor
}

// Name implements respond.Action.
func (aliRevokeRule) Name() string { return NameAliRevokeRule }

// Params implements respond.Action.
func (aliRevokeRule) Params() respond.Schema {
	return respond.Schema{
		{Name: "region_id", Pattern: patAliRegion, Doc: "the group's region, e.g. cn-hangzhou; default: the configured region"},
		{Name: "account_id", Pattern: patAliAccount, Doc: "the Alibaba Cloud account owning the group; used only to find it in the inventory (its ARN)"},
		{Name: "security_group_id", Required: true, Pattern: patAliSG, Doc: "the security group"},
		{Name: "rule_id", Pattern: `sgr-[0-9a-z]{8,32}`, Doc: "the rule to revoke; or give ip_protocol, port_range and one source"},
		{Name: "ip_protocol", Pattern: `(?i)tcp|udp|icmp|icmpv6|gre|all`, Doc: "TCP, UDP, ICMP, ICMPv6, GRE or ALL"},
		{Name: "port_range", Pattern: `-?[0-9]{1,5}/-?[0-9]{1,5}`, Doc: "destination ports, e.g. 22/22; -1/-1 for ICMP, GRE and ALL"},
		{Name: "source_cidr_ip", Pattern: `[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?`, Doc: "source IPv4 address or CIDR block"},
		{Name: "ipv6_source_cidr_ip", Pattern: `[0-9a-fA-F:]{2,39}(/[0-9]{1,3})?`, Doc: "source IPv6 address or CIDR block"},
		{Name: "source_group_id", Pattern: patAliSG, Doc: "source security group"},
		{Name: "source_prefix_list_id", Pattern: `pl-[0-9a-z]{8,32}`, Doc: "source prefix list"},
		{Name: "policy", Enum: []string{"accept", "drop"}, Default: "accept", Doc: "the rule's action"},
		{Name: "priority", Type: respond.ParamInt, Doc: "match only rules of this priority (1-100)"},
		{Name: "nic_type", Enum: []string{"internet", "intranet"}, Doc: "match only rules of this NIC type"},
	}
}

// AliRule is an inbound ECS security-group rule as
// DescribeSecurityGroupAttribute reports it.
type AliRule struct {
	RuleID                  string `json:"SecurityGroupRuleId,omitempty"`
	IPProtocol              string `json:"IpProtocol"`
	PortRange               string `json:"PortRange"`
	SourceCidrIP            string `json:"SourceCidrIp,omitempty"`
	IPv6SourceCidrIP        string `json:"Ipv6SourceCidrIp,omitempty"`
	SourceGroupID           string `json:"SourceGroupId,omitempty"`
	SourceGroupOwnerAccount string `json:"SourceGroupOwnerAccount,omitempty"`
	SourcePrefixListID      string `json:"SourcePrefixListId,omitempty"`
	SourcePortRange         string `json:"SourcePortRange,omitempty"`
	DestCidrIP              string `json:"DestCidrIp,omitempty"`
	IPv6DestCidrIP          string `json:"Ipv6DestCidrIp,omitempty"`
	Policy                  string `json:"Policy"`
	Priority                string `json:"Priority,omitempty"`
	NicType                 string `json:"NicType,omitempty"`
	Description             string `json:"Description,omitempty"`
}

func (r AliRule) source() string {
	for _, s := range []string{r.SourceCidrIP, r.IPv6SourceCidrIP, r.SourceGroupID, r.SourcePrefixListID} {
		if s != "" {
			return s
		}
	}
	return "?"
}

func (r AliRule) String() string {
	s := fmt.Sprintf("%s %s from %s (%s)", strings.ToLower(r.IPProtocol), r.PortRange, r.source(), strings.ToLower(r.Policy))
	if r.RuleID != "" {
		s = r.RuleID + " " + s
	}
	return s
}

// same reports whether two rules are the same rule (ids, descriptions and
// case aside).
func (r AliRule) same(o AliRule) bool {
	prio := func(s string) string {
		if s == "" {
			return "1"
		}
		return s
	}
	return strings.EqualFold(r.IPProtocol, o.IPProtocol) && r.PortRange == o.PortRange &&
		r.SourceCidrIP == o.SourceCidrIP && r.IPv6SourceCidrIP == o.IPv6SourceCidrIP &&
		r.SourceGroupID == o.SourceGroupID && r.SourcePrefixListID == o.SourcePrefixListID &&
		r.SourcePortRange == o.SourcePortRange && r.DestCidrIP == o.DestCidrIP && r.IPv6DestCidrIP == o.IPv6DestCidrIP &&
		strings.EqualFold(r.Policy, o.Policy) && prio(r.Priority) == prio(o.Priority)
}

// aliRuleSpec selects rules: by id, or by protocol, ports, one source and
// policy (priority and NIC type when given).
type aliRuleSpec struct {
	region, group, ruleID string
	want                  AliRule
	priority, nicType     string
}

func (s aliRuleSpec) matches(r AliRule) bool {
	if s.ruleID != "" {
		return r.RuleID == s.ruleID
	}
	w := s.want
	return strings.EqualFold(r.IPProtocol, w.IPProtocol) && r.PortRange == w.PortRange &&
		r.SourceCidrIP == w.SourceCidrIP && r.IPv6SourceCidrIP == w.IPv6SourceCidrIP &&
		r.SourceGroupID == w.SourceGroupID && r.SourcePrefixListID == w.SourcePrefixListID &&
		strings.EqualFold(r.Policy, w.Policy) &&
		(s.priority == "" || r.Priority == s.priority) && (s.nicType == "" || strings.EqualFold(r.NicType, s.nicType))
}

func (s aliRuleSpec) String() string {
	if s.ruleID != "" {
		return "rule " + s.ruleID
	}
	return "inbound rule " + s.want.String()
}

func (a aliRevokeRule) spec(params respond.Params) (aliRuleSpec, error) {
	p, err := checkParams(a, params)
	if err != nil {
		return aliRuleSpec{}, err
	}
	s := aliRuleSpec{region: p.String("region_id"), group: p.String("security_group_id"), ruleID: p.String("rule_id"), nicType: p.String("nic_type")}
	if _, ok := p["priority"]; ok {
		n := p.Int("priority")
		if n < 1 || n > 100 {
			return s, invalid(a.Name(), "priority %d is not within 1-100", n)
		}
		s.priority = strconv.FormatInt(n, 10)
	}
	s.want = AliRule{
		IPProtocol:         strings.ToUpper(p.String("ip_protocol")),
		PortRange:          p.String("port_range"),
		SourceCidrIP:       p.String("source_cidr_ip"),
		IPv6SourceCidrIP:   p.String("ipv6_source_cidr_ip"),
		SourceGroupID:      p.String("source_group_id"),
		SourcePrefixListID: p.String("source_prefix_list_id"),
		Policy:             p.String("policy"),
	}
	sources := 0
	for _, v := range []string{s.want.SourceCidrIP, s.want.IPv6SourceCidrIP, s.want.SourceGroupID, s.want.SourcePrefixListID} {
		if v != "" {
			sources++
		}
	}
	if s.ruleID != "" {
		if s.want.IPProtocol != "" || s.want.PortRange != "" || sources > 0 {
			return s, invalid(a.Name(), "rule_id excludes ip_protocol, port_range and the source parameters")
		}
		return s, nil
	}
	if s.want.IPProtocol == "" || s.want.PortRange == "" {
		return s, invalid(a.Name(), "give rule_id, or ip_protocol and port_range with one source")
	}
	if sources != 1 {
		return s, invalid(a.Name(), "exactly one source is needed (source_cidr_ip, ipv6_source_cidr_ip, source_group_id or source_prefix_list_id); got %d", sources)
	}
	from, to, ok := strings.Cut(s.want.PortRange, "/")
	lo, err1 := strconv.Atoi(from)
	hi, err2 := strconv.Atoi(to)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return s, invalid(a.Name(), "port_range %q is not FROM/TO", s.want.PortRange)
	case s.want.IPProtocol == "TCP" || s.want.IPProtocol == "UDP":
		if lo < 1 || hi > 65535 || lo > hi {
			return s, invalid(a.Name(), "port_range %q: TCP and UDP ports are 1-65535, FROM <= TO", s.want.PortRange)
		}
	default:
		if lo != -1 || hi != -1 {
			return s, invalid(a.Name(), "port_range of %s must be -1/-1", s.want.IPProtocol)
		}
	}
	for _, c := range []struct {
		name, v string
		v4      bool
	}{{"source_cidr_ip", s.want.SourceCidrIP, true}, {"ipv6_source_cidr_ip", s.want.IPv6SourceCidrIP, false}} {
		if c.v == "" {
			continue
		}
		var addr netip.Addr
		if pfx, err := netip.ParsePrefix(c.v); err == nil {
			addr = pfx.Addr()
		} else if ad, err := netip.ParseAddr(c.v); err == nil {
			addr = ad
		} else {
			return s, invalid(a.Name(), "%s %q is not an address or CIDR block", c.name, c.v)
		}
		if addr.Is4() != c.v4 {
			return s, invalid(a.Name(), "%s %q is of the wrong IP version", c.name, c.v)
		}
	}
	return s, nil
}

type aliRevokeUndo struct {
	Tenant string    `json:"tenant"`
	Region string    `json:"region_id"`
	Group  string    `json:"security_group_id"`
	Rules  []AliRule `json:"rules"` // the revoked rules; empty when none matched
}

// Impact implements respond.Action.
func (a aliRevokeRule) Impact(ctx context.Context, rec respond.Record, params respond.Params, world respond.World) (respond.Impact, error) {
	s, err := a.spec(params)
	if err != nil {
		return respond.Impact{}, err
	}
	im := respond.Impact{
		Action:     a.Name(),
		Summary:    fmt.Sprintf("Revoke the %s of ECS security group %s: the traffic it admitted is refused unless another rule admits it.", s, s.group),
		Disruption: respond.DisruptionMedium,
		Reversible: true,
		Rollback:   fmt.Sprintf("re-add the revoked rules to %s as they were (AuthorizeSecurityGroup with the protocol, ports, source, policy, priority and description read before revoking); nothing is re-added if no rule matched", s.group),
	}
	uids := []string{s.group}
	if acct := params.String("account_id"); acct != "" && s.region != "" {
		uids = []string{fmt.Sprintf("acs:ecs:%s:%s:securitygroup/%s", s.region, acct, s.group), s.group}
	}
	return impactOf(ctx, world, rec.Tenant, im, target{uids: uids})
}

// Do implements respond.Executor. When no rule matches, the action is
// reported as already done and its rollback adds nothing.
func (a aliRevokeRule) Do(ctx context.Context, call respond.Call) (respond.Result, error) {
	s, err := a.spec(call.Params)
	if err != nil {
		return respond.Result{}, err
	}
	client, region, err := a.clients.ecs(ctx, call.Tenant, s.region)
	if err != nil {
		return respond.Result{}, fmt.Errorf("%s %s: %w", a.Name(), s.group, err)
	}
	rules, err := a.ingress(ctx, client, region, s.group)
	if err != nil {
		return respond.Result{}, err
	}
	undo := aliRevokeUndo{Tenant: call.Tenant, Region: region, Group: s.group}
	var ids []*string
	for _, r := range rules {
		if s.matches(r) {
			undo.Rules = append(undo.Rules, r)
			ids = append(ids, dara.String(r.RuleID))
		}
	}
	if len(undo.Rules) == 0 {
		return done(a.Name(), OutcomeAlreadyDone, fmt.Sprintf("no %s in %s: already absent", s, s.group), nil, nil, undo)
	}
	req := &ecs.RevokeSecurityGroupRequest{RegionId: dara.String(region), SecurityGroupId: dara.String(s.group)}
	if idsKnown(undo.Rules) {
		req.SecurityGroupRuleId = ids
	} else {
		for _, r := range undo.Rules {
			req.Permissions = append(req.Permissions, revokePermission(r))
		}
	}
	if _, err := client.RevokeSecurityGroupWithContext(ctx, req, &dara.RuntimeOptions{}); err != nil {
		if aliCode(err) == "InvalidSecurityGroupRule.RuleNotExist" {
			undo.Rules = nil
			return done(a.Name(), OutcomeAlreadyDone, fmt.Sprintf("%s of %s was revoked meanwhile: already absent", s, s.group), nil, nil, undo)
		}
		return respond.Result{}, aliError(a.Name(), s.group, "RevokeSecurityGroup", err)
	}
	var names, revoked []string
	for _, r := range undo.Rules {
		names = append(names, r.String())
		if r.RuleID != "" {
			revoked = append(revoked, r.RuleID)
		}
	}
	return done(a.Name(), OutcomeChanged, fmt.Sprintf("revoked from %s: %s", s.group, strings.Join(names, "; ")),
		[]string{s.group}, map[string]any{"revoked_rule_ids": revoked}, undo)
}

func idsKnown(rules []AliRule) bool {
	for _, r := range rules {
		if r.RuleID == "" {
			return false
		}
	}
	return true
}

// ingress lists the inbound rules of a group, following NextToken.
func (a aliRevokeRule) ingress(ctx context.Context, client ECSAPI, region, group string) ([]AliRule, error) {
	req := &ecs.DescribeSecurityGroupAttributeRequest{
		RegionId: dara.String(region), SecurityGroupId: dara.String(group), Direction: dara.String("ingress"),
	}
	var out []AliRule
	for {
		res, err := client.DescribeSecurityGroupAttributeWithContext(ctx, req, &dara.RuntimeOptions{})
		if err != nil {
			return nil, aliError(a.Name(), group, "DescribeSecurityGroupAttribute", err)
		}
		if res == nil || res.Body == nil {
			return nil, &APIError{Action: a.Name(), Resource: group, Operation: "DescribeSecurityGroupAttribute", Message: "empty answer"}
		}
		if res.Body.Permissions != nil {
			for _, p := range res.Body.Permissions.Permission {
				if p == nil || (p.Direction != nil && !strings.EqualFold(*p.Direction, "ingress")) {
					continue
				}
				out = append(out, AliRule{
					RuleID: dara.StringValue(p.SecurityGroupRuleId), IPProtocol: dara.StringValue(p.IpProtocol), PortRange: dara.StringValue(p.PortRange),
					SourceCidrIP: dara.StringValue(p.SourceCidrIp), IPv6SourceCidrIP: dara.StringValue(p.Ipv6SourceCidrIp),
					SourceGroupID: dara.StringValue(p.SourceGroupId), SourceGroupOwnerAccount: dara.StringValue(p.SourceGroupOwnerAccount),
					SourcePrefixListID: dara.StringValue(p.SourcePrefixListId), SourcePortRange: dara.StringValue(p.SourcePortRange),
					DestCidrIP: dara.StringValue(p.DestCidrIp), IPv6DestCidrIP: dara.StringValue(p.Ipv6DestCidrIp),
					Policy: dara.StringValue(p.Policy), Priority: dara.StringValue(p.Priority), NicType: dara.StringValue(p.NicType),
					Description: dara.StringValue(p.Description),
				})
			}
		}
		next := dara.StringValue(res.Body.NextToken)
		if next == "" {
			return out, nil
		}
		req.NextToken = dara.String(next)
	}
}

func optDara(s string) *string {
	if s == "" {
		return nil
	}
	return dara.String(s)
}

func revokePermission(r AliRule) *ecs.RevokeSecurityGroupRequestPermissions {
	return &ecs.RevokeSecurityGroupRequestPermissions{
		IpProtocol: optDara(r.IPProtocol), PortRange: optDara(r.PortRange),
		SourceCidrIp: optDara(r.SourceCidrIP), Ipv6SourceCidrIp: optDara(r.IPv6SourceCidrIP),
		SourceGroupId: optDara(r.SourceGroupID), SourceGroupOwnerAccount: optDara(r.SourceGroupOwnerAccount),
		SourcePrefixListId: optDara(r.SourcePrefixListID), SourcePortRange: optDara(r.SourcePortRange),
		DestCidrIp: optDara(r.DestCidrIP), Ipv6DestCidrIp: optDara(r.IPv6DestCidrIP),
		Policy: optDara(strings.ToLower(r.Policy)), Priority: optDara(r.Priority), NicType: optDara(r.NicType),
	}
}

func authorizePermission(r AliRule) *ecs.AuthorizeSecurityGroupRequestPermissions {
	return &ecs.AuthorizeSecurityGroupRequestPermissions{
		IpProtocol: optDara(r.IPProtocol), PortRange: optDara(r.PortRange),
		SourceCidrIp: optDara(r.SourceCidrIP), Ipv6SourceCidrIp: optDara(r.IPv6SourceCidrIP),
		SourceGroupId: optDara(r.SourceGroupID), SourceGroupOwnerAccount: optDara(r.SourceGroupOwnerAccount),
		SourcePrefixListId: optDara(r.SourcePrefixListID), SourcePortRange: optDara(r.SourcePortRange),
		DestCidrIp: optDara(r.DestCidrIP), Ipv6DestCidrIp: optDara(r.IPv6DestCidrIP),
		Policy: optDara(strings.ToLower(r.Policy)), Priority: optDara(r.Priority), NicType: optDara(r.NicType),
		Description: optDara(r.Description),
	}
}

// Rollback implements respond.Executor. It re-adds, in one call, the
// revoked rules the group does not have again.
func (a aliRevokeRule) Rollback(ctx context.Context, res respond.Result) error {
	var undo aliRevokeUndo
	if err := fromUndo(a.Name(), res.Undo, &undo); err != nil {
		return err
	}
	if undo.Group == "" || undo.Region == "" {
		return fmt.Errorf("%s: rollback: state names no group or region", a.Name())
	}
	if len(undo.Rules) == 0 {
		return nil
	}
	client, _, err := a.clients.ecs(ctx, undo.Tenant, undo.Region)
	if err != nil {
		return fmt.Errorf("%s %s: rollback: %w", a.Name(), undo.Group, err)
	}
	current, err := a.ingress(ctx, client, undo.Region, undo.Group)
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	req := &ecs.AuthorizeSecurityGroupRequest{RegionId: dara.String(undo.Region), SecurityGroupId: dara.String(undo.Group)}
	for _, r := range undo.Rules {
		present := false
		for _, c := range current {
			if c.same(r) {
				present = true
				break
			}
		}
		if !present {
			req.Permissions = append(req.Permissions, authorizePermission(r))
		}
	}
	if len(req.Permissions) == 0 {
		return nil
	}
	if _, err := client.AuthorizeSecurityGroupWithContext(ctx, req, &dara.RuntimeOptions{}); err != nil {
		return aliError(a.Name(), undo.Group, "AuthorizeSecurityGroup", err)
	}
	return nil
}
