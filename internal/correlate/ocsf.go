package correlate

import (
	"github.com/canopy-sec/canopy/internal/ocsf"
)

// TriageGroup is the assignee group of a new incident: OCSF requires an
// assignee or a group, and a new incident belongs to the triage queue.
const TriageGroup = "triage"

// ToOCSF writes an incident as an OCSF Incident Finding (2005). records
// holds the members by id; uid identifies the incident (metadata.uid). Its
// severity is its most severe member's; each member contributes its
// finding_info (events: a finding_info naming the event).
func ToOCSF(inc Incident, records map[int64]ocsf.Record, uid string) *ocsf.IncidentFinding {
	f := &ocsf.IncidentFinding{}
	f.SetClass(ocsf.ClassIncidentFinding, ocsf.ActivityCreate, "")
	f.AddProfile("incident")
	f.SetStatus(1, "") // New
	f.Metadata.UID = uid
	f.Metadata.Product = ocsf.Product{Name: "Canopy", VendorName: "Canopy", Feature: &ocsf.Feature{Name: "correlate"}}
	f.Desc = inc.Title
	f.Time = ocsf.Millis(inc.Last)
	f.StartTime, f.EndTime = ocsf.Millis(inc.First), ocsf.Millis(inc.Last)
	f.AssigneeGroup = &ocsf.Group{Name: TriageGroup}
	sev := 0
	for _, id := range inc.Members {
		rec, ok := records[id]
		if !ok {
			continue
		}
		b := rec.Common()
		if b.SeverityID > sev && b.SeverityID != ocsf.SeverityOther {
			sev = b.SeverityID
		}
		var fi ocsf.FindingInfo
		switch r := rec.(type) {
		case interface{ Info() *ocsf.FindingInfo }:
			fi = *r.Info()
		default:
			fi = ocsf.FindingInfo{UID: rec.SourceUID(), Title: rec.Title(), CreatedTime: b.Time}
		}
		if fi.UID == "" {
			fi.UID = rec.SourceUID()
		}
		f.FindingInfoList = append(f.FindingInfoList, fi)
	}
	f.SetSeverity(sev, "")
	return f
}
