package ingest

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestSuricataSeverity(t *testing.T) {
	tests := []struct {
		priority    int64
		have        bool
		sigSeverity string
		want        int
	}{
		{1, true, "", ocsf.SeverityHigh},
		{2, true, "", ocsf.SeverityMedium},
		{3, true, "", ocsf.SeverityLow},
		{4, true, "", ocsf.SeverityInformational},
		{255, true, "", ocsf.SeverityInformational},
		{0, true, "", ocsf.SeverityUnknown},
		{0, false, "", ocsf.SeverityUnknown},
		{3, true, "Critical", ocsf.SeverityCritical},
		{3, true, "Major", ocsf.SeverityHigh},
		{1, true, "Minor", ocsf.SeverityLow},
		{1, true, "Informational", ocsf.SeverityInformational},
		{2, true, "Unknown", ocsf.SeverityMedium}, // an unknown word falls back to the priority
	}
	for _, tt := range tests {
		if got := suricataSeverity(tt.priority, tt.have, tt.sigSeverity); got != tt.want {
			t.Errorf("suricataSeverity(%d, %v, %q) = %d, want %d", tt.priority, tt.have, tt.sigSeverity, got, tt.want)
		}
	}
}

func TestSuricataEngineSeverity(t *testing.T) {
	tests := map[string]int{"Error": ocsf.SeverityHigh, "Warning": ocsf.SeverityLow, "Notice": ocsf.SeverityInformational,
		"Info": ocsf.SeverityInformational, "Config": ocsf.SeverityInformational, "Critical": ocsf.SeverityCritical, "": ocsf.SeverityInformational}
	for level, want := range tests {
		if got := suricataEngineSeverity(level); got != want {
			t.Errorf("suricataEngineSeverity(%q) = %d, want %d", level, got, want)
		}
	}
}

func TestIPProtocol(t *testing.T) {
	tests := []struct {
		in   string
		name string
		num  int
	}{
		{"TCP", "tcp", 6}, {"UDP", "udp", 17}, {"ICMP", "icmp", 1}, {"IPv6-ICMP", "ipv6-icmp", 58}, {"SCTP", "sctp", 132},
		{"17", "udp", 17}, {"047", "gre", 47}, {"253", "253", 253}, {"weird", "weird", 0},
	}
	for _, tt := range tests {
		name, num := ipProtocol(tt.in)
		if name != tt.name || num != tt.num {
			t.Errorf("ipProtocol(%q) = %q, %d; want %q, %d", tt.in, name, num, tt.name, tt.num)
		}
	}
}
