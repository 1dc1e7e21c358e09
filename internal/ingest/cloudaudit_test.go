package ingest

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestLeadingVerb(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CreateService", "create"},
		{"setIamPolicy", "set"},
		{"aggregatedList", "list"},
		{"batchGet", "get"},
		{"Get Guest Usages resource", "get"},
		{"describe_instances", "describe"},
		{"insert", "insert"},
		{"SignJwt", "sign"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := leadingVerb(tt.in); got != tt.want {
			t.Errorf("leadingVerb(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCallerEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		want ocsf.NetworkEndpoint
	}{
		{"203.0.113.7", ocsf.NetworkEndpoint{IP: "203.0.113.7"}},
		{"2001:db8::1", ocsf.NetworkEndpoint{IP: "2001:db8::1"}},
		{"203.0.113.7:443", ocsf.NetworkEndpoint{IP: "203.0.113.7", Port: 443}},
		{"actiontrail.aliyuncs.com", ocsf.NetworkEndpoint{Hostname: "actiontrail.aliyuncs.com"}},
		{"gce-internal-ip", ocsf.NetworkEndpoint{Name: "gce-internal-ip"}},
		{"private", ocsf.NetworkEndpoint{Name: "private"}},
		{"XX.XX.XX.XX", ocsf.NetworkEndpoint{Name: "XX.XX.XX.XX"}},
		{"", ocsf.NetworkEndpoint{Name: "unknown"}},
	}
	for _, tt := range tests {
		if got := callerEndpoint(tt.in); got != tt.want {
			t.Errorf("callerEndpoint(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestIsEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"alice@example.com", true},
		{"0000@cloudbuild.gserviceaccount.com", true},
		{"Microsoft.Advisor", false},
		{"a@b", false},
		{"a b@example.com", false},
		{"@example.com", false},
	}
	for _, tt := range tests {
		if got := isEmail(tt.in); got != tt.want {
			t.Errorf("isEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
