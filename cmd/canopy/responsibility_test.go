package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResponsibilityAttribution: ingested findings, their issues and
// incidents are attributed per the matrix; a contract with an MSSP moves
// security operations to the vendor after correlate --rebuild; --party
// filters.
func TestResponsibilityAttribution(t *testing.T) {
	data := t.TempDir()
	files, _ := filepath.Glob("testdata/intrusion/*.json*")
	args := append([]string{"ingest", "--data", data}, files...)
	args = append(args, "testdata/image-alpine-3.10.json")
	if r := canopy(t, "", args...); r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	party := func(args ...string) map[string]int {
		r := canopy(t, "", append([]string{"findings", "--data", data, "--output", "json", "--limit", "0"}, args...)...)
		var out []struct {
			Responsibility struct{ Party, Area, Basis string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
			t.Fatalf("findings %v: %v %+v", args, err, r)
		}
		n := map[string]int{}
		for _, f := range out {
			if f.Responsibility.Basis == "" {
				t.Errorf("a finding without a basis: %+v", f)
			}
			n[f.Responsibility.Party+"/"+f.Responsibility.Area]++
		}
		return n
	}
	before := party()
	// the GuardDuty detection is security operations, shared on IaaS; the
	// image's OS package CVEs are the customer's
	if before["shared/security_operations"] != 1 || before["customer/operating_system"] == 0 {
		t.Fatalf("attributions = %v", before)
	}
	if n := party("--party", "customer"); n["customer/operating_system"] != before["customer/operating_system"] || len(n) != 1 {
		t.Errorf("--party customer = %v", n)
	}
	r := canopy(t, "", "incidents", "--data", data, "--output", "json")
	if !strings.Contains(r.stdout, `"responsibility"`) || !strings.Contains(r.stdout, `"involved"`) {
		t.Errorf("incident without responsibility: %.500s", r.stdout)
	}
	if r := canopy(t, "", "contract", "set", "--data", data, "testdata/responsibility/mssp-contract.yaml"); r.code != 0 {
		t.Fatalf("contract set: %+v", r)
	}
	if r := canopy(t, "", "correlate", "--rebuild", "--data", data); r.code != 0 {
		t.Fatalf("rebuild: %+v", r)
	}
	after := party()
	if after["vendor/security_operations"] != 1 || after["customer/operating_system"] != before["customer/operating_system"] {
		t.Errorf("with the MSSP contract: %v", after)
	}
	if r := canopy(t, "", "issues", "--data", data, "--party", "vendor"); r.code != 0 || !strings.Contains(r.stdout, "vendor") {
		t.Errorf("issues --party vendor: %+v", r)
	}
	if r := canopy(t, "", "incidents", "--data", data, "--party", "vendor"); r.code != 0 || strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("incidents --party vendor: %+v", r)
	}
	if r := canopy(t, "", "findings", "--data", data, "--party", "landlord"); r.code != exitUsage {
		t.Errorf("bad --party: %+v", r)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "schema_version: 1\nvendors:\n  - id: x\n    services:\n      - id: s\n        mode: nonsense\n")
	if r := canopy(t, "", "contract", "set", "--data", data, bad); r.code != 1 || !strings.Contains(r.stderr, "bad.yaml") {
		t.Errorf("bad contract: %+v", r)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
