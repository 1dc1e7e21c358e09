package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/inproc"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

type fixture struct {
	srv *httptest.Server
	st  *sqlite.Store
	api *api.Server
}

func newFixture(t *testing.T, insecure bool) *fixture {
	t.Helper()
	return newFixtureWith(t, api.Options{Insecure: insecure})
}

func newFixtureWith(t *testing.T, opts api.Options) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "canopy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := pipeline.New(pipeline.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Pipeline, opts.Version = st, p, "test"
	if opts.Router == nil {
		rt, err := route.New(route.Options{Store: st, MinSeverity: 1})
		if err != nil {
			t.Fatal(err)
		}
		opts.Router = rt
	}
	opts.Correlate = func(ctx context.Context, tenant string) (pipeline.CorrelateResult, error) {
		return pipeline.Correlate(ctx, st, tenant, pipeline.CorrelateOptions{OnAttributed: opts.Router.Attributed, RouteMinSeverity: 1})
	}
	if opts.Enqueue != nil {
		enqueue := opts.Enqueue
		opts.Enqueue = func(ctx context.Context, in pipeline.Input) (store.Job, error) {
			return enqueueWith(ctx, p, st, in, enqueue)
		}
	}
	a, err := api.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, st: st, api: a}
}

func (f *fixture) token(t *testing.T, tenant string, role store.Role) string {
	t.Helper()
	secret, tok, err := api.NewToken("t-"+tenant+"-"+string(role), tenant, role, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return secret
}

func (f *fixture) do(t *testing.T, method, path, token string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func report(t *testing.T) *os.File {
	t.Helper()
	fh, err := os.Open("testdata/image-alpine-3.10.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	return fh
}

func TestAuthAndTenants(t *testing.T) {
	f := newFixture(t, false)
	adminA := f.token(t, "a", store.RoleAdmin)
	viewerA := f.token(t, "a", store.RoleViewer)
	analystB := f.token(t, "b", store.RoleAnalyst)

	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{"no token", "GET", "/api/v1/findings", "", 401},
		{"bad token", "GET", "/api/v1/findings", "cnp_nope", 401},
		{"not bearer", "GET", "/api/v1/findings", "", 401},
		{"healthz is open", "GET", "/api/v1/healthz", "", 200},
		{"openapi is open", "GET", "/api/v1/openapi.json", "", 200},
		{"metrics need a token", "GET", "/api/v1/metrics", "", 401},
		{"viewer reads", "GET", "/api/v1/findings", viewerA, 200},
		{"viewer cannot ingest", "POST", "/api/v1/ingest", viewerA, 403},
		{"viewer cannot list tokens", "GET", "/api/v1/tokens", viewerA, 403},
		{"admin lists tokens", "GET", "/api/v1/tokens", adminA, 200},
		{"unknown route", "GET", "/api/v1/nope", adminA, 404},
	}
	for _, tt := range tests {
		var body io.Reader
		if tt.method == "POST" {
			body = report(t)
		}
		code, b := f.do(t, tt.method, tt.path, tt.token, body)
		if code != tt.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, code, b, tt.want)
		}
	}

	// tenant b ingests; tenant a sees nothing of it
	code, b := f.do(t, "POST", "/api/v1/ingest?name=alpine.json", analystB, report(t))
	if code != 200 {
		t.Fatalf("ingest = %d %s", code, b)
	}
	var ir api.IngestResponse
	if err := json.Unmarshal(b, &ir); err != nil || len(ir.Files) != 1 || ir.Files[0].FindingsNew == 0 || ir.Files[0].Format != "trivy" {
		t.Fatalf("ingest response %s (%v)", b, err)
	}
	_, b = f.do(t, "GET", "/api/v1/findings", viewerA, nil)
	var la api.ListResponse
	json.Unmarshal(b, &la)
	if len(la.Items) != 0 {
		t.Errorf("tenant a sees %d findings of tenant b", len(la.Items))
	}
	_, b = f.do(t, "GET", "/api/v1/findings?limit=2", analystB, nil)
	var lb api.ListResponse
	json.Unmarshal(b, &lb)
	if len(lb.Items) != 2 || lb.NextCursor == "" {
		t.Fatalf("tenant b page = %s", b)
	}
	id := lb.Items[0].ID
	if code, _ := f.do(t, "GET", "/api/v1/findings/"+itoa(id), viewerA, nil); code != 404 {
		t.Errorf("tenant a reading tenant b's finding = %d, want 404", code)
	}
	if code, b := f.do(t, "GET", "/api/v1/findings/"+itoa(id), analystB, nil); code != 200 || !strings.Contains(string(b), `"class_uid":2002`) {
		t.Errorf("tenant b reading its finding = %d %s", code, b)
	}
	// follow the cursor to the end: every finding once
	seen := map[int64]bool{}
	cursor := ""
	for {
		_, b := f.do(t, "GET", "/api/v1/findings?limit=1&cursor="+cursor, analystB, nil)
		var p api.ListResponse
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Errorf("finding %d twice", it.ID)
			}
			seen[it.ID] = true
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(seen) != ir.Files[0].FindingsNew {
		t.Errorf("paged %d findings, ingested %d", len(seen), ir.Files[0].FindingsNew)
	}
	if code, b := f.do(t, "GET", "/api/v1/findings?severity=bogus", analystB, nil); code != 400 || !strings.Contains(string(b), "bad_request") {
		t.Errorf("bad filter = %d %s", code, b)
	}
	if code, b := f.do(t, "POST", "/api/v1/ingest", analystB, strings.NewReader(`{"not":"a report"}`)); code != 422 || !strings.Contains(string(b), "unknown_format") {
		t.Errorf("unknown content = %d %s", code, b)
	}
	if code, b := f.do(t, "POST", "/api/v1/ingest?format=trivy", analystB, strings.NewReader(`{"SchemaVersion":2,"Results":[{"Target":"x","Vulnerabilities":[{"VulnerabilityID":`)); code != 422 || !strings.Contains(string(b), "record 1") {
		t.Errorf("truncated body = %d %s", code, b)
	}
}

func TestTokensAPI(t *testing.T) {
	f := newFixture(t, false)
	admin := f.token(t, "a", store.RoleAdmin)
	code, b := f.do(t, "POST", "/api/v1/tokens", admin, strings.NewReader(`{"name":"ci","role":"analyst"}`))
	if code != 201 {
		t.Fatalf("create = %d %s", code, b)
	}
	var out struct{ ID, Token, Tenant string }
	json.Unmarshal(b, &out)
	if !strings.HasPrefix(out.Token, api.TokenPrefix) || out.Tenant != "a" {
		t.Fatalf("created %s", b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/ingest", out.Token, report(t)); code != 200 {
		t.Errorf("new analyst token ingest = %d", code)
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/tokens/"+out.ID, admin, nil); code != 204 {
		t.Errorf("revoke = %d", code)
	}
	if code, _ := f.do(t, "GET", "/api/v1/findings", out.Token, nil); code != 401 {
		t.Errorf("revoked token = %d, want 401", code)
	}
	otherAdmin := f.token(t, "b", store.RoleAdmin)
	if code, _ := f.do(t, "DELETE", "/api/v1/tokens/"+out.ID, otherAdmin, nil); code != 404 {
		t.Errorf("revoking another tenant's token = %d, want 404", code)
	}
}

func TestInsecureLocal(t *testing.T) {
	f := newFixture(t, true)
	if code, b := f.do(t, "POST", "/api/v1/ingest", "", report(t)); code != 200 {
		t.Fatalf("insecure ingest = %d %s", code, b)
	}
	if code, _ := f.do(t, "GET", "/api/v1/findings", "", nil); code != 200 {
		t.Errorf("insecure list = %d", code)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, false)
	tok := f.token(t, "a", store.RoleAnalyst)
	f.do(t, "POST", "/api/v1/ingest", tok, report(t))
	code, b := f.do(t, "GET", "/api/v1/metrics", tok, nil)
	if code != 200 || !strings.Contains(string(b), `canopy_ingested_records_total{format="trivy",kind="finding_new"}`) || !strings.Contains(string(b), "canopy_http_requests_total") {
		t.Errorf("metrics = %d\n%s", code, b)
	}
}

// TestOpenAPIDocumentsEveryRoute requires every registered route, and no
// other, to be in the OpenAPI document.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newFixture(t, false)
	_, b := f.do(t, "GET", "/api/v1/openapi.json", "", nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+path)
		}
	}
	routes := f.api.Routes()
	sort.Strings(documented)
	sort.Strings(routes)
	if strings.Join(documented, "\n") != strings.Join(routes, "\n") {
		t.Errorf("documented routes:\n%s\nregistered routes:\n%s", strings.Join(documented, "\n"), strings.Join(routes, "\n"))
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// enqueueWith lets a test hook the fixture's pipeline and store into an
// Enqueue option: the hook's own result is ignored.
func enqueueWith(ctx context.Context, p *pipeline.Pipeline, st *sqlite.Store, in pipeline.Input, _ func(context.Context, pipeline.Input) (store.Job, error)) (store.Job, error) {
	q, err := inproc.New(inproc.Options{Workers: 1})
	if err != nil {
		return store.Job{}, err
	}
	go q.Consume(context.Background(), func(ctx context.Context, b bus.Batch) error { return pipeline.Apply(ctx, st, b) })
	return p.Enqueue(ctx, in, st, q, 0)
}

func TestEnqueueMode(t *testing.T) {
	f := newFixtureWith(t, api.Options{Enqueue: func(context.Context, pipeline.Input) (store.Job, error) { return store.Job{}, nil }})
	tok := f.token(t, "a", store.RoleAnalyst)
	code, b := f.do(t, "POST", "/api/v1/ingest?name=alpine.json", tok, report(t))
	if code != 202 {
		t.Fatalf("enqueue = %d %s", code, b)
	}
	var out struct{ Job struct{ ID, Status string } }
	if err := json.Unmarshal(b, &out); err != nil || out.Job.ID == "" {
		t.Fatalf("%s %v", b, err)
	}
	var job struct {
		Status      string
		Records     int
		FindingsNew int `json:"findings_new"`
	}
	for i := 0; i < 500 && job.Status != "done"; i++ {
		_, b = f.do(t, "GET", "/api/v1/ingests/"+out.Job.ID, tok, nil)
		json.Unmarshal(b, &job)
		time.Sleep(10 * time.Millisecond)
	}
	if job.Status != "done" || job.Records == 0 || job.FindingsNew != job.Records {
		t.Fatalf("job = %s", b)
	}
	other := f.token(t, "b", store.RoleViewer)
	if code, _ := f.do(t, "GET", "/api/v1/ingests/"+out.Job.ID, other, nil); code != 404 {
		t.Errorf("another tenant polls the job: %d", code)
	}
}

func TestRolesAndReadiness(t *testing.T) {
	down := true
	f := newFixtureWith(t, api.Options{Role: api.RoleQuery, Ready: func(context.Context) error {
		if down {
			return errors.New("store unreachable")
		}
		return nil
	}})
	tok := f.token(t, "a", store.RoleAdmin)
	if code, b := f.do(t, "POST", "/api/v1/ingest", tok, report(t)); code != 404 || !strings.Contains(string(b), "not_served") {
		t.Errorf("ingest on an api node = %d %s", code, b)
	}
	if code, _ := f.do(t, "GET", "/api/v1/findings", tok, nil); code != 200 {
		t.Errorf("findings on an api node = %d", code)
	}
	if code, b := f.do(t, "GET", "/api/v1/readyz", "", nil); code != 503 || !strings.Contains(string(b), "not_ready") {
		t.Errorf("readyz while down = %d %s", code, b)
	}
	down = false
	if code, _ := f.do(t, "GET", "/api/v1/readyz", "", nil); code != 200 {
		t.Errorf("readyz = %d", code)
	}
	w := newFixtureWith(t, api.Options{Role: api.RoleOps})
	wt := w.token(t, "a", store.RoleAdmin)
	for _, p := range []string{"/api/v1/findings", "/api/v1/tokens", "/api/v1/ingests/x"} {
		if code, _ := w.do(t, "GET", p, wt, nil); code != 404 {
			t.Errorf("worker node serves %s: %d", p, code)
		}
	}
	if code, _ := w.do(t, "GET", "/api/v1/healthz", "", nil); code != 200 {
		t.Errorf("worker healthz = %d", code)
	}
}

func TestIncidentsAPI(t *testing.T) {
	f := newFixture(t, false)
	tok := f.token(t, "a", store.RoleAnalyst)
	files, _ := filepath.Glob("../../cmd/canopy/testdata/intrusion/*.json*")
	if len(files) != 3 {
		t.Fatalf("scenario files: %v", files)
	}
	for _, p := range files {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		code, b := f.do(t, "POST", "/api/v1/ingest?name="+filepath.Base(p), tok, fh)
		fh.Close()
		if code != 200 {
			t.Fatalf("ingest %s = %d %s", p, code, b)
		}
	}
	code, b := f.do(t, "GET", "/api/v1/incidents", tok, nil)
	var out struct {
		Items []struct {
			Members []string
			Risk    struct{ Score int }
		}
	}
	if err := json.Unmarshal(b, &out); err != nil || code != 200 {
		t.Fatalf("incidents = %d %s", code, b)
	}
	if len(out.Items) != 1 || len(out.Items[0].Members) != 5 {
		t.Errorf("incidents = %s", b)
	}
	var first struct{ Items []struct{ ID string } }
	json.Unmarshal(b, &first)
	if code, b := f.do(t, "GET", "/api/v1/incidents/"+first.Items[0].ID, tok, nil); code != 200 || !strings.Contains(string(b), `"class_uid":2005`) {
		t.Errorf("incident = %d %.200s", code, b)
	}
	// expand=members describes each member for a timeline
	code, b = f.do(t, "GET", "/api/v1/incidents/"+first.Items[0].ID+"?expand=members", tok, nil)
	var expanded struct {
		Members       []string
		MemberRecords []struct {
			Ref, Kind, Title, Product string
			Time                      time.Time
			Tactics                   []struct{ ID, Name string }
			Entities                  []struct{ Kind, Value string }
		} `json:"member_records"`
	}
	if err := json.Unmarshal(b, &expanded); err != nil || code != 200 || len(expanded.MemberRecords) != len(expanded.Members) {
		t.Fatalf("expanded incident = %d %.300s", code, b)
	}
	tactics, linked := 0, 0
	for i, m := range expanded.MemberRecords {
		if m.Ref != expanded.Members[i] || m.Time.IsZero() || m.Title == "" || m.Product == "" || (m.Kind != "finding" && m.Kind != "event") {
			t.Errorf("member %d = %+v", i, m)
		}
		tactics += len(m.Tactics)
		linked += len(m.Entities)
	}
	if tactics == 0 || linked < len(expanded.MemberRecords) {
		t.Errorf("members name %d tactics and %d linking entities: %s", tactics, linked, b)
	}
	if code, _ := f.do(t, "GET", "/api/v1/incidents/"+first.Items[0].ID+"?expand=all", tok, nil); code != 400 {
		t.Errorf("expand=all = %d, want 400", code)
	}
	other := f.token(t, "b", store.RoleViewer)
	if code, _ := f.do(t, "GET", "/api/v1/incidents/"+first.Items[0].ID, other, nil); code != 404 {
		t.Errorf("another tenant reads the incident: %d", code)
	}
	if _, b := f.do(t, "GET", "/api/v1/incidents", other, nil); !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("another tenant sees incidents: %s", b)
	}
	if code, _ := f.do(t, "GET", "/api/v1/incidents?limit=soon", tok, nil); code != 400 {
		t.Errorf("bad limit = %d", code)
	}
	// findings and issues by risk: the intrusion's findings carry scores
	code, b = f.do(t, "GET", "/api/v1/issues?sort=risk", tok, nil)
	var issues struct {
		Items []struct {
			Risk struct{ Score int }
		}
	}
	if err := json.Unmarshal(b, &issues); err != nil || code != 200 || len(issues.Items) == 0 {
		t.Fatalf("issues by risk = %d %s", code, b)
	}
	for i := 1; i < len(issues.Items); i++ {
		if issues.Items[i].Risk.Score > issues.Items[i-1].Risk.Score {
			t.Errorf("issues not riskiest first: %s", b)
		}
	}
	if code, _ := f.do(t, "GET", "/api/v1/findings?sort=risk", tok, nil); code != 200 {
		t.Errorf("findings by risk = %d", code)
	}
	if code, _ := f.do(t, "GET", "/api/v1/findings?sort=oldest", tok, nil); code != 400 {
		t.Errorf("bad sort = %d", code)
	}
}

// TestPostureAPI: import an inventory, scan it, read the pack's compliance
// state, record evidence; tenants see only their own.
func TestPostureAPI(t *testing.T) {
	f := newFixture(t, false)
	tok := f.token(t, "a", store.RoleAnalyst)
	fh, err := os.Open("../../cmd/canopy/testdata/posture/aws-misconfigured.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	code, b := f.do(t, "POST", "/api/v1/inventory?name=acct.jsonl", tok, fh)
	fh.Close()
	if code != 200 || !strings.Contains(string(b), `"resources":30`) {
		t.Fatalf("inventory import = %d %s", code, b)
	}
	if code, b := f.do(t, "POST", "/api/v1/inventory", tok, strings.NewReader(`{"hello":1}`)); code != 422 {
		t.Errorf("unknown inventory = %d %s", code, b)
	}
	if code, b := f.do(t, "GET", "/api/v1/inventory?type=AWS::S3::Bucket&limit=1", tok, nil); code != 200 || !strings.Contains(string(b), `"next_after"`) {
		t.Errorf("inventory list = %d %s", code, b)
	}
	code, b = f.do(t, "POST", "/api/v1/scans", tok, strings.NewReader(`{"packs":["cis-aws-3.0"],"now":"2025-01-01T00:00:00Z"}`))
	var scan struct {
		Scan     struct{ Failed, Findings int }
		Failures []struct {
			RuleID string `json:"rule_id"`
		}
	}
	if err := json.Unmarshal(b, &scan); err != nil || code != 200 || scan.Scan.Failed == 0 || len(scan.Failures) != scan.Scan.Failed {
		t.Fatalf("scan = %d %s", code, b)
	}
	code, b = f.do(t, "GET", "/api/v1/compliance/cis-aws-3.0", tok, nil)
	var comp struct {
		Score    *float64
		Controls []struct{ ID, Status string }
	}
	if err := json.Unmarshal(b, &comp); err != nil || code != 200 || comp.Score == nil || *comp.Score <= 0 || *comp.Score >= 1 {
		t.Fatalf("compliance = %d %.500s", code, b)
	}
	status := map[string]string{}
	for _, c := range comp.Controls {
		status[c.ID] = c.Status
	}
	if status["2.1.4"] != "failed" || status["1.1"] != "manual" || len(comp.Controls) != 62 {
		t.Errorf("control statuses: 2.1.4 %s, 1.1 %s, %d controls", status["2.1.4"], status["1.1"], len(comp.Controls))
	}
	if code, b := f.do(t, "PUT", "/api/v1/compliance/cis-aws-3.0/evidence/1.1", tok, strings.NewReader(`{"status":"submitted","reference":"https://wiki/contacts"}`)); code != 200 {
		t.Errorf("evidence = %d %s", code, b)
	}
	if code, _ := f.do(t, "PUT", "/api/v1/compliance/cis-aws-3.0/evidence/9.9", tok, strings.NewReader(`{"status":"submitted"}`)); code != 404 {
		t.Errorf("evidence of an unknown control = %d", code)
	}
	if code, _ := f.do(t, "PUT", "/api/v1/compliance/cis-aws-3.0/evidence/1.1", tok, strings.NewReader(`{"status":"done"}`)); code != 400 {
		t.Errorf("bad evidence status = %d", code)
	}
	if _, b := f.do(t, "GET", "/api/v1/compliance/cis-aws-3.0", tok, nil); !strings.Contains(string(b), `"reference":"https://wiki/contacts"`) {
		t.Errorf("evidence not shown: %.300s", b)
	}
	if code, b := f.do(t, "GET", "/api/v1/compliance/cis-aws-3.0/report", tok, nil); code != 200 || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "acme-public-site") {
		t.Errorf("html report = %d %.300s", code, b)
	}
	if code, b := f.do(t, "GET", "/api/v1/compliance/cis-aws-3.0/report?format=csv", tok, nil); code != 200 || !strings.Contains(string(b), "2.1.4") {
		t.Errorf("csv report = %d %.300s", code, b)
	}
	if code, _ := f.do(t, "GET", "/api/v1/compliance/cis-aws-3.0/report?format=pdf", tok, nil); code != 400 {
		t.Errorf("bad report format = %d", code)
	}
	other := f.token(t, "b", store.RoleViewer)
	if code, _ := f.do(t, "GET", "/api/v1/compliance/cis-aws-3.0/report", other, nil); code != 404 {
		t.Errorf("another tenant's report = %d, want 404 (never scanned)", code)
	}
	if _, b := f.do(t, "GET", "/api/v1/compliance/cis-aws-3.0", other, nil); !strings.Contains(string(b), `"scan":null`) {
		t.Errorf("another tenant sees the scan: %.300s", b)
	}
	if _, b := f.do(t, "GET", "/api/v1/inventory", other, nil); !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("another tenant sees the inventory: %.300s", b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/scans", other, nil); code != 403 {
		t.Errorf("a viewer scans: %d", code)
	}
	if code, _ := f.do(t, "GET", "/api/v1/compliance/nope", tok, nil); code != 404 {
		t.Errorf("unknown pack = %d", code)
	}
}

// TestAuditAPI: ingests are recorded in the tenant's audit chain, which
// verifies; notices need a notify configuration.
func TestAuditAPI(t *testing.T) {
	f := newFixture(t, false)
	admin := f.token(t, "a", store.RoleAdmin)
	data, err := os.ReadFile("../../cmd/canopy/testdata/image-alpine-3.10.json")
	if err != nil {
		t.Fatal(err)
	}
	if code, b := f.do(t, "POST", "/api/v1/ingest?name=alpine.json", admin, bytes.NewReader(data)); code != 200 {
		t.Fatalf("ingest = %d %s", code, b)
	}
	code, b := f.do(t, "GET", "/api/v1/audit/verify", admin, nil)
	var v struct {
		OK   bool
		Head struct{ Count int }
	}
	if err := json.Unmarshal(b, &v); err != nil || code != 200 || !v.OK || v.Head.Count < 2 {
		t.Fatalf("audit verify = %d %s", code, b)
	}
	if code, b := f.do(t, "GET", "/api/v1/kpi", admin, nil); code != 200 || !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("kpi = %d %s", code, b)
	}
	if code, b := f.do(t, "GET", "/api/v1/notices", admin, nil); code != 200 || !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("notices = %d %s", code, b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/notices/x/ack", admin, nil); code != 501 {
		t.Errorf("ack without notify config = %d", code)
	}
	viewer := f.token(t, "a", store.RoleViewer)
	if code, _ := f.do(t, "GET", "/api/v1/audit/verify", viewer, nil); code != 403 {
		t.Errorf("a viewer verifies the audit chain: %d", code)
	}
}

// TestDataScanAPI: an admin grades a directory of files; viewers may not.
func TestDataScanAPI(t *testing.T) {
	f := newFixture(t, false)
	admin := f.token(t, "a", store.RoleAdmin)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte("name,email\nA,a1@example.cn\nB,b2@example.cn\n"), 0o644)
	body, _ := json.Marshal(map[string]any{"targets": []string{dir}})
	code, b := f.do(t, "POST", "/api/v1/datascans", admin, bytes.NewReader(body))
	if code != 200 || !strings.Contains(string(b), `"level"`) || strings.Contains(string(b), "a1@example.cn") {
		t.Fatalf("datascan = %d %.400s", code, b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/datascans", f.token(t, "a", store.RoleAnalyst), bytes.NewReader(body)); code != 403 {
		t.Errorf("an analyst scans the server's files: %d", code)
	}
}
