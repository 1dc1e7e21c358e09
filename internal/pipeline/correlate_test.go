package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// TestCorrelateIncrementalConcurrent ingests generated CloudTrail events in
// four parts, correlating after each from two goroutines at once in small
// steps: every record is correlated exactly once, the incidents are the
// ones a rebuild finds, and the rebuild keeps their ids. On SQLite and on
// PostgreSQL.
func TestCorrelateIncrementalConcurrent(t *testing.T) {
	stores := map[string]func(t *testing.T) pipeline.Correlator{
		"sqlite": func(t *testing.T) pipeline.Correlator {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "canopy.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) pipeline.Correlator {
			s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			ctx := context.Background()
			p, err := pipeline.New(pipeline.Options{Store: st.(store.Store)})
			if err != nil {
				t.Fatal(err)
			}
			var all bytes.Buffer
			ingesttest.CloudTrailEvents(&all, 4000)
			lines := strings.SplitAfter(all.String(), "\n")
			// users repeat 2,000 events (3.5 days) apart: a week's window links each pair
			opts := pipeline.CorrelateOptions{Batch: 300, IncidentOptions: pipeline.IncidentOptions{Window: 7 * 24 * time.Hour}}
			for part := 0; part < 4; part++ {
				in := strings.Join(lines[part*1000:(part+1)*1000], "")
				if _, err := p.Ingest(ctx, pipeline.Input{Name: fmt.Sprintf("part%d.jsonl", part), R: strings.NewReader(in)}); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for g := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[g] = pipeline.Correlate(ctx, st, "default", opts)
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatalf("part %d: %v", part, err)
					}
				}
			}
			state, err := st.CorrelationState(ctx, "default")
			if err != nil || state.Records != 4000 {
				t.Fatalf("state = %+v, %v; want 4000 records", state, err)
			}
			if q, _ := st.Queued(ctx, "default", 10); len(q) != 0 {
				t.Fatalf("still queued: %v", q)
			}
			incremental := incidentSets(t, st)
			if len(incremental) != 2000 {
				t.Fatalf("%d incidents, want 2000 pairs", len(incremental))
			}
			opts.Rebuild = true
			res, err := pipeline.Correlate(ctx, st, "default", opts)
			if err != nil || !res.Rebuilt || res.Records != 4000 || res.Incidents != 2000 || res.Merged != 0 {
				t.Fatalf("rebuild = %+v, %v", res, err)
			}
			rebuilt := incidentSets(t, st)
			if !slices.Equal(incremental, rebuilt) {
				t.Errorf("incremental and rebuilt incidents differ:\n%v\n%v", incremental[:3], rebuilt[:3])
			}
		})
	}
}

// incidentSets lists the stored incidents as "id: members", sorted, and
// checks no record is in two of them.
func incidentSets(t *testing.T, st pipeline.Correlator) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	seen := map[store.Ref]string{}
	for offset := 0; ; offset += store.MaxPage {
		rows, err := st.Incidents(ctx, store.IncidentQuery{Tenant: "default", Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			in, err := st.Incident(ctx, "default", r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range in.Members {
				if other, dup := seen[m]; dup {
					t.Fatalf("%s is in incidents %s and %s", m, other, r.ID)
				}
				seen[m] = r.ID
			}
			out = append(out, fmt.Sprint(r.ID, ": ", in.Members))
		}
		if len(rows) < store.MaxPage {
			break
		}
	}
	slices.Sort(out)
	return out
}

// TestOnIncidents: the first correlation passes every incident to
// OnIncidents, an incremental step the ones it wrote, an explicit rebuild
// none.
func TestOnIncidents(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "canopy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := pipeline.New(pipeline.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	event := func(i int, user string) string {
		return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%s0000001","arn":"arn:aws:iam::111122223333:user/%s","accountId":"111122223333","userName":"%s"},"eventTime":"2026-05-0%dT10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.%d","userAgent":"aws-cli/2","requestParameters":null,"responseElements":null,"requestID":"r%d","eventID":"e%d","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}`+"\n",
			strings.ToUpper(user), user, user, 1+i, 10+i, i, i)
	}
	// part one: alice twice (an incident); part two: alice again (it
	// grows) and bob twice (a new one)
	parts := []string{event(0, "alice") + event(1, "alice"), event(2, "alice") + event(3, "bob") + event(4, "bob")}
	var got [][]string
	opts := pipeline.CorrelateOptions{IncidentOptions: pipeline.IncidentOptions{Window: 7 * 24 * time.Hour},
		OnIncidents: func(_ context.Context, tenant string, ids []string) error {
			if tenant != "default" {
				t.Errorf("tenant %q", tenant)
			}
			got = append(got, slices.Sorted(slices.Values(ids)))
			return nil
		}}
	for i, part := range parts {
		if _, err := p.Ingest(ctx, pipeline.Input{Name: fmt.Sprintf("p%d.jsonl", i), R: strings.NewReader(part)}); err != nil {
			t.Fatal(err)
		}
		res, err := pipeline.Correlate(ctx, st, "default", opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != i+1 || len(got[i]) != res.Incidents {
			t.Fatalf("after part %d: OnIncidents got %v; correlation wrote %d incidents", i, got, res.Incidents)
		}
	}
	if len(got[0]) != 1 || len(got[1]) != 2 || !slices.Contains(got[1], got[0][0]) {
		t.Fatalf("OnIncidents got %v, want one incident, then it and a new one", got)
	}
	opts.Rebuild = true
	if _, err := pipeline.Correlate(ctx, st, "default", opts); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("a rebuild called OnIncidents: %v", got)
	}
}

// TestFirstCorrelationWithoutHooks: a tenant's first correlation of
// severe findings needs no route hook.
func TestFirstCorrelationWithoutHooks(t *testing.T) {
	p, st := newPipeline(t)
	ctx := context.Background()
	data, err := os.ReadFile("../../cmd/canopy/testdata/image-alpine-3.10.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest(ctx, pipeline.Input{Name: "a.json", R: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Correlate(ctx, st, "default", pipeline.CorrelateOptions{RouteMinSeverity: 1})
	if err != nil || !res.Rebuilt || res.Records == 0 {
		t.Fatalf("first correlation = %+v, %v", res, err)
	}
}
