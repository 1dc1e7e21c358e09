package postgres

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// redacted replaces a password wherever one is shown.
const redacted = "xxxxx"

// dsnSecret matches a secret in a keyword/value connection string
// ("host=h password='p w' …").
var dsnSecret = regexp.MustCompile(`(?i)\b(ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)`)

// Redact returns the connection string with every password replaced by
// "xxxxx", for logs and error messages. It accepts URLs
// (postgres://user:secret@host/db?sslpassword=…) and keyword/value strings
// (host=h password=secret). A URL it cannot parse is not shown at all.
func Redact(conn string) string {
	if !isURL(conn) {
		return dsnSecret.ReplaceAllStringFunc(conn, func(m string) string {
			k, _, _ := strings.Cut(m, "=")
			return strings.TrimSpace(k) + "=" + redacted
		})
	}
	u, err := url.Parse(conn)
	if err != nil {
		return scheme(conn) + "://(unparsable connection string withheld)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if isSecretParam(k) {
				q[k] = []string{redacted}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

func isURL(conn string) bool {
	s := strings.ToLower(conn)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func scheme(conn string) string {
	s, _, _ := strings.Cut(conn, "://")
	return s
}

// isSecretParam reports whether the connection parameter k holds a secret.
func isSecretParam(k string) bool {
	switch strings.ToLower(k) {
	case "password", "sslpassword":
		return true
	}
	return false
}

// secrets returns the passwords conn holds, in every spelling an error
// message could quote (decoded and as written), longest first. ok is false
// when conn cannot be parsed well enough to find them.
func secrets(conn string) (out []string, ok bool) {
	add := func(s string) {
		if s != "" && s != redacted {
			out = append(out, s)
		}
	}
	if isURL(conn) {
		u, err := url.Parse(conn)
		if err != nil {
			return nil, false
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				add(p)
				// as written in the URL, before percent-decoding
				rest := conn[strings.Index(conn, "://")+3:]
				if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
					if _, raw, ok := strings.Cut(rest[:at], ":"); ok {
						add(raw)
					}
				}
			}
		}
		for k, vs := range u.Query() {
			if isSecretParam(k) {
				for _, v := range vs {
					add(v)
					add(url.QueryEscape(v))
				}
			}
		}
	} else {
		for _, m := range dsnSecret.FindAllStringSubmatch(conn, -1) {
			v := m[2]
			add(v)
			if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
				add(strings.ReplaceAll(v[1:len(v)-1], `\'`, `'`))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, true
}

// redactedError is an error whose message had the connection's passwords
// removed; errors.Is and errors.As still see the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// scrub returns err with every password of conn removed from its message.
// When conn's passwords cannot be identified, only a fixed message is kept.
func scrub(err error, conn string) error {
	if err == nil {
		return nil
	}
	ss, ok := secrets(conn)
	if !ok {
		return &redactedError{msg: "details withheld: the connection string may hold a password", err: err}
	}
	msg := err.Error()
	for _, s := range ss {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return &redactedError{msg: msg, err: err}
}
