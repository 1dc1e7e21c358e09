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

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
)

// AWSConfigFormat names the importer of AWS Config snapshots and query
// results.
const AWSConfigFormat = "aws-config"

func init() {
	register(Importer{
		Name:    AWSConfigFormat,
		Title:   "AWS Config snapshot, configuration items, or select-resource-config results",
		Version: 1,
		Notes: "Configuration snapshots ({fileVersion, configurationItems}), get-resource-config-history / " +
			"batch-get-resource-config output (configurationItems, baseConfigurationItems) and " +
			"select-resource-config output ({Results: [<JSON string>]}). Deleted items are skipped. " +
			"Normalized types: " + strings.Join(awsConfigTypeNames(), ", ") + "; other types keep their configuration, snake_cased.",
		Sniff:  sniffAWSConfig,
		Import: importAWSConfig,
	})
}

func sniffAWSConfig(head []byte) int {
	switch {
	case bytes.Contains(head, []byte(`"configurationItems"`)) || bytes.Contains(head, []byte(`"baseConfigurationItems"`)):
		return 90
	case bytes.Contains(head, []byte(`"Results"`)) && bytes.Contains(head, []byte(`resourceType\"`)):
		return 85
	}
	return 0
}

// awsConfigNormalizers maps the Config types README.md documents to their
// normalizer.
var awsConfigNormalizers = map[string]func(c *configItem) (attrMap, error){
	"AWS::S3::Bucket":                    configS3Bucket,
	"AWS::S3::AccountPublicAccessBlock":  func(c *configItem) (attrMap, error) { return normAccountPAB(c.conf), nil },
	"AWS::EC2::Instance":                 func(c *configItem) (attrMap, error) { return normInstance(c.conf), nil },
	"AWS::EC2::Volume":                   func(c *configItem) (attrMap, error) { return normVolume(c.conf), nil },
	"AWS::EC2::SecurityGroup":            func(c *configItem) (attrMap, error) { return normSecurityGroup(c.conf), nil },
	"AWS::EC2::NetworkAcl":               func(c *configItem) (attrMap, error) { return normNetworkACL(c.conf), nil },
	"AWS::EC2::VPC":                      func(c *configItem) (attrMap, error) { return normVPC(c.conf), nil },
	"AWS::EC2::FlowLog":                  func(c *configItem) (attrMap, error) { return normFlowLog(c.conf), nil },
	"AWS::RDS::DBInstance":               func(c *configItem) (attrMap, error) { return normDBInstance(c.conf), nil },
	"AWS::EFS::FileSystem":               func(c *configItem) (attrMap, error) { return normEFS(c.conf), nil },
	"AWS::CloudTrail::Trail":             func(c *configItem) (attrMap, error) { return normTrail(c.conf), nil },
	"AWS::KMS::Key":                      func(c *configItem) (attrMap, error) { return normKMSKey(c.conf), nil },
	"AWS::Config::ConfigurationRecorder": func(c *configItem) (attrMap, error) { return normRecorder(c.conf), nil },
	"AWS::GuardDuty::Detector":           func(c *configItem) (attrMap, error) { return normGuardDuty(c.conf), nil },
	"AWS::AccessAnalyzer::Analyzer":      func(c *configItem) (attrMap, error) { return normAnalyzer(c.conf), nil },
	"AWS::SecurityHub::Hub":              configHub,
	"AWS::IAM::User":                     configIAMUser,
	"AWS::IAM::Group":                    configIAMGroup,
	"AWS::IAM::Role":                     configIAMRole,
	"AWS::IAM::Policy":                   func(c *configItem) (attrMap, error) { return normIAMPolicy(c.conf) },
	"AWS::IAM::AccountPasswordPolicy":    func(c *configItem) (attrMap, error) { return normPasswordPolicy(c.conf), nil },
	"AWS::EC2::EBSEncryptionByDefault": func(c *configItem) (attrMap, error) {
		return attrMap(snakeValue(map[string]any(c.conf)).(map[string]any)), nil
	},
	"AWS::IAM::ServerCertificate": configServerCert,
	"AWS::EC2::Snapshot":          configSnapshot,
}

func awsConfigTypeNames() []string {
	var out []string
	for _, k := range sortedTypeKeys(awsConfigNormalizers) {
		if awsConfigNormalizers[k] != nil {
			out = append(out, k)
		}
	}
	return out
}

// configItem is one configuration item being read.
type configItem struct {
	ci      obj
	conf    obj
	sup     obj
	typ     string
	id      string
	account string
	region  string
}

func importAWSConfig(ctx context.Context, r io.Reader, emit Emit) error {
	err := jsonstream.Items(ctx, r, []string{"configurationItems", "baseConfigurationItems", "Results"}, func(it jsonstream.Item) error {
		res, skip, err := decodeConfigItem(it.Raw)
		if err != nil {
			re := &RecordError{Importer: AWSConfigFormat, Record: it.Index, Offset: it.Offset, Pointer: it.Pointer, Err: err}
			var fe *fieldError
			if errors.As(err, &fe) {
				re.Field, re.Err = fe.field, fe.err
			}
			return re
		}
		if skip {
			return nil
		}
		return emit(*res)
	})
	var se *jsonstream.SyntaxError
	if errors.As(err, &se) {
		return &RecordError{Importer: AWSConfigFormat, Offset: -1, Err: fmt.Errorf("%w: %v", ErrSyntax, se)}
	}
	return err
}

// decodeConfigItem maps one configuration item (an object, or a JSON
// string holding one as select-resource-config prints them).
func decodeConfigItem(raw []byte) (*Resource, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		raw = []byte(s)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, false, fmt.Errorf("%w: a configuration item is a JSON object: %v", ErrSyntax, err)
	}
	ci := obj(m)
	switch ci.str("configurationItemStatus") {
	case "ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded":
		return nil, true, nil
	}
	c := &configItem{ci: ci, typ: ci.str("resourceType"), id: ci.str("resourceId")}
	if c.typ == "" {
		return nil, false, &fieldError{"resourceType", ErrMissingField}
	}
	c.account = ci.str("awsAccountId", "accountId")
	c.region = ci.str("awsRegion")
	if c.region == "global" {
		c.region = ""
	}
	conf := ci.get("configuration")
	c.conf = asObj(conf)
	if conf != nil && c.conf == nil {
		if s, ok := conf.(string); !ok || (strings.TrimSpace(s) != "" && strings.TrimSpace(s) != "null") {
			return nil, false, &fieldError{"configuration", fmt.Errorf("%w: want an object", ErrInvalidValue)}
		}
	}
	if c.conf == nil {
		c.conf = obj{}
	}
	c.sup = ci.obj("supplementaryConfiguration")
	if c.sup == nil {
		c.sup = obj{}
	}
	uid := ci.str("ARN", "arn")
	if c.account == "" {
		c.account = arnAccount(uid)
	}
	res := &Resource{
		Provider: "aws",
		Account:  c.account,
		Region:   c.region,
		Type:     c.typ,
		UID:      uid,
		Name:     ci.str("resourceName"),
		Tags:     configTags(ci.get("tags")),
		Source:   AWSConfigFormat,
	}
	if t, ok := awsTime(ci.get("configurationItemCaptureTime")); ok {
		res.ObservedAt, _ = time.Parse(time.RFC3339, t)
	}
	norm, known := awsConfigNormalizers[c.typ]
	var attrs attrMap
	var err error
	if known && norm != nil {
		attrs, err = norm(c)
		if err != nil {
			return nil, false, &fieldError{"configuration", err}
		}
	} else {
		attrs = attrMap(snakeValue(map[string]any(c.conf)).(map[string]any))
		if len(c.sup) > 0 {
			sup := map[string]any{}
			for k, v := range c.sup {
				if m := asObj(v); m != nil {
					v = map[string]any(m)
				}
				sup[k] = v
			}
			attrs["supplementary"] = snakeValue(sup)
		}
	}
	res.Attributes = map[string]any(attrs)
	if res.UID == "" {
		res.UID = configFallbackUID(c)
	}
	if res.UID == "" {
		return nil, false, &fieldError{"ARN", fmt.Errorf("%w (and no resourceId)", ErrMissingField)}
	}
	res.Relationships = configRelationships(c)
	return res, false, nil
}

// configFallbackUID gives a uid to items without an ARN.
func configFallbackUID(c *configItem) string {
	switch c.typ {
	case "AWS::S3::Bucket":
		if name := c.ci.str("resourceName", "resourceId"); name != "" {
			return "arn:" + awsPartition(c.region) + ":s3:::" + name
		}
	case "AWS::S3::AccountPublicAccessBlock", "AWS::IAM::AccountPasswordPolicy":
		if c.account != "" {
			if c.typ == "AWS::IAM::AccountPasswordPolicy" {
				return "arn:" + awsPartition(c.region) + ":iam::" + c.account + ":account-password-policy"
			}
			return c.typ + ":" + c.account
		}
	case "AWS::Config::ConfigurationRecorder", "AWS::SecurityHub::Hub", "AWS::EC2::EBSEncryptionByDefault", "AWS::GuardDuty::Detector":
		if c.account != "" {
			uid := c.typ + ":" + c.account + ":" + c.region
			if c.typ == "AWS::Config::ConfigurationRecorder" || c.typ == "AWS::GuardDuty::Detector" {
				uid += ":" + c.ci.str("resourceName", "resourceId")
			}
			return uid
		}
	}
	if a := awsEC2ARN(c.region, c.account, c.id); a != "" {
		return a
	}
	return c.id
}

func configTags(v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			out[k] = awsStr(val)
		}
	case []any:
		for _, e := range x {
			if m := asObj(e); m != nil {
				if k := m.str("key"); k != "" {
					out[k] = m.str("value")
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// configRelationships maps Config's relationships ("Is associated with
// SecurityGroup", "Is attached to Instance", "Is contained in Vpc") to
// Canopy's relationship types (uses, attached_to, contained_in, contains).
func configRelationships(c *configItem) []Relationship {
	var out []Relationship
	for _, rel := range c.ci.objs("relationships") {
		name := strings.ToLower(rel.str("name", "relationshipName"))
		typ := ""
		switch {
		case strings.HasPrefix(name, "is associated with"):
			typ = "uses"
		case strings.HasPrefix(name, "is attached to"):
			typ = "attached_to"
		case strings.HasPrefix(name, "is contained in"):
			typ = "contained_in"
		case strings.HasPrefix(name, "contains"):
			typ = "contains"
		default:
			typ = toSnake(strings.ReplaceAll(strings.TrimSpace(name), " ", "_"))
		}
		id, tt := rel.str("resourceId"), rel.str("resourceType")
		target := awsEC2ARN(c.region, c.account, id)
		if tt == "AWS::S3::Bucket" {
			target = "arn:" + awsPartition(c.region) + ":s3:::" + rel.str("resourceName", "resourceId")
		}
		if target == "" {
			target = id
		}
		if target == "" {
			target = rel.str("resourceName")
		}
		if target == "" {
			continue
		}
		out = append(out, Relationship{Type: typ, Target: target, TargetType: tt})
	}
	return out
}

func configS3Bucket(c *configItem) (attrMap, error) {
	a := attrMap{}
	a.setStr("name", c.conf.get("name"))
	if _, ok := a["name"]; !ok {
		a.setStr("name", c.ci.get("resourceName"))
	}
	a.setTime("creation_date", c.conf.get("creationDate"))
	s := c.sup
	if pab := s.obj("PublicAccessBlockConfiguration"); pab != nil {
		a["public_access_block"] = map[string]any(normAccountPAB(pab))
	}
	if bp := s.obj("BucketPolicy"); bp != nil {
		if txt := bp.get("policyText"); txt != nil {
			doc, err := awsPolicyDoc(txt)
			if err != nil {
				return nil, &fieldError{"supplementaryConfiguration.BucketPolicy.policyText", err}
			}
			if doc != nil {
				a["policy"] = doc
			}
		}
	}
	if acl := s.obj("AccessControlList"); acl != nil {
		grants := []any{}
		for _, g := range acl.objs("grantList") {
			n := map[string]any{"permission": strings.ToUpper(toSnake(g.str("permission"))), "grantee_type": "", "grantee_id": "", "grantee_uri": ""}
			switch gr := g.get("grantee").(type) {
			case string: // "AllUsers", "AuthenticatedUsers", "LogDelivery"
				n["grantee_type"] = "Group"
				n["grantee_uri"] = configGroupURI(gr)
			default:
				if m := asObj(gr); m != nil {
					if id := m.str("id", "identifier"); id != "" {
						n["grantee_type"], n["grantee_id"] = "CanonicalUser", id
					}
					if uri := m.str("uri"); uri != "" {
						n["grantee_type"], n["grantee_uri"] = "Group", uri
					}
				}
			}
			grants = append(grants, n)
		}
		a["acl_grants"] = grants
		a["acl_public"] = awsACLPublic(grants)
	}
	if v := s.obj("BucketVersioningConfiguration"); v != nil {
		ver := map[string]any{"status": "Off", "mfa_delete": false}
		if st := v.str("status"); st != "" {
			ver["status"] = st
		}
		if b, ok := awsBool(v.get("isMfaDeleteEnabled")); ok {
			ver["mfa_delete"] = b
		}
		a["versioning"] = ver
	}
	if l := s.obj("BucketLoggingConfiguration"); l != nil {
		target := l.str("destinationBucketName")
		a["logging"] = map[string]any{"enabled": target != "", "target_bucket": target, "target_prefix": l.str("logFilePrefix")}
	}
	if e := s.obj("ServerSideEncryptionConfiguration"); e != nil {
		enc := map[string]any{"enabled": false}
		for _, r := range e.objs("rules") {
			d := r.obj("applyServerSideEncryptionByDefault")
			if d == nil {
				continue
			}
			enc["enabled"] = true
			enc["algorithm"] = d.str("sseAlgorithm")
			enc["kms_key_id"] = d.str("kmsMasterKeyID")
			if b, ok := awsBool(r.get("bucketKeyEnabled")); ok {
				enc["bucket_key_enabled"] = b
			}
		}
		a["encryption"] = enc
	}
	return a, nil
}

func configGroupURI(name string) string {
	switch strings.ToLower(name) {
	case "allusers":
		return "http://acs.amazonaws.com/groups/global/AllUsers"
	case "authenticatedusers":
		return "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	case "logdelivery":
		return "http://acs.amazonaws.com/groups/s3/LogDelivery"
	}
	return name
}

func configIAMUser(c *configItem) (attrMap, error) {
	a, err := normIAMPrincipal(c.conf, "userName", "userPolicyList")
	if err != nil {
		return nil, err
	}
	a.setStr("user_id", c.conf.get("userId"))
	if c.conf.has("groupList") {
		a["groups"] = awsStrs(c.conf.get("groupList"))
	}
	if pb := c.conf.obj("permissionsBoundary"); pb != nil {
		a.setStr("permissions_boundary", pb.get("permissionsBoundaryArn"))
	}
	return a, nil
}

func configIAMGroup(c *configItem) (attrMap, error) {
	return normIAMPrincipal(c.conf, "groupName", "groupPolicyList")
}

func configIAMRole(c *configItem) (attrMap, error) {
	a, err := normIAMPrincipal(c.conf, "roleName", "rolePolicyList")
	if err != nil {
		return nil, err
	}
	if d := c.conf.get("assumeRolePolicyDocument"); d != nil {
		doc, err := awsPolicyDoc(d)
		if err != nil {
			return nil, &fieldError{"configuration.assumeRolePolicyDocument", err}
		}
		a["assume_role_policy"] = doc
	}
	if c.conf.has("instanceProfileList") {
		var arns []any
		for _, p := range c.conf.objs("instanceProfileList") {
			arns = append(arns, p.str("arn"))
		}
		a["instance_profiles"] = awsUniq(arns)
	}
	return a, nil
}

func configHub(c *configItem) (attrMap, error) {
	a := attrMap{}
	a.setTime("subscribed_at", c.conf.get("subscribedAt"))
	a.setBool("auto_enable_controls", c.conf.get("autoEnableControls"))
	return a, nil
}

func configServerCert(c *configItem) (attrMap, error) {
	a := attrMap{}
	meta := c.conf.obj("serverCertificateMetadata")
	if meta == nil {
		meta = c.conf
	}
	a.setStr("server_certificate_name", meta.get("serverCertificateName"))
	a.setTime("expiration", meta.get("expiration"))
	a.setTime("upload_date", meta.get("uploadDate"))
	return a, nil
}

func configSnapshot(c *configItem) (attrMap, error) {
	a := attrMap{}
	a.setStr("snapshot_id", c.conf.get("snapshotId"))
	a.setStr("volume_id", c.conf.get("volumeId"))
	a.setBool("encrypted", c.conf.get("encrypted"))
	a.setStr("kms_key_id", c.conf.get("kmsKeyId"))
	a.setBool("public", c.conf.get("public"))
	return a, nil
}
