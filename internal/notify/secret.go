package notify

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// redacted is what a [Secret] prints, marshals and logs as.
const redacted = "[redacted]"

// Secret holds a credential: a webhook URL that carries a token, a signing
// key, an SMTP password. Its value is only available through
// [Secret.Reveal]; every other way of looking at it (fmt verbs, String,
// GoString, JSON, YAML, text marshalling, slog) shows "[redacted]", or ""
// for the zero Secret. The value sits behind a pointer, so even fmt's
// reflection over an unexported field holding a Secret prints an address,
// not the value.
//
// The zero Secret is empty. Secrets are immutable and safe to copy and to
// share between goroutines.
type Secret struct {
	v *string
}

// NewSecret wraps s. An empty s gives the zero (empty) Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret value. Call it only where the value is sent to
// the platform that issued it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil }

func (s Secret) shown() string {
	if s.v == nil {
		return ""
	}
	return redacted
}

// String returns "[redacted]" (or "" for an empty secret).
func (s Secret) String() string { return s.shown() }

// GoString returns a redacted Go-syntax form, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("notify.Secret(%q)", s.shown()) }

// Format implements [fmt.Formatter] so that every verb, including %x and
// %q, prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.shown())
	case 'q':
		fmt.Fprintf(f, "%q", s.shown())
	default:
		fmt.Fprint(f, s.shown())
	}
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.shown() + `"`), nil }

// MarshalText encodes the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// MarshalYAML encodes the redacted form (github.com/goccy/go-yaml).
func (s Secret) MarshalYAML() (any, error) { return s.shown(), nil }

// LogValue implements [slog.LogValuer]: a Secret logs as "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// scrubber replaces every known secret fragment in a text with
// "[redacted]". Channels build one from their secrets and pass platform
// messages and transport errors through it before they become part of an
// error, so that a platform echoing a token, or a URL in a Go error, cannot
// leak it.
type scrubber struct {
	fragments []string
}

// minFragment is the shortest URL part treated as a credential: tokens,
// keys and hook IDs are long; "send", "robot" or "services" are not.
const minFragment = 12

// newScrubber collects the fragments of secrets. A secret that parses as a
// URL also contributes its query values, its long path segments and its
// user information, so that a fragment of the URL in a message is caught
// too.
func newScrubber(secrets ...Secret) scrubber {
	var sc scrubber
	for _, s := range secrets {
		v := s.Reveal()
		if v == "" {
			continue
		}
		sc.fragments = append(sc.fragments, v)
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			continue
		}
		for _, vals := range u.Query() {
			for _, q := range vals {
				if len(q) >= minFragment/2 {
					sc.fragments = append(sc.fragments, q, url.QueryEscape(q))
				}
			}
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			if len(seg) >= minFragment {
				sc.fragments = append(sc.fragments, seg)
			}
		}
		if u.User != nil {
			sc.fragments = append(sc.fragments, u.User.String())
		}
		if u.RawQuery != "" {
			sc.fragments = append(sc.fragments, u.RawQuery)
		}
	}
	return sc
}

// scrub returns text with every fragment replaced.
func (sc scrubber) scrub(text string) string {
	for _, f := range sc.fragments {
		if f != "" && strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, redacted)
		}
	}
	return text
}
