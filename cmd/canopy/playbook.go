package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/respond"
)

// playbookInfo is one line of `canopy playbook list`.
type playbookInfo struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	File     string   `json:"file"`
	Enabled  bool     `json:"enabled"`
	Missing  []string `json:"missing_actions,omitempty"`
	Options  []string `json:"options,omitempty"`
	Steps    []string `json:"steps,omitempty"`
	Approval string   `json:"approval"`
}

// playbookInfos lists the engine's playbooks, then the built-in ones left
// out for want of an action.
func (r *responder) playbookInfos() []playbookInfo {
	var out []playbookInfo
	for _, p := range r.eng.Playbooks() {
		pi := playbookInfo{ID: p.ID, Title: p.Title, File: p.File, Enabled: true, Approval: approvalRule(p)}
		for _, s := range p.Steps {
			pi.Steps = append(pi.Steps, s.ID+" ("+s.Action+")")
		}
		for _, o := range p.Options {
			pi.Options = append(pi.Options, o.ID)
		}
		out = append(out, pi)
	}
	for _, m := range r.missingPlaybooks() {
		id, _, _ := strings.Cut(m, " ")
		out = append(out, playbookInfo{ID: id, File: "builtin", Missing: r.missing[id], Approval: "-"})
	}
	return out
}

func approvalRule(p *respond.Playbook) string {
	switch {
	case p.Approval.Always, p.Approval.Threshold != nil && *p.Approval.Threshold == 0:
		return "always asks"
	case len(p.Steps) == 0:
		return "asks (options only)"
	case p.Approval.Threshold != nil:
		return fmt.Sprintf("asks from risk %d", *p.Approval.Threshold)
	}
	return "asks from the default threshold"
}

// playbookCmd builds `canopy playbook list|test`.
func (e *env) playbookCmd() *cobra.Command {
	var c respondCommon
	cmd := &cobra.Command{Use: "playbook", Aliases: []string{"playbooks"}, Short: "Playbooks as data: list them, dry-run a playbook file against a stored record"}
	c.add(cmd)
	list := &cobra.Command{
		Use:   "list",
		Short: "List the playbooks in use (built-in and --playbooks), and built-in ones left out for want of an action",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				infos := r.playbookInfos()
				if c.output == "json" {
					if infos == nil {
						infos = []playbookInfo{}
					}
					return writeIndented(e.stdout, infos)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tAPPROVAL\tOPTIONS\tFILE\tTITLE")
				for _, p := range infos {
					status := "enabled"
					if !p.Enabled {
						status = "disabled: needs " + strings.Join(p.Missing, ", ")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, status, p.Approval, dash(strings.Join(p.Options, ", ")), p.File, cut(p.Title, 70))
				}
				return tw.Flush()
			})
		},
	}
	var incident, finding string
	test := &cobra.Command{
		Use:   "test FILE (--incident ID | --finding ID)",
		Short: "Dry run: would the playbooks of FILE match the stored record, run on their own or ask, and with what impact? Changes nothing",
		Long: `Test loads the playbook file (every problem is reported with its line),
builds the record of the stored incident or finding as respond does, and
for each playbook says whether its trigger matches, whether it would run on
its own or ask for approval and why, with each step's rendered parameters
and impact. Nothing is executed, stored or audited.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (incident == "") == (finding == "") {
				return usageError{errors.New("playbook test needs one of --incident ID or --finding ID")}
			}
			var inc, fnd []string
			if incident != "" {
				inc = []string{incident}
			} else {
				fnd = []string{finding}
			}
			refs, err := recordRefs(inc, fnd)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				ctx := cmd.Context()
				rec, err := r.record(ctx, c.tenant, refs[0])
				if err != nil {
					return respondErr("record", refs[0].String(), err)
				}
				dry, err := r.eng.Test(ctx, args[0], data, rec)
				if err != nil {
					return err
				}
				if c.output == "json" {
					return writeIndented(e.stdout, dry)
				}
				writeDryRun(e.stdout, rec, dry)
				return nil
			})
		},
	}
	test.Flags().StringVar(&incident, "incident", "", "the stored incident to test against")
	test.Flags().StringVar(&finding, "finding", "", "the stored finding to test against")
	cmd.AddCommand(list, test)
	return cmd
}

// writeDryRun prints a dry run.
func writeDryRun(w io.Writer, rec respond.Record, dry respond.DryRun) {
	fmt.Fprintf(w, "Dry run against %s (risk %d, %s): nothing is executed\n", dry.Record, rec.Risk, rec.Severity)
	if len(rec.Labels) > 0 {
		fmt.Fprintf(w, "Labels: %s\n", strings.Join(rec.Labels, ", "))
	}
	for _, r := range dry.Results {
		fmt.Fprintf(w, "\n%s (%s): ", r.Playbook, r.File)
		switch {
		case r.Error != "" && !r.Matched:
			fmt.Fprintf(w, "trigger error: %s\n", r.Error)
			continue
		case !r.Matched:
			fmt.Fprintln(w, "does not match")
			continue
		}
		fmt.Fprintf(w, "matches: would %s\n  why: %s\n", map[respond.Outcome]string{
			respond.OutcomeAutomatic: "run on its own", respond.OutcomeApproval: "ask for approval", respond.OutcomeError: "not apply (the steps do not fit the record)",
		}[r.Outcome], r.Reason)
		if r.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", r.Error)
		}
		var previews []respond.OptionPreview
		if r.Steps != nil {
			previews = append(previews, *r.Steps)
		}
		previews = append(previews, r.Options...)
		for i, o := range previews {
			fmt.Fprintf(w, "  %s: %s (disruption %s)\n", optionName(r, i, o), o.Title, o.Summary.Disruption)
			for j, s := range o.Steps {
				fmt.Fprintf(w, "    %s (%s) %s", s.ID, s.Action, paramText(s.Params))
				if s.Error != "" {
					fmt.Fprintf(w, " — does not fit: %s", s.Error)
				}
				fmt.Fprintln(w)
				if j < len(o.Impacts) {
					fmt.Fprintf(w, "      %s\n", o.Impacts[j].Summary)
				}
			}
			var affected []string
			for _, a := range o.Summary.Affected {
				affected = append(affected, a.UID)
			}
			if len(affected) > 0 {
				fmt.Fprintf(w, "    affected: %s\n", strings.Join(affected, ", "))
			}
		}
	}
}

func optionName(r respond.DryRunResult, i int, o respond.OptionPreview) string {
	if r.Steps != nil && i == 0 {
		return "steps"
	}
	if r.Steps != nil {
		i--
	}
	return fmt.Sprintf("option %d %s", i+1, o.ID)
}

func paramText(p respond.Params) string {
	if len(p) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p[k]))
	}
	return strings.Join(parts, " ")
}
