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
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/risk"
)

func (e *env) incidentsCmd() *cobra.Command {
	var tenant, output string
	var window time.Duration
	var minRisk, limit int
	var rf riskFlags
	cmd := &cobra.Command{
		Use:   "incidents [flags]",
		Short: "Correlate findings and events into incidents (riskiest first)",
		Long: `Incidents groups the tenant's findings and events that share an entity (an
address, an identity, a resource, a host, a container, an image) within
--window of each other into incidents, ordered along the ATT&CK kill chain and
scored for risk with the factors shown. Entities that nearly every record
shares (a NAT address, cloud API domains) link nothing.

Incidents are computed from the store each time; "members" name the
findings and events ("finding:12", "event:40") of canopy findings / events.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "table", "json", "ocsf":
			default:
				return usageError{fmt.Errorf("--output must be table, json or ocsf, not %q", output)}
			}
			// correlation holds every record's entities at once: a tighter
			// garbage collector keeps a million records under 1 GB
			defer debug.SetGCPercent(debug.SetGCPercent(50))
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			opts, err := rf.options(window)
			if err != nil {
				return err
			}
			incs, err := pipeline.Incidents(ctx, st, tenant, opts)
			if err != nil {
				return err
			}
			var shown []pipeline.Incident
			for _, in := range incs {
				if in.Risk.Score >= minRisk && (limit == 0 || len(shown) < limit) {
					shown = append(shown, in)
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
				fmt.Fprintln(tw, "ID\tRISK\tMEMBERS\tFIRST SEEN\tLAST SEEN\tTITLE")
				for _, in := range shown {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", in.ID, in.Risk.Score, len(in.Members), in.FirstSeen.Format(time.RFC3339), in.LastSeen.Format(time.RFC3339), cut(in.Title, 90))
				}
				tw.Flush()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant to correlate")
	cmd.Flags().DurationVar(&window, "window", 24*time.Hour, "how far apart two records sharing an entity may be and still be linked")
	cmd.Flags().IntVar(&minRisk, "min-risk", 0, "only incidents with at least this risk score (0-100)")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many (0 = all)")
	cmd.Flags().StringVar(&output, "output", "table", "output: table, json (with risk, entities, tactics, members) or ocsf (JSON Lines of Incident Findings)")
	rf.add(cmd)
	return cmd
}

// incidentCmd builds `canopy incident show ID`.
func (e *env) incidentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "incident", Short: "Show one incident"}
	var lf lookupFlags
	show := &cobra.Command{
		Use:   "show INCIDENT_ID",
		Short: "Show an incident's timeline: its members in time order with their tactics, and its risk",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := e.findIncident(cmd.Context(), args[0], lf)
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
			fmt.Fprintf(w, "Entities:   %s\n\nTimeline:\n", strings.Join(ents, ", "))
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
	lf.add(show)
	cmd.AddCommand(show)
	return cmd
}

// lookupFlags find one incident: the tenant, and the correlation and risk
// settings it was listed with.
type lookupFlags struct {
	tenant string
	window time.Duration
	rf     riskFlags
}

func (f *lookupFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().DurationVar(&f.window, "window", 24*time.Hour, "correlation window, as for canopy incidents")
	f.rf.add(cmd)
}

// findIncident correlates the tenant's records and returns the incident
// with the given id.
func (e *env) findIncident(ctx context.Context, id string, lf lookupFlags) (pipeline.Incident, error) {
	tenant := lf.tenant
	opts, err := lf.rf.options(lf.window)
	if err != nil {
		return pipeline.Incident{}, err
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return pipeline.Incident{}, err
	}
	defer st.Close()
	incs, err := pipeline.Incidents(ctx, st, tenant, opts)
	if err != nil {
		return pipeline.Incident{}, err
	}
	for _, in := range incs {
		if in.ID == id {
			return in, nil
		}
	}
	return pipeline.Incident{}, fmt.Errorf("no incident %s (see canopy incidents)", id)
}

// riskFlags name the files that tune risk scores.
type riskFlags struct{ weights, assets, kev string }

func (f *riskFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.weights, "weights", "", "risk weights YAML (default: the built-in weights, see internal/risk/default-weights.yaml)")
	cmd.Flags().StringVar(&f.assets, "assets", "", "asset context YAML: tags, labels or uids → criticality tier")
	cmd.Flags().StringVar(&f.kev, "kev", "", "known exploited vulnerabilities: CISA KEV JSON or one CVE per line")
}

func (f *riskFlags) options(window time.Duration) (pipeline.IncidentOptions, error) {
	opts := pipeline.IncidentOptions{Window: window}
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
	var lf lookupFlags
	explain := &cobra.Command{
		Use:   "explain INCIDENT_ID",
		Short: "Show how an incident's risk score is made: each factor, its value, weight and contribution",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := e.findIncident(cmd.Context(), args[0], lf)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s  %s\n\n%s", in.ID, in.Title, risk.Explain(in.Risk))
			return nil
		},
	}
	lf.add(explain)
	cmd.AddCommand(explain)
	return cmd
}
