package posture

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// syntheticInventory builds n resources from the clean acceptance
// inventory: 100 accounts, each a copy of the clean account (its own ids)
// with the per-resource types (instances, volumes, security groups,
// buckets, users …) repeated to fill it. Repeated copies share their
// account's attribute maps, as resources an importer streams would not
// stay in memory; VPCs and flow logs get their own ids per copy so that
// each VPC has its flow log.
func syntheticInventory(tb testing.TB, n int) []*inventory.Resource {
	tb.Helper()
	f, err := os.Open("testdata/acceptance/clean.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var base []inventory.Resource
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var r inventory.Resource
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			tb.Fatal(err)
		}
		r.Attributes = inventory.NormalizeAttributes(r.Attributes)
		base = append(base, r)
	}
	var repeat []int // indexes of base: types an account has many of
	for i, r := range base {
		switch r.Type {
		case "AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::EC2::SecurityGroup", "AWS::S3::Bucket", "AWS::IAM::User",
			"AWS::IAM::Role", "AWS::RDS::DBInstance", "AWS::EC2::Snapshot", "AWS::KMS::Key", "AWS::EC2::VPC", "AWS::EC2::FlowLog":
			repeat = append(repeat, i)
		}
	}
	const accounts = 100
	perAccount := n / accounts
	out := make([]*inventory.Resource, 0, n)
	for a := range accounts {
		acct := fmt.Sprintf("%012d", 100000000000+a)
		own := make([]inventory.Resource, len(base)) // the account's copy, with its own ids
		for i, r := range base {
			r.Account = acct
			r.UID = strings.ReplaceAll(r.UID, "210987654321", acct)
			r.Attributes = renameIDs(r.Attributes, "-"+acct).(map[string]any)
			if r.Type == "AWS::S3::Bucket" { // bucket names are global
				r.Name += "-" + acct
				r.Attributes["name"] = r.Name
			}
			if r.Type == "AWS::CloudTrail::Trail" {
				r.Attributes["s3_bucket_name"] = r.Attributes["s3_bucket_name"].(string) + "-" + acct
			}
			own[i] = r
		}
		for i := range own {
			r := own[i]
			out = append(out, &r)
		}
		for i := len(own); i < perAccount; i++ {
			r := own[repeat[i%len(repeat)]]
			r.UID += fmt.Sprintf("#%d", i)
			if r.Type == "AWS::EC2::VPC" || r.Type == "AWS::EC2::FlowLog" {
				r.Attributes = renameIDs(r.Attributes, fmt.Sprintf("-%d", i/len(repeat))).(map[string]any)
			}
			out = append(out, &r)
		}
	}
	return out
}

// renameIDs copies v, appending suffix to EC2-style ids ("vpc-1",
// "sg-web", "i-1" …).
func renameIDs(v any, suffix string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = renameIDs(e, suffix)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = renameIDs(e, suffix)
		}
		return out
	case string:
		for _, p := range []string{"vpc-", "sg-", "i-", "vol-", "subnet-", "fl-", "snap-", "acl-"} {
			if strings.HasPrefix(x, p) && !strings.Contains(x, "/") {
				return x + suffix
			}
		}
	}
	return v
}

// evaluations counts the (rule, resource) evaluations a scan of rs does.
func evaluations(rules *RuleSet, rs []*inventory.Resource) int {
	n := 0
	accounts := map[string]bool{}
	for _, r := range rs {
		n += len(rules.ForType(r.Type))
		accounts[r.Provider+"|"+r.Account] = true
	}
	return n + len(accounts)*len(rules.ForAccount("aws"))
}

// BenchmarkScan100k scans 100,000 synthetic AWS resources with every rule
// of the built-in packs and reports (rule, resource) evaluations per
// second. Run on one core with
//
//	go test ./internal/posture -run '^$' -bench BenchmarkScan100k -cpu 1 -count 6 -benchmem
func BenchmarkScan100k(b *testing.B) {
	ps, err := BuiltinPacks()
	if err != nil {
		b.Fatal(err)
	}
	rules, err := ps.RuleSet()
	if err != nil {
		b.Fatal(err)
	}
	resources := syntheticInventory(b, 100_000)
	evals := evaluations(rules, resources)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	b.ReportAllocs()
	iterations := 0
	for b.Loop() {
		for _, err := range Scan(ctx, rules, Resources(resources), ScanOptions{Now: now}) {
			if err != nil {
				b.Fatal(err)
			}
		}
		iterations++
	}
	b.ReportMetric(float64(evals*iterations)/b.Elapsed().Seconds(), "evals/s")
	b.ReportMetric(float64(len(resources)*iterations)/b.Elapsed().Seconds(), "resources/s")
}
