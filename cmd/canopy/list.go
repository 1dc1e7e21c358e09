package main

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

// listCmd builds `canopy findings` and `canopy events`.
func (e *env) listCmd(what string) *cobra.Command {
	var tenant, severity, source, class, output, sortBy, party string
	var limit int
	events := what == "events"
	order := "most severe first"
	if events {
		order = "newest first"
	}
	cmd := &cobra.Command{
		Use:   what + " [flags]",
		Short: "List stored " + what + " (" + order + ")",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "table", "json", "ocsf":
			default:
				return usageError{fmt.Errorf("--output must be table, json or ocsf, not %q", output)}
			}
			if limit < 0 {
				return usageError{fmt.Errorf("--limit must be 0 (all) or more")}
			}
			q, err := api.ParseQuery(tenant, severity, source, class, "")
			if err != nil {
				return usageError{err}
			}
			if q.ByRisk, err = sortFlag(sortBy); err != nil {
				return err
			}
			if q.Party, err = partyFlag(party); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if q.ByRisk || q.Party != "" {
				if _, err := e.correlate(ctx, st, tenant, false); err != nil {
					return err
				}
			}
			w := bufio.NewWriter(e.stdout)
			defer w.Flush()
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			if output == "table" {
				if events {
					fmt.Fprintln(tw, "ID\tSEVERITY\tCLASS\tSOURCE\tTITLE\tRESOURCE\tCOUNT\tLAST SEEN")
				} else {
					fmt.Fprintln(tw, "ID\tSEVERITY\tCLASS\tSOURCE\tTITLE\tRESOURCE\tPARTY\tCOUNT\tLAST SEEN")
				}
			}
			if output == "json" {
				w.WriteString("[")
			}
			n := 0
			for {
				q.Limit = store.MaxPage
				if limit > 0 {
					q.Limit = min(store.MaxPage, limit-n)
				}
				var page store.Page
				if events {
					page, err = st.Events(ctx, q)
				} else {
					page, err = st.Findings(ctx, q)
				}
				if err != nil {
					return err
				}
				var outs []api.RecordOut
				if output == "json" {
					if outs, err = api.WithSources(ctx, st, tenant, page.Records); err != nil {
						return err
					}
				}
				for i, r := range page.Records {
					switch output {
					case "table":
						ci, _ := ocsf.Class(r.ClassUID)
						party := ""
						if !events {
							party = "\t" + r.Party
						}
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s%s\t%d\t%s\n", r.ID, ocsf.SeverityName(r.SeverityID), classShort(ci, r.ClassUID),
							r.Product, cut(r.Title, 60), cut(r.ResourceUID, 40), party, r.Count, r.LastSeen.Format(time.RFC3339))
					case "json":
						b, err := json.Marshal(outs[i])
						if err != nil {
							return err
						}
						if n > 0 {
							w.WriteString(",")
						}
						w.WriteString("\n  ")
						w.Write(b)
					case "ocsf":
						w.Write(r.OCSF)
						w.WriteString("\n")
					}
					n++
				}
				if page.Next.IsZero() || (limit > 0 && n >= limit) {
					break
				}
				q.After = page.Next
			}
			switch output {
			case "json":
				if n > 0 {
					w.WriteString("\n")
				}
				w.WriteString("]\n")
			case "table":
				tw.Flush()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant to list")
	cmd.Flags().StringVar(&severity, "severity", "", "only these severities, comma-separated (informational, low, medium, high, critical)")
	cmd.Flags().StringVar(&source, "source", "", "only records from these products, comma-separated (e.g. Trivy, Prowler)")
	if events {
		cmd.Flags().StringVar(&class, "class", "", "only these classes: api_activity, authentication, network_activity, http_activity, dns_activity, process_activity")
	} else {
		cmd.Flags().StringVar(&class, "class", "", "only these classes: vulnerability, compliance, detection, data_security, app_security")
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many (0 = all)")
	cmd.Flags().StringVar(&output, "output", "table", "output: table, json (records with Canopy's fields) or ocsf (JSON Lines of pure OCSF)")
	if what == "findings" {
		cmd.Flags().StringVar(&sortBy, "sort", "severity", "order: severity (most severe first) or risk (their issue's risk score, riskiest first)")
		cmd.Flags().StringVar(&party, "party", "", "only findings this party must act on: provider, customer, vendor or shared")
	}
	return cmd
}

func classShort(ci ocsf.ClassInfo, uid int) string {
	if ci.Caption == "" {
		return fmt.Sprint(uid)
	}
	return strings.TrimSuffix(ci.Caption, " Finding")
}

func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// issuesCmd builds `canopy issues`.
// partyFlag reads --party.
func partyFlag(v string) (string, error) {
	switch v {
	case "", "provider", "customer", "vendor", "shared":
		return v, nil
	}
	return "", usageError{fmt.Errorf("--party must be provider, customer, vendor or shared, not %q", v)}
}

// partyOf reads the party of a stored attribution.
func partyOf(doc []byte) string {
	var a struct{ Party string }
	if json.Unmarshal(doc, &a) != nil {
		return ""
	}
	return a.Party
}

// sortFlag reads --sort.
func sortFlag(v string) (byRisk bool, err error) {
	switch v {
	case "", "severity":
		return false, nil
	case "risk":
		return true, nil
	}
	return false, usageError{fmt.Errorf("--sort must be severity or risk, not %q", v)}
}

func (e *env) issuesCmd() *cobra.Command {
	var tenant, severity, source, class, output, sortBy, party string
	var limit int
	cmd := &cobra.Command{
		Use:   "issues [flags]",
		Short: "List issues: findings grouped across tools by what they are about (most severe first)",
		Long: `An issue is what several findings say about one thing: the same CVE in the
same package of the same image (by digest) from several scanners, the same
control failing on the same resource, or one rule's repeated alerts about one
entity within an hour. Each finding stays intact; the issue lists its sources.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("--output must be table or json, not %q", output)}
			}
			if limit < 0 {
				return usageError{fmt.Errorf("--limit must be 0 (all) or more")}
			}
			q, err := api.ParseQuery(tenant, severity, source, class, "")
			if err != nil {
				return usageError{err}
			}
			if q.ByRisk, err = sortFlag(sortBy); err != nil {
				return err
			}
			if q.Party, err = partyFlag(party); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := e.correlate(ctx, st, tenant, false); err != nil {
				return err
			}
			var all []api.Issue
			for offset := 0; ; {
				q.Limit = store.MaxPage
				if limit > 0 {
					q.Limit = min(store.MaxPage, limit-len(all))
				}
				page, err := api.ListIssues(ctx, st, q, offset)
				if err != nil {
					return err
				}
				all = append(all, page...)
				offset += len(page)
				if len(page) < q.Limit || (limit > 0 && len(all) >= limit) {
					break
				}
			}
			if output == "json" {
				if all == nil {
					all = []api.Issue{}
				}
				b, err := json.MarshalIndent(all, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, string(b))
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RISK\tSEVERITY\tPARTY\tSOURCES\tFINDINGS\tCOUNT\tTITLE\tISSUE KEY")
			for _, is := range all {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", is.Risk.Score, is.Severity, partyOf(is.Responsibility), strings.Join(is.Sources, ","), is.Findings, is.Count, cut(is.Title, 50), cut(is.Key, 70))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant to list")
	cmd.Flags().StringVar(&severity, "severity", "", "only issues with findings of these severities, comma-separated")
	cmd.Flags().StringVar(&source, "source", "", "only findings from these products, comma-separated")
	cmd.Flags().StringVar(&class, "class", "", "only these finding classes: vulnerability, compliance, detection …")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many (0 = all)")
	cmd.Flags().StringVar(&output, "output", "table", "output: table or json")
	cmd.Flags().StringVar(&sortBy, "sort", "severity", "order: severity (most severe first) or risk (riskiest first)")
	cmd.Flags().StringVar(&party, "party", "", "only issues whose findings this party must act on: provider, customer, vendor or shared")
	return cmd
}
