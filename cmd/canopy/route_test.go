package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/canopy-sec/canopy/internal/notify"
)

// receiver stands in for a chat platform or a webhook endpoint on loopback.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	check  func(r *http.Request, body []byte) error
	reply  string
	errs   []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.check != nil {
		if err := rc.check(r, body); err != nil {
			rc.errs = append(rc.errs, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	rc.bodies = append(rc.bodies, string(body))
	io.WriteString(w, rc.reply)
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...)
}

// TestNoticesEndToEnd: a finding attributed to the MSSP (by contract) is
// notified to the vendor's webhook (HMAC verified by the receiver); left
// unacknowledged past its deadline it escalates to the vendor's DingTalk
// robot; acknowledgement stops escalation; all of it is in the tenant's
// audit chain, which verifies (and a bundle verifies on another data dir),
// and tampering with a row is caught; KPIs come out of the chain; the
// webhook secret never shows.
func TestNoticesEndToEnd(t *testing.T) {
	const secret = "whsec-9f8e7d6c5b4a"
	hook := &receiver{reply: "ok", check: func(r *http.Request, body []byte) error {
		return notify.VerifyWebhook([]byte(secret), r.Header, body, time.Now(), 0)
	}}
	ding := &receiver{reply: `{"errcode":0,"errmsg":"ok"}`}
	hs, ds := httptest.NewServer(hook), httptest.NewServer(ding)
	defer hs.Close()
	defer ds.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "notify.yaml")
	writeFile(t, cfg, `outbound:
  allow_hosts: ["127.0.0.1"]
  allow_loopback: true
  allow_insecure_http: true
delivery:
  max_attempts: 2
  base_delay: 10ms
deadlines:
  critical: 15m
  high: 1h
  medium: 8h
channels:
  mssp-hook:
    type: webhook
    url: `+hs.URL+`/canopy
    secret_env: TEST_MSSP_SECRET
  mssp-ding:
    type: dingtalk
    url: `+ds.URL+`/robot/send?access_token=t0k3n
parties:
  - id: example-mssp
    kind: vendor
    escalation:
      - id: mssp-analyst
        channels: [mssp-hook]
      - id: mssp-duty-lead
        channels: [mssp-ding]
  - id: acme
    kind: customer
    escalation:
      - id: acme-oncall
        channels: [mssp-ding]
`)
	t.Setenv("TEST_MSSP_SECRET", secret)
	data := filepath.Join(dir, "data")
	// this test is about the route stage's notices: the response stage's
	// automatic runs (whose triage playbook notifies too) stay off
	respondCfg := filepath.Join(dir, "respond.yaml")
	writeFile(t, respondCfg, "auto: false\n")
	g := []string{"--data", data, "--notify", cfg, "--notify-severity", "medium", "--respond-config", respondCfg}
	run := func(args ...string) result {
		t.Helper()
		r := canopy(t, "", append(args, g...)...)
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("the webhook secret shows in the output of %v", args)
		}
		return r
	}
	if r := run("contract", "set", "testdata/responsibility/mssp-contract.yaml"); r.code != 0 {
		t.Fatalf("contract: %+v", r)
	}
	files, _ := filepath.Glob("testdata/intrusion/*.json*")
	if r := run(append([]string{"ingest"}, files...)...); r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	if got := hook.got(); len(got) != 1 || !strings.Contains(got[0], "example-mssp") || len(hook.errs) != 0 {
		t.Fatalf("webhook received %d notices (%v), errors %v", len(got), got, hook.errs)
	}
	r := run("notices", "list", "--output", "json")
	var ns []struct {
		ID, State, Party, Contact string
		Deadline                  time.Time
	}
	if err := json.Unmarshal([]byte(r.stdout), &ns); err != nil || len(ns) != 1 || ns[0].State != "open" || ns[0].Party != "example-mssp" {
		t.Fatalf("notices: %v %+v", err, r)
	}
	// before the deadline nothing moves; after it, the duty lead is told
	if r := run("notices", "escalate", "--now", ns[0].Deadline.Add(-time.Minute).Format(time.RFC3339)); !strings.Contains(r.stdout, "escalated 0") {
		t.Errorf("early escalation: %+v", r)
	}
	if r := run("notices", "escalate", "--now", ns[0].Deadline.Add(time.Minute).Format(time.RFC3339)); r.code != 0 || !strings.Contains(r.stdout, "escalated 1") {
		t.Fatalf("escalation: %+v", r)
	}
	if got := ding.got(); len(got) != 1 || !strings.Contains(got[0], `"msgtype":"markdown"`) {
		t.Fatalf("dingtalk received %v", got)
	}
	if r := run("notices", "ack", ns[0].ID, "--by", "mssp-lead", "--note", "triaging"); r.code != 0 {
		t.Fatalf("ack: %+v", r)
	}
	if r := run("notices", "escalate", "--now", ns[0].Deadline.Add(48*time.Hour).Format(time.RFC3339)); !strings.Contains(r.stdout, "escalated 0") || len(ding.got()) != 1 {
		t.Errorf("escalation after the acknowledgement: %+v, dingtalk got %d", r, len(ding.got()))
	}
	if r := run("notices", "ack", "nope", "--by", "x"); r.code != 1 {
		t.Errorf("ack of an unknown notice: %+v", r)
	}

	// the audit chain holds it all and verifies
	r = run("audit", "verify")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ok: ") {
		t.Fatalf("audit verify: %+v", r)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "canopy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var actions []string
	rows, err := db.Query("SELECT action FROM audit_entries WHERE tenant = 'default' ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		rows.Scan(&a)
		actions = append(actions, a)
	}
	rows.Close()
	for _, want := range []string{"contract.changed", "records.ingested", "finding.attributed", "notice.sent", "notice.escalated", "notice.acked"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit chain lacks %s: %v", want, actions)
		}
	}
	r = run("kpi", "--output", "json")
	var kpis []struct {
		Party, Name, Severity string
		Notices               int
		Acknowledge           struct{ Count int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &kpis); err != nil || len(kpis) != 1 || kpis[0].Party != "vendor" || kpis[0].Notices != 1 || kpis[0].Acknowledge.Count != 1 {
		t.Errorf("kpi: %v %+v", err, r)
	}

	// an evidence bundle verifies on another data directory
	r = run("audit", "export")
	bundle := filepath.Join(dir, "bundle.jsonl")
	writeFile(t, bundle, r.stdout)
	if r := canopy(t, "", "audit", "verify", "--bundle", bundle, "--data", t.TempDir()); r.code != 0 {
		t.Errorf("bundle verify elsewhere: %+v", r)
	}

	// tampering with any row is caught and named
	if _, err := db.Exec("UPDATE audit_entries SET actor = 'someone-else' WHERE tenant = 'default' AND seq = 3"); err != nil {
		t.Fatal(err)
	}
	if r := run("audit", "verify"); r.code != 1 || !strings.Contains(r.stderr, "entry 3") {
		t.Errorf("verify after an edit: %+v", r)
	}
	os.Remove(bundle)
}
