package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

type result struct {
	code           int
	stdout, stderr string
}

func canopy(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func TestIngestAndList(t *testing.T) {
	data := t.TempDir()
	r := canopy(t, "", "ingest", "--data", data, "--output", "json", "testdata/image-alpine-3.10.json")
	if r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	var sum struct {
		Files []struct {
			Path            string
			Format          string
			Records         int
			FindingsNew     int `json:"findings_new"`
			FindingsUpdated int `json:"findings_updated"`
			Events          int
			Errors          []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(sum.Files) != 1 || sum.Files[0].Format != "trivy" || sum.Files[0].Records == 0 || sum.Files[0].Records != sum.Files[0].FindingsNew {
		t.Fatalf("summary %s", r.stdout)
	}
	if !strings.Contains(r.stdout, `"findings_new"`) || !strings.Contains(r.stdout, `"errors": []`) {
		t.Errorf("summary keys: %s", r.stdout)
	}
	n := sum.Files[0].Records

	// stdin, with an explicit format; everything is a duplicate now
	alpine, _ := os.ReadFile("testdata/image-alpine-3.10.json")
	r = canopy(t, string(alpine), "ingest", "--data", data, "--format", "trivy", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "0 new findings, "+itoa(n)+" updated findings") {
		t.Fatalf("re-ingest from stdin: %+v", r)
	}

	r = canopy(t, "", "findings", "--data", data, "--output", "json", "--limit", "0")
	var list []struct {
		ID          int64
		Fingerprint string
		Count       int
		FirstSeen   time.Time `json:"first_seen"`
		LastSeen    time.Time `json:"last_seen"`
		OCSF        map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(list) != n {
		t.Fatalf("listed %d findings, want %d", len(list), n)
	}
	for _, f := range list {
		if f.Count != 2 || f.Fingerprint == "" || f.OCSF["class_uid"] == nil || f.LastSeen.Before(f.FirstSeen) {
			t.Errorf("finding %+v", f)
		}
	}
	r = canopy(t, "", "findings", "--data", data, "--output", "ocsf", "--severity", "medium,high")
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("ocsf line %q: %v", line, err)
		}
		if s := rec["severity"]; s != "Medium" && s != "High" {
			t.Errorf("severity filter let %v through", s)
		}
	}
	r = canopy(t, "", "findings", "--data", data, "--source", "grype")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("source filter: %+v", r)
	}
	r = canopy(t, "", "findings", "--data", data, "--class", "vulnerability", "--limit", "2")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 3 || !strings.HasPrefix(r.stdout, "ID") {
		t.Errorf("table: %+v", r)
	}
}

func TestIngestErrors(t *testing.T) {
	data := t.TempDir()
	alpine, _ := os.ReadFile("testdata/image-alpine-3.10.json")
	cut := filepath.Join(t.TempDir(), "cut.json")
	os.WriteFile(cut, alpine[:len(alpine)/2], 0o644)

	r := canopy(t, "", "ingest", "--data", data, cut)
	if r.code != 1 {
		t.Fatalf("truncated file exit %d", r.code)
	}
	want := regexp.MustCompile(`^canopy: ingest ` + regexp.QuoteMeta(cut) + `: trivy: record \d+ `)
	if !want.MatchString(r.stderr) {
		t.Errorf("stderr %q does not match %s", r.stderr, want)
	}
	r = canopy(t, "", "findings", "--data", data, "--output", "json")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("a failed file left findings: %s", r.stdout)
	}

	r = canopy(t, "", "ingest", "--data", data, "--format", "nope", "testdata/image-alpine-3.10.json")
	if r.code != 1 || !strings.Contains(r.stderr, "unknown format \"nope\"; known formats: ") || !strings.Contains(r.stderr, "trivy") {
		t.Errorf("unknown format: %+v", r)
	}
	schema := filepath.Join(t.TempDir(), "schema.json")
	os.WriteFile(schema, []byte(`{"$schema":"http://json-schema.org/draft-07/schema#","properties":{}}`), 0o644)
	if r = canopy(t, "", "ingest", "--data", data, schema); r.code != 1 || !strings.Contains(r.stderr, "not a tool output") {
		t.Errorf("JSON Schema: %+v", r)
	}
	if r = canopy(t, "", "ingest", "--data", data, "/nonexistent"); r.code != 1 || !strings.Contains(r.stderr, "/nonexistent") {
		t.Errorf("missing file: %+v", r)
	}
	if r = canopy(t, "", "ingest", "--data", data); r.code != 2 {
		t.Errorf("no args exit %d", r.code)
	}
	if r = canopy(t, "", "findings", "--bogus"); r.code != 2 {
		t.Errorf("bad flag exit %d", r.code)
	}
	if r = canopy(t, "", "findings", "--data", data, "--severity", "huge"); r.code != 2 {
		t.Errorf("bad severity exit %d", r.code)
	}
}

func TestFormatsAndVersion(t *testing.T) {
	r := canopy(t, "", "formats")
	if r.code != 0 || !strings.Contains(r.stdout, "trivy") || !strings.Contains(r.stdout, "Vulnerability Finding 2002") {
		t.Errorf("formats: %+v", r)
	}
	if r = canopy(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "canopy ") {
		t.Errorf("version: %+v", r)
	}
}

func TestTokenCommands(t *testing.T) {
	data := t.TempDir()
	r := canopy(t, "", "token", "create", "--data", data, "--name", "ci", "--tenant", "acme", "--role", "analyst")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "cnp_") {
		t.Fatalf("create: %+v", r)
	}
	r = canopy(t, "", "token", "list", "--data", data)
	if !strings.Contains(r.stdout, "acme") || strings.Contains(r.stdout, "cnp_") {
		t.Errorf("list: %+v", r)
	}
	if r = canopy(t, "", "token", "create", "--data", data, "--name", "x", "--role", "root"); r.code != 2 {
		t.Errorf("bad role exit %d", r.code)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeDemo starts `canopy serve --demo` on a fresh data directory and
// checks the demo findings are served with the printed token, and refused
// without it.
func TestServeDemo(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--addr", addr, "--demo"}, strings.NewReader(""), &out, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d: %s", code, errb.String())
		}
	}()
	tokenRe := regexp.MustCompile(`cnp_[A-Za-z0-9_-]{43}`)
	var token string
	for i := 0; i < 200 && token == ""; i++ {
		token = tokenRe.FindString(errb.String())
		if token == "" || !strings.Contains(errb.String(), "serving") {
			token = ""
			time.Sleep(50 * time.Millisecond)
		}
	}
	if token == "" {
		t.Fatalf("no token printed: %s", errb.String())
	}
	get := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/findings", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != 401 {
		t.Errorf("without token: %d", code)
	}
	code, body := get(token)
	if code != 200 || !strings.Contains(body, `"items":[{`) {
		t.Errorf("with token: %d %.300s", code, body)
	}
}

func TestInsecureNeedsLoopback(t *testing.T) {
	r := canopy(t, "", "serve", "--data", t.TempDir(), "--addr", "0.0.0.0:0", "--insecure-local")
	if r.code != 2 || !strings.Contains(r.stderr, "loopback") {
		t.Errorf("insecure on 0.0.0.0: %+v", r)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestIssuesAcrossTools: Trivy and Inspector (through Security Hub) report
// the same CVE in the same image; the two findings stay, as one issue with
// two sources.
func TestIssuesAcrossTools(t *testing.T) {
	data := t.TempDir()
	r := canopy(t, "", "ingest", "--data", data, "../../internal/dedup/testdata/trivy-ecr-repo-os.json", "../../internal/dedup/testdata/inspector-ecr-cve-2023-2650.asff.json")
	if r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	r = canopy(t, "", "issues", "--data", data, "--output", "json")
	var issues []struct {
		IssueKey   string `json:"issue_key"`
		Sources    []string
		Findings   int
		FindingIDs []int64 `json:"finding_ids"`
		Risk       struct {
			Score   int
			Factors []struct{ Contribution int }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &issues); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(issues) != 2 {
		t.Fatalf("issues = %+v, want 2 (one shared CVE, one Trivy-only)", issues)
	}
	shared := issues[0]
	if issues[1].Findings == 2 {
		shared = issues[1]
	}
	if shared.Findings != 2 || strings.Join(shared.Sources, ",") != "Inspector,Trivy" || !strings.Contains(shared.IssueKey, "cve-2023-2650") {
		t.Errorf("shared issue = %+v", shared)
	}
	sum := 0
	for _, f := range shared.Risk.Factors {
		sum += f.Contribution
	}
	if shared.Risk.Score <= 0 || sum != shared.Risk.Score {
		t.Errorf("issue risk %d, contributions sum to %d", shared.Risk.Score, sum)
	}
	r = canopy(t, "", "findings", "--data", data, "--output", "json")
	var findings []struct {
		IssueKey string `json:"issue_key"`
		Sources  []string
	}
	json.Unmarshal([]byte(r.stdout), &findings)
	if len(findings) != 3 {
		t.Fatalf("findings = %d, want 3", len(findings))
	}
	for _, f := range findings {
		if strings.Contains(f.IssueKey, "cve-2023-2650") && len(f.Sources) != 2 {
			t.Errorf("finding %+v lacks its two sources", f)
		}
	}
	if r = canopy(t, "", "issues", "--data", data); r.code != 0 || !strings.Contains(r.stdout, "Inspector,Trivy") {
		t.Errorf("issues table: %+v", r)
	}
}

// TestIncidentFromSeveralTools is issue 4's scenario check through the CLI:
// GuardDuty's SSH brute force and CloudTrail's sign-in, access key, public
// bucket and stopped trail from the same address and user become one
// incident with its tactics in kill-chain order; routine activity (40 users
// behind one NAT address, another user a week later) stays out.
func TestIncidentFromSeveralTools(t *testing.T) {
	data := t.TempDir()
	files, _ := filepath.Glob("testdata/intrusion/*.json*")
	if r := canopy(t, "", append([]string{"ingest", "--data", data}, files...)...); r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	r := canopy(t, "", "incidents", "--data", data, "--output", "json")
	var incs []struct {
		ID      string
		Members []string
		Tactics []struct {
			ID    string
			Order int
		}
		Risk struct {
			Score   int
			Factors []struct{ Contribution int }
		}
		OCSF map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &incs); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1: %s", len(incs), r.stdout)
	}
	in := incs[0]
	if strings.Join(in.Members, ",") != "finding:1,event:1,event:2,event:3,event:4" {
		t.Errorf("members = %v", in.Members)
	}
	if len(in.Tactics) < 4 {
		t.Errorf("tactics = %+v, want at least 4", in.Tactics)
	}
	for i := 1; i < len(in.Tactics); i++ {
		if in.Tactics[i-1].Order > in.Tactics[i].Order {
			t.Errorf("tactics out of kill-chain order: %+v", in.Tactics)
		}
	}
	sum := 0
	for _, f := range in.Risk.Factors {
		sum += f.Contribution
	}
	if sum != in.Risk.Score || in.Risk.Score <= 0 {
		t.Errorf("risk %d, contributions sum to %d", in.Risk.Score, sum)
	}
	if in.OCSF["class_uid"] != float64(2005) || in.OCSF["finding_info_list"] == nil {
		t.Errorf("ocsf = %v", in.OCSF)
	}
}

// TestRiskWeightsFile: a weights file changes incident scores after
// correlate --rebuild, the incident keeps its id, and risk explain shows
// the breakdown whose contributions make the score.
func TestRiskWeightsFile(t *testing.T) {
	data := t.TempDir()
	files, _ := filepath.Glob("testdata/intrusion/*.json*")
	if r := canopy(t, "", append([]string{"ingest", "--data", data}, files...)...); r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	score := func(args ...string) (string, int) {
		r := canopy(t, "", append([]string{"incidents", "--data", data, "--output", "json"}, args...)...)
		var incs []struct {
			ID   string
			Risk struct{ Score int }
		}
		if err := json.Unmarshal([]byte(r.stdout), &incs); err != nil || len(incs) != 1 {
			t.Fatalf("%v: %+v", err, r)
		}
		return incs[0].ID, incs[0].Risk.Score
	}
	id, base := score()
	weights := filepath.Join(t.TempDir(), "weights.yaml")
	os.WriteFile(weights, []byte("kill_chain_breadth: 60\n"), 0o644)
	if _, same := score("--weights", weights); same != base {
		t.Errorf("stored score changed without a rebuild: %d, was %d", same, base)
	}
	if r := canopy(t, "", "correlate", "--rebuild", "--data", data, "--weights", weights); r.code != 0 || !strings.Contains(r.stdout, "rebuilt from") {
		t.Fatalf("correlate --rebuild: %+v", r)
	}
	newID, more := score()
	if more <= base {
		t.Errorf("score with a heavier kill-chain weight = %d, default %d", more, base)
	}
	if newID != id {
		t.Errorf("rebuild changed the incident's id: %s, was %s", newID, id)
	}
	os.WriteFile(weights, []byte("kill_chian_breadth: 60\n"), 0o644)
	if r := canopy(t, "", "correlate", "--rebuild", "--data", data, "--weights", weights); r.code != 1 || !strings.Contains(r.stderr, "kill_chian_breadth") {
		t.Errorf("misspelt weight: %+v", r)
	}
	r := canopy(t, "", "risk", "explain", id, "--data", data)
	if r.code != 0 || !strings.Contains(r.stdout, "kill_chain_breadth") {
		t.Errorf("risk explain: %+v", r)
	}
	r = canopy(t, "", "incident", "show", id, "--data", data)
	if r.code != 0 || !strings.Contains(r.stdout, "TA0001 Initial Access") || !strings.Contains(r.stdout, "StopLogging") {
		t.Errorf("incident show: %+v", r)
	}
	if r = canopy(t, "", "incident", "show", "nope", "--data", data); r.code != 1 {
		t.Errorf("unknown incident: %+v", r)
	}
}

// TestIncrementalEqualsRebuild: ingesting the scenario one file at a time
// (each ingest correlates what it added) gives the incident a rebuild
// gives, under the same id, and issues are scored as they arrive.
func TestIncrementalEqualsRebuild(t *testing.T) {
	data := t.TempDir()
	files, _ := filepath.Glob("testdata/intrusion/*.json*")
	for _, f := range files {
		r := canopy(t, "", "ingest", "--data", data, f)
		if r.code != 0 || !strings.Contains(r.stdout, "correlation: ") {
			t.Fatalf("ingest %s: %+v", f, r)
		}
	}
	list := func() string {
		r := canopy(t, "", "incidents", "--data", data, "--output", "json")
		var incs []struct {
			ID      string
			Members []string
			Tactics []struct{ ID string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &incs); err != nil || len(incs) != 1 {
			t.Fatalf("%v: %+v", err, r)
		}
		return fmt.Sprint(incs[0].ID, incs[0].Members, incs[0].Tactics)
	}
	incremental := list()
	if r := canopy(t, "", "correlate", "--rebuild", "--data", data); r.code != 0 {
		t.Fatalf("rebuild: %+v", r)
	}
	if rebuilt := list(); rebuilt != incremental {
		t.Errorf("incremental %s\nrebuild     %s", incremental, rebuilt)
	}
	r := canopy(t, "", "issues", "--data", data, "--sort", "risk", "--output", "json")
	var issues []struct {
		Risk struct {
			Score   int
			Factors []struct{ Contribution int }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &issues); err != nil || len(issues) == 0 {
		t.Fatalf("issues: %v %+v", err, r)
	}
	for i, is := range issues {
		sum := 0
		for _, f := range is.Risk.Factors {
			sum += f.Contribution
		}
		if sum != is.Risk.Score || len(is.Risk.Factors) == 0 {
			t.Errorf("issue %d: factors sum to %d, score %d", i, sum, is.Risk.Score)
		}
		if i > 0 && is.Risk.Score > issues[i-1].Risk.Score {
			t.Errorf("issues --sort risk not riskiest first")
		}
	}
	if r := canopy(t, "", "findings", "--data", data, "--sort", "risk"); r.code != 0 {
		t.Errorf("findings --sort risk: %+v", r)
	}
	if r := canopy(t, "", "findings", "--data", data, "--sort", "age"); r.code != 2 {
		t.Errorf("findings --sort age: %+v", r)
	}
}
