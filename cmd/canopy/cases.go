package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/respond"
)

// casesCmd builds `canopy cases list|show|open|transition|assign|comment|handoff|accept|check-sla`.
func (e *env) casesCmd() *cobra.Command {
	var c respondCommon
	cmd := &cobra.Command{Use: "cases", Aliases: []string{"case"}, Short: "Cases: who handles a record, its status, comments and SLA deadlines"}
	c.add(cmd)

	var status string
	var open bool
	list := &cobra.Command{
		Use:   "list [--status S] [--open]",
		Short: "List cases, oldest first, with their SLA position",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				cs, err := r.eng.Cases(cmd.Context(), respond.CaseFilter{Tenant: c.tenant, Status: respond.CaseStatus(status), Open: open})
				if err != nil {
					return err
				}
				if c.output == "json" {
					if cs == nil {
						cs = []respond.Case{}
					}
					return writeIndented(e.stdout, cs)
				}
				now := r.now()
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tPARTY\tASSIGNEE\tRESPOND BY\tRESOLVE BY\tSLA\tRECORDS\tTITLE")
				for _, cs := range cs {
					sla := cs.SLA(now)
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cs.ID, cs.Status, cs.Severity, partyName(cs.Party, cs.PartyName), dash(cs.Assignee),
						sla.RespondBy.Format(time.RFC3339), sla.ResolveBy.Format(time.RFC3339), slaWord(sla), refList(cs.Records), cut(cs.Title, 60))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only cases in this status: new, in_progress, on_hold, resolved, closed")
	list.Flags().BoolVar(&open, "open", false, "only cases that are new, in progress or on hold")

	show := &cobra.Command{
		Use:   "show CASE_ID",
		Short: "Show a case: records, runs, approvals, SLA, comments and history",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				cs, err := r.eng.Case(cmd.Context(), c.tenant, args[0])
				if err != nil {
					return respondErr("case", args[0], err)
				}
				if c.output == "json" {
					return writeIndented(e.stdout, cs)
				}
				writeCase(e.stdout, cs, r.now())
				return nil
			})
		},
	}

	var incident, finding, by string
	openCmd := &cobra.Command{
		Use:   "open (--incident ID | --finding ID) [--by NAME]",
		Short: "Open a case for a stored record (or show the open case that covers it)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (incident == "") == (finding == "") {
				return usageError{errors.New("cases open needs one of --incident ID or --finding ID")}
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
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				rec, err := r.record(cmd.Context(), c.tenant, refs[0])
				if err != nil {
					return respondErr("record", refs[0].String(), err)
				}
				cs, err := r.eng.OpenCase(cmd.Context(), rec, by)
				if err != nil {
					return err
				}
				return e.reportCase(c.output, "case "+cs.ID+" for "+refs[0].String(), cs)
			})
		},
	}
	openCmd.Flags().StringVar(&incident, "incident", "", "the incident")
	openCmd.Flags().StringVar(&finding, "finding", "", "the finding")
	openCmd.Flags().StringVar(&by, "by", actor(), "who opens it")

	var tby, note string
	transition := &cobra.Command{
		Use:   "transition CASE_ID STATUS [--note TEXT] [--by NAME]",
		Short: "Move a case: new → in_progress | on_hold | resolved; in_progress → on_hold | resolved; on_hold → in_progress | resolved; resolved → closed | in_progress",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				cs, err := r.eng.Transition(cmd.Context(), c.tenant, args[0], respond.CaseStatus(args[1]), tby, note)
				if err != nil {
					return respondErr("case", args[0], err)
				}
				return e.reportCase(c.output, fmt.Sprintf("case %s is %s", cs.ID, cs.Status), cs)
			})
		},
	}
	transition.Flags().StringVar(&note, "note", "", "why")
	transition.Flags().StringVar(&tby, "by", actor(), "who moves it")

	var aby string
	assign := &cobra.Command{
		Use:   "assign CASE_ID ASSIGNEE [--by NAME]",
		Short: "Assign a case (\"\" unassigns)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				cs, err := r.eng.Assign(cmd.Context(), c.tenant, args[0], args[1], aby)
				if err != nil {
					return respondErr("case", args[0], err)
				}
				return e.reportCase(c.output, fmt.Sprintf("case %s assigned to %s", cs.ID, dash(cs.Assignee)), cs)
			})
		},
	}
	assign.Flags().StringVar(&aby, "by", actor(), "who assigns")

	var cby string
	comment := &cobra.Command{
		Use:   "comment CASE_ID TEXT [--by NAME]",
		Short: "Comment on a case",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				cs, err := r.eng.Comment(cmd.Context(), c.tenant, args[0], cby, args[1])
				if err != nil {
					return respondErr("case", args[0], err)
				}
				return e.reportCase(c.output, fmt.Sprintf("comment added to case %s", cs.ID), cs)
			})
		},
	}
	comment.Flags().StringVar(&cby, "by", actor(), "who comments")

	var hby, hnote string
	handoff := &cobra.Command{
		Use:   "handoff CASE_ID PARTY [NAME] [--note TEXT] [--by NAME]",
		Short: "Hand a case to another party (provider, customer, vendor and its name); it accepts with canopy cases accept",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usageError{fmt.Errorf("handoff takes CASE_ID PARTY [NAME], got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 3 {
				name = args[2]
			}
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				cs, err := r.eng.Handoff(cmd.Context(), c.tenant, args[0], args[1], name, hby, hnote)
				if err != nil {
					return respondErr("case", args[0], err)
				}
				return e.reportCase(c.output, fmt.Sprintf("case %s handed to %s", cs.ID, partyName(cs.Party, cs.PartyName)), cs)
			})
		},
	}
	handoff.Flags().StringVar(&hnote, "note", "", "a note")
	handoff.Flags().StringVar(&hby, "by", actor(), "who hands it off")

	var acby string
	accept := &cobra.Command{
		Use:   "accept CASE_ID [--by NAME]",
		Short: "Accept a case handed to your party",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				cs, err := r.eng.Accept(cmd.Context(), c.tenant, args[0], acby)
				if err != nil {
					return respondErr("case", args[0], err)
				}
				return e.reportCase(c.output, fmt.Sprintf("case %s accepted by %s", cs.ID, acby), cs)
			})
		},
	}
	accept.Flags().StringVar(&acby, "by", actor(), "who accepts")

	check := &cobra.Command{
		Use:   "check-sla [--now T]",
		Short: "Record the SLA deadlines the tenant's cases passed (each once); serve does this on its own",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				bs, err := r.eng.CheckSLA(cmd.Context(), c.tenant)
				if c.output == "json" {
					if bs == nil {
						bs = []respond.Breach{}
					}
					if werr := writeIndented(e.stdout, bs); werr != nil {
						return werr
					}
					return err
				}
				for _, b := range bs {
					fmt.Fprintf(e.stdout, "case %s: %s SLA breached (due %s)\n", b.Case, b.SLA, b.Due.Format(time.RFC3339))
				}
				fmt.Fprintf(e.stdout, "%d new SLA breaches\n", len(bs))
				return err
			})
		},
	}
	cmd.AddCommand(list, show, openCmd, transition, assign, comment, handoff, accept, check)
	return cmd
}

func (r *responder) now() time.Time { return r.eng.Now() }

func partyName(party, name string) string {
	if name == "" {
		return party
	}
	return party + ":" + name
}

func slaWord(s respond.SLAStatus) string {
	switch {
	case s.RespondBreached && s.ResolveBreached:
		return "respond+resolve breached"
	case s.RespondBreached:
		return "respond breached"
	case s.ResolveBreached:
		return "resolve breached"
	}
	return "ok"
}

func refList(refs []respond.Ref) string {
	var s []string
	for _, r := range refs {
		s = append(s, r.String())
	}
	return strings.Join(s, ",")
}

func (e *env) reportCase(output, head string, cs respond.Case) error {
	if output == "json" {
		return writeIndented(e.stdout, cs)
	}
	fmt.Fprintln(e.stdout, head)
	return nil
}

// writeCase prints a case.
func writeCase(w io.Writer, c respond.Case, now time.Time) {
	sla := c.SLA(now)
	fmt.Fprintf(w, "Case %s  %s  %s\n%s\n", c.ID, c.Status, c.Severity, c.Title)
	fmt.Fprintf(w, "Party: %s   Assignee: %s\n", partyName(c.Party, c.PartyName), dash(c.Assignee))
	fmt.Fprintf(w, "Records: %s\n", refList(c.Records))
	if len(c.Approvals) > 0 {
		fmt.Fprintf(w, "Approvals: %s\n", strings.Join(c.Approvals, ", "))
	}
	if len(c.Runs) > 0 {
		fmt.Fprintf(w, "Runs: %s\n", strings.Join(c.Runs, ", "))
	}
	fmt.Fprintf(w, "Opened %s; respond by %s; resolve by %s; SLA %s\n", c.Opened.Format(time.RFC3339), sla.RespondBy.Format(time.RFC3339),
		sla.ResolveBy.Format(time.RFC3339), slaWord(sla))
	if len(c.Comments) > 0 {
		fmt.Fprintln(w, "\nComments:")
		for _, cm := range c.Comments {
			fmt.Fprintf(w, "  %s %s: %s\n", cm.At.Format(time.RFC3339), cm.By, cm.Text)
		}
	}
	fmt.Fprintln(w, "\nHistory:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, h := range c.History {
		change := h.To
		if h.From != "" {
			change = h.From + " → " + h.To
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", h.At.Format(time.RFC3339), h.By, h.What, change, h.Note)
	}
	tw.Flush()
}

// writeResponseKPIs prints the response KPIs.
func writeResponseKPIs(w io.Writer, k respond.KPIReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Cases opened\t%d\n", k.Cases)
	fmt.Fprintf(tw, "MTTA (open → acknowledged)\tmean %s\tmedian %s\tp90 %s\t(%d cases)\n", dur(k.MTTA.Mean), dur(k.MTTA.Median), dur(k.MTTA.P90), k.MTTA.Count)
	fmt.Fprintf(tw, "MTTR (open → resolved)\tmean %s\tmedian %s\tp90 %s\t(%d cases)\n", dur(k.MTTR.Mean), dur(k.MTTR.Median), dur(k.MTTR.P90), k.MTTR.Count)
	fmt.Fprintf(tw, "Respond SLA attainment\t%.0f%%\t%d met\t%d breached\n", 100*k.RespondSLA.Rate, k.RespondSLA.Met, k.RespondSLA.Breached)
	fmt.Fprintf(tw, "Resolve SLA attainment\t%.0f%%\t%d met\t%d breached\n", 100*k.ResolveSLA.Rate, k.ResolveSLA.Met, k.ResolveSLA.Breached)
	fmt.Fprintf(tw, "Automation rate\t%.0f%%\t%d automatic\t%d approved\n", 100*k.Automation.Rate, k.Automation.Automatic, k.Automation.Approved)
	for _, h := range k.Handoffs {
		fmt.Fprintf(tw, "Handoff %s → %s\tmedian %s\tp90 %s\t(%d accepted, %d waiting)\n", h.From, h.To, dur(h.Latency.Median), dur(h.Latency.P90), h.Latency.Count, h.Waiting)
	}
	return tw.Flush()
}

// responseKPIs computes the response KPIs from the tenant's audit chain,
// for entries at or after since (zero: all).
func responseKPIs(entries func(yield func(audit.Entry, error) bool), since time.Time) (respond.KPIReport, error) {
	return respond.KPIs(func(yield func(audit.Entry, error) bool) {
		for e, err := range entries {
			if err == nil && e.Time.Before(since) {
				continue
			}
			if !yield(e, err) {
				return
			}
		}
	})
}
