package correlate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Member is one finding or event offered to correlation: its record, or
// only what correlation needs of it (see [Summarize]), which keeps a large
// set of members small in memory.
type Member struct {
	ID       int64 // the record's id in the store
	Time     time.Time
	Record   ocsf.Record // may be nil when Entities and Tactics are set
	Entities []Entity    // nil: taken from Record
	Tactics  []Tactic    // nil: taken from Record
	// Posture marks a weakness rather than activity: a vulnerability or a
	// compliance finding. Weaknesses join incidents that activity forms,
	// but a group of weaknesses alone (the same CVE in several packages
	// of one image) is an issue to fix, not an incident.
	Posture bool
}

// IsPosture reports whether a record is a weakness (a vulnerability or
// compliance finding) rather than activity, for [Member.Posture].
func IsPosture(rec ocsf.Record) bool {
	switch rec.(type) {
	case *ocsf.VulnerabilityFinding, *ocsf.ComplianceFinding:
		return true
	}
	return false
}

// Summarize returns what correlation needs of a record: its entities, less
// the common ones, and its tactics. Equal entity values are interned in
// pool (a map the caller keeps across records), so that a million records
// naming the same few identities hold each name once.
func Summarize(rec ocsf.Record, pool map[string]string) ([]Entity, []Tactic) {
	var ents []Entity
	for _, e := range Entities(rec) {
		if e.Common {
			continue
		}
		if v, ok := pool[e.Value]; ok {
			e.Value = v
		} else if pool != nil {
			pool[e.Value] = e.Value
		}
		ents = append(ents, e)
	}
	tactics := Tactics(rec)
	if tactics == nil {
		tactics = []Tactic{}
	}
	if ents == nil {
		ents = []Entity{}
	}
	return ents, tactics
}

func (m *Member) entities() []Entity {
	if m.Entities != nil || m.Record == nil {
		return m.Entities
	}
	ents, _ := Summarize(m.Record, nil)
	return ents
}

func (m *Member) tactics() []Tactic {
	if m.Tactics != nil || m.Record == nil {
		return m.Tactics
	}
	return Tactics(m.Record)
}

// Options tunes [Build]. The zero value gives the defaults.
type Options struct {
	// Window is how far apart in time two records sharing an entity may be
	// and still be linked; default 24 hours.
	Window time.Duration
	// MaxShare: an entity seen in more than this share of the records (and
	// in more than MinCommon records) is too common to link them, like a NAT
	// gateway's address; default 0.05.
	MaxShare float64
	// MinCommon is the count below which no entity is too common; default 5.
	MinCommon int
	// MinMembers is the smallest incident; default 2.
	MinMembers int
	// Count, when set, gives how many records name an entity in the whole
	// set being correlated, of which the members are only a part (the
	// neighbourhood of new records in incremental correlation); Total is
	// the size of that whole set. Unset, both are taken from the members.
	Count func(Entity) int
	Total int
}

// Limit is the number of records above which an entity is too common to
// link them, in a set of total records.
func Limit(total int, opts Options) int {
	opts.defaults()
	return max(opts.MinCommon, int(opts.MaxShare*float64(total)))
}

func (o *Options) defaults() {
	if o.Window <= 0 {
		o.Window = 24 * time.Hour
	}
	if o.MaxShare <= 0 {
		o.MaxShare = 0.05
	}
	if o.MinCommon <= 0 {
		o.MinCommon = 5
	}
	if o.MinMembers <= 0 {
		o.MinMembers = 2
	}
}

// Incident is a group of findings and events that share entities closely in
// time: one story told by several records, possibly from several tools.
type Incident struct {
	Members  []int64  // ids of the member records, in time order
	Entities []Entity // the entities that link them, rarest first
	Tactics  []Tactic // ATT&CK tactics of the members, in kill-chain order
	First    time.Time
	Last     time.Time
	Title    string
}

// Build groups members into incidents: two records are linked when they
// share an entity that is not common (see [Options]) and lie within the
// window of each other; an incident is a connected group of at least
// MinMembers records. It is deterministic: the same members give the same
// incidents, ordered by their first record's time. A group of posture
// findings alone (see [Member.Posture]) is no incident.
func Build(members []Member, opts Options) []Incident {
	opts.defaults()
	n := len(members)
	ents := make([][]Entity, n)
	count := map[Entity]int{}
	for i := range members {
		ents[i] = members[i].entities()
		for _, e := range ents[i] {
			count[e]++
		}
	}
	total := n
	if opts.Count != nil {
		for e := range count {
			count[e] = max(count[e], opts.Count(e))
		}
		total = max(n, opts.Total)
	}
	limit := Limit(total, opts)
	// members of each linking entity, in time order
	byEntity := map[Entity][]int{}
	for i := range members {
		for _, e := range ents[i] {
			if c := count[e]; c >= 2 && c <= limit {
				byEntity[e] = append(byEntity[e], i)
			}
		}
	}
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	hasLink := make([]bool, n)
	for _, idx := range byEntity {
		sort.Slice(idx, func(a, b int) bool { return members[idx[a]].Time.Before(members[idx[b]].Time) })
		for k := 1; k < len(idx); k++ {
			a, b := idx[k-1], idx[k]
			if members[b].Time.Sub(members[a].Time) > opts.Window {
				continue
			}
			ra, rb := find(a), find(b)
			if ra != rb {
				parent[rb] = ra
			}
			hasLink[a], hasLink[b] = true, true
		}
	}
	groups := map[int][]int{}
	for i := range members {
		if hasLink[i] {
			r := find(i)
			groups[r] = append(groups[r], i)
		}
	}
	var out []Incident
	for _, g := range groups {
		if len(g) < opts.MinMembers || allPosture(members, g) {
			continue
		}
		out = append(out, incident(members, ents, g, count, limit))
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].First.Equal(out[b].First) {
			return out[a].First.Before(out[b].First)
		}
		return out[a].Members[0] < out[b].Members[0]
	})
	return out
}

func allPosture(members []Member, g []int) bool {
	for _, i := range g {
		m := &members[i]
		if !m.Posture && !(m.Record != nil && IsPosture(m.Record)) {
			return false
		}
	}
	return true
}

// incident describes one group; its entities are the linking ones (neither
// unique nor too common) that at least two of its members name.
func incident(members []Member, ents [][]Entity, g []int, count map[Entity]int, limit int) Incident {
	sort.Slice(g, func(a, b int) bool {
		ma, mb := members[g[a]], members[g[b]]
		if !ma.Time.Equal(mb.Time) {
			return ma.Time.Before(mb.Time)
		}
		return ma.ID < mb.ID
	})
	inc := Incident{First: members[g[0]].Time, Last: members[g[len(g)-1]].Time}
	inGroup := map[Entity]int{}
	seenTac := map[string]bool{}
	for _, i := range g {
		inc.Members = append(inc.Members, members[i].ID)
		for _, e := range ents[i] {
			if c := count[e]; c >= 2 && c <= limit {
				inGroup[e]++
				if inGroup[e] == 2 {
					inc.Entities = append(inc.Entities, e)
				}
			}
		}
		for _, t := range members[i].tactics() {
			if !seenTac[t.ID] {
				seenTac[t.ID] = true
				inc.Tactics = append(inc.Tactics, t)
			}
		}
	}
	sort.Slice(inc.Entities, func(a, b int) bool {
		ea, eb := inc.Entities[a], inc.Entities[b]
		if count[ea] != count[eb] {
			return count[ea] < count[eb]
		}
		if ea.Kind != eb.Kind {
			return ea.Kind < eb.Kind
		}
		return ea.Value < eb.Value
	})
	SortByKillChain(inc.Tactics)
	inc.Title = title(inc)
	return inc
}

// title names the incident by its stages and its rarest entities.
func title(inc Incident) string {
	var stages []string
	for _, t := range inc.Tactics {
		stages = append(stages, t.Name)
	}
	var names []string
	for _, e := range inc.Entities[:min(3, len(inc.Entities))] {
		names = append(names, e.Value)
	}
	what := fmt.Sprintf("%d related records", len(inc.Members))
	if len(stages) > 0 {
		what = strings.Join(stages, " → ")
	}
	return what + " involving " + strings.Join(names, ", ")
}
