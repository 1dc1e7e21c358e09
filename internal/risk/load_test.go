package risk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/risk"
)

func TestDefaultWeights(t *testing.T) {
	w := risk.DefaultWeights()
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	sum := w.Severity + w.CVSS + w.ExploitKnown + w.EPSS + w.InternetExposure + w.AssetCriticality + w.DataGrade + w.PrivilegedIdentity + w.KillChainBreadth + w.Recency
	if sum != 100 {
		t.Errorf("default weights sum to %v, want 100", sum)
	}
	if w.RecencyHalfLife != 720*time.Hour || w.KillChainFull != 5 {
		t.Errorf("tuning = %v, %d", w.RecencyHalfLife, w.KillChainFull)
	}
}

func TestLoadWeights(t *testing.T) {
	tests := []struct {
		name, yaml, err string
		check           func(t *testing.T, w risk.Weights)
	}{
		{name: "empty keeps defaults", yaml: "", check: func(t *testing.T, w risk.Weights) {
			if w != risk.DefaultWeights() {
				t.Errorf("got %+v", w)
			}
		}},
		{name: "partial override", yaml: "exploit_known: 40\nrecency_half_life: 168h\n", check: func(t *testing.T, w risk.Weights) {
			if w.ExploitKnown != 40 || w.RecencyHalfLife != 168*time.Hour || w.Severity != 15 {
				t.Errorf("got %+v", w)
			}
		}},
		{name: "misspelt key", yaml: "severity: 10\nexploit_know: 40\n", err: `[2:1] unknown field "exploit_know"`},
		{name: "wrong type", yaml: "cvss: high\n", err: "[1:7]"},
		{name: "duplicate key", yaml: "cvss: 1\ncvss: 2\n", err: `[2:1] mapping key "cvss" already defined`},
		{name: "negative", yaml: "epss: -1\n", err: "epss: must be a non-negative number, got -1"},
		{name: "all zero", yaml: "severity: 0\ncvss: 0\nexploit_known: 0\nepss: 0\ninternet_exposure: 0\nasset_criticality: 0\ndata_grade: 0\nprivileged_identity: 0\nkill_chain_breadth: 0\nrecency: 0\n", err: "all weights are 0"},
		{name: "bad half-life", yaml: "recency_half_life: 0s\n", err: "recency_half_life: must be positive"},
		{name: "bad kill chain", yaml: "kill_chain_full: 1\n", err: "kill_chain_full: must be at least 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := risk.LoadWeights(strings.NewReader(tt.yaml))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, w)
		})
	}
}

// TestWeightFileChangesScore: editing the weights file changes the score.
func TestWeightFileChangesScore(t *testing.T) {
	in := risk.Input{SeverityID: 4, ExploitKnown: true}
	before := risk.Score(in, risk.DefaultWeights()).Score
	w, err := risk.LoadWeights(strings.NewReader("exploit_known: 30\n"))
	if err != nil {
		t.Fatal(err)
	}
	if after := risk.Score(in, w).Score; after != before+15 {
		t.Errorf("score %d -> %d, want +15", before, after)
	}
}

func TestAssetContext(t *testing.T) {
	ctx, err := risk.LoadAssetContext(strings.NewReader(`
assets:
  - name: payments
    tier: crown-jewel
    uid: ["arn:aws:s3:::payments-*"]
  - tier: high
    tags: {env: prod, team: "pay*"}
  - tier: low
    labels: [sandbox]
  - tier: medium
    uid: ["*:instance/*"]
    labels: ["web"]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		res  ocsf.ResourceDetails
		tier risk.Tier
		rule string
	}{
		{"uid glob", ocsf.ResourceDetails{UID: "arn:aws:s3:::payments-eu/x"}, risk.TierCrownJewel, "payments"},
		{"uid case-insensitive", ocsf.ResourceDetails{UID: "ARN:AWS:S3:::PAYMENTS-1"}, risk.TierCrownJewel, "payments"},
		{"all tags match", ocsf.ResourceDetails{UID: "x", Tags: []ocsf.KeyValue{{Name: "env", Value: "prod"}, {Name: "team", Value: "payments"}}}, risk.TierHigh, "rule 2"},
		{"one tag missing", ocsf.ResourceDetails{UID: "x", Tags: []ocsf.KeyValue{{Name: "env", Value: "prod"}}}, risk.TierUnknown, ""},
		{"label", ocsf.ResourceDetails{Labels: []string{"Sandbox"}}, risk.TierLow, "rule 3"},
		{"highest tier wins", ocsf.ResourceDetails{UID: "arn:aws:s3:::payments-1", Labels: []string{"sandbox"}}, risk.TierCrownJewel, "payments"},
		{"selectors are ANDed", ocsf.ResourceDetails{UID: "arn:aws:ec2:r:1:instance/i-1"}, risk.TierUnknown, ""},
		{"uid and label", ocsf.ResourceDetails{UID: "arn:aws:ec2:r:1:instance/i-1", Labels: []string{"web"}}, risk.TierMedium, "rule 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tier, rule := ctx.Tier(tt.res)
			if tier != tt.tier || rule != tt.rule {
				t.Errorf("Tier = %q, %q; want %q, %q", tier, rule, tt.tier, tt.rule)
			}
		})
	}
	var zero risk.AssetContext
	if tier, _ := zero.Tier(ocsf.ResourceDetails{UID: "x"}); tier != risk.TierUnknown {
		t.Errorf("zero context: %q", tier)
	}
}

func TestLoadAssetContextErrors(t *testing.T) {
	tests := []struct{ name, yaml, err string }{
		{"unknown top-level key", "asets: []\n", `[1:1] unknown field "asets"`},
		{"unknown rule key", "assets:\n  - tier: high\n    tag: {env: prod}\n", `[3:5] unknown field "tag"`},
		{"bad tier", "assets:\n  - tier: critical\n    labels: [x]\n", `assets[0] (rule 1): tier: "critical" is not crown-jewel, high, medium or low`},
		{"no selector", "assets:\n  - name: all\n    tier: high\n", "assets[0] (all): needs at least one of uid, tags, labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := risk.LoadAssetContext(strings.NewReader(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want containing %q", err, tt.err)
			}
		})
	}
}

func TestLoadKEV(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		err      string
	}{
		{"cisa catalog", `{"title":"CISA KEV","count":2,"vulnerabilities":[{"cveID":"CVE-2021-44228","vendorProject":"Apache"},{"cveID":"CVE-2022-22965"}]}`, 2, ""},
		{"json list", `["CVE-2021-44228", "cve-2022-22965"]`, 2, ""},
		{"plain text", "# known exploited\nCVE-2021-44228\n\n  cve-2022-22965  \n", 2, ""},
		{"empty", "  \n", 0, ""},
		{"bad catalog entry", `{"vulnerabilities":[{"cveID":"CVE-2021-44228"},{"cveID":"GHSA-xxxx"}]}`, 0, `vulnerabilities[1].cveID: "GHSA-XXXX" is not a CVE id`},
		{"bad line", "CVE-2021-44228\nnot-a-cve\n", 0, `line 2: "NOT-A-CVE" is not a CVE id`},
		{"bad json", `{"vulnerabilities":`, 0, "catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := risk.LoadKEV(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Len() != tt.n {
				t.Errorf("Len = %d, want %d", k.Len(), tt.n)
			}
			if tt.n > 0 && (!k.Contains("cve-2021-44228") || !k.Contains("CVE-2022-22965") || k.Contains("CVE-2020-0001")) {
				t.Errorf("Contains wrong")
			}
		})
	}
	var zero risk.KEV
	if zero.Contains("CVE-2021-44228") {
		t.Error("zero KEV contains an id")
	}
}
