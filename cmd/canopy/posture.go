package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/posture"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/posture/report"
	"github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
)

// exitPolicy is the exit code of a scan that found failures at or above
// --fail-on.
const exitPolicy = 3

// policyError reports failures at or above --fail-on.
type policyError struct{ error }

// inventoryCmd builds `canopy inventory import|list`.
func (e *env) inventoryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "inventory", Short: "Import and list the cloud inventory that posture scans check"}
	var tenant, format, output string
	imp := &cobra.Command{
		Use:   "import [flags] PATH...",
		Short: "Import inventory files: AWS Config, Terraform plan/state JSON, kubectl/manifests, aliyun CLI output, IAM credential reports, Canopy JSON Lines",
		Long: `Import reads each PATH (- is standard input), recognises its format from the
content (or uses --format), and stores the resources it describes. Partial
descriptions of one resource in the files of one import (separate aliyun
calls about one bucket, say) are merged. Resources replace what was stored
under the same provider, account, type and uid. The files land together or
not at all.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("inventory import needs at least one PATH (or - for stdin)")}
			}
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", output)}
			}
			ctx := cmd.Context()
			files, closeAll, err := e.openInventory(args, format)
			if err != nil {
				return err
			}
			defer closeAll()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := pipeline.ImportInventory(ctx, st, tenant, files)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeIndented(e.stdout, res)
			}
			fmt.Fprintf(e.stdout, "%s: %d resources (%d new)\n", strings.Join(res.Files, ", "), res.Resources, res.New)
			return nil
		},
	}
	imp.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant the resources belong to")
	imp.Flags().StringVar(&format, "format", "", "importer (see canopy inventory formats); default: recognise the content")
	imp.Flags().StringVar(&output, "output", "text", "output: text or json")

	var ltenant, loutput, types, provider string
	var limit int
	list := &cobra.Command{
		Use:   "list [flags]",
		Short: "List stored resources",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if loutput != "table" && loutput != "json" {
				return usageError{fmt.Errorf("--output must be table or json, not %q", loutput)}
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			q := store.ResourceQuery{Tenant: ltenant, Types: splitFlag(types), Provider: provider}
			var rows []store.Resource
			for limit == 0 || len(rows) < limit {
				page, err := st.Resources(ctx, q)
				if err != nil {
					return err
				}
				rows = append(rows, page...)
				if len(page) < store.MaxPage {
					break
				}
				q.After = page[len(page)-1].Key
			}
			if limit > 0 && len(rows) > limit {
				rows = rows[:limit]
			}
			if loutput == "json" {
				docs := make([]json.RawMessage, 0, len(rows))
				for _, r := range rows {
					docs = append(docs, json.RawMessage(r.Doc))
				}
				return writeIndented(e.stdout, docs)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROVIDER\tACCOUNT\tREGION\tTYPE\tNAME\tUID")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Provider, r.Account, r.Region, r.Type, cut(r.Name, 40), cut(r.UID, 90))
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&ltenant, "tenant", pipeline.DefaultTenant, "tenant")
	list.Flags().StringVar(&types, "type", "", "only these resource types, comma-separated (e.g. AWS::S3::Bucket)")
	list.Flags().StringVar(&provider, "provider", "", "only this provider: aws, alicloud, kubernetes …")
	list.Flags().IntVar(&limit, "limit", 0, "at most this many (0 = all)")
	list.Flags().StringVar(&loutput, "output", "table", "output: table or json (the normalized resources)")

	formats := &cobra.Command{
		Use:   "formats",
		Short: "List the inventory importers",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tWHAT")
			for _, im := range inventory.Builtin().Importers() {
				fmt.Fprintf(tw, "%s\t%s\n", im.Name, im.Title)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(imp, list, formats)
	return cmd
}

func splitFlag(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func writeIndented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// openInventory opens inventory files (- is standard input).
func (e *env) openInventory(paths []string, format string) ([]pipeline.InventoryFile, func(), error) {
	var files []pipeline.InventoryFile
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	for _, p := range paths {
		if p == "-" {
			files = append(files, pipeline.InventoryFile{Name: "stdin", Format: format, R: bufio.NewReader(e.stdin)})
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("inventory %s: %w", p, err)
		}
		closers = append(closers, f)
		files = append(files, pipeline.InventoryFile{Name: p, Format: format, R: bufio.NewReaderSize(f, 1<<16)})
	}
	return files, closeAll, nil
}

// packsCmd builds `canopy packs`.
func (e *env) packsCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "packs [flags]",
		Short: "List the built-in posture packs and their coverage: controls automated, manual, not expressible",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			packs, err := posture.BuiltinPacks()
			if err != nil {
				return err
			}
			var reports []posture.CoverageReport
			for _, p := range packs.List() {
				reports = append(reports, posture.Coverage(p))
			}
			switch output {
			case "json":
				return writeIndented(e.stdout, reports)
			case "table":
			default:
				return usageError{fmt.Errorf("--output must be table or json, not %q", output)}
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PACK\tCONTROLS\tAUTOMATED\tMANUAL\tNOT EXPRESSIBLE\tREFERENCE AUTOMATED COVERED\tRULES\tFRAMEWORK")
			for i, p := range packs.List() {
				r := reports[i]
				ref := "-"
				if r.ReferenceAutomated > 0 {
					ref = fmt.Sprintf("%d/%d (%.0f %%)", r.AutomatedOfReferenceAutomated, r.ReferenceAutomated, 100*float64(r.AutomatedOfReferenceAutomated)/float64(r.ReferenceAutomated))
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%d\t%s\n", p.ID, r.Total, r.Automated, r.Manual, r.NotExpressible, ref, len(p.Rules), posture.StandardName(p.ID))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&output, "output", "table", "output: table or json (per control: status, rules, evidence task)")
	return cmd
}

// scanCmd builds `canopy scan`.
func (e *env) scanCmd() *cobra.Command {
	var tenant, packList, rulesDir, failOn, output string
	var invPaths []string
	var noCorrelate bool
	var now string
	cmd := &cobra.Command{
		Use:   "scan [flags]",
		Short: "Check the inventory against posture packs (CIS AWS 3.0, CIS Alibaba Cloud 2.0, MLPS 2.0 level 3) and your rules",
		Long: `Scan evaluates the rules of the selected packs (default: all built-in packs)
and of --rules DIR over the stored inventory, or over --inventory files
without storing them. Failures become OCSF Compliance Findings in the store,
deduplicated with what Prowler or Security Hub say about the same control
and resource, and correlated like any finding. Every result of the selected
packs, passes included, is kept as the packs' latest results, which canopy
report compliance reads.

With --fail-on SEVERITY the exit code is 3 when a rule of that severity or
higher failed, for CI pipelines.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "table", "json", "sarif":
			default:
				return usageError{fmt.Errorf("--output must be table, json or sarif, not %q", output)}
			}
			threshold := 0
			if failOn != "" {
				if threshold = severityRank(posture.Severity(failOn)); threshold == 0 {
					return usageError{fmt.Errorf("--fail-on must be informational, low, medium, high or critical, not %q", failOn)}
				}
			}
			ctx := cmd.Context()
			rules, packs, err := loadRules(splitFlag(packList), rulesDir)
			if err != nil {
				return err
			}
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := pipeline.New(pipeline.Options{Store: st})
			if err != nil {
				return err
			}
			ps := pipeline.PostureScan{Tenant: tenant, Rules: rules, Packs: packs, Version: version}
			if now != "" {
				if ps.Now, err = time.Parse(time.RFC3339, now); err != nil {
					return usageError{fmt.Errorf("--now %q: want an RFC 3339 time, e.g. 2026-01-31T00:00:00Z", now)}
				}
			}
			if len(invPaths) > 0 {
				files, closeAll, err := e.openInventory(invPaths, "")
				if err != nil {
					return err
				}
				defer closeAll()
				ps.Resources = fileResources(ctx, files)
			}
			res, err := pipeline.Scan(ctx, p, st, ps)
			if err != nil {
				return err
			}
			if err := e.record(ctx, st, tenant, route.ActionScanned, "scan:"+res.Scan.ID, res.Scan); err != nil {
				return err
			}
			if !noCorrelate {
				if _, err := e.correlate(ctx, st, tenant, false); err != nil {
					return err
				}
			}
			switch output {
			case "json":
				if err := writeIndented(e.stdout, res); err != nil {
					return err
				}
			case "sarif":
				if err := writeSARIF(e.stdout, res, version); err != nil {
					return err
				}
			default:
				writeScanTable(e.stdout, res)
			}
			if threshold > 0 {
				n := 0
				for _, f := range res.Failed {
					if severityRank(f.Rule.Severity) >= threshold {
						n++
					}
				}
				if n > 0 {
					return policyError{fmt.Errorf("%d failed checks at or above %s", n, failOn)}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().StringVar(&packList, "pack", "", "packs to check, comma-separated (default: every built-in pack; see canopy packs)")
	cmd.Flags().StringVar(&rulesDir, "rules", "", "a directory of your own rule files (YAML), checked and added to the scan")
	cmd.Flags().StringArrayVar(&invPaths, "inventory", nil, "scan these inventory files instead of the stored inventory (repeatable)")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit 3 when a check of this severity or higher fails: informational, low, medium, high, critical")
	cmd.Flags().StringVar(&output, "output", "table", "output: table, json (scan and every result) or sarif (failures, SARIF 2.1.0)")
	cmd.Flags().BoolVar(&noCorrelate, "no-correlate", false, "leave the new findings in the correlation queue")
	cmd.Flags().StringVar(&now, "now", "", "evaluate as of this time (RFC 3339), for age checks such as key rotation; default: now")
	return cmd
}

// loadRules returns the rule set of the selected packs (all when none) and
// of a user rules directory, and the packs whose results the scan records.
func loadRules(selected []string, dir string) (*posture.RuleSet, []string, error) {
	packs, err := posture.BuiltinPacks()
	if err != nil {
		return nil, nil, err
	}
	if len(selected) == 0 {
		for _, p := range packs.List() {
			selected = append(selected, p.ID)
		}
	}
	base, err := packs.RuleSet(selected...)
	if err != nil {
		return nil, nil, usageError{err}
	}
	rules := base.Rules()
	if dir != "" {
		extra, err := posture.LoadDir(os.DirFS(dir), ".")
		if err != nil {
			return nil, nil, fmt.Errorf("rules %s: %w", dir, err)
		}
		rules = append(rules, extra...)
		// user rules may map to packs of their own: record those too
		seen := map[string]bool{}
		for _, s := range selected {
			seen[s] = true
		}
		for _, r := range extra {
			for pk := range r.Frameworks {
				if !seen[pk] {
					seen[pk] = true
					selected = append(selected, pk)
				}
			}
		}
	}
	set, err := posture.NewRuleSet(rules...)
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(selected)
	return set, selected, nil
}

// fileResources streams the resources of inventory files, merging partial
// descriptions of one resource across them.
func fileResources(ctx context.Context, files []pipeline.InventoryFile) iter.Seq2[*inventory.Resource, error] {
	return func(yield func(*inventory.Resource, error) bool) {
		reg := inventory.Builtin()
		var m inventory.Merger
		for _, f := range files {
			for r, err := range reg.Stream(ctx, f.Format, f.R) {
				if err != nil {
					yield(nil, fmt.Errorf("inventory %s: %w", f.Name, err))
					return
				}
				m.Add(*r)
			}
		}
		rs := m.Resources()
		for i := range rs {
			if !yield(&rs[i], nil) {
				return
			}
		}
	}
}

func severityRank(s posture.Severity) int {
	switch s {
	case posture.SeverityInformational:
		return 1
	case posture.SeverityLow:
		return 2
	case posture.SeverityMedium:
		return 3
	case posture.SeverityHigh:
		return 4
	case posture.SeverityCritical:
		return 5
	}
	return 0
}

func writeScanTable(w io.Writer, res pipeline.ScanResult) {
	sc := res.Scan
	fmt.Fprintf(w, "scan %s: %d resources, %d checks: %d passed, %d failed, %d errors; %d findings stored\n\n",
		sc.ID, sc.Resources, sc.Evaluated, sc.Passed, sc.Failed, sc.Errors, sc.Findings)
	if len(res.Failed) == 0 {
		return
	}
	failed := slices.Clone(res.Failed)
	sort.SliceStable(failed, func(a, b int) bool {
		ra, rb := severityRank(failed[a].Rule.Severity), severityRank(failed[b].Rule.Severity)
		if ra != rb {
			return ra > rb
		}
		return failed[a].Rule.ID < failed[b].Rule.ID
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tCONTROLS\tRULE\tRESOURCE\tMESSAGE")
	for _, f := range failed {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Rule.Severity, cut(strings.Join(f.Rule.Controls(), ","), 40), f.Rule.ID, cut(f.Resource.UID, 70), cut(f.Message, 80))
	}
	tw.Flush()
}

// reportCmd builds `canopy report compliance`.
func (e *env) reportCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Write reports"}
	var tenant, pack, format string
	comp := &cobra.Command{
		Use:   "compliance --pack P [--format html|json|csv]",
		Short: "Write a pack's compliance report from its latest scan: score, sections, controls, failing resources, manual evidence",
		Long: `Compliance writes the report of one pack from its latest scan (canopy scan)
and the evidence recorded for its manual controls (canopy evidence set): the
score (passed ÷ evaluated controls, as AWS Security Hub computes it), each
section's and control's status, failing resources with the reason, and the
manual items with their evidence status and responsible party. The HTML is
one self-contained, printable file (inline CSS and SVG charts).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pack == "" {
				return usageError{errors.New("report compliance needs --pack (see canopy packs)")}
			}
			write, ok := map[string]func(io.Writer, *report.Report) error{"html": report.WriteHTML, "json": report.WriteJSON, "csv": report.WriteCSV}[format]
			if !ok {
				return usageError{fmt.Errorf("--format must be html, json or csv, not %q", format)}
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := pipeline.ComplianceReport(ctx, st, tenant, pack)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(e.stdout)
			if err := write(w, rep); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	comp.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	comp.Flags().StringVar(&pack, "pack", "", "pack: cis-aws-3.0, cis-alicloud-2.0, mlps2-l3 …")
	comp.Flags().StringVar(&format, "format", "html", "html, json or csv")
	cmd.AddCommand(comp, e.reportDatagradeCmd())
	return cmd
}

// evidenceCmd builds `canopy evidence set`.
func (e *env) evidenceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Record the evidence of manual controls"}
	var tenant, pack, control, status, ref, by, note string
	set := &cobra.Command{
		Use:   "set --pack P --control C --status missing|submitted|accepted|rejected [--reference R] [--by NAME] [--note N]",
		Short: "Record a manual control's evidence status",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch status {
			case "missing", "submitted", "accepted", "rejected":
			default:
				return usageError{fmt.Errorf("--status must be missing, submitted, accepted or rejected, not %q", status)}
			}
			ok, err := pipeline.HasEvidenceTask(pack, control)
			if err != nil {
				return usageError{err}
			}
			if !ok {
				return usageError{fmt.Errorf("control %s of %s is checked by rules and takes no evidence", control, pack)}
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if by == "" {
				by = os.Getenv("USER")
			}
			ev := store.Evidence{Pack: pack, Control: control, Status: status, Reference: ref, By: by, Note: note, UpdatedAt: time.Now().UTC()}
			if err := st.PutEvidence(ctx, tenant, ev); err != nil {
				return err
			}
			if err := e.record(ctx, st, tenant, route.ActionEvidenceRecorded, "control:"+pack+":"+control, ev); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s %s: evidence %s\n", pack, control, status)
			return nil
		},
	}
	set.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	set.Flags().StringVar(&pack, "pack", "", "pack")
	set.Flags().StringVar(&control, "control", "", "control id, e.g. 1.1 or L3-PES2-01")
	set.Flags().StringVar(&status, "status", "", "missing, submitted, accepted or rejected")
	set.Flags().StringVar(&ref, "reference", "", "where the evidence is: a document id, a URL, a ticket")
	set.Flags().StringVar(&by, "by", "", "who records it (default $USER)")
	set.Flags().StringVar(&note, "note", "", "a note")
	cmd.AddCommand(set)
	return cmd
}
