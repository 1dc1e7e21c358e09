package respond_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/risk"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// inventoryJSONL: security group web-ssh (ports 443 and 22 open to the
// internet) holds web-1 and web-2; db-1 is elsewhere; a public bucket.
const inventoryJSONL = `{"provider":"aws","account":"111122223333","region":"us-east-1","type":"AWS::EC2::SecurityGroup","uid":"arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0","name":"web-ssh","attributes":{"group_id":"sg-0123456789abcdef0","ingress":[{"protocol":"tcp","from_port":443,"to_port":443,"ipv4_ranges":["0.0.0.0/0"]},{"protocol":"tcp","from_port":22,"to_port":22,"ipv4_ranges":["0.0.0.0/0"]}]}}
{"provider":"aws","account":"111122223333","region":"us-east-1","type":"AWS::EC2::Instance","uid":"arn:aws:ec2:us-east-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1","name":"web-1","tags":{"service":"storefront"},"attributes":{"instance_id":"i-0aaaaaaaaaaaaaaa1","security_group_ids":["sg-0123456789abcdef0"]},"relationships":[{"type":"uses","target":"arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0","target_type":"AWS::EC2::SecurityGroup"}]}
{"provider":"aws","account":"111122223333","region":"us-east-1","type":"AWS::EC2::Instance","uid":"arn:aws:ec2:us-east-1:111122223333:instance/i-0bbbbbbbbbbbbbbb2","name":"web-2","attributes":{"instance_id":"i-0bbbbbbbbbbbbbbb2"},"relationships":[{"type":"uses","target":"sg-0123456789abcdef0"}]}
{"provider":"aws","account":"111122223333","region":"us-east-1","type":"AWS::EC2::Instance","uid":"arn:aws:ec2:us-east-1:111122223333:instance/i-0ddddddddddddddd4","name":"db-1","attributes":{"instance_id":"i-0ddddddddddddddd4"}}
{"provider":"aws","account":"111122223333","type":"AWS::S3::Bucket","uid":"arn:aws:s3:::exposed-logs","name":"exposed-logs","attributes":{"name":"exposed-logs","acl_public":true}}
`

// cloudTrailKeyUse: an instance role's key used from i-0ddd… and an
// address; another event without the key.
const cloudTrailKeyUse = `{"Records": [
{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE0000001","arn":"arn:aws:iam::111122223333:user/batch","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"batch"},"eventTime":"2026-06-01T08:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2","requestParameters":{"bucketName":"exposed-logs","key":"a"},"responseElements":null,"requestID":"1","eventID":"e1","readOnly":true,"resources":[{"type":"AWS::EC2::Instance","ARN":"arn:aws:ec2:us-east-1:111122223333:instance/i-0ddddddddddddddd4"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333"},
{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE0000002","arn":"arn:aws:iam::111122223333:user/other","accountId":"111122223333","accessKeyId":"AKIAOTHEREXAMPLE0001","userName":"other"},"eventTime":"2026-06-01T09:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"aws-cli/2","requestParameters":null,"responseElements":null,"requestID":"2","eventID":"e2","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}
]}`

const asffLow = `[{"SchemaVersion":"2018-10-08","Id":"prowler-cloudwatch_log_group_retention-111122223333-us-east-1-app","ProductArn":"arn:aws:securityhub:us-east-1::product/prowler/prowler","ProductFields":{"ProviderName":"Prowler"},"GeneratorId":"prowler-cloudwatch_log_group_retention","AwsAccountId":"111122223333","Types":["Logging"],"FirstObservedAt":"2026-06-02T10:00:00Z","UpdatedAt":"2026-06-02T10:00:00Z","CreatedAt":"2026-06-02T10:00:00Z","Severity":{"Label":"LOW"},"Title":"Log group without retention","Description":"Log group app-logs has no retention policy.","Resources":[{"Type":"AwsLogsLogGroup","Id":"arn:aws:logs:us-east-1:111122223333:log-group:app-logs","Partition":"aws","Region":"us-east-1"}],"Compliance":{"Status":"FAILED"}}]`

func storeWorld(t *testing.T) (*respond.StoreWorld, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "canopy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := pipeline.ImportInventory(ctx, st, tenant, []pipeline.InventoryFile{{Name: "inv.jsonl", Format: "canopy-jsonl", R: strings.NewReader(inventoryJSONL)}}); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"ct.json": cloudTrailKeyUse, "low.asff.json": asffLow} {
		if _, err := p.Ingest(ctx, pipeline.Input{Name: name, Tenant: tenant, R: strings.NewReader(data)}); err != nil {
			t.Fatalf("ingest %s: %v", name, err)
		}
	}
	assets, err := risk.NewAssetContext(risk.AssetRule{Tier: risk.TierCrownJewel, Tags: map[string]string{"service": "storefront"}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := respond.NewStoreWorld(respond.StoreWorldOptions{Store: st, Assets: assets})
	if err != nil {
		t.Fatal(err)
	}
	return w, st
}

// TestStoreWorld: resources are found by ARN or by id, referrers by either
// form of the relationship's target, activity with a key from the stored
// events; the blast radius of a security group lists its instances with
// their tiers.
func TestStoreWorld(t *testing.T) {
	ctx := context.Background()
	w, _ := storeWorld(t)
	for _, tt := range []struct {
		uid, want string
	}{
		{"i-0aaaaaaaaaaaaaaa1", "arn:aws:ec2:us-east-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1"},
		{"arn:aws:ec2:us-east-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1", "arn:aws:ec2:us-east-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1"},
		{"sg-0123456789abcdef0", "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0"},
		{"exposed-logs", "arn:aws:s3:::exposed-logs"},
		{"i-0eeeeeeeeeeeeeee5", ""},
	} {
		r, err := w.Resource(ctx, tenant, tt.uid)
		switch {
		case tt.want == "" && !errors.Is(err, respond.ErrUnknown):
			t.Errorf("Resource(%s) = %v, want ErrUnknown", tt.uid, err)
		case tt.want != "" && (err != nil || r.UID != tt.want):
			t.Errorf("Resource(%s) = %s, %v; want %s", tt.uid, r.UID, err, tt.want)
		}
	}
	if r, err := w.Resource(ctx, "another-tenant", "i-0aaaaaaaaaaaaaaa1"); !errors.Is(err, respond.ErrUnknown) {
		t.Errorf("another tenant's world knows %s (%v)", r.UID, err)
	}
	target, affected, notes, err := respond.Blast(ctx, w, tenant, "sg-0123456789abcdef0")
	if err != nil {
		t.Fatal(err)
	}
	if got := uids(affected); !slices.Equal(got, []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1", "arn:aws:ec2:us-east-1:111122223333:instance/i-0bbbbbbbbbbbbbbb2"}) {
		t.Errorf("affected by the group = %v", got)
	}
	if target.Name != "web-ssh" || len(notes) != 0 || affected[0].Tier != risk.TierCrownJewel || affected[0].Service != "storefront" {
		t.Errorf("target %+v, affected %+v, notes %v", target, affected, notes)
	}
	seen, err := w.SeenUsing(ctx, tenant, "AKIAIOSFODNN7EXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	want := []correlate.Entity{{Kind: correlate.KindIP, Value: "203.0.113.9"}, {Kind: correlate.KindResource, Value: "arn:aws:ec2:us-east-1:111122223333:instance/i-0ddddddddddddddd4"}}
	for _, e := range want {
		if !slices.Contains(seen, e) {
			t.Errorf("SeenUsing = %v, want %v among them", seen, e)
		}
	}
	if slices.ContainsFunc(seen, func(e correlate.Entity) bool { return e.Value == "198.51.100.1" || e.Kind == correlate.KindIdentity }) {
		t.Errorf("SeenUsing lists what did not use the key, or identities: %v", seen)
	}
}

// TestStoreWorldTTL: a tenant's inventory is read again once the TTL has
// passed, not before.
func TestStoreWorldTTL(t *testing.T) {
	ctx := context.Background()
	_, st := storeWorld(t)
	now := t0
	w, err := respond.NewStoreWorld(respond.StoreWorldOptions{Store: st, TTL: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resource(ctx, tenant, "i-0eeeeeeeeeeeeeee5"); !errors.Is(err, respond.ErrUnknown) {
		t.Fatalf("unknown instance: %v", err)
	}
	line := `{"provider":"aws","account":"111122223333","region":"us-east-1","type":"AWS::EC2::Instance","uid":"arn:aws:ec2:us-east-1:111122223333:instance/i-0eeeeeeeeeeeeeee5","attributes":{}}`
	if _, err := pipeline.ImportInventory(ctx, st, tenant, []pipeline.InventoryFile{{Name: "more.jsonl", Format: "canopy-jsonl", R: strings.NewReader(line)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resource(ctx, tenant, "i-0eeeeeeeeeeeeeee5"); !errors.Is(err, respond.ErrUnknown) {
		t.Errorf("the inventory was read again within the TTL: %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := w.Resource(ctx, tenant, "i-0eeeeeeeeeeeeeee5"); err != nil {
		t.Errorf("the inventory was not read again after the TTL: %v", err)
	}
}

// TestEnrich adds the offending security group and its open rule (SSH
// before HTTPS) for an instance, and public_bucket for a public bucket;
// a record that already names its rule keeps it.
func TestEnrich(t *testing.T) {
	ctx := context.Background()
	w, _ := storeWorld(t)
	rec := respond.Record{Tenant: tenant, Kind: respond.KindIncident, ID: "x", Labels: []string{"internet_exposed"},
		Entities: []correlate.Entity{{Kind: correlate.KindHost, Value: "i-0aaaaaaaaaaaaaaa1"}, {Kind: correlate.KindResource, Value: "arn:aws:s3:::exposed-logs"},
			{Kind: correlate.KindHost, Value: "i-0unknown0000000"}}}
	got, err := respond.Enrich(ctx, w, rec)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := []string{"internet_exposed", "open_protocol=tcp", "open_port=22", "open_cidr=0.0.0.0/0", "public_bucket"}
	if !slices.Equal(got.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", got.Labels, wantLabels)
	}
	sg := correlate.Entity{Kind: correlate.KindResource, Value: "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0"}
	if !slices.Contains(got.Entities, sg) || len(got.Entities) != 4 {
		t.Errorf("entities = %v", got.Entities)
	}
	if len(rec.Labels) != 1 || len(rec.Entities) != 3 {
		t.Errorf("Enrich changed its argument: %+v", rec)
	}
	rec.Labels = append(rec.Labels, "open_port=3389", "open_cidr=10.0.0.0/8")
	got, err = respond.Enrich(ctx, w, rec)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got.Labels, "open_port=22") || slices.Contains(got.Entities, sg) {
		t.Errorf("a record naming its open rule was given another: %v %v", got.Labels, got.Entities)
	}
	if got, err := respond.Enrich(ctx, respond.NoWorld{}, rec); err != nil || !slices.Equal(got.Labels, rec.Labels) {
		t.Errorf("Enrich with NoWorld = %v, %v", got.Labels, err)
	}
}

// TestLoadRecord builds records from stored findings (risk and labels
// from the issue's stored risk, party from the attribution) and refuses
// unknown ids, other tenants' and issues.
func TestLoadRecord(t *testing.T) {
	ctx := context.Background()
	_, st := storeWorld(t)
	if _, err := pipeline.Correlate(ctx, st, tenant, pipeline.CorrelateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, err := respond.LoadRecord(ctx, st, tenant, respond.Ref{Kind: respond.KindFinding, ID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != respond.KindFinding || rec.Severity != "low" || rec.Class != "compliance_finding" || rec.Source != "Prowler" ||
		rec.Risk <= 0 || rec.Risk >= 40 || rec.Party == "" || rec.Title != "Log group without retention" {
		t.Errorf("record = %+v", rec)
	}
	if !slices.Contains(rec.Entities, correlate.Entity{Kind: correlate.KindResource, Value: "arn:aws:logs:us-east-1:111122223333:log-group:app-logs"}) {
		t.Errorf("entities = %v", rec.Entities)
	}
	for _, tt := range []struct {
		tenant string
		ref    respond.Ref
	}{
		{tenant, respond.Ref{Kind: respond.KindFinding, ID: "99"}},
		{tenant, respond.Ref{Kind: respond.KindFinding, ID: "x"}},
		{"another-tenant", respond.Ref{Kind: respond.KindFinding, ID: "1"}},
		{tenant, respond.Ref{Kind: respond.KindIncident, ID: "nope"}},
	} {
		if _, err := respond.LoadRecord(ctx, st, tt.tenant, tt.ref); !errors.Is(err, respond.ErrNotFound) {
			t.Errorf("LoadRecord(%s, %s) = %v, want ErrNotFound", tt.tenant, tt.ref, err)
		}
	}
	if _, err := respond.LoadRecord(ctx, st, tenant, respond.Ref{Kind: respond.KindIssue, ID: "k"}); err == nil {
		t.Error("LoadRecord of an issue: no error")
	}
}
