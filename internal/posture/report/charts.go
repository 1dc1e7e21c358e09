package report

import (
	"math"
	"strconv"
	"strings"
)

// The charts are inline SVG whose geometry is computed here and whose
// markup is in the template, so that html/template escapes every piece of
// text in them like the rest of the page.

// statusColors are the colours of the control statuses in charts and
// badges (the CSS uses the same values).
var statusColors = [...]struct {
	status ControlStatus
	color  string
}{
	{StatusPassed, "#2da44e"},
	{StatusFailed, "#cf222e"},
	{StatusUnknown, "#d4a72c"},
	{StatusNoData, "#afb8c1"},
	{StatusManual, "#54aeff"},
	{StatusNotExpressible, "#a475f9"},
}

// legendItem is one entry of a chart legend.
type legendItem struct {
	Status ControlStatus
	Color  string
}

func legend() []legendItem {
	out := make([]legendItem, 0, len(statusColors))
	for _, s := range statusColors {
		out = append(out, legendItem{s.status, s.color})
	}
	return out
}

// donut is the score ring: passed, failed and unknown controls as arcs of
// the evaluated ones, the percentage in the middle.
type donut struct {
	Size, Center, Radius, Stroke string
	// Arcs are drawn as dashes of a circle's stroke, starting at the top.
	Arcs []donutArc
	// Label is the percentage ("67%", or "n/a"); Sub says of what.
	Label, Sub string
}

type donutArc struct {
	Status           ControlStatus
	Color            string
	Count            int
	DashArray, Start string
}

func newDonut(s Score, t Totals) donut {
	const size, stroke = 200.0, 26.0
	r := size/2 - stroke/2 - 2
	circ := 2 * math.Pi * r
	d := donut{Size: num(size), Center: num(size / 2), Radius: num(r), Stroke: num(stroke), Label: percentText(s)}
	switch s.Evaluated {
	case 0:
		d.Sub = "nothing evaluated"
		return d
	case 1:
		d.Sub = strconv.Itoa(s.Passed) + " of 1 control"
	default:
		d.Sub = strconv.Itoa(s.Passed) + " of " + strconv.Itoa(s.Evaluated) + " controls"
	}
	start := 0.0
	for _, seg := range []struct {
		status ControlStatus
		n      int
	}{{StatusPassed, t.Passed}, {StatusFailed, t.Failed}, {StatusUnknown, t.Unknown}} {
		if seg.n == 0 {
			continue
		}
		l := circ * float64(seg.n) / float64(s.Evaluated)
		d.Arcs = append(d.Arcs, donutArc{Status: seg.status, Color: colorOf(seg.status), Count: seg.n,
			DashArray: num(l) + " " + num(circ), Start: num(-start)})
		start += l
	}
	return d
}

// bars is the per-section chart: one horizontal bar per section, its
// length the section's number of controls, split by status, and the
// section's score after it.
type bars struct {
	Width, Height string
	LabelX        string
	Rows          []barRow
}

type barRow struct {
	// Y is the top of the bar, TextY the baseline of its texts.
	Y, TextY, Height string
	// Label is the section title, shortened to fit; Full is the whole of
	// it.
	Label, Full string
	Segments    []barSegment
	// ScoreX is where the score text starts.
	ScoreX, Score string
}

type barSegment struct {
	Status ControlStatus
	Color  string
	Count  int
	X, W   string
}

func newBars(sections []Section) bars {
	const (
		width, labelW, barX, barW = 960.0, 330.0, 340.0, 490.0
		rowH, barH, pad           = 30.0, 18.0, 6.0
	)
	maxN := 1
	for _, s := range sections {
		maxN = max(maxN, s.Totals.Controls)
	}
	b := bars{Width: num(width), Height: num(float64(len(sections))*rowH + 2*pad), LabelX: num(labelW)}
	for i, s := range sections {
		y := pad + float64(i)*rowH + (rowH-barH)/2
		full := s.Title
		if s.TitleZH != "" {
			full += " " + s.TitleZH
		}
		row := barRow{Y: num(y), TextY: num(y + barH - 4), Height: num(barH), Label: shorten(full, labelW-8), Full: full}
		x := barX
		t := s.Totals
		for _, seg := range []struct {
			status ControlStatus
			n      int
		}{{StatusPassed, t.Passed}, {StatusFailed, t.Failed}, {StatusUnknown, t.Unknown},
			{StatusNoData, t.NoData}, {StatusManual, t.Manual}, {StatusNotExpressible, t.NotExpressible}} {
			if seg.n == 0 {
				continue
			}
			w := barW * float64(seg.n) / float64(maxN)
			row.Segments = append(row.Segments, barSegment{Status: seg.status, Color: colorOf(seg.status), Count: seg.n, X: num(x), W: num(w)})
			x += w
		}
		row.ScoreX = num(x + 8)
		row.Score = percentText(s.Score)
		if s.Score.Evaluated > 0 {
			row.Score += " (" + strconv.Itoa(s.Score.Passed) + "/" + strconv.Itoa(s.Score.Evaluated) + ")"
		}
		b.Rows = append(b.Rows, row)
	}
	return b
}

func colorOf(s ControlStatus) string {
	for _, c := range statusColors {
		if c.status == s {
			return c.color
		}
	}
	return "#000000"
}

// percentText is "67%", or "n/a" when nothing was evaluated.
func percentText(s Score) string {
	if s.Percent == nil {
		return "n/a"
	}
	return strconv.Itoa(*s.Percent) + "%"
}

// shorten cuts s to about width pixels of 13 px text (CJK characters count
// double), ending it with an ellipsis when cut.
func shorten(s string, width float64) string {
	if textWidth(s) <= width {
		return s
	}
	w := runeWidth('…')
	for i, r := range s {
		if w+runeWidth(r) > width {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		w += runeWidth(r)
	}
	return s
}

func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

// runeWidth is the approximate width of r in 13 px text.
func runeWidth(r rune) float64 {
	if r >= 0x2E80 { // CJK and other wide scripts
		return 13
	}
	return 7
}

// num formats a coordinate with at most two decimals.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}
