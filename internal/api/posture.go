package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/posture"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/posture/report"
	canopyroute "github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
)

// importInventory stores the resources of one inventory file (the body).
func (s *Server) importInventory(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "request"
	}
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxIngestBytes)
	res, err := pipeline.ImportInventory(r.Context(), s.opts.Store, p.Tenant, []pipeline.InventoryFile{{Name: name, Format: r.URL.Query().Get("format"), R: body}})
	io.Copy(io.Discard, body)
	var re *inventory.RecordError
	switch {
	case errors.Is(err, inventory.ErrUnknownFormat):
		return &apiError{http.StatusUnprocessableEntity, "unknown_format", err.Error()}
	case errors.As(err, &re):
		return &apiError{http.StatusUnprocessableEntity, "bad_record", err.Error()}
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// ResourcesResponse is a page of inventory resources.
type ResourcesResponse struct {
	Items     []json.RawMessage `json:"items"`
	NextAfter string            `json:"next_after,omitempty"`
}

func (s *Server) listInventory(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	v := r.URL.Query()
	q := store.ResourceQuery{Tenant: p.Tenant, Provider: v.Get("provider"), After: v.Get("after"), Limit: 100}
	for _, t := range strings.Split(v.Get("type"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			q.Types = append(q.Types, t)
		}
	}
	if x := v.Get("limit"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil || n <= 0 || n > store.MaxPage {
			return badRequest("bad limit %q (1-%d)", x, store.MaxPage)
		}
		q.Limit = n
	}
	rows, err := s.opts.Store.Resources(r.Context(), q)
	if err != nil {
		return err
	}
	out := ResourcesResponse{Items: make([]json.RawMessage, 0, len(rows))}
	for _, row := range rows {
		out.Items = append(out.Items, json.RawMessage(row.Doc))
	}
	if len(rows) == q.Limit {
		out.NextAfter = rows[len(rows)-1].Key
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listPacks(w http.ResponseWriter, r *http.Request) error {
	packs, err := posture.BuiltinPacks()
	if err != nil {
		return err
	}
	out := []posture.CoverageReport{}
	for _, p := range packs.List() {
		out = append(out, posture.Coverage(p))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// ScanRequest is the body of POST /scans.
type ScanRequest struct {
	Packs []string `json:"packs"`         // default: every built-in pack
	Now   string   `json:"now,omitempty"` // RFC 3339; default: now
}

// ScanResponse is a finished scan.
type ScanResponse struct {
	Scan     store.Scan       `json:"scan"`
	Failures []ScanFailureOut `json:"failures"`
}

// ScanFailureOut is one failing (rule, resource).
type ScanFailureOut struct {
	RuleID       string   `json:"rule_id"`
	Severity     string   `json:"severity"`
	Controls     []string `json:"controls"`
	ResourceUID  string   `json:"resource_uid"`
	ResourceType string   `json:"resource_type"`
	Message      string   `json:"message"`
}

// scan runs a posture scan over the tenant's stored inventory.
func (s *Server) scan(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	var req ScanRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		return badRequest("body must be JSON {\"packs\": [...], \"now\": \"RFC 3339\"}: %v", err)
	}
	packs, err := posture.BuiltinPacks()
	if err != nil {
		return err
	}
	if len(req.Packs) == 0 {
		for _, pk := range packs.List() {
			req.Packs = append(req.Packs, pk.ID)
		}
	}
	sort.Strings(req.Packs)
	rules, err := packs.RuleSet(req.Packs...)
	if err != nil {
		return badRequest("%v", err)
	}
	ps := pipeline.PostureScan{Tenant: p.Tenant, Rules: rules, Packs: req.Packs, Version: s.opts.Version}
	if req.Now != "" {
		if ps.Now, err = time.Parse(time.RFC3339, req.Now); err != nil {
			return badRequest("bad now %q (want RFC 3339)", req.Now)
		}
	}
	res, err := pipeline.Scan(r.Context(), s.opts.Pipeline, s.opts.Store, ps)
	if err != nil {
		return err
	}
	if err := s.record(r, canopyroute.ActionScanned, "scan:"+res.Scan.ID, res.Scan); err != nil {
		return err
	}
	if s.opts.Correlate != nil {
		if _, err := s.opts.Correlate(r.Context(), p.Tenant); err != nil {
			return err
		}
	}
	out := ScanResponse{Scan: res.Scan, Failures: []ScanFailureOut{}}
	for _, f := range res.Failed {
		out.Failures = append(out.Failures, ScanFailureOut{RuleID: f.Rule.ID, Severity: string(f.Rule.Severity), Controls: f.Rule.Controls(),
			ResourceUID: f.Resource.UID, ResourceType: f.Resource.Type, Message: f.Message})
	}
	return writeJSON(w, http.StatusOK, out)
}

// ComplianceResponse is a pack's compliance state: its latest scan, each
// control's status, and manual controls' evidence.
type ComplianceResponse struct {
	Pack     string                `json:"pack"`
	Standard string                `json:"standard"`
	Scan     *store.Scan           `json:"scan"`
	Score    *float64              `json:"score"` // passed ÷ evaluated controls; null before a scan
	Controls []ControlStatusOut    `json:"controls"`
	Results  []store.ControlResult `json:"results"`
}

// ControlStatusOut is one control's status.
type ControlStatusOut struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Section  string          `json:"section,omitempty"`
	Coverage string          `json:"coverage"` // automated, manual, not_expressible
	Status   string          `json:"status"`   // passed, failed, no_data, manual
	Failed   int             `json:"failed"`   // failing resources
	Passed   int             `json:"passed"`
	Evidence *store.Evidence `json:"evidence,omitempty"`
}

func (s *Server) compliance(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	packs, err := posture.BuiltinPacks()
	if err != nil {
		return err
	}
	id := r.PathValue("pack")
	pack := packs.Pack(id)
	if pack == nil {
		return store.ErrNotFound
	}
	out := ComplianceResponse{Pack: id, Standard: posture.StandardName(id), Controls: []ControlStatusOut{}, Results: []store.ControlResult{}}
	sc, results, err := s.opts.Store.LatestScan(r.Context(), p.Tenant, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		out.Scan, out.Results = &sc, results
	}
	evidence, err := s.opts.Store.Evidence(r.Context(), p.Tenant, id)
	if err != nil {
		return err
	}
	type tally struct{ pass, fail int }
	byControl := map[string]*tally{}
	for _, res := range out.Results {
		t := byControl[res.Control]
		if t == nil {
			t = &tally{}
			byControl[res.Control] = t
		}
		switch res.Status {
		case "pass":
			t.pass++
		case "fail", "error":
			t.fail++
		}
	}
	passed, evaluated := 0, 0
	for _, c := range posture.Coverage(pack).Controls {
		cs := ControlStatusOut{ID: c.Control.ID, Title: c.Control.Title, Section: c.Control.Section, Coverage: string(c.Status)}
		if e, ok := evidence[cs.ID]; ok {
			cs.Evidence = &e
		}
		t := byControl[cs.ID]
		switch {
		case t != nil && t.fail > 0:
			cs.Status, cs.Failed, cs.Passed = "failed", t.fail, t.pass
			evaluated++
		case t != nil && t.pass > 0:
			cs.Status, cs.Passed = "passed", t.pass
			evaluated++
			passed++
		case c.Status == posture.CoverageManual:
			cs.Status = "manual"
		default:
			cs.Status = "no_data"
		}
		out.Controls = append(out.Controls, cs)
	}
	if out.Scan != nil && evaluated > 0 {
		score := float64(passed) / float64(evaluated)
		out.Score = &score
	}
	return writeJSON(w, http.StatusOK, out)
}

// putEvidence records the evidence of a manual control.
func (s *Server) putEvidence(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	packs, err := posture.BuiltinPacks()
	if err != nil {
		return err
	}
	id, control := r.PathValue("pack"), r.PathValue("control")
	pack := packs.Pack(id)
	if pack == nil {
		return store.ErrNotFound
	}
	ok, err := pipeline.HasEvidenceTask(id, control)
	if err != nil {
		return err
	}
	if !ok {
		return badRequest("control %s of %s is checked by rules and takes no evidence", control, id)
	}
	var in struct {
		Status    string `json:"status"`
		Reference string `json:"reference"`
		Note      string `json:"note"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		return badRequest("body must be JSON {\"status\",\"reference\",\"note\"}: %v", err)
	}
	switch in.Status {
	case "missing", "submitted", "accepted", "rejected":
	default:
		return badRequest("status must be missing, submitted, accepted or rejected, not %q", in.Status)
	}
	e := store.Evidence{Pack: id, Control: control, Status: in.Status, Reference: in.Reference, Note: in.Note, By: p.Name, UpdatedAt: time.Now().UTC()}
	if err := s.opts.Store.PutEvidence(r.Context(), p.Tenant, e); err != nil {
		return err
	}
	if err := s.record(r, canopyroute.ActionEvidenceRecorded, "control:"+id+":"+control, e); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

// complianceReport writes a pack's compliance report: ?format=html (default), json or csv.
func (s *Server) complianceReport(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "html"
	}
	kinds := map[string]struct {
		write func(io.Writer, *report.Report) error
		ctype string
	}{"html": {report.WriteHTML, "text/html; charset=utf-8"}, "json": {report.WriteJSON, "application/json"}, "csv": {report.WriteCSV, "text/csv; charset=utf-8"}}
	k, ok := kinds[format]
	if !ok {
		return badRequest("bad format %q (want html, json or csv)", format)
	}
	rep, err := pipeline.ComplianceReport(r.Context(), s.opts.Store, p.Tenant, r.PathValue("pack"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := k.write(&buf, rep); err != nil {
		return err
	}
	w.Header().Set("Content-Type", k.ctype)
	if format == "html" {
		// the report is self-contained: it needs no script and loads nothing
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	}
	_, err = w.Write(buf.Bytes())
	return err
}
