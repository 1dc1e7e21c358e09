package console

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/correlate"
)

// Charts are ECharts options built here from API data and written into a
// data-chart attribute; web/static/console.js draws every element that
// has one. No chart needs script code of its own.

// severityColor gives each OCSF severity caption a colour.
var severityColor = map[string]string{
	"Fatal": "#7f1d1d", "Critical": "#b91c1c", "High": "#ea580c", "Medium": "#d97706",
	"Low": "#2563eb", "Informational": "#64748b", "Unknown": "#94a3b8", "Other": "#a3a3a3",
}

var severityOrder = []string{"Fatal", "Critical", "High", "Medium", "Low", "Informational", "Other", "Unknown"}

func chartJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func chartSeverity(lg *lang, s summary) string {
	var data []map[string]any
	for _, x := range s.BySeverity {
		data = append(data, map[string]any{"name": lg.T("sev." + x.Severity), "value": x.Count,
			"itemStyle": map[string]string{"color": severityColor[x.Severity]}})
	}
	return chartJSON(map[string]any{
		"tooltip": map[string]any{"trigger": "item"},
		"series": []any{map[string]any{"type": "pie", "radius": []string{"45%", "72%"}, "data": data,
			"label": map[string]any{"formatter": "{b}: {c}"}}},
	})
}

func bar(names []string, values []int64, color string, horizontal bool) map[string]any {
	cat := map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"width": 140, "overflow": "truncate"}}
	val := map[string]any{"type": "value", "minInterval": 1}
	o := map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 8, "right": 16, "top": 16, "bottom": 8, "containLabel": true},
		"series":  []any{map[string]any{"type": "bar", "data": values, "itemStyle": map[string]string{"color": color}}},
	}
	if horizontal {
		cat["inverse"] = true
		o["yAxis"], o["xAxis"] = cat, val
	} else {
		o["xAxis"], o["yAxis"] = cat, val
	}
	return o
}

func chartSource(lg *lang, s summary) string {
	var names []string
	var values []int64
	for i, x := range s.BySource {
		if i == 12 {
			break
		}
		names, values = append(names, x.Source), append(values, x.Count)
	}
	return chartJSON(bar(names, values, "#0f766e", true))
}

func chartParty(lg *lang, s summary) string {
	var data []map[string]any
	for _, x := range s.ByParty {
		data = append(data, map[string]any{"name": lg.T(partyKey(x.Party)), "value": x.Count})
	}
	return chartJSON(map[string]any{
		"tooltip": map[string]any{"trigger": "item"},
		"color":   []string{"#0e7490", "#7c3aed", "#c2410c", "#4d7c0f", "#94a3b8"},
		"series":  []any{map[string]any{"type": "pie", "radius": "70%", "data": data, "label": map[string]any{"formatter": "{b}: {c}"}}},
	})
}

func chartRisk(lg *lang, s summary) string {
	var names []string
	var values []int64
	for _, b := range s.RiskBuckets {
		names, values = append(names, fmt.Sprintf("%d–%d", b.From, b.To)), append(values, b.Count)
	}
	return chartJSON(bar(names, values, "#b45309", false))
}

func chartTrend(lg *lang, s summary) string {
	var days []string
	present := map[string]bool{}
	for _, d := range s.Trend {
		days = append(days, d.Day)
		for sev := range d.BySeverity {
			present[sev] = true
		}
	}
	var series []any
	var legend []string
	for _, sev := range severityOrder {
		if !present[sev] {
			continue
		}
		vals := make([]int64, len(s.Trend))
		for i, d := range s.Trend {
			vals[i] = d.BySeverity[sev]
		}
		name := lg.T("sev." + sev)
		legend = append(legend, name)
		series = append(series, map[string]any{"name": name, "type": "bar", "stack": "new", "data": vals,
			"itemStyle": map[string]string{"color": severityColor[sev]}})
	}
	if series == nil {
		series = []any{map[string]any{"type": "bar", "data": make([]int64, len(days))}}
	}
	return chartJSON(map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": legend, "top": 0},
		"grid":    map[string]any{"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": days},
		"yAxis":   map[string]any{"type": "value", "minInterval": 1, "name": lg.T("overview.new_findings")},
		"series":  series,
	})
}

// chartTimeline places each member on a time axis, in the row of each of
// its ATT&CK tactics (kill-chain order, top to bottom), or in an
// "unmapped" row.
func chartTimeline(lg *lang, in incident) string {
	chain := killChain(in)
	var rows []string
	for _, t := range chain {
		rows = append(rows, t.ID+" "+t.Name)
	}
	unmapped := lg.T("incident.no_tactic")
	bySev := map[string][]any{}
	hasUnmapped := false
	for _, m := range in.MemberRecords {
		point := func(row string) {
			bySev[m.Severity] = append(bySev[m.Severity], map[string]any{
				"value": []any{m.Time.UTC().Format(time.RFC3339Nano), row},
				"name":  fmt.Sprintf("%s · %s · %s", m.Time.UTC().Format("2006-01-02 15:04:05"), m.Product, m.Title),
			})
		}
		if len(m.Tactics) == 0 {
			hasUnmapped = true
			point(unmapped)
		}
		for _, t := range m.Tactics {
			point(t.ID + " " + t.Name)
		}
	}
	if hasUnmapped {
		rows = append(rows, unmapped)
	}
	// pad the time axis so that the first and last records are not on its
	// edges (and records seconds apart still spread out)
	xAxis := map[string]any{"type": "time"}
	if len(in.MemberRecords) > 0 {
		first, last := in.MemberRecords[0].Time, in.MemberRecords[0].Time
		for _, m := range in.MemberRecords {
			first, last = minTime(first, m.Time), maxTime(last, m.Time)
		}
		pad := max(last.Sub(first)/20, 30*time.Second)
		xAxis["min"], xAxis["max"] = first.Add(-pad).UnixMilli(), last.Add(pad).UnixMilli()
	}
	var series []any
	for _, sev := range severityOrder {
		pts, ok := bySev[sev]
		if !ok {
			continue
		}
		series = append(series, map[string]any{"name": lg.T("sev." + sev), "type": "scatter", "symbolSize": 14, "data": pts,
			"itemStyle": map[string]string{"color": severityColor[sev]}})
	}
	return chartJSON(map[string]any{
		"tooltip": map[string]any{"trigger": "item", "formatter": "{b}"},
		"legend":  map[string]any{"top": 0},
		"grid":    map[string]any{"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": true},
		"xAxis":   xAxis,
		"yAxis":   map[string]any{"type": "category", "data": rows, "inverse": true},
		"series":  series,
	})
}

// chartGraph draws the incident's records and the entities linking them.
func chartGraph(lg *lang, in incident) string {
	type node struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Category int    `json:"category"`
		Size     int    `json:"symbolSize"`
	}
	var nodes []node
	var links []map[string]string
	seen := map[string]bool{}
	add := func(n node) {
		if !seen[n.ID] {
			seen[n.ID] = true
			nodes = append(nodes, n)
		}
	}
	for _, e := range in.Entities {
		add(node{ID: entityID(e), Name: string(e.Kind) + ": " + shorten(e.Value, 60), Category: 0, Size: 26})
	}
	for _, m := range in.MemberRecords {
		add(node{ID: m.Ref, Name: shorten(m.Title, 60) + " (" + m.Product + ")", Category: 1, Size: 14})
	}
	for _, m := range in.MemberRecords {
		for _, e := range m.Entities {
			add(node{ID: entityID(e), Name: string(e.Kind) + ": " + shorten(e.Value, 60), Category: 0, Size: 26})
			links = append(links, map[string]string{"source": m.Ref, "target": entityID(e)})
		}
	}
	return chartJSON(map[string]any{
		"tooltip": map[string]any{},
		"legend":  map[string]any{"data": []string{lg.T("incident.entities"), lg.T("incident.members")}, "top": 0},
		"series": []any{map[string]any{
			"type": "graph", "layout": "force", "roam": true, "draggable": true,
			"force":      map[string]any{"repulsion": 220, "edgeLength": 90},
			"categories": []any{map[string]string{"name": lg.T("incident.entities")}, map[string]string{"name": lg.T("incident.members")}},
			"data":       nodes, "links": links, "label": map[string]any{"show": len(nodes) <= 30, "position": "right", "fontSize": 11},
		}},
	})
}

func entityID(e correlate.Entity) string { return "e:" + string(e.Kind) + ":" + e.Value }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// partyKey is the message key of a party (a string or a named string
// type such as responsibility.Party).
func partyKey(party any) string {
	p := fmt.Sprint(party)
	if p == "" || party == nil {
		return "party.none"
	}
	return "party." + p
}

// funcs are the template functions.
func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"sevClass": func(s string) string { return "sev-" + strings.ToLower(s) },
		"partyKey": partyKey,
		"sevKey":   func(s string) string { return "sev." + s },
		"time": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"ago": func(t, now time.Time) string {
			if t.IsZero() {
				return ""
			}
			d := t.Sub(now).Round(time.Minute)
			return d.String()
		},
		"pct": func(f *float64) string {
			if f == nil {
				return "—"
			}
			return fmt.Sprintf("%.0f%%", *f*100)
		},
		"pctValue": func(f *float64) float64 {
			if f == nil {
				return 0
			}
			return *f * 100
		},
		"short": shorten,
		"join":  strings.Join,
		"json": func(v any) string {
			b, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return ""
			}
			return string(b)
		},
		"has":  func(xs []string, x string) bool { return slices.Contains(xs, x) },
		"add":  func(a, b int) int { return a + b },
		"list": func(xs ...string) []string { return xs },
	}
}
