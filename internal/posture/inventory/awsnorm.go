package inventory

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// This file holds what the AWS importers (aws-config, terraform) share:
// lenient readers of source values and the normalized shapes of
// README.md. Helper names carry an aws or tf prefix, or are methods, so
// that other importers of the package can name theirs freely.

// obj is a decoded JSON object with case-insensitive reads: AWS Config
// spells keys camelCase ("dBInstanceIdentifier"), PascalCase (CloudFormation
// shapes) or as the API does, and Terraform snake_case.
type obj map[string]any

// asObj returns v as an obj, parsing a JSON object written as a string
// (AWS Config's supplementary configuration and batch-get output do that);
// nil when v is neither.
func asObj(v any) obj {
	switch x := v.(type) {
	case map[string]any:
		return obj(x)
	case obj:
		return x
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "{") {
			var m map[string]any
			if json.Unmarshal([]byte(s), &m) == nil {
				return obj(m)
			}
		}
	}
	return nil
}

// get returns the value of the first key present, matching keys
// case-insensitively and ignoring '_' (so "db_instance_identifier",
// "dBInstanceIdentifier" and "DBInstanceIdentifier" are one key).
func (o obj) get(keys ...string) any {
	if o == nil {
		return nil
	}
	for _, k := range keys {
		if v, ok := o[k]; ok && v != nil {
			return v
		}
	}
	for _, k := range keys {
		nk := awsFold(k)
		for ok, v := range o {
			if v != nil && awsFold(ok) == nk {
				return v
			}
		}
	}
	return nil
}

func (o obj) has(keys ...string) bool { return o.get(keys...) != nil }

func (o obj) obj(keys ...string) obj { return asObj(o.get(keys...)) }

func (o obj) str(keys ...string) string { return awsStr(o.get(keys...)) }

func (o obj) list(keys ...string) []any { return awsList(o.get(keys...)) }

// objs returns the objects of a list (objects written as strings included).
func (o obj) objs(keys ...string) []obj {
	var out []obj
	for _, e := range o.list(keys...) {
		if m := asObj(e); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func awsFold(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '-':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// awsStr renders a scalar as a string ("" for nil, maps and lists).
func awsStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// awsList returns v as a list: a list as is, nil as nil, a scalar or
// object as a one-element list.
func awsList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// awsStrs returns the non-empty strings of a list (or of one scalar).
func awsStrs(v any) []any {
	out := []any{}
	for _, e := range awsList(v) {
		if s := awsStr(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// awsBool reads a bool written as a bool, a string ("true", "Enabled",
// "yes") or a number.
func awsBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "enabled", "enable", "on", "1":
			return true, true
		case "false", "no", "disabled", "disable", "off", "0", "":
			return false, true
		}
	case float64:
		return x != 0, true
	case int64:
		return x != 0, true
	case json.Number:
		return x.String() != "0", true
	}
	return false, false
}

// awsInt reads an integer written as a number or a numeric string.
func awsInt(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case int64:
		return x, true
	case int:
		return int64(x), true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

// awsTime reads a time (RFC 3339 with or without fraction, the Go
// time.String form AWS SDK dumps use, or epoch seconds/milliseconds) and
// renders it as RFC 3339 UTC.
func awsTime(v any) (string, bool) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999 -0700 MST",
			"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC().Format(time.RFC3339), true
			}
		}
		if s == "" || s == "N/A" || s == "not_supported" || s == "no_information" {
			return "", false
		}
	}
	if n, ok := awsInt(v); ok && n > 0 {
		if n > 1e11 { // milliseconds
			return time.UnixMilli(n).UTC().Format(time.RFC3339), true
		}
		return time.Unix(n, 0).UTC().Format(time.RFC3339), true
	}
	return "", false
}

// attrMap builds a normalized attribute map; setters skip absent values so
// that absence keeps meaning "the source did not say".
type attrMap map[string]any

func (a attrMap) setStr(k string, v any) {
	if v == nil {
		return
	}
	if s := awsStr(v); s != "" || awsIsString(v) {
		a[k] = s
	}
}

func awsIsString(v any) bool { _, ok := v.(string); return ok }

func (a attrMap) setBool(k string, v any) {
	if b, ok := awsBool(v); ok && v != nil {
		a[k] = b
	}
}

func (a attrMap) setInt(k string, v any) {
	if i, ok := awsInt(v); ok {
		a[k] = i
	}
}

func (a attrMap) setTime(k string, v any) {
	if t, ok := awsTime(v); ok {
		a[k] = t
	}
}

func (a attrMap) setStrs(k string, v any) {
	if v != nil {
		a[k] = awsStrs(v)
	}
}

// awsPolicyDoc normalizes a policy document (a map, a JSON string or a
// URL-encoded JSON string) to the shape of README.md.
func awsPolicyDoc(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" || s == "null" {
			return nil, nil
		}
		if !strings.HasPrefix(s, "{") {
			if u, err := url.QueryUnescape(s); err == nil {
				s = u
			}
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("policy document: %w", err)
		}
		v = m
	}
	doc := asObj(v)
	if doc == nil {
		return nil, fmt.Errorf("policy document: want an object, got %T", v)
	}
	out := map[string]any{}
	if ver := doc.str("Version"); ver != "" {
		out["version"] = ver
	}
	stmts := []any{}
	for _, st := range awsList(doc.get("Statement")) {
		s := asObj(st)
		if s == nil {
			return nil, fmt.Errorf("policy document: statement: want an object, got %T", st)
		}
		n := map[string]any{}
		if sid := s.str("Sid"); sid != "" {
			n["sid"] = sid
		}
		n["effect"] = s.str("Effect")
		for _, k := range []struct{ src, dst string }{{"Action", "action"}, {"NotAction", "not_action"}, {"Resource", "resource"}, {"NotResource", "not_resource"}} {
			if x := s.get(k.src); x != nil {
				n[k.dst] = awsStrs(x)
			}
		}
		if p := s.get("Principal"); p != nil {
			n["principal"] = awsPrincipal(p)
		}
		if p := s.get("NotPrincipal"); p != nil {
			n["not_principal"] = awsPrincipal(p)
		}
		if c := asObj(s.get("Condition")); c != nil {
			cond := map[string]any{}
			for op, kv := range c {
				m := asObj(kv)
				if m == nil {
					continue
				}
				keys := map[string]any{}
				for k, vals := range m {
					keys[k] = awsStrs(vals)
				}
				cond[op] = keys
			}
			n["condition"] = cond
		}
		stmts = append(stmts, n)
	}
	out["statement"] = stmts
	return out, nil
}

func awsPrincipal(p any) any {
	if s, ok := p.(string); ok {
		return s
	}
	if m := asObj(p); m != nil {
		out := map[string]any{}
		for k, v := range m {
			out[k] = awsStrs(v)
		}
		return out
	}
	return awsStr(p)
}

// awsProtocol normalizes an IP protocol: "-1"/"all" stay "-1", numbers
// of common protocols become names, names are lower-cased.
func awsProtocol(v any) string {
	s := strings.ToLower(strings.TrimSpace(awsStr(v)))
	switch s {
	case "", "-1", "all":
		return "-1"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58":
		return "icmpv6"
	}
	return s
}

// awsPorts returns the port range of a permission: all ports for
// protocol -1 or when the source gives none.
func awsPorts(protocol string, from, to any) (int64, int64) {
	f, okf := awsInt(from)
	t, okt := awsInt(to)
	if protocol == "-1" || !okf || !okt || (f == -1 && t == -1) {
		if protocol == "icmp" || protocol == "icmpv6" {
			return f, t
		}
		return 0, 65535
	}
	return f, t
}

// awsPermission builds one normalized security group permission.
func awsPermission(protocol any, from, to any, v4, v6, groups, prefixes []any) map[string]any {
	p := awsProtocol(protocol)
	f, t := awsPorts(p, from, to)
	return map[string]any{
		"protocol": p, "from_port": f, "to_port": t,
		"ipv4_ranges": awsUniq(v4), "ipv6_ranges": awsUniq(v6),
		"source_group_ids": awsUniq(groups), "prefix_list_ids": awsUniq(prefixes),
	}
}

func awsUniq(l []any) []any {
	out := []any{}
	for _, e := range l {
		if s := awsStr(e); s != "" && !slices.Contains(out, any(s)) {
			out = append(out, s)
		}
	}
	return out
}

// awsARN builds an ARN; the partition follows the region (aws-cn for cn-*,
// aws-us-gov for us-gov-*).
func awsARN(service, region, account, resource string) string {
	return "arn:" + awsPartition(region) + ":" + service + ":" + region + ":" + account + ":" + resource
}

func awsPartition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// arnAccount returns the account part of an ARN, or "".
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && awsIsAccount(parts[4]) {
		return parts[4]
	}
	return ""
}

// arnRegion returns the region part of an ARN, or "".
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[3]
	}
	return ""
}

func awsIsAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// awsEC2ARN builds the ARN of an EC2 resource from its id: the kind comes
// from the id's prefix; "" when the id is not one of them.
func awsEC2ARN(region, account, id string) string {
	kinds := []struct{ prefix, kind string }{
		{"i-", "instance"}, {"sg-", "security-group"}, {"vpc-", "vpc"}, {"subnet-", "subnet"}, {"vol-", "volume"},
		{"acl-", "network-acl"}, {"fl-", "vpc-flow-log"}, {"eni-", "network-interface"}, {"snap-", "snapshot"},
		{"igw-", "internet-gateway"}, {"rtb-", "route-table"},
	}
	if region == "" || account == "" {
		return ""
	}
	for _, k := range kinds {
		if strings.HasPrefix(id, k.prefix) {
			return awsARN("ec2", region, account, k.kind+"/"+id)
		}
	}
	return ""
}

// toSnake converts a camelCase or PascalCase key to snake_case
// ("dBInstanceIdentifier" → "db_instance_identifier", "SSEAlgorithm" →
// "sse_algorithm").
func toSnake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			prevUpper := i > 0 && unicode.IsUpper(rs[i-1])
			if i > 0 && (prevLower || (prevUpper && nextLower && i > 1)) && rs[i-1] != '_' {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		if r == '-' || r == ' ' {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// snakeValue converts every map key of v to snake_case, recursively, and
// normalizes numbers.
func snakeValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if e == nil {
				continue
			}
			out[toSnake(k)] = snakeValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = snakeValue(e)
		}
		return out
	}
	return NormalizeValue(v)
}
