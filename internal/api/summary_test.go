package api_test

import (
	"context"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/store"
)

// TestSummary: GET /summary answers the counts of the caller's tenant, by
// severity (most severe first), source and party (biggest first), every
// day of the window, and the risk buckets.
func TestSummary(t *testing.T) {
	now := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	f := newFixtureWith(t, api.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 11, d, 8, 0, 0, 0, time.UTC) }
	mk := func(tenant, fp string, sev int, product string, seen time.Time) store.Row {
		return store.Row{Tenant: tenant, Fingerprint: fp, ClassUID: 2002, SeverityID: sev, Product: product, Format: "x/1", SourceUID: fp,
			Title: "t", Time: seen, Seen: seen, IssueKey: "k-" + fp, OCSF: []byte(`{}`)}
	}
	a, err := f.st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := []store.Row{
		mk("a", "f1", 5, "Trivy", day(1)), mk("a", "f2", 4, "Trivy", day(1)), mk("a", "f3", 4, "Prowler", day(3)),
		mk("a", "f4", 99, "Prowler", day(3)), mk("a", "f5", 0, "Inspector", day(5)), mk("a", "f6", 2, "Trivy", day(5).AddDate(0, -2, 0)),
		mk("b", "g1", 1, "Other", day(2)),
	}
	if _, err := a.UpsertFindings(ctx, rows); err != nil {
		t.Fatal(err)
	}
	ev := mk("a", "e1", 1, "CloudTrail", day(4))
	ev.ClassUID = 6003
	if _, err := a.UpsertEvents(ctx, []store.Row{ev}); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	page, err := f.st.Findings(ctx, store.Query{Tenant: "a", Severities: []int{5}})
	if err != nil || len(page.Records) != 1 {
		t.Fatal(page, err)
	}
	if err := f.st.SetAttributions(ctx, "a", []store.Attribution{{ID: page.Records[0].ID, Party: "customer", Doc: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.ApplyCorrelation(ctx, store.CorrelationUpdate{Tenant: "a", Reset: true, Risks: []store.IssueRisk{
		{Key: "k-f1", Score: 95, Doc: json.RawMessage(`{}`)}, {Key: "k-f2", Score: 100, Doc: json.RawMessage(`{}`)}, {Key: "k-f3", Score: 12, Doc: json.RawMessage(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	viewer := f.token(t, "a", store.RoleViewer)

	code, b := f.do(t, "GET", "/api/v1/summary?days=7", viewer, nil)
	if code != 200 {
		t.Fatalf("summary = %d %s", code, b)
	}
	want := `{"findings":6,"events":1,"issues":3,"incidents":0,
		"by_severity":[{"severity":"Critical","severity_id":5,"count":1},{"severity":"High","severity_id":4,"count":2},{"severity":"Low","severity_id":2,"count":1},
			{"severity":"Other","severity_id":99,"count":1},{"severity":"Unknown","severity_id":0,"count":1}],
		"by_source":[{"source":"Trivy","count":3},{"source":"Prowler","count":2},{"source":"Inspector","count":1}],
		"by_party":[{"party":"","count":5},{"party":"customer","count":1}],
		"trend":[{"day":"2026-10-30","count":0,"by_severity":{}},{"day":"2026-10-31","count":0,"by_severity":{}},
			{"day":"2026-11-01","count":2,"by_severity":{"Critical":1,"High":1}},{"day":"2026-11-02","count":0,"by_severity":{}},
			{"day":"2026-11-03","count":2,"by_severity":{"High":1,"Other":1}},{"day":"2026-11-04","count":0,"by_severity":{}},
			{"day":"2026-11-05","count":1,"by_severity":{"Unknown":1}}],
		"risk_buckets":[{"from":0,"to":9,"count":0},{"from":10,"to":19,"count":1},{"from":20,"to":29,"count":0},{"from":30,"to":39,"count":0},
			{"from":40,"to":49,"count":0},{"from":50,"to":59,"count":0},{"from":60,"to":69,"count":0},{"from":70,"to":79,"count":0},
			{"from":80,"to":89,"count":0},{"from":90,"to":100,"count":2}]}`
	if !sameJSON(t, b, want) {
		t.Errorf("summary =\n%s\nwant\n%s", b, want)
	}

	var def api.SummaryResponse
	if code, b := f.do(t, "GET", "/api/v1/summary", viewer, nil); code != 200 || json.Unmarshal(b, &def) != nil {
		t.Fatalf("summary without days = %d %s", code, b)
	}
	if len(def.Trend) != api.DefaultSummaryDays || def.Trend[0].Day != "2026-10-07" || def.Trend[29].Day != "2026-11-05" {
		t.Errorf("default window: %d days, %+v … %+v", len(def.Trend), def.Trend[0], def.Trend[len(def.Trend)-1])
	}
	var year api.SummaryResponse
	if code, b := f.do(t, "GET", "/api/v1/summary?days=366", viewer, nil); code != 200 || json.Unmarshal(b, &year) != nil {
		t.Fatalf("summary of 366 days = %d %s", code, b)
	}
	total := int64(0)
	for _, d := range year.Trend {
		total += d.Count
	}
	if len(year.Trend) != 366 || total != 6 {
		t.Errorf("366 days: %d days, %d new findings; want 366 and 6", len(year.Trend), total)
	}

	// tenant b sees its own
	var sb api.SummaryResponse
	if code, b := f.do(t, "GET", "/api/v1/summary", f.token(t, "b", store.RoleViewer), nil); code != 200 || json.Unmarshal(b, &sb) != nil {
		t.Fatalf("summary of b = %d %s", code, b)
	}
	if sb.Findings != 1 || sb.Events != 0 || sb.Issues != 0 || !reflect.DeepEqual(sb.BySource, []api.SourceCount{{Source: "Other", Count: 1}}) {
		t.Errorf("summary of b = %+v", sb)
	}

	for _, days := range []string{"0", "367", "x", "-1"} {
		if code, b := f.do(t, "GET", "/api/v1/summary?days="+days, viewer, nil); code != 400 || !strings.Contains(string(b), "bad_request") {
			t.Errorf("days=%s: %d %s, want 400", days, code, b)
		}
	}
	if code, _ := f.do(t, "GET", "/api/v1/summary", "", nil); code != 401 {
		t.Errorf("summary without a token = %d, want 401", code)
	}
}

// TestTextSearch: ?q= keeps the findings, and the issues, whose title or
// resource uid contains the text in any letter case.
func TestTextSearch(t *testing.T) {
	f := newFixture(t, false)
	analyst := f.token(t, "a", store.RoleAnalyst)
	if code, b := f.do(t, "POST", "/api/v1/ingest?name=alpine.json", analyst, report(t)); code != 200 {
		t.Fatalf("ingest = %d %s", code, b)
	}
	tests := []struct {
		q              string
		findings, want int // findings and issues
	}{
		{"FORK()", 2, 2},
		{"rsaz", 2, 2},
		{"openssl:", 4, 4},
		{"100%", 0, 0},
		{"", 4, 4},
	}
	for _, tt := range tests {
		_, b := f.do(t, "GET", "/api/v1/findings?limit=1&q="+url.QueryEscape(tt.q), analyst, nil)
		var l api.ListResponse
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		n := len(l.Items)
		for cursor := l.NextCursor; cursor != ""; {
			_, b := f.do(t, "GET", "/api/v1/findings?limit=1&q="+url.QueryEscape(tt.q)+"&cursor="+cursor, analyst, nil)
			var p api.ListResponse
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			n += len(p.Items)
			cursor = p.NextCursor
		}
		if n != tt.findings {
			t.Errorf("q=%q: %d findings, want %d", tt.q, n, tt.findings)
		}
		_, b = f.do(t, "GET", "/api/v1/issues?q="+url.QueryEscape(tt.q), analyst, nil)
		var is api.IssuesResponse
		if err := json.Unmarshal(b, &is); err != nil {
			t.Fatal(err)
		}
		if len(is.Items) != tt.want {
			t.Errorf("q=%q: %d issues, want %d", tt.q, len(is.Items), tt.want)
		}
	}
	long := strings.Repeat("é", store.MaxText+1)
	for _, path := range []string{"/api/v1/findings", "/api/v1/issues"} {
		if code, b := f.do(t, "GET", path+"?q="+url.QueryEscape(long), analyst, nil); code != 400 {
			t.Errorf("%s with a q of %d characters = %d %s, want 400", path, store.MaxText+1, code, b)
		}
	}
	if code, _ := f.do(t, "GET", "/api/v1/findings?q="+url.QueryEscape(strings.Repeat("é", store.MaxText)), analyst, nil); code != 200 {
		t.Errorf("a q of %d characters = %d, want 200", store.MaxText, code)
	}
}

func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatalf("want: %v", err)
	}
	return reflect.DeepEqual(a, b)
}
