package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/canopy-sec/canopy/internal/respond"
)

// The response routes: approvals with their impact, runs, cases and
// playbooks, through the engine of Options.Respond. Every call is made
// for the token's tenant, so a tenant sees and changes only its own; the
// token's name is the actor the audit chain records.

func (s *Server) responder() (*respond.Engine, error) {
	if s.opts.Respond == nil {
		return nil, &apiError{http.StatusNotImplemented, "not_configured", "the response engine is not configured on this server"}
	}
	return s.opts.Respond, nil
}

// respondErr maps the engine's errors to statuses.
func respondErr(err error) error {
	var se *respond.StepError
	switch {
	case errors.Is(err, respond.ErrNotFound):
		return &apiError{http.StatusNotFound, "not_found", "not found"}
	case errors.Is(err, respond.ErrUnknownOption):
		return &apiError{http.StatusBadRequest, "bad_request", err.Error()}
	case errors.Is(err, respond.ErrState):
		return &apiError{http.StatusConflict, "conflict", err.Error()}
	case errors.As(err, &se):
		return &apiError{http.StatusBadGateway, "step_failed", err.Error()}
	}
	return err
}

// decodeBody reads a small JSON body strictly; an empty body is allowed
// when optional.
func decodeBody(r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if optional && errors.Is(err, io.EOF) {
			return nil
		}
		return badRequest("body: %v", err)
	}
	return nil
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	f := respond.ApprovalFilter{Tenant: p.Tenant, State: respond.ApprovalState(r.URL.Query().Get("state"))}
	if x := r.URL.Query().Get("record"); x != "" {
		if f.Record, err = respond.ParseRef(x); err != nil {
			return badRequest("%v", err)
		}
	}
	as, err := eng.Approvals(r.Context(), f)
	if err != nil {
		return err
	}
	if as == nil {
		as = []respond.Approval{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": as})
}

func (s *Server) getApproval(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	a, err := eng.Approval(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		return respondErr(err)
	}
	return writeJSON(w, http.StatusOK, a)
}

// approveApproval approves an option — its number from 1, or its id —
// for the token's principal, and answers with the run. A step that fails
// is answered 502 step_failed with the run in "run" (resumable).
func (s *Server) approveApproval(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	var in struct {
		Option json.RawMessage `json:"option"`
		Note   string          `json:"note"`
	}
	if err := decodeBody(r, &in, false); err != nil {
		return err
	}
	a, err := eng.Approval(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		return respondErr(err)
	}
	option, err := optionOf(a, in.Option)
	if err != nil {
		return err
	}
	run, err := eng.Approve(r.Context(), p.Tenant, a.ID, option, p.Name, in.Note)
	var se *respond.StepError
	if errors.As(err, &se) && run.ID != "" {
		return writeJSON(w, http.StatusBadGateway, map[string]any{"error": map[string]string{"code": "step_failed", "message": err.Error()}, "run": run})
	}
	if err != nil {
		return respondErr(err)
	}
	return writeJSON(w, http.StatusOK, run)
}

// optionOf reads the "option" of an approve body: a number from 1 or an
// option id.
func optionOf(a respond.Approval, raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", badRequest(`body must be {"option": N (from 1) or "option-id", "note": "…"}`)
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		if n < 1 || n > len(a.Options) {
			return "", badRequest("option %d: approval %s has options 1 to %d", n, a.ID, len(a.Options))
		}
		return a.Options[n-1].ID, nil
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil || id == "" {
		return "", badRequest("option must be a number from 1 or an option id")
	}
	return id, nil
}

func (s *Server) rejectApproval(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeBody(r, &in, false); err != nil {
		return err
	}
	if in.Reason == "" {
		return badRequest(`body must be {"reason": "…"}`)
	}
	a, err := eng.Reject(r.Context(), p.Tenant, r.PathValue("id"), p.Name, in.Reason)
	if err != nil {
		return respondErr(err)
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	f := respond.RunFilter{Tenant: p.Tenant, State: respond.RunState(r.URL.Query().Get("state")), Playbook: r.URL.Query().Get("playbook")}
	if x := r.URL.Query().Get("record"); x != "" {
		if f.Record, err = respond.ParseRef(x); err != nil {
			return badRequest("%v", err)
		}
	}
	runs, err := eng.Runs(r.Context(), f)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []respond.Run{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": runs})
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	run, err := eng.Run(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		return respondErr(err)
	}
	return writeJSON(w, http.StatusOK, run)
}

func (s *Server) rollbackRun(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	run, err := eng.Rollback(r.Context(), p.Tenant, r.PathValue("id"), p.Name)
	var se *respond.StepError
	if errors.As(err, &se) && run.ID != "" {
		return writeJSON(w, http.StatusBadGateway, map[string]any{"error": map[string]string{"code": "step_failed", "message": err.Error()}, "run": run})
	}
	if err != nil {
		return respondErr(err)
	}
	return writeJSON(w, http.StatusOK, run)
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	f := respond.CaseFilter{Tenant: p.Tenant, Status: respond.CaseStatus(v.Get("status"))}
	if x := v.Get("open"); x != "" {
		if f.Open, err = strconv.ParseBool(x); err != nil {
			return badRequest("bad open %q", x)
		}
	}
	if x := v.Get("record"); x != "" {
		if f.Record, err = respond.ParseRef(x); err != nil {
			return badRequest("%v", err)
		}
	}
	cs, err := eng.Cases(r.Context(), f)
	if err != nil {
		return err
	}
	type caseOut struct {
		respond.Case
		SLA respond.SLAStatus `json:"sla"`
	}
	now := eng.Now()
	out := make([]caseOut, 0, len(cs))
	for _, c := range cs {
		out = append(out, caseOut{c, c.SLA(now)})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// openCase opens a case for a stored record ({"record": "incident:ID"}),
// or answers with the open case that covers it.
func (s *Server) openCase(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	if s.opts.RespondRecord == nil {
		return &apiError{http.StatusNotImplemented, "not_configured", "records cannot be loaded for the response engine on this server"}
	}
	var in struct {
		Record string `json:"record"`
	}
	if err := decodeBody(r, &in, false); err != nil {
		return err
	}
	ref, err := respond.ParseRef(in.Record)
	if err != nil {
		return badRequest(`body must be {"record": "incident:<id>" or "finding:<id>"}: %v`, err)
	}
	rec, err := s.opts.RespondRecord(r.Context(), p.Tenant, ref)
	if err != nil {
		return respondErr(err)
	}
	c, err := eng.OpenCase(r.Context(), rec, p.Name)
	if err != nil {
		return respondErr(err)
	}
	return writeJSON(w, http.StatusCreated, c)
}

func (s *Server) transitionCase(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	eng, err := s.responder()
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if err := decodeBody(r, &in, false); err != nil {
		return err
	}
	if in.Status == "" {
		return badRequest(`body must be {"status": "in_progress|on_hold|resolved|closed", "note": "…"}`)
	}
	c, err := eng.Transition(r.Context(), p.Tenant, r.PathValue("id"), respond.CaseStatus(in.Status), p.Name, in.Note)
	if err != nil {
		return respondErr(err)
	}
	return writeJSON(w, http.StatusOK, c)
}

// PlaybookInfo describes a playbook in use.
type PlaybookInfo struct {
	ID          string               `json:"id"`
	Title       string               `json:"title"`
	Description string               `json:"description,omitempty"`
	File        string               `json:"file"`
	Trigger     string               `json:"trigger"`
	Approval    respond.ApprovalRule `json:"approval"`
	Steps       []string             `json:"steps,omitempty"`
	Options     []string             `json:"options,omitempty"`
}

func (s *Server) listPlaybooks(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.responder()
	if err != nil {
		return err
	}
	out := []PlaybookInfo{}
	for _, p := range eng.Playbooks() {
		pi := PlaybookInfo{ID: p.ID, Title: p.Title, Description: p.Description, File: p.File, Trigger: p.Trigger, Approval: p.Approval}
		for _, st := range p.Steps {
			pi.Steps = append(pi.Steps, st.Action)
		}
		for _, o := range p.Options {
			pi.Options = append(pi.Options, o.ID)
		}
		out = append(out, pi)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}
