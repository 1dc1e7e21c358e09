package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// PutResources upserts resources by key.
func (s *Store) PutResources(ctx context.Context, tenant string, rows []store.Resource) (n int, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("sqlite: storing resources: %w", err)
		}
	}()
	exists, err := tx.PrepareContext(ctx, "SELECT 1 FROM resources WHERE tenant = ? AND key = ?")
	if err != nil {
		return 0, err
	}
	defer exists.Close()
	put, err := tx.PrepareContext(ctx, `INSERT INTO resources (tenant, key, provider, account, region, type, uid, name, source, observed_at, updated_at, doc)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (tenant, key) DO UPDATE SET provider = excluded.provider, account = excluded.account,
		region = excluded.region, type = excluded.type, uid = excluded.uid, name = excluded.name, source = excluded.source,
		observed_at = excluded.observed_at, updated_at = excluded.updated_at, doc = excluded.doc`)
	if err != nil {
		return 0, err
	}
	defer put.Close()
	for _, r := range rows {
		var one int
		switch err := exists.QueryRowContext(ctx, tenant, r.Key).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			n++
		case err != nil:
			return 0, err
		}
		if _, err := put.ExecContext(ctx, tenant, r.Key, r.Provider, r.Account, r.Region, r.Type, r.UID, r.Name, r.Source,
			msOrZero(r.ObservedAt), r.UpdatedAt.UnixMilli(), []byte(r.Doc)); err != nil {
			return 0, fmt.Errorf("%s: %w", r.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	s.kickCheckpoint()
	return n, nil
}

// Resources lists resources by key.
func (s *Store) Resources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, error) {
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	where := []string{"tenant = ?", "key > ?"}
	args := []any{q.Tenant, q.After}
	if len(q.Types) > 0 {
		where = append(where, "type IN ("+placeholders(len(q.Types))+")")
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if q.Provider != "" {
		where = append(where, "provider = ?")
		args = append(args, q.Provider)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT key, provider, account, region, type, uid, name, source, observed_at, updated_at, doc FROM resources WHERE "+
		strings.Join(where, " AND ")+" ORDER BY key LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing resources: %w", err)
	}
	defer rows.Close()
	var out []store.Resource
	for rows.Next() {
		r := store.Resource{Tenant: q.Tenant}
		var observed, updated int64
		var doc []byte
		if err := rows.Scan(&r.Key, &r.Provider, &r.Account, &r.Region, &r.Type, &r.UID, &r.Name, &r.Source, &observed, &updated, &doc); err != nil {
			return nil, fmt.Errorf("sqlite: listing resources: %w", err)
		}
		r.ObservedAt, r.UpdatedAt, r.Doc = timeOrZero(observed), time.UnixMilli(updated).UTC(), doc
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveScan stores a scan and replaces its packs' results.
func (s *Store) SaveScan(ctx context.Context, sc store.Scan, results []store.ControlResult) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("sqlite: storing scan %s: %w", sc.ID, err)
		}
	}()
	packs, err := json.Marshal(sc.Packs)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO scans (id, tenant, packs, started_at, finished_at, resources, evaluated, passed, failed, errors, findings)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, sc.ID, sc.Tenant, string(packs), sc.StartedAt.UnixMilli(), sc.FinishedAt.UnixMilli(),
		sc.Resources, sc.Evaluated, sc.Passed, sc.Failed, sc.Errors, sc.Findings); err != nil {
		return err
	}
	for _, p := range sc.Packs {
		if _, err := tx.ExecContext(ctx, "DELETE FROM control_results WHERE tenant = ? AND pack = ?", sc.Tenant, p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO pack_scans (tenant, pack, scan) VALUES (?,?,?) ON CONFLICT (tenant, pack) DO UPDATE SET scan = excluded.scan",
			sc.Tenant, p, sc.ID); err != nil {
			return err
		}
	}
	const per = 400 // 13 parameters a row
	for len(results) > 0 {
		part := results[:min(len(results), per)]
		results = results[len(part):]
		args := make([]any, 0, 13*len(part))
		for _, r := range part {
			args = append(args, sc.Tenant, r.Pack, r.Control, r.RuleID, r.ResourceKey, r.ResourceUID, r.ResourceType, r.ResourceName, r.Account, r.Region, r.Status, r.Severity, r.Message)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO control_results (tenant, pack, control, rule_id, resource_key, resource_uid, resource_type, resource_name,
			account, region, status, severity, message) VALUES `+strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?),", len(part)), ","), args...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.kickCheckpoint()
	return nil
}

// LatestScan returns the pack's latest scan and results.
func (s *Store) LatestScan(ctx context.Context, tenant, pack string) (store.Scan, []store.ControlResult, error) {
	sc := store.Scan{Tenant: tenant}
	var packs string
	var started, finished int64
	err := s.r.QueryRowContext(ctx, `SELECT s.id, s.packs, s.started_at, s.finished_at, s.resources, s.evaluated, s.passed, s.failed, s.errors, s.findings
		FROM pack_scans p JOIN scans s ON s.id = p.scan WHERE p.tenant = ? AND p.pack = ?`, tenant, pack).
		Scan(&sc.ID, &packs, &started, &finished, &sc.Resources, &sc.Evaluated, &sc.Passed, &sc.Failed, &sc.Errors, &sc.Findings)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Scan{}, nil, store.ErrNotFound
	}
	if err != nil {
		return store.Scan{}, nil, fmt.Errorf("sqlite: reading the latest scan of %s: %w", pack, err)
	}
	sc.StartedAt, sc.FinishedAt = time.UnixMilli(started).UTC(), time.UnixMilli(finished).UTC()
	if err := json.Unmarshal([]byte(packs), &sc.Packs); err != nil {
		return store.Scan{}, nil, fmt.Errorf("sqlite: scan %s: packs: %w", sc.ID, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT pack, control, rule_id, resource_key, resource_uid, resource_type, resource_name, account, region, status, severity, message
		FROM control_results WHERE tenant = ? AND pack = ? ORDER BY control, rule_id, resource_key`, tenant, pack)
	if err != nil {
		return store.Scan{}, nil, fmt.Errorf("sqlite: reading results of %s: %w", pack, err)
	}
	defer rows.Close()
	var out []store.ControlResult
	for rows.Next() {
		var r store.ControlResult
		if err := rows.Scan(&r.Pack, &r.Control, &r.RuleID, &r.ResourceKey, &r.ResourceUID, &r.ResourceType, &r.ResourceName, &r.Account, &r.Region,
			&r.Status, &r.Severity, &r.Message); err != nil {
			return store.Scan{}, nil, fmt.Errorf("sqlite: reading results of %s: %w", pack, err)
		}
		out = append(out, r)
	}
	return sc, out, rows.Err()
}

// PutEvidence records a manual control's evidence.
func (s *Store) PutEvidence(ctx context.Context, tenant string, e store.Evidence) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO evidence (tenant, pack, control, status, reference, by_whom, note, updated_at) VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant, pack, control) DO UPDATE SET status = excluded.status, reference = excluded.reference, by_whom = excluded.by_whom,
		note = excluded.note, updated_at = excluded.updated_at`, tenant, e.Pack, e.Control, e.Status, e.Reference, e.By, e.Note, e.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: storing evidence for %s %s: %w", e.Pack, e.Control, err)
	}
	s.kickCheckpoint()
	return nil
}

// Evidence returns the pack's evidence by control.
func (s *Store) Evidence(ctx context.Context, tenant, pack string) (map[string]store.Evidence, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT control, status, reference, by_whom, note, updated_at FROM evidence WHERE tenant = ? AND pack = ?", tenant, pack)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading evidence of %s: %w", pack, err)
	}
	defer rows.Close()
	out := map[string]store.Evidence{}
	for rows.Next() {
		e := store.Evidence{Pack: pack}
		var at int64
		if err := rows.Scan(&e.Control, &e.Status, &e.Reference, &e.By, &e.Note, &at); err != nil {
			return nil, fmt.Errorf("sqlite: reading evidence of %s: %w", pack, err)
		}
		e.UpdatedAt = time.UnixMilli(at).UTC()
		out[e.Control] = e
	}
	return out, rows.Err()
}
