package datagrade

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Options configures a [Scanner]. The zero value is valid.
type Options struct {
	// Budget bounds what a scan reads; zero fields take their defaults.
	Budget Budget
	// Categories are the categories reported; default [BuiltinCategories].
	Categories *Categories
	// Logger receives progress at debug level and per-table problems at
	// warn level: store, table and column names and counts, never values.
	// Default: discard.
	Logger *slog.Logger
	// Now returns the current time, used for scan times and to reject
	// birth dates in the future. Default time.Now.
	Now func() time.Time
}

// Scanner samples the tables of a [Source] and reports the categories of
// data it finds. A Scanner is safe for concurrent use; each Scan is
// independent.
type Scanner struct {
	budget Budget
	cats   *Categories
	log    *slog.Logger
	now    func() time.Time
}

// NewScanner returns a Scanner with opts' defaults applied.
func NewScanner(opts Options) (*Scanner, error) {
	s := &Scanner{budget: opts.Budget.withDefaults(), cats: opts.Categories, log: opts.Logger, now: opts.Now}
	if s.cats == nil {
		var err error
		if s.cats, err = builtinCategories(); err != nil {
			return nil, fmt.Errorf("datagrade: %w", err)
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Budget returns the scanner's budget, defaults applied.
func (s *Scanner) Budget() Budget { return s.budget }

// Scan samples every table of src (up to the budget) and returns what it
// found. A table that cannot be read is recorded in the result's Problems
// and in its TableResult.Error; an error reaching the store, or ctx ending,
// stops the scan with an error.
func (s *Scanner) Scan(ctx context.Context, src Source) (*Result, error) {
	store := src.Store()
	res := &Result{Store: store, Started: s.now().UTC(), Budget: s.budget}
	cls := &classifier{cats: s.cats, env: newEnv(res.Started), maxValue: s.budget.MaxValueBytes}
	log := s.log.With("store", store.UID)
	log.Debug("datagrade: scan started", "kind", store.Kind)
	tables := 0
	err := src.Tables(ctx, s.budget, func(t Table, rows Rows) error {
		if tables >= s.budget.MaxTables {
			res.Skipped++
			return nil
		}
		tables++
		acc := cls.newTable()
		for acc.rows < s.budget.RowsPerTable && rows.Next() {
			acc.row(rows.Columns(), rows.Values())
			if acc.rows%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		// columns known only from the header (no rows)
		if cols := rows.Columns(); len(cols) > 0 {
			acc.column(len(cols)-1, cols)
		}
		n, exact := rows.Count()
		tr := acc.finish(t.Name, t.Kind, n, exact, t.SizeBytes, t.Scale)
		if err := rows.Err(); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			tr.Error = err.Error()
			res.Problems = append(res.Problems, (&TableError{Table: t.Name, Err: err}).Error())
			log.Warn("datagrade: table not read completely", "table", t.Name, "err", err)
		}
		log.Debug("datagrade: table scanned", "table", t.Name, "sampled_rows", tr.SampledRows, "estimated_rows", tr.EstimatedRows, "categories", len(tr.Hits))
		res.Tables = append(res.Tables, tr)
		return nil
	})
	res.Finished = s.now().UTC()
	if err != nil {
		return nil, fmt.Errorf("datagrade: scan %s: %w", store.UID, err)
	}
	if res.Skipped > 0 {
		log.Warn("datagrade: tables skipped by the budget", "skipped", res.Skipped, "max_tables", s.budget.MaxTables)
	}
	log.Debug("datagrade: scan finished", "tables", len(res.Tables))
	return res, nil
}
