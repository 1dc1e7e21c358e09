package nats

import (
	"fmt"
	"net/url"
	"strings"
)

// SubjectToken maps a tenant to one subject token: ASCII letters, digits,
// '-' and '_' stay, every other byte becomes '~' and two hex digits, and
// the empty tenant becomes "~". The mapping is one to one, so distinct
// tenants never share a subject.
func SubjectToken(tenant string) string {
	if tenant == "" {
		return "~"
	}
	clean := true
	for i := 0; i < len(tenant); i++ {
		if !plain(tenant[i]) {
			clean = false
			break
		}
	}
	if clean {
		return tenant
	}
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(tenant) + 8)
	for i := 0; i < len(tenant); i++ {
		c := tenant[i]
		if plain(c) {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('~')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

func plain(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// checkName validates a stream or consumer name for the field named field.
func checkName(field, name string) error {
	if name == "" {
		return fmt.Errorf("nats: Options.%s is empty", field)
	}
	if len(name) > 255 {
		return fmt.Errorf("nats: Options.%s is longer than 255 bytes", field)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f || strings.IndexByte(".*>/\\", c) >= 0 {
			return fmt.Errorf("nats: Options.%s %q: byte %q is not allowed in a name", field, name, c)
		}
	}
	return nil
}

// checkPrefix validates a literal subject prefix (no wildcards).
func checkPrefix(p string) error {
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n*>") {
			return fmt.Errorf("nats: Options.SubjectPrefix %q is not a literal subject", p)
		}
	}
	return nil
}

// redactURL hides the credentials in a NATS URL list (comma-separated):
// a password becomes "xxxxx", and so does a user with no password, which
// NATS treats as a token.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		u, err := url.Parse(p)
		if err != nil {
			if strings.Contains(p, "@") {
				parts[i] = "(unparsable URL with credentials)"
			}
			continue
		}
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx")
			}
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
