package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func (e *env) formatsCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "formats",
		Short: "List the input formats and the OCSF classes each maps to",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := ingest.Builtin()
			type row struct {
				Name    string   `json:"name"`
				Title   string   `json:"title"`
				Version int      `json:"version"`
				Classes []string `json:"classes"`
				Notes   string   `json:"notes"`
			}
			var rows []row
			for _, f := range reg.Formats() {
				r := row{Name: f.Name, Title: f.Title, Version: f.Version, Notes: f.Notes}
				for _, c := range f.Classes {
					ci, _ := ocsf.Class(c)
					r.Classes = append(r.Classes, fmt.Sprintf("%s %d", ci.Caption, c))
				}
				rows = append(rows, r)
			}
			if output == "json" {
				b, err := json.MarshalIndent(rows, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, string(b))
				return nil
			}
			if output != "text" {
				return usageError{fmt.Errorf("--output must be text or json")}
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTITLE\tOCSF CLASSES")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.Title, strings.Join(r.Classes, ", "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&output, "output", "text", "output: text or json")
	return cmd
}

func (e *env) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(e.stdout, "canopy %s (OCSF %s)\n", version, ocsf.Version)
			return nil
		},
	}
}
