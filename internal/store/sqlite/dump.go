package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

var (
	_ store.Exporter = (*Store)(nil)
	_ store.Importer = (*Store)(nil)
)

// Export batches are flushed at whichever limit comes first.
const (
	exportRows  = 1000
	exportBytes = 8 << 20 // of OCSF JSON
)

// importRowsPerStatement keeps multi-row inserts of the widest table (15
// columns) well under SQLite's 32766-variable limit.
const importRowsPerStatement = 500

const storedColumns = "id, tenant, fingerprint, class_uid, severity_id, product, format, source_uid, resource_uid, title, time, first_seen, last_seen, count, doc_hash, issue_key"

// storedColumnsOf adds the columns only findings have.
func storedColumnsOf(t store.Table) string {
	if t == store.TableFindings {
		return storedColumns + ", party, area, responsibility"
	}
	return storedColumns
}

const jobColumns = "id, tenant, name, format, status, batches, batches_done, records, findings_new, findings_updated, events, created_at, updated_at"

// Export reads every table inside one read transaction (one WAL snapshot)
// and calls fn with bounded batches of rows; see [store.Exporter].
func (s *Store) Export(ctx context.Context, fn func(store.TableRows) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	defer tx.Rollback()
	for _, t := range store.Tables() {
		if err := exportTable(ctx, tx, t, fn); err != nil {
			var ce callbackError
			if errors.As(err, &ce) {
				return ce.err // fn's own error, as it is
			}
			return fmt.Errorf("sqlite: exporting %s: %w", t, err)
		}
	}
	return nil
}

func exportTable(ctx context.Context, tx *sql.Tx, t store.Table, fn func(store.TableRows) error) error {
	if p, ok := store.PlainTableOf(t); ok {
		return exportPlain(ctx, tx, p, fn)
	}
	var query string
	switch t {
	case store.TableFindings, store.TableEvents:
		query = "SELECT " + storedColumnsOf(t) + " FROM " + string(t)
	case store.TableFindingDocs, store.TableEventDocs:
		query = "SELECT id, ocsf FROM " + string(t)
	case store.TableTokens:
		query = "SELECT " + tokenColumns + " FROM tokens"
	case store.TableJobs:
		query = "SELECT " + jobColumns + " FROM jobs"
	case store.TableBatches:
		query = "SELECT id, applied_at FROM applied_batches"
	default:
		return errors.New("unknown table")
	}
	rows, err := tx.QueryContext(ctx, query+" ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	b := store.TableRows{Table: t}
	size := 0
	for rows.Next() {
		switch t {
		case store.TableFindings, store.TableEvents:
			var r store.StoredRecord
			var tm, first, last int64
			var resp []byte
			dst := []any{&r.ID, &r.Tenant, &r.Fingerprint, &r.ClassUID, &r.SeverityID, &r.Product, &r.Format, &r.SourceUID,
				&r.ResourceUID, &r.Title, &tm, &first, &last, &r.Count, &r.DocHash, &r.IssueKey}
			if t == store.TableFindings {
				dst = append(dst, &r.Party, &r.Area, &resp)
			}
			if err := rows.Scan(dst...); err != nil {
				return err
			}
			if len(resp) > 0 {
				r.Responsibility = resp
			}
			r.Time, r.FirstSeen, r.LastSeen = time.UnixMilli(tm).UTC(), time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
			b.Records = append(b.Records, r)
		case store.TableFindingDocs, store.TableEventDocs:
			var d store.Doc
			if err := rows.Scan(&d.ID, &d.OCSF); err != nil {
				return err
			}
			size += len(d.OCSF)
			b.Docs = append(b.Docs, d)
		case store.TableTokens:
			tok, err := scanToken(rows)
			if err != nil {
				return err
			}
			b.Tokens = append(b.Tokens, tok)
		case store.TableJobs:
			var j store.Job
			var status string
			var created, updated int64
			if err := rows.Scan(&j.ID, &j.Tenant, &j.Name, &j.Format, &status, &j.Batches, &j.BatchesDone, &j.Records,
				&j.FindingsNew, &j.FindingsUpdated, &j.Events, &created, &updated); err != nil {
				return err
			}
			j.Status = store.JobStatus(status)
			j.CreatedAt, j.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
			b.Jobs = append(b.Jobs, j)
		case store.TableBatches:
			var a store.AppliedBatch
			var at int64
			if err := rows.Scan(&a.ID, &at); err != nil {
				return err
			}
			a.AppliedAt = time.UnixMilli(at).UTC()
			b.Batches = append(b.Batches, a)
		}
		if b.Len() >= exportRows || size >= exportBytes {
			if err := fn(b); err != nil {
				return callbackError{err}
			}
			b, size = store.TableRows{Table: t}, 0
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if b.Len() > 0 {
		if err := fn(b); err != nil {
			return callbackError{err}
		}
	}
	return nil
}

// callbackError carries an error returned by Export's callback.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// TableCounts returns how many rows each table holds.
func (s *Store) TableCounts(ctx context.Context) (map[store.Table]int64, error) {
	tables := store.Tables()
	sel := make([]string, len(tables))
	dst := make([]any, len(tables))
	counts := make([]int64, len(tables))
	for i, t := range tables {
		sel[i] = "(SELECT count(*) FROM " + string(t) + ")"
		dst[i] = &counts[i]
	}
	if err := s.r.QueryRowContext(ctx, "SELECT "+strings.Join(sel, ", ")).Scan(dst...); err != nil {
		return nil, fmt.Errorf("sqlite: counting rows: %w", err)
	}
	out := make(map[store.Table]int64, len(tables))
	for i, t := range tables {
		out[t] = counts[i]
	}
	return out, nil
}

// Import starts an import in one write transaction; see [store.Importer].
func (s *Store) Import(ctx context.Context) (store.Loader, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: import: %w", err)
	}
	return &loader{tx: tx, committed: s.kickCheckpoint}, nil
}

type loader struct {
	tx        *sql.Tx
	committed func()
	done      bool
	args      []any
}

func (l *loader) Load(ctx context.Context, rows store.TableRows) error {
	if l.done {
		return errors.New("sqlite: import already committed or rolled back")
	}
	var cols string
	var n int
	var row func(i int, args []any) []any
	if p, ok := store.PlainTableOf(rows.Table); ok {
		cols, n = strings.Join(p.Columns, ", "), len(rows.Values)
		row = func(i int, args []any) []any { return append(args, rows.Values[i]...) }
	}
	switch rows.Table {
	case store.Table(""):
		return errors.New("sqlite: import: no table")
	case store.TableFindings, store.TableEvents:
		cols, n = storedColumnsOf(rows.Table), len(rows.Records)
		findings := rows.Table == store.TableFindings
		row = func(i int, args []any) []any {
			r := &rows.Records[i]
			args = append(args, r.ID, r.Tenant, r.Fingerprint, r.ClassUID, r.SeverityID, r.Product, r.Format, r.SourceUID,
				r.ResourceUID, r.Title, r.Time.UnixMilli(), r.FirstSeen.UnixMilli(), r.LastSeen.UnixMilli(), r.Count, r.DocHash, r.IssueKey)
			if findings {
				var resp []byte
				if len(r.Responsibility) > 0 {
					resp = r.Responsibility
				}
				args = append(args, r.Party, r.Area, resp)
			}
			return args
		}
	case store.TableFindingDocs, store.TableEventDocs:
		cols, n = "id, ocsf", len(rows.Docs)
		row = func(i int, args []any) []any { return append(args, rows.Docs[i].ID, rows.Docs[i].OCSF) }
	case store.TableTokens:
		cols, n = tokenColumns, len(rows.Tokens)
		row = func(i int, args []any) []any {
			t := &rows.Tokens[i]
			var revoked int64
			if !t.RevokedAt.IsZero() {
				revoked = t.RevokedAt.UnixMilli()
			}
			return append(args, t.ID, t.Name, t.Tenant, string(t.Role), t.Hash, t.CreatedAt.UnixMilli(), revoked)
		}
	case store.TableJobs:
		cols, n = jobColumns, len(rows.Jobs)
		row = func(i int, args []any) []any {
			j := &rows.Jobs[i]
			return append(args, j.ID, j.Tenant, j.Name, j.Format, string(j.Status), j.Batches, j.BatchesDone, j.Records,
				j.FindingsNew, j.FindingsUpdated, j.Events, j.CreatedAt.UnixMilli(), j.UpdatedAt.UnixMilli())
		}
	case store.TableBatches:
		cols, n = "id, applied_at", len(rows.Batches)
		row = func(i int, args []any) []any {
			return append(args, rows.Batches[i].ID, rows.Batches[i].AppliedAt.UnixMilli())
		}
	default:
		if row == nil {
			return fmt.Errorf("sqlite: import: unknown table %q", rows.Table)
		}
	}
	one := "(" + placeholders(strings.Count(cols, ",")+1) + ")"
	for start := 0; start < n; start += importRowsPerStatement {
		end := min(n, start+importRowsPerStatement)
		l.args = l.args[:0]
		for i := start; i < end; i++ {
			l.args = row(i, l.args)
		}
		q := "INSERT INTO " + string(rows.Table) + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", end-start), ",")
		if _, err := l.tx.ExecContext(ctx, q, l.args...); err != nil {
			return fmt.Errorf("sqlite: importing %s: %w", rows.Table, err)
		}
	}
	return nil
}

// Commit commits the import. (SQLite assigns new ids after the largest
// stored one, so there is no sequence to move.)
func (l *loader) Commit(ctx context.Context) error {
	if l.done {
		return errors.New("sqlite: import already committed or rolled back")
	}
	l.done = true
	if err := l.tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: import: commit: %w", err)
	}
	l.committed()
	return nil
}

func (l *loader) Rollback(ctx context.Context) error {
	if l.done {
		return nil
	}
	l.done = true
	if err := l.tx.Rollback(); err != nil {
		return fmt.Errorf("sqlite: import: rollback: %w", err)
	}
	return nil
}

// exportPlain exports a plain table column by column.
func exportPlain(ctx context.Context, tx *sql.Tx, p store.PlainTable, fn func(store.TableRows) error) error {
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(p.Columns, ", ")+" FROM "+string(p.Name)+" ORDER BY "+strings.Join(p.Key, ", "))
	if err != nil {
		return err
	}
	defer rows.Close()
	b := store.TableRows{Table: p.Name}
	size := 0
	for rows.Next() {
		vals := make([]any, len(p.Columns))
		dst := make([]any, len(p.Columns))
		for i := range vals {
			dst[i] = &vals[i]
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		for i, c := range p.Columns {
			switch v := vals[i].(type) {
			case []byte:
				if p.JSON[c] {
					vals[i] = string(v)
				} else {
					vals[i] = append([]byte(nil), v...)
				}
				size += len(v)
			case string:
				if p.Bytes[c] {
					vals[i] = []byte(v)
				}
				size += len(v)
			}
		}
		b.Values = append(b.Values, vals)
		if len(b.Values) >= exportRows || size >= exportBytes {
			if err := fn(b); err != nil {
				return callbackError{err}
			}
			b, size = store.TableRows{Table: p.Name}, 0
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(b.Values) > 0 {
		if err := fn(b); err != nil {
			return callbackError{err}
		}
	}
	return nil
}
