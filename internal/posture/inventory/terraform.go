package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
)

// TerraformFormat names the importer of `terraform show -json` output.
const TerraformFormat = "terraform"

func init() {
	tfAddAlicloud()
	register(Importer{
		Name:    TerraformFormat,
		Title:   "Terraform plan or state JSON (terraform show -json)",
		Version: 1,
		Notes: "Managed resources of planned_values (plan) or values (state), child modules included. aws_* resources " +
			"become the AWS types of the inventory README, companion resources (bucket settings, security group rules, " +
			"policy attachments …) merged into the resource they configure, found by value or, in plans, by the " +
			"configuration's references; alicloud_* resources become the Alibaba Cloud types of README-alicloud.md. Normalized: " + strings.Join(sortedTypeKeys(tfPrimaries), ", ") + " (with " +
			strings.Join(sortedTypeKeys(tfCompanions), ", ") + "); other resources are emitted as terraform::<type> " +
			"with their values",
		Sniff:  sniffTerraform,
		Import: importTerraform,
	})
}

func sniffTerraform(head []byte) int {
	if !bytes.Contains(head, []byte(`"format_version"`)) {
		return 0
	}
	for _, k := range []string{`"terraform_version"`, `"planned_values"`, `"root_module"`, `"values"`} {
		if bytes.Contains(head, []byte(k)) {
			return 90
		}
	}
	return 0
}

// tfRes is one Terraform resource being read.
type tfRes struct {
	address  string // with module prefix and index
	base     string // address without the index
	module   string // "module.a.module.b." or ""
	tfType   string
	provider string // aws, alicloud …
	values   obj
	res      *Resource // the normalized resource of a primary
	index    int       // document order
}

// tfDoc is the state of one document.
type tfDoc struct {
	resources []*tfRes
	byAddr    map[string][]*tfRes // base and full address → primaries
	byValue   map[string][]*tfRes // id, name, arn, bucket → primaries
	refs      map[string]map[string][]string
	account   string
	region    string
	errs      []error
}

// tfPrimaries normalize a resource into an inventory type; the returned
// uid may be "" (built later).
var tfPrimaries = map[string]struct {
	typ  string
	norm func(d *tfDoc, r *tfRes) (attrMap, error)
}{
	"aws_s3_bucket":                      {"AWS::S3::Bucket", tfS3Bucket},
	"aws_s3_account_public_access_block": {"AWS::S3::AccountPublicAccessBlock", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normAccountPAB(r.values), nil }},
	"aws_instance":                       {"AWS::EC2::Instance", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normInstance(r.values), nil }},
	"aws_ebs_volume":                     {"AWS::EC2::Volume", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normVolume(r.values), nil }},
	"aws_ebs_snapshot":                   {"AWS::EC2::Snapshot", tfSnapshot},
	"aws_ebs_encryption_by_default": {"AWS::EC2::EBSEncryptionByDefault", func(_ *tfDoc, r *tfRes) (attrMap, error) {
		a := attrMap{}
		a.setBool("enabled", r.values.get("enabled"))
		return a, nil
	}},
	"aws_security_group":         {"AWS::EC2::SecurityGroup", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normSecurityGroup(r.values), nil }},
	"aws_default_security_group": {"AWS::EC2::SecurityGroup", tfDefaultSG},
	"aws_network_acl":            {"AWS::EC2::NetworkAcl", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normNetworkACL(r.values), nil }},
	"aws_default_network_acl":    {"AWS::EC2::NetworkAcl", tfDefaultACL},
	"aws_vpc":                    {"AWS::EC2::VPC", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normVPC(r.values), nil }},
	"aws_default_vpc": {"AWS::EC2::VPC", func(_ *tfDoc, r *tfRes) (attrMap, error) {
		a := normVPC(r.values)
		a["is_default"] = true
		return a, nil
	}},
	"aws_flow_log":                      {"AWS::EC2::FlowLog", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normFlowLog(r.values), nil }},
	"aws_db_instance":                   {"AWS::RDS::DBInstance", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normDBInstance(r.values), nil }},
	"aws_efs_file_system":               {"AWS::EFS::FileSystem", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normEFS(r.values), nil }},
	"aws_cloudtrail":                    {"AWS::CloudTrail::Trail", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normTrail(r.values), nil }},
	"aws_kms_key":                       {"AWS::KMS::Key", tfKMSKey},
	"aws_iam_user":                      {"AWS::IAM::User", tfIAMUser},
	"aws_iam_group":                     {"AWS::IAM::Group", func(_ *tfDoc, r *tfRes) (attrMap, error) { return tfIAMBase(r, "group_name"), nil }},
	"aws_iam_role":                      {"AWS::IAM::Role", tfIAMRole},
	"aws_iam_policy":                    {"AWS::IAM::Policy", tfIAMPolicy},
	"aws_iam_account_password_policy":   {"AWS::IAM::AccountPasswordPolicy", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normPasswordPolicy(r.values), nil }},
	"aws_iam_server_certificate":        {"AWS::IAM::ServerCertificate", tfServerCert},
	"aws_accessanalyzer_analyzer":       {"AWS::AccessAnalyzer::Analyzer", tfAnalyzer},
	"aws_config_configuration_recorder": {"AWS::Config::ConfigurationRecorder", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normRecorder(r.values), nil }},
	"aws_securityhub_account":           {"AWS::SecurityHub::Hub", func(_ *tfDoc, r *tfRes) (attrMap, error) { return tfHub(r), nil }},
	"aws_guardduty_detector":            {"AWS::GuardDuty::Detector", func(_ *tfDoc, r *tfRes) (attrMap, error) { return normGuardDuty(r.values), nil }},
}

// tfCompanion merges a companion resource into the primaries it names.
type tfCompanion struct {
	targets []string // primary Terraform types
	keys    []string // value keys naming the primary (first found wins)
	apply   func(d *tfDoc, p, c *tfRes) error
}

var tfCompanions = map[string]tfCompanion{
	"aws_s3_bucket_public_access_block": {[]string{"aws_s3_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
		p.res.Attributes["public_access_block"] = map[string]any(normAccountPAB(c.values))
		return nil
	}},
	"aws_s3_bucket_versioning": {[]string{"aws_s3_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
		if vc := tfBlock(c.values, "versioning_configuration"); vc != nil {
			p.res.Attributes["versioning"] = tfVersioning(vc.str("status"), vc.get("mfa_delete"))
		}
		return nil
	}},
	"aws_s3_bucket_logging": {[]string{"aws_s3_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
		t := c.values.str("target_bucket")
		p.res.Attributes["logging"] = map[string]any{"enabled": t != "", "target_bucket": t, "target_prefix": c.values.str("target_prefix")}
		return nil
	}},
	"aws_s3_bucket_server_side_encryption_configuration": {[]string{"aws_s3_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
		p.res.Attributes["encryption"] = tfEncryption(c.values)
		return nil
	}},
	"aws_s3_bucket_policy": {[]string{"aws_s3_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
		doc, err := awsPolicyDoc(c.values.get("policy"))
		if err != nil {
			return &fieldError{"policy", err}
		}
		if doc != nil {
			p.res.Attributes["policy"] = doc
		}
		return nil
	}},
	"aws_s3_bucket_acl": {[]string{"aws_s3_bucket"}, []string{"bucket"}, func(_ *tfDoc, p, c *tfRes) error {
		tfSetACL(p.res.Attributes, c.values)
		return nil
	}},
	"aws_security_group_rule": {[]string{"aws_security_group", "aws_default_security_group"}, []string{"security_group_id"}, func(_ *tfDoc, p, c *tfRes) error {
		dir := "ingress"
		if c.values.str("type") == "egress" {
			dir = "egress"
		}
		tfAppend(p.res.Attributes, dir, awsPermissions([]obj{c.values})...)
		return nil
	}},
	"aws_vpc_security_group_ingress_rule": {[]string{"aws_security_group", "aws_default_security_group"}, []string{"security_group_id"}, func(_ *tfDoc, p, c *tfRes) error {
		tfAppend(p.res.Attributes, "ingress", awsPermissions([]obj{c.values})...)
		return nil
	}},
	"aws_vpc_security_group_egress_rule": {[]string{"aws_security_group", "aws_default_security_group"}, []string{"security_group_id"}, func(_ *tfDoc, p, c *tfRes) error {
		tfAppend(p.res.Attributes, "egress", awsPermissions([]obj{c.values})...)
		return nil
	}},
	"aws_network_acl_rule": {[]string{"aws_network_acl", "aws_default_network_acl"}, []string{"network_acl_id"}, func(_ *tfDoc, p, c *tfRes) error {
		tfAppend(p.res.Attributes, "entries", awsACLEntry(c.values, nil))
		return nil
	}},
	"aws_iam_user_policy_attachment":  {[]string{"aws_iam_user"}, []string{"user"}, tfAttachPolicy},
	"aws_iam_role_policy_attachment":  {[]string{"aws_iam_role"}, []string{"role"}, tfAttachPolicy},
	"aws_iam_group_policy_attachment": {[]string{"aws_iam_group"}, []string{"group"}, tfAttachPolicy},
	"aws_iam_user_policy":             {[]string{"aws_iam_user"}, []string{"user"}, tfInlinePolicy},
	"aws_iam_role_policy":             {[]string{"aws_iam_role"}, []string{"role"}, tfInlinePolicy},
	"aws_iam_group_policy":            {[]string{"aws_iam_group"}, []string{"group"}, tfInlinePolicy},
	"aws_iam_access_key": {[]string{"aws_iam_user"}, []string{"user"}, func(_ *tfDoc, p, c *tfRes) error {
		status := c.values.str("status")
		if status == "" {
			status = "Active"
		}
		k := attrMap{"access_key_id": c.values.str("id"), "status": status, "active": status == "Active"}
		k.setTime("create_date", c.values.get("create_date"))
		if t, ok := k["create_date"]; ok {
			k["last_rotated"] = t
		}
		tfAppend(p.res.Attributes, "access_keys", map[string]any(k))
		return nil
	}},
	"aws_iam_user_group_membership": {[]string{"aws_iam_user"}, []string{"user"}, func(_ *tfDoc, p, c *tfRes) error {
		tfAppend(p.res.Attributes, "groups", awsStrs(c.values.get("groups"))...)
		return nil
	}},
	"aws_volume_attachment": {[]string{"aws_ebs_volume"}, []string{"volume_id"}, func(d *tfDoc, p, c *tfRes) error {
		if id := c.values.str("instance_id"); id != "" {
			tfAppend(p.res.Attributes, "attached_instance_ids", id)
			d.relate(p, c, "instance_id", "attached_to", "aws_instance", "AWS::EC2::Instance")
		}
		return nil
	}},
	"aws_config_configuration_recorder_status": {[]string{"aws_config_configuration_recorder"}, []string{"name"}, func(_ *tfDoc, p, c *tfRes) error {
		if b, ok := awsBool(c.values.get("is_enabled")); ok {
			p.res.Attributes["recording"] = b
		}
		return nil
	}},
	"aws_ebs_default_kms_key": {[]string{"aws_ebs_encryption_by_default"}, nil, func(_ *tfDoc, p, c *tfRes) error {
		p.res.Attributes["kms_key_id"] = c.values.str("key_arn")
		return nil
	}},
	"aws_snapshot_create_volume_permission": {[]string{"aws_ebs_snapshot"}, []string{"snapshot_id"}, func(_ *tfDoc, p, c *tfRes) error {
		if strings.EqualFold(c.values.str("group"), "all") {
			p.res.Attributes["public"] = true
		}
		return nil
	}},
}

func importTerraform(ctx context.Context, r io.Reader, emit Emit) error {
	d := &tfDoc{byAddr: map[string][]*tfRes{}, byValue: map[string][]*tfRes{}, refs: map[string]map[string][]string{}}
	jr := jsonstream.NewReader(r)
	k, err := jr.Peek()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return tfSyntax(err)
	}
	if k != jsonstream.Object {
		return &RecordError{Importer: TerraformFormat, Offset: -1, Err: fmt.Errorf("%w: a Terraform JSON document is an object", ErrSyntax)}
	}
	err = jr.Members(func(key string) error {
		switch key {
		case "values", "planned_values":
			return d.readValues(ctx, jr)
		case "configuration":
			raw, err := jr.Raw()
			if err != nil {
				return err
			}
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil {
				d.readConfiguration(obj(m).obj("root_module"), "")
			}
			return nil
		case "provider_schemas":
			return &RecordError{Importer: TerraformFormat, Offset: -1, Err: fmt.Errorf("%w: this is `terraform providers schema -json` output, not a plan or state", ErrInvalidValue)}
		}
		return jr.Skip()
	})
	if err != nil {
		var re *RecordError
		if errors.As(err, &re) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return tfSyntax(err)
	}
	out, err := d.finish()
	if err != nil {
		return err
	}
	for _, res := range out {
		if err := emit(res); err != nil {
			return err
		}
	}
	return errors.Join(d.errs...)
}

func tfSyntax(err error) error {
	return &RecordError{Importer: TerraformFormat, Offset: -1, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
}

// readValues reads {root_module: {resources, child_modules}}; a plan may
// list both values and planned_values: the later wins per address.
func (d *tfDoc) readValues(ctx context.Context, jr *jsonstream.Reader) error {
	if k, err := jr.Peek(); err != nil || k != jsonstream.Object {
		if err != nil {
			return err
		}
		return jr.Skip()
	}
	return jr.Members(func(key string) error {
		if key != "root_module" {
			return jr.Skip()
		}
		return d.readModule(ctx, jr)
	})
}

func (d *tfDoc) readModule(ctx context.Context, jr *jsonstream.Reader) error {
	if k, err := jr.Peek(); err != nil || k != jsonstream.Object {
		if err != nil {
			return err
		}
		return jr.Skip()
	}
	return jr.Members(func(key string) error {
		switch key {
		case "resources":
			return jr.Elements(func() error {
				if len(d.resources)%256 == 255 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				ptr, off := jr.Pointer(), jr.Offset()
				raw, err := jr.Raw()
				if err != nil {
					return err
				}
				if err := d.addResource(raw); err != nil {
					re := &RecordError{Importer: TerraformFormat, Record: len(d.resources) + 1, Offset: off, Pointer: ptr, Err: err}
					var fe *fieldError
					if errors.As(err, &fe) {
						re.Field, re.Err = fe.field, fe.err
					}
					d.errs = append(d.errs, re)
				}
				return nil
			})
		case "child_modules":
			return jr.Elements(func() error { return d.readModule(ctx, jr) })
		}
		return jr.Skip()
	})
}

func (d *tfDoc) addResource(raw []byte) error {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("%w: a resource is a JSON object: %v", ErrSyntax, err)
	}
	o := obj(m)
	if o.str("mode") == "data" {
		return nil
	}
	r := &tfRes{address: o.str("address"), tfType: o.str("type"), values: o.obj("values"), index: len(d.resources)}
	if r.tfType == "" {
		return &fieldError{"type", ErrMissingField}
	}
	if r.address == "" {
		r.address = r.tfType + "." + o.str("name")
	}
	if r.values == nil {
		r.values = obj{}
	}
	r.base = r.address
	if i := strings.LastIndexByte(r.base, '['); i > 0 && strings.HasSuffix(r.base, "]") {
		r.base = r.base[:i]
	}
	r.module = tfModulePrefix(r.base)
	r.provider = tfProvider(o.str("provider_name"), r.tfType)
	for _, v := range []string{r.values.str("arn"), r.values.str("owner_id")} {
		if d.account == "" {
			d.account = arnAccount(v)
			if d.account == "" && awsIsAccount(v) {
				d.account = v
			}
		}
		if d.region == "" {
			d.region = arnRegion(v)
		}
	}
	d.resources = append(d.resources, r)
	return nil
}

// tfModulePrefix returns the module part of an address
// ("module.a.module.b[0]." of "module.a.module.b[0].aws_s3_bucket.x").
func tfModulePrefix(addr string) string {
	prefix := ""
	for strings.HasPrefix(addr, "module.") {
		rest := addr[len("module."):]
		end := 0
		depth := 0
		for end < len(rest) && (rest[end] != '.' || depth > 0) {
			switch rest[end] {
			case '[':
				depth++
			case ']':
				depth--
			}
			end++
		}
		if end >= len(rest) {
			break
		}
		prefix += "module." + rest[:end+1]
		addr = rest[end+1:]
	}
	return prefix
}

func tfProvider(name, typ string) string {
	if name != "" {
		name = name[strings.LastIndexByte(name, '/')+1:]
		if p := strings.TrimPrefix(name, "terraform-provider-"); p != "" {
			return p
		}
	}
	if p, _, _ := strings.Cut(typ, "_"); p != "" {
		return p
	}
	return "terraform"
}

// readConfiguration records, for each resource address, the addresses its
// expressions reference (plans only know companions' targets this way).
func (d *tfDoc) readConfiguration(mod obj, prefix string) {
	if mod == nil {
		return
	}
	for _, r := range mod.objs("resources") {
		addr := prefix + r.str("address")
		refs := map[string][]string{}
		for k, e := range r.obj("expressions") {
			for _, ref := range awsStrs(asObj(e).get("references")) {
				refs[k] = append(refs[k], ref.(string))
			}
		}
		d.refs[addr] = refs
	}
	for name, mc := range mod.obj("module_calls") {
		if m := asObj(mc); m != nil {
			d.readConfiguration(m.obj("module"), prefix+"module."+name+".")
		}
	}
}

// finish normalizes the primaries, merges the companions and returns the
// resources in document order.
func (d *tfDoc) finish() ([]Resource, error) {
	for _, r := range d.resources {
		p, ok := tfPrimaries[r.tfType]
		if !ok {
			continue
		}
		attrs, err := p.norm(d, r)
		if err != nil {
			d.errs = append(d.errs, &RecordError{Importer: TerraformFormat, Record: r.index + 1, Offset: -1, Pointer: r.address, Err: err})
			continue
		}
		provider := "aws"
		if strings.HasPrefix(p.typ, "ALIYUN::") {
			provider = "alicloud"
		}
		r.res = &Resource{Provider: provider, Type: p.typ, Name: tfName(r), Tags: tfTags(r.values), Attributes: map[string]any(attrs), Source: TerraformFormat}
		d.byAddr[r.address] = append(d.byAddr[r.address], r)
		if r.base != r.address {
			d.byAddr[r.base] = append(d.byAddr[r.base], r)
		}
		for _, k := range []string{"id", "arn", "name", "bucket", "trail_name"} {
			if v := r.values.str(k); v != "" {
				d.byValue[v] = append(d.byValue[v], r)
			}
		}
	}
	for _, c := range d.resources {
		comp, ok := tfCompanions[c.tfType]
		if !ok {
			continue
		}
		for _, p := range d.primariesOf(c, comp) {
			if err := comp.apply(d, p, c); err != nil {
				d.errs = append(d.errs, &RecordError{Importer: TerraformFormat, Record: c.index + 1, Offset: -1, Pointer: c.address, Err: err})
			}
		}
	}
	for _, c := range d.resources {
		if c.tfType == "aws_iam_policy_attachment" || c.tfType == "aws_iam_group_membership" {
			d.crossAttach(c)
		}
	}
	var out []Resource
	for _, r := range d.resources {
		switch {
		case r.res != nil:
			d.finishResource(r)
			out = append(out, *r.res)
		case tfCompanions[r.tfType].apply != nil, r.tfType == "aws_iam_policy_attachment", r.tfType == "aws_iam_group_membership":
		default:
			res := Resource{Provider: r.provider, Type: "terraform::" + r.tfType, UID: "terraform:" + r.address, Name: tfName(r),
				Tags: tfTags(r.values), Source: TerraformFormat}
			vals := map[string]any{}
			for k, v := range r.values {
				if k != "tags" && k != "tags_all" && v != nil {
					vals[k] = NormalizeValue(v)
				}
			}
			res.Attributes = vals
			if arn := r.values.str("arn"); arn != "" {
				res.UID = arn
				res.Account = arnAccount(arn)
				res.Region = arnRegion(arn)
			}
			if res.Provider == "aws" && res.Account == "" {
				res.Account = d.account
			}
			out = append(out, res)
		}
	}
	return out, nil
}

// primariesOf finds the primaries a companion configures: by the value of
// its key (a name, id or ARN), else by the address its configuration
// references.
func (d *tfDoc) primariesOf(c *tfRes, comp tfCompanion) []*tfRes {
	match := func(list []*tfRes) []*tfRes {
		var out []*tfRes
		for _, p := range list {
			if slices.Contains(comp.targets, p.tfType) && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
		return out
	}
	for _, k := range comp.keys {
		if v := c.values.str(k); v != "" {
			if out := match(d.byValue[v]); len(out) > 0 {
				return out
			}
		}
		for _, ref := range d.refs[c.module+strings.TrimPrefix(c.base, c.module)][k] {
			if out := match(d.byAddr[c.module+tfRefAddress(ref)]); len(out) > 0 {
				return out
			}
		}
	}
	if len(comp.keys) == 0 { // account-wide companions: every target
		var out []*tfRes
		for _, r := range d.resources {
			if slices.Contains(comp.targets, r.tfType) && r.res != nil {
				out = append(out, r)
			}
		}
		return out
	}
	return nil
}

// tfRefAddress turns a reference ("aws_s3_bucket.b.id", "aws_s3_bucket.b")
// into a resource address.
func tfRefAddress(ref string) string {
	parts := strings.Split(ref, ".")
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return ref
}

// crossAttach applies resources that name several primaries:
// aws_iam_policy_attachment (users, roles, groups ← policy_arn) and
// aws_iam_group_membership (users ← group).
func (d *tfDoc) crossAttach(c *tfRes) {
	find := func(key, tfType string) []*tfRes {
		var out []*tfRes
		for _, v := range awsStrs(c.values.get(key)) {
			for _, p := range d.byValue[v.(string)] {
				if p.tfType == tfType {
					out = append(out, p)
				}
			}
		}
		for _, ref := range d.refs[c.base][key] {
			for _, p := range d.byAddr[c.module+tfRefAddress(ref)] {
				if p.tfType == tfType && !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
		return out
	}
	if c.tfType == "aws_iam_group_membership" {
		group := c.values.str("group")
		for _, u := range find("users", "aws_iam_user") {
			tfAppend(u.res.Attributes, "groups", group)
		}
		return
	}
	n := 0
	for _, key := range []string{"users", "roles", "groups"} {
		for _, p := range find(key, "aws_iam_"+strings.TrimSuffix(key, "s")) {
			_ = tfAttachPolicy(d, p, c)
			n++
		}
	}
	if n == 0 {
		n = len(awsStrs(c.values.get("users"))) + len(awsStrs(c.values.get("roles"))) + len(awsStrs(c.values.get("groups")))
	}
	for _, p := range d.policyTargets(c) {
		cnt, _ := awsInt(p.res.Attributes["attachment_count"])
		p.res.Attributes["attachment_count"] = cnt + int64(n)
	}
}

// policyTargets returns the aws_iam_policy resources a policy_arn names.
func (d *tfDoc) policyTargets(c *tfRes) []*tfRes {
	var out []*tfRes
	if arn := c.values.str("policy_arn"); arn != "" {
		for _, p := range d.byValue[arn] {
			if p.tfType == "aws_iam_policy" {
				out = append(out, p)
			}
		}
	}
	for _, ref := range d.refs[c.base]["policy_arn"] {
		for _, p := range d.byAddr[c.module+tfRefAddress(ref)] {
			if p.tfType == "aws_iam_policy" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// relate adds a relationship from p to the primary that c's key names.
func (d *tfDoc) relate(p, c *tfRes, key, relType, tfType, targetType string) {
	var target *tfRes
	for _, t := range d.byValue[c.values.str(key)] {
		if t.tfType == tfType {
			target = t
		}
	}
	if target == nil {
		for _, ref := range d.refs[c.base][key] {
			for _, t := range d.byAddr[c.module+tfRefAddress(ref)] {
				if t.tfType == tfType {
					target = t
				}
			}
		}
	}
	id := c.values.str(key)
	uid := ""
	if target != nil {
		uid = target.values.str("arn")
		if uid == "" {
			uid = "terraform:" + target.address
		}
	} else if id != "" {
		uid = id
	}
	if uid != "" {
		p.res.Relationships = append(p.res.Relationships, Relationship{Type: relType, Target: uid, TargetType: targetType})
	}
}

// finishResource sets account, region and uid.
func (d *tfDoc) finishResource(r *tfRes) {
	res := r.res
	if res.Provider == "alicloud" {
		tfAliFinish(r)
		return
	}
	arn := r.values.str("arn")
	res.Account = arnAccount(arn)
	if res.Account == "" {
		res.Account = d.account
	}
	if !tfGlobal(res.Type) {
		res.Region = arnRegion(arn)
		if res.Region == "" {
			res.Region = r.values.str("region")
		}
		if res.Region == "" {
			res.Region = d.region
		}
	}
	id := r.values.str("id")
	switch {
	case res.Type == "AWS::S3::Bucket":
		if b := r.values.str("bucket"); b != "" {
			arn = "arn:" + awsPartition(res.Region) + ":s3:::" + b
		}
	case arn != "":
	case res.Type == "AWS::IAM::User" || res.Type == "AWS::IAM::Role" || res.Type == "AWS::IAM::Group" || res.Type == "AWS::IAM::Policy":
		if name := r.values.str("name"); name != "" && res.Account != "" {
			kind := strings.ToLower(strings.TrimPrefix(res.Type, "AWS::IAM::"))
			path := r.values.str("path")
			if path == "" {
				path = "/"
			}
			arn = "arn:" + awsPartition(d.region) + ":iam::" + res.Account + ":" + kind + path + name
		}
	case res.Type == "AWS::IAM::AccountPasswordPolicy" && res.Account != "":
		arn = "arn:" + awsPartition(d.region) + ":iam::" + res.Account + ":account-password-policy"
	case res.Type == "AWS::S3::AccountPublicAccessBlock" && res.Account != "":
		arn = res.Type + ":" + res.Account
	case (res.Type == "AWS::EC2::EBSEncryptionByDefault" || res.Type == "AWS::SecurityHub::Hub") && res.Account != "":
		arn = res.Type + ":" + res.Account + ":" + res.Region
	case res.Type == "AWS::Config::ConfigurationRecorder" && res.Account != "":
		arn = res.Type + ":" + res.Account + ":" + res.Region + ":" + r.values.str("name")
	case id != "":
		arn = awsEC2ARN(res.Region, res.Account, id)
	}
	if arn == "" {
		arn = "terraform:" + r.address
	}
	res.UID = arn
	if r.tfType == "aws_instance" {
		for _, sg := range awsStrs(r.values.get("vpc_security_group_ids")) {
			t := awsEC2ARN(res.Region, res.Account, sg.(string))
			if t == "" {
				t = sg.(string)
			}
			res.Relationships = append(res.Relationships, Relationship{Type: "uses", Target: t, TargetType: "AWS::EC2::SecurityGroup"})
		}
	}
}

func tfGlobal(typ string) bool {
	return strings.HasPrefix(typ, "AWS::IAM::") || typ == "AWS::S3::AccountPublicAccessBlock"
}

func tfName(r *tfRes) string {
	for _, k := range []string{"bucket", "name", "identifier", "group_name"} {
		if v := r.values.str(k); v != "" {
			return v
		}
	}
	if t := tfTags(r.values); t["Name"] != "" {
		return t["Name"]
	}
	return ""
}

func tfTags(v obj) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"tags_all", "tags"} {
		for tk, tv := range v.obj(k) {
			out[tk] = awsStr(tv)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// tfBlock returns the first element of a nested block (Terraform writes
// blocks as lists of objects).
func tfBlock(o obj, key string) obj {
	if l := o.list(key); len(l) > 0 {
		return asObj(l[0])
	}
	return nil
}

// tfAppend appends values to the list attribute key.
func tfAppend(attrs map[string]any, key string, vals ...any) {
	l, _ := attrs[key].([]any)
	for _, v := range vals {
		if s, ok := v.(string); ok && slices.Contains(l, any(s)) {
			continue
		}
		l = append(l, v)
	}
	if l == nil {
		l = []any{}
	}
	attrs[key] = l
}

func tfVersioning(status string, mfa any) map[string]any {
	v := map[string]any{"status": "Off", "mfa_delete": false}
	switch strings.ToLower(status) {
	case "enabled", "true":
		v["status"] = "Enabled"
	case "suspended":
		v["status"] = "Suspended"
	}
	if b, ok := awsBool(mfa); ok && mfa != nil {
		v["mfa_delete"] = b
	}
	return v
}

// tfEncryption reads server-side encryption from an
// aws_s3_bucket_server_side_encryption_configuration or the legacy inline
// block of aws_s3_bucket.
func tfEncryption(o obj) map[string]any {
	enc := map[string]any{"enabled": false}
	for _, r := range o.objs("rule") {
		d := tfBlock(r, "apply_server_side_encryption_by_default")
		if d == nil {
			continue
		}
		enc["enabled"] = true
		enc["algorithm"] = d.str("sse_algorithm")
		enc["kms_key_id"] = d.str("kms_master_key_id")
		if b, ok := awsBool(r.get("bucket_key_enabled")); ok && r.has("bucket_key_enabled") {
			enc["bucket_key_enabled"] = b
		}
	}
	return enc
}

func tfSetACL(attrs map[string]any, o obj) {
	grants := awsCannedACLGrants(o.str("acl"))
	if acp := tfBlock(o, "access_control_policy"); acp != nil {
		for _, g := range acp.objs("grant") {
			ge := tfBlock(g, "grantee")
			if ge == nil {
				continue
			}
			grants = append(grants, map[string]any{"grantee_type": ge.str("type"), "grantee_id": ge.str("id"), "grantee_uri": ge.str("uri"), "permission": g.str("permission")})
		}
	}
	for _, g := range o.objs("grant") { // legacy inline grants of aws_s3_bucket
		for _, perm := range awsStrs(g.get("permissions")) {
			grants = append(grants, map[string]any{"grantee_type": g.str("type"), "grantee_id": g.str("id"), "grantee_uri": g.str("uri"), "permission": perm})
		}
	}
	attrs["acl_grants"] = grants
	attrs["acl_public"] = awsACLPublic(grants)
}

func tfS3Bucket(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("name", r.values.get("bucket"))
	if r.values.has("acl") || r.values.has("grant") {
		tfSetACL(a, r.values)
	}
	if v := tfBlock(r.values, "versioning"); v != nil { // legacy inline blocks (AWS provider < 4)
		st := "Suspended"
		if b, _ := awsBool(v.get("enabled")); b {
			st = "Enabled"
		}
		a["versioning"] = tfVersioning(st, v.get("mfa_delete"))
	}
	if l := tfBlock(r.values, "logging"); l != nil {
		t := l.str("target_bucket")
		a["logging"] = map[string]any{"enabled": t != "", "target_bucket": t, "target_prefix": l.str("target_prefix")}
	}
	if e := tfBlock(r.values, "server_side_encryption_configuration"); e != nil {
		a["encryption"] = tfEncryption(e)
	}
	if p := r.values.get("policy"); p != nil {
		doc, err := awsPolicyDoc(p)
		if err != nil {
			return nil, &fieldError{"policy", err}
		}
		if doc != nil {
			a["policy"] = doc
		}
	}
	return a, nil
}

func tfSnapshot(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("snapshot_id", r.values.get("id"))
	a.setStr("volume_id", r.values.get("volume_id"))
	a.setBool("encrypted", r.values.get("encrypted"))
	a.setStr("kms_key_id", r.values.get("kms_key_id"))
	return a, nil
}

func tfDefaultSG(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := normSecurityGroup(r.values)
	a["group_name"] = "default"
	for _, k := range []string{"ingress", "egress"} { // a default group without blocks has no rules: Terraform removes them
		if _, ok := a[k]; !ok {
			a[k] = []any{}
		}
	}
	return a, nil
}

func tfDefaultACL(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := normNetworkACL(r.values)
	a["is_default"] = true
	return a, nil
}

func tfKMSKey(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := normKMSKey(r.values)
	a["key_manager"] = "CUSTOMER"
	if _, ok := a["key_state"]; !ok {
		if b, ok := awsBool(r.values.get("is_enabled")); ok && r.values.has("is_enabled") && !b {
			a["key_state"] = "Disabled"
		} else {
			a["key_state"] = "Enabled"
		}
	}
	if _, ok := a["key_spec"]; !ok {
		a["key_spec"] = "SYMMETRIC_DEFAULT"
	}
	if _, ok := a["key_rotation_enabled"]; !ok {
		a["key_rotation_enabled"] = false // the argument defaults to false
	}
	return a, nil
}

func tfIAMBase(r *tfRes, nameKey string) attrMap {
	a := attrMap{}
	a.setStr(nameKey, r.values.get("name"))
	a.setStr("path", r.values.get("path"))
	a.setTime("create_date", r.values.get("create_date"))
	a["attached_managed_policies"] = awsManagedPolicies(r.values.get("managed_policy_arns"))
	return a
}

func tfIAMUser(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := tfIAMBase(r, "user_name")
	a.setStr("user_id", r.values.get("unique_id"))
	a.setStr("permissions_boundary", r.values.get("permissions_boundary"))
	return a, nil
}

func tfIAMRole(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := tfIAMBase(r, "role_name")
	doc, err := awsPolicyDoc(r.values.get("assume_role_policy"))
	if err != nil {
		return nil, &fieldError{"assume_role_policy", err}
	}
	if doc != nil {
		a["assume_role_policy"] = doc
	}
	var inline []any
	for _, p := range r.values.objs("inline_policy") {
		if p.str("name") == "" {
			continue
		}
		d, err := awsPolicyDoc(p.get("policy"))
		if err != nil {
			return nil, &fieldError{"inline_policy", err}
		}
		inline = append(inline, map[string]any{"policy_name": p.str("name"), "document": d})
	}
	if inline != nil {
		a["inline_policies"] = inline
	}
	return a, nil
}

func tfIAMPolicy(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{"attachment_count": int64(0), "is_attachable": true}
	a.setStr("policy_name", r.values.get("name"))
	a.setStr("path", r.values.get("path"))
	doc, err := awsPolicyDoc(r.values.get("policy"))
	if err != nil {
		return nil, &fieldError{"policy", err}
	}
	if doc != nil {
		a["document"] = doc
	}
	return a, nil
}

func tfServerCert(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := attrMap{}
	a.setStr("server_certificate_name", r.values.get("name"))
	a.setTime("expiration", r.values.get("expiration"))
	a.setTime("upload_date", r.values.get("upload_date"))
	return a, nil
}

func tfAnalyzer(_ *tfDoc, r *tfRes) (attrMap, error) {
	a := normAnalyzer(r.values)
	if _, ok := a["status"]; !ok {
		a["status"] = "ACTIVE"
	}
	if _, ok := a["type"]; !ok {
		a["type"] = "ACCOUNT"
	}
	return a, nil
}

func tfHub(r *tfRes) attrMap {
	a := attrMap{}
	a.setBool("auto_enable_controls", r.values.get("auto_enable_controls"))
	return a
}

// tfAttachPolicy adds a managed policy attachment to a user, role or group
// and counts it on the customer-managed policy when the document has it.
func tfAttachPolicy(d *tfDoc, p, c *tfRes) error {
	arn := c.values.str("policy_arn")
	targets := d.policyTargets(c)
	if arn == "" && len(targets) > 0 {
		arn = targets[0].values.str("arn")
		if arn == "" {
			arn = "terraform:" + targets[0].address
		}
	}
	tfAppend(p.res.Attributes, "attached_managed_policies", awsManagedPolicies(arn)...)
	if c.tfType != "aws_iam_policy_attachment" {
		for _, t := range targets {
			cnt, _ := awsInt(t.res.Attributes["attachment_count"])
			t.res.Attributes["attachment_count"] = cnt + 1
		}
	}
	return nil
}

func tfInlinePolicy(_ *tfDoc, p, c *tfRes) error {
	doc, err := awsPolicyDoc(c.values.get("policy"))
	if err != nil {
		return &fieldError{"policy", err}
	}
	tfAppend(p.res.Attributes, "inline_policies", map[string]any{"policy_name": c.values.str("name"), "document": doc})
	return nil
}
