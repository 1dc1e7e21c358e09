package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/canopy-sec/canopy/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// rowsPerStatement is how many rows one multi-row upsert carries
// (12 parameters each, well under SQLite's 32766-variable limit).
const rowsPerStatement = 500

// Store is the SQLite store.
type Store struct {
	w, r *sql.DB
	path string
	// ckpt copies committed WAL frames into the database file in the
	// background (PASSIVE checkpoints), so that a commit does not wait for it.
	ckptDB   *sql.DB
	ckptKick chan struct{}
	ckptDone chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: creating %s: %w", dir, err)
		}
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=page_size(65536)&_pragma=journal_mode(WAL)&_pragma=cache_size(-65536)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", "file:"+url.PathEscape(path)+"?"+pragmas+"&_pragma=synchronous(FULL)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+url.PathEscape(path)+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	c, err := sql.Open("sqlite", "file:"+url.PathEscape(path)+"?"+pragmas)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	s := &Store{w: w, r: r, path: path, ckptDB: c, ckptKick: make(chan struct{}, 1), ckptDone: make(chan struct{})}
	go s.checkpointer()
	return s, nil
}

// checkpointer runs a PASSIVE checkpoint after commits until Close.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	for range s.ckptKick {
		// A failed or partial checkpoint is retried after the next commit;
		// the WAL keeps every committed frame until then.
		s.ckptDB.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	}
}

func (s *Store) kickCheckpoint() {
	select {
	case s.ckptKick <- struct{}{}:
	default: // one is already pending
	}
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close waits for a running checkpoint, checkpoints what is left and
// closes the database.
func (s *Store) Close() error {
	close(s.ckptKick)
	<-s.ckptDone
	_, cerr := s.ckptDB.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	if cerr != nil {
		cerr = fmt.Errorf("sqlite: final checkpoint: %w", cerr)
	}
	return errors.Join(cerr, s.ckptDB.Close(), s.r.Close(), s.w.Close())
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// DB returns the writer handle, for maintenance tasks such as backups.
func (s *Store) DB() *sql.DB { return s.w }

// Begin starts a write transaction.
func (s *Store) Begin(ctx context.Context) (store.Appender, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return &appender{tx: tx, stmts: make(map[string]*sql.Stmt), committed: s.kickCheckpoint}, nil
}

type appender struct {
	committed func()
	tx        *sql.Tx
	stmts     map[string]*sql.Stmt
	args      []any
	done      bool
}

func (a *appender) UpsertFindings(ctx context.Context, rows []store.Row) (store.UpsertResult, error) {
	return a.upsert(ctx, "findings", rows)
}

func (a *appender) UpsertEvents(ctx context.Context, rows []store.Row) (store.UpsertResult, error) {
	return a.upsert(ctx, "events", rows)
}

func upsertSQL(table string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (tenant, fingerprint, class_uid, severity_id, product, format, source_uid, resource_uid, title, time, first_seen, last_seen, doc_hash, issue_key) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (fingerprint) DO UPDATE SET count = " + table + ".count + 1, last_seen = excluded.last_seen," +
		" severity_id = excluded.severity_id, class_uid = excluded.class_uid, format = excluded.format, resource_uid = excluded.resource_uid," +
		" title = excluded.title, time = excluded.time, doc_hash = excluded.doc_hash, issue_key = excluded.issue_key RETURNING id, fingerprint, count")
	return b.String()
}

func hashesSQL(table string, n int) string {
	return "SELECT fingerprint, doc_hash FROM " + table + " WHERE fingerprint IN (" + placeholders(n) + ")"
}

func docsSQL(table string, n int) string {
	return "INSERT INTO " + docTable(table) + " (id, ocsf) VALUES " + strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") +
		" ON CONFLICT (id) DO UPDATE SET ocsf = excluded.ocsf"
}

func queueSQL(_ string, n int) string {
	return "INSERT INTO correlation_queue (tenant, ref) VALUES " + strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") + " ON CONFLICT DO NOTHING"
}

func docTable(table string) string { return strings.TrimSuffix(table, "s") + "_docs" }

func (a *appender) stmt(ctx context.Context, kind, table string, n int, build func(string, int) string) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s/%s/%d", kind, table, n)
	if st, ok := a.stmts[key]; ok {
		return st, nil
	}
	st, err := a.tx.PrepareContext(ctx, build(table, n))
	if err != nil {
		return nil, fmt.Errorf("sqlite: preparing %s: %w", kind, err)
	}
	a.stmts[key] = st
	return st, nil
}

// docHash identifies a record's OCSF JSON, so that an unchanged document is
// not written again.
func docHash(b []byte) int64 { return int64(xxhash.Sum64(b)) }

func (a *appender) upsert(ctx context.Context, table string, rows []store.Row) (store.UpsertResult, error) {
	var res store.UpsertResult
	if a.done {
		return res, errors.New("sqlite: appender already committed or rolled back")
	}
	for len(rows) > 0 {
		n := min(len(rows), rowsPerStatement)
		r, err := a.upsertChunk(ctx, table, rows[:n])
		if err != nil {
			return res, fmt.Errorf("sqlite: upsert into %s: %w", table, err)
		}
		res.Add(r)
		rows = rows[n:]
	}
	return res, nil
}

// upsertChunk writes at most rowsPerStatement rows: the stored hash of each
// fingerprint's document is read first; the rows are upserted; then only
// documents that are new or changed are written.
func (a *appender) upsertChunk(ctx context.Context, table string, rows []store.Row) (store.UpsertResult, error) {
	var res store.UpsertResult
	n := len(rows)
	hashes := make([]int64, n)
	stored := make(map[string]int64, n)
	a.args = a.args[:0]
	for i := range rows {
		hashes[i] = docHash(rows[i].OCSF)
		a.args = append(a.args, rows[i].Fingerprint)
	}
	st, err := a.stmt(ctx, "hashes", table, n, hashesSQL)
	if err != nil {
		return res, err
	}
	qr, err := st.QueryContext(ctx, a.args...)
	if err != nil {
		return res, err
	}
	for qr.Next() {
		var fp string
		var h int64
		if err := qr.Scan(&fp, &h); err != nil {
			qr.Close()
			return res, err
		}
		stored[fp] = h
	}
	if err := errors.Join(qr.Err(), qr.Close()); err != nil {
		return res, err
	}

	// the last row of a fingerprint wins; it needs a document write if its
	// hash differs from what is stored
	last := make(map[string]int, n)
	for i := range rows {
		last[rows[i].Fingerprint] = i
	}
	if st, err = a.stmt(ctx, "upsert", table, n, upsertSQL); err != nil {
		return res, err
	}
	a.args = a.args[:0]
	for i := range rows {
		r := &rows[i]
		a.args = append(a.args, r.Tenant, r.Fingerprint, r.ClassUID, r.SeverityID, r.Product, r.Format, r.SourceUID,
			r.ResourceUID, r.Title, r.Time.UnixMilli(), r.Seen.UnixMilli(), r.Seen.UnixMilli(), hashes[last[r.Fingerprint]], r.IssueKey)
	}
	qr, err = st.QueryContext(ctx, a.args...)
	if err != nil {
		return res, err
	}
	ids := make(map[string]int64, n)
	var queue []any // tenant, ref of each new record
	for qr.Next() {
		var id int64
		var fp string
		var count int
		if err := qr.Scan(&id, &fp, &count); err != nil {
			qr.Close()
			return res, err
		}
		ids[fp] = id
		if count == 1 {
			res.New++
			ref := store.FindingRef(id)
			if table == "events" {
				ref = store.EventRef(id)
			}
			queue = append(queue, rows[last[fp]].Tenant, int64(ref))
		} else {
			res.Updated++
		}
	}
	if err := errors.Join(qr.Err(), qr.Close()); err != nil {
		return res, err
	}
	if len(queue) > 0 {
		// new records wait for correlation (internal/store: CorrelationState)
		if st, err = a.stmt(ctx, "queue", table, len(queue)/2, queueSQL); err != nil {
			return res, err
		}
		if _, err := st.ExecContext(ctx, queue...); err != nil {
			return res, err
		}
	}

	a.args = a.args[:0]
	docs := 0
	for fp, i := range last {
		if h, ok := stored[fp]; ok && h == hashes[i] {
			continue
		}
		id, ok := ids[fp]
		if !ok {
			return res, fmt.Errorf("no id returned for fingerprint %s", fp)
		}
		a.args = append(a.args, id, rows[i].OCSF)
		docs++
	}
	if docs == 0 {
		return res, nil
	}
	if st, err = a.stmt(ctx, "docs", table, docs, docsSQL); err != nil {
		return res, err
	}
	if _, err := st.ExecContext(ctx, a.args...); err != nil {
		return res, err
	}
	return res, nil
}

func (a *appender) Claim(ctx context.Context, batchID string) (bool, error) {
	res, err := a.tx.ExecContext(ctx, "INSERT INTO applied_batches (id, applied_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", batchID, time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("sqlite: claiming batch %s: %w", batchID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: claiming batch %s: %w", batchID, err)
	}
	return n == 1, nil
}

func (a *appender) AddToJob(ctx context.Context, jobID string, p store.JobProgress) error {
	res, err := a.tx.ExecContext(ctx, `UPDATE jobs SET batches_done = batches_done + 1, records = records + ?, findings_new = findings_new + ?,
		findings_updated = findings_updated + ?, events = events + ?, updated_at = ?,
		status = CASE WHEN batches_done + 1 >= batches THEN 'done' ELSE status END WHERE id = ?`,
		p.Records, p.FindingsNew, p.FindingsUpdated, p.Events, time.Now().UnixMilli(), jobID)
	if err != nil {
		return fmt.Errorf("sqlite: updating job %s: %w", jobID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: updating job %s: %w", jobID, store.ErrNotFound)
	}
	return nil
}

func (a *appender) Commit() error {
	if a.done {
		return errors.New("sqlite: appender already committed or rolled back")
	}
	a.done = true
	if err := a.tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	a.committed()
	return nil
}

func (a *appender) Rollback() error {
	if a.done {
		return nil
	}
	a.done = true
	if err := a.tx.Rollback(); err != nil {
		return fmt.Errorf("sqlite: rollback: %w", err)
	}
	return nil
}

const recordColumns = "r.id, r.tenant, r.fingerprint, r.class_uid, r.severity_id, r.product, r.format, r.title, r.resource_uid, r.issue_key, r.time, r.count, r.first_seen, r.last_seen, d.ocsf"

// columnsOf is recordColumns and the responsibility columns, which only
// findings have.
func columnsOf(table string) string {
	if table == "findings" {
		return recordColumns + ", r.party, r.area, r.responsibility"
	}
	return recordColumns + ", '', '', NULL"
}

func fromJoined(table string) string {
	return " FROM " + table + " r JOIN " + docTable(table) + " d ON d.id = r.id "
}

// scanRecord reads recordColumns, and the risk score after them when
// withRisk.
func scanRecord(sc interface{ Scan(...any) error }, withRisk bool) (store.Record, error) {
	var r store.Record
	var tm, first, last int64
	var resp []byte
	dst := []any{&r.ID, &r.Tenant, &r.Fingerprint, &r.ClassUID, &r.SeverityID, &r.Product, &r.Format, &r.Title, &r.ResourceUID, &r.IssueKey, &tm, &r.Count, &first, &last, &r.OCSF,
		&r.Party, &r.Area, &resp}
	if withRisk {
		dst = append(dst, &r.RiskScore)
	}
	err := sc.Scan(dst...)
	if len(resp) > 0 {
		r.Responsibility = resp
	}
	r.Time = time.UnixMilli(tm).UTC()
	r.FirstSeen = time.UnixMilli(first).UTC()
	r.LastSeen = time.UnixMilli(last).UTC()
	return r, err
}

// Findings lists findings, most severe first.
func (s *Store) Findings(ctx context.Context, q store.Query) (store.Page, error) {
	return s.list(ctx, "findings", "severity_id", q)
}

// Events lists events, newest first.
func (s *Store) Events(ctx context.Context, q store.Query) (store.Page, error) {
	return s.list(ctx, "events", "time", q)
}

func (s *Store) list(ctx context.Context, table, key string, q store.Query) (store.Page, error) {
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	if q.ByRisk && table == "findings" {
		return s.findingsByRisk(ctx, q, limit)
	}
	whereSQL, args := filters(q)
	where := []string{whereSQL}
	keyExpr := "r." + key
	if !q.After.IsZero() {
		// the first term bounds an index range; the OR alone would scan
		where = append(where, keyExpr+" <= ? AND ("+keyExpr+" < ? OR r.id > ?)")
		args = append(args, q.After.Key, q.After.Key, q.After.ID)
	}
	query := "SELECT " + columnsOf(table) + fromJoined(table) + "WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + keyExpr + " DESC, r.id ASC LIMIT ?"
	args = append(args, limit+1)
	recs, err := collect(ctx, s.r, query, args, false)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: listing %s: %w", table, err)
	}
	return page(recs, limit, func(r store.Record) int64 {
		if key == "time" {
			return r.Time.UnixMilli()
		}
		return int64(r.SeverityID)
	}), nil
}

// riskWalk is how many issues a listing by risk walks in score order, at
// most, before it lists the rest in one pass over the findings; a variable
// so that tests can make it small.
var riskWalk = 4096

// findingsByRisk lists findings by their issue's stored risk (score
// descending, then id), unscored findings (no issue key, or a key without
// a stored risk: key -1) last by id.
//
// Sorting the join of all findings with their risks reads every finding
// for each page. Instead the scored findings are read in the order of the
// index issue_risks_by_score, each score's findings (through
// findings_by_issue) sorted by id, so that the LIMIT stops after the first
// scores; when they do not fill the page, the unscored findings are read by
// id. Filters that leave few findings would make that walk visit every
// issue and read every finding out of order, so it goes no further than
// the riskWalk-th issue's score: below it, what is left is listed by one
// sorted pass over the findings, as before. The statements run in one read
// transaction, so that a page is one snapshot as a single statement would
// be. Stored scores are never negative (internal/risk: 0–100): a cursor
// with key -1 is in the unscored part.
func (s *Store) findingsByRisk(ctx context.Context, q store.Query, limit int) (store.Page, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: listing findings by risk: %w", err)
	}
	defer tx.Rollback()
	whereSQL, fargs := filters(q)
	var recs []store.Record
	if q.After.IsZero() || q.After.Key >= 0 {
		// the walk's bound: the score of the riskWalk-th issue from the
		// cursor on (none: the walk reaches the last scored issue)
		var bound sql.NullInt64
		bq, bargs := "SELECT score FROM issue_risks WHERE tenant = ? AND issue_key <> ''", []any{q.Tenant}
		if !q.After.IsZero() {
			bq += " AND score <= ?"
			bargs = append(bargs, q.After.Key)
		}
		err := tx.QueryRowContext(ctx, bq+" ORDER BY score DESC LIMIT 1 OFFSET ?", append(bargs, riskWalk-1)...).Scan(&bound)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return store.Page{}, fmt.Errorf("sqlite: listing findings by risk: %w", err)
		}
		// CROSS JOIN keeps issue_risks the outer loop: its index gives the
		// scores in order, and the sorter orders only each score's findings
		// by id ("USE TEMP B-TREE FOR RIGHT PART OF ORDER BY"). INDEXED BY
		// keeps the inner loop a lookup by issue key: with a severity or
		// party filter the planner would take that filter's index and scan
		// a range of the tenant's findings for every issue. The inner select
		// reads ids only; the documents are joined for the page's rows.
		where := "ir.tenant = ? AND ir.issue_key <> '' AND r.tenant = ir.tenant AND r.issue_key = ir.issue_key AND " + whereSQL
		args := append([]any{q.Tenant}, fargs...)
		if q.IssueKey != "" {
			// one issue: its risk by key, not a walk of all scores
			where += " AND ir.issue_key = ?"
			args = append(args, q.IssueKey)
		}
		if !q.After.IsZero() {
			where += " AND ir.score <= ? AND (ir.score < ? OR r.id > ?)"
			args = append(args, q.After.Key, q.After.Key, q.After.ID)
		}
		if bound.Valid {
			where += " AND ir.score >= ?"
			args = append(args, bound.Int64)
		}
		args = append(args, limit+1)
		query := "SELECT " + columnsOf("findings") + ", k.score FROM (SELECT ir.score AS score, r.id AS id" +
			" FROM issue_risks ir CROSS JOIN findings r INDEXED BY findings_by_issue WHERE " + where + " ORDER BY ir.score DESC, r.id LIMIT ?) k" +
			" CROSS JOIN findings r ON r.id = k.id JOIN finding_docs d ON d.id = r.id ORDER BY k.score DESC, k.id"
		if recs, err = collect(ctx, tx, query, args, true); err != nil {
			return store.Page{}, fmt.Errorf("sqlite: listing findings by risk: %w", err)
		}
		if len(recs) <= limit && bound.Valid {
			// the rest, scored below the bound and unscored: one pass
			args := append(slices.Clip(fargs), bound.Int64, limit+1-len(recs))
			query := "SELECT " + columnsOf("findings") + ", coalesce(ir.score, -1)" + fromJoined("findings") +
				"LEFT JOIN issue_risks ir ON ir.tenant = r.tenant AND ir.issue_key = r.issue_key AND r.issue_key <> '' WHERE " + whereSQL +
				" AND coalesce(ir.score, -1) < ? ORDER BY coalesce(ir.score, -1) DESC, r.id LIMIT ?"
			more, err := collect(ctx, tx, query, args, true)
			if err != nil {
				return store.Page{}, fmt.Errorf("sqlite: listing findings by risk: %w", err)
			}
			return page(append(recs, more...), limit, riskKey), nil
		}
	}
	if len(recs) <= limit {
		where := whereSQL + " AND NOT EXISTS (SELECT 1 FROM issue_risks ir WHERE ir.tenant = r.tenant AND ir.issue_key = r.issue_key AND r.issue_key <> '')"
		args := slices.Clip(fargs)
		if !q.After.IsZero() && q.After.Key < 0 {
			where += " AND r.id > ?"
			args = append(args, q.After.ID)
		}
		args = append(args, limit+1-len(recs))
		query := "SELECT " + columnsOf("findings") + ", -1" + fromJoined("findings") + "WHERE " + where + " ORDER BY r.id LIMIT ?"
		more, err := collect(ctx, tx, query, args, true)
		if err != nil {
			return store.Page{}, fmt.Errorf("sqlite: listing unscored findings: %w", err)
		}
		recs = append(recs, more...)
	}
	return page(recs, limit, riskKey), nil
}

func riskKey(r store.Record) int64 { return int64(r.RiskScore) }

// collect runs a listing query and scans its records.
func collect(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any, withRisk bool) ([]store.Record, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows, withRisk)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// page cuts a listing's limit+1 records to a page of limit, with the
// cursor of its last record when there are more.
func page(recs []store.Record, limit int, key func(store.Record) int64) store.Page {
	p := store.Page{Records: recs}
	if len(recs) > limit {
		p.Records = recs[:limit]
		last := p.Records[limit-1]
		p.Next = store.Cursor{Key: key(last), ID: last.ID}
	}
	return p
}

// filters turns a query's tenant and filters into a WHERE clause over r.
func filters(q store.Query) (string, []any) {
	where := []string{"r.tenant = ?"}
	args := []any{q.Tenant}
	if len(q.Severities) > 0 {
		where = append(where, "r.severity_id IN ("+placeholders(len(q.Severities))+")")
		for _, v := range q.Severities {
			args = append(args, v)
		}
	}
	if len(q.Classes) > 0 {
		where = append(where, "r.class_uid IN ("+placeholders(len(q.Classes))+")")
		for _, v := range q.Classes {
			args = append(args, v)
		}
	}
	if len(q.Products) > 0 {
		where = append(where, "lower(r.product) IN ("+placeholders(len(q.Products))+")")
		for _, v := range q.Products {
			args = append(args, strings.ToLower(v))
		}
	}
	if q.IssueKey != "" {
		where = append(where, "r.issue_key = ?")
		args = append(args, q.IssueKey)
	}
	if q.Party != "" {
		where = append(where, "r.party = ?")
		args = append(args, q.Party)
	}
	if q.Text != "" {
		// LIKE ignores the case of ASCII letters
		p := "%" + escapeLike(q.Text) + "%"
		where = append(where, `(r.title LIKE ? ESCAPE '\' OR r.resource_uid LIKE ? ESCAPE '\')`)
		args = append(args, p, p)
	}
	return strings.Join(where, " AND "), args
}

// escapeLike makes LIKE's wildcards and its escape character plain in s.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Finding returns one finding.
func (s *Store) Finding(ctx context.Context, tenant string, id int64) (store.Record, error) {
	return s.one(ctx, "findings", tenant, id)
}

// Event returns one event.
func (s *Store) Event(ctx context.Context, tenant string, id int64) (store.Record, error) {
	return s.one(ctx, "events", tenant, id)
}

func (s *Store) one(ctx context.Context, table, tenant string, id int64) (store.Record, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+columnsOf(table)+fromJoined(table)+"WHERE r.tenant = ? AND r.id = ?", tenant, id)
	r, err := scanRecord(row, false)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: reading %s %d: %w", table, id, err)
	}
	return r, nil
}

// Sources returns the products behind each of the tenant's issue keys.
func (s *Store) Sources(ctx context.Context, tenant string, keys []string) (map[string][]string, error) {
	out := make(map[string][]string, len(keys))
	for len(keys) > 0 {
		n := min(len(keys), 500)
		args := []any{tenant}
		for _, k := range keys[:n] {
			args = append(args, k)
		}
		rows, err := s.r.QueryContext(ctx, "SELECT DISTINCT issue_key, product FROM findings WHERE tenant = ? AND issue_key IN ("+placeholders(n)+") ORDER BY issue_key, product", args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading sources: %w", err)
		}
		for rows.Next() {
			var k, p string
			if err := rows.Scan(&k, &p); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: reading sources: %w", err)
			}
			out[k] = append(out[k], p)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("sqlite: reading sources: %w", err)
		}
		keys = keys[n:]
	}
	return out, nil
}

// Issues groups the tenant's findings by issue key.
func (s *Store) Issues(ctx context.Context, q store.Query, offset int) ([]store.Issue, error) {
	where, args := filters(q)
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	args = append(args, limit, max(offset, 0))
	order := "g.sev DESC, g.issue_key"
	if q.ByRisk {
		order = "coalesce(ir.score, -1) DESC, " + order
	}
	rows, err := s.r.QueryContext(ctx, `SELECT g.issue_key, g.sev, g.n, g.c, g.f, g.l, g.t, g.p, g.ids, coalesce(ir.score, -1), ir.doc, ir.responsibility FROM (
		SELECT r.tenant, r.issue_key, max(r.severity_id) AS sev, count(*) AS n, sum(r.count) AS c, min(r.first_seen) AS f, max(r.last_seen) AS l,
		min(r.title) AS t, group_concat(DISTINCT r.product) AS p, group_concat(r.id) AS ids
		FROM findings r WHERE `+where+` AND r.issue_key <> '' GROUP BY r.tenant, r.issue_key) g
		LEFT JOIN issue_risks ir ON ir.tenant = g.tenant AND ir.issue_key = g.issue_key
		ORDER BY `+order+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing issues: %w", err)
	}
	defer rows.Close()
	var out []store.Issue
	for rows.Next() {
		var is store.Issue
		var first, last int64
		var products, ids string
		var doc, resp []byte
		if err := rows.Scan(&is.Key, &is.SeverityID, &is.Findings, &is.Count, &first, &last, &is.Title, &products, &ids, &is.RiskScore, &doc, &resp); err != nil {
			return nil, fmt.Errorf("sqlite: listing issues: %w", err)
		}
		if doc != nil {
			is.Risk = doc
		}
		if resp != nil {
			is.Responsibility = resp
		}
		is.FirstSeen, is.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		is.Sources = strings.Split(products, ",")
		sort.Strings(is.Sources)
		for _, id := range strings.Split(ids, ",") {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil && len(is.FindingIDs) < 100 {
				is.FindingIDs = append(is.FindingIDs, n)
			}
		}
		slices.Sort(is.FindingIDs)
		out = append(out, is)
	}
	return out, rows.Err()
}

// Counts returns the tenant's number of findings and events, from the
// counters the triggers keep (see Stats).
func (s *Store) Counts(ctx context.Context, tenant string) (findings, events int64, err error) {
	err = s.r.QueryRowContext(ctx, "SELECT (SELECT coalesce(sum(n), 0) FROM finding_counts WHERE tenant = ?), (SELECT coalesce(sum(n), 0) FROM event_counts WHERE tenant = ?)", tenant, tenant).Scan(&findings, &events)
	if err != nil {
		err = fmt.Errorf("sqlite: counting: %w", err)
	}
	return findings, events, err
}

// CreateToken stores a token.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO tokens (id, name, tenant, role, hash, created_at) VALUES (?,?,?,?,?,?)",
		t.ID, t.Name, t.Tenant, string(t.Role), t.Hash, t.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: creating token %s: %w", t.Name, err)
	}
	s.kickCheckpoint()
	return nil
}

const tokenColumns = "id, name, tenant, role, hash, created_at, revoked_at"

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var role string
	var created, revoked int64
	err := sc.Scan(&t.ID, &t.Name, &t.Tenant, &role, &t.Hash, &created, &revoked)
	t.Role = store.Role(role)
	t.CreatedAt = time.UnixMilli(created).UTC()
	if revoked != 0 {
		t.RevokedAt = time.UnixMilli(revoked).UTC()
	}
	return t, err
}

// TokenByHash finds a valid token by the hash of its secret.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = ? AND revoked_at = 0", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: reading token: %w", err)
	}
	return t, nil
}

// ListTokens lists all tokens, revoked ones included.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: listing tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token by id.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0", time.Now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoking token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// CreateJob stores a new ingest job.
func (s *Store) CreateJob(ctx context.Context, j store.Job) error {
	now := j.CreatedAt
	if now.IsZero() {
		now = time.Now()
	}
	status := store.JobQueued
	if j.Batches == 0 {
		status = store.JobDone // nothing to apply
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO jobs (id, tenant, name, format, status, batches, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
		j.ID, j.Tenant, j.Name, j.Format, string(status), j.Batches, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: creating job %s: %w", j.ID, err)
	}
	s.kickCheckpoint()
	return nil
}

// Job returns one of the tenant's jobs.
func (s *Store) Job(ctx context.Context, tenant, id string) (store.Job, error) {
	var j store.Job
	var status string
	var created, updated int64
	err := s.r.QueryRowContext(ctx, `SELECT id, tenant, name, format, status, batches, batches_done, records, findings_new, findings_updated, events, created_at, updated_at
		FROM jobs WHERE tenant = ? AND id = ?`, tenant, id).Scan(&j.ID, &j.Tenant, &j.Name, &j.Format, &status, &j.Batches, &j.BatchesDone,
		&j.Records, &j.FindingsNew, &j.FindingsUpdated, &j.Events, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Job{}, store.ErrNotFound
	}
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: reading job %s: %w", id, err)
	}
	j.Status = store.JobStatus(status)
	j.CreatedAt, j.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return j, nil
}
