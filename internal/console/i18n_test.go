package console

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/canopy-sec/canopy/web"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"", ""},
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"zh-TW", "zh-CN"},
		{"en-US,en;q=0.9", "en"},
		{"fr-FR,en;q=0.3,zh;q=0.5", "zh-CN"},
		{"fr, de", ""},
		{"en;q=bad, zh;q=0.1", "zh-CN"},
	} {
		if got := negotiate(c.header); got != c.want {
			t.Errorf("negotiate(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

// TestEveryMessageExists: each key a template or the code asks for is in
// every catalog (loadCatalogs already checks the catalogs have the same
// keys).
func TestEveryMessageExists(t *testing.T) {
	cat, err := loadCatalogs(web.Messages())
	if err != nil {
		t.Fatal(err)
	}
	en := cat["en"]
	literal := regexp.MustCompile(`T "([a-zA-Z_.-]+)"`)
	pattern := regexp.MustCompile(`printf "([a-z_.]+)%s"`)
	names, _ := fs.Glob(web.Templates(), "*.html")
	for _, n := range names {
		b, err := fs.ReadFile(web.Templates(), n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if !en.Has(m[1]) {
				t.Errorf("%s: no message %q", n, m[1])
			}
		}
		for _, m := range pattern.FindAllStringSubmatch(string(b), -1) {
			found := false
			for k := range en.msgs {
				if len(k) > len(m[1]) && k[:len(m[1])] == m[1] {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no message starts with %q", n, m[1])
			}
		}
	}
	// the values the printf patterns are given
	for _, k := range []string{"posture.failed", "posture.passed", "posture.manual", "posture.no_data",
		"approvals.state.pending", "approvals.state.approved", "approvals.state.rejected", "approvals.state.executed", "approvals.state.failed",
		"grade.core", "grade.important", "grade.general", "grade.general-1", "grade.general-4", "grade.unknown",
		"sevname.critical", "sevname.high", "sevname.medium", "sevname.low", "sevname.informational",
		"sev.Critical", "sev.High", "sev.Medium", "sev.Low", "sev.Informational", "sev.Unknown", "sev.Fatal", "sev.Other",
		"party.customer", "party.provider", "party.vendor", "party.shared", "party.none",
		"error.csrf", "error.internal", "error.not_configured", "error.not_found", "error.signin_required", "login.bad_link", "login.bad_token",
		"approvals.reason_required", "overview.new_findings", "incident.no_tactic", "incident.entities", "incident.members", "login.title", "error.title",
		"incident.title", "posture.pack"} {
		for code, l := range cat {
			if !l.Has(k) {
				t.Errorf("%s: no message %q", code, k)
			}
		}
	}
}

// FuzzNegotiate: any Accept-Language header gives a supported language or
// none, without panicking.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "zh-CN,zh;q=0.9", "en;q=0.5, *;q=0.1", ";;;,q=", "zh;q=NaN", "en;q=1e309"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		switch got := negotiate(header); got {
		case "", "en", "zh-CN":
		default:
			t.Fatalf("negotiate(%q) = %q", header, got)
		}
	})
}
