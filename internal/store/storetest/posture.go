package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// testInventory: resources upsert by key, list by key with filters and
// paging, per tenant.
func testInventory(t *testing.T, s store.Store) {
	ctx := context.Background()
	res := func(key, typ, name string) store.Resource {
		return store.Resource{Key: key, Provider: "aws", Account: "111122223333", Region: "us-east-1", Type: typ, UID: "uid-" + key, Name: name,
			Source: "aws-config:x.json", ObservedAt: t0, UpdatedAt: t0, Doc: json.RawMessage(`{"name":"` + name + `"}`)}
	}
	n, err := s.PutResources(ctx, "t1", []store.Resource{res("a", "AWS::S3::Bucket", "one"), res("b", "AWS::EC2::Instance", "two"), res("c", "AWS::S3::Bucket", "three")})
	if err != nil || n != 3 {
		t.Fatalf("PutResources = %d, %v", n, err)
	}
	n, err = s.PutResources(ctx, "t1", []store.Resource{res("a", "AWS::S3::Bucket", "one again"), res("d", "AWS::IAM::User", "four")})
	if err != nil || n != 1 {
		t.Fatalf("PutResources again = %d new, %v; want 1", n, err)
	}
	all, err := s.Resources(ctx, store.ResourceQuery{Tenant: "t1"})
	if err != nil || len(all) != 4 || all[0].Key != "a" || all[0].Name != "one again" || !all[0].ObservedAt.Equal(t0) {
		t.Fatalf("Resources = %+v, %v", all, err)
	}
	var doc map[string]string
	if err := json.Unmarshal(all[0].Doc, &doc); err != nil || doc["name"] != "one again" {
		t.Fatalf("doc = %s, %v", all[0].Doc, err)
	}
	buckets, _ := s.Resources(ctx, store.ResourceQuery{Tenant: "t1", Types: []string{"AWS::S3::Bucket"}})
	if len(buckets) != 2 {
		t.Fatalf("buckets = %d", len(buckets))
	}
	page, _ := s.Resources(ctx, store.ResourceQuery{Tenant: "t1", Limit: 2})
	next, _ := s.Resources(ctx, store.ResourceQuery{Tenant: "t1", Limit: 2, After: page[1].Key})
	if len(page) != 2 || len(next) != 2 || next[0].Key != "c" {
		t.Fatalf("paging: %v then %v", page, next)
	}
	if other, _ := s.Resources(ctx, store.ResourceQuery{Tenant: "t2"}); len(other) != 0 {
		t.Fatalf("resources crossed tenants: %v", other)
	}
}

// testScans: a scan's results replace the previous scan's for its packs
// only; evidence round-trips.
func testScans(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, _, err := s.LatestScan(ctx, "t1", "cis-aws-3.0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestScan of an unscanned pack: %v", err)
	}
	r := func(pack, control, status string) store.ControlResult {
		return store.ControlResult{Pack: pack, Control: control, RuleID: "rule-" + control, ResourceKey: "k", ResourceUID: "arn:x", ResourceType: "AWS::S3::Bucket",
			Status: status, Severity: "high", Message: "m"}
	}
	sc1 := store.Scan{ID: "s1", Tenant: "t1", Packs: []string{"cis-aws-3.0", "mlps2-l3"}, StartedAt: t0, FinishedAt: t0.Add(time.Second), Resources: 3, Evaluated: 3, Passed: 1, Failed: 2}
	if err := s.SaveScan(ctx, sc1, []store.ControlResult{r("cis-aws-3.0", "2.1.4", "fail"), r("cis-aws-3.0", "1.5", "pass"), r("mlps2-l3", "L3-CES2-07", "fail")}); err != nil {
		t.Fatal(err)
	}
	sc2 := store.Scan{ID: "s2", Tenant: "t1", Packs: []string{"cis-aws-3.0"}, StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour), Evaluated: 1, Passed: 1}
	if err := s.SaveScan(ctx, sc2, []store.ControlResult{r("cis-aws-3.0", "2.1.4", "pass")}); err != nil {
		t.Fatal(err)
	}
	got, results, err := s.LatestScan(ctx, "t1", "cis-aws-3.0")
	if err != nil || got.ID != "s2" || len(results) != 1 || results[0].Status != "pass" || !got.StartedAt.Equal(t0.Add(time.Hour)) || len(got.Packs) != 1 {
		t.Fatalf("LatestScan cis = %+v %+v, %v", got, results, err)
	}
	got, results, err = s.LatestScan(ctx, "t1", "mlps2-l3")
	if err != nil || got.ID != "s1" || len(results) != 1 || results[0].Control != "L3-CES2-07" || got.Failed != 2 {
		t.Fatalf("LatestScan mlps = %+v %+v, %v", got, results, err)
	}
	if _, _, err := s.LatestScan(ctx, "t2", "mlps2-l3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("scan crossed tenants: %v", err)
	}
	e := store.Evidence{Pack: "mlps2-l3", Control: "L3-PES2-01", Status: "submitted", Reference: "https://evidence/1", By: "alice", UpdatedAt: t0}
	if err := s.PutEvidence(ctx, "t1", e); err != nil {
		t.Fatal(err)
	}
	e.Status = "accepted"
	if err := s.PutEvidence(ctx, "t1", e); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Evidence(ctx, "t1", "mlps2-l3")
	if err != nil || len(ev) != 1 || ev["L3-PES2-01"].Status != "accepted" || ev["L3-PES2-01"].By != "alice" {
		t.Fatalf("Evidence = %+v, %v", ev, err)
	}
	if ev, _ := s.Evidence(ctx, "t2", "mlps2-l3"); len(ev) != 0 {
		t.Fatalf("evidence crossed tenants: %v", ev)
	}
}
