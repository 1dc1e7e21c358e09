package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// csvHeader is the header row [WriteCSV] writes; README.md documents each
// column.
var csvHeader = []string{
	"section", "control", "title", "title_zh", "level", "status", "coverage",
	"rule_id", "resource_uid", "resource_type", "resource_name", "account", "region", "result", "message",
	"evidence_status", "evidence_reference", "evidence_submitted_by", "evidence_submitted_at", "responsible", "note",
}

// CSVHeader returns the columns of the CSV [WriteCSV] writes.
func CSVHeader() []string { return append([]string(nil), csvHeader...) }

// WriteCSV writes r as CSV (RFC 4180, through encoding/csv): a header row
// ([CSVHeader]), then, in report order, one row per control and finding
// (failing or erroring result on a resource), and one row for each control
// without findings with the resource columns empty. Cells a spreadsheet
// would read as a formula get a leading single quote (see the package
// documentation).
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	for _, s := range r.Sections {
		for _, c := range s.Controls {
			level := ""
			if c.Level > 0 {
				level = strconv.Itoa(c.Level)
			}
			evStatus, evRef, evBy, evAt, responsible, note := "", "", "", "", "", c.Reason
			if e := c.Evidence; e != nil {
				evStatus, evRef, evBy, responsible = string(e.Status), e.Reference, e.SubmittedBy, e.Responsible
				if !e.SubmittedAt.IsZero() {
					evAt = e.SubmittedAt.Format(time.RFC3339)
				}
				if note == "" {
					note = e.Task
				}
			}
			control := []string{s.Title, c.ID, c.Title, c.TitleZH, level, string(c.Status), string(c.Coverage)}
			tail := []string{evStatus, cell(evRef), cell(evBy), evAt, responsible, note}
			rows := [][]string{}
			for _, f := range c.Findings {
				rows = append(rows, []string{f.RuleID, cell(f.ResourceUID), cell(f.ResourceType), cell(f.ResourceName),
					cell(f.Account), cell(f.Region), f.Status.String(), cell(f.Message)})
			}
			if len(rows) == 0 {
				rows = append(rows, make([]string, 8))
			}
			for _, mid := range rows {
				rec := make([]string, 0, len(csvHeader))
				rec = append(append(append(rec, control...), mid...), tail...)
				if err := cw.Write(rec); err != nil {
					return fmt.Errorf("report: write csv: %w", err)
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

// cell defuses a value a spreadsheet would evaluate as a formula by
// prefixing it with a single quote (OWASP "CSV Injection").
func cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
