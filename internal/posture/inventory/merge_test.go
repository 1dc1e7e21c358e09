package inventory

import (
	"context"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestMerger(t *testing.T) {
	t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	base := func(src string, at time.Time, a map[string]any) Resource {
		return Resource{Provider: "alicloud", Account: "1", Type: "ALIYUN::OSS::Bucket", UID: "b", Source: src, ObservedAt: at, Attributes: a}
	}
	a := base("aliyun:oss:listbuckets", t2, map[string]any{"location": "oss-cn-hangzhou", "logging": map[string]any{"enabled": false}})
	a.Tags = map[string]string{"env": "dev", "team": "x"}
	a.Relationships = []Relationship{{Type: "r", Target: "t"}}
	b := base("aliyun:oss:getbucketacl", t1, map[string]any{"acl": "private", "logging": map[string]any{"target_bucket": "l"}})
	b.Name, b.Region = "b", "cn-hangzhou"
	b.Tags = map[string]string{"env": "prod"}
	b.Relationships = []Relationship{{Type: "r", Target: "t"}, {Type: "r", Target: "u"}}
	c := base("aliyun:oss:listbuckets", time.Time{}, map[string]any{"acl": "public-read"})
	other := a
	other.UID = "other"

	var m Merger
	for _, r := range []Resource{a, b, other, c} {
		m.Add(r)
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
	got := m.Resources()[0]
	want := Resource{
		Provider: "alicloud", Account: "1", Type: "ALIYUN::OSS::Bucket", UID: "b", Name: "b", Region: "cn-hangzhou",
		Tags:          map[string]string{"env": "prod", "team": "x"},
		Relationships: []Relationship{{Type: "r", Target: "t"}, {Type: "r", Target: "u"}},
		Source:        "aliyun:oss:listbuckets,aliyun:oss:getbucketacl",
		ObservedAt:    t2,
		Attributes: map[string]any{
			"location": "oss-cn-hangzhou", "acl": "public-read",
			"logging": map[string]any{"enabled": false, "target_bucket": "l"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged =\n%+v\nwant\n%+v", got, want)
	}
	// The inputs are not changed by merging.
	if _, ok := a.Attributes["logging"].(map[string]any)["target_bucket"]; ok {
		t.Error("Merge wrote into an input's nested map")
	}
}

// TestMergeStreams merges an AWS Config snapshot with the IAM credential
// report: the user both describe becomes one resource with the facts of
// both; an input error ends the stream.
func TestMergeStreams(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T, file string) iter.Seq2[*Resource, error] {
		f, err := os.Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return Builtin().Stream(ctx, "", f)
	}
	count := func(t *testing.T, file string) int {
		n := 0
		for _, err := range open(t, file) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	const config, report = "aws-config/snapshot.json", "aws-credential-report/report.csv"
	const alice = "arn:aws:iam::123456789012:user/alice"

	var got []*Resource
	for r, err := range MergeStreams(open(t, config), open(t, report)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	// alice is in both inputs: one resource less than the inputs hold.
	if want := count(t, config) + count(t, report) - 1; len(got) != want {
		t.Errorf("%d resources, want %d", len(got), want)
	}
	var users []*Resource
	for _, r := range got {
		if r.Type == "AWS::IAM::User" && r.UID == alice {
			users = append(users, r)
		}
	}
	if len(users) != 1 {
		t.Fatalf("%d resources for %s, want 1", len(users), alice)
	}
	u := users[0]
	for _, k := range []string{"inline_policies", "attached_managed_policies", "groups", "password_enabled", "mfa_active", "access_keys"} {
		if _, ok := u.Attributes[k]; !ok {
			t.Errorf("merged user lacks %s: %v", k, u.Attributes)
		}
	}
	if u.Source != AWSConfigFormat+","+CredentialReportFormat {
		t.Errorf("source %q", u.Source)
	}

	// An input error is the last element.
	var n int
	var last error
	for r, err := range MergeStreams(open(t, config), open(t, "aws-credential-report/bad-no-arn.csv")) {
		n++
		if r != nil {
			t.Errorf("resource %s yielded with a failing input", r.UID)
		}
		last = err
	}
	if n != 1 || !errors.Is(last, ErrMissingField) {
		t.Errorf("got %d elements, last error %v; want the input's error alone", n, last)
	}
}
