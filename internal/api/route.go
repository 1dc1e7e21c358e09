package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/datagrade"
	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	canopyroute "github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
)

func (s *Server) router() (*canopyroute.Router, error) {
	if s.opts.Router == nil {
		return nil, &apiError{http.StatusNotImplemented, "not_configured", "routing is not configured on this server"}
	}
	return s.opts.Router, nil
}

func routeErr(err error) error {
	switch {
	case errors.Is(err, canopyroute.ErrNoNotify):
		return &apiError{http.StatusNotImplemented, "not_configured", err.Error()}
	case errors.Is(err, notify.ErrNotFound):
		return store.ErrNotFound
	case errors.Is(err, notify.ErrAlreadyAcknowledged):
		return &apiError{http.StatusConflict, "conflict", err.Error()}
	}
	return err
}

func (s *Server) listNotices(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	rt, err := s.router()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := store.NoticeQuery{Tenant: p.Tenant, Party: v.Get("party"), State: v.Get("state"), Limit: 100}
	if x := v.Get("limit"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil || n <= 0 || n > store.MaxPage {
			return badRequest("bad limit %q", x)
		}
		q.Limit = n
	}
	ns, err := rt.Notices(r.Context(), q)
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []notify.Notice{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": ns})
}

func (s *Server) ackNotice(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	rt, err := s.router()
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		return badRequest("body must be JSON {\"note\"}: %v", err)
	}
	n, err := rt.Ack(r.Context(), p.Tenant, r.PathValue("id"), p.Name, in.Note, time.Now())
	if err != nil {
		return routeErr(err)
	}
	return writeJSON(w, http.StatusOK, n)
}

func (s *Server) publishAdvisory(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	rt, err := s.router()
	if err != nil {
		return err
	}
	var a notify.Advisory
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return badRequest("body must be an advisory {from, to, ref, category, url, severity, title, body}: %v", err)
	}
	a.Tenant = p.Tenant
	ns, err := rt.Publish(r.Context(), a, time.Now())
	if err != nil && len(ns) == 0 {
		if errors.Is(err, canopyroute.ErrNoNotify) {
			return routeErr(err)
		}
		return badRequest("%v", err)
	}
	if ns == nil {
		ns = []notify.Notice{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": ns})
}

func (s *Server) kpi(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	rt, err := s.router()
	if err != nil {
		return err
	}
	var since time.Time
	if x := r.URL.Query().Get("since"); x != "" {
		if since, err = time.Parse(time.RFC3339, x); err != nil {
			return badRequest("bad since %q (want RFC 3339)", x)
		}
	}
	if x := r.URL.Query().Get("response"); x != "" {
		resp, err := strconv.ParseBool(x)
		if err != nil {
			return badRequest("bad response %q", x)
		}
		if resp {
			return s.responseKPIs(w, r, rt, p.Tenant, since)
		}
	}
	kpis, err := rt.KPIs(r.Context(), p.Tenant, since)
	if err != nil {
		return err
	}
	party := r.URL.Query().Get("party")
	out := []audit.KPI{}
	for _, k := range kpis {
		if party == "" || k.Party == party || k.Name == party {
			out = append(out, k)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// responseKPIs computes the response KPIs (respond.KPIs) from the
// tenant's audit chain, for entries at or after since.
func (s *Server) responseKPIs(w http.ResponseWriter, r *http.Request, rt *canopyroute.Router, tenant string, since time.Time) error {
	k, err := respond.KPIs(func(yield func(audit.Entry, error) bool) {
		for e, err := range rt.Entries(r.Context(), tenant, 1) {
			if err == nil && e.Time.Before(since) {
				continue
			}
			if !yield(e, err) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

// verifyAudit verifies the tenant's audit chain.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	rt, err := s.router()
	if err != nil {
		return err
	}
	head, err := audit.Verify(rt.Entries(r.Context(), p.Tenant, 1), s.opts.AuditKey)
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		return writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": err.Error(), "seq": ve.Seq})
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true, "head": head})
}

// DataScanRequest is the body of POST /datascans.
type DataScanRequest struct {
	// Targets are what the server scans: directories, archives,
	// sqlite:PATH, postgres://…, mysql:DSN, objects:LISTING?dir=D — paths
	// and databases as the server sees them.
	Targets []string `json:"targets"`
	// Budget is the rows sampled per table or file; default 1000.
	Budget int `json:"budget,omitempty"`
}

// dataScan grades data stores the server can reach (admin only: it reads
// paths and databases from the server's side).
func (s *Server) dataScan(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	var req DataScanRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.Targets) == 0 {
		return badRequest("body must be JSON {\"targets\": [...], \"budget\": N}")
	}
	sc, err := datagrade.NewScanner(datagrade.Options{Budget: datagrade.Budget{RowsPerTable: req.Budget}})
	if err != nil {
		return badRequest("%v", err)
	}
	g, err := datagrade.NewGrader(datagrade.GraderOptions{})
	if err != nil {
		return err
	}
	res, serr := pipeline.ScanData(r.Context(), s.opts.Pipeline, pipeline.DataScan{Tenant: p.Tenant, Targets: req.Targets, Scanner: sc, Grader: g})
	for _, d := range res {
		if err := s.record(r, "data.graded", "store:"+d.Assessment.Store.UID, map[string]any{"level": d.Assessment.Level, "categories": d.Assessment.Categories}); err != nil {
			return err
		}
	}
	if s.opts.Correlate != nil && len(res) > 0 {
		if _, err := s.opts.Correlate(r.Context(), p.Tenant); err != nil {
			return err
		}
	}
	out := map[string]any{"items": res}
	if res == nil {
		out["items"] = []pipeline.DataScanResult{}
	}
	if serr != nil {
		out["errors"] = serr.Error()
	}
	return writeJSON(w, http.StatusOK, out)
}
