package console

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/datagrade"
	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/respond"
)

// pageSize is how many rows a list page shows.
const pageSize = 50

// record is a finding or event as the API lists it.
type record struct {
	ID             int64           `json:"id"`
	IssueKey       string          `json:"issue_key"`
	Sources        []string        `json:"sources"`
	Count          int             `json:"count"`
	FirstSeen      time.Time       `json:"first_seen"`
	LastSeen       time.Time       `json:"last_seen"`
	Responsibility *attribution    `json:"responsibility"`
	OCSF           json.RawMessage `json:"ocsf"`
	// from the OCSF part
	Title      string
	Severity   string
	SeverityID int
	Product    string
	Resource   string
	Class      string
	ClassUID   int
	Time       time.Time
	Unmapped   map[string]json.RawMessage
}

type attribution struct {
	Party        string `json:"party"`
	Area         string `json:"area"`
	ServiceModel string `json:"service_model"`
	Basis        string `json:"basis"`
}

// decode fills the fields read from the OCSF part.
func (r *record) decode() {
	var o struct {
		ClassUID    int    `json:"class_uid"`
		ClassName   string `json:"class_name"`
		SeverityID  int    `json:"severity_id"`
		Severity    string `json:"severity"`
		Time        int64  `json:"time"`
		Message     string `json:"message"`
		FindingInfo struct {
			Title string `json:"title"`
		} `json:"finding_info"`
		Metadata struct {
			Product struct {
				Name string `json:"name"`
			} `json:"product"`
		} `json:"metadata"`
		Resources []struct {
			UID  string `json:"uid"`
			Name string `json:"name"`
		} `json:"resources"`
		Resource *struct {
			UID  string `json:"uid"`
			Name string `json:"name"`
		} `json:"resource"`
		API *struct {
			Operation string `json:"operation"`
		} `json:"api"`
		Unmapped map[string]json.RawMessage `json:"unmapped"`
	}
	if json.Unmarshal(r.OCSF, &o) != nil {
		return
	}
	r.ClassUID, r.Class, r.SeverityID, r.Severity = o.ClassUID, o.ClassName, o.SeverityID, o.Severity
	r.Title = o.FindingInfo.Title
	if r.Title == "" {
		r.Title = o.Message
	}
	if r.Title == "" && o.API != nil {
		r.Title = o.API.Operation
	}
	r.Product = o.Metadata.Product.Name
	if o.Time > 0 {
		r.Time = time.UnixMilli(o.Time).UTC()
	}
	for _, res := range o.Resources {
		if r.Resource = res.UID; r.Resource == "" {
			r.Resource = res.Name
		}
		if r.Resource != "" {
			break
		}
	}
	if r.Resource == "" && o.Resource != nil {
		r.Resource = o.Resource.UID
	}
	r.Unmapped = o.Unmapped
}

// Party is the record's responsible party, "" when not attributed.
func (r record) Party() string {
	if r.Responsibility == nil {
		return ""
	}
	return r.Responsibility.Party
}

type recordPage struct {
	Items      []record `json:"items"`
	NextCursor string   `json:"next_cursor"`
}

// summary is GET /api/v1/summary.
type summary struct {
	Findings   int64 `json:"findings"`
	Events     int64 `json:"events"`
	Issues     int64 `json:"issues"`
	Incidents  int64 `json:"incidents"`
	BySeverity []struct {
		Severity   string `json:"severity"`
		SeverityID int    `json:"severity_id"`
		Count      int64  `json:"count"`
	} `json:"by_severity"`
	BySource []struct {
		Source string `json:"source"`
		Count  int64  `json:"count"`
	} `json:"by_source"`
	ByParty []struct {
		Party string `json:"party"`
		Count int64  `json:"count"`
	} `json:"by_party"`
	Trend []struct {
		Day        string           `json:"day"`
		Count      int64            `json:"count"`
		BySeverity map[string]int64 `json:"by_severity"`
	} `json:"trend"`
	RiskBuckets []struct {
		From  int   `json:"from"`
		To    int   `json:"to"`
		Count int64 `json:"count"`
	} `json:"risk_buckets"`
}

// The incident types are the API's own: the console decodes what it
// encodes.
type (
	incident = api.IncidentOut
	member   = api.MemberOut
	tactic   = correlate.Tactic
	notice   = notify.Notice
	approval = respond.Approval
)

type incidentPage struct {
	Items      []incident `json:"items"`
	NextOffset int        `json:"next_offset"`
}

// compliance is GET /api/v1/compliance/{pack}.
type compliance struct {
	Pack     string `json:"pack"`
	Standard string `json:"standard"`
	Scan     *struct {
		ID         string    `json:"id"`
		FinishedAt time.Time `json:"finished_at"`
		Resources  int       `json:"resources"`
		Passed     int       `json:"passed"`
		Failed     int       `json:"failed"`
	} `json:"scan"`
	Score    *float64 `json:"score"`
	Controls []struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Section  string `json:"section"`
		Coverage string `json:"coverage"`
		Status   string `json:"status"`
		Failed   int    `json:"failed"`
		Passed   int    `json:"passed"`
		Evidence *struct {
			Status    string `json:"status"`
			Reference string `json:"reference"`
			By        string `json:"by"`
		} `json:"evidence"`
	} `json:"controls"`
	Results []controlResult `json:"results"`
}

type controlResult struct {
	Control      string `json:"control"`
	RuleID       string `json:"rule_id"`
	ResourceUID  string `json:"resource_uid"`
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	Account      string `json:"account"`
	Region       string `json:"region"`
	Status       string `json:"status"`
	Severity     string `json:"severity"`
	Message      string `json:"message"`
}

// packList is GET /api/v1/packs.
type packList struct {
	Items []struct {
		Pack string `json:"pack"`
	} `json:"items"`
}

// parallel runs fns at once and returns the first error.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// optional turns "not configured" (501) into no error, for parts of a
// page that need a configured stage (the route stage, the responder).
func optional(err error) error {
	if ae, ok := err.(*apiError); ok && (ae.Status == http.StatusNotImplemented || ae.Status == http.StatusForbidden) {
		return nil
	}
	return err
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	var (
		sum       summary
		top       incidentPage
		packs     []compliance
		notices   []notice
		approvals []approval
	)
	err := parallel(
		func() error { return c.get(ctx, s, "/api/v1/summary", url.Values{"days": {"30"}}, &sum) },
		func() error {
			return c.get(ctx, s, "/api/v1/incidents", url.Values{"limit": {"8"}}, &top)
		},
		func() error {
			var err error
			packs, err = c.packs(ctx, s)
			return err
		},
		func() error {
			var err error
			notices, err = c.notices(ctx, s, "", "open")
			return optional(err)
		},
		func() error {
			var out struct{ Items []approval }
			err := c.get(ctx, s, "/api/v1/approvals", url.Values{"state": {"pending"}}, &out)
			approvals = out.Items
			return optional(err)
		},
	)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	lg := c.cat.lang(r)
	c.render(w, r, s, http.StatusOK, "overview", "nav.overview", map[string]any{
		"Summary": sum, "Incidents": top.Items, "MoreIncidents": top.NextOffset > 0, "Packs": packs,
		"OpenNotices": len(notices), "OverdueNotices": overdue(notices, c.opts.Now()), "PendingApprovals": len(approvals),
		"ChartSeverity": chartSeverity(lg, sum), "ChartSource": chartSource(lg, sum), "ChartParty": chartParty(lg, sum),
		"ChartRisk": chartRisk(lg, sum), "ChartTrend": chartTrend(lg, sum),
	})
}

func overdue(ns []notice, now time.Time) int {
	n := 0
	for _, x := range ns {
		if x.State == "open" && !x.Deadline.IsZero() && !now.Before(x.Deadline) {
			n++
		}
	}
	return n
}

// packs reads the posture of every pack.
func (c *Console) packs(ctx context.Context, s *session) ([]compliance, error) {
	var list packList
	if err := c.get(ctx, s, "/api/v1/packs", nil, &list); err != nil {
		return nil, err
	}
	out := make([]compliance, len(list.Items))
	fns := make([]func() error, len(list.Items))
	for i, p := range list.Items {
		fns[i] = func() error {
			return c.get(ctx, s, "/api/v1/compliance/"+url.PathEscape(p.Pack), nil, &out[i])
		}
	}
	return out, parallel(fns...)
}

func (c *Console) notices(ctx context.Context, s *session, party, state string) ([]notice, error) {
	q := url.Values{"limit": {"200"}}
	if party != "" {
		q.Set("party", party)
	}
	if state != "" {
		q.Set("state", state)
	}
	var out struct {
		Items []notice `json:"items"`
	}
	if err := c.get(ctx, s, "/api/v1/notices", q, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// filters are the findings list's filters, from the query.
type filters struct {
	Severity, Source, Party, Q, Class, Sort, Cursor string
}

func (f filters) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"severity": f.Severity, "source": f.Source, "party": f.Party, "q": f.Q, "class": f.Class, "sort": f.Sort} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// With returns the list's URL with one more parameter, for pagination.
func (f filters) With(k, v string) string {
	q := f.values()
	q.Set(k, v)
	return "/findings?" + q.Encode()
}

func (c *Console) findings(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	q := r.URL.Query()
	f := filters{Severity: q.Get("severity"), Source: q.Get("source"), Party: q.Get("party"), Q: strings.TrimSpace(q.Get("q")),
		Class: q.Get("class"), Sort: q.Get("sort"), Cursor: q.Get("cursor")}
	var (
		page recordPage
		sum  summary
	)
	err := parallel(
		func() error {
			aq := f.values()
			aq.Set("limit", strconv.Itoa(pageSize))
			if f.Cursor != "" {
				aq.Set("cursor", f.Cursor)
			}
			return c.get(ctx, s, "/api/v1/findings", aq, &page)
		},
		func() error { return c.get(ctx, s, "/api/v1/summary", url.Values{"days": {"1"}}, &sum) },
	)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	for i := range page.Items {
		page.Items[i].decode()
	}
	var sources []string
	for _, x := range sum.BySource {
		sources = append(sources, x.Source)
	}
	sort.Strings(sources)
	c.render(w, r, s, http.StatusOK, "findings", "nav.findings", map[string]any{
		"Filters": f, "Items": page.Items, "Next": page.NextCursor, "Sources": sources, "Total": sum.Findings,
		"Severities": []string{"critical", "high", "medium", "low", "informational"},
		"Parties":    []string{"customer", "provider", "vendor", "shared"},
	})
}

var rawKinds = map[string]string{"finding": "/api/v1/findings/", "event": "/api/v1/events/", "incident": "/api/v1/incidents/",
	"approval": "/api/v1/approvals/", "run": "/api/v1/runs/"}

var rawID = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// raw answers a record's JSON as the API gives it (OCSF with Canopy's
// fields beside it), indented.
func (c *Console) raw(w http.ResponseWriter, r *http.Request, s *session) {
	prefix, ok := rawKinds[r.PathValue("kind")]
	id := r.PathValue("id")
	if !ok || !rawID.MatchString(id) {
		c.fail(w, r, s, http.StatusNotFound, c.cat.lang(r).T("error.not_found"))
		return
	}
	v, err := c.send(r.Context(), s, http.MethodGet, prefix+url.PathEscape(id), nil)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, v, "", "  "); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	buf.WriteByte('\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (c *Console) incidents(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	aq := url.Values{"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}
	party, minRisk := q.Get("party"), q.Get("min_risk")
	if party != "" {
		aq.Set("party", party)
	}
	if minRisk != "" {
		aq.Set("min_risk", minRisk)
	}
	var page incidentPage
	if err := c.get(r.Context(), s, "/api/v1/incidents", aq, &page); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	next := ""
	if page.NextOffset > 0 {
		nq := url.Values{"offset": {strconv.Itoa(page.NextOffset)}}
		if party != "" {
			nq.Set("party", party)
		}
		if minRisk != "" {
			nq.Set("min_risk", minRisk)
		}
		next = "/incidents?" + nq.Encode()
	}
	c.render(w, r, s, http.StatusOK, "incidents", "nav.incidents", map[string]any{
		"Items": page.Items, "Next": next, "Party": party, "MinRisk": minRisk, "Parties": []string{"customer", "provider", "vendor", "shared"}})
}

func (c *Console) incident(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if !rawID.MatchString(id) {
		c.fail(w, r, s, http.StatusNotFound, c.cat.lang(r).T("error.not_found"))
		return
	}
	var in incident
	if err := c.get(r.Context(), s, "/api/v1/incidents/"+url.PathEscape(id), url.Values{"expand": {"members"}}, &in); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	lg := c.cat.lang(r)
	c.render(w, r, s, http.StatusOK, "incident", "incident.title", map[string]any{
		"Incident": in, "Timeline": chartTimeline(lg, in), "Graph": chartGraph(lg, in), "Chain": killChain(in),
	})
}

// chainStep is one tactic of the kill chain on an incident page.
type chainStep struct {
	tactic
	Members int       // how many members stand for it
	First   time.Time // the first of them
}

// killChain lists the incident's tactics in kill-chain order with how
// many members stand for each and when the first happened.
func killChain(in incident) []chainStep {
	steps := make([]chainStep, 0, len(in.Tactics))
	idx := map[string]int{}
	for _, t := range in.Tactics {
		idx[t.ID] = len(steps)
		steps = append(steps, chainStep{tactic: t})
	}
	for _, m := range in.MemberRecords {
		for _, t := range m.Tactics {
			i, ok := idx[t.ID]
			if !ok {
				idx[t.ID] = len(steps)
				i = len(steps)
				steps = append(steps, chainStep{tactic: t})
			}
			steps[i].Members++
			if steps[i].First.IsZero() || m.Time.Before(steps[i].First) {
				steps[i].First = m.Time
			}
		}
	}
	sort.SliceStable(steps, func(a, b int) bool { return steps[a].Order < steps[b].Order })
	return steps
}

func (c *Console) posture(w http.ResponseWriter, r *http.Request, s *session) {
	packs, err := c.packs(r.Context(), s)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "posture", "nav.posture", map[string]any{"Packs": packs})
}

func (c *Console) posturePack(w http.ResponseWriter, r *http.Request, s *session) {
	var cp compliance
	if err := c.get(r.Context(), s, "/api/v1/compliance/"+url.PathEscape(r.PathValue("pack")), nil, &cp); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	status := r.URL.Query().Get("status")
	control := r.URL.Query().Get("control")
	counts := map[string]int{}
	for _, ct := range cp.Controls {
		counts[ct.Status]++
	}
	c.render(w, r, s, http.StatusOK, "pack", "posture.pack", map[string]any{"Pack": cp, "Status": status, "Control": control, "Counts": counts})
}

// postureReport answers a pack's compliance report (HTML, for printing
// or archiving) as the API renders it.
func (c *Console) postureReport(w http.ResponseWriter, r *http.Request, s *session) {
	report, err := c.send(r.Context(), s, http.MethodGet, "/api/v1/compliance/"+url.PathEscape(r.PathValue("pack"))+"/report?format=html", nil)
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(report)
}

// partyBoard is one party's column of the responsibility board.
type partyBoard struct {
	Party    string
	Findings int64
	Top      []record
	Notices  []notice
	Overdue  int
	KPI      json.RawMessage

	noticesOff bool // the server has no notices configured
}

func (c *Console) responsibility(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	parties := []string{"customer", "provider", "vendor", "shared"}
	boards := make([]partyBoard, len(parties))
	var sum summary
	var kpi struct {
		Items []json.RawMessage `json:"items"`
	}
	// the counts first: a party with no findings needs no listing (a
	// risk-ordered listing that finds nothing reads to its end)
	if err := c.get(ctx, s, "/api/v1/summary", url.Values{"days": {"1"}}, &sum); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	has := map[string]bool{}
	for _, x := range sum.ByParty {
		has[x.Party] = x.Count > 0
	}
	fns := []func() error{
		func() error { return optional(c.get(ctx, s, "/api/v1/kpi", nil, &kpi)) },
	}
	for i, p := range parties {
		boards[i].Party = p
		fns = append(fns, func() error {
			if has[p] {
				var page recordPage
				if err := c.get(ctx, s, "/api/v1/findings", url.Values{"party": {p}, "sort": {"risk"}, "limit": {"5"}}, &page); err != nil {
					return err
				}
				for j := range page.Items {
					page.Items[j].decode()
				}
				boards[i].Top = page.Items
			}
			ns, err := c.notices(ctx, s, p, "")
			boards[i].Notices = ns
			if ae, ok := err.(*apiError); ok && ae.Status == http.StatusNotImplemented {
				boards[i].noticesOff = true
			}
			return optional(err)
		})
	}
	if err := parallel(fns...); err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	now := c.opts.Now()
	noticesOn := !boards[0].noticesOff
	unattributed := int64(0)
	for _, x := range sum.ByParty {
		if x.Party == "" {
			unattributed = x.Count
		}
		for i := range boards {
			if boards[i].Party == x.Party {
				boards[i].Findings = x.Count
			}
		}
	}
	for i := range boards {
		var open []notice
		for _, n := range boards[i].Notices {
			if n.State == "open" {
				open = append(open, n)
			}
		}
		boards[i].Notices = open
		boards[i].Overdue = overdue(open, now)
		for _, k := range kpi.Items {
			var head struct {
				Party string `json:"party"`
			}
			if json.Unmarshal(k, &head) == nil && head.Party == boards[i].Party {
				boards[i].KPI = k
			}
		}
	}
	c.render(w, r, s, http.StatusOK, "responsibility", "nav.responsibility", map[string]any{"Boards": boards, "Unattributed": unattributed, "Now": now, "NoticesOn": noticesOn})
}

func (c *Console) approvals(w http.ResponseWriter, r *http.Request, s *session) {
	var out struct {
		Items []approval `json:"items"`
	}
	err := c.get(r.Context(), s, "/api/v1/approvals", nil, &out)
	if ae, ok := err.(*apiError); ok && ae.Status == http.StatusNotImplemented {
		c.render(w, r, s, http.StatusOK, "approvals", "nav.approvals", map[string]any{"NotConfigured": true})
		return
	}
	if err != nil {
		c.apiFail(w, r, s, err)
		return
	}
	var pending, decided []approval
	for _, a := range out.Items {
		if a.State == "pending" {
			pending = append(pending, a)
		} else {
			decided = append(decided, a)
		}
	}
	sort.SliceStable(decided, func(i, j int) bool { return decided[i].Decided.After(decided[j].Decided) })
	if len(decided) > 50 {
		decided = decided[:50]
	}
	c.render(w, r, s, http.StatusOK, "approvals", "nav.approvals", map[string]any{"Pending": pending, "Decided": decided, "Flash": r.URL.Query().Get("done")})
}

// decide approves an option of an approval, or rejects it, through the
// API, then shows the approvals again.
func (c *Console) decide(approve bool) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		id := r.PathValue("id")
		if !rawID.MatchString(id) {
			c.fail(w, r, s, http.StatusNotFound, c.cat.lang(r).T("error.not_found"))
			return
		}
		var body map[string]any
		if approve {
			body = map[string]any{"option": r.PostFormValue("option"), "note": r.PostFormValue("note")}
		} else {
			reason := strings.TrimSpace(r.PostFormValue("reason"))
			if reason == "" {
				c.fail(w, r, s, http.StatusBadRequest, c.cat.lang(r).T("approvals.reason_required"))
				return
			}
			body = map[string]any{"reason": reason}
		}
		verb := "reject"
		if approve {
			verb = "approve"
		}
		err := c.call(r.Context(), s, http.MethodPost, "/api/v1/approvals/"+url.PathEscape(id)+"/"+verb, body, nil)
		if ae, ok := err.(*apiError); ok && ae.Status == http.StatusBadGateway {
			// the option was approved but a step failed: the approval and
			// its run say so
			err = nil
		}
		if err != nil {
			c.apiFail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/approvals?done="+url.QueryEscape(id)+"#approval-"+url.QueryEscape(id), http.StatusSeeOther)
	}
}

// store is one data store's grade on the data page.
type dataStore struct {
	record
	Grade map[string]any
}

func (c *Console) data(w http.ResponseWriter, r *http.Request, s *session) {
	var stores []dataStore
	q := url.Values{"class": {"data_security"}, "limit": {"1000"}}
	for range 20 { // at most 20,000 data stores on one page
		var page recordPage
		if err := c.get(r.Context(), s, "/api/v1/findings", q, &page); err != nil {
			c.apiFail(w, r, s, err)
			return
		}
		for _, rec := range page.Items {
			rec.decode()
			var g map[string]any
			if raw, ok := rec.Unmapped[datagrade.UnmappedKey]; ok && json.Unmarshal(raw, &g) == nil {
				stores = append(stores, dataStore{record: rec, Grade: g})
			}
		}
		if page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	levels := map[string]int{}
	for _, d := range stores {
		if l, ok := d.Grade["level"].(string); ok {
			if strings.HasPrefix(l, "general") {
				l = "general"
			}
			levels[l]++
		}
	}
	c.render(w, r, s, http.StatusOK, "data", "nav.data", map[string]any{"Stores": stores, "Levels": levels})
}
