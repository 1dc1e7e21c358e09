package inventory

import (
	"fmt"
	"strings"
)

// The normalizers below read an AWS resource's configuration in the
// shape AWS Config records it (camelCase API names, or CloudFormation's
// PascalCase for some types) or Terraform's (snake_case arguments), with
// the alternative names listed in each read, and return the attributes of
// README.md. They never fail on a missing field (absence is kept); they
// fail only on a value that cannot be read (a policy that is not JSON).

// awsCIDRs collects CIDRs from a list of strings or of objects holding
// the CIDR under key.
func awsCIDRs(v any, key string) []any {
	var out []any
	for _, e := range awsList(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		} else if m := asObj(e); m != nil {
			out = append(out, m.str(key))
		}
	}
	return out
}

// awsPermissions normalizes a list of security group permissions given as
// AWS Config ipPermissions or Terraform ingress/egress blocks.
func awsPermissions(list []obj) []any {
	out := []any{}
	for _, p := range list {
		var v4, v6, groups, prefixes []any
		v4 = append(v4, awsCIDRs(p.get("ipRanges"), "cidrIp")...)
		v4 = append(v4, awsCIDRs(p.get("ipv4Ranges"), "cidrIp")...)
		v4 = append(v4, awsCIDRs(p.get("cidr_blocks", "cidr_ipv4"), "")...)
		v6 = append(v6, awsCIDRs(p.get("ipv6Ranges"), "cidrIpv6")...)
		v6 = append(v6, awsCIDRs(p.get("ipv6_cidr_blocks", "cidr_ipv6"), "")...)
		groups = append(groups, awsCIDRs(p.get("userIdGroupPairs"), "groupId")...)
		groups = append(groups, awsCIDRs(p.get("security_groups", "referenced_security_group_id", "source_security_group_id"), "")...)
		prefixes = append(prefixes, awsCIDRs(p.get("prefixListIds"), "prefixListId")...)
		prefixes = append(prefixes, awsCIDRs(p.get("prefix_list_ids", "prefix_list_id"), "")...)
		if p.has("self") {
			if b, _ := awsBool(p.get("self")); b {
				groups = append(groups, "self")
			}
		}
		out = append(out, awsPermission(p.get("ipProtocol", "ip_protocol", "protocol"), p.get("fromPort", "from_port"), p.get("toPort", "to_port"), v4, v6, groups, prefixes))
	}
	return out
}

func normSecurityGroup(o obj) attrMap {
	a := attrMap{}
	a.setStr("group_id", o.get("groupId", "id"))
	a.setStr("group_name", o.get("groupName", "name"))
	a.setStr("description", o.get("description"))
	a.setStr("vpc_id", o.get("vpcId"))
	if o.has("ipPermissions", "ingress") {
		a["ingress"] = awsPermissions(o.objs("ipPermissions", "ingress"))
	}
	if o.has("ipPermissionsEgress", "egress") {
		a["egress"] = awsPermissions(o.objs("ipPermissionsEgress", "egress"))
	}
	return a
}

func normNetworkACL(o obj) attrMap {
	a := attrMap{}
	a.setStr("network_acl_id", o.get("networkAclId", "id"))
	a.setStr("vpc_id", o.get("vpcId"))
	a.setBool("is_default", o.get("isDefault", "default"))
	var subnets []any
	for _, as := range o.objs("associations") {
		subnets = append(subnets, as.str("subnetId"))
	}
	subnets = append(subnets, awsStrs(o.get("subnet_ids"))...)
	if o.has("associations", "subnet_ids") {
		a["subnet_ids"] = awsUniq(subnets)
	}
	var entries []any
	for _, e := range o.objs("entries") {
		entries = append(entries, awsACLEntry(e, nil))
	}
	for _, dir := range []struct {
		key    string
		egress bool
	}{{"ingress", false}, {"egress", true}} {
		for _, e := range o.objs(dir.key) {
			entries = append(entries, awsACLEntry(e, &dir.egress))
		}
	}
	if o.has("entries", "ingress", "egress") {
		if entries == nil {
			entries = []any{}
		}
		a["entries"] = entries
	}
	return a
}

// awsACLEntry normalizes one network ACL entry (AWS Config entries,
// Terraform ingress/egress blocks or aws_network_acl_rule); egress is
// given for Terraform blocks.
func awsACLEntry(e obj, egress *bool) map[string]any {
	n := map[string]any{}
	if i, ok := awsInt(e.get("ruleNumber", "rule_no", "rule_number")); ok {
		n["rule_number"] = i
	}
	eg := false
	if egress != nil {
		eg = *egress
	} else if b, ok := awsBool(e.get("egress")); ok {
		eg = b
	}
	n["egress"] = eg
	n["rule_action"] = strings.ToLower(e.str("ruleAction", "action", "rule_action"))
	p := awsProtocol(e.get("protocol"))
	n["protocol"] = p
	from, to := e.get("from_port"), e.get("to_port")
	if pr := e.obj("portRange"); pr != nil {
		from, to = pr.get("from"), pr.get("to")
	}
	n["from_port"], n["to_port"] = awsPorts(p, from, to)
	n["cidr_block"] = e.str("cidrBlock", "cidr_block")
	n["ipv6_cidr_block"] = e.str("ipv6CidrBlock", "ipv6_cidr_block")
	return n
}

func normInstance(o obj) attrMap {
	a := attrMap{}
	a.setStr("instance_id", o.get("instanceId", "id"))
	a.setStr("instance_type", o.get("instanceType"))
	a.setStr("image_id", o.get("imageId", "ami"))
	if st := o.obj("state"); st != nil {
		a.setStr("state", st.get("name"))
	} else {
		a.setStr("state", o.get("instance_state", "state"))
	}
	a.setStr("vpc_id", o.get("vpcId"))
	a.setStr("subnet_id", o.get("subnetId"))
	a.setStr("public_ip_address", o.get("publicIpAddress", "public_ip"))
	a.setStr("private_ip_address", o.get("privateIpAddress", "private_ip"))
	var sgs []any
	for _, g := range o.objs("securityGroups") {
		sgs = append(sgs, g.str("groupId"))
	}
	sgs = append(sgs, awsStrs(o.get("vpc_security_group_ids"))...)
	if o.has("securityGroups", "vpc_security_group_ids") {
		a["security_group_ids"] = awsUniq(sgs)
	}
	if p := o.get("iamInstanceProfile", "iam_instance_profile"); p != nil {
		if m := asObj(p); m != nil {
			a["iam_instance_profile"] = m.str("arn")
		} else {
			a["iam_instance_profile"] = awsStr(p)
		}
	}
	if mo := o.get("metadataOptions", "metadata_options"); mo != nil {
		var m obj
		if l := awsList(mo); len(l) > 0 {
			m = asObj(l[0])
		}
		if m != nil {
			md := attrMap{}
			md.setStr("http_tokens", strings.ToLower(m.str("httpTokens", "http_tokens")))
			md.setStr("http_endpoint", strings.ToLower(m.str("httpEndpoint", "http_endpoint")))
			md.setInt("http_put_response_hop_limit", m.get("httpPutResponseHopLimit", "http_put_response_hop_limit"))
			a["metadata_options"] = map[string]any(md)
		}
	}
	a.setTime("launch_time", o.get("launchTime"))
	return a
}

func normVolume(o obj) attrMap {
	a := attrMap{}
	a.setStr("volume_id", o.get("volumeId", "id"))
	a.setBool("encrypted", o.get("encrypted"))
	a.setStr("kms_key_id", o.get("kmsKeyId", "kms_key_id"))
	a.setInt("size", o.get("size"))
	a.setStr("volume_type", o.get("volumeType", "type"))
	a.setStr("state", o.get("state"))
	if o.has("attachments") {
		var ids []any
		for _, at := range o.objs("attachments") {
			ids = append(ids, at.str("instanceId"))
		}
		a["attached_instance_ids"] = awsUniq(ids)
	}
	return a
}

func normVPC(o obj) attrMap {
	a := attrMap{}
	a.setStr("vpc_id", o.get("vpcId", "id"))
	a.setStr("cidr_block", o.get("cidrBlock", "cidr_block"))
	a.setBool("is_default", o.get("isDefault", "default"))
	a.setStr("state", o.get("state"))
	return a
}

func normFlowLog(o obj) attrMap {
	a := attrMap{}
	a.setStr("flow_log_id", o.get("flowLogId", "id"))
	a.setStr("resource_id", o.get("resourceId", "vpc_id", "subnet_id", "eni_id", "transit_gateway_id"))
	a.setStr("traffic_type", o.get("trafficType", "traffic_type"))
	a.setStr("log_destination_type", o.get("logDestinationType", "log_destination_type"))
	a.setStr("log_destination", o.get("logDestination", "log_destination", "log_group_name"))
	a.setStr("status", o.get("flowLogStatus", "status"))
	return a
}

func normDBInstance(o obj) attrMap {
	a := attrMap{}
	a.setStr("db_instance_identifier", o.get("dBInstanceIdentifier", "identifier"))
	a.setStr("engine", o.get("engine"))
	a.setStr("engine_version", o.get("engineVersion"))
	a.setStr("db_instance_status", o.get("dBInstanceStatus", "status"))
	for _, k := range []string{"storage_encrypted", "publicly_accessible", "auto_minor_version_upgrade", "multi_az",
		"deletion_protection", "iam_database_authentication_enabled"} {
		a.setBool(k, o.get(k))
	}
	a.setStr("kms_key_id", o.get("kmsKeyId"))
	a.setInt("backup_retention_period", o.get("backupRetentionPeriod"))
	return a
}

func normEFS(o obj) attrMap {
	a := attrMap{}
	a.setStr("file_system_id", o.get("fileSystemId", "id"))
	a.setBool("encrypted", o.get("encrypted"))
	a.setStr("kms_key_id", o.get("kmsKeyId"))
	return a
}

func normTrail(o obj) attrMap {
	a := attrMap{}
	a.setStr("name", o.get("name"))
	a.setStr("home_region", o.get("homeRegion"))
	a.setStr("s3_bucket_name", o.get("s3_bucket_name"))
	a.setStr("kms_key_id", o.get("kms_key_id"))
	a.setStr("cloud_watch_logs_log_group_arn", o.get("cloud_watch_logs_log_group_arn", "cloud_watch_logs_group_arn"))
	for _, k := range []string{"is_multi_region_trail", "is_organization_trail", "include_global_service_events"} {
		a.setBool(k, o.get(k))
	}
	a.setBool("log_file_validation_enabled", o.get("logFileValidationEnabled", "enable_log_file_validation"))
	a.setBool("is_logging", o.get("isLogging", "enable_logging"))
	if o.has("eventSelectors", "event_selector") {
		sels := []any{}
		for _, s := range o.objs("eventSelectors", "event_selector") {
			sel := attrMap{}
			sel.setStr("read_write_type", s.get("readWriteType", "read_write_type"))
			sel.setBool("include_management_events", s.get("includeManagementEvents", "include_management_events"))
			drs := []any{}
			for _, dr := range s.objs("dataResources", "data_resource") {
				drs = append(drs, map[string]any{"type": dr.str("type"), "values": awsStrs(dr.get("values"))})
			}
			sel["data_resources"] = drs
			sels = append(sels, map[string]any(sel))
		}
		a["event_selectors"] = sels
	}
	if o.has("advancedEventSelectors", "advanced_event_selector") {
		sels := []any{}
		for _, s := range o.objs("advancedEventSelectors", "advanced_event_selector") {
			fs := []any{}
			for _, f := range s.objs("fieldSelectors", "field_selector") {
				n := map[string]any{"field": f.str("field")}
				for _, k := range []string{"equals", "not_equals", "starts_with", "not_starts_with", "ends_with", "not_ends_with"} {
					n[k] = awsStrs(f.get(k))
				}
				fs = append(fs, n)
			}
			sels = append(sels, map[string]any{"name": s.str("name"), "field_selectors": fs})
		}
		a["advanced_event_selectors"] = sels
	}
	return a
}

func normKMSKey(o obj) attrMap {
	a := attrMap{}
	a.setStr("key_id", o.get("keyId", "key_id", "id"))
	a.setStr("description", o.get("description"))
	a.setStr("key_manager", o.get("keyManager"))
	a.setStr("key_spec", o.get("keySpec", "customerMasterKeySpec", "customer_master_key_spec"))
	a.setStr("key_usage", o.get("keyUsage"))
	a.setStr("key_state", o.get("keyState"))
	a.setBool("key_rotation_enabled", o.get("keyRotationEnabled", "enable_key_rotation"))
	return a
}

func normAccountPAB(o obj) attrMap {
	a := attrMap{}
	for _, k := range []string{"block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"} {
		a.setBool(k, o.get(k))
	}
	return a
}

func normPasswordPolicy(o obj) attrMap {
	a := attrMap{}
	for _, k := range []string{"minimum_password_length", "max_password_age", "password_reuse_prevention"} {
		a.setInt(k, o.get(k))
	}
	for _, k := range []string{"require_symbols", "require_numbers", "require_uppercase_characters", "require_lowercase_characters",
		"allow_users_to_change_password", "expire_passwords", "hard_expiry"} {
		a.setBool(k, o.get(k))
	}
	return a
}

func normRecorder(o obj) attrMap {
	a := attrMap{}
	a.setStr("name", o.get("name"))
	a.setStr("role_arn", o.get("roleARN", "role_arn"))
	a.setBool("recording", o.get("recording", "is_enabled"))
	rg := o.get("recordingGroup", "recording_group")
	if l := awsList(rg); len(l) > 0 {
		if g := asObj(l[0]); g != nil {
			a.setBool("all_supported", g.get("allSupported", "all_supported"))
			a.setBool("include_global_resource_types", g.get("includeGlobalResourceTypes", "include_global_resource_types"))
			a.setStrs("resource_types", g.get("resourceTypes", "resource_types"))
		}
	}
	return a
}

func normGuardDuty(o obj) attrMap {
	a := attrMap{}
	a.setStr("detector_id", o.get("detectorId", "id"))
	if s := o.get("status"); s != nil {
		a["status"] = strings.ToUpper(awsStr(s))
	} else if b, ok := awsBool(o.get("enable")); ok && o.has("enable") {
		a["status"] = map[bool]string{true: "ENABLED", false: "DISABLED"}[b]
	}
	a.setStr("finding_publishing_frequency", o.get("findingPublishingFrequency"))
	if o.has("features") {
		fs := []any{}
		for _, f := range o.objs("features") {
			fs = append(fs, map[string]any{"name": f.str("name"), "status": strings.ToUpper(f.str("status"))})
		}
		a["features"] = fs
	}
	return a
}

func normAnalyzer(o obj) attrMap {
	a := attrMap{}
	a.setStr("analyzer_name", o.get("analyzerName", "analyzer_name", "name"))
	a.setStr("type", o.get("type"))
	a.setStr("status", o.get("status"))
	return a
}

// awsManagedPolicies reads attached managed policies given as AWS Config's
// [{policyName, policyArn}] list.
func awsManagedPolicies(v any) []any {
	out := []any{}
	for _, e := range awsList(v) {
		if m := asObj(e); m != nil {
			out = append(out, map[string]any{"policy_name": m.str("policyName"), "policy_arn": m.str("policyArn")})
		} else if s := awsStr(e); s != "" {
			out = append(out, map[string]any{"policy_name": s[strings.LastIndexByte(s, '/')+1:], "policy_arn": s})
		}
	}
	return out
}

// awsInlinePolicies reads inline policies given as [{policyName,
// policyDocument}].
func awsInlinePolicies(v any) ([]any, error) {
	out := []any{}
	for _, e := range awsList(v) {
		m := asObj(e)
		if m == nil {
			continue
		}
		doc, err := awsPolicyDoc(m.get("policyDocument", "policy"))
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", m.str("policyName", "name"), err)
		}
		out = append(out, map[string]any{"policy_name": m.str("policyName", "name"), "document": doc})
	}
	return out, nil
}

// normIAMPrincipal reads what users, groups and roles share in AWS
// Config's shape.
func normIAMPrincipal(o obj, nameKey, policyListKey string) (attrMap, error) {
	a := attrMap{}
	a.setStr(toSnake(nameKey), o.get(nameKey))
	a.setStr("path", o.get("path"))
	a.setTime("create_date", o.get("createDate"))
	if o.has("attachedManagedPolicies") {
		a["attached_managed_policies"] = awsManagedPolicies(o.get("attachedManagedPolicies"))
	}
	if o.has(policyListKey) {
		pols, err := awsInlinePolicies(o.get(policyListKey))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", policyListKey, err)
		}
		a["inline_policies"] = pols
	}
	return a, nil
}

func normIAMPolicy(o obj) (attrMap, error) {
	a := attrMap{}
	a.setStr("policy_name", o.get("policyName", "name"))
	a.setStr("path", o.get("path"))
	a.setInt("attachment_count", o.get("attachmentCount"))
	a.setBool("is_attachable", o.get("isAttachable"))
	a.setStr("default_version_id", o.get("defaultVersionId"))
	var doc any
	for _, v := range o.objs("policyVersionList") {
		if b, _ := awsBool(v.get("isDefaultVersion")); b {
			doc = v.get("document")
		}
	}
	if doc == nil {
		doc = o.get("policy", "document")
	}
	if doc != nil {
		d, err := awsPolicyDoc(doc)
		if err != nil {
			return nil, err
		}
		a["document"] = d
	}
	return a, nil
}

// awsCannedACLGrants returns the grants a canned ACL stands for (the
// owner's full control left out).
func awsCannedACLGrants(acl string) []any {
	const allUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
	const authUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	g := func(uri, perm string) any {
		return map[string]any{"grantee_type": "Group", "grantee_uri": uri, "grantee_id": "", "permission": perm}
	}
	switch acl {
	case "public-read":
		return []any{g(allUsers, "READ")}
	case "public-read-write":
		return []any{g(allUsers, "READ"), g(allUsers, "WRITE")}
	case "authenticated-read":
		return []any{g(authUsers, "READ")}
	case "log-delivery-write":
		return []any{g("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"), g("http://acs.amazonaws.com/groups/s3/LogDelivery", "READ_ACP")}
	}
	return []any{}
}

// awsACLPublic reports whether grants give anyone or any AWS user access.
func awsACLPublic(grants []any) bool {
	for _, g := range grants {
		m := asObj(g)
		if m == nil {
			continue
		}
		uri := strings.ToLower(m.str("grantee_uri"))
		if strings.HasSuffix(uri, "/allusers") || strings.HasSuffix(uri, "/authenticatedusers") {
			return true
		}
	}
	return false
}
