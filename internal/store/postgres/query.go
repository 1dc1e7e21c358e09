package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/store"
)

const recordColumns = "r.id, r.tenant, r.fingerprint, r.class_uid, r.severity_id, r.product, r.format, r.title, r.resource_uid, r.issue_key, r.time, r.count, r.first_seen, r.last_seen, d.ocsf"

// columnsOf is recordColumns and the responsibility columns, which only
// findings have.
func columnsOf(table string) string {
	if table == "findings" {
		return recordColumns + ", r.party, r.area, r.responsibility"
	}
	return recordColumns + ", ''::text, ''::text, NULL::json"
}

func fromJoined(table string) string {
	return " FROM " + table + " r JOIN " + docTable(table) + " d ON d.id = r.id "
}

// scanRecord reads recordColumns, and the risk score after them when
// withRisk.
func scanRecord(sc pgx.Row, withRisk bool) (store.Record, error) {
	var r store.Record
	var doc []byte
	var resp []byte
	dst := []any{&r.ID, &r.Tenant, &r.Fingerprint, &r.ClassUID, &r.SeverityID, &r.Product, &r.Format, &r.Title, &r.ResourceUID, &r.IssueKey,
		&r.Time, &r.Count, &r.FirstSeen, &r.LastSeen, &doc, &r.Party, &r.Area, &resp}
	if withRisk {
		dst = append(dst, &r.RiskScore)
	}
	err := sc.Scan(dst...)
	if len(resp) > 0 {
		r.Responsibility = resp
	}
	r.Time, r.FirstSeen, r.LastSeen = r.Time.UTC(), r.FirstSeen.UTC(), r.LastSeen.UTC()
	r.OCSF = doc
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

// conds builds a WHERE clause with numbered placeholders.
type conds struct {
	where []string
	args  []any
}

// add appends a condition whose placeholders are written $1?, $2? … in the
// order of vals.
func (c *conds) add(cond string, vals ...any) {
	for i := range vals {
		cond = strings.ReplaceAll(cond, "$"+strconv.Itoa(i+1)+"?", "$"+strconv.Itoa(len(c.args)+i+1))
	}
	c.where = append(c.where, cond)
	c.args = append(c.args, vals...)
}

// filters turns a query's tenant and filters into conditions over r.
func filters(q store.Query) *conds {
	c := &conds{}
	c.add("r.tenant = $1?", textSafe(q.Tenant))
	switch len(q.Severities) {
	case 0:
	case 1:
		c.add("r.severity_id = $1?", int32(q.Severities[0]))
	default:
		// the range is an index condition that keeps the listing's order
		// (PostgreSQL before 17 cannot scan an index in order by = ANY
		// on its second column, and filters the whole tenant instead)
		c.add("r.severity_id BETWEEN $1? AND $2? AND r.severity_id = ANY($3?::int[])", int32(slices.Min(q.Severities)), int32(slices.Max(q.Severities)), int32s(q.Severities))
	}
	if len(q.Classes) > 0 {
		c.add("r.class_uid = ANY($1?::int[])", int32s(q.Classes))
	}
	if len(q.Products) > 0 {
		ps := make([]string, len(q.Products))
		for i, p := range q.Products {
			ps[i] = strings.ToLower(textSafe(p))
		}
		c.add("lower(r.product) = ANY($1?::text[])", ps)
	}
	if q.IssueKey != "" {
		c.add("r.issue_key = $1?", textSafe(q.IssueKey))
	}
	if q.Party != "" {
		c.add("r.party = $1?", textSafe(q.Party))
	}
	if q.Text != "" {
		c.add(`(r.title ILIKE $1? ESCAPE '\' OR r.resource_uid ILIKE $1? ESCAPE '\')`, "%"+escapeLike(textSafe(q.Text))+"%")
	}
	return c
}

// escapeLike makes LIKE's wildcards and its escape character plain in s.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Sources returns the products behind each of the tenant's issue keys.
func (s *Store) Sources(ctx context.Context, tenant string, keys []string) (map[string][]string, error) {
	out := make(map[string][]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = textSafe(k)
	}
	rows, err := s.pool.Query(ctx, "SELECT DISTINCT issue_key, product FROM findings WHERE tenant = $1 AND issue_key = ANY($2::text[]) ORDER BY issue_key, product", textSafe(tenant), ks)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading sources: %w", s.scrub(err))
	}
	defer rows.Close()
	for rows.Next() {
		var k, p string
		if err := rows.Scan(&k, &p); err != nil {
			return nil, fmt.Errorf("postgres: reading sources: %w", s.scrub(err))
		}
		out[k] = append(out[k], p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: reading sources: %w", s.scrub(err))
	}
	return out, nil
}

// Issues groups the tenant's findings by issue key.
func (s *Store) Issues(ctx context.Context, q store.Query, offset int) ([]store.Issue, error) {
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	c := filters(q)
	order := "g.sev DESC, g.issue_key"
	if q.ByRisk {
		order = "coalesce(ir.score, -1) DESC, " + order
	}
	query := `SELECT g.issue_key, g.sev, g.n, g.c, g.f, g.l, g.t, g.p, g.ids, coalesce(ir.score, -1), ir.doc, ir.responsibility FROM (
		SELECT r.tenant, r.issue_key, max(r.severity_id) AS sev, count(*) AS n, sum(r.count) AS c, min(r.first_seen) AS f, max(r.last_seen) AS l, min(r.title) AS t,
		array_agg(DISTINCT r.product ORDER BY r.product) AS p, (array_agg(r.id ORDER BY r.id))[1:100] AS ids
		FROM findings r WHERE ` + strings.Join(c.where, " AND ") + ` AND r.issue_key <> '' GROUP BY r.tenant, r.issue_key) g
		LEFT JOIN issue_risks ir ON ir.tenant = g.tenant AND ir.issue_key = g.issue_key
		ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(limit) + ` OFFSET ` + strconv.Itoa(max(offset, 0))
	rows, err := s.pool.Query(ctx, query, c.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing issues: %w", s.scrub(err))
	}
	defer rows.Close()
	var out []store.Issue
	for rows.Next() {
		var is store.Issue
		var sev, score int32
		var findings, count int64
		var doc, resp []byte
		if err := rows.Scan(&is.Key, &sev, &findings, &count, &is.FirstSeen, &is.LastSeen, &is.Title, &is.Sources, &is.FindingIDs, &score, &doc, &resp); err != nil {
			return nil, fmt.Errorf("postgres: listing issues: %w", s.scrub(err))
		}
		is.RiskScore = int(score)
		if doc != nil {
			is.Risk = doc
		}
		if resp != nil {
			is.Responsibility = resp
		}
		is.SeverityID, is.Findings, is.Count = int(sev), int(findings), int(count)
		is.FirstSeen, is.LastSeen = is.FirstSeen.UTC(), is.LastSeen.UTC()
		out = append(out, is)
	}
	return out, rows.Err()
}

func (s *Store) list(ctx context.Context, table, key string, q store.Query) (store.Page, error) {
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	if q.ByRisk && table == "findings" {
		return s.findingsByRisk(ctx, q, limit)
	}
	c := filters(q)
	keyExpr := "r." + key
	if !q.After.IsZero() {
		var k any = q.After.Key
		if key == "time" {
			k = time.UnixMilli(q.After.Key).UTC()
		}
		// the first term bounds an index range; the OR alone may scan
		c.add(keyExpr+" <= $1? AND ("+keyExpr+" < $1? OR r.id > $2?)", k, q.After.ID)
	}
	query := "SELECT " + columnsOf(table) + fromJoined(table) + "WHERE " + strings.Join(c.where, " AND ") +
		" ORDER BY " + keyExpr + " DESC, r.id ASC LIMIT " + strconv.Itoa(limit+1)
	recs, err := collect(ctx, s.pool, query, c.args, false)
	if err != nil {
		return store.Page{}, fmt.Errorf("postgres: listing %s: %w", table, s.scrub(err))
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
// index issue_risks_by_score (an index-only backward scan: it includes
// issue_key), joined to their findings through findings_by_issue, and an
// incremental sort orders each score's findings by id, so that the LIMIT
// stops after the first scores; when they do not fill the page, the
// unscored findings are read by id. Filters that leave few findings would
// make that walk visit every issue, so it goes no further than the
// riskWalk-th issue's score: below it, what is left is listed by one
// sorted pass over the findings, as before. The statements run in one
// read-only repeatable-read transaction, so that a page is one snapshot as
// a single statement would be. Stored scores are never negative
// (internal/risk: 0–100): a cursor with key -1 is in the unscored part.
func (s *Store) findingsByRisk(ctx context.Context, q store.Query, limit int) (store.Page, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.Page{}, fmt.Errorf("postgres: listing findings by risk: %w", s.scrub(err))
	}
	defer tx.Rollback(ctx)
	// a parallel plan gathers the workers' sorted groups (Gather Merge),
	// which costs more than the serial walk of the first scores
	if _, err := tx.Exec(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
		return store.Page{}, fmt.Errorf("postgres: listing findings by risk: %w", s.scrub(err))
	}
	var recs []store.Record
	if q.After.IsZero() || q.After.Key >= 0 {
		// the walk's bound: the score of the riskWalk-th issue from the
		// cursor on (none: the walk reaches the last scored issue)
		var bound *int32
		bq, bargs := "SELECT score FROM issue_risks WHERE tenant = $1 AND issue_key <> ''", []any{textSafe(q.Tenant), riskWalk - 1}
		if !q.After.IsZero() {
			bq += " AND score <= $3"
			bargs = append(bargs, q.After.Key)
		}
		err := tx.QueryRow(ctx, bq+" ORDER BY score DESC LIMIT 1 OFFSET $2", bargs...).Scan(&bound)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return store.Page{}, fmt.Errorf("postgres: listing findings by risk: %w", s.scrub(err))
		}
		c := filters(q)
		c.add("ir.tenant = $1? AND ir.issue_key <> ''", textSafe(q.Tenant))
		if q.IssueKey != "" {
			// one issue: its risk by key, not a walk of all scores
			c.add("ir.issue_key = $1?", textSafe(q.IssueKey))
		}
		if !q.After.IsZero() {
			c.add("ir.score <= $1? AND (ir.score < $1? OR r.id > $2?)", q.After.Key, q.After.ID)
		}
		if bound != nil {
			c.add("ir.score >= $1?", *bound)
		}
		query := "SELECT " + columnsOf("findings") + ", k.score FROM (SELECT ir.score, r.id" +
			" FROM issue_risks ir JOIN findings r ON r.tenant = ir.tenant AND r.issue_key = ir.issue_key WHERE " + strings.Join(c.where, " AND ") +
			" ORDER BY ir.score DESC, r.id LIMIT " + strconv.Itoa(limit+1) + ") k" +
			" JOIN findings r ON r.id = k.id JOIN finding_docs d ON d.id = r.id ORDER BY k.score DESC, k.id"
		if recs, err = collect(ctx, tx, query, c.args, true); err != nil {
			return store.Page{}, fmt.Errorf("postgres: listing findings by risk: %w", s.scrub(err))
		}
		if len(recs) <= limit && bound != nil {
			// the rest, scored below the bound and unscored: one pass
			c := filters(q)
			c.add("coalesce(ir.score, -1) < $1?", *bound)
			query := "SELECT " + columnsOf("findings") + ", coalesce(ir.score, -1)" + fromJoined("findings") +
				"LEFT JOIN issue_risks ir ON ir.tenant = r.tenant AND ir.issue_key = r.issue_key AND r.issue_key <> '' WHERE " + strings.Join(c.where, " AND ") +
				" ORDER BY coalesce(ir.score, -1) DESC, r.id LIMIT " + strconv.Itoa(limit+1-len(recs))
			more, err := collect(ctx, tx, query, c.args, true)
			if err != nil {
				return store.Page{}, fmt.Errorf("postgres: listing findings by risk: %w", s.scrub(err))
			}
			recs = append(recs, more...)
			return s.endByRisk(ctx, tx, recs, limit)
		}
	}
	if len(recs) <= limit {
		c := filters(q)
		c.add("NOT EXISTS (SELECT 1 FROM issue_risks ir WHERE ir.tenant = r.tenant AND ir.issue_key = r.issue_key AND r.issue_key <> '')")
		if !q.After.IsZero() && q.After.Key < 0 {
			c.add("r.id > $1?", q.After.ID)
		}
		query := "SELECT " + columnsOf("findings") + ", -1" + fromJoined("findings") + "WHERE " + strings.Join(c.where, " AND ") +
			" ORDER BY r.id LIMIT " + strconv.Itoa(limit+1-len(recs))
		more, err := collect(ctx, tx, query, c.args, true)
		if err != nil {
			return store.Page{}, fmt.Errorf("postgres: listing unscored findings: %w", s.scrub(err))
		}
		recs = append(recs, more...)
	}
	return s.endByRisk(ctx, tx, recs, limit)
}

// endByRisk commits a listing's read transaction and makes its page.
func (s *Store) endByRisk(ctx context.Context, tx pgx.Tx, recs []store.Record, limit int) (store.Page, error) {
	if err := tx.Commit(ctx); err != nil {
		return store.Page{}, fmt.Errorf("postgres: listing findings by risk: %w", s.scrub(err))
	}
	return page(recs, limit, func(r store.Record) int64 { return int64(r.RiskScore) }), nil
}

// collect runs a listing query and scans its records.
func collect(ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, query string, args []any, withRisk bool) ([]store.Record, error) {
	rows, err := db.Query(ctx, query, args...)
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

func int32s(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
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
	r, err := scanRecord(s.pool.QueryRow(ctx, "SELECT "+columnsOf(table)+fromJoined(table)+"WHERE r.tenant = $1 AND r.id = $2", textSafe(tenant), id), false)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, store.ErrNotFound
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: reading %s %d: %w", table, id, s.scrub(err))
	}
	return r, nil
}

// Counts returns the tenant's number of findings and events, summed from
// the counters the triggers keep (see Stats).
func (s *Store) Counts(ctx context.Context, tenant string) (findings, events int64, err error) {
	err = s.pool.QueryRow(ctx, "SELECT (SELECT coalesce(sum(n), 0) FROM finding_counts WHERE tenant = $1)::bigint, (SELECT coalesce(sum(n), 0) FROM event_counts WHERE tenant = $1)::bigint",
		textSafe(tenant)).Scan(&findings, &events)
	if err != nil {
		err = fmt.Errorf("postgres: counting: %w", s.scrub(err))
	}
	return findings, events, err
}

// CreateToken stores a token.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO tokens (id, name, tenant, role, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
		textSafe(t.ID), textSafe(t.Name), textSafe(t.Tenant), string(t.Role), textSafe(t.Hash), ms(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: creating token %s: %w", t.Name, s.scrub(err))
	}
	return nil
}

const tokenColumns = "id, name, tenant, role, hash, created_at, revoked_at"

func scanToken(sc pgx.Row) (store.Token, error) {
	var t store.Token
	var role string
	var revoked *time.Time
	err := sc.Scan(&t.ID, &t.Name, &t.Tenant, &role, &t.Hash, &t.CreatedAt, &revoked)
	t.Role = store.Role(role)
	t.CreatedAt = t.CreatedAt.UTC()
	if revoked != nil {
		t.RevokedAt = revoked.UTC()
	}
	return t, err
}

// TokenByHash finds a valid token by the hash of its secret.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = $1 AND revoked_at IS NULL", textSafe(hash)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("postgres: reading token: %w", s.scrub(err))
	}
	return t, nil
}

// ListTokens lists all tokens, revoked ones included.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tokens: %w", s.scrub(err))
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: listing tokens: %w", s.scrub(err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: listing tokens: %w", s.scrub(err))
	}
	return out, nil
}

// RevokeToken revokes a token by id.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", ms(time.Now()), textSafe(id))
	if err != nil {
		return fmt.Errorf("postgres: revoking token %s: %w", id, s.scrub(err))
	}
	if tag.RowsAffected() == 0 {
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
	_, err := s.pool.Exec(ctx, "INSERT INTO jobs (id, tenant, name, format, status, batches, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
		textSafe(j.ID), textSafe(j.Tenant), textSafe(j.Name), textSafe(j.Format), string(status), j.Batches, ms(now))
	if err != nil {
		return fmt.Errorf("postgres: creating job %s: %w", j.ID, s.scrub(err))
	}
	return nil
}

const jobColumns = "id, tenant, name, format, status, batches, batches_done, records, findings_new, findings_updated, events, created_at, updated_at"

func scanJob(sc pgx.Row) (store.Job, error) {
	var j store.Job
	var status string
	err := sc.Scan(&j.ID, &j.Tenant, &j.Name, &j.Format, &status, &j.Batches, &j.BatchesDone,
		&j.Records, &j.FindingsNew, &j.FindingsUpdated, &j.Events, &j.CreatedAt, &j.UpdatedAt)
	j.Status = store.JobStatus(status)
	j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	return j, err
}

// Job returns one of the tenant's jobs.
func (s *Store) Job(ctx context.Context, tenant, id string) (store.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, "SELECT "+jobColumns+" FROM jobs WHERE tenant = $1 AND id = $2", textSafe(tenant), textSafe(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Job{}, store.ErrNotFound
	}
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: reading job %s: %w", id, s.scrub(err))
	}
	return j, nil
}
