package api

import (
	"context"
	"crypto/ed25519"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/risk"
	canopyroute "github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
)

//go:embed openapi.json
var openAPIDoc []byte

// Store is what the API reads and writes.
type Store interface {
	store.Querier
	store.Correlations
	store.Posture
	store.Tokens
	store.Jobs
	store.Summaries
}

// Role selects the routes a node serves; every node serves the operational
// routes (healthz, readyz, metrics, openapi.json).
type Role string

// Roles of an API node.
const (
	RoleAll    Role = "all"    // everything (the default)
	RoleQuery  Role = "api"    // queries and tokens; no ingest
	RoleIngest Role = "ingest" // ingest and job polling
	RoleOps    Role = "worker" // operational routes only
)

// Options configures a [Server].
type Options struct {
	// Store backs every route. Required.
	Store Store
	// Pipeline ingests POST /ingest bodies. Required.
	Pipeline *pipeline.Pipeline
	// Enqueue, when set, makes POST /ingest asynchronous: the body is
	// decoded and its batches put on the bus, and the answer is 202 with
	// the job, whose progress GET /ingests/{id} reports. When nil, the body
	// is ingested directly in one transaction and the answer is 200 with
	// the result.
	Enqueue func(ctx context.Context, in pipeline.Input) (store.Job, error)
	// Correlate, when set, runs the correlate and score stages for a
	// tenant's queued records: after a direct ingest (its result is in the
	// answer), and before incidents are listed.
	Correlate func(ctx context.Context, tenant string) (pipeline.CorrelateResult, error)
	// Router is the route stage: audit chain, notices, KPIs; nil: those
	// routes answer 501.
	Router *canopyroute.Router
	// Respond is the response engine behind the approvals, runs, cases
	// and playbooks routes; nil: they answer 501.
	Respond *respond.Engine
	// RespondRecord builds the response record of a stored incident or
	// finding, for POST /cases; nil: that route answers 501.
	RespondRecord func(ctx context.Context, tenant string, ref respond.Ref) (respond.Record, error)
	// AuditKey checks audit signatures on GET /audit/verify; nil: not.
	AuditKey ed25519.PublicKey
	// Ready reports whether the node's backends (store, bus) are reachable,
	// for GET /readyz. Nil means always ready.
	Ready func(ctx context.Context) error
	// Role selects the routes served; default RoleAll.
	Role Role
	// Logger; default discards.
	Logger *slog.Logger
	// Insecure drops authentication: every request acts as an admin of
	// InsecureTenant. Only for a server bound to loopback.
	Insecure bool
	// InsecureTenant is the tenant of insecure requests; default "default".
	InsecureTenant string
	// MaxIngestBytes bounds a POST /ingest body; default 1 GiB.
	MaxIngestBytes int64
	// Version is reported by /healthz.
	Version string
	// Now is the clock of GET /summary's window; default time.Now.
	Now func() time.Time
}

// Server is the HTTP API.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	routes   []route
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ingested *prometheus.CounterVec
}

type route struct {
	method, path string
	role         store.Role // "" = no authentication
	handler      func(w http.ResponseWriter, r *http.Request) error
	group        Role // the node role that serves it; RoleOps = every node
}

// New returns a server.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Pipeline == nil {
		return nil, errors.New("api: Options.Store and Options.Pipeline are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.InsecureTenant == "" {
		opts.InsecureTenant = pipeline.DefaultTenant
	}
	if opts.MaxIngestBytes <= 0 {
		opts.MaxIngestBytes = 1 << 30
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), registry: prometheus.NewRegistry()}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "canopy_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
	s.ingested = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_ingested_records_total", Help: "Records ingested through the API by format and kind (finding_new, finding_updated, event; enqueued when they go through the bus)."}, []string{"format", "kind"})
	s.registry.MustRegister(s.requests, s.latency, s.ingested, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if opts.Role == "" {
		opts.Role = RoleAll
	}
	s.routes = []route{
		{"GET", "/api/v1/healthz", "", s.healthz, RoleOps},
		{"GET", "/api/v1/readyz", "", s.readyz, RoleOps},
		{"GET", "/api/v1/openapi.json", "", s.openapi, RoleOps},
		{"GET", "/api/v1/metrics", store.RoleViewer, s.metrics, RoleOps},
		{"GET", "/api/v1/formats", store.RoleViewer, s.formats, RoleOps},
		{"POST", "/api/v1/ingest", store.RoleAnalyst, s.ingest, RoleIngest},
		{"GET", "/api/v1/ingests/{id}", store.RoleViewer, s.getJob, RoleIngest},
		{"GET", "/api/v1/findings", store.RoleViewer, s.listFindings, RoleQuery},
		{"GET", "/api/v1/findings/{id}", store.RoleViewer, s.getFinding, RoleQuery},
		{"GET", "/api/v1/issues", store.RoleViewer, s.listIssues, RoleQuery},
		{"GET", "/api/v1/incidents", store.RoleViewer, s.listIncidents, RoleQuery},
		{"GET", "/api/v1/incidents/{id}", store.RoleViewer, s.getIncident, RoleQuery},
		{"GET", "/api/v1/events", store.RoleViewer, s.listEvents, RoleQuery},
		{"GET", "/api/v1/events/{id}", store.RoleViewer, s.getEvent, RoleQuery},
		{"GET", "/api/v1/inventory", store.RoleViewer, s.listInventory, RoleQuery},
		{"POST", "/api/v1/inventory", store.RoleAnalyst, s.importInventory, RoleQuery},
		{"GET", "/api/v1/packs", store.RoleViewer, s.listPacks, RoleQuery},
		{"POST", "/api/v1/scans", store.RoleAnalyst, s.scan, RoleQuery},
		{"GET", "/api/v1/compliance/{pack}", store.RoleViewer, s.compliance, RoleQuery},
		{"GET", "/api/v1/compliance/{pack}/report", store.RoleViewer, s.complianceReport, RoleQuery},
		{"PUT", "/api/v1/compliance/{pack}/evidence/{control}", store.RoleAnalyst, s.putEvidence, RoleQuery},
		{"GET", "/api/v1/notices", store.RoleViewer, s.listNotices, RoleQuery},
		{"POST", "/api/v1/notices/{id}/ack", store.RoleAnalyst, s.ackNotice, RoleQuery},
		{"POST", "/api/v1/advisories", store.RoleAdmin, s.publishAdvisory, RoleQuery},
		{"GET", "/api/v1/kpi", store.RoleViewer, s.kpi, RoleQuery},
		{"GET", "/api/v1/summary", store.RoleViewer, s.summary, RoleQuery},
		{"POST", "/api/v1/datascans", store.RoleAdmin, s.dataScan, RoleQuery},
		{"GET", "/api/v1/audit/verify", store.RoleAdmin, s.verifyAudit, RoleQuery},
		{"GET", "/api/v1/approvals", store.RoleViewer, s.listApprovals, RoleQuery},
		{"GET", "/api/v1/approvals/{id}", store.RoleViewer, s.getApproval, RoleQuery},
		{"POST", "/api/v1/approvals/{id}/approve", store.RoleAnalyst, s.approveApproval, RoleQuery},
		{"POST", "/api/v1/approvals/{id}/reject", store.RoleAnalyst, s.rejectApproval, RoleQuery},
		{"GET", "/api/v1/runs", store.RoleViewer, s.listRuns, RoleQuery},
		{"GET", "/api/v1/runs/{id}", store.RoleViewer, s.getRun, RoleQuery},
		{"POST", "/api/v1/runs/{id}/rollback", store.RoleAnalyst, s.rollbackRun, RoleQuery},
		{"GET", "/api/v1/cases", store.RoleViewer, s.listCases, RoleQuery},
		{"POST", "/api/v1/cases", store.RoleAnalyst, s.openCase, RoleQuery},
		{"POST", "/api/v1/cases/{id}/transition", store.RoleAnalyst, s.transitionCase, RoleQuery},
		{"GET", "/api/v1/playbooks", store.RoleViewer, s.listPlaybooks, RoleQuery},
		{"GET", "/api/v1/tokens", store.RoleAdmin, s.listTokens, RoleQuery},
		{"POST", "/api/v1/tokens", store.RoleAdmin, s.createToken, RoleQuery},
		{"DELETE", "/api/v1/tokens/{id}", store.RoleAdmin, s.revokeToken, RoleQuery},
	}
	for _, rt := range s.routes {
		if opts.Role != RoleAll && rt.group != RoleOps && rt.group != opts.Role {
			rt.handler = s.notServed(rt.group)
		}
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route: "+r.Method+" "+r.URL.Path)
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Routes lists "METHOD path" of every route, for documentation checks.
func (s *Server) Routes() []string {
	out := make([]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.method + " " + rt.path
	}
	return out
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// apiError is an error with an HTTP status and a stable code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, "bad_request", fmt.Sprintf(format, args...)}
}

func (s *Server) wrap(rt route) http.Handler {
	label := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			s.requests.WithLabelValues(label, strconv.Itoa(sw.code)).Inc()
			s.latency.WithLabelValues(label).Observe(time.Since(start).Seconds())
		}()
		sw.Header().Set("X-Content-Type-Options", "nosniff")
		if rt.role != "" {
			p, err := s.authenticate(r)
			if err != nil {
				if errors.Is(err, errUnauthorized) {
					sw.Header().Set("WWW-Authenticate", `Bearer realm="canopy"`)
					writeError(sw, http.StatusUnauthorized, "unauthorized", err.Error())
				} else {
					s.opts.Logger.Error("authenticating", "err", err)
					writeError(sw, http.StatusInternalServerError, "internal", "could not check the token")
				}
				return
			}
			if !p.Role.Allows(rt.role) {
				writeError(sw, http.StatusForbidden, "forbidden", fmt.Sprintf("role %s may not %s %s (needs %s)", p.Role, rt.method, rt.path, rt.role))
				return
			}
			r = r.WithContext(withPrincipal(r.Context(), p))
		}
		if err := rt.handler(sw, r); err != nil {
			s.writeErr(sw, r, err)
		}
	})
}

func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var re *ingest.RecordError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.code, ae.msg)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", err.Error())
	case errors.Is(err, ingest.ErrUnknownFormat), errors.Is(err, ingest.ErrNotToolOutput):
		writeError(w, http.StatusUnprocessableEntity, "unknown_format", err.Error())
	case errors.As(err, &re):
		writeError(w, http.StatusUnprocessableEntity, "bad_record", err.Error())
	default:
		s.opts.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (s *Server) notServed(group Role) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{http.StatusNotFound, "not_served", fmt.Sprintf("this node (role %s) does not serve %s %s; a node of role %s or all does", s.opts.Role, r.Method, r.URL.Path, group)}
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			s.opts.Logger.Warn("not ready", "err", err)
			writeError(w, http.StatusServiceUnavailable, "not_ready", err.Error())
			return nil
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "role": string(s.opts.Role)})
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	j, err := s.opts.Store.Job(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.opts.Version})
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

func (s *Server) formats(w http.ResponseWriter, r *http.Request) error {
	type fmtOut struct {
		Name    string   `json:"name"`
		Title   string   `json:"title"`
		Version int      `json:"version"`
		Classes []string `json:"classes"`
		Notes   string   `json:"notes"`
	}
	var out []fmtOut
	for _, f := range s.opts.Pipeline.Registry().Formats() {
		o := fmtOut{Name: f.Name, Title: f.Title, Version: f.Version, Notes: f.Notes}
		for _, c := range f.Classes {
			ci, _ := ocsf.Class(c)
			o.Classes = append(o.Classes, fmt.Sprintf("%s (%d)", ci.Caption, c))
		}
		out = append(out, o)
	}
	return writeJSON(w, http.StatusOK, out)
}

// IngestResponse is the body of a successful POST /ingest.
type IngestResponse struct {
	Files       []pipeline.Result         `json:"files"`
	Correlation *pipeline.CorrelateResult `json:"correlation,omitempty"`
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "request"
	}
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxIngestBytes)
	in := pipeline.Input{Name: name, Format: r.URL.Query().Get("format"), Tenant: p.Tenant, R: body}
	if s.opts.Enqueue != nil {
		job, err := s.opts.Enqueue(r.Context(), in)
		io.Copy(io.Discard, body)
		if err != nil {
			return err
		}
		s.ingested.WithLabelValues(job.Format, "enqueued").Add(float64(job.Records))
		w.Header().Set("Location", "/api/v1/ingests/"+job.ID)
		return writeJSON(w, http.StatusAccepted, map[string]any{"job": job})
	}
	res, err := s.opts.Pipeline.Ingest(r.Context(), in)
	io.Copy(io.Discard, body)
	if err != nil {
		return err
	}
	s.ingested.WithLabelValues(res.Format, "finding_new").Add(float64(res.FindingsNew))
	s.ingested.WithLabelValues(res.Format, "finding_updated").Add(float64(res.FindingsUpdated))
	s.ingested.WithLabelValues(res.Format, "event").Add(float64(res.Events))
	out := IngestResponse{Files: []pipeline.Result{res}}
	if err := s.record(r, canopyroute.ActionIngested, "request:"+name, map[string]any{"format": res.Format, "records": res.Records,
		"findings_new": res.FindingsNew, "findings_updated": res.FindingsUpdated, "events": res.Events}); err != nil {
		return err
	}
	if s.opts.Correlate != nil {
		c, err := s.opts.Correlate(r.Context(), in.Tenant)
		if err != nil {
			return err
		}
		out.Correlation = &c
	}
	return writeJSON(w, http.StatusOK, out)
}

// RecordOut is a finding or event in API output: Canopy's own fields beside
// the pure OCSF object.
type RecordOut struct {
	ID          int64     `json:"id"`
	Fingerprint string    `json:"fingerprint"`
	IssueKey    string    `json:"issue_key,omitempty"` // canonical key across tools (findings)
	Sources     []string  `json:"sources,omitempty"`   // products that report the same issue`
	Count       int       `json:"count"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	// Responsibility says who must act on a finding, and why
	// (internal/responsibility); absent for events and before the route
	// stage ran.
	Responsibility json.RawMessage `json:"responsibility,omitempty"`
	OCSF           json.RawMessage `json:"ocsf"`
}

// ToOut converts a stored record for output.
func ToOut(r store.Record) RecordOut {
	return RecordOut{ID: r.ID, Fingerprint: r.Fingerprint, IssueKey: r.IssueKey, Count: r.Count, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen,
		Responsibility: r.Responsibility, OCSF: r.OCSF}
}

// WithSources converts stored findings for output, each with the products
// that report the same issue.
func WithSources(ctx context.Context, st store.Querier, tenant string, recs []store.Record) ([]RecordOut, error) {
	out := make([]RecordOut, 0, len(recs))
	var keys []string
	seen := map[string]bool{}
	for _, r := range recs {
		out = append(out, ToOut(r))
		if r.IssueKey != "" && !seen[r.IssueKey] {
			seen[r.IssueKey] = true
			keys = append(keys, r.IssueKey)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	src, err := st.Sources(ctx, tenant, keys)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Sources = src[out[i].IssueKey]
	}
	return out, nil
}

// ListResponse is a page of findings or events.
type ListResponse struct {
	Items      []RecordOut `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// ParseQuery builds a store query from filter values shared by the API and
// the CLI: severity (comma-separated names), source (product names), class
// (finding class names or uids), limit.
func ParseQuery(tenant, severity, source, class, limit string) (store.Query, error) {
	q := store.Query{Tenant: tenant}
	for _, s := range splitList(severity) {
		id, ok := ocsf.SeverityFromName(s)
		if !ok {
			return q, fmt.Errorf("unknown severity %q (want informational, low, medium, high, critical, fatal or unknown)", s)
		}
		q.Severities = append(q.Severities, id)
	}
	q.Products = splitList(source)
	for _, c := range splitList(class) {
		uid, ok := ClassByName(c)
		if !ok {
			return q, fmt.Errorf("unknown class %q (want vulnerability, compliance, detection, data_security, app_security, or a class uid)", c)
		}
		q.Classes = append(q.Classes, uid)
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 0 {
			return q, fmt.Errorf("bad limit %q", limit)
		}
		q.Limit = n
	}
	return q, nil
}

// ClassByName maps a short class name (or a numeric uid) to a class uid.
func ClassByName(name string) (int, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "vulnerability":
		return ocsf.ClassVulnerabilityFinding, true
	case "compliance":
		return ocsf.ClassComplianceFinding, true
	case "detection":
		return ocsf.ClassDetectionFinding, true
	case "data_security":
		return ocsf.ClassDataSecurityFinding, true
	case "app_security":
		return 2007, true
	case "api_activity", "api":
		return ocsf.ClassAPIActivity, true
	case "authentication":
		return ocsf.ClassAuthentication, true
	case "network_activity", "network":
		return ocsf.ClassNetworkActivity, true
	case "http_activity", "http":
		return ocsf.ClassHTTPActivity, true
	case "dns_activity", "dns":
		return ocsf.ClassDNSActivity, true
	case "process_activity", "process":
		return ocsf.ClassProcessActivity, true
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 {
		return n, true
	}
	return 0, false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, events bool) error {
	p, _ := PrincipalFrom(r.Context())
	v := r.URL.Query()
	q, err := ParseQuery(p.Tenant, v.Get("severity"), v.Get("source"), v.Get("class"), v.Get("limit"))
	if err != nil {
		return badRequest("%v", err)
	}
	q.IssueKey = v.Get("issue")
	if q.Party, err = parseParty(v.Get("party")); err != nil {
		return err
	}
	if !events {
		if q.Text, err = parseText(v.Get("q")); err != nil {
			return err
		}
	}
	if q.ByRisk, err = parseSort(v.Get("sort")); err != nil {
		return err
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.After, err = store.ParseCursor(v.Get("cursor")); err != nil {
		return badRequest("%v", err)
	}
	var page store.Page
	if events {
		page, err = s.opts.Store.Events(r.Context(), q)
	} else {
		page, err = s.opts.Store.Findings(r.Context(), q)
	}
	if err != nil {
		return err
	}
	out := ListResponse{NextCursor: page.Next.String()}
	if out.Items, err = WithSources(r.Context(), s.opts.Store, p.Tenant, page.Records); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) error {
	return s.list(w, r, false)
}
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error { return s.list(w, r, true) }

func (s *Server) one(w http.ResponseWriter, r *http.Request, events bool) error {
	p, _ := PrincipalFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("bad id %q", r.PathValue("id"))
	}
	var rec store.Record
	if events {
		rec, err = s.opts.Store.Event(r.Context(), p.Tenant, id)
	} else {
		rec, err = s.opts.Store.Finding(r.Context(), p.Tenant, id)
	}
	if err != nil {
		return err
	}
	out, err := WithSources(r.Context(), s.opts.Store, p.Tenant, []store.Record{rec})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out[0])
}

// IssuesResponse is a page of issues.
type IssuesResponse struct {
	Items      []Issue `json:"items"`
	NextOffset int     `json:"next_offset,omitempty"`
}

// Issue is an issue in API and CLI output, with its risk score.
type Issue struct {
	store.Issue
	Risk           risk.Result     `json:"risk"`
	Responsibility json.RawMessage `json:"responsibility,omitempty"`
}

// ListIssues reads a page of issues with their severity captions and their
// stored risk; an issue not scored yet (its findings wait for correlation)
// is scored on the fly with the default weights from up to 1,000 of its
// findings.
func ListIssues(ctx context.Context, st store.Querier, q store.Query, offset int) ([]Issue, error) {
	issues, err := st.Issues(ctx, q, offset)
	if err != nil {
		return nil, err
	}
	weights := risk.DefaultWeights()
	now := time.Now()
	out := make([]Issue, 0, len(issues))
	for _, is := range issues {
		is.Severity = ocsf.SeverityName(is.SeverityID)
		if is.Risk != nil {
			var r risk.Result
			if err := json.Unmarshal(is.Risk, &r); err != nil {
				return nil, fmt.Errorf("issue %s: risk: %w", is.Key, err)
			}
			out = append(out, Issue{Issue: is, Risk: r, Responsibility: is.Responsibility})
			continue
		}
		page, err := st.Findings(ctx, store.Query{Tenant: q.Tenant, IssueKey: is.Key, Limit: store.MaxPage})
		if err != nil {
			return nil, err
		}
		var recs []ocsf.Record
		for _, r := range page.Records {
			rec, err := ocsf.Decode(r.OCSF)
			if err != nil {
				return nil, fmt.Errorf("finding %d: %w", r.ID, err)
			}
			recs = append(recs, rec)
		}
		out = append(out, Issue{Issue: is, Risk: risk.Score(risk.FromFindings(recs, risk.AssetContext{}, risk.KEV{}, now), weights)})
	}
	return out, nil
}

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	v := r.URL.Query()
	q, err := ParseQuery(p.Tenant, v.Get("severity"), v.Get("source"), v.Get("class"), v.Get("limit"))
	if err != nil {
		return badRequest("%v", err)
	}
	if q.ByRisk, err = parseSort(v.Get("sort")); err != nil {
		return err
	}
	if q.Party, err = parseParty(v.Get("party")); err != nil {
		return err
	}
	if q.Text, err = parseText(v.Get("q")); err != nil {
		return err
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	offset := 0
	if o := v.Get("offset"); o != "" {
		if offset, err = strconv.Atoi(o); err != nil || offset < 0 {
			return badRequest("bad offset %q", o)
		}
	}
	issues, err := ListIssues(r.Context(), s.opts.Store, q, offset)
	if err != nil {
		return err
	}
	out := IssuesResponse{Items: issues}
	if out.Items == nil {
		out.Items = []Issue{}
	}
	if len(issues) == q.Limit {
		out.NextOffset = offset + len(issues)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request) error { return s.one(w, r, false) }
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error   { return s.one(w, r, true) }

// TokenOut describes a token without its secret.
type TokenOut struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Tenant    string     `json:"tenant"`
	Role      store.Role `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Token     string     `json:"token,omitempty"` // only when created
}

func tokenOut(t store.Token) TokenOut {
	o := TokenOut{ID: t.ID, Name: t.Name, Tenant: t.Tenant, Role: t.Role, CreatedAt: t.CreatedAt}
	if !t.RevokedAt.IsZero() {
		o.RevokedAt = &t.RevokedAt
	}
	return o
}

// listTokens lists the tokens of the caller's tenant.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	all, err := s.opts.Store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	out := []TokenOut{}
	for _, t := range all {
		if t.Tenant == p.Tenant {
			out = append(out, tokenOut(t))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// createToken makes a token in the caller's tenant.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	var in struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		return badRequest("body must be JSON {\"name\",\"role\"}: %v", err)
	}
	role, err := store.ParseRole(in.Role)
	if err != nil {
		return badRequest("%v", err)
	}
	secret, t, err := NewToken(in.Name, p.Tenant, role, time.Now())
	if err != nil {
		return badRequest("%v", err)
	}
	if err := s.opts.Store.CreateToken(r.Context(), t); err != nil {
		return err
	}
	s.opts.Logger.Info("token created", "token_id", t.ID, "name", t.Name, "tenant", t.Tenant, "role", string(t.Role), "by", p.Name)
	o := tokenOut(t)
	o.Token = secret
	return writeJSON(w, http.StatusCreated, o)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	id := r.PathValue("id")
	all, err := s.opts.Store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	for _, t := range all {
		if t.ID == id && t.Tenant == p.Tenant {
			if err := s.opts.Store.RevokeToken(r.Context(), id); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	return store.ErrNotFound
}

// record appends to the caller's tenant's audit chain, when routing is
// configured.
func (s *Server) record(r *http.Request, action, object string, details any) error {
	if s.opts.Router == nil {
		return nil
	}
	p, _ := PrincipalFrom(r.Context())
	return s.opts.Router.Record(r.Context(), p.Tenant, "api:"+p.Name, action, object, details)
}

// parseParty reads ?party=: provider, customer, vendor or shared.
func parseParty(v string) (string, error) {
	switch v {
	case "", "provider", "customer", "vendor", "shared":
		return v, nil
	}
	return "", badRequest("bad party %q (want provider, customer, vendor or shared)", v)
}

// parseText reads ?q=: text the title or resource uid of a finding
// contains (any case), at most store.MaxText characters.
func parseText(v string) (string, error) {
	if utf8.RuneCountInString(v) > store.MaxText {
		return "", badRequest("q is longer than %d characters", store.MaxText)
	}
	return v, nil
}

// parseSort reads ?sort=: "risk" (riskiest first) or "severity" (the default).
func parseSort(v string) (byRisk bool, err error) {
	switch v {
	case "", "severity":
		return false, nil
	case "risk":
		return true, nil
	}
	return false, badRequest("bad sort %q (want risk or severity)", v)
}

// IncidentsResponse is a page of incidents.
type IncidentsResponse struct {
	Items      []pipeline.Incident `json:"items"`
	NextOffset int                 `json:"next_offset,omitempty"`
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	v := r.URL.Query()
	minRisk, limit, offset := 0, 100, 0
	for name, dst := range map[string]*int{"min_risk": &minRisk, "limit": &limit, "offset": &offset} {
		if x := v.Get(name); x != "" {
			n, err := strconv.Atoi(x)
			if err != nil || n < 0 || name == "limit" && (n == 0 || n > store.MaxPage) {
				return badRequest("bad %s %q", name, x)
			}
			*dst = n
		}
	}
	if s.opts.Correlate != nil {
		if _, err := s.opts.Correlate(r.Context(), p.Tenant); err != nil {
			return err
		}
	}
	party, err := parseParty(v.Get("party"))
	if err != nil {
		return err
	}
	rows, err := s.opts.Store.Incidents(r.Context(), store.IncidentQuery{Tenant: p.Tenant, MinRisk: minRisk, Party: party, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	out := IncidentsResponse{Items: []pipeline.Incident{}}
	for _, row := range rows {
		in, err := pipeline.DecodeIncident(row)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, in)
	}
	if len(rows) == limit {
		out.NextOffset = offset + limit
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	if s.opts.Correlate != nil {
		if _, err := s.opts.Correlate(r.Context(), p.Tenant); err != nil {
			return err
		}
	}
	row, err := s.opts.Store.Incident(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	in, err := pipeline.DecodeIncident(row)
	if err != nil {
		return err
	}
	out := IncidentOut{Incident: in}
	switch x := r.URL.Query().Get("expand"); x {
	case "":
	case "members":
		if out.MemberRecords, err = expandMembers(r.Context(), s.opts.Store, p.Tenant, in); err != nil {
			return err
		}
	default:
		return badRequest("expand must be members, not %q", x)
	}
	return writeJSON(w, http.StatusOK, out)
}
