package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
)

// respondCommon are the flags every response command shares: the tenant,
// the clock and the output.
type respondCommon struct {
	tenant, at, output string
}

func (c *respondCommon) add(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&c.tenant, "tenant", pipeline.DefaultTenant, "tenant")
	fl.StringVar(&c.output, "output", "table", "table or json")
	nowFlag(fl, &c.at)
}

// withResponder opens the store, builds the responder on the --now clock
// and calls fn.
func (e *env) withResponder(ctx context.Context, c *respondCommon, fn func(r *responder) error) error {
	if c.output != "table" && c.output != "json" {
		return usageError{fmt.Errorf("--output must be table or json, not %q", c.output)}
	}
	now, err := clockFlag(c.at)
	if err != nil {
		return err
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := e.responder(st, now)
	if err != nil {
		return err
	}
	return fn(r)
}

// respondErr turns the engine's sentinel errors into messages that say
// what to do.
func respondErr(what, id string, err error) error {
	lists := map[string]string{"approval": "approvals list", "run": "actions list", "case": "cases list", "record": "incidents, canopy findings"}
	switch {
	case errors.Is(err, respond.ErrNotFound):
		return fmt.Errorf("no %s %s (see canopy %s)", what, id, lists[what])
	case errors.Is(err, respond.ErrUnknownOption):
		return usageError{err}
	}
	return err
}

// approvalsCmd builds `canopy approvals list|show|approve|reject`.
func (e *env) approvalsCmd() *cobra.Command {
	var c respondCommon
	cmd := &cobra.Command{Use: "approvals", Short: "Responses waiting for approval, with the impact of each option: list, show, approve, reject"}
	c.add(cmd)
	var state string
	list := &cobra.Command{
		Use:   "list [--state pending|approved|rejected|executed|failed]",
		Short: "List approvals, oldest first",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				as, err := r.eng.Approvals(cmd.Context(), respond.ApprovalFilter{Tenant: c.tenant, State: respond.ApprovalState(state)})
				if err != nil {
					return err
				}
				if c.output == "json" {
					if as == nil {
						as = []respond.Approval{}
					}
					return writeIndented(e.stdout, as)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATE\tPLAYBOOK\tRECORD\tRISK\tOPTIONS\tCREATED\tDECIDED BY")
				for _, a := range as {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", a.ID, a.State, a.Playbook, a.Record.Ref(), a.Record.Risk,
						strings.Join(optionList(a.Options), ", "), a.Created.Format(time.RFC3339), a.DecidedBy)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&state, "state", "", "only approvals in this state: pending, approved, rejected, executed, failed")

	show := &cobra.Command{
		Use:   "show APPROVAL_ID",
		Short: "Show an approval: the record, why it needs approval, and each option's steps and impact",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				a, err := r.eng.Approval(cmd.Context(), c.tenant, args[0])
				if err != nil {
					return respondErr("approval", args[0], err)
				}
				if c.output == "json" {
					return writeIndented(e.stdout, a)
				}
				writeApproval(e.stdout, a)
				return nil
			})
		},
	}

	var option, by, note string
	approve := &cobra.Command{
		Use:   "approve APPROVAL_ID --option N --by NAME [--note TEXT]",
		Short: "Approve one option (its number or id) and run its steps as previewed; the approver is audited",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if option == "" || by == "" {
				return usageError{errors.New("approvals approve needs --option (number or id) and --by (who approves)")}
			}
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				ctx := cmd.Context()
				a, err := r.eng.Approval(ctx, c.tenant, args[0])
				if err != nil {
					return respondErr("approval", args[0], err)
				}
				opt, err := pickOption(a, option)
				if err != nil {
					return err
				}
				run, err := r.eng.Approve(ctx, c.tenant, a.ID, opt, by, note)
				if run.ID == "" {
					return respondErr("approval", args[0], err)
				}
				return e.reportRun(c.output, fmt.Sprintf("approval %s: option %s approved by %s", a.ID, opt, by), run, err)
			})
		},
	}
	approve.Flags().StringVar(&option, "option", "", "the option: its number (1, 2 …) or its id")
	approve.Flags().StringVar(&by, "by", "", "who approves")
	approve.Flags().StringVar(&note, "note", "", "a note for the audit trail")

	var rby, reason string
	reject := &cobra.Command{
		Use:   "reject APPROVAL_ID --by NAME --reason TEXT",
		Short: "Reject an approval: nothing is changed, and the rejection is audited",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rby == "" || reason == "" {
				return usageError{errors.New("approvals reject needs --by (who rejects) and --reason")}
			}
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				a, err := r.eng.Reject(cmd.Context(), c.tenant, args[0], rby, reason)
				if err != nil {
					return respondErr("approval", args[0], err)
				}
				if c.output == "json" {
					return writeIndented(e.stdout, a)
				}
				fmt.Fprintf(e.stdout, "approval %s rejected by %s: %s\n", a.ID, rby, reason)
				return nil
			})
		},
	}
	reject.Flags().StringVar(&rby, "by", "", "who rejects")
	reject.Flags().StringVar(&reason, "reason", "", "why")
	cmd.AddCommand(list, show, approve, reject)
	return cmd
}

func optionList(os []respond.OptionPreview) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = fmt.Sprintf("%d %s", i+1, o.ID)
	}
	return out
}

// pickOption reads --option: a number from 1, or an option's id.
func pickOption(a respond.Approval, v string) (string, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n < 1 || n > len(a.Options) {
			return "", usageError{fmt.Errorf("--option %d: approval %s has options 1 to %d", n, a.ID, len(a.Options))}
		}
		return a.Options[n-1].ID, nil
	}
	for _, o := range a.Options {
		if o.ID == v {
			return v, nil
		}
	}
	return "", usageError{fmt.Errorf("--option %q: approval %s offers %s", v, a.ID, strings.Join(optionList(a.Options), ", "))}
}

// writeApproval prints an approval with each option's impact.
func writeApproval(w io.Writer, a respond.Approval) {
	fmt.Fprintf(w, "Approval %s  %s\n", a.ID, a.State)
	fmt.Fprintf(w, "Record:   %s  risk %d  %s  %s\n", a.Record.Ref(), a.Record.Risk, a.Record.Severity, a.Record.Title)
	fmt.Fprintf(w, "Playbook: %s\n", a.Playbook)
	fmt.Fprintf(w, "Why:      %s\n", a.Reason)
	if a.Case != "" {
		fmt.Fprintf(w, "Case:     %s\n", a.Case)
	}
	if a.DecidedBy != "" {
		what := "approved option " + a.Option
		if a.State == respond.ApprovalRejected {
			what = "rejected"
		}
		fmt.Fprintf(w, "Decided:  %s by %s at %s", what, a.DecidedBy, a.Decided.Format(time.RFC3339))
		if a.Note != "" {
			fmt.Fprintf(w, ": %s", a.Note)
		}
		fmt.Fprintln(w)
	}
	if a.Run != "" {
		fmt.Fprintf(w, "Run:      %s (canopy actions show %s)\n", a.Run, a.Run)
	}
	for i, o := range a.Options {
		fmt.Fprintf(w, "\nOption %d: %s — %s\n", i+1, o.ID, o.Title)
		if o.Description != "" {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(o.Description))
		}
		if err := o.Error(); err != nil {
			fmt.Fprintf(w, "  cannot be applied: %v\n", err)
		}
		reversible := "yes"
		if !o.Summary.Reversible {
			reversible = "no (some steps cannot be undone)"
		}
		fmt.Fprintf(w, "  Disruption: %s   Reversible: %s\n", o.Summary.Disruption, reversible)
		var approvers []string
		for _, ap := range o.Summary.Approvers {
			approvers = append(approvers, ap.String())
		}
		fmt.Fprintf(w, "  Approved by: %s\n", strings.Join(approvers, ", "))
		if len(o.Summary.Services) > 0 {
			fmt.Fprintf(w, "  Services: %s\n", strings.Join(o.Summary.Services, ", "))
		}
		fmt.Fprintln(w, "  Affected assets:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, as := range o.Summary.Affected {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\n", as.UID, dash(as.Type), dash(cut(as.Name, 40)), dash(string(as.Tier)), dash(as.Service), as.Why)
		}
		tw.Flush()
		fmt.Fprintln(w, "  Steps:")
		for j, s := range o.Steps {
			fmt.Fprintf(w, "    %d. %s (%s)", j+1, s.ID, s.Action)
			if s.Error != "" {
				fmt.Fprintf(w, ": does not fit the record: %s", s.Error)
			}
			fmt.Fprintln(w)
			if j < len(o.Impacts) {
				im := o.Impacts[j]
				fmt.Fprintf(w, "       %s\n", im.Summary)
				fmt.Fprintf(w, "       disruption %s; rollback: %s\n", im.Disruption, dash(im.Rollback))
				for _, n := range im.Notes {
					fmt.Fprintf(w, "       note: %s\n", n)
				}
			}
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// reportRun prints a run after approve, resume or rollback; a failed step
// is reported with how to go on, and makes the command fail.
func (e *env) reportRun(output, head string, run respond.Run, err error) error {
	if output == "json" {
		if werr := writeIndented(e.stdout, run); werr != nil {
			return werr
		}
	} else {
		fmt.Fprintln(e.stdout, head)
		writeRun(e.stdout, run)
	}
	if err == nil {
		return nil
	}
	var se *respond.StepError
	if errors.As(err, &se) {
		hint := "canopy actions resume " + run.ID + " once the cause is fixed, or canopy actions rollback " + run.ID
		if run.State == respond.RunRollbackFailed {
			hint = "canopy actions rollback " + run.ID + " again once the cause is fixed"
		}
		return fmt.Errorf("%w (%s)", err, hint)
	}
	return err
}

// writeRun prints a run and its steps.
func writeRun(w io.Writer, r respond.Run) {
	fmt.Fprintf(w, "Run %s  %s  (%s by %s; playbook %s", r.ID, r.State, r.Mode, r.Actor, r.Playbook)
	if r.Option != "" {
		fmt.Fprintf(w, ", option %s", r.Option)
	}
	fmt.Fprintf(w, "; record %s)\n", r.Record)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, s := range r.Steps {
		what := ""
		if s.Result != nil {
			what = s.Result.Summary
		}
		if s.Error != "" {
			what = strings.TrimSpace(what + " error: " + s.Error)
		}
		fmt.Fprintf(tw, "  %d.\t%s\t%s\t%s\t%s\n", i+1, s.ID, s.Action, s.State, what)
	}
	tw.Flush()
}

// actionsCmd builds `canopy actions list|show|resume|rollback`.
func (e *env) actionsCmd() *cobra.Command {
	var c respondCommon
	cmd := &cobra.Command{Use: "actions", Short: "Runs of playbook steps, automatic or approved: list, show, resume, roll back"}
	c.add(cmd)
	var state, record string
	list := &cobra.Command{
		Use:   "list [--state running|completed|failed|rolled_back|rollback_failed] [--record incident:ID|finding:ID]",
		Short: "List runs, oldest first",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ref respond.Ref
			if record != "" {
				var err error
				if ref, err = respond.ParseRef(record); err != nil {
					return usageError{err}
				}
			}
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				runs, err := r.eng.Runs(cmd.Context(), respond.RunFilter{Tenant: c.tenant, State: respond.RunState(state), Record: ref})
				if err != nil {
					return err
				}
				if c.output == "json" {
					if runs == nil {
						runs = []respond.Run{}
					}
					return writeIndented(e.stdout, runs)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATE\tMODE\tPLAYBOOK\tOPTION\tRECORD\tACTOR\tSTEPS DONE\tUPDATED")
				for _, run := range runs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", run.ID, run.State, run.Mode, run.Playbook, dash(run.Option), run.Record,
						run.Actor, len(run.Completed()), len(run.Steps), run.Updated.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&state, "state", "", "only runs in this state")
	list.Flags().StringVar(&record, "record", "", "only runs for this record")

	show := &cobra.Command{
		Use:   "show RUN_ID",
		Short: "Show a run: each step's state, result and error",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				run, err := r.eng.Run(cmd.Context(), c.tenant, args[0])
				if err != nil {
					return respondErr("run", args[0], err)
				}
				if c.output == "json" {
					return writeIndented(e.stdout, run)
				}
				writeRun(e.stdout, run)
				if f, ok := run.Failed(); ok && run.State == respond.RunFailed {
					fmt.Fprintf(e.stdout, "\nStep %s failed; nothing after it ran. canopy actions resume %s retries it, canopy actions rollback %s reverses what was done.\n", f.ID, run.ID, run.ID)
				}
				return nil
			})
		},
	}

	var by string
	resume := &cobra.Command{
		Use:   "resume RUN_ID [--by NAME]",
		Short: "Resume a failed (or interrupted) run: retry the failed step with the same idempotency key, then the rest",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				run, err := r.eng.Resume(cmd.Context(), c.tenant, args[0], by)
				if run.ID == "" {
					return respondErr("run", args[0], err)
				}
				return e.reportRun(c.output, "run "+run.ID+" resumed by "+by, run, err)
			})
		},
	}
	resume.Flags().StringVar(&by, "by", actor(), "who resumes")
	var rby string
	rollback := &cobra.Command{
		Use:   "rollback RUN_ID [--by NAME]",
		Short: "Roll a run back: reverse its changes in reverse order (notices and tickets cannot be; they are listed)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withResponder(cmd.Context(), &c, func(r *responder) error {
				run, err := r.eng.Rollback(cmd.Context(), c.tenant, args[0], rby)
				if run.ID == "" {
					return respondErr("run", args[0], err)
				}
				return e.reportRun(c.output, "run "+run.ID+" rolled back by "+rby, run, err)
			})
		},
	}
	rollback.Flags().StringVar(&rby, "by", actor(), "who rolls back")
	cmd.AddCommand(list, show, resume, rollback)
	return cmd
}
