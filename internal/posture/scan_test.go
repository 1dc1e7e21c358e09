package posture

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

func loadTestRules(t testing.TB) *RuleSet {
	t.Helper()
	rules, err := LoadDir(os.DirFS("testdata"), "rules")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := NewRuleSet(rules...)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// readResources reads a YAML list of resources and normalizes their
// attributes.
func readResources(t testing.TB, raw []*inventory.Resource) []*inventory.Resource {
	t.Helper()
	for _, r := range raw {
		r.Attributes = inventory.NormalizeAttributes(r.Attributes)
	}
	return raw
}

// TestScan checks every result of the rules in testdata/rules over the
// inventory of testdata/scan.yaml.
func TestScan(t *testing.T) {
	data, err := os.ReadFile("testdata/scan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tc struct {
		Now       time.Time             `yaml:"now"`
		Resources []*inventory.Resource `yaml:"resources"`
		Expect    []string              `yaml:"expect"`
	}
	if err := yaml.UnmarshalWithOptions(data, &tc, yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	rs := loadTestRules(t)
	var got []string
	for res, err := range Scan(context.Background(), rs, Resources(readResources(t, tc.Resources)), ScanOptions{Now: tc.Now}) {
		if err != nil {
			t.Fatal(err)
		}
		if !res.Time.Equal(tc.Now) {
			t.Errorf("time %v, want %v", res.Time, tc.Now)
		}
		if res.Status == StatusError && res.Err == nil {
			t.Errorf("%s %s: error result without Err", res.Rule.ID, res.Resource.UID)
		}
		if res.Status == StatusError {
			t.Logf("%s %s: %v", res.Rule.ID, res.Resource.UID, res.Err)
		}
		got = append(got, strings.TrimSpace(res.Rule.ID+" "+res.Resource.UID+" "+res.Status.String()+" "+res.Message))
	}
	slices.Sort(got)
	if len(got) != len(tc.Expect) {
		t.Errorf("%d results, want %d:\n%s", len(got), len(tc.Expect), strings.Join(got, "\n"))
	}
	for i := range min(len(got), len(tc.Expect)) {
		want := tc.Expect[i]
		g := got[i]
		if strings.Count(want, " ") == 2 { // no message given: compare rule, uid, status
			g = strings.Join(strings.SplitN(g, " ", 4)[:3], " ")
		}
		if g != want {
			t.Errorf("result %d: got %q, want %q", i, got[i], want)
		}
	}
}

func TestScanStops(t *testing.T) {
	rs := loadTestRules(t)
	res := []*inventory.Resource{
		{Provider: "aws", Account: "1", Type: "AWS::S3::Bucket", UID: "a"},
		{Provider: "aws", Account: "1", Type: "AWS::S3::Bucket", UID: "b"},
	}
	n := 0
	for range Scan(context.Background(), rs, Resources(res), ScanOptions{}) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("%d results after break", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var last error
	for _, err := range Scan(ctx, rs, Resources(res), ScanOptions{}) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("cancelled scan: last error %v", last)
	}

	boom := errors.New("boom")
	input := func(yield func(*inventory.Resource, error) bool) {
		if yield(res[0], nil) {
			yield(nil, boom)
		}
	}
	last = nil
	for _, err := range Scan(context.Background(), rs, input, ScanOptions{}) {
		last = err
	}
	if !errors.Is(last, boom) {
		t.Errorf("input error: last error %v", last)
	}

	last = nil
	for _, err := range Scan(context.Background(), rs, Resources([]*inventory.Resource{{Provider: "aws"}}), ScanOptions{}) {
		last = err
	}
	if last == nil || !strings.Contains(last.Error(), "type: missing") {
		t.Errorf("invalid resource: last error %v", last)
	}
}
