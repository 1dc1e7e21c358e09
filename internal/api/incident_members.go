package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

// maxExpandedMembers bounds the members GET /incidents/{id}?expand=members
// describes; the rest are listed by reference only.
const maxExpandedMembers = 500

// IncidentOut is an incident in API output; MemberRecords is filled only
// when asked for with expand=members.
type IncidentOut struct {
	pipeline.Incident
	MemberRecords []MemberOut `json:"member_records,omitempty"`
}

// MemberOut describes one member record of an incident for a timeline:
// when it happened, what it says, and the ATT&CK tactics it stands for.
type MemberOut struct {
	Ref        string             `json:"ref"`  // "finding:ID" or "event:ID"
	Kind       string             `json:"kind"` // finding or event
	ID         int64              `json:"id"`
	Time       time.Time          `json:"time"`
	Title      string             `json:"title"`
	Severity   string             `json:"severity"`
	SeverityID int                `json:"severity_id"`
	Product    string             `json:"product"`
	Class      string             `json:"class"`
	Tactics    []correlate.Tactic `json:"tactics"`
	// Entities are those of the incident's linking entities the record names.
	Entities []correlate.Entity `json:"entities"`
}

// expandMembers describes up to maxExpandedMembers members of in.
func expandMembers(ctx context.Context, st store.Querier, tenant string, in pipeline.Incident) ([]MemberOut, error) {
	out := make([]MemberOut, 0, min(len(in.Members), maxExpandedMembers))
	type key struct{ kind, value string }
	linking := map[key]bool{}
	for _, e := range in.Entities {
		linking[key{string(e.Kind), e.Value}] = true
	}
	for _, ref := range in.Members {
		if len(out) == maxExpandedMembers {
			break
		}
		kind, idText, _ := strings.Cut(ref, ":")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("incident %s: bad member %q", in.ID, ref)
		}
		var rec store.Record
		switch kind {
		case "finding":
			rec, err = st.Finding(ctx, tenant, id)
		case "event":
			rec, err = st.Event(ctx, tenant, id)
		default:
			return nil, fmt.Errorf("incident %s: bad member %q", in.ID, ref)
		}
		if err != nil {
			return nil, fmt.Errorf("incident %s: member %s: %w", in.ID, ref, err)
		}
		m := MemberOut{Ref: ref, Kind: kind, ID: id, Time: rec.Time.UTC(), Title: rec.Title, SeverityID: rec.SeverityID,
			Severity: ocsf.SeverityCaption(rec.SeverityID), Product: rec.Product, Tactics: []correlate.Tactic{}, Entities: []correlate.Entity{}}
		var head struct {
			ClassName string `json:"class_name"`
		}
		if json.Unmarshal(rec.OCSF, &head) == nil {
			m.Class = head.ClassName
		}
		if r, err := ocsf.Decode(rec.OCSF); err == nil {
			if ts := correlate.Tactics(r); ts != nil {
				m.Tactics = ts
			}
			for _, e := range correlate.Entities(r) {
				if linking[key{string(e.Kind), e.Value}] {
					m.Entities = append(m.Entities, e)
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}
