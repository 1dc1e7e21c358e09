package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/responsibility"
	"github.com/canopy-sec/canopy/internal/store"
)

// contractCmd builds `canopy contract set|show`.
func (e *env) contractCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "contract", Short: "A tenant's contract with its security vendors: which duties move to them"}
	var tenant string
	set := &cobra.Command{
		Use:   "set [--tenant T] FILE",
		Short: "Check and store the tenant's contract (YAML); run canopy correlate --rebuild to re-attribute stored findings",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			a, err := responsibility.New(responsibility.Options{})
			if err != nil {
				return err
			}
			c, err := responsibility.ParseContract(filepath.Base(args[0]), bytes.NewReader(doc), a.Matrix())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.PutContract(ctx, tenant, filepath.Base(args[0]), doc); err != nil {
				return err
			}
			if err := e.record(ctx, st, tenant, audit.ActionContractChanged, "contract:"+tenant,
				map[string]any{"file": filepath.Base(args[0]), "sha256": sha256Hex(doc)}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "contract %s stored for tenant %s: %d vendors\n", filepath.Base(args[0]), tenant, len(c.Vendors))
			return nil
		},
	}
	set.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	var stenant string
	show := &cobra.Command{
		Use:   "show [--tenant T]",
		Short: "Print the tenant's stored contract",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			_, doc, err := st.Contract(ctx, stenant)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("tenant %s has no contract (canopy contract set FILE)", stenant)
			}
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(doc)
			return err
		},
	}
	show.Flags().StringVar(&stenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.AddCommand(set, show)
	return cmd
}
