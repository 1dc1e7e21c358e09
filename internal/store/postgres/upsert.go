package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canopy-sec/canopy/internal/store"
)

// rowsPerStatement is how many distinct fingerprints one upsert statement
// carries. The rows travel as 14 array parameters, so the statement text
// and its cached plan do not depend on the count.
const rowsPerStatement = 1000

// Begin starts a write transaction. It is READ COMMITTED whatever the
// server's default, which the upsert's concurrency argument relies on.
func (s *Store) Begin(ctx context.Context) (store.Appender, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", s.scrub(err))
	}
	return &appender{tx: tx, scrub: s.scrub}, nil
}

type appender struct {
	tx    pgx.Tx
	scrub func(error) error
	done  bool
}

// errDone is returned by an appender used after Commit or Rollback.
var errDone = errors.New("postgres: appender already committed or rolled back")

// wrap adds context to err, marks deadlocks and serialization failures as
// store.ErrConflict, and removes any password from the message.
func (a *appender) wrap(err error, format string, args ...any) error {
	err = a.scrub(err)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
		return fmt.Errorf("postgres: "+format+": %w: %w", append(args, store.ErrConflict, err)...)
	}
	return fmt.Errorf("postgres: "+format+": %w", append(args, err)...)
}

func (a *appender) UpsertFindings(ctx context.Context, rows []store.Row) (store.UpsertResult, error) {
	return a.upsert(ctx, "findings", rows)
}

func (a *appender) UpsertEvents(ctx context.Context, rows []store.Row) (store.UpsertResult, error) {
	return a.upsert(ctx, "events", rows)
}

// agg is what one call does to one fingerprint: it may appear several
// times, and then behaves as consecutive upserts would. The first
// occurrence provides what an insert sets once (tenant, product, source,
// first_seen), the last one what every upsert replaces; count grows by k.
type agg struct {
	fp          string
	first, last *store.Row
	k           int64
	hash        int64
}

// docHash identifies a record's OCSF JSON, so that an unchanged document is
// not written again. It is the same function as the SQLite store's, so that
// hashes survive a copy between backends.
func docHash(b []byte) int64 { return int64(xxhash.Sum64(b)) }

// aggregate groups rows by fingerprint, sorted by fingerprint. Every writer
// takes its row locks in that one order, so two calls upserting overlapping
// rows wait for each other instead of deadlocking.
func aggregate(rows []store.Row) []agg {
	idx := make(map[string]int, len(rows))
	out := make([]agg, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		fp := textSafe(r.Fingerprint)
		if j, ok := idx[fp]; ok {
			out[j].last = r
			out[j].k++
			continue
		}
		idx[fp] = len(out)
		out = append(out, agg{fp: fp, first: r, last: r, k: 1})
	}
	for i := range out {
		out[i].hash = docHash(out[i].last.OCSF)
	}
	slices.SortFunc(out, func(x, y agg) int { return strings.Compare(x.fp, y.fp) })
	return out
}

// columns holds a chunk's rows as one array per column.
type columns struct {
	tenant, fingerprint, product, format, sourceUID, resourceUID, title []string
	issueKey                                                            []string
	classUID, severityID                                                []int32
	time, firstSeen, lastSeen                                           []time.Time
	count, docHash                                                      []int64
}

func (c *columns) reset() {
	*c = columns{tenant: c.tenant[:0], fingerprint: c.fingerprint[:0], product: c.product[:0], format: c.format[:0],
		sourceUID: c.sourceUID[:0], resourceUID: c.resourceUID[:0], title: c.title[:0], classUID: c.classUID[:0],
		severityID: c.severityID[:0], time: c.time[:0], firstSeen: c.firstSeen[:0], lastSeen: c.lastSeen[:0],
		count: c.count[:0], docHash: c.docHash[:0], issueKey: c.issueKey[:0]}
}

func (c *columns) add(g *agg) {
	f, l := g.first, g.last
	c.tenant = append(c.tenant, textSafe(f.Tenant))
	c.fingerprint = append(c.fingerprint, g.fp)
	c.classUID = append(c.classUID, int32(l.ClassUID))
	c.severityID = append(c.severityID, int32(l.SeverityID))
	c.product = append(c.product, textSafe(f.Product))
	c.format = append(c.format, textSafe(l.Format))
	c.sourceUID = append(c.sourceUID, textSafe(f.SourceUID))
	c.resourceUID = append(c.resourceUID, textSafe(l.ResourceUID))
	c.title = append(c.title, textSafe(l.Title))
	c.time = append(c.time, ms(l.Time))
	c.firstSeen = append(c.firstSeen, ms(f.Seen))
	c.lastSeen = append(c.lastSeen, ms(l.Seen))
	c.count = append(c.count, g.k)
	c.docHash = append(c.docHash, g.hash)
	c.issueKey = append(c.issueKey, textSafe(l.IssueKey))
}

func (c *columns) args() []any {
	return []any{c.tenant, c.fingerprint, c.classUID, c.severityID, c.product, c.format, c.sourceUID, c.resourceUID,
		c.title, c.time, c.firstSeen, c.lastSeen, c.count, c.docHash, c.issueKey}
}

const recordCols = "tenant, fingerprint, class_uid, severity_id, product, format, source_uid, resource_uid, title, time, first_seen, last_seen, count, doc_hash, issue_key"

// fromArrays is the FROM item that turns columns.args into rows, in order.
const fromArrays = "unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]," +
	" $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::bigint[], $14::bigint[], $15::text[]) WITH ORDINALITY AS u(" + recordCols + ", ord)"

// upsertSQL inserts new fingerprints and updates those whose stored
// document has the same hash. A conflicting row whose hash differs is
// locked but neither updated nor returned: changedSQL updates it next.
func upsertSQL(table string) string {
	return "INSERT INTO " + table + " AS t (" + recordCols + ") SELECT " + recordCols + " FROM " + fromArrays + " ORDER BY ord" +
		" ON CONFLICT (fingerprint) DO UPDATE SET count = t.count + excluded.count, last_seen = excluded.last_seen," +
		" severity_id = excluded.severity_id, class_uid = excluded.class_uid, format = excluded.format," +
		" resource_uid = excluded.resource_uid, title = excluded.title, time = excluded.time, issue_key = excluded.issue_key" +
		" WHERE t.doc_hash = excluded.doc_hash RETURNING id, fingerprint, count"
}

// changedSQL updates rows whose document changed (already locked by
// upsertSQL, so nothing can have changed them in between).
func changedSQL(table string) string {
	return "UPDATE " + table + " AS t SET count = t.count + u.count, last_seen = u.last_seen, severity_id = u.severity_id," +
		" class_uid = u.class_uid, format = u.format, resource_uid = u.resource_uid, title = u.title, time = u.time," +
		" doc_hash = u.doc_hash, issue_key = u.issue_key FROM " + fromArrays + " WHERE t.fingerprint = u.fingerprint RETURNING t.id, t.fingerprint, t.count"
}

func docsSQL(table string) string {
	// documents travel as text: [][]byte would be sent as bytea[] in pgx's
	// exec and simple-protocol modes
	return "INSERT INTO " + docTable(table) + " (id, ocsf) SELECT id, ocsf::json FROM unnest($1::bigint[], $2::text[]) AS u(id, ocsf)" +
		" ON CONFLICT (id) DO UPDATE SET ocsf = excluded.ocsf"
}

func docTable(table string) string { return strings.TrimSuffix(table, "s") + "_docs" }

func (a *appender) upsert(ctx context.Context, table string, rows []store.Row) (store.UpsertResult, error) {
	var res store.UpsertResult
	if a.done {
		return res, errDone
	}
	aggs := aggregate(rows)
	var ch chunk
	for len(aggs) > 0 {
		n := min(len(aggs), rowsPerStatement)
		r, err := a.upsertChunk(ctx, table, aggs[:n], &ch)
		if err != nil {
			return res, a.wrap(err, "upsert into %s", table)
		}
		res.Add(r)
		aggs = aggs[n:]
	}
	return res, nil
}

// chunk is the scratch space of upsertChunk, reused across chunks.
type chunk struct {
	cols    columns
	pos     map[string]int
	applied []bool
	newIDs  []int64  // new rows, whose documents are copied in
	newDocs [][]byte //
	queue   [][]any  // tenant, ref of each new row (the correlation queue)
	ids     []int64  // rows whose document changed, upserted
	docs    []string //
}

// upsertChunk upserts at most rowsPerStatement distinct fingerprints, then
// writes the documents that are new (COPY) or changed (upsert by id).
//
// Concurrency: a row is inserted or updated by exactly one statement, with
// its lock held to the end of the transaction. INSERT … ON CONFLICT under
// READ COMMITTED either inserts or updates the latest committed version (it
// waits for a concurrent inserter of the same fingerprint to finish), so
// count adds up exactly however many workers apply the same fingerprint,
// and a row is new exactly when the returned count equals what this call
// added. Documents are written under the same row lock.
func (a *appender) upsertChunk(ctx context.Context, table string, aggs []agg, ch *chunk) (store.UpsertResult, error) {
	var res store.UpsertResult
	ch.cols.reset()
	if ch.pos == nil {
		ch.pos = make(map[string]int, len(aggs))
	}
	clear(ch.pos)
	ch.applied = slices.Grow(ch.applied[:0], len(aggs))[:len(aggs)]
	clear(ch.applied)
	ch.newIDs, ch.newDocs, ch.ids, ch.docs, ch.queue = ch.newIDs[:0], ch.newDocs[:0], ch.ids[:0], ch.docs[:0], ch.queue[:0]
	for i := range aggs {
		ch.cols.add(&aggs[i])
		ch.pos[aggs[i].fp] = i
	}

	// read applies the returned rows; isUpsert tells whether a row may be new
	read := func(rows pgx.Rows, isUpsert bool) error {
		defer rows.Close()
		var id, count int64
		var fp string
		for rows.Next() {
			if err := rows.Scan(&id, &fp, &count); err != nil {
				return err
			}
			i, ok := ch.pos[fp]
			if !ok || ch.applied[i] {
				return fmt.Errorf("unexpected row for fingerprint %q", fp)
			}
			ch.applied[i] = true
			g := &aggs[i]
			switch {
			case isUpsert && count == g.k: // inserted (then updated k-1 times); its id is fresh, so no document exists
				res.New++
				res.Updated += int(g.k - 1)
				ch.newIDs = append(ch.newIDs, id)
				ch.newDocs = append(ch.newDocs, jsonbSafe(g.last.OCSF))
				ref := store.FindingRef(id)
				if table == "events" {
					ref = store.EventRef(id)
				}
				ch.queue = append(ch.queue, []any{textSafe(g.last.Tenant), int64(ref)})
			case isUpsert: // updated, same document
				res.Updated += int(g.k)
			default: // updated, and its document changed
				res.Updated += int(g.k)
				ch.ids = append(ch.ids, id)
				ch.docs = append(ch.docs, string(jsonbSafe(g.last.OCSF)))
			}
		}
		return rows.Err()
	}
	rows, err := a.tx.Query(ctx, upsertSQL(table), ch.cols.args()...)
	if err != nil {
		return res, err
	}
	if err := read(rows, true); err != nil {
		return res, err
	}

	// what is left exists with another document
	ch.cols.reset()
	for i := range aggs {
		if !ch.applied[i] {
			ch.cols.add(&aggs[i])
		}
	}
	if len(ch.cols.fingerprint) > 0 {
		rows, err := a.tx.Query(ctx, changedSQL(table), ch.cols.args()...)
		if err != nil {
			return res, err
		}
		if err := read(rows, false); err != nil {
			return res, err
		}
	}
	for i := range aggs {
		if !ch.applied[i] {
			return res, fmt.Errorf("no row returned for fingerprint %q", aggs[i].fp)
		}
	}
	if len(ch.newIDs) > 0 {
		// COPY parses jsonb about twice as fast as an INSERT of arrays
		_, err := a.tx.CopyFrom(ctx, pgx.Identifier{docTable(table)}, []string{"id", "ocsf"},
			pgx.CopyFromSlice(len(ch.newIDs), func(i int) ([]any, error) { return []any{ch.newIDs[i], ch.newDocs[i]}, nil }))
		if err != nil {
			return res, fmt.Errorf("writing documents: %w", err)
		}
	}
	if len(ch.queue) > 0 {
		// new rows' ids are fresh, so their refs are not queued yet
		if _, err := a.tx.CopyFrom(ctx, pgx.Identifier{"correlation_queue"}, []string{"tenant", "ref"}, pgx.CopyFromRows(ch.queue)); err != nil {
			return res, fmt.Errorf("queueing for correlation: %w", err)
		}
	}
	if len(ch.ids) > 0 {
		if _, err := a.tx.Exec(ctx, docsSQL(table), ch.ids, ch.docs); err != nil {
			return res, fmt.Errorf("writing documents: %w", err)
		}
	}
	return res, nil
}

func (a *appender) Claim(ctx context.Context, batchID string) (bool, error) {
	if a.done {
		return false, errDone
	}
	tag, err := a.tx.Exec(ctx, "INSERT INTO applied_batches (id, applied_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
		textSafe(batchID), ms(time.Now()))
	if err != nil {
		return false, a.wrap(err, "claiming batch %s", batchID)
	}
	return tag.RowsAffected() == 1, nil
}

func (a *appender) AddToJob(ctx context.Context, jobID string, p store.JobProgress) error {
	if a.done {
		return errDone
	}
	tag, err := a.tx.Exec(ctx, `UPDATE jobs SET batches_done = batches_done + 1, records = records + $1, findings_new = findings_new + $2,
		findings_updated = findings_updated + $3, events = events + $4, updated_at = $5,
		status = CASE WHEN batches_done + 1 >= batches THEN 'done' ELSE status END WHERE id = $6`,
		p.Records, p.FindingsNew, p.FindingsUpdated, p.Events, ms(time.Now()), textSafe(jobID))
	if err != nil {
		return a.wrap(err, "updating job %s", jobID)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: updating job %s: %w", jobID, store.ErrNotFound)
	}
	return nil
}

// Commit commits the transaction. It takes no context (the interface's
// choice), so it cannot be abandoned half-way by a cancelled caller.
func (a *appender) Commit() error {
	if a.done {
		return errDone
	}
	a.done = true
	if err := a.tx.Commit(context.Background()); err != nil {
		return a.wrap(err, "commit")
	}
	return nil
}

func (a *appender) Rollback() error {
	if a.done {
		return nil
	}
	a.done = true
	if err := a.tx.Rollback(context.Background()); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return a.wrap(err, "rollback")
	}
	return nil
}
