package inventory

import (
	"strings"
)

// Terraform alicloud_* resources normalized to the Alibaba Cloud shapes of
// README-alicloud.md. Terraform does not tell the account; UIDs are the
// resource ids (bucket and trail names), "terraform:<address>" in plans
// where the id is not known yet.

// tfAddAlicloud adds the alicloud types to the Terraform tables; the
// importer's init calls it before registering (its notes list the types).
func tfAddAlicloud() {
	for k, v := range map[string]tfPrimary{
		"alicloud_security_group":              {"ALIYUN::ECS::SecurityGroup", tfAliSecurityGroup},
		"alicloud_oss_bucket":                  {"ALIYUN::OSS::Bucket", tfAliBucket},
		"alicloud_ecs_disk":                    {"ALIYUN::ECS::Disk", tfAliDisk},
		"alicloud_disk":                        {"ALIYUN::ECS::Disk", tfAliDisk},
		"alicloud_instance":                    {"ALIYUN::ECS::Instance", tfAliInstance},
		"alicloud_vpc":                         {"ALIYUN::ECS::VPC", tfAliVPC},
		"alicloud_ram_account_password_policy": {"ALIYUN::RAM::PasswordPolicy", tfAliPasswordPolicy},
		"alicloud_actiontrail_trail":           {"ALIYUN::ActionTrail::Trail", tfAliTrail},
		"alicloud_db_instance":                 {"ALIYUN::RDS::DBInstance", tfAliDB},
	} {
		tfPrimaries[k] = v
	}
	for k, v := range map[string]tfCompanion{
		"alicloud_security_group_rule": {[]string{"alicloud_security_group"}, []string{"security_group_id"}, func(_ *tfDoc, p, c *tfRes) error {
			tfAppend(p.res.Attributes, "permissions", tfAliRule(c.values))
			return nil
		}},
		"alicloud_oss_bucket_acl": {[]string{"alicloud_oss_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
			p.res.Attributes["acl"] = c.values.str("acl")
			return nil
		}},
		"alicloud_oss_bucket_public_access_block": {[]string{"alicloud_oss_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
			attrMap(p.res.Attributes).setBool("block_public_access", c.values.get("block_public_access"))
			return nil
		}},
		"alicloud_oss_bucket_versioning": {[]string{"alicloud_oss_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
			p.res.Attributes["versioning"] = c.values.str("status")
			return nil
		}},
		"alicloud_oss_bucket_server_side_encryption": {[]string{"alicloud_oss_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
			p.res.Attributes["encryption"] = tfAliEncryption(c.values)
			return nil
		}},
		"alicloud_oss_bucket_logging": {[]string{"alicloud_oss_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
			t := c.values.str("target_bucket")
			p.res.Attributes["logging"] = map[string]any{"enabled": t != "", "target_bucket": t, "target_prefix": c.values.str("target_prefix")}
			return nil
		}},
		"alicloud_oss_bucket_policy": {[]string{"alicloud_oss_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
			return tfAliSetPolicy(p.res.Attributes, c.values.get("policy"))
		}},
		"alicloud_ecs_disk_attachment": {[]string{"alicloud_ecs_disk", "alicloud_disk"}, []string{"disk_id"}, tfAliAttach},
		"alicloud_disk_attachment":     {[]string{"alicloud_ecs_disk", "alicloud_disk"}, []string{"disk_id"}, tfAliAttach},
	} {
		tfCompanions[k] = v
	}
}

// tfPrimary is an entry of tfPrimaries.
type tfPrimary = struct {
	typ  string
	norm func(d *tfDoc, r *tfRes) (attrMap, error)
}

// tfAliFinish sets the uid and region of an alicloud resource.
func tfAliFinish(r *tfRes) {
	res := r.res
	id := r.values.str("id")
	switch res.Type {
	case "ALIYUN::OSS::Bucket":
		id = r.values.str("bucket")
	case "ALIYUN::ActionTrail::Trail":
		id = r.values.str("trail_name", "name")
	case "ALIYUN::RAM::PasswordPolicy":
		id = "" // the account id, which Terraform does not know
	}
	if id == "" {
		id = "terraform:" + r.address
	}
	res.UID = id
	res.Region = r.values.str("region", "region_id")
	if res.Region == "" && res.Type == "ALIYUN::OSS::Bucket" {
		res.Region = strings.TrimPrefix(r.values.str("location"), "oss-")
	}
	if res.Type == "ALIYUN::ECS::Instance" {
		for _, sg := range awsStrs(r.values.get("security_groups")) {
			res.Relationships = append(res.Relationships, Relationship{Type: "member_of", Target: sg.(string), TargetType: "ALIYUN::ECS::SecurityGroup"})
		}
	}
}

// tfAliRule normalizes an alicloud_security_group_rule (or an inline
// rule) to a permission of README-alicloud.md.
func tfAliRule(v obj) map[string]any {
	dir := strings.ToLower(v.str("type"))
	if dir == "" {
		dir = "ingress"
	}
	pr := v.str("port_range")
	from, to := int64(1), int64(65535)
	if a, b, ok := strings.Cut(pr, "/"); ok {
		fa, oka := awsInt(a)
		fb, okb := awsInt(b)
		if oka && okb && !(fa == -1 && fb == -1) {
			from, to = fa, fb
		}
	}
	p := map[string]any{
		"direction": dir, "policy": strings.ToLower(v.str("policy")), "ip_protocol": strings.ToLower(v.str("ip_protocol")),
		"port_range": pr, "port_from": from, "port_to": to,
		"nic_type": v.str("nic_type"), "description": v.str("description"),
	}
	if p["policy"] == "" {
		p["policy"] = "accept"
	}
	if i, ok := awsInt(v.get("priority")); ok {
		p["priority"] = i
	}
	if dir == "ingress" {
		p["source_cidr_ip"], p["ipv6_source_cidr_ip"] = v.str("cidr_ip"), v.str("ipv6_cidr_ip")
		p["source_group_id"], p["source_prefix_list_id"] = v.str("source_security_group_id"), v.str("prefix_list_id")
	} else {
		p["dest_cidr_ip"], p["ipv6_dest_cidr_ip"] = v.str("cidr_ip"), v.str("ipv6_cidr_ip")
		p["dest_group_id"] = v.str("source_security_group_id")
	}
	return p
}

func tfAliSecurityGroup(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{"permissions": []any{}}
	a.setStr("security_group_id", r.values.get("id"))
	a.setStr("security_group_name", r.values.get("security_group_name", "name"))
	a.setStr("description", r.values.get("description"))
	a.setStr("vpc_id", r.values.get("vpc_id"))
	a.setStr("security_group_type", r.values.get("security_group_type"))
	if p := r.values.str("inner_access_policy"); p != "" {
		a["inner_access_policy"] = p
	}
	return a, nil
}

func tfAliEncryption(v obj) map[string]any {
	alg := v.str("sse_algorithm")
	if alg == "" {
		alg = "None"
	}
	return map[string]any{"algorithm": alg, "kms_key_id": v.str("kms_master_key_id"), "kms_data_encryption": v.str("kms_data_encryption")}
}

func tfAliSetPolicy(attrs map[string]any, p any) error {
	doc, err := awsPolicyDoc(p)
	if err != nil {
		return &fieldError{"policy", err}
	}
	if doc != nil {
		attrs["policy"] = doc
		attrs["policy_exists"] = true
	}
	return nil
}

func tfAliBucket(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("name", r.values.get("bucket"))
	a.setStr("location", r.values.get("location"))
	a.setStr("storage_class", r.values.get("storage_class"))
	a.setStr("acl", r.values.get("acl"))
	if loc := r.values.str("location"); loc != "" {
		a["region_id"] = strings.TrimPrefix(loc, "oss-")
	}
	if e := tfBlock(r.values, "server_side_encryption_rule"); e != nil {
		a["encryption"] = tfAliEncryption(e)
	}
	if l := tfBlock(r.values, "logging"); l != nil {
		t := l.str("target_bucket")
		a["logging"] = map[string]any{"enabled": t != "", "target_bucket": t, "target_prefix": l.str("target_prefix")}
	}
	if v := tfBlock(r.values, "versioning"); v != nil {
		a["versioning"] = v.str("status")
	}
	if err := tfAliSetPolicy(a, r.values.get("policy")); err != nil {
		return nil, err
	}
	return a, nil
}

func tfAliDisk(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("disk_id", r.values.get("id"))
	a.setStr("disk_name", r.values.get("disk_name", "name"))
	a.setStr("zone_id", r.values.get("zone_id", "availability_zone"))
	a.setStr("category", r.values.get("category"))
	a.setInt("size", r.values.get("size"))
	a.setBool("encrypted", r.values.get("encrypted"))
	if _, ok := a["encrypted"]; !ok {
		a["encrypted"] = false // the argument defaults to false
	}
	a.setStr("kms_key_id", r.values.get("kms_key_id"))
	a.setBool("delete_with_instance", r.values.get("delete_with_instance"))
	a["attached"] = false
	a["instance_id"] = ""
	return a, nil
}

func tfAliAttach(_ *tfDoc, p, c *tfRes) error {
	if id := c.values.str("instance_id"); id != "" {
		p.res.Attributes["instance_id"] = id
		p.res.Attributes["attached"] = true
		p.res.Relationships = append(p.res.Relationships, Relationship{Type: "attached_to", Target: id, TargetType: "ALIYUN::ECS::Instance"})
	}
	return nil
}

func tfAliInstance(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("instance_id", r.values.get("id"))
	a.setStr("instance_name", r.values.get("instance_name"))
	a.setStr("instance_type", r.values.get("instance_type"))
	a.setStr("image_id", r.values.get("image_id"))
	a.setStr("vswitch_id", r.values.get("vswitch_id"))
	a.setStr("zone_id", r.values.get("availability_zone"))
	a.setInt("internet_max_bandwidth_out", r.values.get("internet_max_bandwidth_out"))
	a.setBool("deletion_protection", r.values.get("deletion_protection"))
	a.setStr("metadata_http_tokens", r.values.get("http_tokens"))
	if r.values.has("security_groups") {
		a["security_group_ids"] = awsStrs(r.values.get("security_groups"))
	}
	if ip := r.values.str("public_ip"); ip != "" {
		a["public_ip_addresses"] = []any{ip}
	}
	return a, nil
}

func tfAliVPC(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("vpc_id", r.values.get("id"))
	a.setStr("vpc_name", r.values.get("vpc_name", "name"))
	a.setStr("cidr_block", r.values.get("cidr_block"))
	return a, nil
}

func tfAliPasswordPolicy(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	for _, k := range []string{"minimum_password_length", "max_password_age", "password_reuse_prevention", "max_login_attempts"} {
		a.setInt(k, r.values.get(k))
	}
	for _, k := range []string{"require_lowercase_characters", "require_uppercase_characters", "require_numbers", "require_symbols", "hard_expiry"} {
		a.setBool(k, r.values.get(k))
	}
	return a, nil
}

func tfAliTrail(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("name", r.values.get("trail_name", "name"))
	a.setStr("trail_region", r.values.get("trail_region"))
	a.setStr("event_rw", r.values.get("event_rw"))
	a.setStr("status", r.values.get("status"))
	a.setStr("oss_bucket_name", r.values.get("oss_bucket_name"))
	a.setStr("oss_key_prefix", r.values.get("oss_key_prefix"))
	a.setStr("sls_project_arn", r.values.get("sls_project_arn"))
	a.setStr("sls_write_role_arn", r.values.get("sls_write_role_arn"))
	a.setBool("is_organization_trail", r.values.get("is_organization_trail"))
	if st, ok := a["status"].(string); ok {
		a["is_logging"] = strings.EqualFold(st, "Enable")
	}
	return a, nil
}

func tfAliDB(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("db_instance_id", r.values.get("id"))
	a.setStr("description", r.values.get("instance_name"))
	a.setStr("engine", r.values.get("engine"))
	a.setStr("engine_version", r.values.get("engine_version"))
	a.setStr("db_instance_class", r.values.get("instance_type"))
	a.setStr("vswitch_id", r.values.get("vswitch_id"))
	if r.values.has("security_ips") {
		a["security_ips"] = awsStrs(r.values.get("security_ips"))
	}
	if st := r.values.str("tde_status"); st != "" {
		a["tde_enabled"] = strings.EqualFold(st, "Enabled")
	}
	if st := r.values.str("ssl_action"); st != "" {
		a["ssl_enabled"] = strings.EqualFold(st, "Open") || strings.EqualFold(st, "Update")
	}
	a.setStr("tde_key_id", r.values.get("encryption_key"))
	return a, nil
}
