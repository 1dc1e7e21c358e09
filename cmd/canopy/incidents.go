package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/risk"
	"github.com/canopy-sec/canopy/internal/store"
)

func (e *env) incidentsCmd() *cobra.Command {
	var tenant, output, party string
	var minRisk, limit int
	cmd := &cobra.Command{
		Use:   "incidents [flags]",
		Short: "List incidents: findings and events correlated along the ATT&CK kill chain (riskiest first)",
		Long: `Incidents lists the tenant's incidents, riskiest first. An incident groups
findings and events that share an entity (an address, an identity, a
resource, a host, a container, an image) within the correlation window of
each other, ordered along the ATT&CK kill chain and scored for risk with
the factors shown. Entities that nearly every record shares (a NAT address,
cloud API domains) link nothing.

Incidents are kept in the store and updated as records are ingested;
records still waiting for correlation are correlated first. After changing
--weights, --assets, --kev or --window, run canopy correlate --rebuild.
"members" name the findings and events ("finding:12", "event:40") of
canopy findings / events.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "table", "json", "ocsf":
			default:
				return usageError{fmt.Errorf("--output must be table, json or ocsf, not %q", output)}
			}
			party, err := partyFlag(party)
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
			var shown []pipeline.Incident
			for offset := 0; limit == 0 || len(shown) < limit; offset += store.MaxPage {
				rows, err := st.Incidents(ctx, store.IncidentQuery{Tenant: tenant, MinRisk: minRisk, Party: party, Offset: offset})
				if err != nil {
					return err
				}
				for _, r := range rows {
					if limit > 0 && len(shown) >= limit {
						break
					}
					in, err := pipeline.DecodeIncident(r)
					if err != nil {
						return err
					}
					shown = append(shown, in)
				}
				if len(rows) < store.MaxPage {
					break
				}
			}
			w := bufio.NewWriter(e.stdout)
			defer w.Flush()
			switch output {
			case "json":
				if shown == nil {
					shown = []pipeline.Incident{}
				}
				b, err := json.MarshalIndent(shown, "", "  ")
				if err != nil {
					return err
				}
				w.Write(append(b, '\n'))
			case "ocsf":
				for _, in := range shown {
					b, err := json.Marshal(in.OCSF)
					if err != nil {
						return err
					}
					w.Write(append(b, '\n'))
				}
			default:
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tRISK\tPARTY\tMEMBERS\tFIRST SEEN\tLAST SEEN\tTITLE")
				for _, in := range shown {
					p := ""
					if in.Responsibility != nil {
						p = string(in.Responsibility.Party)
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\n", in.ID, in.Risk.Score, p, len(in.Members), in.FirstSeen.Format(time.RFC3339), in.LastSeen.Format(time.RFC3339), cut(in.Title, 90))
				}
				tw.Flush()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().IntVar(&minRisk, "min-risk", 0, "only incidents with at least this risk score (0-100)")
	cmd.Flags().StringVar(&party, "party", "", "only incidents whose primary responsible party this is: provider, customer, vendor or shared")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many (0 = all)")
	cmd.Flags().StringVar(&output, "output", "table", "output: table, json (with risk, entities, tactics, members) or ocsf (JSON Lines of Incident Findings)")
	return cmd
}

// correlateCmd builds `canopy correlate`.
func (e *env) correlateCmd() *cobra.Command {
	var tenant, output string
	var rebuild bool
	cmd := &cobra.Command{
		Use:   "correlate [flags]",
		Short: "Correlate records waiting for it into incidents, and score incidents and issues (--rebuild: all records again)",
		Long: `Correlate runs the correlate and score stages over the tenant's records
that wait for them: ingest does this on its own, so correlate is needed
after ingest --no-correlate, or with --rebuild after a change of --weights,
--assets, --kev or --window: a rebuild correlates every stored record again
and scores every incident and issue with the current settings. Incident ids
stay the same across a rebuild wherever an incident keeps most of its
members.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", output)}
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := e.correlate(ctx, st, tenant, rebuild)
			if err != nil {
				return err
			}
			if output == "json" {
				b, err := json.MarshalIndent(res, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, string(b))
				return nil
			}
			fmt.Fprintln(e.stdout, describeCorrelation(res))
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().BoolVar(&rebuild, "rebuild", false, "correlate and score every stored record again")
	cmd.Flags().StringVar(&output, "output", "text", "output: text or json")
	return cmd
}

func describeCorrelation(res pipeline.CorrelateResult) string {
	what := "correlated"
	if res.Rebuilt {
		what = "rebuilt from"
	}
	return fmt.Sprintf("correlation: %s %d records: %d incidents written, %d merged, %d issues scored", what, res.Records, res.Incidents, res.Merged, res.Issues)
}

// correlate runs the correlate and score stages with the settings of the
// global flags, and the response stage's automation on what they wrote.
func (e *env) correlate(ctx context.Context, st store.Store, tenant string, rebuild bool) (pipeline.CorrelateResult, error) {
	res, _, err := e.correlateAuto(ctx, st, tenant, rebuild)
	return res, err
}

// correlateAuto is correlate, also saying what the response automation
// did.
func (e *env) correlateAuto(ctx context.Context, st store.Store, tenant string, rebuild bool) (pipeline.CorrelateResult, *autoSummary, error) {
	opts, err := e.risk.cached()
	if err != nil {
		return pipeline.CorrelateResult{}, nil, err
	}
	opts.Now = time.Now()
	if rebuild {
		// a rebuild holds every record's entities at once: a tighter
		// garbage collector, and a soft limit it works harder to keep,
		// hold a million records under 1 GB
		defer debug.SetGCPercent(debug.SetGCPercent(50))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(700 << 20))
	}
	r, err := e.router(st)
	if err != nil {
		return pipeline.CorrelateResult{}, nil, err
	}
	min, _ := severityID(e.route.minSeverity)
	copts := pipeline.CorrelateOptions{IncidentOptions: opts, Rebuild: rebuild, OnAttributed: r.Attributed, RouteMinSeverity: min}
	sum := &autoSummary{}
	if !rebuild {
		resp, err := e.cachedResponder(st)
		if err != nil {
			return pipeline.CorrelateResult{}, nil, err
		}
		if onFindings, onIncidents := resp.hooks(sum); onIncidents != nil {
			copts.OnIncidents = onIncidents
			copts.OnAttributed = func(ctx context.Context, tenant string, fs []pipeline.AttributedFinding) error {
				if err := r.Attributed(ctx, tenant, fs); err != nil {
					return err
				}
				return onFindings(ctx, tenant, fs)
			}
		}
	}
	res, err := pipeline.Correlate(ctx, st, tenant, copts)
	if err != nil {
		return res, sum, fmt.Errorf("correlating: %w", err)
	}
	return res, sum, nil
}

// incidentCmd builds `canopy incident show ID`.
func (e *env) incidentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "incident", Short: "Show one incident"}
	var tenant string
	show := &cobra.Command{
		Use:   "show INCIDENT_ID",
		Short: "Show an incident's timeline: its members in time order with their tactics, and its risk",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := e.findIncident(cmd.Context(), args[0], tenant)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(e.stdout)
			defer w.Flush()
			fmt.Fprintf(w, "Incident %s  risk %d\n%s\n%s → %s\n\n", in.ID, in.Risk.Score, in.Title, in.FirstSeen.Format(time.RFC3339), in.LastSeen.Format(time.RFC3339))
			var stages []string
			for _, t := range in.Tactics {
				stages = append(stages, t.ID+" "+t.Name)
			}
			fmt.Fprintf(w, "Kill chain: %s\n", strings.Join(stages, " → "))
			var ents []string
			for _, en := range in.Entities {
				ents = append(ents, string(en.Kind)+" "+en.Value)
			}
			fmt.Fprintf(w, "Entities:   %s\n", strings.Join(ents, ", "))
			if r := in.Responsibility; r != nil {
				var inv []string
				for _, p := range r.Involved {
					inv = append(inv, fmt.Sprintf("%s (%d)", p.Party, p.Members))
				}
				fmt.Fprintf(w, "Responsible: %s, %s (%s); involved: %s\n  basis: %s\n", r.Party, r.Area, r.ServiceModel, strings.Join(inv, ", "), r.Basis)
			}
			fmt.Fprintf(w, "\nTimeline:\n")
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for i, fi := range in.OCSF.FindingInfoList {
				t := time.UnixMilli(fi.CreatedTime).UTC()
				if fi.CreatedTime == 0 {
					t = time.UnixMilli(fi.FirstSeenTime).UTC()
				}
				member := ""
				if i < len(in.Members) {
					member = in.Members[i]
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Format(time.RFC3339), member, cut(fi.Title, 90))
			}
			tw.Flush()
			fmt.Fprintf(w, "\nRisk:\n%s", risk.Explain(in.Risk))
			return nil
		},
	}
	show.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.AddCommand(show)
	return cmd
}

// findIncident returns the stored incident with the given id, after
// correlating what waits for it.
func (e *env) findIncident(ctx context.Context, id, tenant string) (pipeline.Incident, error) {
	st, err := e.openStore(ctx)
	if err != nil {
		return pipeline.Incident{}, err
	}
	defer st.Close()
	if _, err := e.correlate(ctx, st, tenant, false); err != nil {
		return pipeline.Incident{}, err
	}
	row, err := st.Incident(ctx, tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return pipeline.Incident{}, fmt.Errorf("no incident %s (see canopy incidents)", id)
	}
	if err != nil {
		return pipeline.Incident{}, err
	}
	return pipeline.DecodeIncident(row)
}

// riskFlags are the global settings of correlation and scoring.
type riskFlags struct {
	weights, assets, kev string
	window               time.Duration

	mu     sync.Mutex
	loaded *pipeline.IncidentOptions // the files, read once
}

// cached reads the settings' files the first time it is called.
func (f *riskFlags) cached() (pipeline.IncidentOptions, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loaded == nil {
		opts, err := f.options()
		if err != nil {
			return opts, err
		}
		f.loaded = &opts
	}
	return *f.loaded, nil
}

func (f *riskFlags) add(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.weights, "weights", os.Getenv("CANOPY_WEIGHTS"), "risk weights YAML (default $CANOPY_WEIGHTS, else the built-in weights: internal/risk/default-weights.yaml)")
	fl.StringVar(&f.assets, "assets", os.Getenv("CANOPY_ASSETS"), "asset context YAML: tags, labels or uids → criticality tier (default $CANOPY_ASSETS)")
	fl.StringVar(&f.kev, "kev", os.Getenv("CANOPY_KEV"), "known exploited vulnerabilities: CISA KEV JSON or one CVE per line (default $CANOPY_KEV)")
	fl.DurationVar(&f.window, "window", 24*time.Hour, "correlation window: how far apart two records sharing an entity may be and still be linked")
}

func (f *riskFlags) options() (pipeline.IncidentOptions, error) {
	opts := pipeline.IncidentOptions{Window: f.window}
	load := func(path string, fn func(r io.Reader) error) error {
		if path == "" {
			return nil
		}
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		if err := fn(fh); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	err := errors.Join(
		load(f.weights, func(r io.Reader) error {
			w, err := risk.LoadWeights(r)
			opts.Weights = &w
			return err
		}),
		load(f.assets, func(r io.Reader) (err error) { opts.Assets, err = risk.LoadAssetContext(r); return err }),
		load(f.kev, func(r io.Reader) (err error) { opts.KEV, err = risk.LoadKEV(r); return err }),
	)
	return opts, err
}

// riskCmd builds `canopy risk explain ID`.
func (e *env) riskCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "risk", Short: "Explain risk scores"}
	var tenant string
	var issue bool
	explain := &cobra.Command{
		Use:   "explain INCIDENT_ID",
		Short: "Show how an incident's (or with --issue, an issue's) risk score is made: each factor, its value, weight and contribution",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if issue {
				return e.explainIssue(cmd, tenant, args[0])
			}
			in, err := e.findIncident(cmd.Context(), args[0], tenant)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s  %s\n\n%s", in.ID, in.Title, risk.Explain(in.Risk))
			return nil
		},
	}
	explain.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	explain.Flags().BoolVar(&issue, "issue", false, "the argument is an issue key (canopy issues)")
	cmd.AddCommand(explain)
	return cmd
}

// explainIssue prints an issue's stored risk breakdown.
func (e *env) explainIssue(cmd *cobra.Command, tenant, key string) error {
	ctx := cmd.Context()
	st, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := e.correlate(ctx, st, tenant, false); err != nil {
		return err
	}
	risks, err := st.IssueRisks(ctx, tenant, []string{key})
	if err != nil {
		return err
	}
	r, ok := risks[key]
	if !ok {
		return fmt.Errorf("no scored issue %q (see canopy issues)", key)
	}
	var res risk.Result
	if err := json.Unmarshal(r.Doc, &res); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n\n%s", key, risk.Explain(res))
	return nil
}
