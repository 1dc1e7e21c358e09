package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/responsibility"
	"github.com/canopy-sec/canopy/internal/risk"
	"github.com/canopy-sec/canopy/internal/store"
)

// FromFinding returns the record of a stored finding of tenant: its title,
// severity (from severity_id), entities and tactics (internal/correlate),
// product, OCSF class and responsible party (the stored attribution). Risk,
// labels and data grade come from issueRisk, the stored risk of the
// finding's issue; nil (not scored yet: correlate first) leaves the risk
// at 0 and the record without labels.
func FromFinding(tenant string, row store.Record, issueRisk *risk.Result) (Record, error) {
	rec, err := ocsf.Decode(row.OCSF)
	if err != nil {
		return Record{}, fmt.Errorf("respond: finding %d: %w", row.ID, err)
	}
	r := Record{Tenant: tenant, Kind: KindFinding, ID: strconv.FormatInt(row.ID, 10), Title: row.Title,
		Severity: string(notify.SeverityFromOCSF(row.SeverityID)), Source: row.Product, Entities: correlate.Entities(rec)}
	if r.Entities == nil {
		r.Entities = []correlate.Entity{}
	}
	if b := rec.Common(); b != nil {
		r.Class = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(b.ClassName)), " ", "_")
		if r.Title == "" {
			r.Title = rec.Title()
		}
	}
	for _, t := range correlate.Tactics(rec) {
		r.Tactics = append(r.Tactics, t.Name, t.ID)
	}
	if len(row.Responsibility) > 0 {
		var a responsibility.Attribution
		if err := json.Unmarshal(row.Responsibility, &a); err != nil {
			return Record{}, fmt.Errorf("respond: finding %d: attribution: %w", row.ID, err)
		}
		r.Party = string(a.Party)
		for _, p := range a.Parts {
			if p.Party == a.Party && p.Name != "" {
				r.PartyName = p.Name
				break
			}
		}
	}
	if issueRisk != nil {
		r.Risk = issueRisk.Score
		r.DataGrade, r.Labels = riskFacts(*issueRisk)
	}
	return r, nil
}

// RecordSource is what [LoadRecord] reads of the store.
type RecordSource interface {
	Incident(ctx context.Context, tenant, id string) (store.IncidentRow, error)
	Finding(ctx context.Context, tenant string, id int64) (store.Record, error)
	IssueRisks(ctx context.Context, tenant string, keys []string) (map[string]store.IssueRisk, error)
}

// LoadRecord reads the record ref of tenant from the store: an incident
// ([FromIncident]) or a finding ([FromFinding], with its issue's stored
// risk). An unknown id, or one of another tenant, is an error wrapping
// [ErrNotFound]. Issues are answered through their findings: a ref of
// kind issue is an error.
func LoadRecord(ctx context.Context, st RecordSource, tenant string, ref Ref) (Record, error) {
	switch ref.Kind {
	case KindIncident:
		row, err := st.Incident(ctx, tenant, ref.ID)
		if err != nil {
			return Record{}, fmt.Errorf("respond: %s: %w", ref, notFound(err))
		}
		inc, err := pipeline.DecodeIncident(row)
		if err != nil {
			return Record{}, fmt.Errorf("respond: %w", err)
		}
		return FromIncident(tenant, inc), nil
	case KindFinding:
		id, err := strconv.ParseInt(ref.ID, 10, 64)
		if err != nil || id <= 0 {
			return Record{}, fmt.Errorf("respond: %s: %w: finding ids are numbers", ref, ErrNotFound)
		}
		row, err := st.Finding(ctx, tenant, id)
		if err != nil {
			return Record{}, fmt.Errorf("respond: %s: %w", ref, notFound(err))
		}
		var rr *risk.Result
		if row.IssueKey != "" {
			risks, err := st.IssueRisks(ctx, tenant, []string{row.IssueKey})
			if err != nil {
				return Record{}, fmt.Errorf("respond: %s: issue risk: %w", ref, err)
			}
			if ir, ok := risks[row.IssueKey]; ok && len(ir.Doc) > 0 {
				var res risk.Result
				if err := json.Unmarshal(ir.Doc, &res); err != nil {
					return Record{}, fmt.Errorf("respond: %s: issue risk: %w", ref, err)
				}
				rr = &res
			}
		}
		return FromFinding(tenant, row, rr)
	case KindIssue:
		return Record{}, errors.New("respond: issues are answered through their findings (finding:<id>)")
	}
	return Record{}, fmt.Errorf("respond: record reference %s: want incident:<id> or finding:<id>", ref)
}
