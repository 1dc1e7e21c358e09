package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
)

func (e *env) migrateCmd() *cobra.Command {
	var from, to string
	var force bool
	cmd := &cobra.Command{
		Use:   "migrate --from STORE --to STORE [--force]",
		Short: "Copy everything from one store to another (SQLite and PostgreSQL, either way)",
		Long: `Migrate copies every table of the --from store into the --to store: findings
and events with their OCSF documents, API tokens, ingest jobs and the record
of applied bus batches, keeping every id. A store is sqlite:PATH (a Canopy
database file, e.g. sqlite:canopy-data/canopy.db) or a postgres:// URL; the
destination's schema is created if needed.

Stop every Canopy process that writes to the source first. The copy streams
in batches and runs in one destination transaction: if anything fails, the
destination is left as it was. Afterwards the row count of every table is
checked, and any difference is an error.

A destination that already holds rows is refused unless --force is given;
then the rows are added to it, and a row whose key it already holds makes
the whole copy fail. Passwords in URLs are never printed.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return usageError{errors.New("migrate needs --from and --to")}
			}
			if err := checkStoreSpec(from); err != nil {
				return usageError{fmt.Errorf("--from: %w", err)}
			}
			if err := checkStoreSpec(to); err != nil {
				return usageError{fmt.Errorf("--to: %w", err)}
			}
			if sameStore(from, to) {
				return usageError{errors.New("--from and --to name the same store")}
			}
			return e.migrate(cmd.Context(), from, to, force)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "store to copy from: sqlite:PATH or postgres://…")
	cmd.Flags().StringVar(&to, "to", "", "store to copy into: sqlite:PATH or postgres://…")
	cmd.Flags().BoolVar(&force, "force", false, "copy into a destination that already holds rows")
	return cmd
}

// copyStore is a store migrate can copy from and into.
type copyStore interface {
	store.Exporter
	store.Importer
	Close() error
}

// checkStoreSpec validates a store argument without opening it.
func checkStoreSpec(spec string) error {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		if strings.TrimPrefix(spec, "sqlite:") == "" {
			return errors.New("sqlite: needs a path (sqlite:PATH)")
		}
		return nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return nil
	}
	name, _, _ := strings.Cut(spec, ":")
	return fmt.Errorf("unknown store %q: want sqlite:PATH or postgres://…", name)
}

func sameStore(a, b string) bool {
	if strings.HasPrefix(a, "sqlite:") && strings.HasPrefix(b, "sqlite:") {
		pa, errA := filepath.Abs(strings.TrimPrefix(a, "sqlite:"))
		pb, errB := filepath.Abs(strings.TrimPrefix(b, "sqlite:"))
		return errA == nil && errB == nil && pa == pb
	}
	return a == b
}

// storeName is how a store is shown: passwords removed.
func storeName(spec string) string {
	if strings.HasPrefix(spec, "sqlite:") {
		return spec
	}
	return postgres.Redact(spec)
}

// openCopyStore opens a store named by spec; a source must already exist.
func openCopyStore(ctx context.Context, spec string, source bool) (copyStore, error) {
	if path, ok := strings.CutPrefix(spec, "sqlite:"); ok && source {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no SQLite database at %s: %w", path, err)
		}
	}
	if spec == "" {
		return nil, usageError{fmt.Errorf("migrate needs a store: sqlite:PATH or postgres://…")}
	}
	st, err := openStoreSpec(ctx, spec, "")
	if err != nil {
		return nil, err
	}
	cs, ok := st.(copyStore)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("%s cannot be copied", redactSpec(spec))
	}
	return cs, nil
}

// tableCount is what migrate knows about one table.
type tableCount struct {
	table         store.Table
	source        int64 // rows in the source
	copied        int64 // rows exported and loaded
	before, after int64 // rows in the destination
}

// verifyCounts returns an error naming every table whose counts disagree.
func verifyCounts(counts []tableCount) error {
	var bad []string
	for _, c := range counts {
		switch {
		case c.copied != c.source:
			bad = append(bad, fmt.Sprintf("%s: the source holds %d rows but %d were read (was it written to during the copy?)", c.table, c.source, c.copied))
		case c.after-c.before != c.copied:
			bad = append(bad, fmt.Sprintf("%s: %d rows copied but the destination gained %d", c.table, c.copied, c.after-c.before))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("row counts differ: %s", strings.Join(bad, "; "))
	}
	return nil
}

func (e *env) migrate(ctx context.Context, from, to string, force bool) error {
	src, err := openCopyStore(ctx, from, true)
	if err != nil {
		return fmt.Errorf("migrate: opening %s: %w", storeName(from), err)
	}
	defer src.Close()
	dst, err := openCopyStore(ctx, to, false)
	if err != nil {
		return fmt.Errorf("migrate: opening %s: %w", storeName(to), err)
	}
	defer dst.Close()

	before, err := dst.TableCounts(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var held []string
	for _, t := range store.Tables() {
		if before[t] > 0 {
			held = append(held, fmt.Sprintf("%s: %d", t, before[t]))
		}
	}
	if len(held) > 0 && !force {
		return fmt.Errorf("migrate: %s is not empty (%s); use --force to copy into it anyway", storeName(to), strings.Join(held, ", "))
	}

	l, err := dst.Import(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	copied := make(map[store.Table]int64)
	var current store.Table
	err = src.Export(ctx, func(r store.TableRows) error {
		if r.Table != current && current != "" {
			fmt.Fprintf(e.stderr, "canopy: migrate: %s: %d rows\n", current, copied[current])
		}
		current = r.Table
		if err := l.Load(ctx, r); err != nil {
			return err
		}
		copied[r.Table] += int64(r.Len())
		return nil
	})
	if err == nil && current != "" {
		fmt.Fprintf(e.stderr, "canopy: migrate: %s: %d rows\n", current, copied[current])
	}
	if err != nil {
		l.Rollback(ctx)
		return fmt.Errorf("migrate: copying %s to %s (the destination is unchanged): %w", storeName(from), storeName(to), err)
	}
	if err := l.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	srcCounts, err := src.TableCounts(ctx)
	if err != nil {
		return fmt.Errorf("migrate: verifying: %w", err)
	}
	after, err := dst.TableCounts(ctx)
	if err != nil {
		return fmt.Errorf("migrate: verifying: %w", err)
	}
	var counts []tableCount
	var total int64
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSOURCE\tCOPIED\tDESTINATION")
	for _, t := range store.Tables() {
		c := tableCount{table: t, source: srcCounts[t], copied: copied[t], before: before[t], after: after[t]}
		counts = append(counts, c)
		total += c.copied
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", t, c.source, c.copied, c.after)
	}
	tw.Flush()
	if err := verifyCounts(counts); err != nil {
		return fmt.Errorf("migrate: %s to %s: %w", storeName(from), storeName(to), err)
	}
	fmt.Fprintf(e.stdout, "copied %d rows from %s to %s; every table's row count verified\n", total, storeName(from), storeName(to))
	return nil
}
