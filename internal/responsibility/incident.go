package responsibility

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Member is one finding of an incident, as incident attribution sees it.
type Member struct {
	// UID identifies the member (its finding uid or store id).
	UID string
	// Risk is the member's risk score (0–100, internal/risk); 0 when not
	// scored.
	Risk int
	// SeverityID is the member's OCSF severity_id.
	SeverityID int
	// Attribution is the member's own attribution ([Attributor.Attribute]).
	Attribution Attribution
}

// Involved is one party that holds a part in an incident.
type Involved struct {
	// Party is provider, customer or vendor.
	Party Party `json:"party"`
	// Name names the vendor (its id) or the provider (its cloud), if known.
	Name string `json:"name,omitempty"`
	// Members is how many members give the party a part.
	Members int `json:"members"`
	// Areas are the areas of those members, sorted.
	Areas []string `json:"areas"`
}

// IncidentAttribution is the attribution of an incident: the primary
// member's attribution, which member that is, and every party involved. In
// API output it appears under "responsibility" like [Attribution], with
// two more keys.
type IncidentAttribution struct {
	Attribution
	// Primary is the UID of the member that decided Party, Area and
	// ServiceModel.
	Primary string `json:"primary"`
	// Involved lists each party with a part in any member: most members
	// first, then provider, customer, vendor, then by name.
	Involved []Involved `json:"involved"`
}

// AttributeIncident attributes an incident from its members' attributions.
//
// The primary member is the riskiest: the highest Risk; among equal risks
// the most severe (severity_id, Fatal highest; Unknown and Other count as
// lowest); among equals the first in the order given (correlate lists
// members in time order, so the earliest). The incident takes the primary
// member's party, area, service model and parts, and says so in its basis.
//
// A party is involved when a member names it: a member held by one party
// involves that party; a shared member or one with parts involves every
// party of its parts (a shared member without parts involves provider and
// customer). Vendors are told apart by name.
//
// With no members the result is empty (Party "").
func AttributeIncident(members []Member) IncidentAttribution {
	if len(members) == 0 {
		return IncidentAttribution{}
	}
	primary := 0
	for i, m := range members[1:] {
		if compareRisk(m, members[primary]) > 0 {
			primary = i + 1
		}
	}
	p := members[primary]
	out := IncidentAttribution{Attribution: p.Attribution, Primary: p.UID}
	out.Parts = slices.Clone(p.Attribution.Parts)

	counts := map[involvedKey]*Involved{}
	var order []involvedKey
	for _, m := range members {
		seen := map[involvedKey]bool{}
		for _, k := range involvedKeys(m.Attribution) {
			if seen[k] {
				continue
			}
			seen[k] = true
			inv, ok := counts[k]
			if !ok {
				inv = &Involved{Party: k.party, Name: k.name}
				counts[k] = inv
				order = append(order, k)
			}
			if inv.Name == "" {
				inv.Name = partName(m.Attribution, k.party)
			}
			inv.Members++
			if !slices.Contains(inv.Areas, m.Attribution.Area) {
				inv.Areas = append(inv.Areas, m.Attribution.Area)
			}
		}
	}
	for _, k := range order {
		inv := counts[k]
		slices.Sort(inv.Areas)
		out.Involved = append(out.Involved, *inv)
	}
	slices.SortStableFunc(out.Involved, func(a, b Involved) int {
		return cmp.Or(cmp.Compare(b.Members, a.Members), cmp.Compare(involvedOrder(a.Party), involvedOrder(b.Party)), cmp.Compare(a.Name, b.Name))
	})

	var inv []string
	for _, x := range out.Involved {
		s := string(x.Party)
		if x.Name != "" {
			s += " " + x.Name
		}
		inv = append(inv, fmt.Sprintf("%s (%d of %d)", s, x.Members, len(members)))
	}
	out.Basis = fmt.Sprintf("primary member %s (risk %d, severity %s, the riskiest of %d): %s; involved: %s",
		p.UID, p.Risk, ocsf.SeverityName(p.SeverityID), len(members), p.Attribution.Basis, strings.Join(inv, ", "))
	return out
}

type involvedKey struct {
	party Party
	name  string
}

func involvedKeys(a Attribution) []involvedKey {
	if len(a.Parts) > 0 {
		out := make([]involvedKey, len(a.Parts))
		for i, p := range a.Parts {
			out[i] = involvedKey{p.Party, p.Name}
			if p.Party != Vendor {
				out[i].name = "" // told apart by name: vendors only
			}
		}
		return out
	}
	switch a.Party {
	case Shared:
		return []involvedKey{{Provider, ""}, {Customer, ""}}
	case "":
		return nil
	}
	return []involvedKey{{a.Party, ""}}
}

// partName returns the name a member's parts give a party.
func partName(a Attribution, p Party) string {
	for _, x := range a.Parts {
		if x.Party == p && x.Name != "" {
			return x.Name
		}
	}
	return ""
}

func involvedOrder(p Party) int {
	switch p {
	case Provider:
		return 0
	case Customer:
		return 1
	case Vendor:
		return 2
	}
	return 3
}

// compareRisk orders members by risk, then severity.
func compareRisk(a, b Member) int {
	return cmp.Or(cmp.Compare(a.Risk, b.Risk), cmp.Compare(severityRank(a.SeverityID), severityRank(b.SeverityID)))
}

func severityRank(id int) int {
	if id >= ocsf.SeverityInformational && id <= ocsf.SeverityFatal {
		return id
	}
	return 0
}
