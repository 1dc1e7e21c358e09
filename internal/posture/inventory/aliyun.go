package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// AliyunFormat names the importer of Alibaba Cloud CLI (aliyun) output.
const AliyunFormat = "aliyun"

func init() {
	register(Importer{
		Name:    AliyunFormat,
		Title:   "Alibaba Cloud CLI (aliyun) describe/list/get output",
		Version: 1,
		Notes: "JSON documents as `aliyun <product> <Action>` prints them, optionally wrapped in " +
			"aliyun-call envelopes; ECS, VPC, OSS, RAM/ims, ActionTrail, SLS, RDS, ACK (cs) and Security Center (sas); " +
			"types and attributes in README-alicloud.md",
		Sniff:  SniffAliyun,
		Import: func(ctx context.Context, r io.Reader, emit Emit) error { return ImportAliyun(ctx, r, emit) },
	})
}

// ImportAliyun reads the JSON that `aliyun <product> <Action>` prints, one
// or more documents in a row (concatenated or one per line), optionally
// wrapped in call envelopes and preceded by context documents (see
// README-alicloud.md), and emits one [Resource] per Alibaba Cloud resource
// it describes, normalized to the shapes README-alicloud.md documents.
//
// Each call's output is a partial description; the importer merges the
// descriptions of the same resource ([Merge]) and emits each resource once,
// after the input ends, in first-seen order. A syntax error ends the input
// with an error and emits nothing; a document the importer cannot map (an
// unknown shape, a call that needs a parameter the input does not give) is
// reported in the returned error after the others are emitted.
func ImportAliyun(ctx context.Context, r io.Reader, emit Emit) error {
	imp := &aliyunImport{}
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for doc := 1; ; doc++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := dec.InputOffset()
		var v any
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("aliyun: document %d (byte %d): %w", doc, start, err)
		}
		if err := imp.document(v); err != nil {
			imp.errs = append(imp.errs, fmt.Errorf("aliyun: document %d (byte %d): %w", doc, start, err))
		}
	}
	for _, r := range imp.finish() {
		if err := emit(r); err != nil {
			return err
		}
	}
	return errors.Join(imp.errs...)
}

// SniffAliyun scores how much head looks like aliyun CLI output: 90 for
// Canopy's aliyun envelopes, 60–70 for a known response shape, 0 otherwise.
func SniffAliyun(head []byte) int {
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(head) == 0 || (head[0] != '{' && head[0] != '[') {
		return 0
	}
	if bytes.Contains(head, []byte(`"aliyun-call"`)) || bytes.Contains(head, []byte(`"aliyun-context"`)) {
		return 90
	}
	score := 0
	for _, m := range aliyunMarkers {
		if bytes.Contains(head, []byte(m)) {
			score = 60
			break
		}
	}
	if score == 0 && bytes.Contains(head, []byte(`"cluster_id"`)) &&
		(bytes.Contains(head, []byte(`"meta_data"`)) || bytes.Contains(head, []byte(`"master_url"`))) {
		score = 60
	}
	if score > 0 && bytes.Contains(head, []byte(`"RequestId"`)) {
		score += 10
	}
	return score
}

// aliyunMarkers are top-level keys (with their quotes and the colon that
// follows) that only aliyun responses use.
var aliyunMarkers = []string{
	`"Instances": {`, `"Instances":{`, `"Disks":`, `"SecurityGroups":`, `"SecurityGroupId":`,
	`"BucketInfo":`, `"ListAllMyBucketsResult":`, `"AccessControlPolicy":`, `"BucketLoggingStatus":`,
	`"ServerSideEncryptionRule":`, `"VersioningConfiguration":`,
	`"VirtualMFADevices":`, `"LoginProfile":`, `"PasswordPolicy":`, `"SecurityPreference":`,
	`"TrailList":`, `"DBInstance":`, `"DBInstanceAttribute":`, `"DBInstanceIPArray":`, `"TDEStatus":`,
	`"SQLCollectorStatus":`, `"RunningParameters":`, `"NoticeConfigList":`, `"TargetConfigs":`,
	`"Vpcs":`, `"FlowLogs":`, `"DefaultPolicyVersion":`, `"MachineList":`, `"GroupedFields":`,
	`"AliUid":`,
}

// aliyunImport is the state of one input.
type aliyunImport struct {
	account  string // from a context document
	region   string
	observed time.Time
	accounts map[string]bool // accounts the responses revealed
	partials []Resource
	errs     []error
	// mfaListed is set when the input lists the virtual MFA devices, so
	// users without one have none.
	mfaListed bool
}

// aliyunCall is one call's output with what is known about the call.
type aliyunCall struct {
	imp      *aliyunImport
	api      string // "product:Action" as matched (lower case)
	params   map[string]any
	account  string
	region   string
	observed time.Time
	resp     map[string]any
	arr      []any // a response that is a JSON array
}

func (imp *aliyunImport) document(v any) error {
	m, isMap := v.(map[string]any)
	c := &aliyunCall{imp: imp, account: imp.account, region: imp.region, observed: imp.observed}
	if isMap {
		switch str(m["canopy"]) {
		case "aliyun-context":
			if a := str(m["account"]); a != "" {
				imp.account = a
			}
			if r := str(m["region"]); r != "" {
				imp.region = r
			}
			if t, ok := timeish(m["observed_at"]); ok {
				imp.observed = t
			}
			return nil
		case "aliyun-call":
			c.api = strings.ToLower(str(m["api"]))
			c.params = asMap(m["params"])
			if a := str(m["account"]); a != "" {
				c.account = a
			}
			if r := str(m["region"]); r != "" {
				c.region = r
			}
			if t, ok := timeish(m["observed_at"]); ok {
				c.observed = t
			}
			switch resp := m["response"].(type) {
			case map[string]any:
				c.resp = resp
			case []any:
				c.arr = resp
			case nil:
				c.resp = map[string]any{}
			default:
				return fmt.Errorf("response: not an object")
			}
			if c.api == "" {
				c.api = detectAliyunAPI(c.resp, c.arr, c.params)
			}
			return c.dispatch()
		}
		c.resp = m
	} else if arr, ok := v.([]any); ok {
		c.arr = arr
	} else {
		return fmt.Errorf("not a JSON object or array")
	}
	c.api = detectAliyunAPI(c.resp, c.arr, nil)
	return c.dispatch()
}

func (c *aliyunCall) dispatch() error {
	if c.api == "" {
		return fmt.Errorf("unknown aliyun response shape (keys %s); wrap it in an aliyun-call envelope naming the api", keyList(c.resp))
	}
	h, ok := aliyunHandlers[c.api]
	if !ok {
		// Accept the action without its product, and any product for it.
		action := c.api[strings.IndexByte(c.api, ':')+1:]
		for k, hh := range aliyunHandlers {
			if strings.HasSuffix(k, ":"+action) {
				h, ok = hh, true
				break
			}
		}
	}
	if !ok {
		return fmt.Errorf("api %q: not supported", c.api)
	}
	if c.resp == nil {
		c.resp = map[string]any{}
	}
	if err := h(c); err != nil {
		return fmt.Errorf("%s: %w", c.api, err)
	}
	return nil
}

func keyList(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > 8 {
		keys = append(keys[:8], "…")
	}
	return strings.Join(keys, ", ")
}

// param returns the first of the named call parameters (case-insensitive).
func (c *aliyunCall) param(names ...string) string {
	for _, n := range names {
		if s := str(field(c.params, n)); s != "" {
			return s
		}
	}
	return ""
}

// need returns the named parameter or an error saying the envelope must
// give it.
func (c *aliyunCall) need(names ...string) (string, error) {
	if s := c.param(names...); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("params.%s: missing (this response does not name its resource; give it in the aliyun-call envelope)", names[0])
}

// sawAccount records an account the responses revealed.
func (c *aliyunCall) sawAccount(a string) {
	if a == "" {
		return
	}
	if c.imp.accounts == nil {
		c.imp.accounts = make(map[string]bool)
	}
	c.imp.accounts[a] = true
	if c.account == "" {
		c.account = a
	}
}

// put records a partial resource.
func (c *aliyunCall) put(typ, uid, region string, a attrs, mod ...func(*Resource)) {
	if uid == "" {
		c.imp.errs = append(c.imp.errs, fmt.Errorf("aliyun: %s: %s without an id skipped", c.api, typ))
		return
	}
	if region == "" && !globalAliyunType(typ) {
		region = c.region
	}
	r := Resource{
		Provider:   "alicloud",
		Account:    c.account,
		Region:     region,
		Type:       typ,
		UID:        uid,
		Attributes: map[string]any(a),
		Source:     AliyunFormat + ":" + c.api,
		ObservedAt: c.observed,
	}
	if r.Attributes == nil {
		r.Attributes = map[string]any{}
	}
	for _, f := range mod {
		f(&r)
	}
	c.imp.partials = append(c.imp.partials, r)
}

// accountUID is the UID of account-level resources.
func (c *aliyunCall) accountUID() string {
	if c.account != "" {
		return c.account
	}
	return "account"
}

func globalAliyunType(typ string) bool {
	return strings.HasPrefix(typ, "ALIYUN::RAM::") || typ == "ALIYUN::ThreatDetection::Settings" ||
		typ == AccountType("alicloud")
}

func withName(n string) func(*Resource) { return func(r *Resource) { r.Name = n } }

func withTags(t map[string]string) func(*Resource) {
	return func(r *Resource) {
		if len(t) > 0 {
			r.Tags = t
		}
	}
}

func withRel(typ, target, targetType string) func(*Resource) {
	return func(r *Resource) {
		if target != "" {
			r.Relationships = append(r.Relationships, Relationship{Type: typ, Target: target, TargetType: targetType})
		}
	}
}

// finish fills in the input's account where it is unambiguous, merges the
// partial descriptions and links resources that refer to each other.
func (imp *aliyunImport) finish() []Resource {
	only := ""
	if len(imp.accounts) == 1 {
		for a := range imp.accounts {
			only = a
		}
	}
	var m Merger
	for _, r := range imp.partials {
		if r.Account == "" && only != "" {
			r.Account = only
			switch {
			case r.Type == AccountType("alicloud"):
				r.UID = AccountUID("alicloud", only)
			case r.UID == "account" && isAccountLevel(r.Type):
				r.UID = only
			}
		}
		m.Add(r)
	}
	out := m.Resources()
	if imp.mfaListed {
		for i := range out {
			if out[i].Type == ramUser {
				if _, ok := out[i].Attributes["mfa_enabled"]; !ok {
					out[i].Attributes["mfa_enabled"] = false
					out[i].Attributes["mfa_devices"] = []any{}
				}
			}
		}
	}
	return out
}

func isAccountLevel(typ string) bool {
	switch typ {
	case "ALIYUN::RAM::PasswordPolicy", "ALIYUN::RAM::SecurityPreference", "ALIYUN::ThreatDetection::Settings":
		return true
	}
	return false
}

// detectAliyunAPI names the call that printed resp (or arr) from its shape.
func detectAliyunAPI(resp map[string]any, arr []any, params map[string]any) string {
	if arr != nil {
		for _, e := range arr {
			if has(asMap(e), "cluster_id") {
				return "cs:describeclusters"
			}
		}
		if len(arr) == 0 {
			return "cs:describeclusters"
		}
		return ""
	}
	switch {
	case has(resp, "Instances"):
		if _, isList := field(resp, "Instances").([]any); isList {
			return "sas:describecloudcenterinstances"
		}
		return "ecs:describeinstances"
	case has(resp, "Disks"):
		return "ecs:describedisks"
	case has(resp, "SecurityGroups"):
		return "ecs:describesecuritygroups"
	case has(resp, "Permissions") && has(resp, "SecurityGroupId"):
		return "ecs:describesecuritygroupattribute"
	case has(resp, "Vpcs"):
		return "vpc:describevpcs"
	case has(resp, "FlowLogs"):
		return "vpc:describeflowlogs"
	case has(resp, "BucketInfo"):
		return "oss:getbucketinfo"
	case has(resp, "ListAllMyBucketsResult"):
		return "oss:listbuckets"
	case has(resp, "AccessControlPolicy"):
		return "oss:getbucketacl"
	case has(resp, "ServerSideEncryptionRule"):
		return "oss:getbucketencryption"
	case has(resp, "BucketLoggingStatus"):
		return "oss:getbucketlogging"
	case has(resp, "VersioningConfiguration"):
		return "oss:getbucketversioning"
	case has(resp, "PolicyStatus"):
		return "oss:getbucketpolicystatus"
	case has(resp, "PublicAccessBlockConfiguration"):
		return "oss:getbucketpublicaccessblock"
	case has(resp, "Statement"):
		return "oss:getbucketpolicy"
	case has(resp, "Users"):
		return "ram:listusers"
	case has(resp, "User") && !has(resp, "VirtualMFADevices"):
		return "ram:getuser"
	case has(resp, "LoginProfile"):
		return "ram:getloginprofile"
	case has(resp, "VirtualMFADevices"):
		return "ram:listvirtualmfadevices"
	case has(resp, "MFADevice"):
		return "ram:getusermfainfo"
	case has(resp, "AccessKeys"):
		return "ram:listaccesskeys"
	case has(resp, "Policies"):
		if has(params, "UserName") {
			return "ram:listpoliciesforuser"
		}
		for _, p := range objects(field(resp, "Policies"), "Policy") {
			if has(p, "AttachDate") {
				return "ram:listpoliciesforuser"
			}
		}
		return "ram:listpolicies"
	case has(resp, "DefaultPolicyVersion") || (has(resp, "Policy") && has(asMap(field(resp, "Policy")), "PolicyName")):
		return "ram:getpolicy"
	case has(resp, "PolicyVersion"):
		return "ram:getpolicyversion"
	case has(resp, "Groups"):
		return "ram:listgroupsforuser"
	case has(resp, "PasswordPolicy"):
		return "ram:getpasswordpolicy"
	case has(resp, "SecurityPreference"):
		return "ram:getsecuritypreference"
	case has(resp, "Content") && has(resp, "GeneratedTime"):
		return "ims:getcredentialreport"
	case has(resp, "TrailList"):
		return "actiontrail:describetrails"
	case has(resp, "IsLogging"):
		return "actiontrail:gettrailstatus"
	case has(resp, "projects"):
		return "sls:listproject"
	case has(resp, "logstores"):
		return "sls:listlogstores"
	case has(resp, "logstoreName") && has(resp, "ttl"):
		return "sls:getlogstore"
	case has(resp, "projectName"):
		return "sls:getproject"
	case has(asMap(field(resp, "Items")), "DBInstance"):
		return "rds:describedbinstances"
	case has(asMap(field(resp, "Items")), "DBInstanceAttribute"):
		return "rds:describedbinstanceattribute"
	case has(asMap(field(resp, "Items")), "DBInstanceIPArray"):
		return "rds:describedbinstanceiparraylist"
	case has(resp, "SSLExpireTime") || has(resp, "SSLEnabled") || has(resp, "RequireUpdate"):
		return "rds:describedbinstancessl"
	case has(resp, "TDEStatus"):
		return "rds:describedbinstancetde"
	case has(resp, "SQLCollectorStatus"):
		return "rds:describesqlcollectorpolicy"
	case has(resp, "RunningParameters"):
		return "rds:describeparameters"
	case has(resp, "EncryptionKey"):
		return "rds:describedbinstanceencryptionkey"
	case has(resp, "ConfigValue"):
		return "rds:describesqlcollectorretention"
	case has(resp, "clusters"):
		return "cs:describeclustersv1"
	case has(resp, "cluster_id"):
		return "cs:describeclusterdetail"
	case has(resp, "nodepools"):
		return "cs:describeclusternodepools"
	case has(resp, "checks"):
		return "cs:describeclusterchecks"
	case has(resp, "addons"):
		return "cs:describeclusteraddonsversion"
	case has(resp, "NoticeConfigList"):
		return "sas:describenoticeconfig"
	case has(resp, "TargetConfigs"):
		return "sas:describevulconfig"
	case has(resp, "GroupedFields"):
		return "sas:describefieldstatistics"
	case has(resp, "MachineList"):
		return "sas:listuninstallaegismachines"
	case has(resp, "Version") && (has(resp, "IsTrialVersion") || has(resp, "HighestVersion") || has(resp, "AssetLevel")):
		return "sas:describeversionconfig"
	}
	return ""
}

// aliyunHandlers maps "product:action" (lower case) to the function that
// maps its response. It is never modified.
var aliyunHandlers = map[string]func(*aliyunCall) error{
	"ecs:describeinstances":              ecsDescribeInstances,
	"ecs:describedisks":                  ecsDescribeDisks,
	"ecs:describesecuritygroups":         ecsDescribeSecurityGroups,
	"ecs:describesecuritygroupattribute": ecsDescribeSecurityGroupAttribute,
	"vpc:describevpcs":                   vpcDescribeVpcs,
	"vpc:describeflowlogs":               vpcDescribeFlowLogs,

	"oss:listbuckets":                     ossListBuckets,
	"oss:getbucketinfo":                   ossGetBucketInfo,
	"oss:getbucketacl":                    ossGetBucketACL,
	"oss:getbucketpolicy":                 ossGetBucketPolicy,
	"oss:getbucketpolicystatus":           ossGetBucketPolicyStatus,
	"oss:getbucketencryption":             ossGetBucketEncryption,
	"oss:getbucketlogging":                ossGetBucketLogging,
	"oss:getbucketversioning":             ossGetBucketVersioning,
	"oss:getbucketpublicaccessblock":      ossGetBucketPublicAccessBlock,
	"ram:listusers":                       ramListUsers,
	"ram:getuser":                         ramGetUser,
	"ram:getloginprofile":                 ramGetLoginProfile,
	"ram:listvirtualmfadevices":           ramListVirtualMFADevices,
	"ram:getusermfainfo":                  ramGetUserMFAInfo,
	"ram:listaccesskeys":                  ramListAccessKeys,
	"ram:listpoliciesforuser":             ramListPoliciesForUser,
	"ram:listgroupsforuser":               ramListGroupsForUser,
	"ram:listpolicies":                    ramListPolicies,
	"ram:getpolicy":                       ramGetPolicy,
	"ram:getpolicyversion":                ramGetPolicyVersion,
	"ram:getpasswordpolicy":               ramGetPasswordPolicy,
	"ram:getsecuritypreference":           ramGetSecurityPreference,
	"ims:getcredentialreport":             imsGetCredentialReport,
	"actiontrail:describetrails":          actiontrailDescribeTrails,
	"actiontrail:gettrailstatus":          actiontrailGetTrailStatus,
	"sls:listproject":                     slsListProject,
	"sls:getproject":                      slsGetProject,
	"sls:listlogstores":                   slsListLogStores,
	"sls:getlogstore":                     slsGetLogStore,
	"rds:describedbinstances":             rdsDescribeDBInstances,
	"rds:describedbinstanceattribute":     rdsDescribeDBInstanceAttribute,
	"rds:describedbinstanceiparraylist":   rdsDescribeDBInstanceIPArrayList,
	"rds:describedbinstancessl":           rdsDescribeDBInstanceSSL,
	"rds:describedbinstancetde":           rdsDescribeDBInstanceTDE,
	"rds:describedbinstanceencryptionkey": rdsDescribeDBInstanceEncryptionKey,
	"rds:describesqlcollectorpolicy":      rdsDescribeSQLCollectorPolicy,
	"rds:describesqlcollectorretention":   rdsDescribeSQLCollectorRetention,
	"rds:describeparameters":              rdsDescribeParameters,
	"cs:describeclusters":                 csDescribeClusters,
	"cs:describeclustersv1":               csDescribeClusters,
	"cs:describeclusterdetail":            csDescribeClusters,
	"cs:describeclusternodepools":         csDescribeClusterNodePools,
	"cs:describeclusterchecks":            csDescribeClusterChecks,
	"cs:describeclusteraddonsversion":     csDescribeClusterAddons,
	"cs:listclusteraddoninstances":        csDescribeClusterAddons,
	"sas:describeversionconfig":           sasDescribeVersionConfig,
	"sas:describenoticeconfig":            sasDescribeNoticeConfig,
	"sas:describevulconfig":               sasDescribeVulConfig,
	"sas:describefieldstatistics":         sasDescribeFieldStatistics,
	"sas:describecloudcenterinstances":    sasDescribeCloudCenterInstances,
	"sas:listuninstallaegismachines":      sasListUninstallAegisMachines,
}
