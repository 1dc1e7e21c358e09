package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/datagrade"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/responsibility"
	"github.com/canopy-sec/canopy/internal/risk"
	"github.com/canopy-sec/canopy/internal/store"
)

// Correlator is what the correlate and score stages need of a store.
type Correlator interface {
	store.Querier
	store.Correlations
}

// CorrelateOptions tunes [Correlate]; the zero value gives the defaults.
type CorrelateOptions struct {
	IncidentOptions
	// Rebuild correlates every stored record again from scratch (after a
	// change of weights, asset context or window), instead of only the
	// queued ones. A tenant's first correlation always rebuilds.
	Rebuild bool
	// Batch is how many queued records one incremental step takes;
	// default 5000.
	Batch int
	// Attributor says who must act on findings (the route stage); default:
	// the built-in responsibility matrix and catalogue. The tenant's
	// contract comes from the store.
	Attributor *responsibility.Attributor
	// OnAttributed, when set, is called after each incremental step with
	// the new findings it attributed (the route stage: audit and notify).
	// A tenant's first correlation (a rebuild of records never correlated)
	// calls it with its findings of at least RouteMinSeverity; an explicit
	// rebuild re-attributes without calling it: its findings were routed
	// when they arrived.
	OnAttributed func(ctx context.Context, tenant string, fs []AttributedFinding) error
	// RouteMinSeverity bounds what a first correlation passes to
	// OnAttributed; default 4 (High).
	RouteMinSeverity int
	// OnIncidents, when set, is called after each incremental step with
	// the ids of the incidents it wrote (new or changed), after
	// OnAttributed (the response stage: evaluate them). A tenant's first
	// correlation calls it with every incident; an explicit rebuild does
	// not call it.
	OnIncidents func(ctx context.Context, tenant string, ids []string) error

	contract *responsibility.Contract
	grades   *datagrade.GradeIndex
}

// AttributedFinding is a new finding and who must act on it.
type AttributedFinding struct {
	ID          int64
	SeverityID  int
	Title       string
	IssueKey    string
	Attribution responsibility.Attribution
}

// CorrelateResult says what [Correlate] did.
type CorrelateResult struct {
	Rebuilt   bool `json:"rebuilt"`
	Records   int  `json:"records"`   // records correlated
	Incidents int  `json:"incidents"` // incidents written, new or changed
	Merged    int  `json:"merged"`    // incidents merged into others (or dissolved)
	Issues    int  `json:"issues"`    // issue risks written
}

// Correlate runs the correlate and score stages over the tenant's records
// that wait for them (or, rebuilding, over all): it indexes their entities,
// joins them to stored incidents or builds new ones, merges incidents that
// they link, and scores the incidents and the issues they touch. Each step
// writes in one transaction that also takes its records off the queue, so
// a crash loses nothing and repeats nothing. Incident ids are stable: an
// incident keeps its id as it grows, a merge keeps the id of the incident
// with most members, and a rebuild gives each incident the id of the
// stored incident it shares most members with.
//
// Incremental results equal a rebuild's, except that an entity that was
// rare when two records were linked stays a link after it becomes common;
// a rebuild unlinks it.
func Correlate(ctx context.Context, st Correlator, tenant string, opts CorrelateOptions) (CorrelateResult, error) {
	var res CorrelateResult
	if err := opts.defaults(); err != nil {
		return res, err
	}
	state, err := st.CorrelationState(ctx, tenant)
	if err != nil {
		return res, err
	}
	if !opts.Rebuild && state.Built {
		// listings call this before they read: when nothing waits, skip
		// reading the contract and the data grades
		queued, err := st.Queued(ctx, tenant, 1)
		if err != nil || len(queued) == 0 {
			return res, err
		}
	}
	if err := opts.loadContract(ctx, st, tenant); err != nil {
		return res, err
	}
	if opts.grades, err = gradeIndex(ctx, st, tenant); err != nil {
		return res, err
	}
	if opts.Rebuild || !state.Built {
		return rebuild(ctx, st, tenant, opts, !opts.Rebuild)
	}
	for conflicts := 0; ; {
		n, err := step(ctx, st, tenant, opts, &res)
		if errors.Is(err, store.ErrConflict) && conflicts < 10 {
			conflicts++ // another process took some of the same records: look again
			continue
		}
		if err != nil || n == 0 {
			return res, err
		}
	}
}

func (o *CorrelateOptions) defaults() error {
	if o.Attributor == nil {
		a, err := responsibility.New(responsibility.Options{})
		if err != nil {
			return err
		}
		o.Attributor = a
	}
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Window <= 0 {
		o.Window = 24 * time.Hour
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Weights == nil {
		w := risk.DefaultWeights()
		o.Weights = &w
	}
	return nil
}

// loadContract reads the tenant's contract with its security vendors.
func (o *CorrelateOptions) loadContract(ctx context.Context, st Correlator, tenant string) error {
	name, doc, err := st.Contract(ctx, tenant)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := responsibility.ParseContract(name, bytes.NewReader(doc), o.Attributor.Matrix())
	if err != nil {
		return fmt.Errorf("the contract of tenant %s: %w", tenant, err)
	}
	o.contract = c
	return nil
}

// dataGrade is the highest GB/T 43697 grade of the data the records'
// resources hold (internal/datagrade), from the tenant's data scans.
func (o *CorrelateOptions) dataGrade(recs []ocsf.Record) risk.DataGrade {
	if o.grades == nil {
		return risk.DataGradeUnknown
	}
	best := datagrade.LevelUnknown
	for _, rec := range recs {
		var res []ocsf.ResourceDetails
		switch r := rec.(type) {
		case *ocsf.VulnerabilityFinding:
			res = r.Resources
		case *ocsf.ComplianceFinding:
			res = r.Resources
		case *ocsf.DetectionFinding:
			res = r.Resources
		case *ocsf.DataSecurityFinding:
			res = r.Resources
		}
		if l, _ := o.grades.ForResources(res); l > best {
			best = l
		}
	}
	return risk.DataGrade(best.Class())
}

// attribute says who must act on a finding.
func (o *CorrelateOptions) attribute(rec ocsf.Record) responsibility.Attribution {
	return o.Attributor.Attribute(rec, responsibility.Context{Contract: o.contract})
}

func attributionRow(id int64, a responsibility.Attribution) store.Attribution {
	return store.Attribution{ID: id, Party: string(a.Party), Area: a.Area, Doc: mustJSON(a)}
}

// entityHash identifies an entity in the store's index.
func entityHash(e correlate.Entity) int64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(string(e.Kind))
	d.Write([]byte{0})
	d.WriteString(e.Value)
	return int64(d.Sum64())
}

// summary is what correlation keeps of a record.
type summary struct {
	member correlate.Member
	rec    ocsf.Record // kept only where needed to describe and score
}

func summarize(r store.Record, ref store.Ref, pool map[string]string, keep bool) (summary, error) {
	rec, err := ocsf.Decode(r.OCSF)
	if err != nil {
		return summary{}, fmt.Errorf("%s: %w", ref, err)
	}
	ents, tactics := correlate.Summarize(rec, pool)
	s := summary{member: correlate.Member{ID: int64(ref), Time: r.Time, Entities: ents, Tactics: tactics, Posture: correlate.IsPosture(rec)}}
	if keep {
		s.rec = rec
	}
	return s, nil
}

// step correlates one batch of queued records; it returns how many it took.
func step(ctx context.Context, st Correlator, tenant string, opts CorrelateOptions, res *CorrelateResult) (int, error) {
	state, err := st.CorrelationState(ctx, tenant)
	if err != nil {
		return 0, err
	}
	queued, err := st.Queued(ctx, tenant, opts.Batch)
	if err != nil || len(queued) == 0 {
		return 0, err
	}
	recs, err := st.RecordsByRef(ctx, tenant, queued)
	if err != nil {
		return 0, err
	}
	inBatch := make(map[int64]bool, len(queued))
	for _, q := range queued {
		inBatch[int64(q)] = true
	}
	pool := map[string]string{}
	sums := map[store.Ref]summary{}
	var ents []store.EntityRow
	batchCount := map[int64]int{}
	var lo, hi time.Time
	var findings []store.Record
	var attributions []store.Attribution
	var routed []AttributedFinding
	for _, ref := range queued {
		r, ok := recs[ref]
		if !ok {
			continue // deleted since it was queued: it leaves the queue
		}
		s, err := summarize(r, ref, pool, true)
		if err != nil {
			return 0, err
		}
		sums[ref] = s
		if !ref.IsEvent() {
			findings = append(findings, r)
			a := opts.attribute(s.rec)
			attributions = append(attributions, attributionRow(r.ID, a))
			routed = append(routed, AttributedFinding{ID: r.ID, SeverityID: r.SeverityID, Title: r.Title, IssueKey: r.IssueKey, Attribution: a})
		}
		for _, e := range s.member.Entities {
			h := entityHash(e)
			ents = append(ents, store.EntityRow{Hash: h, Kind: string(e.Kind), Value: e.Value, Ref: ref, Time: r.Time})
			batchCount[h]++
		}
		if lo.IsZero() || r.Time.Before(lo) {
			lo = r.Time
		}
		if r.Time.After(hi) {
			hi = r.Time
		}
	}
	batch := len(sums)
	total := int(state.Records) + batch
	copts := correlate.Options{Window: opts.Window}
	limit := correlate.Limit(total, copts)
	hashes := make([]int64, 0, len(batchCount))
	for h := range batchCount {
		hashes = append(hashes, h)
	}
	stored, err := st.EntityCounts(ctx, tenant, hashes)
	if err != nil {
		return 0, err
	}
	var linking []int64
	for _, h := range hashes {
		if c := stored[h] + batchCount[h]; c >= 2 && c <= limit && stored[h] > 0 {
			linking = append(linking, h)
		}
	}
	// the neighbourhood: indexed records sharing a linking entity within
	// the window, and the incidents they are in, whole
	var neighbours []store.Ref
	if len(linking) > 0 {
		nrefs, err := st.EntityRefs(ctx, tenant, linking, lo.Add(-opts.Window), hi.Add(opts.Window))
		if err != nil {
			return 0, err
		}
		seen := map[store.Ref]bool{}
		for _, n := range nrefs {
			if _, ok := sums[n.Ref]; !ok && !seen[n.Ref] {
				seen[n.Ref] = true
				neighbours = append(neighbours, n.Ref)
			}
		}
	}
	oldOf, err := st.IncidentsOf(ctx, tenant, neighbours)
	if err != nil {
		return 0, err
	}
	old := map[string][]store.Ref{}
	for _, id := range oldOf {
		if _, ok := old[id]; ok {
			continue
		}
		in, err := st.Incident(ctx, tenant, id)
		if err != nil {
			return 0, err
		}
		old[id] = in.Members
	}
	load := map[store.Ref]bool{}
	for _, n := range neighbours {
		load[n] = true
	}
	for _, ms := range old {
		for _, m := range ms {
			load[m] = true
		}
	}
	if len(load) > 0 {
		refs := make([]store.Ref, 0, len(load))
		for r := range load {
			refs = append(refs, r)
		}
		more, err := st.RecordsByRef(ctx, tenant, refs)
		if err != nil {
			return 0, err
		}
		for ref, r := range more {
			s, err := summarize(r, ref, pool, false)
			if err != nil {
				return 0, err
			}
			sums[ref] = s
		}
	}
	// global counts of every entity of the neighbourhood
	all := map[int64]bool{}
	for _, s := range sums {
		for _, e := range s.member.Entities {
			all[entityHash(e)] = true
		}
	}
	more := make([]int64, 0, len(all))
	for h := range all {
		if _, ok := stored[h]; !ok {
			more = append(more, h)
		}
	}
	if len(more) > 0 {
		extra, err := st.EntityCounts(ctx, tenant, more)
		if err != nil {
			return 0, err
		}
		for h, n := range extra {
			stored[h] = n
		}
	}
	copts.Total = total
	copts.Count = func(e correlate.Entity) int {
		h := entityHash(e)
		return stored[h] + batchCount[h]
	}
	members := make([]correlate.Member, 0, len(sums))
	for _, s := range sums {
		members = append(members, s.member)
	}
	incs := correlate.Build(members, copts)

	u := store.CorrelationUpdate{Tenant: tenant, Done: queued, Entities: slices.Values(ents)}
	ids, deleted := assignIDs(tenant, incs, func(r store.Ref) string { return oldOf[r] }, oldMembers(old))
	u.Delete = deleted
	for i, inc := range incs {
		changed := false
		for _, m := range inc.Members {
			if inBatch[m] {
				changed = true
				break
			}
		}
		if !changed && sameMembers(old[ids[i]], inc.Members) {
			continue // untouched by this batch
		}
		row, err := describe(ctx, st, tenant, ids[i], inc, sums, opts)
		if err != nil {
			return 0, err
		}
		u.Put = append(u.Put, row)
	}
	risks, err := issueRisks(ctx, st, tenant, findings, opts)
	if err != nil {
		return 0, err
	}
	u.Risks = risks
	// attributions are a pure function of record and contract: written
	// before the step, they are right even if the step conflicts and runs
	// again
	if err := st.SetAttributions(ctx, tenant, attributions); err != nil {
		return 0, err
	}
	if err := st.ApplyCorrelation(ctx, u); err != nil {
		return 0, err
	}
	if opts.OnAttributed != nil && len(routed) > 0 {
		if err := opts.OnAttributed(ctx, tenant, routed); err != nil {
			return 0, fmt.Errorf("routing: %w", err)
		}
	}
	if err := onIncidents(ctx, opts, tenant, u.Put); err != nil {
		return 0, err
	}
	res.Records += batch
	res.Incidents += len(u.Put)
	res.Merged += len(u.Delete)
	res.Issues += len(u.Risks)
	return len(queued), nil
}

func oldMembers(old map[string][]store.Ref) map[string]int {
	out := make(map[string]int, len(old))
	for id, ms := range old {
		out[id] = len(ms)
	}
	return out
}

func sameMembers(a []store.Ref, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	set := make(map[int64]bool, len(a))
	for _, r := range a {
		set[int64(r)] = true
	}
	for _, m := range b {
		if !set[m] {
			return false
		}
	}
	return true
}

// assignIDs names each incident: by the stored incident it shares most
// members with (each stored id used once, largest overlaps first), else by
// its first member. It returns the ids, and the stored incidents no new one
// took (merged or dissolved).
func assignIDs(tenant string, incs []correlate.Incident, oldOf func(store.Ref) string, old map[string]int) ([]string, []string) {
	type pair struct {
		inc     int
		id      string
		overlap int
	}
	var pairs []pair
	for i, inc := range incs {
		n := map[string]int{}
		for _, m := range inc.Members {
			if id := oldOf(store.Ref(m)); id != "" {
				n[id]++
			}
		}
		for id, c := range n {
			pairs = append(pairs, pair{i, id, c})
		}
	}
	sort.Slice(pairs, func(a, b int) bool {
		if pairs[a].overlap != pairs[b].overlap {
			return pairs[a].overlap > pairs[b].overlap
		}
		if pairs[a].id != pairs[b].id {
			return pairs[a].id < pairs[b].id
		}
		return pairs[a].inc < pairs[b].inc
	})
	ids := make([]string, len(incs))
	used := map[string]bool{}
	for _, p := range pairs {
		if ids[p.inc] == "" && !used[p.id] {
			ids[p.inc], used[p.id] = p.id, true
		}
	}
	for i, inc := range incs {
		if ids[i] == "" {
			ids[i] = incidentID(tenant, store.Ref(inc.Members[0]))
			for used[ids[i]] { // an id of a stored incident, taken by another
				ids[i] = incidentID(tenant+"+", store.Ref(inc.Members[0]))
			}
			used[ids[i]] = true
		}
	}
	var deleted []string
	for id := range old {
		if !used[id] {
			deleted = append(deleted, id)
		}
	}
	sort.Strings(deleted)
	return ids, deleted
}

// incidentID names a new incident after its first record.
func incidentID(tenant string, first store.Ref) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + first.String()))
	return hex.EncodeToString(sum[:6])
}

// describe makes the stored form of an incident: its risk and OCSF
// Incident Finding from its first maxIncidentRecords members.
func describe(ctx context.Context, st Correlator, tenant, id string, inc correlate.Incident, sums map[store.Ref]summary, opts CorrelateOptions) (store.IncidentRow, error) {
	head := inc.Members[:min(len(inc.Members), maxIncidentRecords)]
	recs := map[int64]ocsf.Record{}
	var missing []store.Ref
	for _, m := range head {
		if s, ok := sums[store.Ref(m)]; ok && s.rec != nil {
			recs[m] = s.rec
		} else {
			missing = append(missing, store.Ref(m))
		}
	}
	if len(missing) > 0 {
		got, err := st.RecordsByRef(ctx, tenant, missing)
		if err != nil {
			return store.IncidentRow{}, err
		}
		for ref, r := range got {
			rec, err := ocsf.Decode(r.OCSF)
			if err != nil {
				return store.IncidentRow{}, fmt.Errorf("%s: %w", ref, err)
			}
			recs[int64(ref)] = rec
		}
	}
	memberRecs := make([]ocsf.Record, 0, len(head))
	var parties []responsibility.Member
	for _, m := range head {
		if r, ok := recs[m]; ok {
			memberRecs = append(memberRecs, r)
			if store.Ref(m).IsEvent() {
				continue // events are activity: nobody is responsible for them as such
			}
			parties = append(parties, responsibility.Member{UID: store.Ref(m).String(), SeverityID: r.Common().SeverityID, Attribution: opts.attribute(r)})
		}
	}
	in := risk.FromFindings(memberRecs, opts.Assets, opts.KEV, opts.Now)
	in.DataGrade = opts.dataGrade(memberRecs)
	in.Tactics = max(in.Tactics, len(inc.Tactics))
	refs := make([]store.Ref, len(inc.Members))
	names := make([]string, len(inc.Members))
	for i, m := range inc.Members {
		refs[i] = store.Ref(m)
		names[i] = refs[i].String()
	}
	f := correlate.ToOCSF(inc, recs, id)
	out := Incident{ID: id, Title: inc.Title, Risk: risk.Score(in, *opts.Weights), Entities: inc.Entities, Tactics: inc.Tactics,
		Members: names, FirstSeen: inc.First, LastSeen: inc.Last, OCSF: f}
	if len(parties) > 0 {
		ia := responsibility.AttributeIncident(parties)
		out.Responsibility = &ia
	}
	doc, err := json.Marshal(out)
	if err != nil {
		return store.IncidentRow{}, fmt.Errorf("incident %s: %w", id, err)
	}
	party := ""
	if out.Responsibility != nil {
		party = string(out.Responsibility.Party)
	}
	return store.IncidentRow{ID: id, Tenant: tenant, Title: inc.Title, Risk: out.Risk.Score, SeverityID: f.SeverityID, Tactics: len(inc.Tactics), Party: party,
		FirstSeen: inc.First, LastSeen: inc.Last, Members: refs, Doc: doc, UpdatedAt: time.Now()}, nil
}

// issueRisks scores the issues of the given findings: from the findings
// themselves when they are all the issue has, else from up to
// maxIncidentRecords of the issue's stored findings.
func issueRisks(ctx context.Context, st Correlator, tenant string, findings []store.Record, opts CorrelateOptions) ([]store.IssueRisk, error) {
	byKey := map[string][]store.Record{}
	for _, f := range findings {
		if f.IssueKey != "" {
			byKey[f.IssueKey] = append(byKey[f.IssueKey], f)
		}
	}
	if len(byKey) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sizes, err := st.IssueSizes(ctx, tenant, keys)
	if err != nil {
		return nil, err
	}
	out := make([]store.IssueRisk, 0, len(keys))
	for _, k := range keys {
		group := byKey[k]
		if sizes[k] > len(group) {
			p, err := st.Findings(ctx, store.Query{Tenant: tenant, IssueKey: k, Limit: maxIncidentRecords})
			if err != nil {
				return nil, err
			}
			group = p.Records
		}
		ir, err := scoreIssue(k, group, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, ir)
	}
	return out, nil
}

// scoreIssue scores an issue from its findings and attributes it by its
// most severe finding.
func scoreIssue(key string, group []store.Record, opts CorrelateOptions) (store.IssueRisk, error) {
	recs := make([]ocsf.Record, 0, len(group))
	worst := -1
	for i, g := range group {
		rec, err := ocsf.Decode(g.OCSF)
		if err != nil {
			return store.IssueRisk{}, fmt.Errorf("finding %d: %w", g.ID, err)
		}
		recs = append(recs, rec)
		if worst < 0 || g.SeverityID > group[worst].SeverityID && g.SeverityID != ocsf.SeverityOther {
			worst = i
		}
	}
	in := risk.FromFindings(recs, opts.Assets, opts.KEV, opts.Now)
	in.DataGrade = opts.dataGrade(recs)
	r := risk.Score(in, *opts.Weights)
	ir := store.IssueRisk{Key: key, Score: r.Score, Doc: mustJSON(r)}
	if worst >= 0 {
		ir.Responsibility = mustJSON(opts.attribute(recs[worst]))
	}
	return ir, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // risk results are plain data
	}
	return b
}

// rebuild correlates all of the tenant's records from scratch.
// first says that the tenant's records were never correlated: the
// hooks are then called as by incremental steps.
func rebuild(ctx context.Context, st Correlator, tenant string, opts CorrelateOptions, first bool) (CorrelateResult, error) {
	route := first && opts.OnAttributed != nil
	if opts.RouteMinSeverity <= 0 {
		opts.RouteMinSeverity = ocsf.SeverityHigh
	}
	var routed []AttributedFinding
	res := CorrelateResult{Rebuilt: true}
	nf, ne, err := st.Counts(ctx, tenant)
	if err != nil {
		return res, err
	}
	// sized once: a million members grown by doubling would hold the old
	// and the new array at once
	pool := map[string]string{}
	members := make([]correlate.Member, 0, nf+ne)
	done := make([]store.Ref, 0, nf+ne)
	// up to maxIncidentRecords finding ids of each issue (by a hash of its
	// key), to score the issues once the records' summaries are gone
	issueIDs := map[uint64][]int64{}
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
				return res, err
			}
			var attributions []store.Attribution
			for _, r := range page.Records {
				ref := store.FindingRef(r.ID)
				if events {
					ref = store.EventRef(r.ID)
				}
				s, err := summarize(r, ref, pool, !events)
				if err != nil {
					return res, err
				}
				if !events {
					a := opts.attribute(s.rec)
					attributions = append(attributions, attributionRow(r.ID, a))
					if route && r.SeverityID >= opts.RouteMinSeverity && r.SeverityID != ocsf.SeverityOther {
						routed = append(routed, AttributedFinding{ID: r.ID, SeverityID: r.SeverityID, Title: r.Title, IssueKey: r.IssueKey, Attribution: a})
					}
					s.rec = nil
				}
				members = append(members, s.member)
				done = append(done, ref)
				if r.IssueKey != "" {
					h := xxhash.Sum64String(r.IssueKey)
					if ids := issueIDs[h]; len(ids) < maxIncidentRecords {
						issueIDs[h] = append(ids, r.ID)
					}
				}
			}
			if err := st.SetAttributions(ctx, tenant, attributions); err != nil {
				return res, err
			}
			if page.Next.IsZero() {
				break
			}
			q.After = page.Next
		}
	}
	incs := correlate.Build(members, correlate.Options{Window: opts.Window})
	// the index rows, compact and in key order, which a B-tree takes
	// several times faster than in record order
	type indexRow struct{ hash, ms, ref int64 }
	names := map[int64]correlate.Entity{}
	n := 0
	for i := range members {
		n += len(members[i].Entities)
	}
	index := make([]indexRow, 0, n)
	for i := range members {
		m := &members[i]
		for _, e := range m.Entities {
			h := entityHash(e)
			if _, ok := names[h]; !ok {
				names[h] = e
			}
			index = append(index, indexRow{h, m.Time.UnixMilli(), m.ID})
		}
	}
	slices.SortFunc(index, func(a, b indexRow) int {
		if a.hash != b.hash {
			return cmp.Compare(a.hash, b.hash)
		}
		if a.ms != b.ms {
			return cmp.Compare(a.ms, b.ms)
		}
		return cmp.Compare(a.ref, b.ref)
	})
	members, pool = nil, nil // what is left of them is in incs, index and names
	// the stored incidents' members, read once the records' summaries are
	// gone, to keep incident ids
	oldOf := map[store.Ref]string{}
	oldSize := map[string]int{}
	if err := st.AllIncidentMembers(ctx, tenant, func(r store.Ref, id string) error {
		oldOf[r] = id
		oldSize[id]++
		return nil
	}); err != nil {
		return res, err
	}
	ids, deleted := assignIDs(tenant, incs, func(r store.Ref) string { return oldOf[r] }, oldSize)
	oldOf = nil
	ents := func(yield func(store.EntityRow) bool) {
		for _, r := range index {
			e := names[r.hash]
			if !yield(store.EntityRow{Hash: r.hash, Kind: string(e.Kind), Value: e.Value, Ref: store.Ref(r.ref), Time: time.UnixMilli(r.ms).UTC()}) {
				return
			}
		}
	}
	u := store.CorrelationUpdate{Tenant: tenant, Reset: true, Done: done, Entities: ents}
	for i, inc := range incs {
		row, err := describe(ctx, st, tenant, ids[i], inc, nil, opts)
		if err != nil {
			return res, err
		}
		u.Put = append(u.Put, row)
	}
	// every issue, from its findings, some hundred issues at a time
	var refs []store.Ref
	score := func() error {
		recs, err := st.RecordsByRef(ctx, tenant, refs)
		if err != nil {
			return err
		}
		byKey := map[string][]store.Record{}
		for _, r := range recs {
			byKey[r.IssueKey] = append(byKey[r.IssueKey], r)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			group := byKey[k]
			sort.Slice(group, func(a, b int) bool { return group[a].ID < group[b].ID })
			ir, err := scoreIssue(k, group, opts)
			if err != nil {
				return err
			}
			u.Risks = append(u.Risks, ir)
		}
		refs = refs[:0]
		return nil
	}
	for h, ids := range issueIDs {
		for _, id := range ids {
			refs = append(refs, store.FindingRef(id))
		}
		delete(issueIDs, h)
		if len(refs) >= 2000 {
			if err := score(); err != nil {
				return res, err
			}
		}
	}
	if err := score(); err != nil {
		return res, err
	}
	if err := st.ApplyCorrelation(ctx, u); err != nil {
		return res, err
	}
	if len(routed) > 0 {
		if err := opts.OnAttributed(ctx, tenant, routed); err != nil {
			return res, fmt.Errorf("routing: %w", err)
		}
	}
	if first {
		if err := onIncidents(ctx, opts, tenant, u.Put); err != nil {
			return res, err
		}
	}
	res.Records, res.Incidents, res.Merged, res.Issues = len(done), len(u.Put), len(deleted), len(u.Risks)
	return res, nil
}

// onIncidents passes the ids of the incidents written to OnIncidents.
func onIncidents(ctx context.Context, opts CorrelateOptions, tenant string, put []store.IncidentRow) error {
	if opts.OnIncidents == nil || len(put) == 0 {
		return nil
	}
	ids := make([]string, len(put))
	for i, row := range put {
		ids[i] = row.ID
	}
	if err := opts.OnIncidents(ctx, tenant, ids); err != nil {
		return fmt.Errorf("responding: %w", err)
	}
	return nil
}

// DecodeIncident reads a stored incident's document.
func DecodeIncident(row store.IncidentRow) (Incident, error) {
	var in Incident
	if err := json.Unmarshal(row.Doc, &in); err != nil {
		return Incident{}, fmt.Errorf("incident %s: %w", row.ID, err)
	}
	return in, nil
}
