package ingest

import (
	"net/netip"
	"strings"
	"unicode"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Helpers shared by the cloud audit-log decoders (gcp-audit, azure-activity,
// alibaba-actiontrail): case-insensitive access to decoded records, the
// caller endpoint, log-level severities and CRUD verbs.

// keyFold returns the key of f equal to key, else the first one equal
// without regard to case, else "".
func keyFold(f fields, key string) string {
	if _, ok := f[key]; ok {
		return key
	}
	for k := range f {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return ""
}

// subFold returns the object under key (any letter case) without removing
// it, so that what the mapping does not take stays in place for unmapped.
// A value that is not an object gives nil (reading a nil fields is safe).
func subFold(f fields, key string) fields {
	k := keyFold(f, key)
	if k == "" {
		return nil
	}
	m, _ := f[k].(map[string]any)
	return fields(m)
}

// strFold takes a scalar under key (any letter case) as a string. Objects
// and arrays stay where they are.
func strFold(f fields, key string) string {
	k := keyFold(f, key)
	if k == "" {
		return ""
	}
	switch f[k].(type) {
	case map[string]any, []any:
		return ""
	}
	return f.str(k)
}

// takeFold removes and returns the value under key (any letter case).
func takeFold(f fields, key string) any {
	k := keyFold(f, key)
	if k == "" {
		return nil
	}
	return f.take(k)
}

// firstOf calls each getter in turn and returns the first non-empty value.
// The getters after it are not called, so what they would have taken stays
// in place for unmapped.
func firstOf(getters ...func() string) string {
	for _, g := range getters {
		if v := g(); v != "" {
			return v
		}
	}
	return ""
}

// from returns a getter taking key (any letter case) from f.
func from(f fields, key string) func() string { return func() string { return strFold(f, key) } }

// lit returns a getter of a known value.
func lit(v string) func() string { return func() string { return v } }

// addRest moves what is left of f into the record's unmapped object.
func addRest(b *ocsf.Base, f fields) {
	for k, v := range f.rest() {
		b.AddUnmapped(k, v)
	}
}

// unknownCaller is the actor user of a record whose source names no
// caller: API Activity requires an actor.
func unknownCaller() *ocsf.User { return &ocsf.User{Name: "unknown"} }

// knownUser reports whether u names someone (it is not unknownCaller's).
func knownUser(u *ocsf.User) bool {
	return u != nil && !(u.Name == "unknown" && u.UID == "" && u.Account == nil && u.EmailAddr == "")
}

// callerEndpoint describes the caller's address as logged: an IP address
// (optionally with a port), else a host name (services calling on a user's
// behalf are logged by name, e.g. "actiontrail.aliyuncs.com"), else the word
// itself as the endpoint name ("private", "gce-internal-ip"). An empty
// address gives the name "unknown": the classes require a src_endpoint with
// at least one attribute.
func callerEndpoint(addr string) ocsf.NetworkEndpoint {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return ocsf.NetworkEndpoint{Name: "unknown"}
	}
	if _, err := netip.ParseAddr(addr); err == nil {
		return ocsf.NetworkEndpoint{IP: addr}
	}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ocsf.NetworkEndpoint{IP: ap.Addr().String(), Port: int(ap.Port())}
	}
	if isHostname(addr) && !isMaskedIPv4(addr) {
		return ocsf.NetworkEndpoint{Hostname: addr}
	}
	return ocsf.NetworkEndpoint{Name: addr}
}

// isMaskedIPv4 reports whether s is an IPv4 address with its digits
// masked ("XX.XX.XX.XX", "10.x.x.x"), as sanitised logs have.
func isMaskedIPv4(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) != 4 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 3 || strings.Trim(l, "0123456789xX*") != "" {
			return false
		}
	}
	return true
}

// isIP reports whether s is an IPv4 or IPv6 address.
func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// isHostname reports whether s looks like a dotted DNS name whose last
// label is alphabetic.
func isHostname(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c == '-' || c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c))) {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	for _, c := range last {
		if !unicode.IsLetter(c) {
			return false
		}
	}
	return true
}

// isEmail reports whether s is an e-mail address OCSF's email_t accepts.
func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || strings.Count(s, "@") != 1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	for _, c := range local {
		if !(c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)) || strings.ContainsRune("!#$%&'*+,-./=?^_`{|}~", c)) {
			return false
		}
	}
	dot := strings.IndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 {
		return false
	}
	for _, c := range domain {
		if !(c == '-' || c == '.' || c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c))) {
			return false
		}
	}
	return true
}

// logLevelSeverity maps a log level word (Cloud Logging LogSeverity, Azure
// activity-log level) to a severity id. Log levels say how much attention an
// entry needs, not how risky it is, so the ladder starts low: DEFAULT, DEBUG,
// VERBOSE, INFO and NOTICE are Informational, WARNING Low, ERROR Medium,
// CRITICAL High, ALERT Critical and EMERGENCY Fatal. An empty or unknown word
// gives Unknown.
func logLevelSeverity(level string) int {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "default", "debug", "verbose", "trace", "info", "information", "informational", "notice":
		return ocsf.SeverityInformational
	case "warning", "warn":
		return ocsf.SeverityLow
	case "error", "err":
		return ocsf.SeverityMedium
	case "critical", "crit":
		return ocsf.SeverityHigh
	case "alert":
		return ocsf.SeverityCritical
	case "emergency", "emerg", "fatal":
		return ocsf.SeverityFatal
	}
	return ocsf.SeverityUnknown
}

// API Activity activity ids.
const (
	apiCreate = 1
	apiRead   = 2
	apiUpdate = 3
	apiDelete = 4
)

// crudVerb maps an API verb (lower case) to an API Activity activity id; 0
// when the verb says nothing about create, read, update or delete.
func crudVerb(verb string) int {
	switch verb {
	case "create", "insert", "add", "import", "upload", "allocate", "register":
		return apiCreate
	case "get", "list", "describe", "read", "search", "query", "lookup", "fetch", "view", "batchget":
		return apiRead
	case "update", "patch", "set", "modify", "replace", "edit", "rename", "change", "enable", "disable":
		return apiUpdate
	case "delete", "remove", "destroy", "purge", "release", "erase":
		return apiDelete
	}
	return 0
}

// leadingVerb returns the verb a method name starts with, in lower case:
// the first word of "CreateService", "setIamPolicy", "Get Guest Usages
// resource" or "describe_instances". A "batch" or "aggregated" prefix is
// skipped ("aggregatedList" → "list").
func leadingVerb(name string) string {
	rs := []rune(strings.TrimSpace(name))
	i := 0
	word := func() string {
		start := i
		if i < len(rs) {
			i++
		}
		for i < len(rs) && unicode.IsLower(rs[i]) {
			i++
		}
		w := strings.ToLower(string(rs[start:i]))
		for i < len(rs) && !unicode.IsLetter(rs[i]) {
			i++
		}
		return w
	}
	w := word()
	if (w == "batch" || w == "aggregated") && i < len(rs) {
		return word()
	}
	return w
}
