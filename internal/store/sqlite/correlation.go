package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// inChunk is how many values one IN (…) list carries.
const inChunk = 500

// CorrelationState returns where the tenant's correlation stands.
func (s *Store) CorrelationState(ctx context.Context, tenant string) (store.CorrelationState, error) {
	var st store.CorrelationState
	err := s.r.QueryRowContext(ctx, "SELECT records FROM correlation_state WHERE tenant = ?", tenant).Scan(&st.Records)
	if errors.Is(err, sql.ErrNoRows) {
		return store.CorrelationState{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("sqlite: reading correlation state: %w", err)
	}
	st.Built = true
	return st, nil
}

// Queued returns records waiting for correlation.
func (s *Store) Queued(ctx context.Context, tenant string, limit int) ([]store.Ref, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT ref FROM correlation_queue WHERE tenant = ? ORDER BY ref LIMIT ?", tenant, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the correlation queue: %w", err)
	}
	defer rows.Close()
	var out []store.Ref
	for rows.Next() {
		var ref int64
		if err := rows.Scan(&ref); err != nil {
			return nil, fmt.Errorf("sqlite: reading the correlation queue: %w", err)
		}
		out = append(out, store.Ref(ref))
	}
	return out, rows.Err()
}

func collectRecords(rows *sql.Rows, table string) ([]store.Record, error) {
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows, false)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading %s: %w", table, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading %s: %w", table, err)
	}
	return out, nil
}

// RecordsByRef returns the records with the given refs.
func (s *Store) RecordsByRef(ctx context.Context, tenant string, refs []store.Ref) (map[store.Ref]store.Record, error) {
	out := make(map[store.Ref]store.Record, len(refs))
	for _, events := range []bool{false, true} {
		table := "findings"
		if events {
			table = "events"
		}
		var ids []any
		for _, r := range refs {
			if r.IsEvent() == events {
				ids = append(ids, r.ID())
			}
		}
		for len(ids) > 0 {
			n := min(len(ids), inChunk)
			rows, err := s.r.QueryContext(ctx, "SELECT "+columnsOf(table)+fromJoined(table)+"WHERE +r.tenant = ? AND r.id IN ("+placeholders(n)+")", append([]any{tenant}, ids[:n]...)...)
			if err != nil {
				return nil, fmt.Errorf("sqlite: reading %s: %w", table, err)
			}
			recs, err := collectRecords(rows, table)
			if err != nil {
				return nil, err
			}
			for _, r := range recs {
				if events {
					out[store.EventRef(r.ID)] = r
				} else {
					out[store.FindingRef(r.ID)] = r
				}
			}
			ids = ids[n:]
		}
	}
	return out, nil
}

// EntityCounts returns how many indexed records name each entity.
func (s *Store) EntityCounts(ctx context.Context, tenant string, hashes []int64) (map[int64]int, error) {
	out := make(map[int64]int, len(hashes))
	err := chunks(hashes, func(part []any) error {
		rows, err := s.r.QueryContext(ctx, "SELECT hash, refs FROM entities WHERE tenant = ? AND hash IN ("+placeholders(len(part))+")", append([]any{tenant}, part...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h int64
			var n int
			if err := rows.Scan(&h, &n); err != nil {
				return err
			}
			out[h] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: counting entities: %w", err)
	}
	return out, nil
}

// EntityRefs returns the indexed records naming the entities within [from, to].
func (s *Store) EntityRefs(ctx context.Context, tenant string, hashes []int64, from, to time.Time) ([]store.EntityRef, error) {
	var out []store.EntityRef
	lo, hi := from.UnixMilli(), to.UnixMilli()
	err := chunks(hashes, func(part []any) error {
		// one range per hash uses the primary key
		for _, h := range part {
			rows, err := s.r.QueryContext(ctx, "SELECT ref, time FROM entity_refs WHERE tenant = ? AND hash = ? AND time BETWEEN ? AND ?", tenant, h, lo, hi)
			if err != nil {
				return err
			}
			for rows.Next() {
				var ref, tm int64
				if err := rows.Scan(&ref, &tm); err != nil {
					rows.Close()
					return err
				}
				out = append(out, store.EntityRef{Hash: h.(int64), Ref: store.Ref(ref), Time: time.UnixMilli(tm).UTC()})
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading entity index: %w", err)
	}
	return out, nil
}

// IncidentsOf returns the incident of each ref that has one.
func (s *Store) IncidentsOf(ctx context.Context, tenant string, refs []store.Ref) (map[store.Ref]string, error) {
	out := make(map[store.Ref]string)
	vals := make([]int64, len(refs))
	for i, r := range refs {
		vals[i] = int64(r)
	}
	err := chunks(vals, func(part []any) error {
		rows, err := s.r.QueryContext(ctx, "SELECT ref, incident FROM incident_members WHERE tenant = ? AND ref IN ("+placeholders(len(part))+")", append([]any{tenant}, part...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ref int64
			var id string
			if err := rows.Scan(&ref, &id); err != nil {
				return err
			}
			out[store.Ref(ref)] = id
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading incident members: %w", err)
	}
	return out, nil
}

// AllIncidentMembers calls fn for every member of the tenant's incidents.
func (s *Store) AllIncidentMembers(ctx context.Context, tenant string, fn func(store.Ref, string) error) error {
	rows, err := s.r.QueryContext(ctx, "SELECT ref, incident FROM incident_members WHERE tenant = ?", tenant)
	if err != nil {
		return fmt.Errorf("sqlite: reading incident members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref int64
		var id string
		if err := rows.Scan(&ref, &id); err != nil {
			return fmt.Errorf("sqlite: reading incident members: %w", err)
		}
		if err := fn(store.Ref(ref), id); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ApplyCorrelation writes one correlation step in one transaction.
func (s *Store) ApplyCorrelation(ctx context.Context, u store.CorrelationUpdate) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("sqlite: writing correlation: %w", err)
		}
	}()
	if u.Reset {
		for _, t := range []string{"entities", "entity_refs", "incidents", "incident_members", "issue_risks"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE tenant = ?", u.Tenant); err != nil {
				return err
			}
		}
	}
	done := make([]int64, len(u.Done))
	for i, r := range u.Done {
		done[i] = int64(r)
	}
	removed := 0
	if err := chunks(done, func(part []any) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM correlation_queue WHERE tenant = ? AND ref IN ("+placeholders(len(part))+")", append([]any{u.Tenant}, part...)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		removed += int(n)
		return err
	}); err != nil {
		return err
	}
	if !u.Reset && removed != len(u.Done) {
		return store.ErrConflict // another step took some of them
	}
	set := "records = correlation_state.records + excluded.records"
	if u.Reset {
		set = "records = excluded.records"
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO correlation_state (tenant, records) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET "+set,
		u.Tenant, len(u.Done)); err != nil {
		return err
	}
	if err := writeEntities(ctx, tx, u.Tenant, u.Entities); err != nil {
		return err
	}
	for _, id := range u.Delete {
		if _, err := tx.ExecContext(ctx, "DELETE FROM incidents WHERE tenant = ? AND id = ?", u.Tenant, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM incident_members WHERE tenant = ? AND incident = ?", u.Tenant, id); err != nil {
			return err
		}
	}
	if err := writeIncidents(ctx, tx, u.Tenant, u.Put); err != nil {
		return err
	}
	for _, r := range u.Risks {
		var resp []byte
		if r.Responsibility != nil {
			resp = r.Responsibility
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_risks (tenant, issue_key, score, doc, responsibility) VALUES (?,?,?,?,?)
			ON CONFLICT (tenant, issue_key) DO UPDATE SET score = excluded.score, doc = excluded.doc, responsibility = excluded.responsibility`,
			u.Tenant, r.Key, r.Score, []byte(r.Doc), resp); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.kickCheckpoint()
	return nil
}

func writeEntities(ctx context.Context, tx *sql.Tx, tenant string, rows iter.Seq[store.EntityRow]) error {
	if rows == nil {
		return nil
	}
	type ent struct {
		kind, value string
		n           int
	}
	ents := map[int64]*ent{}
	// a record leaves the queue once (ApplyCorrelation checked), or the
	// tenant's index was just reset, so the index rows are new: insert
	// them many to a statement, counting them per entity on the way
	const perStatement = 500
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO entity_refs (tenant, hash, time, ref) VALUES "+strings.TrimSuffix(strings.Repeat("(?,?,?,?),", len(args)/4), ","), args...)
		args = args[:0]
		return err
	}
	for r := range rows {
		args = append(args, tenant, r.Hash, r.Time.UnixMilli(), int64(r.Ref))
		e := ents[r.Hash]
		if e == nil {
			e = &ent{kind: r.Kind, value: r.Value}
			ents[r.Hash] = e
		}
		e.n++
		if len(args) == 4*perStatement {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	hashes := make([]int64, 0, len(ents))
	for h := range ents {
		hashes = append(hashes, h)
	}
	sort.Slice(hashes, func(a, b int) bool { return hashes[a] < hashes[b] })
	up, err := tx.PrepareContext(ctx, "INSERT INTO entities (tenant, hash, kind, value, refs) VALUES (?,?,?,?,?) ON CONFLICT (tenant, hash) DO UPDATE SET refs = entities.refs + excluded.refs")
	if err != nil {
		return err
	}
	defer up.Close()
	for _, h := range hashes {
		e := ents[h]
		if _, err := up.ExecContext(ctx, tenant, h, e.kind, e.value, e.n); err != nil {
			return err
		}
	}
	return nil
}

func writeIncidents(ctx context.Context, tx *sql.Tx, tenant string, incs []store.IncidentRow) error {
	if len(incs) == 0 {
		return nil
	}
	put, err := tx.PrepareContext(ctx, `INSERT INTO incidents (tenant, id, title, risk, severity_id, tactics, members, first_seen, last_seen, updated_at, doc, party)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (tenant, id) DO UPDATE SET title = excluded.title, risk = excluded.risk,
		severity_id = excluded.severity_id, tactics = excluded.tactics, members = excluded.members, first_seen = excluded.first_seen,
		last_seen = excluded.last_seen, updated_at = excluded.updated_at, doc = excluded.doc, party = excluded.party`)
	if err != nil {
		return err
	}
	defer put.Close()
	member, err := tx.PrepareContext(ctx, `INSERT INTO incident_members (tenant, ref, incident, pos) VALUES (?,?,?,?)
		ON CONFLICT (tenant, ref) DO UPDATE SET incident = excluded.incident, pos = excluded.pos`)
	if err != nil {
		return err
	}
	defer member.Close()
	for _, in := range incs {
		if _, err := put.ExecContext(ctx, tenant, in.ID, in.Title, in.Risk, in.SeverityID, in.Tactics, len(in.Members),
			in.FirstSeen.UnixMilli(), in.LastSeen.UnixMilli(), in.UpdatedAt.UnixMilli(), []byte(in.Doc), in.Party); err != nil {
			return err
		}
		// members that left the incident (a split) are dropped; the
		// incident they joined writes them again
		if _, err := tx.ExecContext(ctx, "DELETE FROM incident_members WHERE tenant = ? AND incident = ?", tenant, in.ID); err != nil {
			return err
		}
		for i, ref := range in.Members {
			// members are in time order; the rank keeps it for reading
			if _, err := member.ExecContext(ctx, tenant, int64(ref), in.ID, int64(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

const incidentColumns = "id, tenant, title, risk, severity_id, tactics, first_seen, last_seen, updated_at, doc, party"

func scanIncident(sc interface{ Scan(...any) error }) (store.IncidentRow, error) {
	var in store.IncidentRow
	var first, last, updated int64
	var doc []byte
	err := sc.Scan(&in.ID, &in.Tenant, &in.Title, &in.Risk, &in.SeverityID, &in.Tactics, &first, &last, &updated, &doc, &in.Party)
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
	rows, err := s.r.QueryContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE tenant = ? AND risk >= ? AND (? = '' OR party = ?) ORDER BY risk DESC, last_seen DESC, id LIMIT ? OFFSET ?",
		q.Tenant, q.MinRisk, q.Party, q.Party, limit, max(q.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing incidents: %w", err)
	}
	defer rows.Close()
	var out []store.IncidentRow
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: listing incidents: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Incident returns one incident with its members.
func (s *Store) Incident(ctx context.Context, tenant, id string) (store.IncidentRow, error) {
	in, err := scanIncident(s.r.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE tenant = ? AND id = ?", tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.IncidentRow{}, store.ErrNotFound
	}
	if err != nil {
		return store.IncidentRow{}, fmt.Errorf("sqlite: reading incident %s: %w", id, err)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT ref FROM incident_members WHERE tenant = ? AND incident = ? ORDER BY pos", tenant, id)
	if err != nil {
		return store.IncidentRow{}, fmt.Errorf("sqlite: reading incident %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref int64
		if err := rows.Scan(&ref); err != nil {
			return store.IncidentRow{}, fmt.Errorf("sqlite: reading incident %s: %w", id, err)
		}
		in.Members = append(in.Members, store.Ref(ref))
	}
	return in, rows.Err()
}

// IssueRisks returns the stored risk of each issue key given.
func (s *Store) IssueRisks(ctx context.Context, tenant string, keys []string) (map[string]store.IssueRisk, error) {
	out := make(map[string]store.IssueRisk, len(keys))
	err := chunks(keys, func(part []any) error {
		rows, err := s.r.QueryContext(ctx, "SELECT issue_key, score, doc FROM issue_risks WHERE tenant = ? AND issue_key IN ("+placeholders(len(part))+")", append([]any{tenant}, part...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r store.IssueRisk
			var doc []byte
			if err := rows.Scan(&r.Key, &r.Score, &doc); err != nil {
				return err
			}
			r.Doc = doc
			out[r.Key] = r
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading issue risks: %w", err)
	}
	return out, nil
}

// IssueSizes returns how many findings carry each issue key.
func (s *Store) IssueSizes(ctx context.Context, tenant string, keys []string) (map[string]int, error) {
	out := make(map[string]int, len(keys))
	err := chunks(keys, func(part []any) error {
		rows, err := s.r.QueryContext(ctx, "SELECT issue_key, count(*) FROM findings WHERE tenant = ? AND issue_key IN ("+placeholders(len(part))+") GROUP BY issue_key", append([]any{tenant}, part...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			out[k] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: counting issues: %w", err)
	}
	return out, nil
}

// chunks calls fn with the values in slices of at most inChunk.
func chunks[T any](vals []T, fn func([]any) error) error {
	for len(vals) > 0 {
		n := min(len(vals), inChunk)
		part := make([]any, n)
		for i, v := range vals[:n] {
			part[i] = v
		}
		if err := fn(part); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

// SetAttributions records who must act on findings.
func (s *Store) SetAttributions(ctx context.Context, tenant string, rows []store.Attribution) (err error) {
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("sqlite: storing attributions: %w", err)
		}
	}()
	st, err := tx.PrepareContext(ctx, "UPDATE findings SET party = ?, area = ?, responsibility = ? WHERE tenant = ? AND id = ?")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r.Party, r.Area, []byte(r.Doc), tenant, r.ID); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.kickCheckpoint()
	return nil
}

// PutContract stores the tenant's contract.
func (s *Store) PutContract(ctx context.Context, tenant, name string, doc []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO contracts (tenant, name, doc, updated_at) VALUES (?,?,?,?)
		ON CONFLICT (tenant) DO UPDATE SET name = excluded.name, doc = excluded.doc, updated_at = excluded.updated_at`, tenant, name, doc, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: storing the contract of %s: %w", tenant, err)
	}
	s.kickCheckpoint()
	return nil
}

// Contract returns the tenant's contract.
func (s *Store) Contract(ctx context.Context, tenant string) (string, []byte, error) {
	var name string
	var doc []byte
	err := s.r.QueryRowContext(ctx, "SELECT name, doc FROM contracts WHERE tenant = ?", tenant).Scan(&name, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, store.ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("sqlite: reading the contract of %s: %w", tenant, err)
	}
	return name, doc, nil
}
