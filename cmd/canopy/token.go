package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

func (e *env) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}

	var name, tenant, role string
	create := &cobra.Command{
		Use:   "create --name NAME [--tenant T] [--role admin|analyst|viewer]",
		Short: "Create a token; its secret is printed once and only its hash is stored",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := store.ParseRole(role)
			if err != nil {
				return usageError{err}
			}
			if name == "" {
				return usageError{fmt.Errorf("--name is required")}
			}
			secret, t, err := api.NewToken(name, tenant, r, time.Now())
			if err != nil {
				return usageError{err}
			}
			st, err := e.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.CreateToken(cmd.Context(), t); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, secret)
			fmt.Fprintf(e.stderr, "token %s (%s, tenant %s, role %s) created; the secret above is not shown again\n", t.ID, t.Name, t.Tenant, t.Role)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "a name for the token (required)")
	create.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant whose data the token may see")
	create.Flags().StringVar(&role, "role", "viewer", "role: viewer, analyst or admin")

	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := e.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tTENANT\tROLE\tCREATED\tREVOKED")
			for _, t := range ts {
				rev := ""
				if !t.RevokedAt.IsZero() {
					rev = t.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Tenant, t.Role, t.CreatedAt.Format(time.RFC3339), rev)
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := e.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeToken(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("revoking %s: %w", args[0], err)
			}
			fmt.Fprintf(e.stdout, "token %s revoked\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
