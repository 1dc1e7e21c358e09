package inventory

import (
	"strings"
)

// ECS and VPC calls of the aliyun importer.

func ecsDescribeInstances(c *aliyunCall) error {
	for _, in := range objects(field(c.resp, "Instances"), "Instance") {
		id := str(field(in, "InstanceId"))
		a := attrs{}
		a.str("instance_id", id)
		a.str("instance_name", field(in, "InstanceName"))
		a.str("description", field(in, "Description"))
		a.str("region_id", field(in, "RegionId"))
		a.str("zone_id", field(in, "ZoneId"))
		a.str("status", field(in, "Status"))
		a.str("instance_type", field(in, "InstanceType"))
		a.str("image_id", field(in, "ImageId"))
		a.str("os_type", field(in, "OSType"))
		a.str("os_name", field(in, "OSName"))
		a.str("hostname", field(in, "HostName"))
		a.str("network_type", field(in, "InstanceNetworkType"))
		a.str("vpc_id", path(in, "VpcAttributes", "VpcId"))
		a.str("vswitch_id", path(in, "VpcAttributes", "VSwitchId"))
		a.strs("security_group_ids", field(in, "SecurityGroupIds"), "SecurityGroupId")
		pub := strList(field(in, "PublicIpAddress"), "IpAddress")
		if eip := str(path(in, "EipAddress", "IpAddress")); eip != "" {
			pub = append(pub, eip)
		}
		a["public_ip_addresses"] = pub
		priv := strList(path(in, "VpcAttributes", "PrivateIpAddress"), "IpAddress")
		priv = append(priv, strList(field(in, "InnerIpAddress"), "IpAddress")...)
		a["private_ip_addresses"] = priv
		a.integer("internet_max_bandwidth_out", field(in, "InternetMaxBandwidthOut"))
		a.boolean("deletion_protection", field(in, "DeletionProtection"))
		if t := str(path(in, "MetadataOptions", "HttpTokens")); t != "" {
			a["metadata_http_tokens"] = t
		}
		a.time("creation_time", field(in, "CreationTime"))
		mods := []func(*Resource){withName(str(field(in, "InstanceName"))), withTags(tagsOf(field(in, "Tags")))}
		for _, sg := range a["security_group_ids"].([]any) {
			mods = append(mods, withRel("member_of", str(sg), "ALIYUN::ECS::SecurityGroup"))
		}
		mods = append(mods, withRel("in_vpc", str(a["vpc_id"]), "ALIYUN::ECS::VPC"))
		c.put("ALIYUN::ECS::Instance", id, str(field(in, "RegionId")), a, mods...)
	}
	return nil
}

func ecsDescribeDisks(c *aliyunCall) error {
	for _, d := range objects(field(c.resp, "Disks"), "Disk") {
		id := str(field(d, "DiskId"))
		a := attrs{}
		a.str("disk_id", id)
		a.str("disk_name", field(d, "DiskName"))
		a.str("description", field(d, "Description"))
		a.str("region_id", field(d, "RegionId"))
		a.str("zone_id", field(d, "ZoneId"))
		a.str("status", field(d, "Status"))
		a.str("type", field(d, "Type"))
		a.str("category", field(d, "Category"))
		a.integer("size", field(d, "Size"))
		a.boolean("encrypted", field(d, "Encrypted"))
		a.str("kms_key_id", field(d, "KMSKeyId"))
		inst := str(field(d, "InstanceId"))
		a["instance_id"] = inst
		a["attached"] = inst != "" || strings.EqualFold(str(field(d, "Status")), "In_use")
		a.boolean("delete_with_instance", field(d, "DeleteWithInstance"))
		c.put("ALIYUN::ECS::Disk", id, str(field(d, "RegionId")), a,
			withName(str(field(d, "DiskName"))), withTags(tagsOf(field(d, "Tags"))),
			withRel("attached_to", inst, "ALIYUN::ECS::Instance"))
	}
	return nil
}

func ecsDescribeSecurityGroups(c *aliyunCall) error {
	region := str(field(c.resp, "RegionId"))
	for _, g := range objects(field(c.resp, "SecurityGroups"), "SecurityGroup") {
		id := str(field(g, "SecurityGroupId"))
		a := sgBase(g, region)
		c.put("ALIYUN::ECS::SecurityGroup", id, str(a["region_id"]), a,
			withName(str(field(g, "SecurityGroupName"))), withTags(tagsOf(field(g, "Tags"))),
			withRel("in_vpc", str(a["vpc_id"]), "ALIYUN::ECS::VPC"))
	}
	return nil
}

func sgBase(g map[string]any, region string) attrs {
	a := attrs{}
	a.str("security_group_id", field(g, "SecurityGroupId"))
	a.str("security_group_name", field(g, "SecurityGroupName"))
	a.str("description", field(g, "Description"))
	a.str("vpc_id", field(g, "VpcId"))
	a.str("security_group_type", field(g, "SecurityGroupType"))
	if r := str(field(g, "RegionId")); r != "" {
		region = r
	}
	if region != "" {
		a["region_id"] = region
	}
	a.time("creation_time", field(g, "CreationTime"))
	return a
}

func ecsDescribeSecurityGroupAttribute(c *aliyunCall) error {
	id := str(field(c.resp, "SecurityGroupId"))
	a := sgBase(c.resp, c.param("RegionId"))
	a.str("inner_access_policy", field(c.resp, "InnerAccessPolicy"))
	rules := []any{}
	for _, p := range objects(field(c.resp, "Permissions"), "Permission") {
		rules = append(rules, sgRule(p))
	}
	a["permissions"] = rules
	c.put("ALIYUN::ECS::SecurityGroup", id, str(a["region_id"]), a,
		withName(str(field(c.resp, "SecurityGroupName"))),
		withRel("in_vpc", str(a["vpc_id"]), "ALIYUN::ECS::VPC"))
	return nil
}

// sgRule normalizes one security group permission.
func sgRule(p map[string]any) map[string]any {
	r := attrs{}
	r["direction"] = strings.ToLower(str(field(p, "Direction")))
	r["policy"] = strings.ToLower(str(field(p, "Policy")))
	if r["policy"] == "" {
		r["policy"] = "accept"
	}
	r["ip_protocol"] = strings.ToLower(str(field(p, "IpProtocol")))
	pr := str(field(p, "PortRange"))
	r["port_range"] = pr
	from, to := portRange(pr)
	r["port_from"], r["port_to"] = from, to
	for _, k := range []string{"SourceCidrIp", "Ipv6SourceCidrIp", "SourceGroupId", "SourcePrefixListId",
		"DestCidrIp", "Ipv6DestCidrIp", "DestGroupId", "NicType", "Description"} {
		r.str(snake(k), field(p, k))
	}
	r.str("rule_id", field(p, "SecurityGroupRuleId"))
	r.integer("priority", field(p, "Priority"))
	return r
}

// portRange reads "22/22", "1/65535" or "-1/-1" (every port).
func portRange(s string) (int64, int64) {
	lo, hi, ok := strings.Cut(s, "/")
	if !ok {
		hi = lo
	}
	from, ok1 := intish(lo)
	to, ok2 := intish(hi)
	if !ok1 || !ok2 || from < 0 || to < 0 {
		return 1, 65535
	}
	return from, to
}

func vpcDescribeVpcs(c *aliyunCall) error {
	for _, v := range objects(field(c.resp, "Vpcs"), "Vpc") {
		id := str(field(v, "VpcId"))
		a := attrs{}
		a.str("vpc_id", id)
		a.str("vpc_name", field(v, "VpcName"))
		a.str("region_id", field(v, "RegionId"))
		a.str("cidr_block", field(v, "CidrBlock"))
		a.str("status", field(v, "Status"))
		a.boolean("is_default", field(v, "IsDefault"))
		c.sawAccount(str(field(v, "OwnerId")))
		c.put("ALIYUN::ECS::VPC", id, str(field(v, "RegionId")), a,
			withName(str(field(v, "VpcName"))), withTags(tagsOf(field(v, "Tags"))))
	}
	return nil
}

func vpcDescribeFlowLogs(c *aliyunCall) error {
	byVPC := map[string][]any{}
	var order []string
	for _, f := range objects(field(c.resp, "FlowLogs"), "FlowLog") {
		fl := attrs{}
		for _, k := range []string{"FlowLogId", "Status", "ResourceType", "ResourceId", "ProjectName", "LogStoreName", "TrafficType"} {
			fl.str(snake(k), field(f, k))
		}
		vpc := ""
		if strings.EqualFold(str(field(f, "ResourceType")), "VPC") {
			vpc = str(field(f, "ResourceId"))
		}
		if vpc == "" {
			vpc = str(field(f, "VpcId"))
		}
		if vpc == "" {
			vpc = c.param("VpcId")
		}
		if vpc == "" {
			continue
		}
		if _, seen := byVPC[vpc]; !seen {
			order = append(order, vpc)
		}
		byVPC[vpc] = append(byVPC[vpc], map[string]any(fl))
	}
	if v := c.param("VpcId"); v != "" && len(order) == 0 {
		order = append(order, v)
		byVPC[v] = []any{}
	}
	for _, vpc := range order {
		c.put("ALIYUN::ECS::VPC", vpc, c.param("RegionId"), attrs{"vpc_id": vpc, "flow_logs": byVPC[vpc]})
	}
	return nil
}
