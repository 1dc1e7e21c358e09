package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// HTTPDoer sends HTTP requests. *http.Client implements it; the CLI passes
// a client that enforces the outbound host allow-list (the one
// internal/notify uses for channels) and a timeout.
type HTTPDoer interface {
	Do(req *http.Request) (*http.Response, error)
}

// The ticket action names.
const (
	NameJira    = "ticket.jira"
	NameWebhook = "ticket.webhook"
)

// maxReplyBytes bounds what a ticket action reads of a reply.
const maxReplyBytes = 1 << 20

// JiraConfig configures [NewJiraAction].
type JiraConfig struct {
	// BaseURL is the Jira site, e.g. "https://example.atlassian.net".
	// Required; https unless the host is a loopback address.
	BaseURL string
	// User and Token authenticate: Basic auth with the user's e-mail and
	// API token (Jira Cloud), or, with User empty, a Bearer personal
	// access token (Jira Data Center). Token is required.
	User  string
	Token string
	// Client sends the requests. Required.
	Client HTTPDoer
}

// NewJiraAction returns ticket.jira: it creates a Jira issue through the
// REST API v2 (POST /rest/api/2/issue) and returns its key and URL. It
// cannot be rolled back (people close tickets).
//
// Parameters: project (key, required), issue_type (default Task), summary
// (default the record's title), description, labels, priority.
func NewJiraAction(cfg JiraConfig) (Action, error) {
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("respond: ticket.jira: BaseURL: %w", err)
	}
	if cfg.Token == "" {
		return nil, errors.New("respond: ticket.jira: Token is required")
	}
	if cfg.Client == nil {
		return nil, errors.New("respond: ticket.jira: Client is required")
	}
	cfg.BaseURL = base
	return &jiraAction{cfg: cfg}, nil
}

func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q: no host", raw)
	}
	loopback := u.Hostname() == "localhost" || strings.HasPrefix(u.Hostname(), "127.") || u.Hostname() == "::1"
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return "", fmt.Errorf("%q: want https", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: no credentials, query or fragment allowed", raw)
	}
	return u.String(), nil
}

type jiraAction struct{ cfg JiraConfig }

func (a *jiraAction) Name() string { return NameJira }

func (a *jiraAction) Params() Schema {
	return Schema{
		{Name: "project", Required: true, Pattern: `[A-Z][A-Z0-9_]{1,31}`, Doc: "the Jira project key"},
		{Name: "issue_type", Default: "Task", MaxLen: 64, Doc: "the issue type's name"},
		{Name: "summary", Default: "{{ .record.title }}", MaxLen: 255, Doc: "the issue's summary"},
		{Name: "description", MaxLen: 32000, Doc: "the issue's description"},
		{Name: "labels", Type: ParamStrings, Pattern: `[^\s]{1,255}`, Doc: "labels (no spaces)"},
		{Name: "priority", MaxLen: 64, Doc: "the priority's name"},
	}
}

func (a *jiraAction) Impact(_ context.Context, _ Record, p Params, _ World) (Impact, error) {
	return Impact{
		Summary:    fmt.Sprintf("create a %s in Jira project %s: %s", p.String("issue_type"), p.String("project"), p.String("summary")),
		Targets:    []Asset{{UID: "jira:" + p.String("project"), Type: "ticket"}},
		Disruption: DisruptionNone,
		Notes:      []string{"a ticket is not deleted by a rollback; close it in Jira"},
	}, nil
}

type jiraFields struct {
	Project     jiraKey   `json:"project"`
	Summary     string    `json:"summary"`
	Description string    `json:"description,omitempty"`
	IssueType   jiraName  `json:"issuetype"`
	Labels      []string  `json:"labels,omitempty"`
	Priority    *jiraName `json:"priority,omitempty"`
}

type jiraKey struct {
	Key string `json:"key"`
}

type jiraName struct {
	Name string `json:"name"`
}

// buildJiraPayload builds the create-issue request body. The record's
// reference and the idempotency key are appended to the description, so a
// duplicate created by a retry can be found.
func buildJiraPayload(call Call) ([]byte, error) {
	p := call.Params
	f := jiraFields{Project: jiraKey{p.String("project")}, Summary: p.String("summary"),
		IssueType: jiraName{p.String("issue_type")}, Labels: p.Strings("labels")}
	if f.Summary == "" {
		f.Summary = call.Record.String()
	}
	desc := p.String("description")
	if desc != "" {
		desc += "\n\n"
	}
	f.Description = desc + "Canopy " + call.Record.String() + " (tenant " + call.Tenant + ", " + call.Key + ")"
	if pr := p.String("priority"); pr != "" {
		f.Priority = &jiraName{pr}
	}
	return json.Marshal(map[string]any{"fields": f})
}

func (a *jiraAction) Do(ctx context.Context, call Call) (Result, error) {
	body, err := buildJiraPayload(call)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.BaseURL+"/rest/api/2/issue", bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if a.cfg.User != "" {
		req.SetBasicAuth(a.cfg.User, a.cfg.Token)
	} else {
		req.Header.Set("Authorization", "Bearer "+a.cfg.Token)
	}
	var reply struct {
		ID   string `json:"id"`
		Key  string `json:"key"`
		Self string `json:"self"`
	}
	if err := doJSON(a.cfg.Client, req, &reply); err != nil {
		return Result{}, fmt.Errorf("jira: create issue: %w", err)
	}
	if reply.Key == "" {
		return Result{}, errors.New("jira: create issue: the reply has no key")
	}
	link := a.cfg.BaseURL + "/browse/" + url.PathEscape(reply.Key)
	return Result{Action: NameJira, Summary: "created Jira issue " + reply.Key,
		Output: map[string]any{"key": reply.Key, "id": reply.ID, "url": link}, Changed: []string{"jira:" + reply.Key}}, nil
}

func (a *jiraAction) Rollback(context.Context, Result) error { return ErrNotReversible }

// WebhookTicketConfig configures [NewWebhookTicketAction].
type WebhookTicketConfig struct {
	// URL receives the tickets as JSON POSTs. Required; https unless the
	// host is a loopback address.
	URL string
	// Header is added to every request (e.g. an Authorization header).
	Header http.Header
	// Client sends the requests. Required.
	Client HTTPDoer
}

// NewWebhookTicketAction returns ticket.webhook: it POSTs a JSON ticket
// to a generic endpoint (an ITSM's inbound webhook, a SOAR) with an
// Idempotency-Key header, and reads an optional JSON reply
// {"id": "...", "url": "..."}. It cannot be rolled back.
//
// The body is {"key", "tenant", "record", "title", "severity",
// "description", "fields"}; parameters: title (default the record's
// title), severity (default the record's), description, fields (a mapping
// of strings passed through).
func NewWebhookTicketAction(cfg WebhookTicketConfig) (Action, error) {
	u, err := checkBaseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("respond: ticket.webhook: URL: %w", err)
	}
	if cfg.Client == nil {
		return nil, errors.New("respond: ticket.webhook: Client is required")
	}
	cfg.URL = u
	return &webhookTicket{cfg: cfg}, nil
}

type webhookTicket struct{ cfg WebhookTicketConfig }

func (a *webhookTicket) Name() string { return NameWebhook }

func (a *webhookTicket) Params() Schema {
	return Schema{
		{Name: "title", Default: "{{ .record.title }}", MaxLen: 500},
		{Name: "severity", Default: "{{ .record.severity }}", MaxLen: 32},
		{Name: "description", MaxLen: 32000},
		{Name: "fields", Type: ParamMap, MaxLen: 4096, Doc: "extra fields, passed through"},
	}
}

func (a *webhookTicket) Impact(_ context.Context, _ Record, p Params, _ World) (Impact, error) {
	host := a.cfg.URL
	if u, err := url.Parse(a.cfg.URL); err == nil {
		host = u.Host
	}
	return Impact{
		Summary:    fmt.Sprintf("open a ticket at %s: %s", host, p.String("title")),
		Targets:    []Asset{{UID: "webhook:" + host, Type: "ticket"}},
		Disruption: DisruptionNone,
		Notes:      []string{"a ticket is not deleted by a rollback; close it in the ticket system"},
	}, nil
}

type webhookTicketPayload struct {
	Key         string            `json:"key"`
	Tenant      string            `json:"tenant"`
	Record      string            `json:"record"`
	Title       string            `json:"title"`
	Severity    string            `json:"severity,omitempty"`
	Description string            `json:"description,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
}

func buildWebhookTicketPayload(call Call) ([]byte, error) {
	p := call.Params
	return json.Marshal(webhookTicketPayload{Key: call.Key, Tenant: call.Tenant, Record: call.Record.String(),
		Title: p.String("title"), Severity: p.String("severity"), Description: p.String("description"), Fields: p.Map("fields")})
}

func (a *webhookTicket) Do(ctx context.Context, call Call) (Result, error) {
	body, err := buildWebhookTicketPayload(call)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	for k, vs := range a.cfg.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", call.Key)
	var reply struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	if err := doJSON(a.cfg.Client, req, &reply); err != nil {
		return Result{}, fmt.Errorf("webhook ticket: %w", err)
	}
	res := Result{Action: NameWebhook, Summary: "opened a ticket", Output: map[string]any{}}
	if reply.ID != "" {
		res.Summary = "opened ticket " + reply.ID
		res.Output["id"] = reply.ID
		res.Changed = []string{"ticket:" + reply.ID}
	}
	if reply.URL != "" {
		res.Output["url"] = reply.URL
	}
	return res, nil
}

func (a *webhookTicket) Rollback(context.Context, Result) error { return ErrNotReversible }

// doJSON sends req and decodes a JSON reply into out (an empty or non-JSON
// 2xx reply leaves out unchanged). A non-2xx status is an error quoting
// the start of the reply.
func doJSON(c HTTPDoer, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return fmt.Errorf("reading the reply: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		excerpt := strings.TrimSpace(string(data))
		if len(excerpt) > 200 {
			excerpt = excerpt[:200] + "…"
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, excerpt)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return fmt.Errorf("the reply is not the JSON expected: %w", err)
	}
	return nil
}
