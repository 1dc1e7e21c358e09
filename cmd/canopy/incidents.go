package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/risk"
	"github.com/canopy-sec/canopy/internal/store"
)

// incidentOut is an incident in CLI output: Canopy's fields beside the OCSF
// Incident Finding.
type incidentOut struct {
	ID        string                `json:"id"`
	Title     string                `json:"title"`
	Risk      risk.Result           `json:"risk"`
	Entities  []correlate.Entity    `json:"entities"`
	Tactics   []correlate.Tactic    `json:"tactics"`
	Members   []string              `json:"members"` // "finding:ID" or "event:ID"
	FirstSeen time.Time             `json:"first_seen"`
	LastSeen  time.Time             `json:"last_seen"`
	OCSF      *ocsf.IncidentFinding `json:"ocsf"`
}

func (e *env) incidentsCmd() *cobra.Command {
	var tenant, output string
	var window time.Duration
	var minRisk, limit int
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
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			incs, err := correlateStore(ctx, st, tenant, window, time.Now())
			if err != nil {
				return err
			}
			var shown []incidentOut
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
					shown = []incidentOut{}
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
	return cmd
}

// correlateStore reads the tenant's findings and events, builds incidents
// and scores them, riskiest first. Event ids are offset so that they cannot
// collide with finding ids inside the correlation.
func correlateStore(ctx context.Context, st store.Store, tenant string, window time.Duration, now time.Time) ([]incidentOut, error) {
	const eventBase = int64(1) << 48
	var members []correlate.Member
	recs := map[int64]ocsf.Record{}
	fps := map[int64]string{}
	for _, events := range []bool{false, true} {
		q := store.Query{Tenant: tenant, Limit: store.MaxPage}
		for {
			var page store.Page
			var err error
			if events {
				page, err = st.Events(ctx, q)
			} else {
				page, err = st.Findings(ctx, q)
			}
			if err != nil {
				return nil, err
			}
			for _, r := range page.Records {
				rec, err := ocsf.Decode(r.OCSF)
				if err != nil {
					return nil, fmt.Errorf("record %d: %w", r.ID, err)
				}
				id := r.ID
				if events {
					id += eventBase
				}
				members = append(members, correlate.Member{ID: id, Time: r.Time, Record: rec})
				recs[id], fps[id] = rec, r.Fingerprint
			}
			if page.Next.IsZero() {
				break
			}
			q.After = page.Next
		}
	}
	weights := risk.DefaultWeights()
	var out []incidentOut
	for _, inc := range correlate.Build(members, correlate.Options{Window: window}) {
		var memberRecs []ocsf.Record
		var memberFPs []string
		ids := make([]string, 0, len(inc.Members))
		for _, id := range inc.Members {
			memberRecs = append(memberRecs, recs[id])
			memberFPs = append(memberFPs, fps[id])
			if id >= eventBase {
				ids = append(ids, fmt.Sprintf("event:%d", id-eventBase))
			} else {
				ids = append(ids, fmt.Sprintf("finding:%d", id))
			}
		}
		in := risk.FromFindings(memberRecs, risk.AssetContext{}, risk.KEV{}, now)
		in.Tactics = max(in.Tactics, len(inc.Tactics))
		sort.Strings(memberFPs)
		sum := sha256.Sum256([]byte(strings.Join(memberFPs, ",")))
		id := hex.EncodeToString(sum[:6])
		out = append(out, incidentOut{ID: id, Title: inc.Title, Risk: risk.Score(in, weights), Entities: inc.Entities, Tactics: inc.Tactics,
			Members: ids, FirstSeen: inc.First, LastSeen: inc.Last, OCSF: correlate.ToOCSF(inc, recs, id)})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Risk.Score > out[b].Risk.Score })
	return out, nil
}
