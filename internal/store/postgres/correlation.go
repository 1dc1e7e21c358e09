package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canopy-sec/canopy/internal/store"
)

// CorrelationState returns where the tenant's correlation stands.
func (s *Store) CorrelationState(ctx context.Context, tenant string) (store.CorrelationState, error) {
	var st store.CorrelationState
	err := s.pool.QueryRow(ctx, "SELECT records FROM correlation_state WHERE tenant = $1", textSafe(tenant)).Scan(&st.Records)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.CorrelationState{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("postgres: reading correlation state: %w", s.scrub(err))
	}
	st.Built = true
	return st, nil
}

// Queued returns records waiting for correlation.
func (s *Store) Queued(ctx context.Context, tenant string, limit int) ([]store.Ref, error) {
	rows, err := s.pool.Query(ctx, "SELECT ref FROM correlation_queue WHERE tenant = $1 ORDER BY ref LIMIT $2", textSafe(tenant), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the correlation queue: %w", s.scrub(err))
	}
	defer rows.Close()
	var out []store.Ref
	for rows.Next() {
		var ref int64
		if err := rows.Scan(&ref); err != nil {
			return nil, fmt.Errorf("postgres: reading the correlation queue: %w", s.scrub(err))
		}
		out = append(out, store.Ref(ref))
	}
	return out, rows.Err()
}

func (s *Store) records(ctx context.Context, table, query string, args ...any) ([]store.Record, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+columnsOf(table)+fromJoined(table)+query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading %s: %w", table, s.scrub(err))
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows, false)
		if err != nil {
			return nil, fmt.Errorf("postgres: reading %s: %w", table, s.scrub(err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: reading %s: %w", table, s.scrub(err))
	}
	return out, nil
}

// RecordsByRef returns the records with the given refs.
func (s *Store) RecordsByRef(ctx context.Context, tenant string, refs []store.Ref) (map[store.Ref]store.Record, error) {
	var findings, events []int64
	for _, r := range refs {
		if r.IsEvent() {
			events = append(events, r.ID())
		} else {
			findings = append(findings, r.ID())
		}
	}
	out := make(map[store.Ref]store.Record, len(refs))
	for table, ids := range map[string][]int64{"findings": findings, "events": events} {
		if len(ids) == 0 {
			continue
		}
		recs, err := s.records(ctx, table, "WHERE r.tenant = $1 AND r.id = ANY($2::bigint[])", textSafe(tenant), ids)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if table == "events" {
				out[store.EventRef(r.ID)] = r
			} else {
				out[store.FindingRef(r.ID)] = r
			}
		}
	}
	return out, nil
}

// EntityCounts returns how many indexed records name each entity.
func (s *Store) EntityCounts(ctx context.Context, tenant string, hashes []int64) (map[int64]int, error) {
	out := make(map[int64]int, len(hashes))
	rows, err := s.pool.Query(ctx, "SELECT hash, refs FROM entities WHERE tenant = $1 AND hash = ANY($2::bigint[])", textSafe(tenant), hashes)
	if err != nil {
		return nil, fmt.Errorf("postgres: counting entities: %w", s.scrub(err))
	}
	defer rows.Close()
	for rows.Next() {
		var h, n int64
		if err := rows.Scan(&h, &n); err != nil {
			return nil, fmt.Errorf("postgres: counting entities: %w", s.scrub(err))
		}
		out[h] = int(n)
	}
	return out, rows.Err()
}

// EntityRefs returns the indexed records naming the entities within [from, to].
func (s *Store) EntityRefs(ctx context.Context, tenant string, hashes []int64, from, to time.Time) ([]store.EntityRef, error) {
	rows, err := s.pool.Query(ctx, "SELECT hash, ref, time FROM entity_refs WHERE tenant = $1 AND hash = ANY($2::bigint[]) AND time BETWEEN $3 AND $4",
		textSafe(tenant), hashes, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("postgres: reading entity index: %w", s.scrub(err))
	}
	defer rows.Close()
	var out []store.EntityRef
	for rows.Next() {
		var h, ref, tm int64
		if err := rows.Scan(&h, &ref, &tm); err != nil {
			return nil, fmt.Errorf("postgres: reading entity index: %w", s.scrub(err))
		}
		out = append(out, store.EntityRef{Hash: h, Ref: store.Ref(ref), Time: time.UnixMilli(tm).UTC()})
	}
	return out, rows.Err()
}

// IncidentsOf returns the incident of each ref that has one.
func (s *Store) IncidentsOf(ctx context.Context, tenant string, refs []store.Ref) (map[store.Ref]string, error) {
	vals := make([]int64, len(refs))
	for i, r := range refs {
		vals[i] = int64(r)
	}
	out := make(map[store.Ref]string)
	rows, err := s.pool.Query(ctx, "SELECT ref, incident FROM incident_members WHERE tenant = $1 AND ref = ANY($2::bigint[])", textSafe(tenant), vals)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading incident members: %w", s.scrub(err))
	}
	defer rows.Close()
	for rows.Next() {
		var ref int64
		var id string
		if err := rows.Scan(&ref, &id); err != nil {
			return nil, fmt.Errorf("postgres: reading incident members: %w", s.scrub(err))
		}
		out[store.Ref(ref)] = id
	}
	return out, rows.Err()
}

// AllIncidentMembers calls fn for every member of the tenant's incidents.
func (s *Store) AllIncidentMembers(ctx context.Context, tenant string, fn func(store.Ref, string) error) error {
	rows, err := s.pool.Query(ctx, "SELECT ref, incident FROM incident_members WHERE tenant = $1", textSafe(tenant))
	if err != nil {
		return fmt.Errorf("postgres: reading incident members: %w", s.scrub(err))
	}
	defer rows.Close()
	for rows.Next() {
		var ref int64
		var id string
		if err := rows.Scan(&ref, &id); err != nil {
			return fmt.Errorf("postgres: reading incident members: %w", s.scrub(err))
		}
		if err := fn(store.Ref(ref), id); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ApplyCorrelation writes one correlation step in one transaction.
func (s *Store) ApplyCorrelation(ctx context.Context, u store.CorrelationUpdate) (err error) {
	tenant := textSafe(u.Tenant)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", s.scrub(err))
	}
	defer func() {
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			var pe *pgconn.PgError
			if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
				err = fmt.Errorf("%w: %w", store.ErrConflict, err)
			}
			err = fmt.Errorf("postgres: writing correlation: %w", s.scrub(err))
		}
	}()
	// the state row is locked for the transaction: concurrent steps for
	// the same tenant take turns
	if _, err := tx.Exec(ctx, "INSERT INTO correlation_state (tenant, records) VALUES ($1, 0) ON CONFLICT DO NOTHING", tenant); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM correlation_state WHERE tenant = $1 FOR UPDATE", tenant); err != nil {
		return err
	}
	if u.Reset {
		for _, t := range []string{"entities", "entity_refs", "incidents", "incident_members", "issue_risks"} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+t+" WHERE tenant = $1", tenant); err != nil {
				return err
			}
		}
	}
	done := make([]int64, len(u.Done))
	for i, r := range u.Done {
		done[i] = int64(r)
	}
	tag, err := tx.Exec(ctx, "DELETE FROM correlation_queue WHERE tenant = $1 AND ref = ANY($2::bigint[])", tenant, done)
	if err != nil {
		return err
	}
	if !u.Reset && tag.RowsAffected() != int64(len(u.Done)) {
		return store.ErrConflict // another step took some of them
	}
	set := "records = records + $2"
	if u.Reset {
		set = "records = $2"
	}
	if _, err := tx.Exec(ctx, "UPDATE correlation_state SET "+set+" WHERE tenant = $1", tenant, int64(len(u.Done))); err != nil {
		return err
	}
	if err := writeEntities(ctx, tx, tenant, u.Entities); err != nil {
		return err
	}
	if len(u.Delete) > 0 {
		ids := make([]string, len(u.Delete))
		for i, id := range u.Delete {
			ids[i] = textSafe(id)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM incidents WHERE tenant = $1 AND id = ANY($2::text[])", tenant, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM incident_members WHERE tenant = $1 AND incident = ANY($2::text[])", tenant, ids); err != nil {
			return err
		}
	}
	if err := writeIncidents(ctx, tx, tenant, u.Put); err != nil {
		return err
	}
	if len(u.Risks) > 0 {
		keys, scores, docs := make([]string, len(u.Risks)), make([]int32, len(u.Risks)), make([]string, len(u.Risks))
		resps := make([]*string, len(u.Risks))
		for i, r := range u.Risks {
			keys[i], scores[i], docs[i] = textSafe(r.Key), int32(r.Score), string(jsonbSafe(r.Doc))
			if r.Responsibility != nil {
				v := string(jsonbSafe(r.Responsibility))
				resps[i] = &v
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO issue_risks (tenant, issue_key, score, doc, responsibility)
			SELECT $1, k, s, d::json, r::json FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) AS t(k, s, d, r)
			ON CONFLICT (tenant, issue_key) DO UPDATE SET score = excluded.score, doc = excluded.doc, responsibility = excluded.responsibility`,
			tenant, keys, scores, docs, resps); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func writeEntities(ctx context.Context, tx pgx.Tx, tenant string, rows iter.Seq[store.EntityRow]) error {
	if rows == nil {
		return nil
	}
	type ent struct {
		kind, value string
		n           int64
	}
	ents := map[int64]*ent{}
	next, stop := iter.Pull(rows)
	defer stop()
	// a record leaves the queue once (ApplyCorrelation checked), or the
	// tenant's index was just reset, so the index rows are new: COPY them,
	// counting them per entity on the way
	var cur store.EntityRow
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"entity_refs"}, []string{"tenant", "hash", "time", "ref"}, pgx.CopyFromFunc(func() ([]any, error) {
		r, ok := next()
		if !ok {
			return nil, nil
		}
		cur = r
		e := ents[r.Hash]
		if e == nil {
			e = &ent{kind: textSafe(r.Kind), value: textSafe(r.Value)}
			ents[r.Hash] = e
		}
		e.n++
		return []any{tenant, cur.Hash, cur.Time.UnixMilli(), int64(cur.Ref)}, nil
	}))
	if err != nil {
		return err
	}
	hashes := make([]int64, 0, len(ents))
	for h := range ents {
		hashes = append(hashes, h)
	}
	// sorted, so that concurrent writers lock rows in the same order
	sort.Slice(hashes, func(a, b int) bool { return hashes[a] < hashes[b] })
	for len(hashes) > 0 {
		part := hashes[:min(len(hashes), 10000)]
		hashes = hashes[len(part):]
		kinds, values, counts := make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for i, h := range part {
			kinds[i], values[i], counts[i] = ents[h].kind, ents[h].value, ents[h].n
		}
		if _, err := tx.Exec(ctx, `INSERT INTO entities (tenant, hash, kind, value, refs)
			SELECT $1, h, k, v, n FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS t(h, k, v, n)
			ON CONFLICT (tenant, hash) DO UPDATE SET refs = entities.refs + excluded.refs`, tenant, part, kinds, values, counts); err != nil {
			return err
		}
	}
	return nil
}

func writeIncidents(ctx context.Context, tx pgx.Tx, tenant string, incs []store.IncidentRow) error {
	for _, in := range incs {
		if _, err := tx.Exec(ctx, `INSERT INTO incidents (tenant, id, title, risk, severity_id, tactics, members, first_seen, last_seen, updated_at, doc, party)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::json,$12) ON CONFLICT (tenant, id) DO UPDATE SET title = excluded.title, risk = excluded.risk,
			severity_id = excluded.severity_id, tactics = excluded.tactics, members = excluded.members, first_seen = excluded.first_seen,
			last_seen = excluded.last_seen, updated_at = excluded.updated_at, doc = excluded.doc, party = excluded.party`,
			tenant, textSafe(in.ID), textSafe(in.Title), in.Risk, in.SeverityID, in.Tactics, len(in.Members),
			in.FirstSeen.UnixMilli(), in.LastSeen.UnixMilli(), in.UpdatedAt.UnixMilli(), string(jsonbSafe(in.Doc)), textSafe(in.Party)); err != nil {
			return err
		}
		// members that left the incident (a split) are dropped; the
		// incident they joined writes them again
		if _, err := tx.Exec(ctx, "DELETE FROM incident_members WHERE tenant = $1 AND incident = $2", tenant, textSafe(in.ID)); err != nil {
			return err
		}
		refs, pos := make([]int64, len(in.Members)), make([]int64, len(in.Members))
		for i, r := range in.Members {
			refs[i], pos[i] = int64(r), int64(i)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incident_members (tenant, ref, incident, pos)
			SELECT $1, r, $2, p FROM unnest($3::bigint[], $4::bigint[]) AS t(r, p)
			ON CONFLICT (tenant, ref) DO UPDATE SET incident = excluded.incident, pos = excluded.pos`, tenant, textSafe(in.ID), refs, pos); err != nil {
			return err
		}
	}
	return nil
}

const incidentColumns = "id, tenant, title, risk, severity_id, tactics, first_seen, last_seen, updated_at, doc, party"

func scanIncident(sc pgx.Row) (store.IncidentRow, error) {
	var in store.IncidentRow
	var risk, sev, tactics int32
	var first, last, updated int64
	var doc []byte
	err := sc.Scan(&in.ID, &in.Tenant, &in.Title, &risk, &sev, &tactics, &first, &last, &updated, &doc, &in.Party)
	in.Risk, in.SeverityID, in.Tactics = int(risk), int(sev), int(tactics)
	in.FirstSeen, in.LastSeen, in.UpdatedAt = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC(), time.UnixMilli(updated).UTC()
	in.Doc = doc
	return in, err
}

// Incidents lists the tenant's incidents, riskiest first.
func (s *Store) Incidents(ctx context.Context, q store.IncidentQuery) ([]store.IncidentRow, error) {
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	rows, err := s.pool.Query(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE tenant = $1 AND risk >= $2 AND ($5 = '' OR party = $5) ORDER BY risk DESC, last_seen DESC, id LIMIT $3 OFFSET $4",
		textSafe(q.Tenant), q.MinRisk, limit, max(q.Offset, 0), textSafe(q.Party))
	if err != nil {
		return nil, fmt.Errorf("postgres: listing incidents: %w", s.scrub(err))
	}
	defer rows.Close()
	var out []store.IncidentRow
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: listing incidents: %w", s.scrub(err))
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Incident returns one incident with its members.
func (s *Store) Incident(ctx context.Context, tenant, id string) (store.IncidentRow, error) {
	in, err := scanIncident(s.pool.QueryRow(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE tenant = $1 AND id = $2", textSafe(tenant), textSafe(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.IncidentRow{}, store.ErrNotFound
	}
	if err != nil {
		return store.IncidentRow{}, fmt.Errorf("postgres: reading incident %s: %w", id, s.scrub(err))
	}
	rows, err := s.pool.Query(ctx, "SELECT ref FROM incident_members WHERE tenant = $1 AND incident = $2 ORDER BY pos", textSafe(tenant), textSafe(id))
	if err != nil {
		return store.IncidentRow{}, fmt.Errorf("postgres: reading incident %s: %w", id, s.scrub(err))
	}
	defer rows.Close()
	for rows.Next() {
		var ref int64
		if err := rows.Scan(&ref); err != nil {
			return store.IncidentRow{}, fmt.Errorf("postgres: reading incident %s: %w", id, s.scrub(err))
		}
		in.Members = append(in.Members, store.Ref(ref))
	}
	return in, rows.Err()
}

func safeKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = textSafe(k)
	}
	return out
}

// IssueRisks returns the stored risk of each issue key given.
func (s *Store) IssueRisks(ctx context.Context, tenant string, keys []string) (map[string]store.IssueRisk, error) {
	out := make(map[string]store.IssueRisk, len(keys))
	rows, err := s.pool.Query(ctx, "SELECT issue_key, score, doc FROM issue_risks WHERE tenant = $1 AND issue_key = ANY($2::text[])", textSafe(tenant), safeKeys(keys))
	if err != nil {
		return nil, fmt.Errorf("postgres: reading issue risks: %w", s.scrub(err))
	}
	defer rows.Close()
	for rows.Next() {
		var r store.IssueRisk
		var score int32
		var doc []byte
		if err := rows.Scan(&r.Key, &score, &doc); err != nil {
			return nil, fmt.Errorf("postgres: reading issue risks: %w", s.scrub(err))
		}
		r.Score, r.Doc = int(score), doc
		out[r.Key] = r
	}
	return out, rows.Err()
}

// IssueSizes returns how many findings carry each issue key.
func (s *Store) IssueSizes(ctx context.Context, tenant string, keys []string) (map[string]int, error) {
	out := make(map[string]int, len(keys))
	rows, err := s.pool.Query(ctx, "SELECT issue_key, count(*) FROM findings WHERE tenant = $1 AND issue_key = ANY($2::text[]) GROUP BY issue_key", textSafe(tenant), safeKeys(keys))
	if err != nil {
		return nil, fmt.Errorf("postgres: counting issues: %w", s.scrub(err))
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("postgres: counting issues: %w", s.scrub(err))
		}
		out[k] = int(n)
	}
	return out, rows.Err()
}

// SetAttributions records who must act on findings.
func (s *Store) SetAttributions(ctx context.Context, tenant string, rows []store.Attribution) error {
	if len(rows) == 0 {
		return nil
	}
	ids, parties, areas, docs := make([]int64, len(rows)), make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		ids[i], parties[i], areas[i], docs[i] = r.ID, textSafe(r.Party), textSafe(r.Area), string(jsonbSafe(r.Doc))
	}
	_, err := s.pool.Exec(ctx, `UPDATE findings f SET party = t.p, area = t.a, responsibility = t.d::json
		FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS t(id, p, a, d) WHERE f.tenant = $1 AND f.id = t.id`,
		textSafe(tenant), ids, parties, areas, docs)
	if err != nil {
		return fmt.Errorf("postgres: storing attributions: %w", s.scrub(err))
	}
	return nil
}

// PutContract stores the tenant's contract.
func (s *Store) PutContract(ctx context.Context, tenant, name string, doc []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO contracts (tenant, name, doc, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (tenant) DO UPDATE SET name = excluded.name, doc = excluded.doc, updated_at = excluded.updated_at`, textSafe(tenant), textSafe(name), doc, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("postgres: storing the contract of %s: %w", tenant, s.scrub(err))
	}
	return nil
}

// Contract returns the tenant's contract.
func (s *Store) Contract(ctx context.Context, tenant string) (string, []byte, error) {
	var name string
	var doc []byte
	err := s.pool.QueryRow(ctx, "SELECT name, doc FROM contracts WHERE tenant = $1", textSafe(tenant)).Scan(&name, &doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, store.ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("postgres: reading the contract of %s: %w", tenant, s.scrub(err))
	}
	return name, doc, nil
}
