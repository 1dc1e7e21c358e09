package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canopy-sec/canopy/internal/store"
)

// CreateDoc stores a new document.
func (s *Store) CreateDoc(ctx context.Context, kind, tenant, id string, doc []byte) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO docs (kind, tenant, id, doc) VALUES ($1, $2, $3, $4::json)", textSafe(kind), textSafe(tenant), textSafe(id), string(jsonbSafe(doc)))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("postgres: %s %s: %w", kind, id, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: storing %s %s: %w", kind, id, s.scrub(err))
	}
	return nil
}

// Doc returns a document.
func (s *Store) Doc(ctx context.Context, kind, tenant, id string) ([]byte, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, "SELECT doc::text FROM docs WHERE kind = $1 AND tenant = $2 AND id = $3", textSafe(kind), textSafe(tenant), textSafe(id)).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: %s %s: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: reading %s %s: %w", kind, id, s.scrub(err))
	}
	return doc, nil
}

// UpdateDoc updates a document atomically: the row is locked for the
// transaction (a missing one is created under the same key).
func (s *Store) UpdateDoc(ctx context.Context, kind, tenant, id string, create bool, fn func([]byte) ([]byte, error)) ([]byte, error) {
	k, t, i := textSafe(kind), textSafe(tenant), textSafe(id)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", s.scrub(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var cur []byte
	err = tx.QueryRow(ctx, "SELECT doc::text FROM docs WHERE kind = $1 AND tenant = $2 AND id = $3 FOR UPDATE", k, t, i).Scan(&cur)
	exists := err == nil
	switch {
	case errors.Is(err, pgx.ErrNoRows) && !create:
		return nil, fmt.Errorf("postgres: %s %s: %w", kind, id, store.ErrNotFound)
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("postgres: reading %s %s: %w", kind, id, s.scrub(err))
	}
	next, err := fn(cur)
	if err != nil {
		return nil, err
	}
	if exists {
		_, err = tx.Exec(ctx, "UPDATE docs SET doc = $4::json WHERE kind = $1 AND tenant = $2 AND id = $3", k, t, i, string(jsonbSafe(next)))
	} else {
		// a concurrent creator of the same key makes this fail: ErrConflict
		_, err = tx.Exec(ctx, "INSERT INTO docs (kind, tenant, id, doc) VALUES ($1, $2, $3, $4::json)", k, t, i, string(jsonbSafe(next)))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return nil, fmt.Errorf("postgres: %s %s: %w", kind, id, store.ErrConflict)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: updating %s %s: %w", kind, id, s.scrub(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: updating %s %s: %w", kind, id, s.scrub(err))
	}
	return next, nil
}

// ListDocs returns the tenant's documents of a kind, oldest first.
func (s *Store) ListDocs(ctx context.Context, kind, tenant string) ([][]byte, error) {
	rows, err := s.pool.Query(ctx, "SELECT doc::text FROM docs WHERE kind = $1 AND tenant = $2 ORDER BY seq", textSafe(kind), textSafe(tenant))
	if err != nil {
		return nil, fmt.Errorf("postgres: listing %s: %w", kind, s.scrub(err))
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var d []byte
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("postgres: listing %s: %w", kind, s.scrub(err))
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DocTenants implements store.Docs.
func (s *Store) DocTenants(ctx context.Context, kind string) ([]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT DISTINCT tenant FROM docs WHERE kind = $1 ORDER BY tenant", textSafe(kind))
	if err != nil {
		return nil, fmt.Errorf("postgres: tenants of %s: %w", kind, s.scrub(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("postgres: tenants of %s: %w", kind, s.scrub(err))
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
