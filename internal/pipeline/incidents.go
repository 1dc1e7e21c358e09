package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/responsibility"
	"github.com/canopy-sec/canopy/internal/risk"
	"github.com/canopy-sec/canopy/internal/store"
)

// Incident is an incident as the CLI and the API show it: Canopy's fields
// beside the OCSF Incident Finding.
type Incident struct {
	ID        string                `json:"id"`
	Title     string                `json:"title"`
	Risk      risk.Result           `json:"risk"`
	Entities  []correlate.Entity    `json:"entities"`
	Tactics   []correlate.Tactic    `json:"tactics"`
	Members   []string              `json:"members"` // "finding:ID" or "event:ID"
	FirstSeen time.Time             `json:"first_seen"`
	LastSeen  time.Time             `json:"last_seen"`
	OCSF      *ocsf.IncidentFinding `json:"ocsf"`
	// Responsibility says who must act: the riskiest finding's party, and
	// every party with a part (internal/responsibility).
	Responsibility *responsibility.IncidentAttribution `json:"responsibility,omitempty"`
}

// IncidentOptions tunes [Incidents]; the zero value gives the defaults.
type IncidentOptions struct {
	Window  time.Duration     // linking window; default 24 hours
	Now     time.Time         // the time recency is measured against; default time.Now()
	Weights *risk.Weights     // default risk.DefaultWeights()
	Assets  risk.AssetContext // asset criticality rules; none by default
	KEV     risk.KEV          // known exploited vulnerabilities; none by default
}

// Incidents runs the correlate and score stages over what the store holds:
// it reads the tenant's findings and events, builds incidents
// (internal/correlate) and scores them (internal/risk), riskiest first.
// Event ids are offset so that they cannot collide with finding ids inside
// the correlation. Memory holds each record's entities and tactics, not the
// record.
func Incidents(ctx context.Context, st store.Querier, tenant string, opts IncidentOptions) ([]Incident, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	weights := risk.DefaultWeights()
	if opts.Weights != nil {
		weights = *opts.Weights
	}
	const eventBase = int64(1) << 48
	var members []correlate.Member
	pool := map[string]string{}
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
				ents, tactics := correlate.Summarize(rec, pool)
				members = append(members, correlate.Member{ID: id, Time: r.Time, Entities: ents, Tactics: tactics, Posture: correlate.IsPosture(rec)})
			}
			if page.Next.IsZero() {
				break
			}
			q.After = page.Next
		}
	}
	var out []Incident
	for _, inc := range correlate.Build(members, correlate.Options{Window: opts.Window}) {
		// the members' records, read again: the first maxIncidentRecords
		// describe the incident and feed its risk
		recs := map[int64]ocsf.Record{}
		var memberRecs []ocsf.Record
		ids := make([]string, 0, len(inc.Members))
		for n, id := range inc.Members {
			var stored store.Record
			var err error
			if id >= eventBase {
				ids = append(ids, fmt.Sprintf("event:%d", id-eventBase))
				if n < maxIncidentRecords {
					stored, err = st.Event(ctx, tenant, id-eventBase)
				}
			} else {
				ids = append(ids, fmt.Sprintf("finding:%d", id))
				if n < maxIncidentRecords {
					stored, err = st.Finding(ctx, tenant, id)
				}
			}
			if err != nil {
				return nil, err
			}
			if n < maxIncidentRecords {
				rec, err := ocsf.Decode(stored.OCSF)
				if err != nil {
					return nil, fmt.Errorf("record %s: %w", ids[n], err)
				}
				recs[id] = rec
				memberRecs = append(memberRecs, rec)
			}
		}
		in := risk.FromFindings(memberRecs, opts.Assets, opts.KEV, opts.Now)
		in.Tactics = max(in.Tactics, len(inc.Tactics))
		sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
		id := hex.EncodeToString(sum[:6])
		out = append(out, Incident{ID: id, Title: inc.Title, Risk: risk.Score(in, weights), Entities: inc.Entities, Tactics: inc.Tactics,
			Members: ids, FirstSeen: inc.First, LastSeen: inc.Last, OCSF: correlate.ToOCSF(inc, recs, id)})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Risk.Score > out[b].Risk.Score })
	return out, nil
}

// maxIncidentRecords bounds the member records read back to describe and
// score one incident: its finding_info_list and risk cover its first (in
// time) 100 members; "members" lists them all.
const maxIncidentRecords = 100
