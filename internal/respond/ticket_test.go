package respond_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

// capture is a loopback HTTP server that records requests and answers with
// status and body.
type capture struct {
	srv    *httptest.Server
	status int
	body   string
	reqs   []*http.Request
	bodies [][]byte
}

func newCapture(t *testing.T, status int, body string) *capture {
	c := &capture{status: status, body: body}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.reqs = append(c.reqs, r)
		c.bodies = append(c.bodies, b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(c.status)
		_, _ = io.WriteString(w, c.body)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func ticketCall(params respond.Params) respond.Call {
	return respond.Call{Tenant: tenant, Record: respond.Ref{Kind: respond.KindIncident, ID: "inc-42"}, Run: "run-1", Step: "ticket",
		Key: "run-1/ticket", Actor: "system", Params: params}
}

func indentJSON(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out.String() + "\n"
}

func TestJiraTicket(t *testing.T) {
	ctx := context.Background()
	srv := newCapture(t, http.StatusCreated, `{"id":"10042","key":"SEC-12","self":"https://jira.example/rest/api/2/issue/10042"}`)
	a, err := respond.NewJiraAction(respond.JiraConfig{BaseURL: srv.srv.URL + "/", User: "bot@example.com", Token: "t0ken", Client: srv.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	params, err := a.Params().Check(respond.Params{"project": "SEC", "summary": `Public bucket "payments" <script>`,
		"description": "Risk 86.\nSee Canopy.", "labels": []any{"canopy", "public-exposure"}, "priority": "Highest"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Do(ctx, ticketCall(params))
	if err != nil {
		t.Fatal(err)
	}
	if res.Output["key"] != "SEC-12" || res.Output["url"] != srv.srv.URL+"/browse/SEC-12" || res.Reversible() {
		t.Errorf("result = %+v", res)
	}
	r := srv.reqs[0]
	if r.Method != http.MethodPost || r.URL.Path != "/rest/api/2/issue" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "bot@example.com" || p != "t0ken" {
		t.Errorf("auth = %q %q %v", u, p, ok)
	}
	golden(t, "testdata/jira-create.golden.json", indentJSON(t, srv.bodies[0]))
	if err := a.Rollback(ctx, res); !errors.Is(err, respond.ErrNotReversible) {
		t.Errorf("rollback: %v", err)
	}

	// a rejected request fails the step with Jira's message
	srv.status, srv.body = http.StatusBadRequest, `{"errorMessages":[],"errors":{"project":"project is required"}}`
	if _, err := a.Do(ctx, ticketCall(params)); err == nil || !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "project is required") {
		t.Errorf("err = %v", err)
	}
	// a personal access token is a bearer token
	pat, _ := respond.NewJiraAction(respond.JiraConfig{BaseURL: srv.srv.URL, Token: "pat", Client: srv.srv.Client()})
	srv.status, srv.body = http.StatusCreated, `{"key":"SEC-13"}`
	if _, err := pat.Do(ctx, ticketCall(params)); err != nil {
		t.Fatal(err)
	}
	if got := srv.reqs[len(srv.reqs)-1].Header.Get("Authorization"); got != "Bearer pat" {
		t.Errorf("authorization = %q", got)
	}
}

func TestTicketConfig(t *testing.T) {
	c := http.DefaultClient
	for _, cfg := range []respond.JiraConfig{
		{BaseURL: "http://jira.example.com", Token: "x", Client: c},
		{BaseURL: "https://user:pw@jira.example.com", Token: "x", Client: c},
		{BaseURL: "https://jira.example.com", Client: c},
		{BaseURL: "https://jira.example.com", Token: "x"},
	} {
		if _, err := respond.NewJiraAction(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	if _, err := respond.NewWebhookTicketAction(respond.WebhookTicketConfig{URL: "ftp://x", Client: c}); err == nil {
		t.Errorf("ftp webhook accepted")
	}
}

func TestWebhookTicket(t *testing.T) {
	ctx := context.Background()
	srv := newCapture(t, http.StatusOK, `{"id":"CHG-7","url":"https://itsm.example/CHG-7"}`)
	a, err := respond.NewWebhookTicketAction(respond.WebhookTicketConfig{URL: srv.srv.URL + "/hooks/canopy",
		Header: http.Header{"Authorization": {"Bearer hook"}}, Client: srv.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	params, err := a.Params().Check(respond.Params{"title": "Contain inc-42", "severity": "critical",
		"fields": map[string]any{"queue": "secops", "assignment_group": "cloud"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Do(ctx, ticketCall(params))
	if err != nil {
		t.Fatal(err)
	}
	if res.Output["id"] != "CHG-7" || res.Summary != "opened ticket CHG-7" {
		t.Errorf("result = %+v", res)
	}
	r := srv.reqs[0]
	if r.URL.Path != "/hooks/canopy" || r.Header.Get("Idempotency-Key") != "run-1/ticket" || r.Header.Get("Authorization") != "Bearer hook" {
		t.Errorf("request headers = %v", r.Header)
	}
	golden(t, "testdata/webhook-ticket.golden.json", indentJSON(t, srv.bodies[0]))

	srv.status, srv.body = http.StatusAccepted, ""
	res, err = a.Do(ctx, ticketCall(params))
	if err != nil || res.Summary != "opened a ticket" {
		t.Errorf("empty reply: %v %+v", err, res)
	}
	srv.status, srv.body = http.StatusServiceUnavailable, strings.Repeat("x", 500)
	if _, err := a.Do(ctx, ticketCall(params)); err == nil || !strings.Contains(err.Error(), "HTTP 503") || len(err.Error()) > 300 {
		t.Errorf("err = %v", err)
	}
}
