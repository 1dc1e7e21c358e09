package datagrade

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// NewPostgresSource returns a Source over a PostgreSQL database given by a
// connection string (URL or key=value). The connection is made when Tables
// runs. Everything is read in one REPEATABLE READ, READ ONLY transaction
// with a statement timeout; schemas are discovered through
// information_schema (base tables outside pg_catalog, information_schema and
// pg_toast); every column is read as text.
//
// Row counts: the planner's estimate (pg_class.reltuples) when the table
// has been analysed and holds more than ten times the budget's rows,
// otherwise count(*). Sampling: TABLESAMPLE SYSTEM with a percentage aimed
// at three times the budget for tables above ten times the budget (falling
// back to the first rows when the sample comes back empty), else the first
// rows.
func NewPostgresSource(connString string) (Source, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("datagrade: postgres connection string: %w", redactErr(err, connString))
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "localhost"
	}
	uid := "postgres://" + net.JoinHostPort(host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	return &pgSource{cfg: cfg, store: Store{Kind: KindPostgres, UID: uid, Name: cfg.Database, Type: "PostgreSQL"}}, nil
}

// redactErr drops a connection string (and so its password) from an error
// message.
func redactErr(err error, conn string) error {
	if conn == "" || !strings.Contains(err.Error(), conn) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), conn, "<connection string>"))
}

type pgSource struct {
	cfg   *pgx.ConnConfig
	store Store
}

func (s *pgSource) Store() Store { return s.store }
func (s *pgSource) Close() error { return nil }

// pgStatementTimeout bounds every statement of a scan.
const pgStatementTimeout = "60s"

func (s *pgSource) Tables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	b = b.withDefaults()
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.store.UID, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin read-only transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to keep
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '"+pgStatementTimeout+"'"); err != nil {
		return fmt.Errorf("set statement timeout: %w", err)
	}
	tables, err := pgTables(ctx, tx)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, t := range tables {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A savepoint per table: an error (permission denied, timeout)
		// aborts only that table's queries.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		r := pgSample(ctx, sp, t, b.RowsPerTable)
		err = fn(Table{Name: t.display(), Kind: "table"}, r)
		r.close()
		if rbErr := sp.Rollback(ctx); rbErr != nil && err == nil && ctx.Err() == nil {
			err = fmt.Errorf("release savepoint: %w", rbErr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pgTablesQuery lists base tables and their columns, with the planner's row
// estimate (-1 when never analysed).
const pgTablesQuery = `SELECT c.table_schema, c.table_name, c.column_name,
       coalesce((SELECT pc.reltuples::bigint FROM pg_catalog.pg_class pc
                 JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
                 WHERE pn.nspname = c.table_schema AND pc.relname = c.table_name), -1)
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE t.table_type = 'BASE TABLE'
  AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
  AND c.table_schema NOT LIKE 'pg\_toast%'
ORDER BY c.table_schema, c.table_name, c.ordinal_position`

// pgDeniedQuery lists the tables the role may not read: information_schema
// hides them, and a scan must say what it could not see.
const pgDeniedQuery = `SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND NOT has_table_privilege(c.oid, 'SELECT')
ORDER BY 1, 2`

// pgTables lists the readable base tables with their columns, and the
// unreadable ones (denied), sorted by schema and name.
func pgTables(ctx context.Context, tx pgx.Tx) ([]sqlTable, error) {
	rows, err := tx.Query(ctx, pgTablesQuery)
	if err != nil {
		return nil, err
	}
	var out []sqlTable
	for rows.Next() {
		var schema, table, column string
		var est int64
		if err := rows.Scan(&schema, &table, &column, &est); err != nil {
			rows.Close()
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].schema != schema || out[n-1].name != table {
			out = append(out, sqlTable{schema: schema, name: table, estimate: est})
		}
		out[len(out)-1].columns = append(out[len(out)-1].columns, column)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	denied, err := tx.Query(ctx, pgDeniedQuery)
	if err != nil {
		return nil, err
	}
	defer denied.Close()
	seen := map[[2]string]bool{}
	for _, t := range out {
		seen[[2]string{t.schema, t.name}] = true
	}
	for denied.Next() {
		var t sqlTable
		if err := denied.Scan(&t.schema, &t.name); err != nil {
			return nil, err
		}
		if !seen[[2]string{t.schema, t.name}] {
			t.denied = true
			out = append(out, t)
		}
	}
	if err := denied.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b sqlTable) int {
		return cmp.Or(cmp.Compare(a.schema, b.schema), cmp.Compare(a.name, b.name))
	})
	return out, nil
}

// pgCountQuery returns count(*) for t, or "" when the planner's estimate
// is used (analysed and large).
func pgCountQuery(t sqlTable, budget int) string {
	if t.estimate > 10*int64(budget) {
		return ""
	}
	return "SELECT count(*) FROM " + pgx.Identifier{t.schema, t.name}.Sanitize()
}

// pgSampleQuery reads at most n rows of t, every column as text, through
// TABLESAMPLE SYSTEM when t is large.
func pgSampleQuery(t sqlTable, n int, tablesample bool) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{c}.Sanitize())
		b.WriteString("::text")
	}
	b.WriteString(" FROM ")
	b.WriteString(pgx.Identifier{t.schema, t.name}.Sanitize())
	if tablesample && t.estimate > 10*int64(n) {
		pct := min(100, max(0.0001, 300*float64(n)/float64(t.estimate)))
		b.WriteString(" TABLESAMPLE SYSTEM (")
		b.WriteString(strconv.FormatFloat(pct, 'f', -1, 64))
		b.WriteString(")")
	}
	b.WriteString(" LIMIT ")
	b.WriteString(strconv.Itoa(n))
	return b.String()
}

func pgSample(ctx context.Context, tx pgx.Tx, t sqlTable, n int) *pgRows {
	r := &pgRows{cols: t.columns, count: t.estimate, vals: make([]string, len(t.columns))}
	if t.denied {
		r.err = errors.New("permission denied: the role may not SELECT from the table")
		return r
	}
	if q := pgCountQuery(t, n); q != "" {
		if err := tx.QueryRow(ctx, q).Scan(&r.count); err != nil {
			r.err = fmt.Errorf("count: %w", err)
			return r
		}
		r.exact = true
		t.estimate = r.count
	}
	if len(t.columns) == 0 {
		return r
	}
	rows, err := tx.Query(ctx, pgSampleQuery(t, n, true))
	if err != nil {
		r.err = fmt.Errorf("sample: %w", err)
		return r
	}
	r.rows = rows
	r.retry = func() (pgx.Rows, error) { return tx.Query(ctx, pgSampleQuery(t, n, false)) }
	return r
}

// pgRows is Rows over a pgx result read as raw text, without copying.
type pgRows struct {
	rows  pgx.Rows
	retry func() (pgx.Rows, error) // a plain LIMIT when TABLESAMPLE found nothing
	cols  []string
	vals  []string
	count int64
	exact bool
	read  int64
	err   error
}

func (r *pgRows) Next() bool {
	if r.rows == nil || r.err != nil {
		return false
	}
	if !r.rows.Next() {
		r.err = r.rows.Err()
		if r.err == nil && r.read == 0 && r.retry != nil && r.count > 0 {
			r.rows.Close()
			r.rows, r.err = r.retry()
			r.retry = nil
			if r.err == nil {
				return r.Next()
			}
		}
		return false
	}
	r.read++
	for i, b := range r.rows.RawValues() {
		r.vals[i] = bytesView(b)
	}
	return true
}

func (r *pgRows) Columns() []string { return r.cols }
func (r *pgRows) Values() []string  { return r.vals }
func (r *pgRows) Err() error        { return r.err }
func (r *pgRows) Count() (int64, bool) {
	if r.count < r.read {
		return r.read, false
	}
	return r.count, r.exact
}
func (r *pgRows) close() {
	if r.rows != nil {
		r.rows.Close()
	}
}
