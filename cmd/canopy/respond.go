package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/cloud"
	"github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
)

// respondFlags are the global settings of the response stage.
type respondFlags struct {
	playbooks, config string

	mu     sync.Mutex
	cfg    *respondConfig
	cached map[store.Store]*responder // responders of serving processes, by store
}

func (f *respondFlags) add(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.playbooks, "playbooks", os.Getenv("CANOPY_PLAYBOOKS"), "directory of extra playbooks (*.yaml), besides the built-in ones; a playbook with a built-in's id replaces it (default $CANOPY_PLAYBOOKS)")
	fl.StringVar(&f.config, "respond-config", os.Getenv("CANOPY_RESPOND"), "response config YAML: automation, risk threshold, SLA policy, tickets, cloud clients (default $CANOPY_RESPOND)")
}

// load reads --respond-config once.
func (f *respondFlags) load() (respondConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg == nil {
		cfg, err := readRespondConfig(f.config)
		if err != nil {
			return cfg, err
		}
		f.cfg = &cfg
	}
	return *f.cfg, nil
}

// responder is the response engine of one store, with what builds its
// records.
type responder struct {
	eng     *respond.Engine
	docs    *respond.DocStore
	world   *respond.StoreWorld
	st      store.Store
	cfg     respondConfig
	missing map[string][]string // built-in playbooks left out: id → missing actions
	log     *slog.Logger
}

// clockFlag reads a --now flag: empty is the wall clock.
func clockFlag(at string) (func() time.Time, error) {
	if at == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return nil, usageError{fmt.Errorf("--now %q: want RFC 3339", at)}
	}
	return func() time.Time { return t }, nil
}

// responder builds the response engine over st with the global settings;
// now is its clock and the audit chain's (nil: the wall clock).
func (e *env) responder(st store.Store, now func() time.Time) (*responder, error) {
	cfg, err := e.respond.load()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	router, err := e.routerWith(st, now)
	if err != nil {
		return nil, err
	}
	ropts, err := e.risk.cached()
	if err != nil {
		return nil, err
	}
	log := e.logger(slog.LevelWarn).With("component", "respond")
	docs := respond.NewDocStore(st)
	world, err := respond.NewStoreWorld(respond.StoreWorldOptions{Store: st, Assets: ropts.Assets, Now: now})
	if err != nil {
		return nil, err
	}
	acts, err := respond.RecordActions(respond.RecordActionOptions{Records: docs, Cases: docs})
	if err != nil {
		return nil, err
	}
	if router.Notifying() {
		na, err := respond.NewNotifyAction(respond.NotifyOptions{Notifier: router, PartyID: func(_, party, name string) string {
			if id := router.PartyID(party, name); id != "" {
				return id
			}
			return party
		}})
		if err != nil {
			return nil, err
		}
		acts = append(acts, na)
	}
	ncfg, _, err := e.route.load()
	if err != nil {
		return nil, err
	}
	client, err := ticketClient(cfg, ncfg)
	if err != nil {
		return nil, err
	}
	if cfg.Jira != nil {
		jc := *cfg.Jira
		jc.Client = client
		a, err := respond.NewJiraAction(jc)
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
	}
	if cfg.Webhook != nil {
		wc := *cfg.Webhook
		wc.Client = client
		a, err := respond.NewWebhookTicketAction(wc)
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
	}
	reg, err := respond.NewRegistry(acts...)
	if err != nil {
		return nil, err
	}
	if reg, err = reg.With(cloud.Actions(cloudOptions(cfg))...); err != nil {
		return nil, err
	}
	pbs, missing, err := respond.Builtin(reg)
	if err != nil {
		return nil, err
	}
	if e.respond.playbooks != "" {
		extra, err := respond.LoadDir(os.DirFS(e.respond.playbooks), ".", reg)
		if err != nil {
			return nil, fmt.Errorf("--playbooks %s: %w", e.respond.playbooks, err)
		}
		for _, p := range extra {
			pbs = slices.DeleteFunc(pbs, func(b *respond.Playbook) bool { return b.ID == p.ID })
			delete(missing, p.ID)
		}
		pbs = append(pbs, extra...)
	}
	eng, err := respond.New(respond.Options{Playbooks: pbs, Actions: reg, Runs: docs, Approvals: docs, Cases: docs,
		Audit: router, World: world, SLA: cfg.SLA, Threshold: cfg.Threshold, StaleAfter: cfg.StaleAfter, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	return &responder{eng: eng, docs: docs, world: world, st: st, cfg: cfg, missing: missing, log: log}, nil
}

// cachedResponder returns the responder of st on the wall clock, built
// once per store (serve, and every correlation of a command).
func (e *env) cachedResponder(st store.Store) (*responder, error) {
	e.respond.mu.Lock()
	r, ok := e.respond.cached[st]
	e.respond.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := e.responder(st, nil)
	if err != nil {
		return nil, err
	}
	e.respond.mu.Lock()
	defer e.respond.mu.Unlock()
	if e.respond.cached == nil {
		e.respond.cached = map[store.Store]*responder{}
	}
	if prev, ok := e.respond.cached[st]; ok {
		return prev, nil
	}
	e.respond.cached[st] = r
	return r, nil
}

// cloudOptions gives the cloud actions their clients: one set for every
// tenant, from the providers' standard credential chains, made at the
// first call. A provider without a section in the config has no actions.
func cloudOptions(cfg respondConfig) cloud.Options {
	var opts cloud.Options
	if a := cfg.AWS; a != nil {
		var once sync.Once
		var client *cloud.AWS
		var cerr error
		opts.AWS = func(ctx context.Context, _ string) (*cloud.AWS, error) {
			once.Do(func() { client, cerr = cloud.NewAWS(context.WithoutCancel(ctx), *a) })
			return client, cerr
		}
	}
	if a := cfg.Alibaba; a != nil {
		var once sync.Once
		var client *cloud.Alibaba
		var cerr error
		opts.Alibaba = func(context.Context, string) (*cloud.Alibaba, error) {
			once.Do(func() { client, cerr = cloud.NewAlibaba(*a) })
			return client, cerr
		}
	}
	return opts
}

// record builds the record ref of tenant from the store, with what the
// inventory adds (respond.Enrich).
func (r *responder) record(ctx context.Context, tenant string, ref respond.Ref) (respond.Record, error) {
	rec, err := respond.LoadRecord(ctx, r.st, tenant, ref)
	if err != nil {
		return rec, err
	}
	return respond.Enrich(ctx, r.world, rec)
}

// evaluate builds and evaluates the records refs of tenant, in order. A
// record that cannot be built or evaluated is reported in its outcome; the
// error is for what stops everything (a canceled context).
func (r *responder) evaluate(ctx context.Context, tenant string, refs []respond.Ref) ([]outcome, error) {
	var out []outcome
	for _, ref := range refs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		o := outcome{Record: ref}
		rec, err := r.record(ctx, tenant, ref)
		if err == nil {
			o.Title, o.Risk = rec.Title, rec.Risk
			o.Evaluation, err = r.eng.Evaluate(ctx, rec)
		}
		if err != nil {
			o.Error = err.Error()
		}
		out = append(out, o)
	}
	return out, nil
}

// outcome is what `canopy respond` reports for one record.
type outcome struct {
	Record respond.Ref `json:"record"`
	Title  string      `json:"title,omitempty"`
	Risk   int         `json:"risk"`
	respond.Evaluation
	Error string `json:"error,omitempty"`
}

// openIncidents lists the tenant's incidents whose record state is not
// resolved, suppressed or archived, riskiest first.
func (r *responder) openIncidents(ctx context.Context, tenant string) ([]respond.Ref, error) {
	var refs []respond.Ref
	for offset := 0; ; offset += store.MaxPage {
		rows, err := r.st.Incidents(ctx, store.IncidentQuery{Tenant: tenant, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			ref := respond.Ref{Kind: respond.KindIncident, ID: row.ID}
			st, err := r.docs.RecordState(ctx, tenant, ref)
			if err != nil {
				return nil, err
			}
			switch st.Status {
			case "resolved", "suppressed", "archived":
				continue
			}
			refs = append(refs, ref)
		}
		if len(rows) < store.MaxPage {
			return refs, nil
		}
	}
}

// autoSummary counts what the automation did.
type autoSummary struct {
	mu                                          sync.Mutex
	Records, Automatic, Approvals, Failed, Errs int
}

func (s *autoSummary) add(os []outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range os {
		s.Records++
		if o.Error != "" {
			s.Errs++
		}
		for _, d := range o.Decisions {
			switch {
			case d.Outcome == respond.OutcomeAutomatic && d.Run != nil && d.Run.State != respond.RunCompleted:
				s.Failed++
			case d.Outcome == respond.OutcomeAutomatic:
				s.Automatic++
			case d.Outcome == respond.OutcomeApproval:
				s.Approvals++
			}
		}
	}
}

func (s *autoSummary) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := fmt.Sprintf("response: %d records evaluated: %d ran automatically, %d approvals requested", s.Records, s.Automatic, s.Approvals)
	if s.Failed > 0 {
		msg += fmt.Sprintf(", %d automatic runs failed (canopy actions list --state failed)", s.Failed)
	}
	if s.Errs > 0 {
		msg += fmt.Sprintf(", %d records not evaluated (see the log)", s.Errs)
	}
	if s.Approvals > 0 {
		msg += " (canopy approvals list)"
	}
	return msg
}

// hooks returns the correlation hooks that evaluate what a correlation
// step wrote (incidents) and routed (new findings), counting into sum. A
// failure is logged, not returned: a response that could not be decided
// does not undo the ingest; the records can be evaluated again with
// canopy respond.
func (r *responder) hooks(sum *autoSummary) (func(context.Context, string, []pipeline.AttributedFinding) error, func(context.Context, string, []string) error) {
	if !r.cfg.Auto || len(r.eng.Playbooks()) == 0 {
		return nil, nil
	}
	run := func(ctx context.Context, tenant string, refs []respond.Ref) error {
		out, err := r.evaluate(ctx, tenant, refs)
		sum.add(out)
		for _, o := range out {
			if o.Error != "" {
				r.log.Warn("record not evaluated", "tenant", tenant, "record", o.Record.String(), "err", o.Error)
			}
		}
		return err
	}
	findings := func(ctx context.Context, tenant string, fs []pipeline.AttributedFinding) error {
		refs := make([]respond.Ref, len(fs))
		for i, f := range fs {
			refs[i] = respond.Ref{Kind: respond.KindFinding, ID: strconv.FormatInt(f.ID, 10)}
		}
		return run(ctx, tenant, refs)
	}
	incidents := func(ctx context.Context, tenant string, ids []string) error {
		refs := make([]respond.Ref, len(ids))
		for i, id := range ids {
			refs[i] = respond.Ref{Kind: respond.KindIncident, ID: id}
		}
		return run(ctx, tenant, refs)
	}
	return findings, incidents
}

// respondCmd builds `canopy respond`.
func (e *env) respondCmd() *cobra.Command {
	var tenant, output, at string
	var incidents, findings []string
	cmd := &cobra.Command{
		Use:   "respond [--incident ID]... [--finding ID]...",
		Short: "Answer incidents and findings with playbooks: low risk runs on its own, high risk waits for approval",
		Long: `Respond evaluates records against the playbooks (the built-in ones and
--playbooks): the tenant's open incidents by default (those not resolved,
suppressed or archived), else the incidents and findings named. For each
matching playbook, a response whose risk is below the threshold and whose
steps disrupt little runs at once; otherwise an approval is requested
with two or three options and their impact (canopy approvals show), and
a case is opened for incidents. A playbook answers a record once.

ingest and serve do this on their own for the incidents and findings each
correlation writes (auto: false in --respond-config turns it off).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("--output must be table or json, not %q", output)}
			}
			now, err := clockFlag(at)
			if err != nil {
				return err
			}
			refs, err := recordRefs(incidents, findings)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := e.correlate(ctx, st, tenant, false); err != nil {
				return err
			}
			r, err := e.responder(st, now)
			if err != nil {
				return err
			}
			if len(refs) == 0 {
				if refs, err = r.openIncidents(ctx, tenant); err != nil {
					return err
				}
			}
			out, err := r.evaluate(ctx, tenant, refs)
			if err != nil {
				return err
			}
			if output == "json" {
				if out == nil {
					out = []outcome{}
				}
				return writeIndented(e.stdout, out)
			}
			writeOutcomes(e.stdout, out)
			if m := r.missingPlaybooks(); len(m) > 0 {
				fmt.Fprintf(e.stderr, "canopy: built-in playbooks left out for want of their actions: %s (configure notices with --notify, cloud clients in --respond-config; see canopy playbook list)\n", strings.Join(m, "; "))
			}
			for _, o := range out {
				if o.Error != "" {
					return silentError{errors.New("some records were not evaluated")}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().StringSliceVar(&incidents, "incident", nil, "an incident to evaluate (repeatable)")
	cmd.Flags().StringSliceVar(&findings, "finding", nil, "a finding to evaluate (repeatable)")
	cmd.Flags().StringVar(&output, "output", "table", "table or json")
	nowFlag(cmd.Flags(), &at)
	return cmd
}

// recordRefs turns --incident and --finding values into references.
func recordRefs(incidents, findings []string) ([]respond.Ref, error) {
	var refs []respond.Ref
	for _, id := range incidents {
		refs = append(refs, respond.Ref{Kind: respond.KindIncident, ID: id})
	}
	for _, id := range findings {
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
			return nil, usageError{fmt.Errorf("--finding %q: finding ids are numbers (see canopy findings)", id)}
		}
		refs = append(refs, respond.Ref{Kind: respond.KindFinding, ID: id})
	}
	return refs, nil
}

// writeOutcomes prints one block per record: what ran, what waits for
// approval, or that nothing matched.
func writeOutcomes(w io.Writer, out []outcome) {
	if len(out) == 0 {
		fmt.Fprintln(w, "no records to evaluate")
		return
	}
	for _, o := range out {
		head := o.Record.String()
		if o.Title != "" {
			head += fmt.Sprintf(" (risk %d) %s", o.Risk, cut(o.Title, 80))
		}
		fmt.Fprintln(w, head)
		switch {
		case o.Error != "":
			fmt.Fprintf(w, "  error: %s\n", o.Error)
		case len(o.Decisions) == 0:
			fmt.Fprintln(w, "  nothing matched")
		}
		for _, d := range o.Decisions {
			switch d.Outcome {
			case respond.OutcomeAutomatic:
				state := "failed"
				if d.Run != nil {
					state = string(d.Run.State)
				}
				fmt.Fprintf(w, "  %s: ran automatically, run %s %s: %s\n", d.Playbook, runID(d.Run), state, stepStates(d.Run))
				if d.Error != "" {
					fmt.Fprintf(w, "    error: %s (canopy actions resume %s)\n", d.Error, runID(d.Run))
				}
			case respond.OutcomeApproval:
				var opts []string
				for i, op := range d.Approval.Options {
					opts = append(opts, fmt.Sprintf("%d %s", i+1, op.ID))
				}
				fmt.Fprintf(w, "  %s: approval pending %s: options %s (canopy approvals show %s)\n", d.Playbook, d.Approval.ID, strings.Join(opts, ", "), d.Approval.ID)
				fmt.Fprintf(w, "    why: %s\n", d.Reason)
			case respond.OutcomeSkipped:
				fmt.Fprintf(w, "  %s: %s\n", d.Playbook, d.Reason)
			case respond.OutcomeError:
				fmt.Fprintf(w, "  %s: not applied: %s: %s\n", d.Playbook, d.Reason, d.Error)
			}
		}
		if o.Case != nil {
			fmt.Fprintf(w, "  case %s (%s, respond by %s)\n", o.Case.ID, o.Case.Status, o.Case.RespondBy.Format(time.RFC3339))
		}
	}
}

func runID(r *respond.Run) string {
	if r == nil {
		return "-"
	}
	return r.ID
}

func stepStates(r *respond.Run) string {
	if r == nil {
		return ""
	}
	var s []string
	for _, st := range r.Steps {
		s = append(s, st.ID+" "+string(st.State))
	}
	return strings.Join(s, ", ")
}

// nowFlag adds --now.
func nowFlag(fs interface {
	StringVar(*string, string, string, string)
}, at *string) {
	fs.StringVar(at, "now", "", "act as of this time (RFC 3339), for scripted timelines; default the wall clock")
}

// routerWith builds the route stage over a store with a clock for its
// audit entries (nil: the wall clock).
func (e *env) routerWith(st store.Store, now func() time.Time) (*route.Router, error) {
	cfg, key, err := e.route.load()
	if err != nil {
		return nil, err
	}
	min, err := severityID(e.route.minSeverity)
	if err != nil {
		return nil, err
	}
	return route.New(route.Options{Store: st, Notify: cfg, Key: key, MinSeverity: min, Logger: e.logger(slog.LevelWarn), Now: now})
}

// missingPlaybooks describes the built-in playbooks left out.
func (r *responder) missingPlaybooks() []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(r.missing)) {
		out = append(out, fmt.Sprintf("%s (needs %s)", id, strings.Join(r.missing[id], ", ")))
	}
	return out
}
