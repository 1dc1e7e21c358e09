package inventory

import (
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
