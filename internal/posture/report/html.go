package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once; templates are safe for concurrent use and
// never changed after parsing.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"percent": percentText,
	"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"plural":  plural,
}).Parse(htmlSource))

// plural returns "1 control" or "n controls".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// ScoreSourceURL is the page defining the security score the report uses.
const ScoreSourceURL = "https://docs.aws.amazon.com/securityhub/latest/userguide/standards-security-score.html"

// htmlView is what the template sees: the report and its charts.
type htmlView struct {
	*Report
	Donut       donut
	Bars        bars
	Legend      []legendItem
	ScoreSource string
}

// WriteHTML writes r as one self-contained HTML page: inline CSS, charts
// as inline SVG (a score donut and a bar per section), no script and no
// external resource, printable (each section starts a page, tables are
// never clipped). All text from the report, resource names and messages
// included, is escaped by html/template.
func WriteHTML(w io.Writer, r *Report) error {
	v := htmlView{Report: r, Donut: newDonut(r.Score, r.Totals), Bars: newBars(r.Sections),
		Legend: legend(), ScoreSource: ScoreSourceURL}
	if err := htmlTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}
