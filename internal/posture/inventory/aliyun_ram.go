package inventory

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"strings"
)

// RAM (and ims) calls of the aliyun importer.

const (
	ramUser   = "ALIYUN::RAM::User"
	ramPolicy = "ALIYUN::RAM::ManagedPolicy"
)

func (c *aliyunCall) putUser(name string, a attrs) {
	a["user_name"] = name
	c.put(ramUser, name, "", a, withName(name))
}

func userAttrs(u map[string]any) attrs {
	a := attrs{}
	a.str("user_id", field(u, "UserId"))
	a.str("display_name", field(u, "DisplayName"))
	a.str("comments", field(u, "Comments"))
	a.time("create_date", field(u, "CreateDate"))
	a.time("update_date", field(u, "UpdateDate"))
	a.time("last_login_date", field(u, "LastLoginDate"))
	return a
}

func ramListUsers(c *aliyunCall) error {
	for _, u := range objects(field(c.resp, "Users"), "User") {
		c.putUser(str(field(u, "UserName")), userAttrs(u))
	}
	return nil
}

func ramGetUser(c *aliyunCall) error {
	u := asMap(field(c.resp, "User"))
	name := str(field(u, "UserName"))
	if name == "" {
		name = c.param("UserName")
	}
	c.putUser(name, userAttrs(u))
	return nil
}

func ramGetLoginProfile(c *aliyunCall) error {
	lp := asMap(field(c.resp, "LoginProfile"))
	name := str(field(lp, "UserName"))
	if name == "" {
		var err error
		if name, err = c.need("UserName"); err != nil {
			return err
		}
	}
	a := attrs{"console_access": lp != nil}
	a.boolean("password_reset_required", field(lp, "PasswordResetRequired"))
	a.boolean("mfa_bind_required", field(lp, "MFABindRequired"))
	c.putUser(name, a)
	return nil
}

func ramListVirtualMFADevices(c *aliyunCall) error {
	c.imp.mfaListed = true
	devices := map[string][]any{}
	var order []string
	for _, d := range objects(field(c.resp, "VirtualMFADevices"), "VirtualMFADevice") {
		serial := str(field(d, "SerialNumber"))
		c.sawAccount(accountFromARN(serial))
		user := str(path(d, "User", "UserName"))
		if user == "" {
			continue // not bound to a user
		}
		if _, ok := devices[user]; !ok {
			order = append(order, user)
		}
		devices[user] = append(devices[user], serial)
	}
	for _, u := range order {
		c.putUser(u, attrs{"mfa_enabled": true, "mfa_devices": devices[u]})
	}
	return nil
}

func ramGetUserMFAInfo(c *aliyunCall) error {
	name, err := c.need("UserName")
	if err != nil {
		return err
	}
	serial := str(path(c.resp, "MFADevice", "SerialNumber"))
	c.sawAccount(accountFromARN(serial))
	a := attrs{"mfa_enabled": serial != "", "mfa_devices": []any{}}
	if serial != "" {
		a["mfa_devices"] = []any{serial}
	}
	c.putUser(name, a)
	return nil
}

func ramListAccessKeys(c *aliyunCall) error {
	name, err := c.need("UserName")
	if err != nil {
		return err
	}
	keys := []any{}
	for _, k := range objects(field(c.resp, "AccessKeys"), "AccessKey") {
		a := attrs{}
		a.str("access_key_id", field(k, "AccessKeyId"))
		a.str("status", field(k, "Status"))
		a.time("create_date", field(k, "CreateDate"))
		a.time("last_used_date", field(k, "LastUsedDate"))
		keys = append(keys, map[string]any(a))
	}
	c.putUser(name, attrs{"access_keys": keys})
	return nil
}

func ramListPoliciesForUser(c *aliyunCall) error {
	name, err := c.need("UserName")
	if err != nil {
		return err
	}
	pols := []any{}
	for _, p := range objects(field(c.resp, "Policies"), "Policy") {
		pols = append(pols, map[string]any{
			"policy_name": str(field(p, "PolicyName")),
			"policy_type": str(field(p, "PolicyType")),
		})
	}
	c.putUser(name, attrs{"attached_policies": pols})
	return nil
}

func ramListGroupsForUser(c *aliyunCall) error {
	name, err := c.need("UserName")
	if err != nil {
		return err
	}
	groups := []any{}
	for _, g := range objects(field(c.resp, "Groups"), "Group") {
		groups = append(groups, str(field(g, "GroupName")))
	}
	c.putUser(name, attrs{"groups": groups})
	return nil
}

func policyAttrs(p map[string]any) attrs {
	a := attrs{}
	a.str("policy_name", field(p, "PolicyName"))
	a.str("policy_type", field(p, "PolicyType"))
	a.str("description", field(p, "Description"))
	a.str("default_version", field(p, "DefaultVersion"))
	a.integer("attachment_count", field(p, "AttachmentCount"))
	a.time("create_date", field(p, "CreateDate"))
	a.time("update_date", field(p, "UpdateDate"))
	return a
}

func (c *aliyunCall) putPolicy(typ, name string, a attrs) {
	if typ == "" {
		typ = "Custom"
	}
	a["policy_name"], a["policy_type"] = name, typ
	c.put(ramPolicy, typ+"/"+name, "", a, withName(name))
}

func ramListPolicies(c *aliyunCall) error {
	for _, p := range objects(field(c.resp, "Policies"), "Policy") {
		c.putPolicy(str(field(p, "PolicyType")), str(field(p, "PolicyName")), policyAttrs(p))
	}
	return nil
}

func ramGetPolicy(c *aliyunCall) error {
	p := asMap(field(c.resp, "Policy"))
	a := policyAttrs(p)
	doc := path(c.resp, "DefaultPolicyVersion", "PolicyDocument")
	if doc == nil {
		doc = field(p, "PolicyDocument")
	}
	if doc != nil {
		d, err := normalizePolicy(doc)
		if err != nil {
			return err
		}
		a["document"] = d
	}
	name := str(field(p, "PolicyName"))
	if name == "" {
		name = c.param("PolicyName")
	}
	typ := str(field(p, "PolicyType"))
	if typ == "" {
		typ = c.param("PolicyType")
	}
	c.putPolicy(typ, name, a)
	return nil
}

func ramGetPolicyVersion(c *aliyunCall) error {
	name, err := c.need("PolicyName")
	if err != nil {
		return err
	}
	v := asMap(field(c.resp, "PolicyVersion"))
	if d, ok := boolish(field(v, "IsDefaultVersion")); ok && !d {
		return nil // only the default version is the policy's document
	}
	doc, err := normalizePolicy(field(v, "PolicyDocument"))
	if err != nil {
		return err
	}
	a := attrs{"document": doc}
	a.str("default_version", field(v, "VersionId"))
	c.putPolicy(c.param("PolicyType"), name, a)
	return nil
}

func ramGetPasswordPolicy(c *aliyunCall) error {
	p := asMap(field(c.resp, "PasswordPolicy"))
	a := attrs{}
	a.integer("minimum_password_length", field(p, "MinimumPasswordLength"))
	for _, k := range []string{"RequireLowercaseCharacters", "RequireUppercaseCharacters", "RequireNumbers",
		"RequireSymbols", "HardExpiry", "PasswordNotContainUserName"} {
		a.boolean(snake(k), field(p, k))
	}
	if !has(p, "HardExpiry") {
		a.boolean("hard_expiry", field(p, "HardExpire"))
	}
	a.integer("max_password_age", field(p, "MaxPasswordAge"))
	a.integer("password_reuse_prevention", field(p, "PasswordReusePrevention"))
	if has(p, "MaxLoginAttemps") {
		a.integer("max_login_attempts", field(p, "MaxLoginAttemps"))
	} else {
		a.integer("max_login_attempts", field(p, "MaxLoginAttempts"))
	}
	a.integer("minimum_password_different_character", field(p, "MinimumPasswordDifferentCharacter"))
	c.put("ALIYUN::RAM::PasswordPolicy", c.accountUID(), "", a)
	return nil
}

func ramGetSecurityPreference(c *aliyunCall) error {
	p := asMap(field(c.resp, "SecurityPreference"))
	a := attrs{}
	lp := asMap(field(p, "LoginProfilePreference"))
	a.boolean("enable_save_mfa_ticket", field(lp, "EnableSaveMFATicket"))
	a.boolean("allow_user_to_change_password", field(lp, "AllowUserToChangePassword"))
	a.integer("login_session_duration", field(lp, "LoginSessionDuration"))
	if has(lp, "LoginNetworkMasks") {
		a["login_network_masks"] = strList(strings.ReplaceAll(str(field(lp, "LoginNetworkMasks")), ";", ","), "")
	}
	a.str("mfa_operation_for_login", field(lp, "MFAOperationForLogin"))
	a.boolean("allow_user_to_manage_access_keys", path(p, "AccessKeyPreference", "AllowUserToManageAccessKeys"))
	a.boolean("allow_user_to_manage_mfa_devices", path(p, "MFAPreference", "AllowUserToManageMFADevices"))
	a.boolean("allow_user_to_manage_public_keys", path(p, "PublicKeyPreference", "AllowUserToManagePublicKeys"))
	c.put("ALIYUN::RAM::SecurityPreference", c.accountUID(), "", a)
	return nil
}

// imsGetCredentialReport reads the credential report: base64 of a CSV with
// one row per RAM user and a "<root>" row for the main account.
func imsGetCredentialReport(c *aliyunCall) error {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(str(field(c.resp, "Content"))))
	if err != nil {
		return fmt.Errorf("Content: %w", err)
	}
	if t, ok := timeish(field(c.resp, "GeneratedTime")); ok && c.observed.IsZero() {
		c.observed = t
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return fmt.Errorf("Content: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	if _, ok := col["user"]; !ok {
		return fmt.Errorf("Content: no %q column", "user")
	}
	for _, row := range rows[1:] {
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(row) {
				return strings.TrimSpace(row[i])
			}
			return ""
		}
		known := func(s string) bool { return s != "" && s != "N/A" && s != "-" && s != "LOGIN_DISABLED" }
		a := attrs{}
		if v := get("user_last_logon"); known(v) {
			a.time("last_login_date", v)
		}
		if v := get("mfa_active"); v != "" {
			b, _ := boolish(v)
			a["mfa_enabled"] = b
		}
		keys := []any{}
		for _, p := range []string{"access_key_1", "access_key_2", "additional_access_key_1", "additional_access_key_2", "additional_access_key_3"} {
			if ex, _ := boolish(get(p + "_exist")); !ex {
				continue
			}
			k := attrs{"access_key_id": ""}
			status := "Inactive"
			if act, _ := boolish(get(p + "_active")); act {
				status = "Active"
			}
			k["status"] = status
			if v := get(p + "_last_rotated"); known(v) {
				k.time("create_date", v)
			}
			if v := get(p + "_last_used"); known(v) {
				k.time("last_used_date", v)
			}
			keys = append(keys, map[string]any(k))
		}
		a["access_keys"] = keys
		user := get("user")
		if user == "<root>" || user == "root" || user == "<root_account>" {
			c.put(AccountType("alicloud"), AccountUID("alicloud", c.account), "", rootAttrs(a))
			continue
		}
		pw := get("password_exist")
		ex, _ := boolish(pw)
		a["console_access"] = ex && pw != "LOGIN_DISABLED"
		if v := get("password_last_changed"); known(v) {
			a.time("password_last_changed", v)
		}
		if v := get("user_creation_time"); known(v) {
			a.time("create_date", v)
		}
		c.putUser(user, a)
	}
	return nil
}

// rootAttrs names the credential report's facts about the main account as
// attributes of the account resource.
func rootAttrs(a attrs) attrs {
	out := attrs{}
	if v, ok := a["mfa_enabled"]; ok {
		out["root_mfa_enabled"] = v
	}
	if v, ok := a["access_keys"]; ok {
		out["root_access_keys"] = v
	}
	if v, ok := a["last_login_date"]; ok {
		out["root_last_login_date"] = v
	}
	return out
}
