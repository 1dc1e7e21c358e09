package inventory

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Helpers that turn the aliyun CLI's JSON (decoded with UseNumber) into
// the normalized attribute values documented in README-alicloud.md.

// field returns m[k], matching k case-insensitively when there is no exact
// key: the same response is printed PascalCase by RPC APIs and camelCase
// or snake_case by others.
func field(m map[string]any, k string) any {
	if m == nil {
		return nil
	}
	if v, ok := m[k]; ok {
		return v
	}
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v
		}
	}
	return nil
}

// has reports whether m has key k (case-insensitively).
func has(m map[string]any, k string) bool {
	if m == nil {
		return false
	}
	if _, ok := m[k]; ok {
		return true
	}
	for mk := range m {
		if strings.EqualFold(mk, k) {
			return true
		}
	}
	return false
}

// path follows keys through nested maps.
func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = field(mm, k)
	}
	return v
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// list unwraps the API's list wrappers: {"Tag":[…]} (wrapper "Tag"), a
// plain list, or a single object where XML-to-JSON conversion lost the
// list.
func list(v any, wrapper string) []any {
	switch t := v.(type) {
	case []any:
		return t
	case map[string]any:
		if wrapper != "" {
			if w, ok := t[wrapper]; ok || has(t, wrapper) {
				if !ok {
					w = field(t, wrapper)
				}
				return list(w, "")
			}
			if len(t) == 0 {
				return nil
			}
		}
		return []any{t}
	case nil:
		return nil
	}
	return []any{v}
}

func objects(v any, wrapper string) []map[string]any {
	var out []map[string]any
	for _, e := range list(v, wrapper) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// str renders a scalar as a string; "" for nil and non-scalars.
func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	}
	return ""
}

// boolish reads the API's many spellings of a boolean.
func boolish(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case json.Number:
		f, err := t.Float64()
		return f != 0, err == nil
	case float64:
		return t != 0, true
	case int64:
		return t != 0, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "yes", "y", "on", "1", "enable", "enabled", "open", "opened":
			return true, true
		case "false", "no", "n", "off", "0", "disable", "disabled", "close", "closed", "":
			return false, true
		}
	}
	return false, false
}

// intish reads an integer printed as a number or a numeric string.
func intish(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, true
		}
		f, err := t.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 9e18 {
			return 0, false
		}
		return int64(f), true
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) || math.Abs(t) > 9e18 {
			return 0, false
		}
		return int64(t), true
	case int64:
		return t, true
	case int:
		return int64(t), true
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		return i, err == nil
	}
	return 0, false
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z",
	"2006-01-02T15:04:05Z",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05 -0700 MST",
	"2006-01-02",
	time.RFC1123,
	time.RFC1123Z,
}

// timeish reads a time printed in any of the APIs' formats, or as epoch
// seconds or milliseconds, and returns it in UTC.
func timeish(v any) (time.Time, bool) {
	if n, ok := v.(json.Number); ok {
		i, err := n.Int64()
		if err != nil || i <= 0 {
			return time.Time{}, false
		}
		if i > 100_000_000_000 { // milliseconds
			return time.UnixMilli(i).UTC(), true
		}
		return time.Unix(i, 0).UTC(), true
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	s = strings.TrimSpace(s)
	if isDigits(s) && len(s) >= 9 {
		return timeish(json.Number(s))
	}
	if s == "" || s == "-" || s == "N/A" || strings.HasPrefix(s, "0001-01-01") {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// attrs builds a normalized attribute map from a source object.
type attrs map[string]any

func (a attrs) str(key string, v any) {
	if v == nil {
		return
	}
	if _, isMap := v.(map[string]any); isMap {
		return
	}
	if _, isList := v.([]any); isList {
		return
	}
	a[key] = str(v)
}

func (a attrs) boolean(key string, v any) {
	if v == nil {
		return
	}
	if b, ok := boolish(v); ok {
		a[key] = b
	}
}

func (a attrs) integer(key string, v any) {
	if v == nil {
		return
	}
	if i, ok := intish(v); ok {
		a[key] = i
	}
}

func (a attrs) time(key string, v any) {
	if t, ok := timeish(v); ok {
		a[key] = timeString(t)
	}
}

// strs stores a list of strings: from a wrapped list, a plain list, or a
// comma-separated string.
func (a attrs) strs(key string, v any, wrapper string) {
	if v == nil {
		return
	}
	a[key] = strList(v, wrapper)
}

func strList(v any, wrapper string) []any {
	out := []any{}
	if s, ok := v.(string); ok {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	for _, e := range list(v, wrapper) {
		if s := str(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// tagsOf reads tags from {"Tag":[{"TagKey","TagValue"}]}, [{"Key","Value"}],
// [{"key","value"}] or a plain map.
func tagsOf(v any) map[string]string {
	var out map[string]string
	set := func(k, val string) {
		if k == "" {
			return
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[k] = val
	}
	if m, ok := v.(map[string]any); ok && !has(m, "Tag") {
		for k, val := range m {
			set(k, str(val))
		}
		return out
	}
	for _, t := range objects(v, "Tag") {
		k := str(field(t, "TagKey"))
		if k == "" {
			k = str(field(t, "Key"))
		}
		val := str(field(t, "TagValue"))
		if val == "" {
			val = str(field(t, "Value"))
		}
		set(k, val)
	}
	return out
}

// normalizePolicy turns a RAM or OSS policy document (an object or a JSON
// string) into the documented shape.
func normalizePolicy(v any) (map[string]any, error) {
	if s, ok := v.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("policy document: %w", err)
		}
		v = doc
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("policy document: not an object")
	}
	out := map[string]any{"version": str(field(m, "Version"))}
	stmts := []any{}
	for _, s := range objects(field(m, "Statement"), "") {
		st := map[string]any{"effect": str(field(s, "Effect"))}
		for _, k := range []string{"Action", "NotAction", "Resource", "NotResource"} {
			if has(s, k) {
				st[snake(k)] = strList(field(s, k), "")
			}
		}
		if p := field(s, "Principal"); p != nil {
			st["principal"] = normalizePrincipal(p)
		}
		if c, ok := field(s, "Condition").(map[string]any); ok {
			cond := map[string]any{}
			for op, kv := range c {
				km := map[string]any{}
				for ck, cv := range asMap(kv) {
					km[ck] = strList(cv, "")
				}
				cond[op] = km
			}
			st["condition"] = cond
		}
		stmts = append(stmts, st)
	}
	out["statement"] = stmts
	return out, nil
}

// normalizePrincipal flattens a principal ("*", ["*"], {"RAM": [...]},
// {"Service": "..."}) into a sorted list of strings.
func normalizePrincipal(v any) []any {
	switch t := v.(type) {
	case map[string]any:
		out := []any{}
		for _, k := range sortedMapKeys(t) {
			out = append(out, strList(t[k], "")...)
		}
		return out
	}
	return strList(v, "")
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// snake converts PascalCase and camelCase names to snake_case, keeping
// acronyms together ("DBInstanceId" → "db_instance_id").
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		if r == '-' || r == ' ' {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// accountFromARN returns the account of an "acs:<svc>:<region>:<account>:…"
// ARN, "" when s is not one.
func accountFromARN(s string) string {
	parts := strings.SplitN(s, ":", 5)
	if len(parts) < 5 || parts[0] != "acs" {
		return ""
	}
	if a := parts[3]; a != "" && a != "*" && isDigits(a) {
		return a
	}
	return ""
}

func isDigits(s string) bool {
	return s != "" && !slices.ContainsFunc([]rune(s), func(r rune) bool { return r < '0' || r > '9' })
}
