package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: begin: %w", s.scrub(err))
	}
	defer func() {
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			err = fmt.Errorf("postgres: storing resources: %w", s.scrub(err))
		}
	}()
	t := textSafe(tenant)
	for _, r := range rows {
		var inserted bool
		err := tx.QueryRow(ctx, `INSERT INTO resources (tenant, key, provider, account, region, type, uid, name, source, observed_at, updated_at, doc)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::json) ON CONFLICT (tenant, key) DO UPDATE SET provider = excluded.provider,
			account = excluded.account, region = excluded.region, type = excluded.type, uid = excluded.uid, name = excluded.name,
			source = excluded.source, observed_at = excluded.observed_at, updated_at = excluded.updated_at, doc = excluded.doc
			RETURNING (xmax = 0)`, t, textSafe(r.Key), textSafe(r.Provider), textSafe(r.Account), textSafe(r.Region), textSafe(r.Type),
			textSafe(r.UID), textSafe(r.Name), textSafe(r.Source), msOrZero(r.ObservedAt), r.UpdatedAt.UnixMilli(), string(jsonbSafe(r.Doc))).Scan(&inserted)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", r.Key, err)
		}
		if inserted {
			n++
		}
	}
	return n, tx.Commit(ctx)
}

// Resources lists resources by key.
func (s *Store) Resources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, error) {
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	c := &conds{}
	c.add("tenant = $1?", textSafe(q.Tenant))
	c.add("key > $1?", textSafe(q.After))
	if len(q.Types) > 0 {
		c.add("type = ANY($1?::text[])", safeKeys(q.Types))
	}
	if q.Provider != "" {
		c.add("provider = $1?", textSafe(q.Provider))
	}
	rows, err := s.pool.Query(ctx, "SELECT key, provider, account, region, type, uid, name, source, observed_at, updated_at, doc FROM resources WHERE "+
		strings.Join(c.where, " AND ")+fmt.Sprintf(" ORDER BY key LIMIT %d", limit), c.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing resources: %w", s.scrub(err))
	}
	defer rows.Close()
	var out []store.Resource
	for rows.Next() {
		r := store.Resource{Tenant: q.Tenant}
		var observed, updated int64
		var doc []byte
		if err := rows.Scan(&r.Key, &r.Provider, &r.Account, &r.Region, &r.Type, &r.UID, &r.Name, &r.Source, &observed, &updated, &doc); err != nil {
			return nil, fmt.Errorf("postgres: listing resources: %w", s.scrub(err))
		}
		r.ObservedAt, r.UpdatedAt, r.Doc = timeOrZero(observed), time.UnixMilli(updated).UTC(), doc
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveScan stores a scan and replaces its packs' results.
func (s *Store) SaveScan(ctx context.Context, sc store.Scan, results []store.ControlResult) (err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", s.scrub(err))
	}
	defer func() {
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			err = fmt.Errorf("postgres: storing scan %s: %w", sc.ID, s.scrub(err))
		}
	}()
	t := textSafe(sc.Tenant)
	packs, err := json.Marshal(sc.Packs)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO scans (id, tenant, packs, started_at, finished_at, resources, evaluated, passed, failed, errors, findings)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, textSafe(sc.ID), t, string(packs), sc.StartedAt.UnixMilli(), sc.FinishedAt.UnixMilli(),
		sc.Resources, sc.Evaluated, sc.Passed, sc.Failed, sc.Errors, sc.Findings); err != nil {
		return err
	}
	for _, p := range sc.Packs {
		if _, err := tx.Exec(ctx, "DELETE FROM control_results WHERE tenant = $1 AND pack = $2", t, textSafe(p)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO pack_scans (tenant, pack, scan) VALUES ($1,$2,$3) ON CONFLICT (tenant, pack) DO UPDATE SET scan = excluded.scan",
			t, textSafe(p), textSafe(sc.ID)); err != nil {
			return err
		}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"control_results"}, []string{"tenant", "pack", "control", "rule_id", "resource_key", "resource_uid",
		"resource_type", "resource_name", "account", "region", "status", "severity", "message"},
		pgx.CopyFromSlice(len(results), func(i int) ([]any, error) {
			r := results[i]
			return []any{t, textSafe(r.Pack), textSafe(r.Control), textSafe(r.RuleID), textSafe(r.ResourceKey), textSafe(r.ResourceUID),
				textSafe(r.ResourceType), textSafe(r.ResourceName), textSafe(r.Account), textSafe(r.Region), textSafe(r.Status), textSafe(r.Severity), textSafe(r.Message)}, nil
		}))
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// LatestScan returns the pack's latest scan and results.
func (s *Store) LatestScan(ctx context.Context, tenant, pack string) (store.Scan, []store.ControlResult, error) {
	sc := store.Scan{Tenant: tenant}
	var packs string
	var started, finished int64
	var nres, eval, pass, fail, errs, finds int64
	err := s.pool.QueryRow(ctx, `SELECT s.id, s.packs, s.started_at, s.finished_at, s.resources, s.evaluated, s.passed, s.failed, s.errors, s.findings
		FROM pack_scans p JOIN scans s ON s.id = p.scan WHERE p.tenant = $1 AND p.pack = $2`, textSafe(tenant), textSafe(pack)).
		Scan(&sc.ID, &packs, &started, &finished, &nres, &eval, &pass, &fail, &errs, &finds)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Scan{}, nil, store.ErrNotFound
	}
	if err != nil {
		return store.Scan{}, nil, fmt.Errorf("postgres: reading the latest scan of %s: %w", pack, s.scrub(err))
	}
	sc.Resources, sc.Evaluated, sc.Passed, sc.Failed, sc.Errors, sc.Findings = int(nres), int(eval), int(pass), int(fail), int(errs), int(finds)
	sc.StartedAt, sc.FinishedAt = time.UnixMilli(started).UTC(), time.UnixMilli(finished).UTC()
	if err := json.Unmarshal([]byte(packs), &sc.Packs); err != nil {
		return store.Scan{}, nil, fmt.Errorf("postgres: scan %s: packs: %w", sc.ID, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT pack, control, rule_id, resource_key, resource_uid, resource_type, resource_name, account, region, status, severity, message
		FROM control_results WHERE tenant = $1 AND pack = $2 ORDER BY control, rule_id, resource_key`, textSafe(tenant), textSafe(pack))
	if err != nil {
		return store.Scan{}, nil, fmt.Errorf("postgres: reading results of %s: %w", pack, s.scrub(err))
	}
	defer rows.Close()
	var out []store.ControlResult
	for rows.Next() {
		var r store.ControlResult
		if err := rows.Scan(&r.Pack, &r.Control, &r.RuleID, &r.ResourceKey, &r.ResourceUID, &r.ResourceType, &r.ResourceName, &r.Account, &r.Region,
			&r.Status, &r.Severity, &r.Message); err != nil {
			return store.Scan{}, nil, fmt.Errorf("postgres: reading results of %s: %w", pack, s.scrub(err))
		}
		out = append(out, r)
	}
	return sc, out, rows.Err()
}

// PutEvidence records a manual control's evidence.
func (s *Store) PutEvidence(ctx context.Context, tenant string, e store.Evidence) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO evidence (tenant, pack, control, status, reference, by_whom, note, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (tenant, pack, control) DO UPDATE SET status = excluded.status, reference = excluded.reference, by_whom = excluded.by_whom,
		note = excluded.note, updated_at = excluded.updated_at`, textSafe(tenant), textSafe(e.Pack), textSafe(e.Control), textSafe(e.Status),
		textSafe(e.Reference), textSafe(e.By), textSafe(e.Note), e.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("postgres: storing evidence for %s %s: %w", e.Pack, e.Control, s.scrub(err))
	}
	return nil
}

// Evidence returns the pack's evidence by control.
func (s *Store) Evidence(ctx context.Context, tenant, pack string) (map[string]store.Evidence, error) {
	rows, err := s.pool.Query(ctx, "SELECT control, status, reference, by_whom, note, updated_at FROM evidence WHERE tenant = $1 AND pack = $2", textSafe(tenant), textSafe(pack))
	if err != nil {
		return nil, fmt.Errorf("postgres: reading evidence of %s: %w", pack, s.scrub(err))
	}
	defer rows.Close()
	out := map[string]store.Evidence{}
	for rows.Next() {
		e := store.Evidence{Pack: pack}
		var at int64
		if err := rows.Scan(&e.Control, &e.Status, &e.Reference, &e.By, &e.Note, &at); err != nil {
			return nil, fmt.Errorf("postgres: reading evidence of %s: %w", pack, s.scrub(err))
		}
		e.UpdatedAt = time.UnixMilli(at).UTC()
		out[e.Control] = e
	}
	return out, rows.Err()
}
