package dedup

import "testing"

func TestFingerprint(t *testing.T) {
	base := Fingerprint("acme", "Trivy", "img|CVE-1")
	tests := []struct {
		name                 string
		tenant, product, uid string
		same                 bool
	}{
		{"identical", "acme", "Trivy", "img|CVE-1", true},
		{"product case and space", "acme", " trivy ", "img|CVE-1", true},
		{"other tenant", "other", "Trivy", "img|CVE-1", false},
		{"other product", "acme", "Grype", "img|CVE-1", false},
		{"other uid", "acme", "Trivy", "img|CVE-2", false},
		{"no concatenation collision", "acmeT", "rivy", "img|CVE-1", false},
	}
	for _, tt := range tests {
		got := Fingerprint(tt.tenant, tt.product, tt.uid)
		if (got == base) != tt.same {
			t.Errorf("%s: Fingerprint = %s, base %s, want same=%v", tt.name, got, base, tt.same)
		}
		if len(got) != 32 {
			t.Errorf("%s: len = %d", tt.name, len(got))
		}
	}
}
