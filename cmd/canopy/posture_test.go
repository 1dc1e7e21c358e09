package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestPostureScan: an inventory with known misconfigurations, imported and
// scanned through the CLI, fails exactly the expected controls per pack,
// stores the failures as compliance findings whose issue keys join other
// tools', writes SARIF, and exits 3 with --fail-on; the clean inventory
// fails nothing.
func TestPostureScan(t *testing.T) {
	data := t.TempDir()
	if r := canopy(t, "", "inventory", "import", "--data", data, "testdata/posture/aws-misconfigured.jsonl"); r.code != 0 || !strings.Contains(r.stdout, "30 resources (30 new)") {
		t.Fatalf("inventory import: %+v", r)
	}
	if r := canopy(t, "", "inventory", "list", "--data", data, "--type", "AWS::S3::Bucket", "--output", "json"); r.code != 0 || !strings.Contains(r.stdout, "acme-public-site") {
		t.Fatalf("inventory list: %+v", r)
	}
	r := canopy(t, "", "scan", "--data", data, "--pack", "cis-aws-3.0,mlps2-l3", "--now", "2025-01-01T00:00:00Z", "--output", "json", "--fail-on", "high")
	if r.code != exitPolicy || !strings.Contains(r.stderr, "at or above high") {
		t.Fatalf("scan --fail-on high: code %d, stderr %s", r.code, r.stderr)
	}
	var res struct {
		Scan struct {
			Failed, Passed, Findings int
			Packs                    []string
		}
		Results []struct{ Pack, Control, Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	failed := map[string][]string{}
	for _, x := range res.Results {
		if x.Status == "fail" && !slices.Contains(failed[x.Pack], x.Control) {
			failed[x.Pack] = append(failed[x.Pack], x.Control)
		}
	}
	want := map[string][]string{
		"cis-aws-3.0": {"1.5", "2.1.4", "2.2.1", "3.1", "5.2"},
		"mlps2-l3":    {"L3-ABS2-01", "L3-ABS2-07", "L3-CES2-01", "L3-CES2-03", "L3-CES2-05", "L3-CES2-13", "L3-SMC2-03"},
	}
	for pack, w := range want {
		got := failed[pack]
		slices.Sort(got)
		if !slices.Equal(got, w) {
			t.Errorf("%s failing controls %v, want %v", pack, got, w)
		}
	}
	if res.Scan.Findings == 0 || res.Scan.Passed == 0 {
		t.Errorf("scan = %+v", res.Scan)
	}
	// the failures are findings, keyed to join Prowler's and Security Hub's
	r = canopy(t, "", "findings", "--data", data, "--class", "compliance", "--output", "json", "--limit", "0")
	if r.code != 0 || !strings.Contains(r.stdout, `"issue_key":"control|cis-aws-3.0:2.1.4|arn:aws-cn:s3:::acme-public-site"`) {
		t.Errorf("compliance findings: %.2000s", r.stdout)
	}
	stored := strings.Count(r.stdout, `"fingerprint"`)
	if stored != res.Scan.Findings {
		t.Errorf("%d compliance findings stored, the scan made %d", stored, res.Scan.Findings)
	}
	// the compliance report, in its three formats, with recorded evidence
	if r := canopy(t, "", "evidence", "set", "--data", data, "--pack", "cis-aws-3.0", "--control", "1.1", "--status", "accepted", "--reference", "DOC-7", "--by", "auditor"); r.code != 0 {
		t.Fatalf("evidence set: %+v", r)
	}
	if r := canopy(t, "", "evidence", "set", "--data", data, "--pack", "cis-aws-3.0", "--control", "2.1.4", "--status", "accepted"); r.code != exitUsage {
		t.Errorf("evidence for an automated control: %+v", r)
	}
	r = canopy(t, "", "report", "compliance", "--data", data, "--pack", "cis-aws-3.0", "--format", "json")
	var rep struct {
		Score struct{ Passed, Evaluated int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Score.Evaluated == 0 || rep.Score.Passed >= rep.Score.Evaluated || !strings.Contains(r.stdout, "DOC-7") {
		t.Errorf("json report: %v %.500s", err, r.stdout)
	}
	if r := canopy(t, "", "report", "compliance", "--data", data, "--pack", "cis-aws-3.0"); r.code != 0 || !strings.HasPrefix(r.stdout, "<!DOCTYPE html>") || !strings.Contains(r.stdout, "acme-public-site") {
		t.Errorf("html report: %.300s", r.stdout)
	}
	if r := canopy(t, "", "report", "compliance", "--data", data, "--pack", "mlps2-l3", "--format", "csv"); r.code != 0 || !strings.Contains(r.stdout, "L3-CES2-13") {
		t.Errorf("csv report: %.300s", r.stdout)
	}
	if r := canopy(t, "", "report", "compliance", "--data", data, "--pack", "cis-alicloud-2.0"); r.code != 1 || !strings.Contains(r.stderr, "has not been scanned") {
		t.Errorf("report of an unscanned pack: %+v", r)
	}

	// rescanning updates, never duplicates
	r = canopy(t, "", "scan", "--data", data, "--pack", "cis-aws-3.0,mlps2-l3", "--now", "2025-01-01T00:00:00Z", "--output", "sarif")
	var sarif struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Results []struct{ RuleID, Level string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &sarif); err != nil || r.code != 0 || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) == 0 {
		t.Fatalf("sarif: %v %+v", err, r)
	}
	for _, x := range sarif.Runs[0].Results {
		if x.RuleID == "" || x.Level == "" {
			t.Errorf("sarif result %+v", x)
		}
	}
	r2 := canopy(t, "", "findings", "--data", data, "--class", "compliance", "--output", "json", "--limit", "0")
	if n := strings.Count(r2.stdout, `"fingerprint"`); n != stored || !strings.Contains(r2.stdout, `"count":2`) {
		t.Errorf("after a rescan %d compliance findings (want %d, each counted twice)", n, stored)
	}

	// Alibaba Cloud: aliyun CLI output, scanned without storing the inventory
	ali := t.TempDir()
	r = canopy(t, "", "scan", "--data", ali, "--inventory", "testdata/posture/alicloud-misconfigured.json", "--pack", "cis-alicloud-2.0,mlps2-l3",
		"--now", "2025-01-01T00:00:00Z", "--output", "json")
	res.Results = nil
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 {
		t.Fatalf("alibaba scan: %v %+v", err, r)
	}
	failed = map[string][]string{}
	for _, x := range res.Results {
		if x.Status == "fail" && !slices.Contains(failed[x.Pack], x.Control) {
			failed[x.Pack] = append(failed[x.Pack], x.Control)
		}
	}
	want = map[string][]string{
		"cis-alicloud-2.0": {"1.4", "2.1", "3.2", "4.2", "4.3", "5.1", "5.7", "6.1"},
		"mlps2-l3":         {"L3-ABS2-01", "L3-ABS2-07", "L3-CES2-01", "L3-CES2-03", "L3-CES2-05", "L3-CES2-13", "L3-SMC2-03"},
	}
	for pack, w := range want {
		got := failed[pack]
		slices.Sort(got)
		if !slices.Equal(got, w) {
			t.Errorf("alibaba %s failing controls %v, want %v", pack, got, w)
		}
	}

	clean := t.TempDir()
	r = canopy(t, "", "scan", "--data", clean, "--inventory", "testdata/posture/aws-clean.jsonl", "--pack", "cis-aws-3.0,mlps2-l3", "--now", "2025-01-01T00:00:00Z", "--fail-on", "low")
	if r.code != 0 || !strings.Contains(r.stdout, " 0 failed, 0 errors") {
		t.Errorf("clean scan: %+v", r)
	}
	if r := canopy(t, "", "packs"); r.code != 0 || !strings.Contains(r.stdout, "cis-aws-3.0") || !strings.Contains(r.stdout, "35/35") {
		t.Errorf("packs: %+v", r)
	}
	if r := canopy(t, "", "scan", "--data", clean, "--pack", "nope"); r.code != exitUsage {
		t.Errorf("unknown pack: %+v", r)
	}
	if r := canopy(t, "", "scan", "--data", clean, "--fail-on", "severe"); r.code != exitUsage {
		t.Errorf("bad --fail-on: %+v", r)
	}
}
