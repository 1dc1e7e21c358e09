package inventory

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ActionTrail, SLS, RDS, ACK (cs) and Security Center (sas) calls of the
// aliyun importer.

func actiontrailDescribeTrails(c *aliyunCall) error {
	for _, t := range objects(field(c.resp, "TrailList"), "") {
		name := str(field(t, "Name"))
		a := attrs{"name": name}
		for _, k := range []string{"HomeRegion", "TrailRegion", "Status", "OssBucketName", "OssBucketLocation",
			"OssKeyPrefix", "SlsProjectArn", "SlsWriteRoleArn"} {
			a.str(snake(k), field(t, k))
		}
		a.str("event_rw", field(t, "EventRW"))
		a.boolean("is_organization_trail", field(t, "IsOrganizationTrail"))
		a.time("create_time", field(t, "CreateTime"))
		a.time("update_time", field(t, "UpdateTime"))
		if !has(t, "IsLogging") {
			a["is_logging"] = strings.EqualFold(str(field(t, "Status")), "Enable")
		} else {
			a.boolean("is_logging", field(t, "IsLogging"))
		}
		arn := str(field(t, "SlsProjectArn"))
		c.sawAccount(accountFromARN(arn))
		project := ""
		if _, p, ok := strings.Cut(arn, ":project/"); ok {
			project = p
		}
		c.put("ALIYUN::ActionTrail::Trail", name, str(field(t, "HomeRegion")), a, withName(name),
			withRel("delivers_to", str(field(t, "OssBucketName")), ossBucket),
			withRel("delivers_to", project, "ALIYUN::SLS::Project"))
	}
	return nil
}

func actiontrailGetTrailStatus(c *aliyunCall) error {
	name, err := c.need("Name", "TrailName")
	if err != nil {
		return err
	}
	a := attrs{}
	a.boolean("is_logging", field(c.resp, "IsLogging"))
	a.time("latest_delivery_time", field(c.resp, "LatestDeliveryTime"))
	a.str("latest_delivery_error", field(c.resp, "LatestDeliveryError"))
	c.put("ALIYUN::ActionTrail::Trail", name, "", a, withName(name))
	return nil
}

func slsProjectAttrs(p map[string]any) attrs {
	a := attrs{}
	a.str("project_name", field(p, "projectName"))
	a.str("description", field(p, "description"))
	a.str("region_id", field(p, "region"))
	a.str("status", field(p, "status"))
	a.time("create_time", field(p, "createTime"))
	return a
}

func slsListProject(c *aliyunCall) error {
	for _, p := range objects(field(c.resp, "projects"), "") {
		name := str(field(p, "projectName"))
		c.put("ALIYUN::SLS::Project", name, str(field(p, "region")), slsProjectAttrs(p), withName(name))
	}
	return nil
}

func slsGetProject(c *aliyunCall) error {
	name := str(field(c.resp, "projectName"))
	c.put("ALIYUN::SLS::Project", name, str(field(c.resp, "region")), slsProjectAttrs(c.resp), withName(name))
	return nil
}

func slsListLogStores(c *aliyunCall) error {
	project, err := c.need("project", "ProjectName")
	if err != nil {
		return err
	}
	for _, ls := range list(field(c.resp, "logstores"), "") {
		name := str(ls)
		c.put("ALIYUN::SLS::Logstore", project+"/"+name, "",
			attrs{"project_name": project, "logstore_name": name}, withName(name),
			withRel("member_of", project, "ALIYUN::SLS::Project"))
	}
	return nil
}

func slsGetLogStore(c *aliyunCall) error {
	project := c.param("project", "ProjectName")
	if project == "" {
		project = str(field(c.resp, "projectName"))
	}
	if project == "" {
		return fmt.Errorf("params.project: missing (this response does not name its project; give it in the aliyun-call envelope)")
	}
	name := str(field(c.resp, "logstoreName"))
	a := attrs{"project_name": project, "logstore_name": name}
	a.integer("ttl", field(c.resp, "ttl"))
	a.integer("shard_count", field(c.resp, "shardCount"))
	a.boolean("enable_tracking", field(c.resp, "enable_tracking"))
	if enc := asMap(field(c.resp, "encrypt_conf")); enc != nil {
		a.boolean("encrypted", field(enc, "enable"))
	}
	a.time("create_time", field(c.resp, "createTime"))
	c.put("ALIYUN::SLS::Logstore", project+"/"+name, "", a, withName(name),
		withRel("member_of", project, "ALIYUN::SLS::Project"))
	return nil
}

const rdsInstance = "ALIYUN::RDS::DBInstance"

func rdsAttrs(d map[string]any) attrs {
	a := attrs{}
	a.str("db_instance_id", field(d, "DBInstanceId"))
	a.str("description", field(d, "DBInstanceDescription"))
	for _, k := range []string{"RegionId", "ZoneId", "VpcId", "VSwitchId", "Engine", "EngineVersion",
		"DBInstanceType", "DBInstanceClass", "ConnectionMode", "InstanceNetworkType", "ConnectionString"} {
		a.str(snake(k), field(d, k))
	}
	a.str("status", field(d, "DBInstanceStatus"))
	a.str("net_type", field(d, "DBInstanceNetType"))
	a.integer("port", field(d, "Port"))
	a.time("create_time", field(d, "CreateTime"))
	if has(d, "SecurityIPList") {
		a["security_ips"] = strList(field(d, "SecurityIPList"), "")
	}
	return a
}

func rdsDescribeDBInstances(c *aliyunCall) error {
	for _, d := range objects(path(c.resp, "Items"), "DBInstance") {
		id := str(field(d, "DBInstanceId"))
		c.put(rdsInstance, id, str(field(d, "RegionId")), rdsAttrs(d),
			withName(str(field(d, "DBInstanceDescription"))), withTags(tagsOf(field(d, "Tags"))))
	}
	return nil
}

func rdsDescribeDBInstanceAttribute(c *aliyunCall) error {
	for _, d := range objects(path(c.resp, "Items"), "DBInstanceAttribute") {
		id := str(field(d, "DBInstanceId"))
		c.put(rdsInstance, id, str(field(d, "RegionId")), rdsAttrs(d), withName(str(field(d, "DBInstanceDescription"))))
	}
	return nil
}

func (c *aliyunCall) rdsParam() (string, error) { return c.need("DBInstanceId", "InstanceId") }

func rdsDescribeDBInstanceIPArrayList(c *aliyunCall) error {
	id, err := c.rdsParam()
	if err != nil {
		return err
	}
	ips := []any{}
	groups := []any{}
	for _, g := range objects(path(c.resp, "Items"), "DBInstanceIPArray") {
		gl := strList(field(g, "SecurityIPList"), "")
		ips = append(ips, gl...)
		groups = append(groups, map[string]any{
			"name": str(field(g, "DBInstanceIPArrayName")), "ips": gl,
			"type": str(field(g, "SecurityIPType")), "attribute": str(field(g, "DBInstanceIPArrayAttribute")),
		})
	}
	c.put(rdsInstance, id, "", attrs{"security_ips": ips, "security_ip_arrays": groups})
	return nil
}

func rdsDescribeDBInstanceSSL(c *aliyunCall) error {
	id, err := c.rdsParam()
	if err != nil {
		return err
	}
	a := attrs{}
	if has(c.resp, "SSLEnabled") {
		a.boolean("ssl_enabled", field(c.resp, "SSLEnabled"))
	} else {
		a["ssl_enabled"] = str(field(c.resp, "ConnectionString")) != "" && str(field(c.resp, "SSLExpireTime")) != ""
	}
	a.boolean("ssl_force_encryption", field(c.resp, "ForceEncryption"))
	a.time("ssl_expire_time", field(c.resp, "SSLExpireTime"))
	c.put(rdsInstance, id, "", a)
	return nil
}

func rdsDescribeDBInstanceTDE(c *aliyunCall) error {
	id, err := c.rdsParam()
	if err != nil {
		return err
	}
	c.put(rdsInstance, id, "", attrs{"tde_enabled": strings.EqualFold(str(field(c.resp, "TDEStatus")), "Enabled")})
	return nil
}

func rdsDescribeDBInstanceEncryptionKey(c *aliyunCall) error {
	id, err := c.rdsParam()
	if err != nil {
		return err
	}
	a := attrs{}
	a.str("tde_key_id", field(c.resp, "EncryptionKey"))
	c.put(rdsInstance, id, "", a)
	return nil
}

func rdsDescribeSQLCollectorPolicy(c *aliyunCall) error {
	id, err := c.rdsParam()
	if err != nil {
		return err
	}
	a := attrs{"sql_audit_enabled": strings.EqualFold(str(field(c.resp, "SQLCollectorStatus")), "Enable")}
	if has(c.resp, "StoragePeriod") {
		a.integer("sql_audit_retention_days", field(c.resp, "StoragePeriod"))
	}
	c.put(rdsInstance, id, "", a)
	return nil
}

func rdsDescribeSQLCollectorRetention(c *aliyunCall) error {
	id, err := c.rdsParam()
	if err != nil {
		return err
	}
	a := attrs{}
	a.integer("sql_audit_retention_days", field(c.resp, "ConfigValue"))
	c.put(rdsInstance, id, "", a)
	return nil
}

func rdsDescribeParameters(c *aliyunCall) error {
	id, err := c.rdsParam()
	if err != nil {
		return err
	}
	params := map[string]any{}
	for _, p := range objects(field(c.resp, "RunningParameters"), "DBInstanceParameter") {
		params[str(field(p, "ParameterName"))] = str(field(p, "ParameterValue"))
	}
	a := attrs{"parameters": params}
	a.str("engine", field(c.resp, "Engine"))
	a.str("engine_version", field(c.resp, "EngineVersion"))
	c.put(rdsInstance, id, "", a)
	return nil
}

const csCluster = "ALIYUN::CS::KubernetesCluster"

func csDescribeClusters(c *aliyunCall) error {
	var clusters []map[string]any
	switch {
	case c.arr != nil:
		clusters = objects(c.arr, "")
	case has(c.resp, "clusters"):
		clusters = objects(field(c.resp, "clusters"), "")
	default:
		clusters = []map[string]any{c.resp}
	}
	for _, cl := range clusters {
		id := str(field(cl, "cluster_id"))
		a := attrs{}
		for _, k := range []string{"cluster_id", "name", "cluster_type", "profile", "cluster_spec", "region_id",
			"zone_id", "state", "current_version", "vpc_id", "security_group_id", "network_mode", "resource_group_id"} {
			a.str(k, field(cl, k))
		}
		if v := field(cl, "vswitch_ids"); v != nil {
			a["vswitch_ids"] = strList(v, "")
		} else if v := str(field(cl, "vswitch_id")); v != "" {
			a["vswitch_ids"] = strList(v, "")
		}
		a.boolean("deletion_protection", field(cl, "deletion_protection"))
		if has(cl, "master_url") {
			ep := ""
			if mu := jsonString(field(cl, "master_url")); mu != nil {
				ep = str(field(mu, "api_server_endpoint"))
			}
			a["api_server_public_endpoint"] = ep
			a["private_cluster"] = ep == ""
		}
		params := asMap(field(cl, "parameters"))
		if v := field(params, "CloudMonitorFlags"); v != nil {
			a.boolean("cloud_monitor_enabled", v)
		}
		rbac := true
		if am := strings.ToUpper(str(field(params, "authorization_mode"))); strings.Contains(am, "ABAC") && !strings.Contains(am, "RBAC") {
			rbac = false
		}
		if v := field(params, "RBACEnabled"); v != nil {
			rbac, _ = boolish(v)
		}
		a["rbac_enabled"] = rbac
		if md := jsonString(field(cl, "meta_data")); md != nil {
			addons := []any{}
			for _, ad := range objects(field(md, "Addons"), "") {
				addons = append(addons, addonOf(ad))
			}
			if len(addons) == 0 {
				// Older clusters list components as "<name>Version" keys.
				for k, v := range md {
					if n, ok := strings.CutSuffix(k, "Version"); ok && strings.ToLower(n[:1]) == n[:1] && n != "" {
						addons = append(addons, map[string]any{"name": n, "version": str(v), "disabled": false})
					}
				}
				sortAddons(addons)
			}
			a["audit_project_name"] = str(field(md, "AuditProjectName"))
			if v, ok := boolish(field(md, "RBACEnabled")); ok && has(md, "RBACEnabled") {
				a["rbac_enabled"] = v
			}
			setAddonFacts(a, addons)
		}
		c.put(csCluster, id, str(field(cl, "region_id")), a, withName(str(field(cl, "name"))),
			withTags(tagsOf(field(cl, "tags"))))
	}
	return nil
}

// jsonString decodes a JSON object printed as a string (ACK's master_url
// and meta_data), or returns an object given as one.
func jsonString(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

func addonOf(ad map[string]any) map[string]any {
	dis, _ := boolish(field(ad, "disabled"))
	if st := strings.ToLower(str(field(ad, "state"))); st == "uninstalled" || st == "disabled" {
		dis = true
	}
	return map[string]any{"name": str(field(ad, "name")), "version": str(field(ad, "version")), "disabled": dis}
}

func sortAddons(addons []any) {
	for i := 1; i < len(addons); i++ {
		for j := i; j > 0 && str(asMap(addons[j])["name"]) < str(asMap(addons[j-1])["name"]); j-- {
			addons[j], addons[j-1] = addons[j-1], addons[j]
		}
	}
}

// setAddonFacts derives the documented addon facts from an addon list.
func setAddonFacts(a attrs, addons []any) {
	a["addons"] = addons
	a["dashboard_enabled"] = false
	a["network_policy_enabled"] = false
	a["eni_multiple_ip"] = false
	plugin := ""
	logging := str(a["audit_project_name"]) != ""
	for _, x := range addons {
		ad := asMap(x)
		if ad["disabled"] == true {
			continue
		}
		switch name := str(ad["name"]); name {
		case "kubernetes-dashboard":
			a["dashboard_enabled"] = true
		case "terway-eniip", "terway-eni", "terway", "terway-controlplane":
			a["network_policy_enabled"] = true
			if name == "terway-eniip" {
				a["eni_multiple_ip"] = true
			}
			if plugin == "" || name == "terway-eniip" {
				plugin = name
			}
		case "flannel":
			if plugin == "" {
				plugin = name
			}
		case "logtail-ds", "loongcollector":
			logging = true
		}
	}
	a["network_plugin"] = plugin
	a["log_service_enabled"] = logging
}

func (c *aliyunCall) clusterParam() (string, error) { return c.need("ClusterId", "cluster_id") }

func csDescribeClusterNodePools(c *aliyunCall) error {
	id, err := c.clusterParam()
	if err != nil {
		return err
	}
	pools := objects(field(c.resp, "nodepools"), "")
	all := len(pools) > 0
	for _, p := range pools {
		if on, _ := boolish(path(p, "kubernetes_config", "cms_enabled")); !on {
			all = false
		}
	}
	c.put(csCluster, id, "", attrs{"cloud_monitor_enabled": all})
	return nil
}

func csDescribeClusterChecks(c *aliyunCall) error {
	id, err := c.clusterParam()
	if err != nil {
		return err
	}
	latest := ""
	for _, ch := range objects(field(c.resp, "checks"), "") {
		if !strings.EqualFold(str(field(ch, "status")), "Succeeded") {
			continue
		}
		if t, ok := timeish(field(ch, "finished_at")); ok && timeString(t) > latest {
			latest = timeString(t)
		}
	}
	// "" when the cluster has no successful check.
	c.put(csCluster, id, "", attrs{"last_check_time": latest})
	return nil
}

func csDescribeClusterAddons(c *aliyunCall) error {
	id, err := c.clusterParam()
	if err != nil {
		return err
	}
	addons := []any{}
	for _, ad := range objects(field(c.resp, "addons"), "") {
		addons = append(addons, addonOf(ad))
	}
	a := attrs{}
	setAddonFacts(a, addons)
	if a["log_service_enabled"] == false {
		delete(a, "log_service_enabled") // the audit project may still say so
	}
	c.put(csCluster, id, "", a)
	return nil
}

const sasSettings = "ALIYUN::ThreatDetection::Settings"

var sasEditions = map[int64]string{1: "Basic", 3: "Enterprise", 5: "Advanced", 6: "Anti-virus", 7: "Ultimate", 8: "Multi-version", 10: "Value-added plan"}

func sasDescribeVersionConfig(c *aliyunCall) error {
	a := attrs{}
	if v, ok := intish(field(c.resp, "Version")); ok {
		a["version"] = v
		if e, ok := sasEditions[v]; ok {
			a["edition"] = e
		} else {
			a["edition"] = fmt.Sprintf("Unknown (%d)", v)
		}
	}
	a.boolean("is_trial_version", field(c.resp, "IsTrialVersion"))
	c.put(sasSettings, c.accountUID(), "", a)
	return nil
}

func sasDescribeNoticeConfig(c *aliyunCall) error {
	notices := map[string]any{}
	for _, n := range objects(field(c.resp, "NoticeConfigList"), "") {
		c.sawAccount(str(field(n, "AliUid")))
		route, _ := intish(field(n, "Route"))
		limit, _ := intish(field(n, "TimeLimit"))
		notices[str(field(n, "Project"))] = map[string]any{"route": route, "time_limit": limit, "enabled": route != 0}
	}
	c.put(sasSettings, c.accountUID(), "", attrs{"notices": notices})
	return nil
}

func sasDescribeVulConfig(c *aliyunCall) error {
	cfg := map[string]any{}
	for _, t := range objects(field(c.resp, "TargetConfigs"), "") {
		cfg[str(field(t, "Type"))] = str(field(t, "Config"))
	}
	c.put(sasSettings, c.accountUID(), "", attrs{"vul_scan": cfg})
	return nil
}

func sasDescribeFieldStatistics(c *aliyunCall) error {
	g := asMap(field(c.resp, "GroupedFields"))
	a := attrs{}
	a.integer("instance_count", field(g, "InstanceCount"))
	a.integer("unprotected_instance_count", field(g, "UnprotectedInstanceCount"))
	a.integer("offline_instance_count", field(g, "OfflineInstanceCount"))
	c.put(sasSettings, c.accountUID(), "", a)
	return nil
}

func sasAsset(c *aliyunCall, m map[string]any, status string) {
	id := str(field(m, "InstanceId"))
	uid := id
	if uid == "" {
		uid = str(field(m, "Uuid"))
	}
	a := attrs{}
	for _, k := range []string{"InstanceId", "InstanceName", "Uuid", "RegionId", "AssetType", "Os", "InternetIp", "IntranetIp"} {
		a.str(snake(k), field(m, k))
	}
	if r := str(field(m, "MachineRegion")); r != "" && a["region_id"] == nil {
		a["region_id"] = r
	}
	a["client_status"] = status
	a["agent_installed"] = status != "uninstalled"
	region := str(a["region_id"])
	c.put("ALIYUN::ThreatDetection::Asset", uid, region, a, withName(str(field(m, "InstanceName"))),
		withRel("protects", id, "ALIYUN::ECS::Instance"))
	if strings.HasPrefix(id, "i-") {
		c.put("ALIYUN::ECS::Instance", id, region, attrs{"security_agent_status": status})
	}
}

func sasDescribeCloudCenterInstances(c *aliyunCall) error {
	for _, m := range objects(field(c.resp, "Instances"), "") {
		sasAsset(c, m, strings.ToLower(str(field(m, "ClientStatus"))))
	}
	return nil
}

func sasListUninstallAegisMachines(c *aliyunCall) error {
	for _, m := range objects(field(c.resp, "MachineList"), "") {
		sasAsset(c, m, "uninstalled")
	}
	return nil
}
