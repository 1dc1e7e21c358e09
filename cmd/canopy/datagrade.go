package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/datagrade"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

// dataScanner builds the scanner and grader from flags.
func dataScanner(rows int, catalogues []string, policyFile string) (*datagrade.Scanner, *datagrade.Grader, error) {
	sc, err := datagrade.NewScanner(datagrade.Options{Budget: datagrade.Budget{RowsPerTable: rows}})
	if err != nil {
		return nil, nil, err
	}
	opts := datagrade.GraderOptions{}
	for _, path := range catalogues {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		c, err := datagrade.LoadCatalogue(filepath.Base(path), f, datagrade.BuiltinCategories())
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		opts.Catalogues = append(opts.Catalogues, c)
	}
	if policyFile != "" {
		f, err := os.Open(policyFile)
		if err != nil {
			return nil, nil, err
		}
		p, err := datagrade.LoadPolicy(filepath.Base(policyFile), f, datagrade.BuiltinReference(), datagrade.BuiltinCategories())
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		opts.Policy = p
	}
	g, err := datagrade.NewGrader(opts)
	if err != nil {
		return nil, nil, err
	}
	return sc, g, nil
}

// datascanCmd builds `canopy datascan`.
func (e *env) datascanCmd() *cobra.Command {
	var tenant, output, policy string
	var budget int
	var catalogues []string
	var noCorrelate bool
	cmd := &cobra.Command{
		Use:   "datascan [flags] TARGET...",
		Short: "Find personal and sensitive data in data stores and grade each per GB/T 43697-2024 (核心 / 重要 / 一般 1-4)",
		Long: `Datascan samples each TARGET (at most --budget rows per table or file):
  DIR or an archive (.zip, .tar.gz) of CSV / JSON Lines / JSON / text files,
  sqlite:PATH (or a .db file), postgres://… (read-only), mysql:DSN,
  objects:LISTING.json?dir=DIR (an object-store listing with sampled objects).
It detects the personal-information categories of GB/T 43697-2024 Appendix B
and other sensitive fields (resident ID with its check digit, mobile, bank
card with Luhn, unified social credit code, passports, e-mail, addresses,
names, plates, keys …), grades each table and store with the reasoning, and
stores one OCSF Data Security Finding per store. Only counts, column names
and masked examples are kept, never values. The grade raises the risk of
findings on the same resources.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("datascan needs at least one TARGET")}
			}
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("--output must be table or json, not %q", output)}
			}
			sc, g, err := dataScanner(budget, catalogues, policy)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := pipeline.New(pipeline.Options{Store: st})
			if err != nil {
				return err
			}
			res, serr := pipeline.ScanData(ctx, p, pipeline.DataScan{Tenant: tenant, Targets: args, Scanner: sc, Grader: g})
			for _, r := range res {
				if err := e.record(ctx, st, tenant, "data.graded", "store:"+r.Assessment.Store.UID,
					map[string]any{"level": r.Assessment.Level, "categories": r.Assessment.Categories, "sensitive_pi": r.Assessment.SensitivePI}); err != nil {
					return err
				}
			}
			if len(res) > 0 && !noCorrelate {
				// rescore what the grades touch
				if _, err := e.correlate(ctx, st, tenant, false); err != nil {
					return err
				}
			}
			if output == "json" {
				if res == nil {
					res = []pipeline.DataScanResult{}
				}
				if err := writeIndented(e.stdout, res); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "STORE\tTYPE\tGRADE\tSENSITIVE PI\tINDIVIDUALS\tCATEGORIES")
				for _, r := range res {
					a := r.Assessment
					fmt.Fprintf(tw, "%s\t%s\t%s %s\t%v\t%d\t%s\n", cut(a.Store.Name, 40), a.Store.Type, a.Level, a.Level.ZH(), a.SensitivePI, a.Individuals, cut(fmt.Sprint(a.Categories), 80))
					for _, t := range a.Tables {
						fmt.Fprintf(tw, "  %s\t\t%s\t\t\t%s\n", cut(t.Table, 38), t.Level, cut(fmt.Sprint(t.Categories), 80))
					}
				}
				tw.Flush()
			}
			return serr
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().IntVar(&budget, "budget", 1000, "rows sampled per table or file")
	cmd.Flags().StringArrayVar(&catalogues, "catalogue", nil, "an important/core data catalogue (重要数据目录) YAML; repeatable")
	cmd.Flags().StringVar(&policy, "policy", "", "a grading policy YAML replacing the defaults (see internal/datagrade/data/grading-policy.yaml)")
	cmd.Flags().StringVar(&output, "output", "table", "table or json (the assessments with their reasoning)")
	cmd.Flags().BoolVar(&noCorrelate, "no-correlate", false, "do not rescore issues and incidents now")
	return cmd
}

// storedGrades reads the tenant's data security findings.
func storedGrades(cmd *cobra.Command, e *env, tenant string) ([]map[string]any, error) {
	ctx := cmd.Context()
	st, err := e.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var out []map[string]any
	q := store.Query{Tenant: tenant, Classes: []int{ocsf.ClassDataSecurityFinding}, Limit: store.MaxPage}
	for {
		page, err := st.Findings(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			var f map[string]any
			if err := json.Unmarshal(r.OCSF, &f); err != nil {
				return nil, fmt.Errorf("finding %d: %w", r.ID, err)
			}
			if um, _ := f["unmapped"].(map[string]any); um != nil && um[datagrade.UnmappedKey] != nil {
				out = append(out, f)
			}
		}
		if page.Next.IsZero() {
			return out, nil
		}
		q.After = page.Next
	}
}

var datagradeHTML = template.Must(template.New("r").Funcs(template.FuncMap{
	"g": func(f map[string]any) map[string]any {
		um, _ := f["unmapped"].(map[string]any)
		m, _ := um[datagrade.UnmappedKey].(map[string]any)
		return m
	},
	"json": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
}).Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Data grading (GB/T 43697-2024)</title>
<style>body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;color:#222}h2{border-bottom:1px solid #ccc}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;font-size:12px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left}
@media print{section{page-break-inside:avoid}}</style></head><body>
<h1>Data grading per GB/T 43697-2024</h1>
<p>{{len .}} data stores. Only counts, column names and masked examples are shown; no value was kept.</p>
{{range .}}{{$g := g .}}<section><h2>{{.finding_info.title}}</h2>
<table><tr><th>Grade</th><td>{{$g.level}}</td></tr><tr><th>Categories</th><td>{{$g.categories}}</td></tr>
<tr><th>Personal-information categories (Appendix B)</th><td>{{$g.pi_categories}}</td></tr></table>
<h3>Reasoning, counts and masked examples</h3><pre>{{json $g}}</pre></section>{{end}}
</body></html>
`))

// reportDatagradeCmd is `canopy report datagrade`.
func (e *env) reportDatagradeCmd() *cobra.Command {
	var tenant, format string
	cmd := &cobra.Command{
		Use:   "datagrade [--format html|json]",
		Short: "Write the data-grading report: per store the grade, categories, counts, masked examples and reasoning",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "html" && format != "json" {
				return usageError{fmt.Errorf("--format must be html or json, not %q", format)}
			}
			fs, err := storedGrades(cmd, e, tenant)
			if err != nil {
				return err
			}
			if fs == nil {
				fs = []map[string]any{}
			}
			w := bufio.NewWriter(e.stdout)
			defer w.Flush()
			if format == "json" {
				return writeIndented(w, fs)
			}
			return datagradeHTML.Execute(w, fs)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().StringVar(&format, "format", "html", "html or json")
	return cmd
}
