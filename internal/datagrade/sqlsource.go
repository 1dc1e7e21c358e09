package datagrade

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// sqlDialect is what differs between the database/sql stores (SQLite,
// MySQL): how tables are listed, counted and sampled.
type sqlDialect interface {
	// tables lists the tables to scan with their row estimates (-1 when
	// the catalogue has none).
	tables(ctx context.Context, tx *sql.Tx) ([]sqlTable, error)
	// count returns a query that counts a table's rows exactly, or "" when
	// the estimate must do.
	count(t sqlTable, budget int) string
	// sample returns the query that reads at most n rows of t; t.estimate
	// is the exact count when count gave a query.
	sample(t sqlTable, n int) string
	// fallback returns a plainer sampling query to try when sample fails
	// (for example an SQLite table without rowid), or "".
	fallback(t sqlTable, n int) string
}

// sqlTable is a table of a database/sql store.
type sqlTable struct {
	schema, name string
	estimate     int64 // -1 unknown
	columns      []string
	denied       bool // listed in the catalogue but not readable
}

func (t sqlTable) display() string {
	if t.schema == "" {
		return t.name
	}
	return t.schema + "." + t.name
}

// sqlSource reads a database/sql store in one read-only transaction.
type sqlSource struct {
	db      *sql.DB
	store   Store
	dialect sqlDialect
	txOpts  *sql.TxOptions
}

func (s *sqlSource) Store() Store { return s.store }
func (s *sqlSource) Close() error { return s.db.Close() }

func (s *sqlSource) Tables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	b = b.withDefaults()
	tx, err := s.db.BeginTx(ctx, s.txOpts)
	if err != nil {
		return fmt.Errorf("begin read-only transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	tables, err := s.dialect.tables(ctx, tx)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, t := range tables {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows := s.sampleTable(ctx, tx, t, b.RowsPerTable)
		err := fn(Table{Name: t.display(), Kind: "table"}, rows)
		rows.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// sampleTable counts (or estimates) t's rows and opens its sample.
func (s *sqlSource) sampleTable(ctx context.Context, tx *sql.Tx, t sqlTable, n int) *sqlRows {
	r := &sqlRows{count: t.estimate}
	if q := s.dialect.count(t, n); q != "" {
		if err := tx.QueryRowContext(ctx, q).Scan(&r.count); err != nil {
			r.err = fmt.Errorf("count: %w", err)
			return r
		}
		r.exact = true
		t.estimate = r.count
	}
	rows, err := tx.QueryContext(ctx, s.dialect.sample(t, n))
	if err != nil {
		if fb := s.dialect.fallback(t, n); fb != "" {
			rows, err = tx.QueryContext(ctx, fb)
		}
		if err != nil {
			r.err = fmt.Errorf("sample: %w", err)
			return r
		}
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		r.err = err
		return r
	}
	r.rows, r.cols = rows, cols
	r.raw = make([]sql.RawBytes, len(cols))
	r.dest = make([]any, len(cols))
	for i := range r.raw {
		r.dest[i] = &r.raw[i]
	}
	r.vals = make([]string, len(cols))
	return r
}

// sqlRows is Rows over a database/sql result, scanning into RawBytes so
// that no value is copied.
type sqlRows struct {
	rows  *sql.Rows
	cols  []string
	raw   []sql.RawBytes
	dest  []any
	vals  []string
	count int64
	exact bool
	read  int64
	err   error
}

func (r *sqlRows) Next() bool {
	if r.rows == nil || r.err != nil || !r.rows.Next() {
		if r.rows != nil && r.err == nil {
			r.err = r.rows.Err()
		}
		return false
	}
	if err := r.rows.Scan(r.dest...); err != nil {
		r.err = err
		return false
	}
	r.read++
	for i, b := range r.raw {
		r.vals[i] = bytesView(b)
	}
	return true
}

// bytesView returns b's bytes as a string without copying; the string is
// valid only as long as b is not modified.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (r *sqlRows) Columns() []string { return r.cols }
func (r *sqlRows) Values() []string  { return r.vals }
func (r *sqlRows) Err() error        { return r.err }
func (r *sqlRows) Count() (int64, bool) {
	if r.count < r.read {
		return r.read, false
	}
	return r.count, r.exact
}
func (r *sqlRows) close() {
	if r.rows != nil {
		r.rows.Close()
	}
}

// NewSQLiteSource returns a Source over an SQLite database file, opened
// read-only (mode=ro, query_only). Every table is counted exactly; tables
// with more than ten times the budget's rows are sampled by rowid stride
// (every k-th row), others read from the start.
func NewSQLiteSource(file string) (Source, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("datagrade: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("datagrade: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(abs)+"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("datagrade: open %s: %w", file, err)
	}
	db.SetMaxOpenConns(1)
	return &sqlSource{db: db, dialect: sqliteDialect{}, store: Store{Kind: KindSQLite, UID: "sqlite://" + filepath.ToSlash(abs), Name: filepath.Base(abs), Type: "SQLite"}}, nil
}

type sqliteDialect struct{}

// sqliteIdent quotes an SQLite identifier.
func sqliteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (sqliteDialect) tables(ctx context.Context, tx *sql.Tx) ([]sqlTable, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqlTable
	for rows.Next() {
		var t sqlTable
		if err := rows.Scan(&t.name); err != nil {
			return nil, err
		}
		t.estimate = -1
		out = append(out, t)
	}
	return out, rows.Err()
}

func (sqliteDialect) count(t sqlTable, _ int) string {
	return "SELECT count(*) FROM " + sqliteIdent(t.name)
}

// sample reads every k-th rowid when the table holds more than ten times n
// rows (t.estimate is the exact count by then), else the first n rows.
func (d sqliteDialect) sample(t sqlTable, n int) string {
	if t.estimate <= 10*int64(n) {
		return d.fallback(t, n)
	}
	return fmt.Sprintf("SELECT * FROM %s WHERE rowid %% %d = 0 LIMIT %d", sqliteIdent(t.name), t.estimate/int64(n), n)
}

func (sqliteDialect) fallback(t sqlTable, n int) string {
	return fmt.Sprintf("SELECT * FROM %s LIMIT %d", sqliteIdent(t.name), n)
}
