package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/store"
)

// Export batches are flushed at whichever limit comes first.
const (
	exportRows  = 1000
	exportBytes = 8 << 20 // of OCSF JSON
)

// storedColumns are the columns of findings and events, id first, in the
// order scanStored and Load use.
const storedColumns = "id, " + recordCols

// storedColumnsOf adds the columns only findings have.
func storedColumnsOf(t store.Table) string {
	if t == store.TableFindings {
		return storedColumns + ", party, area, responsibility"
	}
	return storedColumns
}

// Export reads every table from one REPEATABLE READ snapshot and calls fn
// with bounded batches of rows; see [store.Exporter].
func (s *Store) Export(ctx context.Context, fn func(store.TableRows) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: export: %w", s.scrub(err))
	}
	defer tx.Rollback(context.Background())
	for _, t := range store.Tables() {
		if err := exportTable(ctx, tx, t, fn); err != nil {
			var ce callbackError
			if errors.As(err, &ce) {
				return ce.err // fn's own error, as it is
			}
			return fmt.Errorf("postgres: exporting %s: %w", t, s.scrub(err))
		}
	}
	return nil
}

func exportTable(ctx context.Context, tx pgx.Tx, t store.Table, fn func(store.TableRows) error) error {
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
		return fmt.Errorf("unknown table")
	}
	rows, err := tx.Query(ctx, query+" ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	b := store.TableRows{Table: t}
	size := 0
	for rows.Next() {
		switch t {
		case store.TableFindings, store.TableEvents:
			r, err := scanStored(rows, t == store.TableFindings)
			if err != nil {
				return err
			}
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
			j, err := scanJob(rows)
			if err != nil {
				return err
			}
			b.Jobs = append(b.Jobs, j)
		case store.TableBatches:
			var a store.AppliedBatch
			if err := rows.Scan(&a.ID, &a.AppliedAt); err != nil {
				return err
			}
			a.AppliedAt = a.AppliedAt.UTC()
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

func scanStored(sc pgx.Row, findings bool) (store.StoredRecord, error) {
	var r store.StoredRecord
	var resp []byte
	dst := []any{&r.ID, &r.Tenant, &r.Fingerprint, &r.ClassUID, &r.SeverityID, &r.Product, &r.Format, &r.SourceUID,
		&r.ResourceUID, &r.Title, &r.Time, &r.FirstSeen, &r.LastSeen, &r.Count, &r.DocHash, &r.IssueKey}
	if findings {
		dst = append(dst, &r.Party, &r.Area, &resp)
	}
	err := sc.Scan(dst...)
	if len(resp) > 0 {
		r.Responsibility = resp
	}
	r.Time, r.FirstSeen, r.LastSeen = r.Time.UTC(), r.FirstSeen.UTC(), r.LastSeen.UTC()
	return r, err
}

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
	if err := s.pool.QueryRow(ctx, "SELECT "+strings.Join(sel, ", ")).Scan(dst...); err != nil {
		return nil, fmt.Errorf("postgres: counting rows: %w", s.scrub(err))
	}
	out := make(map[store.Table]int64, len(tables))
	for i, t := range tables {
		out[t] = counts[i]
	}
	return out, nil
}

// Import starts an import transaction; see [store.Importer]. Rows are
// written with COPY; Commit moves the id sequences past the largest id.
func (s *Store) Import(ctx context.Context) (store.Loader, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: import: %w", s.scrub(err))
	}
	return &loader{tx: tx, scrub: s.scrub}, nil
}

type loader struct {
	tx    pgx.Tx
	scrub func(error) error
	done  bool
}

func (l *loader) Load(ctx context.Context, rows store.TableRows) error {
	if l.done {
		return errors.New("postgres: import already committed or rolled back")
	}
	var cols []string
	var n int
	var row func(i int) []any
	switch rows.Table {
	case store.TableFindings, store.TableEvents:
		cols, n = strings.Split(storedColumnsOf(rows.Table), ", "), len(rows.Records)
		findings := rows.Table == store.TableFindings
		row = func(i int) []any {
			r := &rows.Records[i]
			out := []any{r.ID, textSafe(r.Tenant), textSafe(r.Fingerprint), int32(r.ClassUID), int32(r.SeverityID), textSafe(r.Product),
				textSafe(r.Format), textSafe(r.SourceUID), textSafe(r.ResourceUID), textSafe(r.Title), ms(r.Time), ms(r.FirstSeen),
				ms(r.LastSeen), int64(r.Count), r.DocHash, textSafe(r.IssueKey)}
			if findings {
				var resp any
				if len(r.Responsibility) > 0 {
					resp = string(jsonbSafe(r.Responsibility))
				}
				out = append(out, textSafe(r.Party), textSafe(r.Area), resp)
			}
			return out
		}
	case store.TableFindingDocs, store.TableEventDocs:
		cols, n = []string{"id", "ocsf"}, len(rows.Docs)
		row = func(i int) []any { return []any{rows.Docs[i].ID, jsonbSafe(rows.Docs[i].OCSF)} }
	case store.TableTokens:
		cols, n = strings.Split(tokenColumns, ", "), len(rows.Tokens)
		row = func(i int) []any {
			t := &rows.Tokens[i]
			var revoked any
			if !t.RevokedAt.IsZero() {
				revoked = ms(t.RevokedAt)
			}
			return []any{textSafe(t.ID), textSafe(t.Name), textSafe(t.Tenant), string(t.Role), textSafe(t.Hash), ms(t.CreatedAt), revoked}
		}
	case store.TableJobs:
		cols, n = strings.Split(jobColumns, ", "), len(rows.Jobs)
		row = func(i int) []any {
			j := &rows.Jobs[i]
			return []any{textSafe(j.ID), textSafe(j.Tenant), textSafe(j.Name), textSafe(j.Format), string(j.Status), int32(j.Batches),
				int32(j.BatchesDone), int64(j.Records), int64(j.FindingsNew), int64(j.FindingsUpdated), int64(j.Events),
				ms(j.CreatedAt), ms(j.UpdatedAt)}
		}
	case store.TableBatches:
		cols, n = []string{"id", "applied_at"}, len(rows.Batches)
		row = func(i int) []any { return []any{textSafe(rows.Batches[i].ID), ms(rows.Batches[i].AppliedAt)} }
	default:
		p, ok := store.PlainTableOf(rows.Table)
		if !ok {
			return fmt.Errorf("postgres: import: unknown table %q", rows.Table)
		}
		cols, n = p.Columns, len(rows.Values)
		row = func(i int) []any {
			out := make([]any, len(p.Columns))
			for j, v := range rows.Values[i] {
				switch v := v.(type) {
				case string:
					if p.JSON[p.Columns[j]] {
						out[j] = string(jsonbSafe([]byte(v)))
					} else {
						out[j] = textSafe(v)
					}
				default:
					out[j] = v
				}
			}
			return out
		}
	}
	if n == 0 {
		return nil
	}
	_, err := l.tx.CopyFrom(ctx, pgx.Identifier{string(rows.Table)}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
	if err != nil {
		return fmt.Errorf("postgres: importing %s: %w", rows.Table, l.scrub(err))
	}
	return nil
}

func (l *loader) Commit(ctx context.Context) error {
	if l.done {
		return errors.New("postgres: import already committed or rolled back")
	}
	l.done = true
	for _, t := range []string{"findings", "events"} {
		// The next id is one past the largest, of the records or of their
		// documents (an orphan document must not meet a new record's id).
		_, err := l.tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence('"+t+"', 'id'), GREATEST((SELECT max(id) FROM "+t+
			"), (SELECT max(id) FROM "+docTable(t)+"), 0) + 1, false)")
		if err != nil {
			l.tx.Rollback(context.Background())
			return fmt.Errorf("postgres: import: resetting the %s id sequence: %w", t, l.scrub(err))
		}
	}
	if err := l.tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: import: commit: %w", l.scrub(err))
	}
	return nil
}

func (l *loader) Rollback(ctx context.Context) error {
	if l.done {
		return nil
	}
	l.done = true
	if err := l.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("postgres: import: rollback: %w", l.scrub(err))
	}
	return nil
}

// exportPlain exports a plain table column by column; JSON columns as text.
func exportPlain(ctx context.Context, tx pgx.Tx, p store.PlainTable, fn func(store.TableRows) error) error {
	sel := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		sel[i] = c
		if p.JSON[c] {
			sel[i] = c + "::text"
		}
	}
	rows, err := tx.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+string(p.Name)+" ORDER BY "+strings.Join(p.Key, ", "))
	if err != nil {
		return err
	}
	defer rows.Close()
	b := store.TableRows{Table: p.Name}
	size := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case int32:
				vals[i] = int64(v)
			case int16:
				vals[i] = int64(v)
			case string:
				size += len(v)
			case []byte:
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
